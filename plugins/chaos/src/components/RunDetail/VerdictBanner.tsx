import { Box, Typography, makeStyles } from '@material-ui/core';
import {
  isTerminalPhase,
  type Run,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { verdictTone } from './RunStatus';

const useStyles = makeStyles(theme => ({
  banner: {
    borderLeft: `6px solid ${theme.palette.grey[500]}`,
    padding: theme.spacing(1.5, 2),
    marginBottom: theme.spacing(2),
    backgroundColor: theme.palette.background.paper,
  },
  success: { borderLeftColor: theme.palette.success.main },
  error: { borderLeftColor: theme.palette.error.main },
  warning: { borderLeftColor: theme.palette.warning.main },
  info: { borderLeftColor: theme.palette.info.main },
  neutral: {},
}));

const EXPLANATIONS: Record<string, string> = {
  Passed: 'the steady state held',
  Failed: 'the steady state did not hold',
  Refused: 'the run was refused before anything was touched',
  Inconclusive: 'the probes could not tell',
};

/**
 * The outcome in one line, then the agent's reason and message verbatim, and how fast the
 * rollback was when a probe stopped the run.
 */
export const VerdictBanner = (props: { run: Run; abortLatencyMs?: number }) => {
  const classes = useStyles();
  const { verdict, phase, reason, message } = props.run;
  // The verdict word stands alone in its element so it can be found by its exact text.
  let word: string;
  let explanation: string;
  let tone: ReturnType<typeof verdictTone>;
  if (verdict) {
    word = verdict;
    explanation = EXPLANATIONS[verdict] ?? '';
    tone = verdictTone(verdict);
  } else if (isTerminalPhase(phase)) {
    word = phase;
    explanation = 'without a verdict';
    tone = phase === 'Failed' ? 'error' : 'warning';
  } else {
    word = 'In progress';
    explanation = 'no verdict yet';
    tone = 'info';
  }
  return (
    <Box
      className={`${classes.banner} ${classes[tone]}`}
      role={tone === 'error' ? 'alert' : 'status'}
      aria-label="Verdict"
      data-testid="run-verdict"
    >
      <Typography variant="h6" component="p">
        <strong>{word}</strong>
        {explanation && ` — ${explanation}`}
      </Typography>
      {reason && (
        <Typography variant="body2" color="textSecondary">
          {reason}
        </Typography>
      )}
      {message && <Typography variant="body1">{message}</Typography>}
      {props.abortLatencyMs !== undefined && (
        <Typography variant="body2" color="textSecondary">
          Every fault was rolled back {props.abortLatencyMs} ms after the first
          failing probe sample.
        </Typography>
      )}
    </Box>
  );
};

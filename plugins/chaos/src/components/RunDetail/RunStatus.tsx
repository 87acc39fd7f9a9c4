import { Chip, makeStyles } from '@material-ui/core';
import type {
  RunPhase,
  Verdict,
} from '@chaoscraft/backstage-plugin-chaos-common';

type Tone = 'success' | 'error' | 'warning' | 'info' | 'neutral';

const useStyles = makeStyles(theme => ({
  success: {
    backgroundColor: theme.palette.success.main,
    color: theme.palette.success.contrastText,
  },
  error: {
    backgroundColor: theme.palette.error.main,
    color: theme.palette.error.contrastText,
  },
  warning: {
    backgroundColor: theme.palette.warning.main,
    color: theme.palette.warning.contrastText,
  },
  info: {
    backgroundColor: theme.palette.info.main,
    color: theme.palette.info.contrastText,
  },
  neutral: {},
}));

export function phaseTone(phase: RunPhase): Tone {
  switch (phase) {
    case 'Completed':
      return 'success';
    case 'Failed':
      return 'error';
    case 'Aborted':
      return 'warning';
    case 'Pending':
      return 'neutral';
    default:
      return 'info';
  }
}

export function verdictTone(verdict: Verdict | undefined): Tone {
  switch (verdict) {
    case 'Passed':
      return 'success';
    case 'Failed':
    case 'Refused':
      return 'error';
    case 'Inconclusive':
      return 'warning';
    default:
      return 'neutral';
  }
}

/** The run's phase as a coloured chip; the text is the phase name itself. */
export const RunPhaseChip = (props: {
  phase: RunPhase;
  size?: 'small' | 'medium';
  'data-testid'?: string;
}) => {
  const classes = useStyles();
  return (
    <Chip
      data-testid={props['data-testid']}
      size={props.size ?? 'medium'}
      label={props.phase}
      className={classes[phaseTone(props.phase)]}
    />
  );
};

/** The verdict as a small chip, or nothing while there is none. */
export const VerdictChip = (props: { verdict?: Verdict }) => {
  const classes = useStyles();
  if (!props.verdict) return null;
  return (
    <Chip
      size="small"
      variant="outlined"
      label={props.verdict}
      className={classes[verdictTone(props.verdict)]}
    />
  );
};

/** `3 of 10 pods (30%)`, the one way a blast radius is written everywhere. */
export function formatBlastRadius(b: {
  selected: number;
  eligible: number;
  percent: number;
}): string {
  return `${b.selected} of ${b.eligible} pod${
    b.eligible === 1 ? '' : 's'
  } (${formatPercent(b.percent)})`;
}

export function formatPercent(value: number): string {
  return `${Math.round(value * 10) / 10}%`;
}

export function formatTime(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

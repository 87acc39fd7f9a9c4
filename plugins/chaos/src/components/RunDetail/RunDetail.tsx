import { ReactNode, useState } from 'react';
import {
  Box,
  Button,
  Chip,
  Grid,
  Paper,
  Typography,
  makeStyles,
} from '@material-ui/core';
import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/frontend-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import { parseEntityRef } from '@backstage/catalog-model';
import {
  chaosRunAbortPermission,
  isTerminalPhase,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { chaosApiRef } from '../../api';
import { GuardedButton } from '../RunButton/GuardedButton';
import { BlastRadiusGauge } from './BlastRadiusGauge';
import { injectionWindow } from './injectionWindow';
import { ProbeChart } from './ProbeChart';
import { RunPhaseChip, formatTime } from './RunStatus';
import { StepsTable } from './StepsTable';
import { RunTimeline } from './RunTimeline';
import { TargetsTable } from './TargetsTable';
import {
  DEFAULT_POLL_INTERVALS,
  PollIntervals,
  useLiveRun,
} from './useLiveRun';
import { VerdictBanner } from './VerdictBanner';
import { DependentsList } from '../Dependents';

const useStyles = makeStyles(theme => ({
  header: {
    display: 'flex',
    flexWrap: 'wrap',
    justifyContent: 'space-between',
    alignItems: 'flex-start',
    gap: theme.spacing(2),
    marginBottom: theme.spacing(2),
  },
  title: {
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(1),
    flexWrap: 'wrap',
  },
  section: { padding: theme.spacing(2), height: '100%' },
}));

const Section = (props: { title: string; children: ReactNode }) => {
  const classes = useStyles();
  return (
    <Paper
      className={classes.section}
      component="section"
      aria-label={props.title}
    >
      <Typography variant="h6" component="h3" gutterBottom>
        {props.title}
      </Typography>
      {props.children}
    </Paper>
  );
};

export type RunDetailProps = {
  runId: string;
  /** Shown as a "Back" button when given. */
  onBack?: () => void;
  pollIntervals?: PollIntervals;
};

/**
 * Everything about one run: phase, verdict, blast radius, timeline, targets and probe
 * samples; kept live until the run ends, with Abort for the entity's owners meanwhile.
 */
export const RunDetail = (props: RunDetailProps) => {
  const classes = useStyles();
  const api = useApi(chaosApiRef);
  const { run, error, loading, pushed, refresh } = useLiveRun(
    props.runId,
    props.pollIntervals ?? DEFAULT_POLL_INTERVALS,
  );
  const [aborting, setAborting] = useState(false);
  const [abortError, setAbortError] = useState<Error | undefined>();
  const canAbort = usePermission({
    permission: chaosRunAbortPermission,
    resourceRef: run?.entityRef,
  });

  const back = props.onBack && (
    <Button variant="outlined" onClick={props.onBack}>
      Back to experiments
    </Button>
  );

  if (!run) {
    return (
      <>
        {back}
        {loading && <Progress />}
        {error && <ResponseErrorPanel error={error} />}
      </>
    );
  }

  const abort = async () => {
    setAborting(true);
    setAbortError(undefined);
    try {
      await api.abortRun(run.id);
      refresh();
    } catch (e) {
      setAbortError(e as Error);
    } finally {
      setAborting(false);
    }
  };

  const live = !isTerminalPhase(run.phase);
  const entityName = parseEntityRef(run.entityRef).name;
  const window = injectionWindow(run.timeline);

  return (
    <Box>
      <Box className={classes.header}>
        <Box>
          <Box className={classes.title}>
            <Typography variant="h5" component="h2">
              Run of {run.experimentName}
            </Typography>
            <RunPhaseChip phase={run.phase} data-testid="run-phase" />
            {run.dryRun && (
              <Chip size="small" variant="outlined" label="dry run" />
            )}
          </Box>
          <Typography variant="body2" color="textSecondary">
            Started {formatTime(run.startedAt ?? run.createdAt)} by{' '}
            {run.createdBy}
            {run.finishedAt && ` · finished ${formatTime(run.finishedAt)}`}
            {` · ChaosRun ${run.namespace}/${run.resourceName} in ${run.cluster}`}
            {live && (
              <span data-testid="run-live">
                {pushed
                  ? ' · live: changes are pushed as they happen'
                  : ' · live: read every few seconds'}
              </span>
            )}
          </Typography>
        </Box>
        <Box display="flex" style={{ gap: 8 }}>
          {live && (
            <GuardedButton
              variant="contained"
              color="secondary"
              allowed={canAbort.allowed}
              pending={aborting}
              reason={`Only the owners of ${entityName} may abort its runs`}
              onClick={abort}
            >
              Abort
            </GuardedButton>
          )}
          {back}
        </Box>
      </Box>
      {abortError && <ResponseErrorPanel error={abortError} />}
      {error && (
        <ResponseErrorPanel error={error} title="Could not refresh the run" />
      )}
      <VerdictBanner run={run} abortLatencyMs={run.abortLatencyMs} />
      <Grid container spacing={2}>
        <Grid item xs={12} md={6}>
          <Section title="Blast radius">
            <BlastRadiusGauge blastRadius={run.blastRadius} />
          </Section>
        </Grid>
        <Grid item xs={12} md={6}>
          <Section title="Phase timeline">
            <RunTimeline timeline={run.timeline} />
          </Section>
        </Grid>
        {run.steps.length > 0 && (
          <Grid item xs={12}>
            <Section title="Progressive steps">
              <StepsTable steps={run.steps} />
            </Section>
          </Grid>
        )}
        <Grid item xs={12}>
          <Section title="Targets">
            <TargetsTable targets={run.targets} />
          </Section>
        </Grid>
        <Grid item xs={12}>
          <Section title="Steady-state probes">
            {run.probes.length === 0 ? (
              <Typography color="textSecondary">
                No probes: this run checked no steady-state hypothesis.
              </Typography>
            ) : (
              run.probes.map(p => (
                <ProbeChart key={p.name} probe={p} window={window} />
              ))
            )}
          </Section>
        </Grid>
        <Grid item xs={12}>
          <Section title={`Who depends on ${entityName}`}>
            <DependentsList entityRef={run.entityRef} />
          </Section>
        </Grid>
      </Grid>
    </Box>
  );
};

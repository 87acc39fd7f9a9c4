import { useEffect, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import {
  Box,
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  Typography,
} from '@material-ui/core';
import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/frontend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import {
  type Experiment,
  type Run,
  isTerminalPhase,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { chaosApiRef } from '../../api';
import { DependentsList } from '../Dependents';
import { BlastRadiusGauge } from '../RunDetail/BlastRadiusGauge';
import { RunPhaseChip } from '../RunDetail/RunStatus';
import { TargetsTable } from '../RunDetail/TargetsTable';
import {
  DEFAULT_POLL_INTERVALS,
  type PollIntervals,
  useLiveRun,
} from '../RunDetail/useLiveRun';
import { VerdictBanner } from '../RunDetail/VerdictBanner';

/** The agent's reason for a dry run that selected its targets and touched nothing. */
const DRY_RUN_REASON = 'DryRun';

const DryRunResult = (props: {
  runId: string;
  ceiling?: number;
  pollIntervals: PollIntervals;
  onReady: (ok: boolean) => void;
}) => {
  const { run, error } = useLiveRun(props.runId, props.pollIntervals);
  const { onReady } = props;
  const done = run !== undefined && isTerminalPhase(run.phase);
  const ok = done && run.phase === 'Completed' && run.reason === DRY_RUN_REASON;
  useEffect(() => onReady(ok), [ok, onReady]);

  if (!run) return error ? <ResponseErrorPanel error={error} /> : <Progress />;
  return (
    <Box aria-label="Dry run" role="region">
      <Box display="flex" alignItems="center" style={{ gap: 8 }} mb={1}>
        <Typography variant="subtitle1">Dry run</Typography>
        <RunPhaseChip
          size="small"
          phase={run.phase}
          data-testid="preview-phase"
        />
        {!done && (
          <Typography variant="body2" color="textSecondary">
            the agent selects the targets; nothing is touched
          </Typography>
        )}
      </Box>
      {done && !ok && <VerdictBanner run={run} />}
      {done && ok && (
        <Typography variant="body1" gutterBottom>
          A run would hit these pods:
        </Typography>
      )}
      <BlastRadiusGauge blastRadius={run.blastRadius} ceiling={props.ceiling} />
      {done && <TargetsTable targets={run.targets} />}
    </Box>
  );
};

export type RunPreviewProps = {
  experiment: Experiment;
  onCancel: () => void;
  /** The real run was started. */
  onStarted: (run: Run) => void;
  pollIntervals?: PollIntervals;
};

/**
 * Before a run: a dry run through the very path of a run (the backend's binding and ceilings, the
 * agent's admission and preflight) shows the pods a run would hit and its blast radius against the
 * limit and the entity's ceiling, and the catalog shows who depends on the entity. "Run" starts the
 * real run only once the dry run said it would go ahead.
 */
export const RunPreview = (props: RunPreviewProps) => {
  const api = useApi(chaosApiRef);
  const { experiment } = props;
  const [ready, setReady] = useState(false);
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<Error | undefined>();
  const dryRun = useAsync(
    () => api.runExperiment(experiment.id, { dryRun: true }),
    [api, experiment.id],
  );
  const ceilings = useAsync(
    () => api.getEntityCeilings(experiment.entityRef),
    [api, experiment.entityRef],
  );
  const entityName = parseEntityRef(experiment.entityRef).name;

  const start = async () => {
    setStarting(true);
    setStartError(undefined);
    try {
      props.onStarted(
        await api.runExperiment(experiment.id, { dryRun: false }),
      );
    } catch (error) {
      setStartError(error as Error);
    } finally {
      setStarting(false);
    }
  };

  return (
    <Dialog
      open
      onClose={props.onCancel}
      maxWidth="md"
      fullWidth
      scroll="paper"
      aria-labelledby="chaos-preview-title"
    >
      <DialogTitle id="chaos-preview-title">Run {experiment.name}?</DialogTitle>
      <DialogContent dividers>
        {dryRun.loading && <Progress />}
        {dryRun.error && (
          <ResponseErrorPanel
            error={dryRun.error}
            title="Could not start the dry run"
          />
        )}
        {dryRun.value && (
          <DryRunResult
            runId={dryRun.value.id}
            ceiling={ceilings.value?.maxBlastRadiusPercent}
            pollIntervals={props.pollIntervals ?? DEFAULT_POLL_INTERVALS}
            onReady={setReady}
          />
        )}
        <Box mt={3} role="region" aria-label="Who depends on it">
          <Typography variant="subtitle1">
            Who depends on {entityName}
          </Typography>
          <DependentsList entityRef={experiment.entityRef} />
        </Box>
        {startError && (
          <ResponseErrorPanel
            error={startError}
            title="Could not start the run"
          />
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onCancel}>Cancel</Button>
        <Button
          color="primary"
          variant="contained"
          disabled={!ready || starting}
          onClick={() => void start()}
        >
          Run now
        </Button>
      </DialogActions>
    </Dialog>
  );
};

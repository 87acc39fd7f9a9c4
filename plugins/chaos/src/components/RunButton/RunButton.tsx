import { useState } from 'react';
import { useApi } from '@backstage/frontend-plugin-api';
import type { Experiment, Run } from '@chaoscraft/backstage-plugin-chaos-common';
import { chaosApiRef } from '../../api';
import { GuardedButton } from './GuardedButton';

export type RunButtonProps = {
  experiment: Experiment;
  /** From `chaosRunCreatePermission` on the experiment's entity. */
  allowed: boolean;
  reason: string;
  onStarted: (run: Run) => void;
  onError: (error: Error) => void;
};

/**
 * "Run" and "Dry run" for one experiment. A dry run selects targets and computes the blast
 * radius without touching anything, so it is the safe first press.
 */
export const RunButton = (props: RunButtonProps) => {
  const api = useApi(chaosApiRef);
  const [starting, setStarting] = useState(false);

  const start = async (dryRun: boolean) => {
    setStarting(true);
    try {
      const run = await api.runExperiment(props.experiment.id, { dryRun });
      props.onStarted(run);
    } catch (error) {
      props.onError(error as Error);
    } finally {
      setStarting(false);
    }
  };

  return (
    <>
      <GuardedButton
        allowed={props.allowed}
        reason={props.reason}
        pending={starting}
        onClick={() => start(false)}
      >
        Run
      </GuardedButton>
      <GuardedButton
        allowed={props.allowed}
        reason={props.reason}
        pending={starting}
        onClick={() => start(true)}
      >
        Dry run
      </GuardedButton>
    </>
  );
};

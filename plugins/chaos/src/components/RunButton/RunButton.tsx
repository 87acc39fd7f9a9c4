import { useState } from 'react';
import type {
  Experiment,
  Run,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { RunPreview } from '../RunPreview';
import type { PollIntervals } from '../RunDetail/useLiveRun';
import { GuardedButton } from './GuardedButton';

export type RunButtonProps = {
  experiment: Experiment;
  /** From `chaosRunCreatePermission` on the experiment's entity. */
  allowed: boolean;
  reason: string;
  onStarted: (run: Run) => void;
  pollIntervals?: PollIntervals;
};

/**
 * "Run" for one experiment: it opens the preview, whose dry run shows the pods and the blast
 * radius first, with who depends on the entity; the run itself starts from there.
 */
export const RunButton = (props: RunButtonProps) => {
  const [previewing, setPreviewing] = useState(false);
  return (
    <>
      <GuardedButton
        allowed={props.allowed}
        reason={props.reason}
        onClick={() => setPreviewing(true)}
      >
        Run
      </GuardedButton>
      {previewing && (
        <RunPreview
          experiment={props.experiment}
          pollIntervals={props.pollIntervals}
          onCancel={() => setPreviewing(false)}
          onStarted={run => {
            setPreviewing(false);
            props.onStarted(run);
          }}
        />
      )}
    </>
  );
};

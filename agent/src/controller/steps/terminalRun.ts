import { isTerminalPhase } from '@chaoscraft/backstage-plugin-chaos-common';
import { CONTINUE, ReconcileStep, stop } from '../pipeline';
import { hasFinalizer, removeFinalizer } from './runFacts';

/**
 * observedGeneration guard and terminal runs: a finished run is never acted on again, whatever
 * its spec now says; only a leftover finalizer (a crash between the two writes) is released.
 */
export const terminalRun: ReconcileStep = {
  name: 'terminalRun',
  async run(context) {
    if (!isTerminalPhase(context.run.status?.phase)) {
      return CONTINUE;
    }
    if (hasFinalizer(context.run)) {
      await removeFinalizer(context);
    }
    return stop();
  },
};

import { CHAOS_FINALIZER } from '../../kube/chaosRun';
import { CONTINUE, ReconcileStep } from '../pipeline';
import { hasFinalizer, isDeleting } from './runFacts';

/**
 * Holds the finalizer on every live run, before anything is injected, so that deleting the run
 * waits for the rollback. Conditional on resourceVersion: a stale copy gets 409 and a retry.
 */
export const ensureFinalizer: ReconcileStep = {
  name: 'ensureFinalizer',
  async run(context) {
    if (!isDeleting(context.run) && !hasFinalizer(context.run)) {
      context.run = await context.deps.runs.setFinalizers(context.run, [
        ...(context.run.metadata.finalizers ?? []),
        CHAOS_FINALIZER,
      ]);
    }
    return CONTINUE;
  },
};

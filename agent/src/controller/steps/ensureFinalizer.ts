import { CHAOS_FINALIZER } from '@chaoscraft/backstage-plugin-chaos-node';
import { CONTINUE, ReconcileStep } from '../pipeline';
import { addFinalizerPatch, hasFinalizer, isDeleting } from './runFacts';

/**
 * Holds the finalizer on every live run, before anything is injected, so that deleting the run
 * waits for the rollback. A run seen for the first time (no status yet) gets it by a patch that
 * stays in flight while preflight selects and plans (awaitFinalizer, before any injection): that
 * takes one API round trip off the injection path. A run already in progress gets it at once,
 * conditional on resourceVersion: a stale copy gets 409 and a retry.
 */
export const ensureFinalizer: ReconcileStep = {
  name: 'ensureFinalizer',
  async run(context) {
    if (isDeleting(context.run) || hasFinalizer(context.run)) {
      return CONTINUE;
    }
    if (!context.run.status) {
      const pending = addFinalizerPatch(context);
      // Awaited later; until then a rejection must not count as unhandled.
      pending.catch(() => undefined);
      context.finalizer = pending;
      return CONTINUE;
    }
    context.run = await context.deps.runs.setFinalizers(context.run, [
      ...(context.run.metadata.finalizers ?? []),
      CHAOS_FINALIZER,
    ]);
    return CONTINUE;
  },
};

import { nowIso, setCondition } from '@chaoscraft/backstage-plugin-chaos-node';
import { CONTINUE, ReconcileStep, stop } from '../pipeline';
import { finishRun, runReference, stopRequest, touch } from './runFacts';

/**
 * Abort (spec.abort) or deletion of a live run: before injection it ends at once as Aborted;
 * after, it moves to RollingBack, where no further fault is applied and daemons revert theirs.
 */
export const handleStopRequest: ReconcileStep = {
  name: 'handleStopRequest',
  async run(context) {
    const cause = stopRequest(context.run);
    const phase = context.run.status?.phase;
    if (!cause || phase === 'RollingBack') {
      return CONTINUE;
    }
    const message =
      cause === 'RunDeleted'
        ? 'the ChaosRun was deleted; stopping'
        : 'spec.abort was set; stopping';
    if (!phase || phase === 'Pending' || phase === 'Preflight') {
      await finishRun(context, {
        phase: 'Aborted',
        verdict: 'Inconclusive',
        reason: cause,
        message: `${message} before any injection`,
      });
      return stop();
    }
    const { run, written } = await context.deps.status.update(
      context.run,
      (status, fresh) => {
        if (status.phase !== 'Injecting' && status.phase !== 'Running')
          return false;
        touch(status, fresh);
        status.phase = 'RollingBack';
        status.reason = cause;
        status.message = message;
        setCondition(status, {
          type: 'RolledBack',
          status: 'False',
          reason: 'InProgress',
          message,
        });
        return true;
      },
    );
    context.run = run;
    if (written) {
      context.log.info({ cause, at: nowIso() }, message);
      context.deps.events.emit({
        regarding: runReference(run),
        type: 'Warning',
        reason: 'ChaosRunStopping',
        message,
      });
    }
    return CONTINUE;
  },
};

import { parseDuration } from '@chaoscraft/backstage-plugin-chaos-common';
import { normalizeStatus, setCondition } from '../../status/records';
import { CONTINUE, ReconcileStep, stop } from '../pipeline';
import { runReference, touch } from './runFacts';

/**
 * Running: the faults are in place for spec.duration. Renews the heartbeat, asks the hypothesis
 * gate at every tick, and moves to RollingBack when the time is up or the gate says stop.
 */
export const holdRunning: ReconcileStep = {
  name: 'holdRunning',
  async run(context) {
    const status = context.run.status;
    if (status?.phase !== 'Running') {
      return CONTINUE;
    }
    const { deps } = context;
    const spec = context.spec!;
    const endsAt = Date.parse(status.startedAt ?? new Date().toISOString()) + parseDuration(spec.duration);
    const check = await deps.gate.during({ spec, status: normalizeStatus(status), log: context.log });
    const now = Date.now();
    let cause: 'HypothesisFailed' | 'DurationElapsed' | undefined;
    if (!check.ok) cause = 'HypothesisFailed';
    else if (now >= endsAt) cause = 'DurationElapsed';
    if (cause) {
      const message =
        cause === 'HypothesisFailed'
          ? check.message ?? 'the steady-state hypothesis failed during the run'
          : `the run's duration of ${spec.duration} elapsed`;
      const { run, written } = await deps.status.update(context.run, (fresh, object) => {
        if (fresh.phase !== 'Running') return false;
        touch(fresh, object);
        if (check.probes) fresh.probes = check.probes;
        fresh.phase = 'RollingBack';
        fresh.reason = cause;
        fresh.message = message;
        setCondition(fresh, { type: 'RolledBack', status: 'False', reason: 'InProgress', message });
        return true;
      });
      context.run = run;
      if (written) {
        deps.events.emit({ regarding: runReference(run), type: cause === 'DurationElapsed' ? 'Normal' : 'Warning', reason: 'ChaosRunStopping', message });
      }
      return CONTINUE;
    }
    const heartbeatAge = now - Date.parse(status.heartbeatTime ?? '1970-01-01T00:00:00Z');
    // Renew a little early so that a slow write never lets the heartbeat look stale.
    if (heartbeatAge >= deps.timing.heartbeatIntervalMs * 0.8 || check.probes) {
      const { run } = await deps.status.update(context.run, (fresh, object) => {
        if (fresh.phase !== 'Running') return false;
        touch(fresh, object);
        if (check.probes) fresh.probes = check.probes;
        return true;
      });
      context.run = run;
    }
    return stop(Math.max(0, Math.min(deps.timing.heartbeatIntervalMs, endsAt - Date.now())));
  },
};

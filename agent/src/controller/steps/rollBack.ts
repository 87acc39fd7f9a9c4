import type { TargetRecord } from '@chaoscraft/backstage-plugin-chaos-common';
import {
  normalizeStatus,
  sameTarget,
  setCondition,
  transitionRecord,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { ReconcileStep, RunContext, stop } from '../pipeline';
import {
  Ending,
  faultContext,
  finishRun,
  gateInput,
  touch,
  untilHeartbeatDue,
} from './runFacts';
import type { ProbeResult } from '@chaoscraft/backstage-plugin-chaos-common';

/** Record phases a node daemon has yet to move to Recovered (or Failed) during a rollback. */
const AWAITING_DAEMON = new Set<TargetRecord['phase']>([
  'Selected',
  'Injecting',
  'Injected',
  'Recovering',
]);

function isNodeRecord(context: RunContext, record: TargetRecord): boolean {
  return context.deps.faults.executorOf(record.fault) === 'node';
}

/** Reverts the controller's own faults that can be reverted (pod-kill has nothing to revert). */
async function recoverControllerFaults(context: RunContext): Promise<void> {
  const spec = context.spec!;
  const { deps } = context;
  const injected = (context.run.status?.targets ?? []).filter(
    record =>
      record.phase === 'Injected' &&
      deps.faults.executorOf(record.fault) === 'controller',
  );
  const outcomes = await Promise.all(
    injected.map(record =>
      deps.faults.route(record.fault).recover(
        {
          namespace: spec.target.namespace,
          pod: record.pod,
          uid: record.uid,
          node: record.node,
        },
        faultContext(context),
      ),
    ),
  );
  if (outcomes.every(outcome => outcome === undefined)) return;
  const { run } = await deps.status.update(context.run, (status, fresh) => {
    touch(status, fresh);
    injected.forEach((planned, i) => {
      const outcome = outcomes[i];
      const record = status.targets.find(r => sameTarget(r, planned));
      if (outcome && record?.phase === 'Injected')
        transitionRecord(
          record,
          outcome.phase,
          outcome.reason,
          outcome.message,
        );
    });
  });
  context.run = run;
}

const VIOLATIONS = new Set(['HypothesisViolated', 'ProgressiveStepFailed']);

function endingFor(
  cause: string | undefined,
): Pick<Ending, 'phase'> & { forcedVerdict?: Ending['verdict'] } {
  switch (cause) {
    case 'DurationElapsed':
    case 'ProgressiveStepsCompleted':
      return { phase: 'Completed' };
    case 'HypothesisViolated':
    case 'ProgressiveStepFailed':
      return { phase: 'Aborted', forcedVerdict: 'Failed' };
    default:
      return { phase: 'Aborted' };
  }
}

/**
 * The first violating sample of the streak that stopped the run, from the probes in status: what
 * a restarted controller falls back on when it did not see the violation itself.
 */
function violationStartFromProbes(
  probes: readonly ProbeResult[],
): number | undefined {
  let earliest: number | undefined;
  for (const probe of probes) {
    if (probe.consecutiveFailures === 0) continue;
    let start: number | undefined;
    for (let i = probe.samples.length - 1; i >= 0; i--) {
      const sample = probe.samples[i];
      if (sample.phase !== 'during' || sample.ok) break;
      start = Date.parse(sample.time);
    }
    if (start !== undefined && (earliest === undefined || start < earliest))
      earliest = start;
  }
  return earliest;
}

/** The verdict's own words, without the violation message the run's message already has. */
function recoveryNote(
  stopMessage: string | undefined,
  verdictMessage: string,
): string {
  const [head, ...rest] = verdictMessage.split('; ');
  if (stopMessage?.includes(head)) return rest.join('; ');
  return verdictMessage;
}

/**
 * RollingBack: no new fault is applied; the controller reverts its own, then waits (bounded by
 * the rollback timeout) for the node daemons to report every network record Recovered, as the
 * controller-daemon contract says. The heartbeat keeps being renewed meanwhile, so daemons do
 * not mistake a slow rollback for a dead controller.
 */
export const rollBack: ReconcileStep = {
  name: 'rollBack',
  async run(context) {
    if (context.run.status?.phase !== 'RollingBack') {
      return stop();
    }
    const { deps } = context;
    await recoverControllerFaults(context);
    const status = normalizeStatus(context.run.status);
    const waiting = status.targets.filter(
      record =>
        isNodeRecord(context, record) && AWAITING_DAEMON.has(record.phase),
    );
    const since =
      status.conditions.find(c => c.type === 'RolledBack')
        ?.lastTransitionTime ?? status.heartbeatTime;
    const elapsed = Date.now() - Date.parse(since ?? new Date().toISOString());
    if (waiting.length > 0 && elapsed < deps.timing.rollbackTimeoutMs) {
      // Only the heartbeat is written while waiting, and only when due: a write on every
      // reconcile would wake the next one at once, and each would make the daemons' record
      // writes conflict and retry, which is the rollback this wait is for.
      if (
        untilHeartbeatDue(
          context.run.status,
          deps.timing.heartbeatIntervalMs,
        ) === 0
      ) {
        const { run } = await deps.status.update(
          context.run,
          (fresh, object) => {
            if (fresh.phase !== 'RollingBack') return false;
            touch(fresh, object);
            return true;
          },
        );
        context.run = run;
        context.log.info(
          { waiting: waiting.length },
          'waiting for node daemons to recover their targets',
        );
      }
      // Daemon writes wake the reconcile through the watch; the timer is for heartbeat and timeout.
      const untilDue = untilHeartbeatDue(
        context.run.status,
        deps.timing.heartbeatIntervalMs,
      );
      return stop(
        Math.max(
          1,
          Math.min(
            untilDue || deps.timing.heartbeatIntervalMs,
            deps.timing.rollbackTimeoutMs - elapsed,
          ),
        ),
      );
    }

    const timedOut = waiting.length > 0;
    if (
      !timedOut &&
      !status.conditions.some(
        c => c.type === 'RolledBack' && c.status === 'True',
      )
    ) {
      // Every fault is reverted: the abort latency ends here, before the wait for recovery.
      const revertedAt = Date.now();
      const violationStart = VIOLATIONS.has(status.reason ?? '')
        ? deps.memory.violationSince.get(context.key) ??
          violationStartFromProbes(status.probes)
        : undefined;
      const { run } = await deps.status.update(context.run, (fresh, object) => {
        if (fresh.phase !== 'RollingBack') return false;
        touch(fresh, object);
        if (
          violationStart !== undefined &&
          fresh.abortLatencyMs === undefined
        ) {
          fresh.abortLatencyMs = Math.max(
            0,
            Math.round(revertedAt - violationStart),
          );
        }
        setCondition(fresh, {
          type: 'RolledBack',
          status: 'True',
          reason: 'Recovered',
          message: 'every fault reverted; checking recovery',
        });
        return true;
      });
      context.run = run;
      if (violationStart !== undefined) {
        context.log.info(
          { abortLatencyMs: revertedAt - violationStart },
          'rolled back after a hypothesis violation',
        );
      }
    }
    const verdict = await deps.gate.after(gateInput(context));
    const { phase, forcedVerdict } = endingFor(status.reason);
    const evaluated = verdict.reason !== 'NoHypothesisEvaluated';
    const completed = phase === 'Completed';
    const note = recoveryNote(status.message, verdict.message);
    const stopMessage = status.message ?? 'stopped';
    let message = note ? `${stopMessage}; ${note}` : stopMessage;
    let reason =
      completed && evaluated ? verdict.reason : status.reason ?? 'Stopped';
    if (timedOut) {
      // A run stopped because no daemon ever acted keeps that as its reason: it is the cause.
      reason =
        status.reason === 'InjectionTimedOut'
          ? status.reason
          : 'RollbackTimeout';
      message = `${
        status.reason === 'InjectionTimedOut' ? `${stopMessage}; ` : ''
      }${waiting.length} target(s) not reported recovered within ${
        deps.timing.rollbackTimeoutMs
      } ms; node daemons revert on their own once the run is terminal`;
    }
    await finishRun(
      context,
      {
        phase: timedOut ? 'Failed' : phase,
        verdict: forcedVerdict ?? verdict.verdict,
        // A completed run's reason is what its hypothesis concluded (SteadyStateHeld, ...).
        reason,
        message,
      },
      fresh => {
        if (verdict.probes) fresh.probes = verdict.probes;
        for (const record of fresh.targets) {
          if (
            isNodeRecord(context, record) &&
            AWAITING_DAEMON.has(record.phase)
          ) {
            // A never-acknowledged Selected record may never have been injected; say so.
            transitionRecord(
              record,
              record.phase === 'Selected' ? 'Skipped' : 'Failed',
              'RecoveryTimeout',
              'no node daemon reported this target recovered in time',
            );
          }
        }
        setCondition(fresh, {
          type: 'RolledBack',
          status: timedOut ? 'False' : 'True',
          reason: timedOut ? 'Timeout' : 'Recovered',
        });
      },
    );
    return stop();
  },
};

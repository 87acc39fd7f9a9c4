import type { TargetRecord } from '@chaoscraft/backstage-plugin-chaos-common';
import type { FaultOutcome } from '../../faults';
import {
  describeApiError,
  normalizeStatus,
  runKey,
  sameTarget,
  setCondition,
  transitionRecord,
  type RunStatus,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { CONTINUE, ReconcileStep, RunContext, stop } from '../pipeline';
import {
  awaitFinalizer,
  faultContext,
  faultOfRecord,
  runReference,
  stopRequest,
  touch,
  untilHeartbeatDue,
} from './runFacts';

/** Records this controller still has to act on: planned, not yet acted on, its own faults. */
function pendingControllerRecords(context: RunContext): TargetRecord[] {
  const { faults } = context.deps;
  return (context.run.status?.targets ?? []).filter(
    record =>
      record.phase === 'Selected' &&
      faults.executorOf(record.fault) === 'controller',
  );
}

/** Applies one record's fault; an API error becomes a Failed outcome, never a throw. */
export async function applyOne(
  context: RunContext,
  record: TargetRecord,
): Promise<FaultOutcome> {
  const spec = context.spec!;
  const fault = faultOfRecord(spec.faults, record.fault)!;
  const log = context.log.child({ pod: record.pod, fault: record.fault });
  try {
    return await context.deps.faults.route(fault.type).apply(
      {
        namespace: spec.target.namespace,
        pod: record.pod,
        uid: record.uid,
        node: record.node,
        container: spec.target.container,
      },
      fault,
      faultContext(context, log),
    );
  } catch (error) {
    context.deps.metrics.errors.inc({ step: 'injectTargets' });
    return {
      phase: 'Failed',
      reason: 'ChaosInjectionFailed',
      message: describeApiError(error),
      eventType: 'Warning',
    };
  }
}

/** What acting on one target leaves besides its record: metrics, an Event on the pod, a log line. */
export function reportOutcome(
  context: RunContext,
  record: TargetRecord,
  outcome: FaultOutcome,
): void {
  const { deps } = context;
  if (outcome.phase === 'Injected')
    deps.metrics.injections.inc({ fault: record.fault });
  if (outcome.phase === 'Blocked')
    deps.metrics.blockedTargets.inc({ fault: record.fault });
  deps.events.emit({
    regarding: {
      apiVersion: 'v1',
      kind: 'Pod',
      name: record.pod,
      namespace: context.spec!.target.namespace,
      uid: record.uid,
    },
    type: outcome.eventType,
    reason: outcome.reason,
    message: `${outcome.message} (ChaosRun ${runKey(context.run)})`,
  });
  context.log.info(
    {
      pod: record.pod,
      fault: record.fault,
      phase: outcome.phase,
      reason: outcome.reason,
    },
    outcome.message,
  );
}

/**
 * Acts on `pending` with at most `injectionConcurrency` targets in flight, starting the next the
 * moment one is done: a sliding window, not batches, so one slow call never holds up the rest,
 * and the client's token bucket (--kube-qps, --kube-burst) is what paces the calls. Before each
 * target after the first, `shouldStop` may end it: what was started finishes, nothing new
 * starts. Returns false when it was stopped before every target was acted on.
 */
export async function actOnTargets(
  context: RunContext,
  pending: readonly TargetRecord[],
  shouldStop: () => boolean,
  onOutcome: (record: TargetRecord, outcome: FaultOutcome) => void,
): Promise<boolean> {
  let next = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped && next < pending.length) {
      if (next > 0 && shouldStop()) {
        stopped = true;
        return;
      }
      const record = pending[next++];
      onOutcome(record, await applyOne(context, record));
    }
  };
  await Promise.all(
    Array.from(
      {
        length: Math.min(
          context.deps.timing.injectionConcurrency,
          pending.length,
        ),
      },
      worker,
    ),
  );
  return !stopped;
}

/**
 * Applies the controller's faults to the planned targets (see actOnTargets), recording each
 * outcome. Only records still `Selected` are acted on, so a record already Injected or Blocked
 * (by this controller before a restart, or by the previous leader) is never acted on again.
 *
 * Outcomes are written as they come, but never one write per target, and no call waits for a
 * write: one status write is in flight at a time, carrying every outcome that arrived since the
 * last one (a write per batch, each of a status listing every record, used to hold up the next
 * batch: 63 writes for 1,000 targets in batches of 16). The last write, after every target, moves
 * the run to Running. A write that fails stops new targets; what was acted on but not written is
 * acted on again by the next reconcile, which finds the pods gone (404/409: Skipped), as before.
 *
 * Returns false when a stop request cut it short. Used at Injecting, and by holdRunning when a
 * progressive step widens (the run stays Running then).
 */
export async function injectPending(context: RunContext): Promise<boolean> {
  const { deps } = context;
  const pending = pendingControllerRecords(context);
  const key = runKey(context.run);
  let unwritten: Array<[TargetRecord, FaultOutcome]> = [];
  let writing: Promise<void> | undefined;
  let writeFailed: unknown;
  let acted = 0;

  const write = async (last: boolean): Promise<void> => {
    const chunk = unwritten;
    unwritten = [];
    const { run } = await deps.status.update(context.run, (status, fresh) => {
      touch(status, fresh);
      for (const [planned, outcome] of chunk) {
        const record = status.targets.find(r => sameTarget(r, planned));
        if (record && record.phase === 'Selected')
          transitionRecord(
            record,
            outcome.phase,
            outcome.reason,
            outcome.message,
          );
      }
      if (last && status.phase === 'Injecting') enterRunningOnceActedOn(status);
      return true;
    });
    context.run = run;
    for (const [record, outcome] of chunk)
      reportOutcome(context, record, outcome);
  };
  /** Starts a write of what arrived, unless one is in flight (it starts the next when done). */
  const kick = (): void => {
    // The write after the last target is the final one, made below.
    if (
      writing ||
      writeFailed ||
      unwritten.length === 0 ||
      acted === pending.length
    )
      return;
    writing = write(false).then(
      () => {
        writing = undefined;
        kick();
      },
      error => {
        writing = undefined;
        writeFailed = error ?? new Error('status write failed');
      },
    );
  };

  const completed = await actOnTargets(
    context,
    pending,
    () => Boolean(writeFailed) || Boolean(stopRequest(deps.latest(key))),
    (record, outcome) => {
      unwritten.push([record, outcome]);
      acted++;
      kick();
    },
  );
  while (writing) await writing;
  if (writeFailed) throw writeFailed;
  // The final write: the outcomes not written yet and, when every target was acted on, Running.
  if (unwritten.length > 0 || completed) await write(completed);
  return completed;
}

/** Target phases still waiting to be acted on, by this controller or by a node daemon. */
export const NOT_YET_ACTED_ON = new Set<TargetRecord['phase']>([
  'Selected',
  'Injecting',
]);

/**
 * Moves an Injecting run to Running once every target was acted on (node daemons report on
 * their records), so Running always means the faults are in; until then it says who it waits for.
 */
function enterRunningOnceActedOn(status: RunStatus): void {
  const waiting = status.targets.filter(record =>
    NOT_YET_ACTED_ON.has(record.phase),
  );
  if (waiting.length > 0) {
    const nodes = [
      ...new Set(waiting.map(record => record.node ?? '?')),
    ].sort();
    status.reason = 'WaitingForNodeDaemons';
    status.message = `waiting for the node daemon(s) on ${nodes.join(
      ', ',
    )} to inject ${waiting.length} target(s)`;
    return;
  }
  const counts = status.targets.reduce<Record<string, number>>(
    (by, record) => ({ ...by, [record.phase]: (by[record.phase] ?? 0) + 1 }),
    {},
  );
  const summary = Object.entries(counts)
    .map(([phase, n]) => `${n} ${phase}`)
    .join(', ');
  status.phase = 'Running';
  status.reason = 'Running';
  status.message = `faults applied (${summary}); holding for the run duration`;
  setCondition(status, {
    type: 'Injected',
    status: 'True',
    reason: 'FaultsApplied',
    message: `targets acted on: ${summary}`,
  });
}

/** When the run entered Injecting (its plan was written). */
function injectingSince(status: RunStatus): number {
  const time =
    status.phaseTransitions.find(t => t.phase === 'Injecting')?.time ??
    status.startedAt ??
    status.heartbeatTime;
  return time ? Date.parse(time) : Date.now();
}

/** Injecting: act on the plan; Running once every target was acted on, by us or a node daemon. */
export const injectTargets: ReconcileStep = {
  name: 'injectTargets',
  async run(context) {
    if (context.run.status?.phase !== 'Injecting') {
      return CONTINUE;
    }
    await awaitFinalizer(context);
    if (!(await injectPending(context))) {
      // The next reconcile moves the run to RollingBack; nothing more is injected.
      return stop(0);
    }
    if (context.run.status?.phase !== 'Injecting') {
      return CONTINUE;
    }
    // Node daemons are still to act: wait (their record writes wake this run), keep the heartbeat
    // they act on fresh, and give up after the injection timeout.
    const { deps } = context;
    const waitedMs =
      Date.now() - injectingSince(normalizeStatus(context.run.status));
    const timedOut = waitedMs >= deps.timing.injectionTimeoutMs;
    const { run } = await deps.status.update(context.run, (status, fresh) => {
      if (status.phase !== 'Injecting') return false;
      const messageBefore = status.message;
      enterRunningOnceActedOn(status);
      if (status.phase === 'Injecting' && timedOut) {
        const message = `${status.message} timed out after ${Math.round(
          waitedMs / 1000,
        )} s; rolling back`;
        status.phase = 'RollingBack';
        status.reason = 'InjectionTimedOut';
        status.message = message;
        setCondition(status, {
          type: 'RolledBack',
          status: 'False',
          reason: 'InProgress',
          message,
        });
      }
      // Nothing new and the heartbeat not due: no write, which would only wake this reconcile
      // again at once and make the daemons' record writes conflict.
      const changed =
        status.phase !== 'Injecting' || status.message !== messageBefore;
      if (
        !changed &&
        untilHeartbeatDue(status, deps.timing.heartbeatIntervalMs) > 0
      )
        return false;
      touch(status, fresh);
      return true;
    });
    context.run = run;
    if (run.status?.phase === 'RollingBack') {
      deps.events.emit({
        regarding: runReference(run),
        type: 'Warning',
        reason: 'ChaosInjectionTimedOut',
        message: run.status.message ?? '',
      });
      return CONTINUE;
    }
    if (run.status?.phase === 'Injecting') {
      const untilDue = untilHeartbeatDue(
        run.status,
        deps.timing.heartbeatIntervalMs,
      );
      return stop(
        Math.max(
          1,
          Math.min(
            untilDue || deps.timing.heartbeatIntervalMs,
            deps.timing.injectionTimeoutMs - waitedMs,
          ),
        ),
      );
    }
    return CONTINUE;
  },
};

/** Records this controller still has to act on (exported for holdRunning's widening). */
export function hasPendingControllerRecords(context: RunContext): boolean {
  return pendingControllerRecords(context).length > 0;
}

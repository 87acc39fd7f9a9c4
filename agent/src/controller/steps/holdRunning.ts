import {
  parseDuration,
  type ProbeResult,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  nextProgressiveAction,
  type PlannedStep,
} from '../../hypothesis/progressive';
import { computeBlastRadius, exceedsLimit } from '../../selection/blastRadius';
import {
  appendTargetEvent,
  nowIso,
  setCondition,
  type RunStatus,
} from '@chaoscraft/backstage-plugin-chaos-node';
import type { GateCheck } from '../../hypothesis/hypothesisGate';
import {
  CONTINUE,
  ReconcileStep,
  RunContext,
  stop,
  type StepOutcome,
} from '../pipeline';
import {
  hasPendingControllerRecords,
  injectPending,
  NOT_YET_ACTED_ON,
} from './injectTargets';
import {
  describeStep,
  eligibleAtWidening,
  pickNewTargets,
  planOfRun,
  runningStep,
} from './progressive';
import { gateInput, runReference, touch, untilHeartbeatDue } from './runFacts';

/** Why a Running run moves to RollingBack; rollBack maps each to its terminal phase. */
export type StopCause =
  | 'HypothesisViolated'
  | 'ProgressiveStepFailed'
  | 'DurationElapsed'
  | 'ProgressiveStepsCompleted'
  /** A widening would pass the cap against the pods eligible then. */
  | 'BlastRadiusExceeded';

/**
 * The gate's violation() resolves the moment the during-probes find a violation; it then wakes
 * the run's reconcile at once, instead of the rollback waiting for the next tick (the race
 * docs/hypothesis.md asks for, without holding the work queue while waiting). Armed once per run.
 */
function armViolationWake(context: RunContext): void {
  const { deps, key } = context;
  if (!deps.gate.violation || deps.memory.armed.has(key)) return;
  deps.memory.armed.add(key);
  deps.gate.violation(gateInput(context)).then(
    check => {
      if (check.violationSince)
        deps.memory.violationSince.set(key, Date.parse(check.violationSince));
      context.log.info(
        { reason: check.reason },
        check.message ?? 'steady-state hypothesis violated',
      );
      deps.wake(key);
    },
    error =>
      context.log.warn(
        { err: String(error) },
        'hypothesis violation watch failed',
      ),
  );
}

async function moveToRollingBack(
  context: RunContext,
  cause: StopCause,
  message: string,
  check: GateCheck,
  steps?: (status: RunStatus) => void,
): Promise<StepOutcome> {
  const { deps } = context;
  if (check.violationSince && !deps.memory.violationSince.has(context.key)) {
    deps.memory.violationSince.set(
      context.key,
      Date.parse(check.violationSince),
    );
  }
  const { run, written } = await deps.status.update(
    context.run,
    (fresh, object) => {
      if (fresh.phase !== 'Running') return false;
      touch(fresh, object);
      if (check.probes) fresh.probes = check.probes;
      steps?.(fresh);
      fresh.phase = 'RollingBack';
      fresh.reason = cause;
      fresh.message = message.slice(0, 4096);
      setCondition(fresh, {
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
    const normal =
      cause === 'DurationElapsed' || cause === 'ProgressiveStepsCompleted';
    deps.events.emit({
      regarding: runReference(run),
      type: normal ? 'Normal' : 'Warning',
      reason: 'ChaosRunStopping',
      message,
    });
  }
  return CONTINUE;
}

/** Marks the running (last) step finished with `result`. */
function finishStep(status: RunStatus, result: 'Passed' | 'Failed'): void {
  const last = status.steps[status.steps.length - 1];
  if (last && last.result === 'Running') {
    status.steps = [
      ...status.steps.slice(0, -1),
      { ...last, result, finishedAt: nowIso() },
    ];
  }
}

/**
 * One line per probe that changes whenever a sample is added or a verdict moves: comparing it
 * says whether the gate has anything new for status.probes.
 */
function probesSignature(probes: readonly ProbeResult[] | undefined): string {
  return (probes ?? [])
    .map(
      p =>
        `${p.name}|${p.samples.length}|${
          p.samples[p.samples.length - 1]?.time
        }|${p.verdict}|${p.consecutiveFailures}`,
    )
    .join('\n');
}

/**
 * How often a Running run is reconciled on its own: every heartbeat, and with a hypothesis at
 * least every probe interval, so that each new sample reaches status.probes within one interval.
 */
function tickMs(context: RunContext): number {
  const heartbeat = context.deps.timing.heartbeatIntervalMs;
  const hypothesis = context.spec?.hypothesis;
  return hypothesis
    ? Math.min(heartbeat, parseDuration(hypothesis.interval))
    : heartbeat;
}

/**
 * Writes status when the heartbeat is due or the gate has new samples, and not otherwise: every
 * write comes back as a watch event that reconciles the run again, so writing on every reconcile
 * would loop as fast as the API server answers (tens of writes a second), and each of those
 * writes would make a node daemon's record write conflict and retry.
 */
async function renewHeartbeat(
  context: RunContext,
  check: GateCheck,
): Promise<void> {
  const { deps } = context;
  const status = context.run.status!;
  const newProbes =
    check.probes !== undefined &&
    probesSignature(check.probes) !== probesSignature(status.probes);
  if (
    untilHeartbeatDue(status, deps.timing.heartbeatIntervalMs) === 0 ||
    newProbes
  ) {
    const { run } = await deps.status.update(context.run, (fresh, object) => {
      if (fresh.phase !== 'Running') return false;
      touch(fresh, object);
      if (check.probes) fresh.probes = check.probes;
      return true;
    });
    context.run = run;
  }
}

/**
 * The running step's faults are in (every target acted on), or the injection timeout passed:
 * records `injectedAt`, from which the step's hold counts. Returns what to do next.
 */
async function awaitStepInjection(
  context: RunContext,
  step: PlannedStep,
  total: number,
  check: GateCheck,
): Promise<StepOutcome> {
  const { deps } = context;
  const status = gateInput(context).status;
  const running = status.steps[status.steps.length - 1];
  const waiting = status.targets.filter(record =>
    NOT_YET_ACTED_ON.has(record.phase),
  ).length;
  const waitedMs = Date.now() - Date.parse(running.startedAt);
  if (waiting > 0 && waitedMs < deps.timing.injectionTimeoutMs) {
    await renewHeartbeat(context, check);
    // Node daemons report through status, which wakes the run; this is only the fallback tick.
    return stop(
      Math.min(tickMs(context), deps.timing.injectionTimeoutMs - waitedMs),
    );
  }
  const { run, written } = await deps.status.update(
    context.run,
    (fresh, object) => {
      const last = fresh.steps[fresh.steps.length - 1];
      if (
        fresh.phase !== 'Running' ||
        !last ||
        last.index !== step.index ||
        last.injectedAt
      )
        return false;
      touch(fresh, object);
      if (check.probes) fresh.probes = check.probes;
      fresh.steps = [
        ...fresh.steps.slice(0, -1),
        { ...last, injectedAt: nowIso() },
      ];
      return true;
    },
  );
  context.run = run;
  if (written && waiting > 0) {
    const message = `${describeStep(
      step,
      total,
    )}: ${waiting} target(s) still not acted on after ${Math.round(
      waitedMs / 1000,
    )} s; its hold starts without them`;
    context.log.warn({ step: step.index + 1, waiting }, message);
    deps.events.emit({
      regarding: runReference(run),
      type: 'Warning',
      reason: 'ChaosStepInjectionSlow',
      message,
    });
  }
  return stop(0);
}

/**
 * Widens to the next progressive step: the step's new targets are chosen among the pods not yet
 * targeted that were there before the run (pickNewTargets), and written (Selected) together with
 * the step's record, in one status write, before any of them is touched; then they are injected.
 * A restart between the two finds them Selected and injects them (never a record already acted
 * on). The plan passed the cap against the pods eligible at preflight; the widening checks it
 * again against the pods eligible now (eligibleAtWidening), the same integer test preflight
 * uses, and stops the run instead of widening past it (a Deployment scaled down mid-run).
 */
async function widen(
  context: RunContext,
  next: PlannedStep,
  total: number,
  check: GateCheck,
): Promise<StepOutcome> {
  const { deps } = context;
  const spec = context.spec!;
  const status = context.run.status!;
  const candidates = await deps.pods.candidates(
    spec.target.namespace,
    spec.target.labelSelector,
  );
  const targets = status.targets ?? [];
  const alreadyPods = new Set(targets.map(record => record.pod)).size;
  const selection = pickNewTargets(
    candidates,
    targets,
    Math.max(0, next.targetCount - alreadyPods),
    spec.seed,
    next.index,
    status.startedAt,
  );
  const widened = computeBlastRadius(
    alreadyPods + selection.selected.length,
    eligibleAtWidening(candidates, targets, status.startedAt),
    spec.safety.maxBlastRadiusPercent,
  );
  if (exceedsLimit(widened)) {
    const message = `${describeStep(next, total)} not started: ${
      widened.selected
    } of the ${widened.eligible} pods eligible now is ${
      widened.percent
    }%, above the limit of ${widened.limit}% (safety.maxBlastRadiusPercent)`;
    context.log.warn(
      { step: next.index + 1, ...widened },
      'progressive widening over the blast-radius limit',
    );
    return moveToRollingBack(
      context,
      'BlastRadiusExceeded',
      message,
      check,
      fresh => finishStep(fresh, 'Passed'),
    );
  }
  const { run, written } = await deps.status.update(
    context.run,
    (fresh, object) => {
      const last = fresh.steps[fresh.steps.length - 1];
      if (fresh.phase !== 'Running' || !last || last.index !== next.index - 1)
        return false;
      touch(fresh, object);
      finishStep(fresh, 'Passed');
      fresh.steps = [...fresh.steps, runningStep(next)];
      fresh.blastRadius = {
        ...next.blastRadius,
        selected: alreadyPods + selection.selected.length,
      };
      const time = nowIso();
      for (const pod of selection.selected) {
        for (const fault of spec.faults) {
          const record = {
            pod: pod.name,
            uid: pod.uid,
            node: pod.node,
            fault: fault.type,
            phase: 'Selected' as const,
            events: [],
          };
          appendTargetEvent(
            record,
            'ChaosTargetSelected',
            `selected on node ${pod.node ?? '?'} for ${describeStep(
              next,
              total,
            )}`,
            time,
          );
          fresh.targets.push(record);
        }
      }
      fresh.message = `widening to ${describeStep(next, total)}`;
      return true;
    },
  );
  context.run = run;
  if (written) {
    context.log.info(
      { step: next.index + 1, ...next.blastRadius },
      'progressive step widening',
    );
    deps.events.emit({
      regarding: runReference(run),
      type: 'Normal',
      reason: 'ChaosRunWidening',
      message: `widening to ${describeStep(next, total)}`,
    });
    await injectPending(context);
  }
  return stop(0);
}

/**
 * Running: the faults are in place for spec.duration, or, with progressive steps, step by step
 * for each step's hold. Renews the heartbeat, reports the hypothesis gate's probes at every
 * tick, and moves to RollingBack when the time is up, the last step passed, or the gate fails.
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
    const check = await deps.gate.during(gateInput(context));
    armViolationWake(context);
    const plan = planOfRun(spec, gateInput(context).status);

    if (!plan) {
      // The duration counts from Running: from when every fault was in.
      const runningSince =
        status.phaseTransitions?.find(t => t.phase === 'Running')?.time ??
        status.startedAt ??
        nowIso();
      const endsAt = Date.parse(runningSince) + parseDuration(spec.duration);
      if (!check.ok) {
        return moveToRollingBack(
          context,
          'HypothesisViolated',
          check.message ?? 'the steady-state hypothesis failed during the run',
          check,
        );
      }
      if (Date.now() >= endsAt) {
        return moveToRollingBack(
          context,
          'DurationElapsed',
          `the run's duration of ${spec.duration} elapsed`,
          check,
        );
      }
      await renewHeartbeat(context, check);
      return stop(Math.max(0, Math.min(tickMs(context), endsAt - Date.now())));
    }

    const steps = gateInput(context).status.steps;
    if (!check.ok) {
      const current = plan[steps[steps.length - 1]?.index ?? 0];
      const message = `${describeStep(current, plan.length)} failed its gate: ${
        check.message ?? 'the steady-state hypothesis failed'
      }`;
      return moveToRollingBack(
        context,
        'ProgressiveStepFailed',
        message,
        check,
        fresh => finishStep(fresh, 'Failed'),
      );
    }
    if (hasPendingControllerRecords(context)) {
      // Widened, then restarted before injecting: finish that step's injection first.
      await injectPending(context);
      return stop(0);
    }
    const action = nextProgressiveAction(plan, steps, Date.now());
    switch (action.kind) {
      case 'injecting':
        return awaitStepInjection(context, action.step, plan.length, check);
      case 'hold':
        await renewHeartbeat(context, check);
        return stop(Math.max(0, Math.min(tickMs(context), action.remainingMs)));
      case 'pass': {
        const next = plan[action.step.index + 1];
        if (!next) {
          return moveToRollingBack(
            context,
            'ProgressiveStepsCompleted',
            `all ${plan.length} progressive steps passed their gates`,
            check,
            fresh => finishStep(fresh, 'Passed'),
          );
        }
        return widen(context, next, plan.length, check);
      }
      case 'widen':
        // Only when status.steps lost its first record (written with the plan): nothing to widen from.
        return moveToRollingBack(
          context,
          'ProgressiveStepFailed',
          'status.steps does not match the progressive plan; stopping',
          check,
        );
      case 'complete':
        return moveToRollingBack(
          context,
          'ProgressiveStepsCompleted',
          `all ${plan.length} progressive steps passed their gates`,
          check,
        );
      case 'stopped':
        return moveToRollingBack(
          context,
          'ProgressiveStepFailed',
          `${describeStep(action.step, plan.length)} failed its gate`,
          check,
        );
      default: {
        const unknown: never = action;
        throw new TypeError(
          `unknown progressive action ${JSON.stringify(unknown)}`,
        );
      }
    }
  },
};

import {
  parseDuration,
  type BlastRadius,
  type ProgressiveStep,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { computeBlastRadius, exceedsLimit } from '../selection/blastRadius';
import { plannedCount } from '../selection/selectTargets';

/** One step of a progressive run, resolved against the pods that are eligible now. */
export interface PlannedStep {
  index: number;
  /** Cumulative: how many targets are disrupted once this step has widened. */
  targetCount: number;
  /** Targets this step adds to those of the steps before it. */
  newTargets: number;
  blastRadius: BlastRadius;
  /** How long the step holds while the `during` probes act as its gate. */
  holdMs: number;
}

export type ProgressivePlan =
  | { ok: true; steps: PlannedStep[] }
  | {
      ok: false;
      reason: 'NoEligibleTargets' | 'BlastRadiusExceeded';
      message: string;
    };

/**
 * Resolves spec.safety.progressiveSteps against the eligible pods: each step's cumulative target
 * count (a step never narrows: a smaller selection than the step before keeps the earlier
 * count), its blast radius, and its hold. A step counts, measures and caps exactly as a plain
 * run's preflight does (plannedCount, computeBlastRadius, exceedsLimit), so a selection means
 * the same pods either way. A step over the limit refuses the whole plan up front, so a run
 * never starts a widening it may not finish; the controller checks the cap again at each
 * widening, against the pods eligible then.
 */
export function planProgressiveSteps(input: {
  eligible: number;
  steps: ProgressiveStep[];
  maxBlastRadiusPercent: number;
}): ProgressivePlan {
  const { eligible, steps, maxBlastRadiusPercent: limit } = input;
  if (eligible <= 0) {
    return {
      ok: false,
      reason: 'NoEligibleTargets',
      message: 'no eligible pods to disrupt',
    };
  }
  const planned: PlannedStep[] = [];
  let previous = 0;
  for (const [index, step] of steps.entries()) {
    const targetCount = Math.max(
      previous,
      plannedCount(step.selection, eligible),
    );
    const blastRadius = computeBlastRadius(targetCount, eligible, limit);
    if (exceedsLimit(blastRadius)) {
      return {
        ok: false,
        reason: 'BlastRadiusExceeded',
        message: `progressive step ${
          index + 1
        } would disrupt ${targetCount} of ${eligible} eligible pods (${
          blastRadius.percent
        }%), above the ${limit}% limit`,
      };
    }
    planned.push({
      index,
      targetCount,
      newTargets: targetCount - previous,
      blastRadius,
      holdMs: parseDuration(step.hold),
    });
    previous = targetCount;
  }
  return { ok: true, steps: planned };
}

/** What a tick-driven controller should do next about progressive steps. */
export type ProgressiveAction =
  /** Inject up to `step.targetCount` targets, then append a `Running` record for the step. */
  | { kind: 'widen'; step: PlannedStep }
  /** The current step's targets are not all acted on yet (no `injectedAt`): its hold has not begun. */
  | { kind: 'injecting'; step: PlannedStep }
  /** The current step is holding; its gate is the `during` probes. */
  | { kind: 'hold'; step: PlannedStep; remainingMs: number }
  /** The current step held for its whole hold without a violation: mark it `Passed`. */
  | { kind: 'pass'; step: PlannedStep }
  /** Every step passed: the run completes (roll back, then after()). */
  | { kind: 'complete' }
  /** A step failed: the run stops here (roll back). */
  | { kind: 'stopped'; step: PlannedStep };

/**
 * The next progressive action from the plan and status.steps alone, so a controller that
 * reconciles on ticks (and may restart, or fail over to another replica) can resume from the
 * status. A gate failure is not decided here: the controller marks the running step `Failed`
 * when the hypothesis reports a violation.
 */
export function nextProgressiveAction(
  plan: PlannedStep[],
  steps: ReadonlyArray<{
    index: number;
    startedAt: string;
    injectedAt?: string;
    result: 'Running' | 'Passed' | 'Failed';
  }>,
  now: number,
): ProgressiveAction {
  const last = steps[steps.length - 1];
  if (!last) {
    return plan.length > 0
      ? { kind: 'widen', step: plan[0] }
      : { kind: 'complete' };
  }
  const step = plan[last.index];
  if (!step) {
    return { kind: 'complete' };
  }
  switch (last.result) {
    case 'Failed':
      return { kind: 'stopped', step };
    case 'Running': {
      // The hold is the gate's window on the step's faults: it counts from when they are in.
      if (!last.injectedAt) {
        return { kind: 'injecting', step };
      }
      const remainingMs = step.holdMs - (now - Date.parse(last.injectedAt));
      return remainingMs <= 0
        ? { kind: 'pass', step }
        : { kind: 'hold', step, remainingMs };
    }
    case 'Passed':
      return last.index + 1 < plan.length
        ? { kind: 'widen', step: plan[last.index + 1] }
        : { kind: 'complete' };
    default:
      return { kind: 'complete' };
  }
}

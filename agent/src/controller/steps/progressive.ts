import type {
  ChaosRunSpec,
  StepRecord,
  TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  planProgressiveSteps,
  type PlannedStep,
  type ProgressivePlan,
} from '../../hypothesis/progressive';
import { isEligible, type CandidatePod } from '../../selection/candidates';
import {
  selectTargets,
  type TargetSelection,
} from '../../selection/selectTargets';
import {
  nowIso,
  type RunStatus,
} from '@chaoscraft/backstage-plugin-chaos-node';

export function isProgressive(spec: ChaosRunSpec): boolean {
  return (spec.safety.progressiveSteps?.length ?? 0) > 0;
}

/**
 * The run's progressive plan, resolved against the eligible pods counted at preflight. It is a
 * pure function of the spec and status.blastRadius.eligible, so every reconcile (and every
 * replica, after a restart or failover) derives the same plan.
 */
export function progressivePlan(
  spec: ChaosRunSpec,
  eligible: number,
): ProgressivePlan {
  return planProgressiveSteps({
    eligible,
    steps: spec.safety.progressiveSteps ?? [],
    maxBlastRadiusPercent: spec.safety.maxBlastRadiusPercent,
  });
}

/** The plan of a run already past preflight; undefined when it has no steps. */
export function planOfRun(
  spec: ChaosRunSpec,
  status: RunStatus,
): PlannedStep[] | undefined {
  if (!isProgressive(spec)) return undefined;
  const plan = progressivePlan(spec, status.blastRadius?.eligible ?? 0);
  return plan.ok ? plan.steps : [];
}

/**
 * `count` more targets among the eligible candidates not already targeted by this run and not
 * created since it started (`runStartedAt`). A pod that appeared during the run is, in a
 * Deployment, most likely the replacement of a pod the run killed, still inside its
 * minReadySeconds: disrupting it would not widen the disruption the step's blast radius
 * promises. The seed is offset by the step, so each widening draws reproducibly from the
 * pods left.
 */
/**
 * How many pods a widening's blast radius is measured against: the eligible pods that were
 * there before the run started, plus the run's own targets (a killed pod was eligible until the
 * run took it, so a run's kills never shrink the denominator under itself). Pods created since
 * the run started are left out, as pickNewTargets leaves them out: in a Deployment they are the
 * replacements of pods the run killed, and counting them beside the killed pods would let the
 * run's own kills widen the room it has. A Deployment scaled down mid-run shrinks the count, and
 * the next widening is checked against what is left.
 */
export function eligibleAtWidening(
  candidates: readonly CandidatePod[],
  already: readonly TargetRecord[],
  runStartedAt?: string,
): number {
  const isNew = createdSince(runStartedAt);
  const pods = new Set(
    candidates
      .filter(pod => isEligible(pod) && !isNew(pod))
      .map(pod => pod.name),
  );
  for (const record of already) pods.add(record.pod);
  return pods.size;
}

/**
 * A pod created since the run started. Creation times have whole seconds, so a pod created in
 * the run's first second counts as new.
 */
function createdSince(
  runStartedAt: string | undefined,
): (pod: CandidatePod) => boolean {
  const startedSecond = runStartedAt
    ? Math.floor(Date.parse(runStartedAt) / 1000) * 1000
    : NaN;
  return pod => pod.createdAt !== undefined && pod.createdAt >= startedSecond;
}

export function pickNewTargets(
  candidates: readonly CandidatePod[],
  already: readonly TargetRecord[],
  count: number,
  seed: number | undefined,
  stepIndex: number,
  runStartedAt?: string,
): TargetSelection {
  const taken = new Set(already.map(record => record.pod));
  const isNew = createdSince(runStartedAt);
  const left = candidates.filter(pod => !taken.has(pod.name) && !isNew(pod));
  return selectTargets(
    left,
    { mode: 'fixed', count },
    seed === undefined ? undefined : (seed + stepIndex) % 2 ** 31,
  );
}

export function runningStep(step: PlannedStep): StepRecord {
  return {
    index: step.index,
    blastRadius: { ...step.blastRadius },
    startedAt: nowIso(),
    result: 'Running',
  };
}

/** "step 2 of 3 (2 of 10 pods, 20%)" */
export function describeStep(step: PlannedStep, total: number): string {
  const { selected, eligible, percent } = step.blastRadius;
  return `progressive step ${
    step.index + 1
  } of ${total} (${selected} of ${eligible} pods, ${percent}%)`;
}

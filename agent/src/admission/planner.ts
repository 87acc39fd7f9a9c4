import {
  ADMISSION_PLAN_ANNOTATION,
  admissionPlanSchema,
  type AdmissionPlan,
  type ChaosRunSpec,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { ChaosRunResource } from '@chaoscraft/backstage-plugin-chaos-node';
import type { FaultRouter } from '../faults';
import type { PodSource } from '../controller/podCache';
import {
  checkBlastRadius,
  checkCeilings,
  checkNamespace,
  checkSpecSupport,
  type SafetyPolicy,
} from '../safety/preflight';
import { computeBlastRadius } from '../selection/blastRadius';
import { plannedCount, selectTargets } from '../selection/selectTargets';

/** What planning at admission reads: the controller's own caches and rules. */
export interface AdmissionPlannerDeps {
  pods: PodSource;
  faults: FaultRouter;
  policy: SafetyPolicy;
  namespaceLabels(name: string): Promise<Record<string, string> | undefined>;
}

/**
 * Whether a run can be planned at admission and acted on at first sight: nothing must happen
 * between the plan and the first injection. Dry runs, runs with a steady-state hypothesis (its
 * `before` probes come first), progressive runs, aborted runs and runs with faults a node daemon
 * applies keep the controller's own preflight.
 */
export function plannableAtAdmission(
  spec: ChaosRunSpec,
  faults: FaultRouter,
): boolean {
  return (
    !spec.dryRun &&
    !spec.abort &&
    !spec.hypothesis &&
    !(spec.safety.progressiveSteps?.length ?? 0) &&
    spec.faults.every(fault => faults.executorOf(fault.type) === 'controller')
  );
}

/**
 * The plan preflight would make, made while the run is being created; undefined when the run is
 * not plannable here or would be refused (the controller's preflight then refuses it, with the
 * reason in status). The same rules and selection as preflight, from the same caches.
 */
export async function planAtAdmission(
  spec: ChaosRunSpec,
  runNamespace: string,
  deps: AdmissionPlannerDeps,
): Promise<AdmissionPlan | undefined> {
  if (!plannableAtAdmission(spec, deps.faults)) return undefined;
  if (
    checkSpecSupport(spec, type => deps.faults.supports(type)) ??
    checkCeilings(spec, deps.policy)
  )
    return undefined;
  const refusal = checkNamespace(
    {
      runNamespace,
      targetNamespace: spec.target.namespace,
      targetNamespaceLabels: await deps.namespaceLabels(spec.target.namespace),
    },
    deps.policy,
  );
  if (refusal) return undefined;
  const candidates = await deps.pods.candidates(
    spec.target.namespace,
    spec.target.labelSelector,
  );
  const selection = selectTargets(candidates, spec.target.selection, spec.seed);
  const blastRadius = computeBlastRadius(
    selection.selected.length,
    selection.eligible,
    spec.safety.maxBlastRadiusPercent,
  );
  if (checkBlastRadius(blastRadius)) return undefined;
  return {
    version: 1,
    targets: selection.selected.map(pod => ({
      name: pod.name,
      uid: pod.uid,
      ...(pod.node ? { node: pod.node } : {}),
    })),
    blastRadius,
    seed: selection.seed,
  };
}

/** The plan annotation of a run: absent, a well-formed plan, or why it is not one. */
export type PlanAnnotation =
  | { plan: AdmissionPlan }
  | { invalid: string }
  | undefined;

export function readAdmissionPlan(run: ChaosRunResource): PlanAnnotation {
  const raw = run.metadata.annotations?.[ADMISSION_PLAN_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    const parsed = admissionPlanSchema.safeParse(JSON.parse(raw));
    return parsed.success
      ? { plan: parsed.data }
      : {
          invalid: `${ADMISSION_PLAN_ANNOTATION} is not a plan: ${
            parsed.error.issues[0]?.message ?? 'invalid'
          }`,
        };
  } catch {
    return { invalid: `${ADMISSION_PLAN_ANNOTATION} is not JSON` };
  }
}

/**
 * Whether a plan is one this agent could have made for this spec: as many targets as the
 * selection asks of the eligible count it states, within the blast-radius limit, and that count
 * no larger than what the namespace can account for (the eligible pods now, plus planned ones
 * gone since). The annotation is only written by the webhook, but anyone who may create a
 * ChaosRun may also write annotations: a plan that does not add up is refused, never acted on.
 */
export function checkAdmissionPlan(
  spec: ChaosRunSpec,
  plan: AdmissionPlan,
  eligibleNow: number,
  plannedGone: number,
): string | undefined {
  const { selected, eligible } = plan.blastRadius;
  if (
    selected !== plan.targets.length ||
    new Set(plan.targets.map(t => t.uid)).size !== plan.targets.length
  ) {
    return `the plan lists ${plan.targets.length} target(s) but states ${selected}`;
  }
  if (eligible > eligibleNow + plannedGone) {
    return `the plan states ${eligible} eligible pods; the namespace accounts for at most ${
      eligibleNow + plannedGone
    }`;
  }
  if (selected !== plannedCount(spec.target.selection, eligible)) {
    return `the plan selects ${selected} of ${eligible} pods; the run's selection asks for ${plannedCount(
      spec.target.selection,
      eligible,
    )}`;
  }
  const radius = computeBlastRadius(
    selected,
    eligible,
    spec.safety.maxBlastRadiusPercent,
  );
  return checkBlastRadius(radius)?.message;
}

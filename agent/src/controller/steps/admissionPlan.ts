import type {
  AdmissionPlan,
  TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  checkAdmissionPlan,
  plannableAtAdmission,
  readAdmissionPlan,
  type PlanAnnotation,
} from '../../admission/planner';
import {
  checkCeilings,
  checkNamespace,
  checkSpecSupport,
  type Refusal,
} from '../../safety/preflight';
import { isEligible } from '../../selection/candidates';
import type { FaultOutcome } from '../../faults';
import {
  runKey,
  appendTargetEvent,
  nowIso,
  setCondition,
  transitionRecord,
} from '@chaoscraft/backstage-plugin-chaos-node';
import type { RunContext } from '../pipeline';
import { actOnTargets, reportOutcome } from './injectTargets';
import {
  hasFinalizer,
  runReference,
  stopRequest,
  touch,
  writeFirstPlan,
} from './runFacts';

/**
 * The admission plan of a run seen for the first time, when it may be acted on at once: the
 * webhook planned it (plan and finalizer were persisted by the create), its spec is the one that
 * was planned (generation 1), it is still plannable, and nothing asks it to stop. A malformed
 * annotation comes back as `invalid`, for preflight to refuse.
 */
export function admissionPlanOf(context: RunContext): PlanAnnotation {
  const { run } = context;
  if (
    run.status?.phase ||
    run.metadata.generation !== 1 ||
    !hasFinalizer(run) ||
    stopRequest(run)
  )
    return undefined;
  if (!plannableAtAdmission(context.spec!, context.deps.faults))
    return undefined;
  return readAdmissionPlan(run);
}

/**
 * Acts on an admission plan: checks it against the rules again (a ChaosRun's annotations are
 * writable by whoever creates it, so the plan is trusted only as far as it adds up), injects
 * every planned target still there, then writes the whole status (plan, outcomes, phases
 * Preflight → Injecting → Running) in one write. Returns the refusal instead when the rules or
 * the plan say no; nothing is touched then.
 *
 * The plan was durable before anything was touched, because the create persisted it: a
 * controller that restarts before the status write acts on the same plan again. A planned pod
 * that is no longer among the selector's eligible pods (killed before the restart, or gone for
 * any reason) is recorded `Skipped` without a call, and no other pod is ever taken in its place.
 */
export async function injectAdmissionPlan(
  context: RunContext,
  plan: AdmissionPlan,
): Promise<Refusal | undefined> {
  const { deps } = context;
  const spec = context.spec!;
  const refusal =
    checkSpecSupport(spec, type => deps.faults.supports(type)) ??
    checkCeilings(spec, deps.policy) ??
    checkNamespace(
      {
        runNamespace: context.run.metadata.namespace!,
        targetNamespace: spec.target.namespace,
        targetNamespaceLabels: await deps.namespaceLabels(
          spec.target.namespace,
        ),
      },
      deps.policy,
    );
  if (refusal) return refusal;
  const eligible = new Map(
    (
      await deps.pods.candidates(
        spec.target.namespace,
        spec.target.labelSelector,
      )
    )
      .filter(isEligible)
      .map(pod => [pod.uid, pod.name]),
  );
  const present = new Set(
    plan.targets.filter(t => eligible.get(t.uid) === t.name).map(t => t.uid),
  );
  const problem = checkAdmissionPlan(
    spec,
    plan,
    eligible.size,
    plan.targets.length - present.size,
  );
  if (problem)
    return {
      reason: 'AdmissionPlanInvalid',
      message: `the admission plan does not hold: ${problem}; nothing was touched`,
    };

  const startedAt = nowIso();
  const records: TargetRecord[] = [];
  for (const pod of plan.targets) {
    for (const fault of spec.faults) {
      const record: TargetRecord = {
        pod: pod.name,
        uid: pod.uid,
        node: pod.node,
        fault: fault.type,
        phase: 'Selected',
        events: [],
      };
      appendTargetEvent(
        record,
        'ChaosTargetSelected',
        `selected at admission on node ${pod.node ?? '?'}`,
        startedAt,
      );
      records.push(record);
    }
  }
  const pending = records.filter(record => present.has(record.uid!));
  const outcomes = new Map<TargetRecord, FaultOutcome>();
  const key = runKey(context.run);
  await actOnTargets(
    context,
    pending,
    () => Boolean(stopRequest(deps.latest(key))),
    (record, outcome) => outcomes.set(record, outcome),
  );
  for (const record of records) {
    const outcome = outcomes.get(record);
    if (outcome)
      transitionRecord(record, outcome.phase, outcome.reason, outcome.message);
    else if (!present.has(record.uid!)) {
      transitionRecord(
        record,
        'Skipped',
        'ChaosTargetGone',
        `pod ${record.pod} (uid ${record.uid}) is no longer an eligible target; nothing was done`,
      );
    } else
      transitionRecord(
        record,
        'Skipped',
        'AbortRequested',
        'the run was stopped before this target was touched',
      );
  }

  const { blastRadius } = plan;
  const summary = `${blastRadius.selected} of ${blastRadius.eligible} eligible pods (${blastRadius.percent}%, limit ${blastRadius.limit}%)`;
  context.run = await writeFirstPlan(context, (status, fresh) => {
    touch(status, fresh);
    status.phase = 'Running';
    status.reason = 'Running';
    status.message = 'faults applied; holding for the run duration';
    status.startedAt = startedAt;
    status.blastRadius = blastRadius;
    status.targets = records;
    status.phaseTransitions = [
      {
        phase: 'Preflight',
        time: startedAt,
        reason: 'PlannedAtAdmission',
        message: `planned at admission: ${summary}`,
      },
      { phase: 'Injecting', time: startedAt, reason: 'Injecting' },
      { phase: 'Running', time: nowIso(), reason: 'Running' },
    ];
    setCondition(status, {
      type: 'Preflight',
      status: 'True',
      reason: 'PlannedAtAdmission',
      message: summary,
      observedGeneration: 1,
    });
    setCondition(status, {
      type: 'Injected',
      status: 'True',
      reason: 'FaultsApplied',
      message: `${records.length} target(s) acted on by the controller`,
    });
  });

  deps.events.emit({
    regarding: runReference(context.run),
    type: 'Normal',
    reason: 'ChaosRunStarted',
    message: `disrupting ${summary} (planned at admission)`,
  });
  for (const record of records) {
    const outcome = outcomes.get(record);
    if (outcome) reportOutcome(context, record, outcome);
    else
      context.log.info(
        {
          pod: record.pod,
          fault: record.fault,
          phase: record.phase,
          reason: record.reason,
        },
        record.message,
      );
  }
  return undefined;
}

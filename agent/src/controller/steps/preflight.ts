import type {
  ChaosRunSpec,
  TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { checkNodeDaemons } from '../../safety/nodeDaemons';
import {
  checkBlastRadius,
  checkCeilings,
  checkNamespace,
  checkSpecSupport,
} from '../../safety/preflight';
import { isEligible } from '../../selection/candidates';
import { computeBlastRadius } from '../../selection/blastRadius';
import { selectTargets, TargetSelection } from '../../selection/selectTargets';
import {
  appendTargetEvent,
  nowIso,
  RunStatus,
  setCondition,
  type ChaosRunResource,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { CONTINUE, RunContext, ReconcileStep, stop } from '../pipeline';
import type { GateCheck } from '../../hypothesis/hypothesisGate';
import {
  awaitFinalizer,
  finishRun,
  gateInput,
  runReference,
  touch,
  writeFirstPlan,
} from './runFacts';
import { isProgressive, progressivePlan, runningStep } from './progressive';
import { admissionPlanOf, injectAdmissionPlan } from './admissionPlan';
import type {
  BlastRadius,
  ProbeResult,
} from '@chaoscraft/backstage-plugin-chaos-common';

function planRecords(
  spec: ChaosRunSpec,
  selection: TargetSelection,
  phase: 'Selected' | 'Skipped',
): TargetRecord[] {
  const time = nowIso();
  const records: TargetRecord[] = [];
  for (const pod of selection.selected) {
    for (const fault of spec.faults) {
      const record: TargetRecord = {
        pod: pod.name,
        uid: pod.uid,
        node: pod.node,
        fault: fault.type,
        phase,
        events: [],
      };
      if (phase === 'Skipped') {
        record.reason = 'DryRun';
        record.message = 'dry run: selected, not touched';
      }
      appendTargetEvent(
        record,
        phase === 'Skipped' ? 'DryRun' : 'ChaosTargetSelected',
        `selected on node ${pod.node ?? '?'}`,
        time,
      );
      records.push(record);
    }
  }
  return records;
}

async function refuse(
  context: RunContext,
  refusal: { reason: string; message: string },
  blastRadius?: BlastRadius,
  probes?: ProbeResult[],
): Promise<void> {
  await finishRun(
    context,
    {
      phase: 'Failed',
      verdict: 'Refused',
      reason: refusal.reason,
      message: refusal.message,
    },
    status => {
      if (blastRadius) status.blastRadius = blastRadius;
      if (probes) status.probes = probes;
      setCondition(status, {
        type: 'Preflight',
        status: 'False',
        reason: refusal.reason,
        message: refusal.message,
      });
    },
  );
}

/**
 * Preflight: the safety rules, then the plan. Nothing is touched here; the plan (every target,
 * with its pod uid and node) is persisted in status BEFORE the first injection, which is what
 * makes a restarted or failed-over controller act only on planned targets.
 */
export const preflight: ReconcileStep = {
  name: 'preflight',
  async run(context) {
    const phase = context.run.status?.phase;
    if (phase && phase !== 'Pending' && phase !== 'Preflight') {
      return CONTINUE;
    }
    const spec = context.spec!;
    const { deps } = context;

    const admitted = admissionPlanOf(context);
    if (admitted) {
      // Planned by the admission webhook, persisted by the create: act at once (or refuse).
      const refusal =
        'invalid' in admitted
          ? {
              reason: 'AdmissionPlanInvalid',
              message: `${admitted.invalid}; nothing was touched`,
            }
          : await injectAdmissionPlan(context, admitted.plan);
      if (refusal) {
        await refuse(context, refusal);
        return stop();
      }
      return CONTINUE;
    }

    const unsupported =
      checkSpecSupport(spec, type => deps.faults.supports(type)) ??
      checkCeilings(spec, deps.policy);
    if (unsupported) {
      await refuse(context, unsupported);
      return stop();
    }
    const namespaceRefusal = checkNamespace(
      {
        runNamespace: context.run.metadata.namespace!,
        targetNamespace: spec.target.namespace,
        targetNamespaceLabels: await deps.namespaceLabels(
          spec.target.namespace,
        ),
      },
      deps.policy,
    );
    if (namespaceRefusal) {
      await refuse(context, namespaceRefusal);
      return stop();
    }

    const endTimer = deps.metrics.selectionDuration.startTimer();
    const candidates = await deps.pods.candidates(
      spec.target.namespace,
      spec.target.labelSelector,
    );
    let selection: TargetSelection;
    let blastRadius: BlastRadius;
    const progressive = isProgressive(spec)
      ? progressivePlan(spec, candidates.filter(isEligible).length)
      : undefined;
    if (progressive && !progressive.ok) {
      endTimer();
      await refuse(context, progressive);
      return stop();
    }
    if (progressive?.ok) {
      // The first step's targets now; each later step adds its own when it widens.
      const first = progressive.steps[0];
      selection = selectTargets(
        candidates,
        { mode: 'fixed', count: first.targetCount },
        spec.seed,
      );
      blastRadius = first.blastRadius;
    } else {
      selection = selectTargets(candidates, spec.target.selection, spec.seed);
      blastRadius = computeBlastRadius(
        selection.selected.length,
        selection.eligible,
        spec.safety.maxBlastRadiusPercent,
      );
    }
    const selectionSeconds = endTimer();
    context.log.info(
      {
        ...blastRadius,
        seed: selection.seed,
        selectionMs: Math.round(selectionSeconds * 1000),
      },
      'targets selected',
    );

    const radiusRefusal = checkBlastRadius(blastRadius);
    if (radiusRefusal) {
      await refuse(context, radiusRefusal, blastRadius);
      return stop();
    }
    if (
      spec.faults.some(fault => deps.faults.executorOf(fault.type) === 'node')
    ) {
      const daemonRefusal = checkNodeDaemons({
        faults: spec.faults,
        nodes: selection.selected.map(pod => pod.node),
        presence: await deps.nodeDaemons(),
        executorOf: type => deps.faults.executorOf(type),
        unsupportedOn: (fault, capabilities) =>
          deps.faults.unsupportedOn(fault, capabilities),
      });
      if (daemonRefusal) {
        await refuse(context, daemonRefusal, blastRadius);
        return stop();
      }
    }

    let before: GateCheck = { ok: true };
    if (spec.hypothesis) {
      await awaitFinalizer(context);
      // Steady-state checks take time: show the phase while they run.
      const { run } = await deps.status.update(context.run, (status, fresh) => {
        if (status.phase && status.phase !== 'Pending') return false;
        touch(status, fresh);
        status.phase = 'Preflight';
        status.blastRadius = blastRadius;
        status.reason = 'CheckingSteadyState';
        status.message =
          'checking the steady-state hypothesis before injection';
        return true;
      });
      context.run = run;
      before = await deps.gate.before(gateInput(context));
      if (!before.ok) {
        await refuse(
          context,
          {
            reason: before.reason ?? 'SteadyStateNotMet',
            message: before.message ?? 'steady state not met before injection',
          },
          blastRadius,
          before.probes,
        );
        return stop();
      }
    }

    const stepNote = progressive?.ok
      ? ` (step 1 of ${progressive.steps.length})`
      : '';
    const summary = `${blastRadius.selected} of ${blastRadius.eligible} eligible pods (${blastRadius.percent}%, limit ${blastRadius.limit}%)${stepNote}`;
    if (spec.dryRun) {
      await finishRun(
        context,
        {
          phase: 'Completed',
          verdict: 'Inconclusive',
          reason: 'DryRun',
          message: `dry run: would disrupt ${summary}; nothing was touched`,
        },
        status => {
          status.blastRadius = blastRadius;
          status.targets = planRecords(spec, selection, 'Skipped');
          setCondition(status, {
            type: 'Preflight',
            status: 'True',
            reason: 'Passed',
            message: summary,
          });
        },
      );
      return stop();
    }

    const plan = (status: RunStatus, fresh: ChaosRunResource): void => {
      touch(status, fresh);
      status.phase = 'Injecting';
      status.startedAt = nowIso();
      status.blastRadius = blastRadius;
      status.targets = planRecords(spec, selection, 'Selected');
      if (progressive?.ok) status.steps = [runningStep(progressive.steps[0])];
      status.probes = before.probes ?? status.probes;
      status.reason = 'Injecting';
      status.message = `injecting into ${summary}`;
      setCondition(status, {
        type: 'Preflight',
        status: 'True',
        reason: 'Passed',
        message: summary,
        observedGeneration: fresh.metadata.generation,
      });
    };
    if (!context.run.status) {
      // First sight of the run: the plan goes in one status patch while the finalizer patch is
      // still in flight, then both must have landed before the first target is touched.
      context.run = await writeFirstPlan(context, plan);
    } else {
      const { run, written } = await deps.status.update(
        context.run,
        (status, fresh) => {
          // On a fresher copy another reconcile may already have planned: never plan twice.
          if (
            status.phase &&
            status.phase !== 'Pending' &&
            status.phase !== 'Preflight'
          )
            return false;
          plan(status, fresh);
          return true;
        },
      );
      context.run = run;
      if (!written) {
        return stop(0);
      }
    }
    await awaitFinalizer(context);
    deps.events.emit({
      regarding: runReference(context.run),
      type: 'Normal',
      reason: 'ChaosRunStarted',
      message: `disrupting ${summary}`,
    });
    return CONTINUE;
  },
};

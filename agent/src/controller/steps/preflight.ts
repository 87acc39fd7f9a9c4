import type { ChaosRunSpec, TargetRecord } from '@chaoscraft/backstage-plugin-chaos-common';
import { checkBlastRadius, checkNamespace, checkSpecSupport, Refusal } from '../../safety/preflight';
import { computeBlastRadius } from '../../selection/blastRadius';
import { listCandidatePods } from '../../selection/listCandidates';
import { selectTargets, TargetSelection } from '../../selection/selectTargets';
import { appendTargetEvent, normalizeStatus, nowIso, setCondition } from '../../status/records';
import { CONTINUE, RunContext, ReconcileStep, stop } from '../pipeline';
import { finishRun, runReference, touch } from './runFacts';
import type { BlastRadius } from '@chaoscraft/backstage-plugin-chaos-common';

function planRecords(spec: ChaosRunSpec, selection: TargetSelection, phase: 'Selected' | 'Skipped'): TargetRecord[] {
  const time = nowIso();
  const records: TargetRecord[] = [];
  for (const pod of selection.selected) {
    for (const fault of spec.faults) {
      const record: TargetRecord = { pod: pod.name, uid: pod.uid, node: pod.node, fault: fault.type, phase, events: [] };
      if (phase === 'Skipped') {
        record.reason = 'DryRun';
        record.message = 'dry run: selected, not touched';
      }
      appendTargetEvent(record, phase === 'Skipped' ? 'DryRun' : 'ChaosTargetSelected', `selected on node ${pod.node ?? '?'}`, time);
      records.push(record);
    }
  }
  return records;
}

async function refuse(context: RunContext, refusal: Refusal, blastRadius?: BlastRadius): Promise<void> {
  await finishRun(
    context,
    { phase: 'Failed', verdict: 'Refused', reason: refusal.reason, message: refusal.message },
    status => {
      if (blastRadius) status.blastRadius = blastRadius;
      setCondition(status, { type: 'Preflight', status: 'False', reason: refusal.reason, message: refusal.message });
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

    const unsupported = checkSpecSupport(spec, type => deps.faults.supports(type));
    if (unsupported) {
      await refuse(context, unsupported);
      return stop();
    }
    const namespaceRefusal = checkNamespace(
      {
        runNamespace: context.run.metadata.namespace!,
        targetNamespace: spec.target.namespace,
        targetNamespaceLabels: await deps.namespaceLabels(spec.target.namespace),
      },
      deps.policy,
    );
    if (namespaceRefusal) {
      await refuse(context, namespaceRefusal);
      return stop();
    }

    const endTimer = deps.metrics.selectionDuration.startTimer();
    const candidates = await listCandidatePods(deps.clients.kc, spec.target.namespace, spec.target.labelSelector);
    const selection = selectTargets(candidates, spec.target.selection, spec.seed);
    const blastRadius = computeBlastRadius(selection.selected.length, selection.eligible, spec.safety.maxBlastRadiusPercent);
    const selectionSeconds = endTimer();
    context.log.info({ ...blastRadius, seed: selection.seed, selectionMs: Math.round(selectionSeconds * 1000) }, 'targets selected');

    const radiusRefusal = checkBlastRadius(blastRadius);
    if (radiusRefusal) {
      await refuse(context, radiusRefusal, blastRadius);
      return stop();
    }

    if (spec.hypothesis) {
      // Steady-state checks take time: show the phase while they run.
      const { run } = await deps.status.update(context.run, (status, fresh) => {
        if (status.phase && status.phase !== 'Pending') return false;
        touch(status, fresh);
        status.phase = 'Preflight';
        status.blastRadius = blastRadius;
        return true;
      });
      context.run = run;
    }
    const before = await deps.gate.before({ spec, status: normalizeStatus(context.run.status), log: context.log });
    if (!before.ok) {
      await refuse(context, { reason: (before.reason ?? 'SteadyStateNotMet') as Refusal['reason'], message: before.message ?? 'steady state not met before injection' }, blastRadius);
      return stop();
    }

    const summary = `${blastRadius.selected} of ${blastRadius.eligible} eligible pods (${blastRadius.percent}%, limit ${blastRadius.limit}%)`;
    if (spec.dryRun) {
      await finishRun(
        context,
        { phase: 'Completed', verdict: 'Inconclusive', reason: 'DryRun', message: `dry run: would disrupt ${summary}; nothing was touched` },
        status => {
          status.blastRadius = blastRadius;
          status.targets = planRecords(spec, selection, 'Skipped');
          setCondition(status, { type: 'Preflight', status: 'True', reason: 'Passed', message: summary });
        },
      );
      return stop();
    }

    const { run, written } = await deps.status.update(context.run, (status, fresh) => {
      // On a fresher copy another reconcile may already have planned: never plan twice.
      if (status.phase && status.phase !== 'Pending' && status.phase !== 'Preflight') return false;
      touch(status, fresh);
      status.phase = 'Injecting';
      status.startedAt = nowIso();
      status.blastRadius = blastRadius;
      status.targets = planRecords(spec, selection, 'Selected');
      status.probes = before.probes ?? status.probes;
      status.reason = 'Injecting';
      status.message = `injecting into ${summary}`;
      setCondition(status, { type: 'Preflight', status: 'True', reason: 'Passed', message: summary, observedGeneration: fresh.metadata.generation });
      return true;
    });
    context.run = run;
    if (!written) {
      return stop(0);
    }
    deps.events.emit({ regarding: runReference(run), type: 'Normal', reason: 'ChaosRunStarted', message: `disrupting ${summary}` });
    return CONTINUE;
  },
};

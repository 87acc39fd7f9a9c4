import {
  CHAOS_API_VERSION,
  CHAOS_RUN,
  Fault,
  isTerminalPhase,
  RunPhase,
  Verdict,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { V1ObjectReference } from '@kubernetes/client-node';
import { CHAOS_FINALIZER, ChaosRunResource } from '../../kube/chaosRun';
import { isConflict } from '../../kube/errors';
import { nowIso, RunStatus, setCondition } from '../../status/records';
import type { RunContext } from '../pipeline';

export function runReference(run: ChaosRunResource): V1ObjectReference {
  return {
    apiVersion: CHAOS_API_VERSION,
    kind: CHAOS_RUN.kind,
    name: run.metadata.name,
    namespace: run.metadata.namespace,
    uid: run.metadata.uid,
  };
}

export function isDeleting(run: ChaosRunResource): boolean {
  return Boolean(run.metadata.deletionTimestamp);
}

export function hasFinalizer(run: ChaosRunResource): boolean {
  return (run.metadata.finalizers ?? []).includes(CHAOS_FINALIZER);
}

/** Why a live run must stop now, if it must: deletion first, then spec.abort. */
export function stopRequest(run: ChaosRunResource | undefined): 'RunDeleted' | 'AbortRequested' | undefined {
  if (!run) return undefined;
  if (isDeleting(run)) return 'RunDeleted';
  return (run.spec as { abort?: boolean } | undefined)?.abort === true ? 'AbortRequested' : undefined;
}

export function faultOfRecord(faults: readonly Fault[], type: string): Fault | undefined {
  return faults.find(fault => fault.type === type);
}

/** Every status write of a live run renews the heartbeat and records the generation acted on. */
export function touch(status: RunStatus, run: ChaosRunResource): void {
  status.heartbeatTime = nowIso();
  status.observedGeneration = run.metadata.generation;
}

/** Drops our finalizer; conditional on resourceVersion, re-read once on conflict. */
export async function removeFinalizer(context: RunContext): Promise<void> {
  const { runs } = context.deps;
  for (let attempt = 0; attempt < 5 && hasFinalizer(context.run); attempt++) {
    try {
      context.run = await runs.setFinalizers(
        context.run,
        (context.run.metadata.finalizers ?? []).filter(f => f !== CHAOS_FINALIZER),
      );
    } catch (error) {
      if (!isConflict(error)) throw error;
      context.run = await runs.get(context.run.metadata.namespace!, context.run.metadata.name!);
    }
  }
}

export interface Ending {
  phase: Extract<RunPhase, 'Completed' | 'Aborted' | 'Failed'>;
  verdict: Verdict;
  reason: string;
  message: string;
}

/**
 * Writes the terminal phase, verdict and reason, records an Event on the run and releases the
 * finalizer: once terminal, nothing of the run is left to roll back.
 */
export async function finishRun(
  context: RunContext,
  ending: Ending,
  extra?: (status: RunStatus) => void,
): Promise<void> {
  const { deps, log } = context;
  const { run } = await deps.status.update(context.run, (status, fresh) => {
    if (isTerminalPhase(status.phase)) return false;
    extra?.(status);
    touch(status, fresh);
    status.phase = ending.phase;
    status.verdict = ending.verdict;
    status.reason = ending.reason;
    status.message = ending.message;
    status.startedAt ??= nowIso();
    status.finishedAt = nowIso();
    setCondition(status, {
      type: 'Finished',
      status: 'True',
      reason: ending.reason,
      message: ending.message,
      observedGeneration: fresh.metadata.generation,
    });
    return true;
  });
  context.run = run;
  deps.events.emit({
    regarding: runReference(run),
    type: ending.phase === 'Completed' ? 'Normal' : 'Warning',
    reason: `ChaosRun${ending.verdict === 'Refused' ? 'Refused' : ending.phase}`,
    message: ending.message,
  });
  log.info({ phase: ending.phase, verdict: ending.verdict, reason: ending.reason }, ending.message);
  await removeFinalizer(context);
}

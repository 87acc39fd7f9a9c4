import {
  CHAOS_API_VERSION,
  CHAOS_RUN,
  Fault,
  isTerminalPhase,
  RunPhase,
  Verdict,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { V1ObjectReference } from '@kubernetes/client-node';
import {
  CHAOS_FINALIZER,
  ChaosRunResource,
  fitStatusBudget,
  isConflict,
  normalizeStatus,
  nowIso,
  RunStatus,
  setCondition,
} from '@chaoscraft/backstage-plugin-chaos-node';
import type { ApplyContext } from '../../faults';
import type { Logger } from '../../log';
import { recordRunTrace } from '../../tracing';
import type { GateInput } from '../../hypothesis/hypothesisGate';
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
export function stopRequest(
  run: ChaosRunResource | undefined,
): 'RunDeleted' | 'AbortRequested' | undefined {
  if (!run) return undefined;
  if (isDeleting(run)) return 'RunDeleted';
  return (run.spec as { abort?: boolean } | undefined)?.abort === true
    ? 'AbortRequested'
    : undefined;
}

/** What a fault is told about the run it acts for. */
export function faultContext(
  context: RunContext,
  log: Logger = context.log,
): ApplyContext {
  const { metadata } = context.run;
  return {
    run: {
      namespace: metadata.namespace!,
      name: metadata.name!,
      uid: metadata.uid!,
    },
    safety: context.spec!.safety,
    log,
  };
}

export function faultOfRecord(
  faults: readonly Fault[],
  type: string,
): Fault | undefined {
  return faults.find(fault => fault.type === type);
}

/** Every status write of a live run renews the heartbeat and records the generation acted on. */
export function touch(status: RunStatus, run: ChaosRunResource): void {
  status.heartbeatTime = nowIso();
  status.observedGeneration = run.metadata.generation;
}

/**
 * Milliseconds until the heartbeat must be renewed (0 when it is due). It is renewed a little
 * early, at 80% of the interval, so that a slow write never lets it look stale.
 */
export function untilHeartbeatDue(
  status: Pick<RunStatus, 'heartbeatTime'> | undefined,
  intervalMs: number,
  now = Date.now(),
): number {
  const age = now - Date.parse(status?.heartbeatTime ?? '1970-01-01T00:00:00Z');
  return Math.max(0, intervalMs * 0.8 - age);
}

/** What the hypothesis gate is shown of the run. */
export function gateInput(context: RunContext): GateInput {
  return {
    runKey: context.key,
    spec: context.spec!,
    status: normalizeStatus(context.run.status),
    log: context.log,
  };
}

/** Of two copies of one run, the one the API server wrote last (resourceVersions are etcd revisions). */
export function newerRun(
  a: ChaosRunResource,
  b: ChaosRunResource,
): ChaosRunResource {
  const ra = Number(a.metadata.resourceVersion);
  const rb = Number(b.metadata.resourceVersion);
  if (!Number.isFinite(ra) || !Number.isFinite(rb)) return b;
  return rb >= ra ? b : a;
}

/**
 * Adds our finalizer with a JSON patch that is not conditional on resourceVersion, so that it can
 * be in flight together with the first status write (which would otherwise make one of the two
 * fail with 409). What the precondition protected stays protected: `test` ops pin the object's
 * uid and its finalizer list as seen, and the API server itself refuses new finalizers on an
 * object being deleted.
 */
export async function addFinalizerPatch(
  context: RunContext,
): Promise<ChaosRunResource> {
  const { metadata } = context.run;
  const current = metadata.finalizers ?? [];
  const patch = [
    { op: 'test', path: '/metadata/uid', value: metadata.uid },
    ...(current.length === 0
      ? [
          { op: 'test', path: '/metadata/finalizers', value: null },
          { op: 'add', path: '/metadata/finalizers', value: [CHAOS_FINALIZER] },
        ]
      : [
          { op: 'test', path: '/metadata/finalizers', value: current },
          { op: 'add', path: '/metadata/finalizers/-', value: CHAOS_FINALIZER },
        ]),
  ];
  return context.deps.runs.jsonPatch(context.run, patch);
}

/**
 * Waits for a finalizer patch started by ensureFinalizer, keeping the newer copy of the run.
 * Anything that injects must call it first: the finalizer is on before any target is touched.
 */
export async function awaitFinalizer(context: RunContext): Promise<void> {
  const pending = context.finalizer;
  if (!pending) return;
  context.finalizer = undefined;
  context.run = newerRun(context.run, await pending);
}

/** As awaitFinalizer, for a run that is ending anyway: a failed patch leaves nothing to remove. */
async function settleFinalizer(context: RunContext): Promise<void> {
  try {
    await awaitFinalizer(context);
  } catch (error) {
    context.log.debug(
      { err: String(error) },
      'finalizer patch failed; the run ends without it',
    );
  }
}

/** Drops our finalizer; conditional on resourceVersion, re-read once on conflict. */
export async function removeFinalizer(context: RunContext): Promise<void> {
  const { runs } = context.deps;
  for (let attempt = 0; attempt < 5 && hasFinalizer(context.run); attempt++) {
    try {
      context.run = await runs.setFinalizers(
        context.run,
        (context.run.metadata.finalizers ?? []).filter(
          f => f !== CHAOS_FINALIZER,
        ),
      );
    } catch (error) {
      if (!isConflict(error)) throw error;
      context.run = await runs.get(
        context.run.metadata.namespace!,
        context.run.metadata.name!,
      );
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
  await settleFinalizer(context);
  deps.memory.violationSince.delete(context.key);
  deps.memory.armed.delete(context.key);
  const { run, written } = await deps.status.update(
    context.run,
    (status, fresh) => {
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
    },
  );
  context.run = run;
  // The run's trace is written once, by whoever wrote its end.
  if (written) recordRunTrace(run, normalizeStatus(run.status));
  deps.events.emit({
    regarding: runReference(run),
    type: ending.phase === 'Completed' ? 'Normal' : 'Warning',
    reason: `ChaosRun${
      ending.verdict === 'Refused' ? 'Refused' : ending.phase
    }`,
    message: ending.message,
  });
  log.info(
    { phase: ending.phase, verdict: ending.verdict, reason: ending.reason },
    ending.message,
  );
  await removeFinalizer(context);
}

/**
 * The plan of a run that has no status yet, as a JSON patch of the status subresource. It is not
 * conditional on resourceVersion (the finalizer patch in flight beside it changes that), so its
 * `test` ops carry what the precondition guarded: there is still no status (no one else has
 * planned: never plan twice), and the object and spec are the ones the plan was made for (uid,
 * generation). Any of them failing is a 422, and the next reconcile starts over from the new state.
 * `plan` fills the status; unless it records the phases itself, the phase it sets is the first.
 */
export async function writeFirstPlan(
  context: RunContext,
  plan: (status: RunStatus, fresh: ChaosRunResource) => void,
): Promise<ChaosRunResource> {
  const { metadata } = context.run;
  const status = normalizeStatus(undefined);
  plan(status, context.run);
  if (status.phaseTransitions.length === 0) {
    status.phaseTransitions = [
      {
        phase: status.phase!,
        time: nowIso(),
        reason: status.reason?.slice(0, 128),
        message: status.message?.slice(0, 1024),
      },
    ];
  }
  fitStatusBudget(status);
  const written = await context.deps.runs.jsonPatchStatus(context.run, [
    { op: 'test', path: '/metadata/uid', value: metadata.uid },
    { op: 'test', path: '/metadata/generation', value: metadata.generation },
    { op: 'test', path: '/status', value: null },
    { op: 'add', path: '/status', value: status },
  ]);
  return newerRun(context.run, written);
}

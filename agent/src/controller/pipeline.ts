import type { ChaosRunSpec } from '@chaoscraft/backstage-plugin-chaos-common';
import {
  type ChaosRunClient,
  type ChaosRunResource,
  type StatusWriter,
} from '@chaoscraft/backstage-plugin-chaos-node';
import type { KubeClients } from '../kube/clients';
import type { Logger } from '../log';
import type { ControllerMetrics } from '../metrics';
import type { FaultRouter } from '../faults';
import type { NodeDaemonPresence } from '../kube/nodeDaemonLease';
import type { SafetyPolicy } from '../safety/preflight';
import type { EventRecorder } from '../status/kubeEvents';
import type { HypothesisGate } from '../hypothesis/hypothesisGate';
import type { PodSource } from './podCache';

export interface RunTiming {
  /** How often status.heartbeatTime is renewed while a run is live (daemons' dead-man's switch). */
  heartbeatIntervalMs: number;
  /** How long RollingBack waits for node daemons to report their records Recovered. */
  rollbackTimeoutMs: number;
  /** Targets in flight at most (a sliding window); a stop request is checked before each new one. */
  injectionConcurrency: number;
  /** How long a progressive step waits for its targets to be acted on before its hold starts anyway. */
  injectionTimeoutMs: number;
}

/**
 * What the controller remembers of live runs between reconciles. Only an optimisation: every
 * fact that matters after a restart is in status (abortLatencyMs falls back to the samples).
 */
export interface RunMemory {
  /** Epoch ms of the first violating sample, per run key, as the gate reported it. */
  violationSince: Map<string, number>;
  /** Runs whose gate violation already wakes the queue (armed once per run). */
  armed: Set<string>;
}

/** Everything the steps need, built once per controller. */
export interface ReconcileDeps {
  clients: KubeClients;
  runs: ChaosRunClient;
  status: StatusWriter;
  events: EventRecorder;
  metrics: ControllerMetrics;
  faults: FaultRouter;
  gate: HypothesisGate;
  /** Candidate pods for selection: a watch cache when warm, else a fresh list. */
  pods: PodSource;
  policy: SafetyPolicy;
  timing: RunTiming;
  /** Labels of a namespace (informer cache first), or undefined if it does not exist. */
  namespaceLabels(name: string): Promise<Record<string, string> | undefined>;
  /** The node daemons' leases, by node (read when a run has node faults). */
  nodeDaemons(): Promise<Map<string, NodeDaemonPresence>>;
  /** The newest copy of a run the informer has seen: used to notice an abort mid-injection. */
  latest(key: string): ChaosRunResource | undefined;
  memory: RunMemory;
  /** Reconcile a run now, e.g. the moment the hypothesis gate reports a violation. */
  wake(key: string): void;
}

/** One reconcile of one run, threaded through the steps. */
export interface RunContext {
  key: string;
  /** The run as last read or written; steps replace it with what each write returned. */
  run: ChaosRunResource;
  /** Parsed and defaulted spec; set by the parseSpec step. */
  spec?: ChaosRunSpec;
  log: Logger;
  deps: ReconcileDeps;
  /**
   * The finalizer patch of a run seen for the first time, in flight while preflight selects and
   * plans; awaited (see awaitFinalizer) before anything that needs it: any injection, and the end.
   */
  finalizer?: Promise<ChaosRunResource>;
}

export type StepOutcome =
  | { continue: true }
  | { continue: false; requeueAfterMs?: number };

export const CONTINUE: StepOutcome = { continue: true };
export function stop(requeueAfterMs?: number): StepOutcome {
  return { continue: false, requeueAfterMs };
}

/** A single-purpose step of the reconcile pipeline (as chaos-mesh's pipeline steps). */
export interface ReconcileStep {
  readonly name: string;
  run(context: RunContext): Promise<StepOutcome>;
}

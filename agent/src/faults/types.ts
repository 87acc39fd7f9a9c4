import type { Fault, FaultType, Safety, TargetPhase } from '@chaoscraft/backstage-plugin-chaos-common';
import type { KubeClients } from '../kube/chaosRun';
import type { Logger } from '../log';

/** One pod a fault is applied to, as the run's target record names it. */
export interface FaultTarget {
  namespace: string;
  pod: string;
  /** The pod's uid at selection time: acting on a same-named replacement would be wrong. */
  uid?: string;
  node?: string;
  container?: string;
}

export interface FaultContext {
  clients: KubeClients;
  log: Logger;
  /** The run's safety settings (e.g. respectPodDisruptionBudgets). */
  safety: Safety;
}

/** What applying or recovering did to one target; becomes its record's phase and an Event. */
export interface FaultOutcome {
  phase: TargetPhase;
  /** CamelCase, used as the Kubernetes Event reason too (e.g. ChaosPodKilled). */
  reason: string;
  message: string;
  /** Event type on the target pod. */
  eventType: 'Normal' | 'Warning';
}

/**
 * The one interface every fault implements (as chaos-mesh's ChaosImpl): apply to one target,
 * recover one target. Selection, iteration, records and events live in one generic place (the
 * controller's pipeline), so a fault only knows how to hurt and heal a single pod.
 */
export interface FaultImplementation<F extends Fault = Fault> {
  readonly type: F['type'];
  /**
   * Who runs it: `controller` (through the API server, e.g. pod-kill) or `node` (the node
   * daemon on the target's node, inside the pod's network namespace; see the controller-daemon
   * contract in docs/ARCHITECTURE.md). The controller never calls apply/recover of `node` faults.
   */
  readonly executor: 'controller' | 'node';
  apply(target: FaultTarget, fault: F, context: FaultContext): Promise<FaultOutcome>;
  /** Reverts the fault; undefined when there is nothing to revert (a killed pod stays killed). */
  recover(target: FaultTarget, fault: F, context: FaultContext): Promise<FaultOutcome | undefined>;
}

/** Thrown by the router for a fault type nobody registered. */
export class UnknownFaultTypeError extends Error {
  readonly name = 'UnknownFaultTypeError';
  constructor(readonly faultType: FaultType | string) {
    super(`no implementation is registered for fault type '${faultType}'`);
  }
}

import type {
  Fault,
  FaultType,
  Safety,
  TargetPhase,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { KubeClients } from '../kube/clients';
import type { Logger } from '../log';
import type { NetworkInjectorOptions } from './network/injector';
import type { NodeCapabilities } from './network/types';

/** One pod a fault is applied to, as the run's target record names it. */
export interface FaultTarget {
  namespace: string;
  pod: string;
  /** The pod's uid at selection time: acting on a same-named replacement would be wrong. */
  uid?: string;
  node?: string;
  container?: string;
}

/** The run a fault acts for. */
export interface FaultRun {
  namespace: string;
  name: string;
  uid: string;
}

/** What a fault needs to know about the call; its dependencies are bound when it is created. */
export interface FaultContext {
  run: FaultRun;
  log: Logger;
}

/** Applying also knows the run's safety settings (e.g. respectPodDisruptionBudgets). */
export interface ApplyContext extends FaultContext {
  safety: Safety;
  /**
   * The longest the fault may last if nothing else stops it (the run's whole length and a
   * margin): a fault that runs on its own, e.g. a stress process, is started with this bound.
   */
  deadlineMs?: number;
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
 * Who runs a fault: `controller` (through the API server, e.g. pod-kill), or `node` (the node
 * daemon on the target's node, e.g. inside the pod's network namespace; see the contract between
 * the controller and the node daemons in docs/ARCHITECTURE.md).
 */
export type FaultExecutor = 'controller' | 'node';

/**
 * The one interface every fault implements (as chaos-mesh's ChaosImpl): apply to one target,
 * recover one target. Selection, iteration, records and events live in one generic place (the
 * controller's pipeline, the node daemon), so a fault only knows how to hurt and heal one pod.
 * Neither throws for what the target did: a failure is an outcome (`Failed` with a reason).
 */
export interface FaultImplementation<F extends Fault = Fault> {
  readonly type: F['type'];
  readonly executor: FaultExecutor;
  apply(
    target: FaultTarget,
    fault: F,
    context: ApplyContext,
  ): Promise<FaultOutcome>;
  /** Reverts the fault; undefined when there is nothing to revert (a killed pod stays killed). */
  recover(
    target: FaultTarget,
    context: FaultContext,
  ): Promise<FaultOutcome | undefined>;
}

/** Thrown by the router for a fault type nobody registered, or one another executor runs. */
export class UnknownFaultTypeError extends Error {
  readonly name = 'UnknownFaultTypeError';
  constructor(
    readonly faultType: FaultType | string,
    why = 'no implementation is registered for it',
  ) {
    super(`fault type '${faultType}': ${why}`);
  }
}

/** What controller faults are built with: API clients. */
export interface ControllerFaultDeps {
  clients: KubeClients;
}

/** What node faults are built with: the node's ledger, pod resolver and capabilities. */
export type NodeFaultDeps = NetworkInjectorOptions & {
  /** Where the node's cgroup filesystem is mounted (default /sys/fs/cgroup). */
  cgroupRoot?: string;
  /** Where the node's /proc is (hostPID: /proc). */
  procRoot?: string;
};

/**
 * One fault type: where it executes and how to build its implementation there. The registry
 * (registry.ts) lists one module per type; adding a fault adds its folder, its model schema and
 * its line there.
 */
export type FaultModule =
  | {
      readonly type: FaultType;
      readonly executor: 'controller';
      create(deps: ControllerFaultDeps): FaultImplementation;
    }
  | {
      readonly type: FaultType;
      readonly executor: 'node';
      create(deps: NodeFaultDeps): FaultImplementation;
      /** Why a node with these capabilities cannot run the fault (checked at preflight). */
      unsupportedOn?(
        fault: Fault,
        capabilities: NodeCapabilities,
      ): string | undefined;
    };

import type {
  FaultOfType,
  NetworkFault,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { ObjectNames } from './names';
import type { NetworkObject } from './objects';

export type NetworkFaultType = NetworkFault['type'];

/** What a node offers node faults; decided once per daemon, published on its lease. */
export interface NodeCapabilities {
  /** The kernel has sch_netem (probed by adding one in a scratch namespace). */
  netem: boolean;
  /** iptables binary to use inside pod namespaces. */
  iptables: string;
  /** stress-ng runs here (stress faults). */
  stressNg?: boolean;
}

export interface PlanContext {
  names: ObjectNames;
  capabilities: NodeCapabilities;
}

/** The exact objects one fault adds on one target, and what the record should say about it. */
export interface NetworkFaultPlan {
  objects: NetworkObject[];
  /** Told to people through the target record, e.g. that a fallback is in use. */
  notes: string[];
}

/** The fault cannot be built on this node; `reason` is CamelCase for the target record. */
export class FaultUnsupportedError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = 'FaultUnsupportedError';
  }
}

/**
 * One network fault. Planning is pure: it turns the fault's parameters into kernel objects.
 * Applying them to one target and recovering one target are the same for every network fault
 * (node/NetworkInjector.ts), because the ledger must hold the exact objects before any is added.
 */
export interface NetworkFaultPlanner<T extends NetworkFaultType> {
  readonly type: T;
  plan(fault: FaultOfType<T>, context: PlanContext): NetworkFaultPlan;
}

export function netemRequired(type: NetworkFaultType): FaultUnsupportedError {
  return new FaultUnsupportedError(
    'NetemUnavailable',
    `netem unavailable: this node's kernel has no sch_netem qdisc, which ${type} needs`,
  );
}

/** Percent for netem: at most 4 decimals, no exponent. */
export function percent(value: number): string {
  return `${Number(value.toFixed(4))}%`;
}

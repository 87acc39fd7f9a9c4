import type {
  FaultOfType,
  NetworkFault,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { networkBandwidth } from './bandwidth';
import { networkCorrupt } from './corrupt';
import { networkDuplicate } from './duplicate';
import { networkLatency } from './latency';
import { networkLoss } from './loss';
import { networkPartition } from './partition';
import type {
  NetworkFaultModule,
  NetworkFaultPlan,
  NetworkFaultType,
  PlanContext,
} from './types';

export * from './types';
export * from './objects';
export * from './exec';
export * from './names';
export { detectNetem } from './capabilities';

const MODULES: { [T in NetworkFaultType]: NetworkFaultModule<T> } = {
  'network-latency': networkLatency,
  'network-loss': networkLoss,
  'network-duplicate': networkDuplicate,
  'network-corrupt': networkCorrupt,
  'network-bandwidth': networkBandwidth,
  'network-partition': networkPartition,
};

/** A fault type no network module handles. */
export class UnknownNetworkFaultError extends Error {
  constructor(readonly type: string) {
    super(`no network fault implementation for type '${type}'`);
    this.name = 'UnknownNetworkFaultError';
  }
}

export function networkFaultModule<T extends NetworkFaultType>(
  type: T,
): NetworkFaultModule<T> {
  const module = (
    MODULES as Record<string, NetworkFaultModule<any> | undefined>
  )[type];
  if (!module) {
    throw new UnknownNetworkFaultError(type);
  }
  return module;
}

/** Routes a network fault to its module and plans it. */
export function planNetworkFault(
  fault: NetworkFault,
  context: PlanContext,
): NetworkFaultPlan {
  const module = networkFaultModule(fault.type) as NetworkFaultModule<
    typeof fault.type
  >;
  return module.plan(fault as FaultOfType<typeof fault.type>, context);
}

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
  NetworkFaultPlan,
  NetworkFaultPlanner,
  NetworkFaultType,
  PlanContext,
} from './types';

/** Every network fault's planner, by type: the one thing each network fault adds. */
export const NETWORK_FAULT_PLANNERS: {
  [T in NetworkFaultType]: NetworkFaultPlanner<T>;
} = {
  'network-latency': networkLatency,
  'network-loss': networkLoss,
  'network-duplicate': networkDuplicate,
  'network-corrupt': networkCorrupt,
  'network-bandwidth': networkBandwidth,
  'network-partition': networkPartition,
};

/** Routes a network fault to its planner and plans it. */
export function planNetworkFault(
  fault: NetworkFault,
  context: PlanContext,
): NetworkFaultPlan {
  const planner = NETWORK_FAULT_PLANNERS[fault.type] as NetworkFaultPlanner<
    typeof fault.type
  >;
  return planner.plan(fault as FaultOfType<typeof fault.type>, context);
}

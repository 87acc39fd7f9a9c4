import type {
  FaultOfType,
  NetworkFault,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { buildTcTree } from './tc';
import { NetworkFaultPlanner, NetworkFaultType, netemRequired } from './types';

/**
 * A fault that is one netem qdisc and nothing else (duplicate, corrupt): without netem there is
 * no honest fallback, so such a fault fails with NetemUnavailable instead.
 */
export function netemOnlyFault<T extends NetworkFaultType>(
  type: T,
  netemArgs: (fault: FaultOfType<T>) => string[],
): NetworkFaultPlanner<T> {
  return {
    type,
    plan(fault, { names, capabilities }) {
      // Every T is a network fault, so the scope fields are there.
      const { device, destinations }: NetworkFault = fault;
      if (!capabilities.netem) {
        throw netemRequired(type);
      }
      const tree = buildTcTree(
        device,
        { root: names.tcRoot, leaf: names.tcLeaf },
        ['netem', ...netemArgs(fault)],
        destinations,
      );
      return { objects: [tree], notes: [] };
    },
  };
}

import { buildDropChain, Direction } from './iptables';
import { NetworkFaultPlanner } from './types';

/**
 * DROP to and/or from the destinations in chains of our own. DROP rather than REJECT: a real
 * partition is silence, and clients should meet their timeouts, not a fast refusal.
 */
export const networkPartition: NetworkFaultPlanner<'network-partition'> = {
  type: 'network-partition',
  plan(fault, { names, capabilities }) {
    const directions: Direction[] =
      fault.direction === 'both' ? ['egress', 'ingress'] : [fault.direction];
    return {
      objects: directions.map(direction =>
        buildDropChain({
          binary: capabilities.iptables,
          chainPrefix: names.chain,
          direction,
          device: fault.device,
          destinations: fault.destinations,
        }),
      ),
      notes: [],
    };
  },
};

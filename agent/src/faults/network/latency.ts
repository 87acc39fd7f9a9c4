import { buildTcTree } from './tc';
import { NetworkFaultPlanner, netemRequired, percent } from './types';

/** netem delay, with jitter and correlation, confined to the destinations by an htb tree. */
export const networkLatency: NetworkFaultPlanner<'network-latency'> = {
  type: 'network-latency',
  plan(fault, { names, capabilities }) {
    if (!capabilities.netem) {
      throw netemRequired(fault.type);
    }
    const delay = ['delay', `${fault.latencyMs}ms`];
    if (fault.jitterMs > 0) {
      delay.push(`${fault.jitterMs}ms`);
      if (fault.correlationPercent > 0) {
        delay.push(percent(fault.correlationPercent));
      }
    }
    const tree = buildTcTree(
      fault.device,
      { root: names.tcRoot, leaf: names.tcLeaf },
      ['netem', ...delay],
      fault.destinations,
    );
    return { objects: [tree], notes: [] };
  },
};

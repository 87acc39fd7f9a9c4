import { buildDropChain } from './iptables';
import { buildTcTree } from './tc';
import { NetworkFaultPlanner, percent } from './types';

/**
 * netem loss where the kernel has netem; otherwise iptables' statistic match drops the same
 * share of egress packets. The fallback has no correlation (each packet is an independent draw),
 * and the target record says which one was used.
 */
export const networkLoss: NetworkFaultPlanner<'network-loss'> = {
  type: 'network-loss',
  plan(fault, { names, capabilities }) {
    if (capabilities.netem) {
      const loss = ['loss', percent(fault.lossPercent)];
      if (fault.correlationPercent > 0) {
        loss.push(percent(fault.correlationPercent));
      }
      const tree = buildTcTree(
        fault.device,
        { root: names.tcRoot, leaf: names.tcLeaf },
        ['netem', ...loss],
        fault.destinations,
      );
      return { objects: [tree], notes: [] };
    }
    const probability = Number((fault.lossPercent / 100).toFixed(6)).toString();
    const chain = buildDropChain({
      binary: capabilities.iptables,
      chainPrefix: names.chain,
      direction: 'egress',
      device: fault.device,
      destinations: fault.destinations,
      extraMatch: [
        '-m',
        'statistic',
        '--mode',
        'random',
        '--probability',
        probability,
      ],
    });
    const notes = ['netem unavailable: loss via iptables statistic'];
    if (fault.correlationPercent > 0) {
      notes.push('correlation is ignored by the iptables fallback');
    }
    return { objects: [chain], notes };
  },
};

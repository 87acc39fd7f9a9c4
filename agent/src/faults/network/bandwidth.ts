import { buildTcTree } from './tc';
import { NetworkFaultPlanner } from './types';

const MTU_FRAME = 1514;

/**
 * Token bucket defaults when the fault leaves them open. The bucket must hold a few frames and
 * at least one timer tick of traffic (rate/100 covers HZ=100 kernels). The queue holds 200 ms
 * at the rate: measured at 1 Mbit/s between namespaces, 100 ms queues made TCP stall on tail
 * drops (goodput 84-97% of the rate), 200 ms kept it at 99%, and it stays far from bufferbloat.
 */
export function tbfSizes(
  rateKbit: number,
  burstBytes?: number,
  limitBytes?: number,
) {
  const bytesPerSecond = (rateKbit * 1000) / 8;
  const burst =
    burstBytes ?? Math.max(2 * MTU_FRAME, Math.ceil(bytesPerSecond / 100));
  const limit =
    limitBytes ??
    Math.max(burst + Math.ceil(bytesPerSecond / 5), 3 * MTU_FRAME);
  return { burst, limit };
}

/** tbf below the chaos class of an htb tree: the destinations get at most rateKbit. */
export const networkBandwidth: NetworkFaultPlanner<'network-bandwidth'> = {
  type: 'network-bandwidth',
  plan(fault, { names }) {
    const { burst, limit } = tbfSizes(
      fault.rateKbit,
      fault.burstBytes,
      fault.limitBytes,
    );
    const tree = buildTcTree(
      fault.device,
      { root: names.tcRoot, leaf: names.tcLeaf },
      [
        'tbf',
        'rate',
        `${fault.rateKbit}kbit`,
        'burst',
        String(burst),
        'limit',
        String(limit),
      ],
      fault.destinations,
    );
    return { objects: [tree], notes: [] };
  },
};

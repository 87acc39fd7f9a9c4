import { buildTcTree } from './tc';
import { NetworkFaultModule, netemRequired, percent } from './types';

/** netem corrupt (single bit errors); there is no honest fallback without netem. */
export const networkCorrupt: NetworkFaultModule<'network-corrupt'> = {
  type: 'network-corrupt',
  plan(fault, { names, capabilities }) {
    if (!capabilities.netem) {
      throw netemRequired(fault.type);
    }
    const tree = buildTcTree(
      fault.device,
      { root: names.tcRoot, leaf: names.tcLeaf },
      ['netem', 'corrupt', percent(fault.corruptPercent)],
      fault.destinations,
    );
    return { objects: [tree], notes: [] };
  },
};

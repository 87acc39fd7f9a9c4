import { buildTcTree } from './tc';
import { NetworkFaultModule, netemRequired, percent } from './types';

/** netem duplicate; there is no honest fallback without netem. */
export const networkDuplicate: NetworkFaultModule<'network-duplicate'> = {
  type: 'network-duplicate',
  plan(fault, { names, capabilities }) {
    if (!capabilities.netem) {
      throw netemRequired(fault.type);
    }
    const tree = buildTcTree(
      fault.device,
      { root: names.tcRoot, leaf: names.tcLeaf },
      ['netem', 'duplicate', percent(fault.duplicatePercent)],
      fault.destinations,
    );
    return { objects: [tree], notes: [] };
  },
};

import type { Fault } from '@chaoscraft/backstage-plugin-chaos-common';
import type { FaultExecutor } from '../faults';
import type { NodeCapabilities } from '../faults/network/types';
import type { NodeDaemonPresence } from '../kube/nodeDaemonLease';
import type { Refusal } from './preflight';

export interface NodeDaemonCheckInput {
  faults: readonly Fault[];
  /** The nodes of the targets a run is about to act on. */
  nodes: readonly (string | undefined)[];
  presence: ReadonlyMap<string, NodeDaemonPresence>;
  executorOf(type: string): FaultExecutor | undefined;
  /** Why a node cannot run a fault with these capabilities, or undefined when it can. */
  unsupportedOn(
    fault: Fault,
    capabilities: NodeCapabilities,
  ): string | undefined;
}

function list(items: readonly string[]): string {
  return items.length <= 5
    ? items.join(', ')
    : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`;
}

/**
 * Node faults need a live node daemon on every target's node, able to run them there. Refused
 * at preflight with the nodes named, instead of a run that says "faults applied" while its
 * targets wait for a daemon that is not there.
 */
export function checkNodeDaemons(
  input: NodeDaemonCheckInput,
): Refusal | undefined {
  const nodeFaults = input.faults.filter(
    fault => input.executorOf(fault.type) === 'node',
  );
  if (nodeFaults.length === 0) return undefined;
  const nodes = [...new Set(input.nodes.map(node => node ?? ''))].sort();
  const missing = nodes.filter(node => !input.presence.get(node)?.fresh);
  if (missing.length > 0) {
    const described = missing.map(node => {
      const seen = input.presence.get(node);
      if (!node) return 'pods not yet scheduled to a node';
      return seen
        ? `${node} (last heartbeat ${Math.round(seen.ageSeconds)} s ago)`
        : node;
    });
    return {
      reason: 'NodeDaemonUnavailable',
      message: `${nodeFaults
        .map(f => f.type)
        .join(
          ', ',
        )} needs the ChaosCraft node daemon on each target's node, and none is running on ${list(
        described,
      )}: install the chart's node DaemonSet there (node.enabled), or target other pods`,
    };
  }
  for (const fault of nodeFaults) {
    const unable = nodes.flatMap(node => {
      const capabilities = input.presence.get(node)?.capabilities;
      const why = capabilities && input.unsupportedOn(fault, capabilities);
      return why ? [`${node}: ${why}`] : [];
    });
    if (unable.length > 0) {
      return {
        reason: 'NodeCapabilityMissing',
        message: `${fault.type} cannot run on ${list(unable)}`,
      };
    }
  }
  return undefined;
}

import { createHash } from 'node:crypto';
import type { V1Lease } from '@kubernetes/client-node';
import type { NodeCapabilities } from '../faults/network/types';

/**
 * How a node daemon tells the controller it is there: a coordination.k8s.io Lease per node in
 * the agent's namespace, renewed while the daemon runs and deleted when it stops. Preflight
 * refuses a node fault on a node without a fresh one, rather than recording "faults applied" and
 * waiting for a daemon that does not exist.
 */
export const NODE_DAEMON_LABEL = 'chaoscraft.io/node-daemon';
export const NODE_NAME_LABEL = 'chaoscraft.io/node';
/** JSON of what the node offers node faults (NodeCapabilities). */
export const CAPABILITIES_ANNOTATION = 'chaoscraft.io/capabilities';
/** Renewed this often; a lease older than its duration (3 renewals) means the daemon is gone. */
export const NODE_LEASE_RENEW_MS = 10_000;
export const NODE_LEASE_DURATION_S = 30;

/** The Lease name for a node: readable, and within the 253-character limit for any node name. */
export function nodeLeaseName(nodeName: string): string {
  const name = `chaoscraft-node-${nodeName}`;
  if (name.length <= 253) return name;
  const digest = createHash('sha256')
    .update(nodeName)
    .digest('hex')
    .slice(0, 10);
  return `${name.slice(0, 242)}-${digest}`;
}

/** A node daemon as its lease shows it. */
export interface NodeDaemonPresence {
  node: string;
  /** Renewed within the lease's duration at `now`. */
  fresh: boolean;
  /** Age of the last renewal, in seconds. */
  ageSeconds: number;
  capabilities?: NodeCapabilities;
}

/** Reads the daemons' leases (as listed with NODE_DAEMON_LABEL) at a point in time. */
export function nodeDaemonPresence(
  leases: V1Lease[],
  nowMs: number,
): Map<string, NodeDaemonPresence> {
  const byNode = new Map<string, NodeDaemonPresence>();
  for (const lease of leases) {
    const node =
      lease.metadata?.labels?.[NODE_NAME_LABEL] ?? lease.spec?.holderIdentity;
    if (!node) continue;
    const renewed = lease.spec?.renewTime ?? lease.spec?.acquireTime;
    const renewedMs = renewed
      ? new Date(renewed as unknown as string).getTime()
      : NaN;
    const ageSeconds = Number.isFinite(renewedMs)
      ? Math.max(0, (nowMs - renewedMs) / 1000)
      : Infinity;
    const duration = lease.spec?.leaseDurationSeconds ?? NODE_LEASE_DURATION_S;
    let capabilities: NodeCapabilities | undefined;
    try {
      const raw = lease.metadata?.annotations?.[CAPABILITIES_ANNOTATION];
      capabilities = raw ? (JSON.parse(raw) as NodeCapabilities) : undefined;
    } catch {
      capabilities = undefined;
    }
    byNode.set(node, {
      node,
      fresh: ageSeconds <= duration,
      ageSeconds,
      capabilities,
    });
  }
  return byNode;
}

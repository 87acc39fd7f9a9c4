import { createHash } from 'node:crypto';

export { targetKey } from '../../node/Ledger';
export type { TargetIdentity } from '../../node/Ledger';

/** Names of the kernel objects one target may own, all derived from its key. */
export interface ObjectNames {
  /** Prefix of this target's iptables chains (`-E` egress, `-I` ingress are appended). */
  chain: string;
  /** Major handle of the htb root qdisc. */
  tcRoot: number;
  /** Major handle of the netem/tbf qdisc below the chaos class. */
  tcLeaf: number;
}

/**
 * Derives names from a hash of the target key: the same target always gets the same names (a
 * restarted daemon recomputes them), and two targets practically never share one. A clash is
 * still caught: the kernel refuses a second root qdisc or an existing chain, and the target
 * fails instead of touching someone else's objects.
 */
export function objectNames(key: string): ObjectNames {
  const digest = createHash('sha256').update(key).digest();
  // Majors 0x1000..0xfffe: clear of the small numbers people and CNIs use by hand (1:, 10:).
  const tcRoot = 0x1000 + (digest.readUInt16BE(0) % (0xfffe - 0x1000));
  const tcLeaf = tcRoot === 0xfffe ? 0x1000 : tcRoot + 1;
  return {
    chain: `CHAOS-${digest.subarray(2, 7).toString('hex').toUpperCase()}`,
    tcRoot,
    tcLeaf,
  };
}

export function tcHandle(major: number): string {
  return `${major.toString(16)}:`;
}

/**
 * Test hook for crash safety: when CHAOSCRAFT_NODE_CRASH_POINT names a point, the daemon kills
 * itself with SIGKILL there (no cleanup, no flushing: the worst a node can do to it). Points, in
 * the order injection reaches them:
 *
 *   after-ledger-intent    the ledger holds the intent; nothing added yet
 *   after-tc-root-qdisc    the htb root qdisc is added; classes, leaf and filters are not
 *   after-iptables-chain   our chain and its rules exist; the jumps into it do not
 *   after-apply            every object is added; the ledger's "applied" line is not written
 *   after-injected-status  everything done, the record says Injected
 *
 * Unset (always, outside tests) this is a no-op.
 */
export const CRASH_POINT_ENV = 'CHAOSCRAFT_NODE_CRASH_POINT';

export type CrashPoint =
  | 'after-ledger-intent'
  | 'after-tc-root-qdisc'
  | 'after-iptables-chain'
  | 'after-apply'
  | 'after-injected-status';

export function crashPoint(point: CrashPoint): void {
  if (process.env[CRASH_POINT_ENV] === point) {
    process.stderr.write(`chaoscraft-node: crash point ${point}: SIGKILL\n`);
    process.kill(process.pid, 'SIGKILL');
    // Never take another step, should the signal be a moment late.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
  }
}

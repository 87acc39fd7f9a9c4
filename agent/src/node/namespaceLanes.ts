import type { LedgerEntry } from './Ledger';

/**
 * How many network namespaces a daemon reverts in at once, at start-up (the janitor) and when a
 * run ends. Each revert is a few short tc / iptables processes (nsenter) and an fsynced ledger
 * line, mostly waiting, so a handful in flight keeps two cores busy without a burst of 50
 * processes at once.
 */
export const REVERT_CONCURRENCY = 8;

/** One piece of work on one ledger entry. */
export interface LaneStep {
  entry: LedgerEntry;
  run(): Promise<void>;
}

/** The namespace an entry's objects live in; without one (stress), its pod. */
function laneOf(entry: LedgerEntry): string {
  return (
    entry.netns?.path ?? `pod:${entry.target.podNamespace}/${entry.target.pod}`
  );
}

/**
 * Runs the steps with at most `limit` namespaces in flight; the steps of one namespace (or,
 * without one, of one pod) run one after the other, in the order given, so the objects in one
 * namespace are never changed by two commands at a time.
 * Hand-written rather than a pool library: a dozen lines, and the one rule that matters here
 * (one namespace, one step at a time) is not what pools offer.
 */
export async function runInNamespaceLanes(
  steps: LaneStep[],
  limit = REVERT_CONCURRENCY,
): Promise<void> {
  const lanes = new Map<string, LaneStep[]>();
  for (const step of steps) {
    const lane = laneOf(step.entry);
    lanes.set(lane, [...(lanes.get(lane) ?? []), step]);
  }
  const queue = [...lanes.values()];
  await Promise.all(
    Array.from(
      { length: Math.max(1, Math.min(limit, queue.length)) },
      async () => {
        for (let lane = queue.shift(); lane; lane = queue.shift()) {
          for (const step of lane) await step.run();
        }
      },
    ),
  );
}

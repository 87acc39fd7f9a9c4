import type {
  ChaosRunResource,
  RecordUpdate,
} from '@chaoscraft/backstage-plugin-chaos-node';
import type { Ledger, LedgerEntry, LedgerRun } from './Ledger';
import { recoveredUpdate } from './recordUpdates';
import type { RunAssessment } from './runAssessment';

/** A run read fresh from the API server: ok:false when it could not be read (not for 404). */
export type FreshRun =
  | { ok: true; run?: ChaosRunResource }
  | { ok: false; message: string };

/** What the janitor needs from the daemon it runs in. */
export interface JanitorDeps {
  ledger: Ledger;
  readRun(ref: LedgerRun): Promise<FreshRun>;
  assess(run: ChaosRunResource | undefined): RunAssessment;
  /** Recovers one held fault; false when removing it failed (it stays held, retried later). */
  recoverEntry(
    entry: LedgerEntry,
    reason: string,
    message: string,
  ): Promise<boolean>;
  writeRecords(run: ChaosRunResource, updates: RecordUpdate[]): Promise<void>;
}

/**
 * How many network namespaces the janitor reverts in at once. Each revert is a few short tc /
 * iptables processes (nsenter) and an fsynced ledger line, mostly waiting, so a handful in flight
 * keeps two cores busy without a burst of 50 processes at once.
 */
export const JANITOR_CONCURRENCY = 8;

/**
 * Start-up: whatever the ledger holds for a run that is no longer live (deleted, terminal,
 * rolling back, heartbeat stale, or not confirmable because the API server is unreachable) is
 * reverted, and so is every partial injection; fully applied faults of live runs stay.
 *
 * Reverts run in up to `concurrency` network namespaces at once; the entries of one namespace
 * (or, without one, of one pod) run one after the other, in ledger order, so the objects in one
 * namespace are never removed by two commands at a time. Each run's records are then written
 * once, with every recovered target of that run, rather than one status write per target.
 */
export async function runJanitor(
  deps: JanitorDeps,
  concurrency = JANITOR_CONCURRENCY,
): Promise<void> {
  const byRun = new Map<string, LedgerEntry[]>();
  for (const entry of deps.ledger.entries()) {
    byRun.set(entry.run.uid, [...(byRun.get(entry.run.uid) ?? []), entry]);
  }
  const runs = await Promise.all(
    [...byRun.values()].map(async entries => {
      const fresh = await deps.readRun(entries[0].run);
      const assessment: RunAssessment = fresh.ok
        ? deps.assess(fresh.run)
        : { inject: false, reason: 'HeartbeatLost', message: fresh.message };
      return { entries, fresh, assessment, updates: [] as RecordUpdate[] };
    }),
  );
  const work: Step[] = [];
  for (const run of runs) {
    const { fresh, assessment } = run;
    for (const entry of run.entries) {
      if (assessment.inject && entry.appliedAt) continue;
      const why = assessment.inject
        ? {
            reason: 'PartialInjection',
            message: 'reverting an injection a crash interrupted',
          }
        : assessment;
      work.push({
        entry,
        run: async () => {
          const recovered = await deps.recoverEntry(
            entry,
            why.reason,
            why.message,
          );
          if (recovered && !assessment.inject && fresh.ok && fresh.run) {
            const { pod, podUid, fault } = entry.target;
            run.updates.push(
              recoveredUpdate(
                { pod, uid: podUid, fault },
                why.reason,
                `janitor: ${why.message}`,
              ),
            );
          }
        },
      });
    }
  }
  await runPerNamespace(work, concurrency);
  for (const run of runs) {
    if (run.fresh.ok && run.fresh.run && run.updates.length > 0) {
      await deps.writeRecords(run.fresh.run, run.updates);
    }
  }
  await deps.ledger.compact();
}

/** The namespace an entry's objects live in; without one (stress), its pod. */
function laneOf(entry: LedgerEntry): string {
  return (
    entry.netns?.path ?? `pod:${entry.target.podNamespace}/${entry.target.pod}`
  );
}

interface Step {
  entry: LedgerEntry;
  run(): Promise<void>;
}

/**
 * Runs the steps with at most `limit` namespaces in flight, each namespace's steps in order.
 * Hand-written rather than a pool library: a dozen lines, and the one rule that matters here
 * (one namespace, one step at a time) is not what pools offer.
 */
async function runPerNamespace(steps: Step[], limit: number): Promise<void> {
  const lanes = new Map<string, Step[]>();
  for (const step of steps)
    lanes.set(laneOf(step.entry), [
      ...(lanes.get(laneOf(step.entry)) ?? []),
      step,
    ]);
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

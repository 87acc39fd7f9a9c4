import type {
  ChaosRunResource,
  RecordUpdate,
} from '@chaoscraft/backstage-plugin-chaos-node';
import type { Ledger, LedgerEntry, LedgerRun } from './Ledger';
import {
  LaneStep,
  REVERT_CONCURRENCY,
  runInNamespaceLanes,
} from './namespaceLanes';
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
 * Start-up: whatever the ledger holds for a run that is no longer live (deleted, terminal,
 * rolling back, heartbeat stale, or not confirmable because the API server is unreachable) is
 * reverted, and so is every partial injection; fully applied faults of live runs stay.
 *
 * Reverts run in up to `concurrency` network namespaces at once (runInNamespaceLanes). Each
 * run's records are then written once, with every recovered target of that run, rather than one
 * status write per target.
 */
export async function runJanitor(
  deps: JanitorDeps,
  concurrency = REVERT_CONCURRENCY,
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
  const work: LaneStep[] = [];
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
  await runInNamespaceLanes(work, concurrency);
  for (const run of runs) {
    if (run.fresh.ok && run.fresh.run && run.updates.length > 0) {
      await deps.writeRecords(run.fresh.run, run.updates);
    }
  }
  await deps.ledger.compact();
}

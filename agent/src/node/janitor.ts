import type { ChaosRunResource, RecordUpdate } from '@chaoscraft/backstage-plugin-chaos-node';
import type { Ledger, LedgerEntry, LedgerRun } from './Ledger';
import { recoveredUpdate } from './recordUpdates';
import type { RunAssessment } from './runAssessment';

/** A run read fresh from the API server: ok:false when it could not be read (not for 404). */
export type FreshRun = { ok: true; run?: ChaosRunResource } | { ok: false; message: string };

/** What the janitor needs from the daemon it runs in. */
export interface JanitorDeps {
  ledger: Ledger;
  readRun(ref: LedgerRun): Promise<FreshRun>;
  assess(run: ChaosRunResource | undefined): RunAssessment;
  /** Recovers one held fault; false when removing it failed (it stays held, retried later). */
  recoverEntry(entry: LedgerEntry, reason: string, message: string): Promise<boolean>;
  writeRecords(run: ChaosRunResource, updates: RecordUpdate[]): Promise<void>;
}

/**
 * Start-up: whatever the ledger holds for a run that is no longer live (deleted, terminal,
 * rolling back, heartbeat stale, or not confirmable because the API server is unreachable) is
 * reverted, and so is every partial injection; fully applied faults of live runs stay.
 */
export async function runJanitor(deps: JanitorDeps): Promise<void> {
  const byRun = new Map<string, LedgerEntry[]>();
  for (const entry of deps.ledger.entries()) {
    byRun.set(entry.run.uid, [...(byRun.get(entry.run.uid) ?? []), entry]);
  }
  for (const entries of byRun.values()) {
    const fresh = await deps.readRun(entries[0].run);
    const assessment: RunAssessment = fresh.ok
      ? deps.assess(fresh.run)
      : { inject: false, reason: 'HeartbeatLost', message: fresh.message };
    for (const entry of entries) {
      if (assessment.inject && entry.appliedAt) continue;
      const why = assessment.inject
        ? { reason: 'PartialInjection', message: 'reverting an injection a crash interrupted' }
        : assessment;
      const recovered = await deps.recoverEntry(entry, why.reason, why.message);
      if (recovered && !assessment.inject && fresh.ok && fresh.run) {
        const { pod, podUid, fault } = entry.target;
        await deps.writeRecords(fresh.run, [recoveredUpdate({ pod, uid: podUid, fault }, why.reason, `janitor: ${why.message}`)]);
      }
    }
  }
  await deps.ledger.compact();
}

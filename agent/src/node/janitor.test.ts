import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  ChaosRunResource,
  RecordUpdate,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { FreshRun, JanitorDeps, runJanitor } from './janitor';
import { Ledger, LedgerEntry, LedgerRun, readLedgerFile } from './Ledger';
import type { RunAssessment } from './runAssessment';

/**
 * The janitor's scheduling and bookkeeping, on a real ledger file; the kernel side (tc, iptables
 * in real namespaces after a real SIGKILL) is nodeDaemon.test.ts's and bench-revert's.
 */
describe('runJanitor', () => {
  let dir: string;
  let ledger: Ledger;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cc-janitor-'));
    ledger = (await Ledger.open(path.join(dir, 'ledger.jsonl'))).ledger;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const runRef = (uid: string): LedgerRun => ({
    uid,
    name: `run-${uid}`,
    namespace: 'ns',
  });
  const resource = (ref: LedgerRun): ChaosRunResource => ({
    metadata: { name: ref.name, namespace: ref.namespace, uid: ref.uid },
    spec: {},
  });

  let serial = 0;
  async function hold(
    ref: LedgerRun,
    pod: string,
    netns: string,
    applied = true,
  ): Promise<LedgerEntry> {
    const entry: LedgerEntry = {
      id: `e${++serial}`,
      key: `${ref.uid}/ns/${pod}/network-loss/${serial}`,
      run: ref,
      target: { podNamespace: 'ns', pod, fault: 'network-loss' },
      netns: { path: netns },
      objects: [],
      notes: [],
      intentAt: '2030-01-01T00:00:00Z',
    };
    await ledger.recordIntent(entry);
    if (applied) await ledger.recordApplied(entry.id);
    return entry;
  }

  /** Deps whose recovery takes a few ms and records what ran when. */
  function deps(
    assessments: Record<string, RunAssessment | 'unreadable'>,
    fail: Set<string> = new Set(),
  ) {
    const events: Array<{ id: string; netns: string; at: 'start' | 'end' }> =
      [];
    const writes: Array<{ run: string; updates: RecordUpdate[] }> = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const d: JanitorDeps = {
      ledger,
      readRun: async (ref): Promise<FreshRun> =>
        assessments[ref.uid] === 'unreadable'
          ? { ok: false, message: 'unreachable' }
          : { ok: true, run: resource(ref) },
      assess: run => assessments[run!.metadata.uid!] as RunAssessment,
      recoverEntry: async entry => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        events.push({ id: entry.id, netns: entry.netns!.path, at: 'start' });
        await new Promise(resolve => setTimeout(resolve, 5));
        events.push({ id: entry.id, netns: entry.netns!.path, at: 'end' });
        inFlight--;
        if (fail.has(entry.id)) return false;
        await ledger.recordDone(entry.id, 'removed');
        return true;
      },
      writeRecords: async (run, updates) => {
        writes.push({ run: run.metadata.uid!, updates });
      },
    };
    return { d, events, writes, maxInFlight: () => maxInFlight };
  }

  const finished: RunAssessment = {
    inject: false,
    reason: 'Aborted',
    message: 'aborted',
  };

  it('reverts in several namespaces at once, one namespace at a time, and writes each run once', async () => {
    const a = runRef('a');
    const held: LedgerEntry[] = [];
    for (let i = 0; i < 20; i++)
      held.push(await hold(a, `pod-${i}`, `/ns/${i}`));
    // Two faults in one namespace: never removed at the same time, and in ledger order.
    const shared = [
      await hold(a, 'pod-x', '/ns/shared'),
      await hold(a, 'pod-x2', '/ns/shared'),
    ];
    const failing = await hold(a, 'pod-f', '/ns/f');
    const { d, events, writes, maxInFlight } = deps(
      { a: finished },
      new Set([failing.id]),
    );

    await runJanitor(d, 4);

    expect(maxInFlight()).toBeGreaterThan(1);
    expect(maxInFlight()).toBeLessThanOrEqual(4);
    const sharedEvents = events
      .filter(e => e.netns === '/ns/shared')
      .map(e => `${e.id}:${e.at}`);
    expect(sharedEvents).toEqual([
      `${shared[0].id}:start`,
      `${shared[0].id}:end`,
      `${shared[1].id}:start`,
      `${shared[1].id}:end`,
    ]);
    expect(writes).toHaveLength(1);
    expect(writes[0].run).toBe('a');
    expect(writes[0].updates.map(u => u.pod).sort()).toEqual(
      [...held.map(e => e.target.pod), 'pod-x', 'pod-x2'].sort(),
    );
    expect(
      writes[0].updates.every(
        u => u.phase === 'Recovered' && u.reason === 'Aborted',
      ),
    ).toBe(true);
    // The failed one stays held, on disk too, for the daemon to retry.
    expect(ledger.entries().map(e => e.id)).toEqual([failing.id]);
    expect((await readLedgerFile(ledger.file)).held.map(e => e.id)).toEqual([
      failing.id,
    ]);
  });

  it('keeps applied faults of a live run, reverts its partial ones and any of a run it cannot read, writing no records for them', async () => {
    const live = runRef('live');
    const lost = runRef('lost');
    const kept = await hold(live, 'p1', '/ns/1');
    const partial = await hold(live, 'p2', '/ns/2', false);
    const unread = await hold(lost, 'p3', '/ns/3');
    const { d, events, writes } = deps({
      live: { inject: true },
      lost: 'unreadable',
    });

    await runJanitor(d);

    expect(new Set(events.map(e => e.id))).toEqual(
      new Set([partial.id, unread.id]),
    );
    expect(writes).toEqual([]);
    expect(ledger.entries().map(e => e.id)).toEqual([kept.id]);
  });
});

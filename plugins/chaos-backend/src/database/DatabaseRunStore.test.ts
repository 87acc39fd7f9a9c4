import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { ManualClock } from '../__testUtils__/manualClock';
import { DatabaseExperimentStore } from './DatabaseExperimentStore';
import { DatabaseRunStore, TARGET_UPSERT_ROWS } from './DatabaseRunStore';
import { decodeRunCursor } from './runCursor';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });
// The stores read this clock (runs record Pending at its time); the agent's status times are
// seconds after it. Nothing here depends on today's date.
const T0 = Date.parse('2031-03-04T05:06:07.250Z');
const t = (s: number): string => new Date(T0 + s * 1000).toISOString();
const refOf = (run: { id: string }, uid?: string) => ({
  id: run.id,
  cluster: 'sandbox',
  namespace: 'shop',
  resourceName: 'kill-abc',
  uid,
});

describe.each(databases.eachSupportedId())(
  'DatabaseRunStore on %s',
  databaseId => {
    async function setup() {
      const knex = await databases.init(databaseId);
      const database = mockServices.database({
        knex,
        migrations: { skip: false },
      });
      const clock = new ManualClock(new Date(T0));
      const experiments = await DatabaseExperimentStore.create({
        database,
        clock,
      });
      const runs = await DatabaseRunStore.create({ database, clock });
      const experiment = await experiments.create(
        {
          name: 'kill',
          entityRef: 'component:default/checkout',
          description: '',
          duration: '60s',
          target: {
            namespace: 'shop',
            labelSelector: { app: 'checkout' },
            selection: { mode: 'one' },
          },
          faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
          safety: {
            maxBlastRadiusPercent: 10,
            respectPodDisruptionBudgets: true,
          },
        },
        'user:default/alice',
      );
      /** Records another run of the experiment (or of another entity's). */
      const record = (
        entityRef = experiment.entityRef,
        resourceName = 'kill',
      ) =>
        runs.create({
          id: randomUUID(),
          experimentId: experiment.id,
          experimentName: experiment.name,
          entityRef,
          cluster: 'sandbox',
          namespace: 'shop',
          resourceName,
          dryRun: false,
          createdBy: 'user:default/alice',
          spec: {},
        });
      const run = await record(experiment.entityRef, 'kill-abc');
      return { knex, runs, experiments, experiment, run, clock, record };
    }

    const running = {
      phase: 'Running' as const,
      blastRadius: { selected: 1, eligible: 10, percent: 10, limit: 10 },
      targets: [
        {
          pod: 'checkout-1',
          node: 'kwok-node-0',
          fault: 'pod-kill' as const,
          phase: 'Injected' as const,
          events: [],
        },
      ],
      phaseTransitions: [
        { phase: 'Preflight' as const, time: t(1) },
        { phase: 'Injecting' as const, time: t(2) },
        { phase: 'Running' as const, time: t(3) },
      ],
    };
    const completed = {
      ...running,
      phase: 'Completed' as const,
      verdict: 'Passed' as const,
      reason: 'DurationElapsed',
      finishedAt: t(9),
      targets: [{ ...running.targets[0], phase: 'Recovered' as const }],
      phaseTransitions: [
        ...running.phaseTransitions,
        { phase: 'Completed' as const, time: t(9) },
      ],
    };

    it('mirrors status idempotently: replays and restarts record nothing twice', async () => {
      const { runs, run } = await setup();
      expect((await runs.listLive()).map(r => r.id)).toEqual([run.id]);

      await runs.applyStatus(refOf(run), running, '10');
      await runs.applyStatus(refOf(run), running, '10');
      await runs.applyStatus(refOf(run), completed, '12');
      await runs.applyStatus(refOf(run), completed, '12');
      // A stale event after completion changes nothing.
      await runs.applyStatus(refOf(run), running, '10');

      const detail = (await runs.get(run.id))!;
      expect(detail).toMatchObject({
        phase: 'Completed',
        verdict: 'Passed',
        blastRadius: { selected: 1, eligible: 10 },
      });
      expect(detail.timeline.map(e => e.phase)).toEqual([
        'Pending',
        'Preflight',
        'Injecting',
        'Running',
        'Completed',
      ]);
      expect(detail.targets).toEqual([
        expect.objectContaining({ pod: 'checkout-1', phase: 'Recovered' }),
      ]);
      expect(await runs.listLive()).toEqual([]);
    });

    it('mirrors a status of more targets than one upsert takes, a record listed twice keeping its last', async () => {
      const { runs, run } = await setup();
      const count = TARGET_UPSERT_ROWS * 2 + 1;
      const targets = Array.from({ length: count }, (_, i) => ({
        ...running.targets[0],
        pod: `checkout-${String(i).padStart(4, '0')}`,
        phase: 'Selected' as const,
      }));
      await runs.applyStatus(refOf(run), { ...running, targets }, '10');
      // The next write moves every record on, and lists the first pod twice: the last one counts.
      const injected = targets.map(target => ({
        ...target,
        phase: 'Injected' as const,
        injectedAt: t(4),
      }));
      await runs.applyStatus(
        refOf(run),
        {
          ...running,
          targets: [
            { ...injected[0], phase: 'Failed' as const, injectedAt: undefined },
            ...injected,
          ],
        },
        '11',
      );

      const detail = (await runs.get(run.id))!;
      expect(detail.targets).toHaveLength(count);
      expect(new Set(detail.targets.map(target => target.phase))).toEqual(
        new Set(['Injected']),
      );
      expect(detail.targets[count - 1]).toMatchObject({
        pod: `checkout-${String(count - 1).padStart(4, '0')}`,
        injectedAt: t(4),
      });
    });

    it('rewrites only the target records a status changed', async () => {
      const { knex, runs, run } = await setup();
      const targets = ['checkout-1', 'checkout-2', 'checkout-3'].map(pod => ({
        ...running.targets[0],
        pod,
        phase: 'Selected' as const,
      }));
      await runs.applyStatus(refOf(run), { ...running, targets }, '10');
      // What tells a rewritten row: on PostgreSQL each record's row version (xmin); on SQLite
      // the connection's count of rows changed, the run's own row among them.
      const isPostgres = databaseId.startsWith('POSTGRES');
      const writes = async (): Promise<string[] | number> =>
        isPostgres
          ? (
              await knex('chaos_run_targets')
                .where({ run_id: run.id })
                .select('pod', knex.raw('xmin::text as version'))
            ).map(row => `${row.pod}@${row.version}`)
          : Number((await knex.raw('select total_changes() as n'))[0].n);
      const before = await writes();

      // The same three records, one of them moved on.
      const next = targets.map((target, i) =>
        i === 1
          ? { ...target, phase: 'Injected' as const, injectedAt: t(4) }
          : target,
      );
      await runs.applyStatus(refOf(run), { ...running, targets: next }, '11');

      const after = await writes();
      const rewritten =
        Array.isArray(before) && Array.isArray(after)
          ? after
              .filter(version => !before.includes(version))
              .map(version => version.split('@')[0])
          : Number(after) - Number(before);
      // PostgreSQL: the one record that changed. SQLite: it and the run's row (no new timeline).
      expect(rewritten).toEqual(isPostgres ? ['checkout-2'] : 2);
      const detail = (await runs.get(run.id))!;
      expect(
        Object.fromEntries(detail.targets.map(x => [x.pod, x.phase])),
      ).toEqual({
        'checkout-1': 'Selected',
        'checkout-2': 'Injected',
        'checkout-3': 'Selected',
      });
    });

    it('orders the timeline by phase even when the cluster clock is behind the backend', async () => {
      const { runs, run } = await setup();
      const behind = (s: number) =>
        new Date(T0 - 3_600_000 + s * 1000).toISOString();
      await runs.applyStatus(refOf(run), {
        ...completed,
        phaseTransitions: completed.phaseTransitions.map((p, i) => ({
          ...p,
          time: behind(i),
        })),
      });
      const detail = (await runs.get(run.id))!;
      expect(detail.timeline.map(e => e.phase)).toEqual([
        'Pending',
        'Preflight',
        'Injecting',
        'Running',
        'Completed',
      ]);
      expect(detail.timeline[0].time).toBe(new Date(T0).toISOString());
    });

    it('keeps the steps a progressive run reached and its abort latency', async () => {
      const { runs, run } = await setup();
      const step = (
        index: number,
        selected: number,
        result: 'Passed' | 'Failed',
      ) => ({
        index,
        blastRadius: {
          selected,
          eligible: 10,
          percent: selected * 10,
          limit: 30,
        },
        startedAt: t(index * 3),
        injectedAt: t(index * 3 + 1),
        finishedAt: t(index * 3 + 3),
        result,
      });
      expect((await runs.get(run.id))!.steps).toEqual([]);
      expect((await runs.get(run.id))!.abortLatencyMs).toBeUndefined();

      await runs.applyStatus(
        refOf(run),
        { ...running, steps: [step(0, 1, 'Passed')] },
        '10',
      );
      await runs.applyStatus(
        refOf(run),
        {
          ...running,
          phase: 'Aborted',
          reason: 'ProgressiveStepFailed',
          steps: [step(0, 1, 'Passed'), step(1, 2, 'Failed')],
          abortLatencyMs: 85,
        },
        '12',
      );
      // A later status without them (e.g. the backend's own failure record) keeps what was seen.
      await runs.applyStatus(refOf(run), { phase: 'Aborted' }, '13');

      const detail = (await runs.get(run.id))!;
      expect(detail.steps).toEqual([
        step(0, 1, 'Passed'),
        step(1, 2, 'Failed'),
      ]);
      expect(detail.abortLatencyMs).toBe(85);
    });

    it('keeps runs when their experiment is deleted, and pages by entity', async () => {
      const { runs, experiments, experiment, run } = await setup();
      await experiments.delete(experiment.id);
      const page = await runs.list({
        entityRef: 'component:default/checkout',
        offset: 0,
        limit: 5,
      });
      expect(page.totalCount).toBe(1);
      expect(page.items[0]).toMatchObject({
        id: run.id,
        experimentId: '',
        experimentName: 'kill',
      });
    });

    it('pages by cursor in the order offsets give, ties on the creation time included, unmoved by newer runs', async () => {
      const { runs, experiment, run, clock, record } = await setup();
      const another = (at: number) => {
        clock.set(new Date(T0 + at));
        return record();
      };
      // Three runs share T0 (the setup's among them): the id orders them.
      for (const at of [0, 0, 1000, 2000, 2000, 5000]) await another(at);
      const entityRef = experiment.entityRef;
      // A page that holds exactly the rest has no next.
      const byOffset = await runs.list({ entityRef, offset: 0, limit: 7 });
      expect(byOffset.items).toHaveLength(7);
      expect(byOffset.nextCursor).toBeUndefined();
      expect(byOffset.items.map(r => r.id)).toContain(run.id);

      const walked: string[] = [];
      let page = await runs.list({ entityRef, offset: 0, limit: 2 });
      walked.push(...page.items.map(r => r.id));
      // A run started while someone pages: an offset page would shift by one, a cursor does not.
      await another(9000);
      while (page.nextCursor) {
        page = await runs.list({
          entityRef,
          offset: 0,
          limit: 2,
          after: decodeRunCursor(page.nextCursor),
        });
        expect(page.totalCount).toBe(8);
        walked.push(...page.items.map(r => r.id));
      }
      expect(walked).toEqual(byOffset.items.map(r => r.id));
      // Seven runs in pages of two: the last holds one.
      expect(page.items).toHaveLength(1);
      // A page past the end is empty and still counts every run (the count is read on its own).
      expect(await runs.list({ entityRef, offset: 8, limit: 2 })).toMatchObject(
        { items: [], totalCount: 8 },
      );
      // A list leaves the large columns out and still answers a whole summary.
      expect(byOffset.items[0]).not.toHaveProperty('spec');
      expect(Object.keys(byOffset.items[0])).toEqual(
        expect.arrayContaining(['createdAt', 'updatedAt', 'phase', 'dryRun']),
      );
    });

    it('counts the runs recorded before the per-entity counts existed, and every one after', async () => {
      const { knex, runs, record } = await setup();
      await record('component:default/payments');
      await record('component:default/payments');
      // This very migration, whatever later migrations exist; its backfill counts what is there.
      const directory = path.resolve(__dirname, '../../migrations');
      await knex.migrate.down({
        directory,
        name: '20261211000000_run_counts.js',
      });
      expect(await knex.schema.hasTable('chaos_run_counts')).toBe(false);
      await knex.migrate.latest({ directory });
      await record('component:default/payments');

      const total = async (options: {
        entityRef?: string;
        entityRefs?: string[];
      }) => (await runs.list({ ...options, offset: 0, limit: 1 })).totalCount;
      expect(await total({ entityRef: 'component:default/payments' })).toBe(3);
      expect(await total({ entityRef: 'component:default/checkout' })).toBe(1);
      expect(await total({ entityRef: 'component:default/none' })).toBe(0);
      expect(await total({})).toBe(4);
      expect(
        await total({
          entityRefs: ['component:default/checkout', 'component:default/none'],
        }),
      ).toBe(1);
      expect(await total({ entityRefs: [] })).toBe(0);
      expect((await runs.listEntityRefs()).sort()).toEqual([
        'component:default/checkout',
        'component:default/payments',
      ]);
    });

    it('fails a run the cluster lost, once', async () => {
      const { runs, run } = await setup();
      await runs.fail(run.id, 'ChaosRunNotFound', 'gone');
      await runs.applyStatus(refOf(run), running);
      expect(await runs.get(run.id)).toMatchObject({
        phase: 'Failed',
        reason: 'ChaosRunNotFound',
      });
    });

    it('applies a status only to the ChaosRun the run created: cluster, namespace, name and uid', async () => {
      const { runs, run } = await setup();
      const forged = [
        { ...refOf(run), cluster: 'other' },
        { ...refOf(run), namespace: 'elsewhere' },
        { ...refOf(run), resourceName: 'copied-label' },
      ];
      for (const ref of forged)
        expect(await runs.applyStatus(ref, completed, '99')).toBe(false);
      expect((await runs.get(run.id))!.phase).toBe('Pending');

      // The first status binds the uid; an object of the same name with another uid changes nothing.
      expect(await runs.applyStatus(refOf(run, 'uid-1'), running, '10')).toBe(
        true,
      );
      expect(await runs.applyStatus(refOf(run, 'uid-2'), completed, '12')).toBe(
        false,
      );
      expect(await runs.resourceUid(run.id)).toBe('uid-1');
      expect((await runs.get(run.id))!.phase).toBe('Running');
      expect(await runs.applyStatus(refOf(run, 'uid-1'), completed, '12')).toBe(
        true,
      );
      expect((await runs.get(run.id))!.phase).toBe('Completed');
    });

    it('keeps concurrent status writes consistent: every one lands on the latest row', async () => {
      const { runs, run } = await setup();
      // Many writers at once, in an order that is not the phases' order: the result is the furthest
      // phase, and every target of every write is recorded.
      const writes = Array.from({ length: 12 }, (_, i) =>
        runs.applyStatus(
          refOf(run),
          {
            ...running,
            targets: [
              {
                pod: `checkout-${i}`,
                node: 'n',
                fault: 'pod-kill' as const,
                phase: 'Injected' as const,
                events: [],
              },
            ],
          },
          String(i),
        ),
      );
      writes.splice(5, 0, runs.applyStatus(refOf(run), completed, '50'));
      await Promise.all(writes);
      const detail = (await runs.get(run.id))!;
      expect(detail.phase).toBe('Completed');
      expect(detail.targets.length).toBeGreaterThanOrEqual(2);
    });

    it('lets one experiment have one live run, and an entity its limit, atomically', async () => {
      const { runs, experiments, experiment } = await setup();
      const newRun = (experimentId: string) => ({
        id: randomUUID(),
        experimentId,
        experimentName: 'x',
        entityRef: experiment.entityRef,
        cluster: 'sandbox',
        namespace: 'shop',
        resourceName: `r-${randomUUID().slice(0, 8)}`,
        dryRun: false,
        createdBy: 'user:default/alice',
        spec: {},
      });
      // setup() already left one live run of `experiment`.
      await expect(
        runs.create(newRun(experiment.id), { maxPerEntity: 5 }),
      ).rejects.toThrow(/already has a live run/);
      const others = await Promise.all(
        ['a', 'b', 'c'].map(name =>
          experiments.create({ ...experiment, name }, 'user:default/alice'),
        ),
      );
      const attempts = await Promise.allSettled(
        others.map(o => runs.create(newRun(o.id), { maxPerEntity: 2 })),
      );
      expect(attempts.filter(a => a.status === 'fulfilled')).toHaveLength(1);
      expect(
        attempts
          .filter(a => a.status === 'rejected')
          .map(a => String((a as PromiseRejectedResult).reason)),
      ).toEqual([
        expect.stringContaining('ConflictError'),
        expect.stringContaining('ConflictError'),
      ]);
      expect(await runs.listLive()).toHaveLength(2);
      // Dry runs disrupt nothing: they pass the limits, and do not count toward them.
      const dry = await runs.create(
        { ...newRun(experiment.id), dryRun: true },
        { maxPerEntity: 2 },
      );
      expect(dry.dryRun).toBe(true);
      await runs.fail(dry.id, 'Test', 'done');
    });
  },
);

import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  FAULT_TYPES,
  resilienceScore,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { ManualClock } from '../__testUtils__/manualClock';
import { DatabaseExperimentStore } from '../database/DatabaseExperimentStore';
import { DatabaseRunStore } from '../database/DatabaseRunStore';
import { DatabaseScoreStore } from './ScoreStore';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });
const DAY = 24 * 60 * 60 * 1000;
// Every time here is an offset from this fixed instant, never today's date.
const NOW = new Date('2031-06-30T12:00:00.000Z');
const daysAgo = (days: number): Date => new Date(NOW.getTime() - days * DAY);
const ENTITY = 'component:default/checkout';

describe.each(databases.eachSupportedId())(
  'the resilience score on %s',
  databaseId => {
    async function setup() {
      const knex = await databases.init(databaseId);
      const database = mockServices.database({
        knex,
        migrations: { skip: false },
      });
      const clock = new ManualClock(NOW);
      const runs = await DatabaseRunStore.create({ database, clock });
      const scores = await DatabaseScoreStore.create({ database });
      const experiments = await DatabaseExperimentStore.create({
        database,
        clock,
      });
      const experiment = await experiments.create(
        {
          name: 'x',
          entityRef: ENTITY,
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

      /** A run of these faults that ended `days` ago with this outcome. */
      async function ran(
        faults: string[],
        days: number,
        outcome: {
          phase?: 'Completed' | 'Aborted' | 'Failed';
          verdict?: 'Passed' | 'Failed' | 'Inconclusive';
          dryRun?: boolean;
          entityRef?: string;
        } = {},
      ) {
        const at = daysAgo(days);
        clock.set(new Date(at.getTime() - 60_000));
        const id = randomUUID();
        await runs.create({
          id,
          experimentId: experiment.id,
          experimentName: 'x',
          entityRef: outcome.entityRef ?? ENTITY,
          cluster: 'c',
          namespace: 'shop',
          resourceName: `x-${id.slice(0, 8)}`,
          dryRun: outcome.dryRun ?? false,
          createdBy: 'user:default/alice',
          spec: { faults: faults.map(type => ({ type })) },
        });
        clock.set(at);
        await runs.applyStatus(
          {
            id,
            cluster: 'c',
            namespace: 'shop',
            resourceName: `x-${id.slice(0, 8)}`,
          },
          {
            phase: outcome.phase ?? 'Completed',
            verdict: outcome.verdict ?? 'Passed',
            finishedAt: at.toISOString(),
            phaseTransitions: [
              { phase: outcome.phase ?? 'Completed', time: at.toISOString() },
            ],
          },
        );
        clock.set(NOW);
        return id;
      }
      return { knex, runs, scores, ran, experiment };
    }

    it('finds the newest passed run of each fault type, leaving out failures, dry runs, other entities and old runs', async () => {
      const { scores, ran } = await setup();
      await ran(['pod-kill'], 50);
      await ran(['pod-kill', 'network-loss'], 10);
      await ran(['network-latency'], 2, {
        verdict: 'Failed',
        phase: 'Aborted',
      });
      await ran(['cpu-stress'], 1, { dryRun: true, verdict: 'Inconclusive' });
      await ran(['memory-stress'], 1, {
        entityRef: 'component:default/payments',
      });
      await ran(['network-partition'], 95);
      await ran(['network-bandwidth'], 80);

      const found = await scores.lastPassedByFaultType(ENTITY, daysAgo(90));
      expect(
        Object.fromEntries(
          [...found].map(([type, at]) => [type, at.toISOString()]),
        ),
      ).toEqual({
        'pod-kill': daysAgo(10).toISOString(),
        'network-loss': daysAgo(10).toISOString(),
        'network-bandwidth': daysAgo(80).toISOString(),
      });
    });

    it('scores full value for 30 days, then decays linearly to nothing at 90', async () => {
      const { scores, ran } = await setup();
      await ran(['pod-kill'], 10);
      await ran(['network-loss'], 60);
      await ran(['network-bandwidth'], 89);
      const lastPassed = await scores.lastPassedByFaultType(
        ENTITY,
        daysAgo(90),
      );
      const score = resilienceScore({
        entityRef: ENTITY,
        faultTypes: FAULT_TYPES,
        lastPassed,
        now: NOW,
      });

      const share = 100 / FAULT_TYPES.length;
      const byType = Object.fromEntries(score.faults.map(f => [f.type, f]));
      expect(byType['pod-kill']).toMatchObject({
        weight: 1,
        points: Math.round(share * 10) / 10,
        decaysFrom: new Date(daysAgo(10).getTime() + 30 * DAY).toISOString(),
      });
      expect(byType['network-loss'].weight).toBeCloseTo(0.5, 3);
      expect(byType['network-bandwidth'].weight).toBeCloseTo(1 / 60, 3);
      expect(byType['cpu-stress']).toEqual({
        type: 'cpu-stress',
        weight: 0,
        points: 0,
        maxPoints: Math.round(share * 10) / 10,
      });
      expect(score.score).toBe(Math.round(share * (1 + 0.5 + 1 / 60)));
      expect(score.computedAt).toBe(NOW.toISOString());
      // What raises it most comes first: the fault types never passed, pod-kill (full) last.
      expect(score.faults[score.faults.length - 1].type).toBe('pod-kill');
      expect(score.faults[0].points).toBe(0);

      // The same history a month later: pod-kill has started to decay, loss is gone.
      const later = new Date(NOW.getTime() + 31 * DAY);
      const laterScore = resilienceScore({
        entityRef: ENTITY,
        faultTypes: FAULT_TYPES,
        now: later,
        lastPassed: await scores.lastPassedByFaultType(
          ENTITY,
          new Date(later.getTime() - 90 * DAY),
        ),
      });
      expect(laterScore.score).toBeLessThan(score.score);
      expect(
        Object.fromEntries(laterScore.faults.map(f => [f.type, f.weight])),
      ).toMatchObject({ 'network-loss': 0, 'network-bandwidth': 0 });
    });

    it('counts only the fault types the operator allows', async () => {
      const { scores, ran } = await setup();
      await ran(['pod-kill'], 1);
      const score = resilienceScore({
        entityRef: ENTITY,
        faultTypes: ['pod-kill', 'network-loss'],
        now: NOW,
        lastPassed: await scores.lastPassedByFaultType(ENTITY, daysAgo(90)),
      });
      expect(score.score).toBe(50);
      expect(score.faults.map(f => [f.type, f.maxPoints])).toEqual([
        ['network-loss', 50],
        ['pod-kill', 50],
      ]);
    });

    it('reads through the index, one row per fault type, however long the history', async () => {
      const { knex, scores, ran } = await setup();
      for (let i = 0; i < 40; i++)
        await ran(['pod-kill', 'network-loss'], i % 20);
      const query = knex('chaos_runs as r')
        .join('chaos_run_faults as f', 'f.run_id', 'r.id')
        .where('r.entity_ref', ENTITY)
        .andWhere('r.verdict', 'Passed')
        .andWhere('r.phase', 'Completed')
        .andWhere('r.dry_run', false)
        .andWhere('r.finished_at', '>=', daysAgo(90))
        .groupBy('f.fault_type')
        .select('f.fault_type')
        .max({ last: 'r.finished_at' });
      const plan =
        databaseId === 'SQLITE_3'
          ? JSON.stringify(
              await knex.raw(`EXPLAIN QUERY PLAN ${query.toString()}`),
            )
          : JSON.stringify(
              await knex.raw(
                `SET enable_seqscan = off; EXPLAIN ${query.toString()}`,
              ),
            );
      // SQLite names the index it searches; PostgreSQL, with sequential scans priced out as a
      // planner on a large table would, uses it too.
      expect(plan).toMatch(/chaos_runs_entity_verdict_finished_idx/);
      expect(
        (await scores.lastPassedByFaultType(ENTITY, daysAgo(90))).size,
      ).toBe(2);
    });

    it('backfills the fault types of runs recorded before the migration', async () => {
      const { knex, runs, experiment } = await setup();
      const directory = path.resolve(__dirname, '../../migrations');
      const id = randomUUID();
      await runs.create({
        id,
        experimentId: experiment.id,
        experimentName: 'x',
        entityRef: ENTITY,
        cluster: 'c',
        namespace: 'shop',
        resourceName: 'x',
        dryRun: false,
        createdBy: 'user:default/alice',
        spec: { faults: [{ type: 'network-loss' }, { type: 'pod-kill' }] },
      });
      // This very migration, whatever later migrations exist.
      await knex.migrate.down({
        directory,
        name: '20261202100000_run_faults_notified.js',
      });
      expect(await knex.schema.hasTable('chaos_run_faults')).toBe(false);
      await knex.migrate.latest({ directory });
      const rows = await knex('chaos_run_faults')
        .where({ run_id: id })
        .orderBy('fault_type');
      expect(rows.map(r => r.fault_type)).toEqual(['network-loss', 'pod-kill']);
    });
  },
);

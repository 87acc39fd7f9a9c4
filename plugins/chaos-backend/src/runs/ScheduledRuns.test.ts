import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import {
  experimentSpecSchema,
  nextOccurrence,
  type Experiment,
  type Run,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { randomUUID } from 'node:crypto';
import { DatabaseExperimentStore } from '../database/DatabaseExperimentStore';
import { DatabaseRunStore } from '../database/DatabaseRunStore';
import { ManualClock } from '../__testUtils__/manualClock';
import { ScheduledRuns, scheduledBy } from './ScheduledRuns';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });
const minutes = (n: number) => n * 60_000;

/**
 * The scheduler's decisions against the real stores on both databases. Starting a run in a
 * cluster is the one thing replaced (by a recorder that writes the run record as launchRun
 * does); runs.test.ts starts a scheduled run for real.
 */
describe.each(databases.eachSupportedId())(
  'ScheduledRuns on %s',
  databaseId => {
    async function setup(schedule: string | undefined = '*/5 * * * *') {
      const knex = await databases.init(databaseId);
      const database = mockServices.database({
        knex,
        migrations: { skip: false },
      });
      // Every part reads this one clock, which stands still: nothing depends on today's date.
      const clock = new ManualClock('2031-03-04T05:06:07.250Z');
      const experiments = await DatabaseExperimentStore.create({
        database,
        clock,
      });
      const runs = await DatabaseRunStore.create({ database, clock });
      const spec = experimentSpecSchema.parse({
        name: `kill-${randomUUID().slice(0, 6)}`,
        entityRef: 'component:default/checkout',
        target: { namespace: 'shop', labelSelector: { app: 'checkout' } },
        faults: [{ type: 'pod-kill' }],
        schedule,
      });
      const experiment = await experiments.create(spec, 'user:default/alice');
      const launched: Array<{ experiment: Experiment; createdBy: string }> = [];
      let failure: Error | undefined;
      const scheduler = new ScheduledRuns({
        experiments,
        runs,
        logger: mockServices.logger.mock(),
        clock,
        launch: async (which, createdBy): Promise<Run> => {
          if (failure) throw failure;
          launched.push({ experiment: which, createdBy });
          return runs.create({
            id: randomUUID(),
            experimentId: which.id,
            experimentName: which.name,
            entityRef: which.entityRef,
            cluster: 'c',
            namespace: 'shop',
            resourceName: `${which.name}-x`,
            dryRun: false,
            createdBy,
            spec: {},
          });
        },
      });
      const failWith = (error: Error | undefined) => {
        failure = error;
      };
      const tick = (at: Date) => {
        clock.set(at);
        return scheduler.tick();
      };
      return { experiments, runs, experiment, clock, tick, launched, failWith };
    }

    it('starts the first occurrence after the schedule was set, once, as the schedule', async () => {
      const { experiment, tick, launched, runs } = await setup();
      const created = new Date(experiment.createdAt);
      // Nothing has fallen due since the schedule was set.
      expect(await tick(created)).toEqual([]);
      const due = nextOccurrence('*/5 * * * *', created);
      const outcomes = await tick(new Date(due.getTime() + 1_000));
      expect(outcomes).toEqual([
        expect.objectContaining({
          experimentId: experiment.id,
          occurrence: due.toISOString(),
          outcome: 'started',
        }),
      ]);
      expect(launched.map(l => l.createdBy)).toEqual([
        scheduledBy('*/5 * * * *'),
      ]);
      // The same occurrence is never started twice.
      expect(await tick(new Date(due.getTime() + 20_000))).toEqual([]);
      expect((await runs.list({ offset: 0, limit: 10 })).totalCount).toBe(1);
    });

    it('skips an occurrence while an earlier run is live, and starts the next one after it ended', async () => {
      const { experiment, tick, launched, runs } = await setup();
      const first = nextOccurrence(
        '*/5 * * * *',
        new Date(experiment.createdAt),
      );
      const [started] = await tick(new Date(first.getTime() + 1_000));
      const second = new Date(first.getTime() + minutes(5));
      expect(await tick(new Date(second.getTime() + 1_000))).toEqual([
        expect.objectContaining({
          occurrence: second.toISOString(),
          outcome: 'skipped',
          reason: expect.stringContaining('still live'),
        }),
      ]);
      await runs.fail(started.runId!, 'Test', 'ended');
      const third = new Date(second.getTime() + minutes(5));
      expect((await tick(new Date(third.getTime() + 1_000)))[0]).toMatchObject({
        outcome: 'started',
      });
      expect(launched).toHaveLength(2);
    });

    it('records an occurrence first seen after the starting deadline as missed, and runs nothing late', async () => {
      const { experiment, tick, launched } = await setup('0 3 * * *');
      const due = nextOccurrence('0 3 * * *', new Date(experiment.createdAt));
      expect(await tick(new Date(due.getTime() + minutes(10)))).toEqual([
        expect.objectContaining({
          occurrence: due.toISOString(),
          outcome: 'missed',
        }),
      ]);
      expect(launched).toEqual([]);
      // Hours of downtime later, still only the latest occurrence is looked at, and missed.
      expect(
        await tick(new Date(due.getTime() + minutes(60 * 24 * 3 + 30))),
      ).toHaveLength(1);
    });

    it('does not retry an occurrence whose start failed', async () => {
      const { experiment, tick, failWith } = await setup();
      failWith(new Error('cluster unreachable'));
      const due = nextOccurrence('*/5 * * * *', new Date(experiment.createdAt));
      expect(await tick(new Date(due.getTime() + 1_000))).toEqual([
        expect.objectContaining({
          outcome: 'failed',
          reason: 'cluster unreachable',
        }),
      ]);
      failWith(undefined);
      expect(await tick(new Date(due.getTime() + 2_000))).toEqual([]);
    });

    it('starts an occurrence once when two ticks race for it', async () => {
      const { experiment, tick, launched } = await setup();
      const at = new Date(
        nextOccurrence(
          '*/5 * * * *',
          new Date(experiment.createdAt),
        ).getTime() + 1_000,
      );
      const outcomes = (
        await Promise.all([tick(at), tick(at), tick(at)])
      ).flat();
      expect(outcomes.filter(o => o.outcome === 'started')).toHaveLength(1);
      expect(launched).toHaveLength(1);
    });

    it('restarts the clock when the schedule changes, and forgets a removed one', async () => {
      const { experiment, experiments, clock, tick } = await setup();
      const { id, createdBy, createdAt, updatedAt, ...spec } = experiment;
      const [before] = await experiments.listScheduled();
      // The same schedule again keeps the checkpoint.
      await experiments.update(id, { ...spec, description: 'edited' });
      expect((await experiments.listScheduled())[0].checkedAt).toEqual(
        before.checkedAt,
      );
      const changedAt = clock.advance(minutes(7));
      await experiments.update(id, { ...spec, schedule: '0 * * * *' });
      const [changed] = await experiments.listScheduled();
      expect(changed.experiment.schedule).toBe('0 * * * *');
      expect(changed.checkedAt).toEqual(changedAt);
      await experiments.update(id, { ...spec, schedule: undefined });
      expect(await experiments.listScheduled()).toEqual([]);
      expect(await tick(clock.advance(minutes(120)))).toEqual([]);
    });
  },
);

import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import {
  experimentSpecSchema,
  type ExperimentSpec,
  type ManagedBy,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { ManualClock } from '../__testUtils__/manualClock';
import { DatabaseExperimentSourceStore } from './DatabaseExperimentSourceStore';
import { DatabaseExperimentStore } from './DatabaseExperimentStore';
import {
  clusterSourceKey,
  locationSourceKey,
  type SourceReading,
} from './ExperimentSourceStore';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });
const CHECKOUT = 'component:default/checkout';
const FILE = 'file:///repo/chaos/kill.yaml';

function spec(
  name: string,
  overrides: Partial<ExperimentSpec> = {},
): ExperimentSpec {
  return experimentSpecSchema.parse({
    name,
    entityRef: CHECKOUT,
    target: { namespace: 'shop', labelSelector: { app: 'checkout' } },
    faults: [{ type: 'pod-kill' }],
    ...overrides,
  });
}

const fromFile = (name: string, overrides: Partial<ExperimentSpec> = {}) => ({
  spec: spec(name, overrides),
  managedBy: { kind: 'location', source: FILE } as ManagedBy,
});

function locationReading(
  experiments: SourceReading['experiments'],
  problems: SourceReading['problems'] = [],
): SourceReading {
  return {
    key: locationSourceKey(CHECKOUT),
    kind: 'location',
    entityRef: CHECKOUT,
    location: 'file:///repo/chaos/',
    experiments,
    problems,
  };
}

describe.each(databases.eachSupportedId())(
  'DatabaseExperimentSourceStore on %s',
  databaseId => {
    async function setup() {
      const knex = await databases.init(databaseId);
      const database = mockServices.database({
        knex,
        migrations: { skip: false },
      });
      const clock = new ManualClock('2031-03-04T05:06:07.000Z');
      return {
        knex,
        clock,
        experiments: await DatabaseExperimentStore.create({ database, clock }),
        sources: await DatabaseExperimentSourceStore.create({
          database,
          clock,
        }),
      };
    }

    it('adds, updates and removes the experiments a source defines, read-only through the API', async () => {
      const { experiments, sources, clock } = await setup();
      const first = await sources.sync(
        locationReading([fromFile('kill-one'), fromFile('kill-two')]),
      );
      expect(first).toMatchObject({
        kind: 'location',
        entityRef: CHECKOUT,
        experimentCount: 2,
        problems: [],
        checkedAt: '2031-03-04T05:06:07.000Z',
      });
      const listed = await experiments.list({
        entityRef: CHECKOUT,
        offset: 0,
        limit: 10,
      });
      expect(listed.items.map(e => [e.name, e.managedBy])).toEqual(
        expect.arrayContaining([
          ['kill-one', { kind: 'location', source: FILE }],
          ['kill-two', { kind: 'location', source: FILE }],
        ]),
      );
      const killOne = listed.items.find(e => e.name === 'kill-one')!;
      expect(killOne.createdBy).toBe(`file ${FILE}`);

      // The API may not change or delete them: their source may.
      await expect(
        experiments.update(killOne.id, spec('kill-one', { duration: '5m' })),
      ).rejects.toThrow(
        `Experiment 'kill-one' is kept as code (file ${FILE}): change it there`,
      );
      await expect(experiments.delete(killOne.id)).rejects.toThrow(
        'delete it there',
      );

      clock.advance(60_000);
      await sources.sync(
        locationReading([fromFile('kill-one', { duration: '5m' })]),
      );
      const after = await experiments.list({
        entityRef: CHECKOUT,
        offset: 0,
        limit: 10,
      });
      expect(after.items.map(e => e.name)).toEqual(['kill-one']);
      expect(after.items[0]).toMatchObject({
        id: killOne.id,
        duration: '5m',
        createdAt: killOne.createdAt,
        updatedAt: '2031-03-04T05:07:07.000Z',
      });
      expect(await sources.list(CHECKOUT)).toEqual([
        expect.objectContaining({
          experimentCount: 1,
          checkedAt: '2031-03-04T05:07:07.000Z',
        }),
      ]);
    });

    it('turns a name clash with an API experiment into a visible conflict, both ways', async () => {
      const { experiments, sources } = await setup();
      const made = await experiments.create(
        spec('kill-one'),
        'user:default/alice',
      );
      const recorded = await sources.sync(
        locationReading([fromFile('kill-one'), fromFile('kill-two')]),
      );
      expect(recorded.experimentCount).toBe(1);
      expect(recorded.problems).toEqual([
        {
          kind: 'conflict',
          source: FILE,
          name: 'kill-one',
          field: 'metadata.name',
          message:
            "'kill-one' is also an experiment made in Backstage by user:default/alice, which stays in effect: rename one of them, or delete the one in Backstage to keep this one",
        },
      ]);
      expect((await experiments.get(made.id))?.managedBy).toBeUndefined();
      // The other way round: the API refuses the name, and says where it is defined.
      await expect(
        experiments.create(spec('kill-two'), 'user:default/alice'),
      ).rejects.toThrow(
        `Entity ${CHECKOUT} already has an experiment named 'kill-two' (kept as code: ${FILE})`,
      );
      // A name defined twice in one source: the first stays.
      const twice = await sources.sync(
        locationReading([
          fromFile('kill-two'),
          fromFile('kill-two', { duration: '9m' }),
        ]),
      );
      expect(twice.problems.map(p => [p.kind, p.name])).toEqual([
        ['conflict', 'kill-two'],
      ]);
      // Two sources, one name: the one already in effect stays, the other reports it.
      const cluster = await sources.sync({
        key: clusterSourceKey('prod', CHECKOUT),
        kind: 'cluster',
        entityRef: CHECKOUT,
        location: 'prod',
        experiments: [
          {
            spec: spec('kill-two'),
            managedBy: { kind: 'cluster', source: 'prod/shop/kill-two' },
          },
        ],
        problems: [],
      });
      expect(cluster.problems[0].message).toContain(
        `'kill-two' is also the file ${FILE}, which stays in effect`,
      );
    });

    it('keeps what an unreadable source defined, and says why', async () => {
      const { experiments, sources } = await setup();
      await sources.sync(locationReading([fromFile('kill-one')]));
      const problem = {
        kind: 'read' as const,
        source: FILE,
        message: 'could not be read: 503',
      };
      const unreadable = await sources.sync({
        ...locationReading(undefined),
        problems: [problem],
      });
      expect(unreadable).toMatchObject({
        experimentCount: 1,
        problems: [problem],
      });
      expect(
        (await experiments.list({ entityRef: CHECKOUT, offset: 0, limit: 10 }))
          .totalCount,
      ).toBe(1);
    });

    it('starts a schedule from when it appears, keeps its checkpoint while it stays, restarts it when it changes', async () => {
      const { experiments, sources, clock } = await setup();
      await sources.sync(
        locationReading([fromFile('hourly', { schedule: '0 * * * *' })]),
      );
      const [scheduled] = await experiments.listScheduled();
      expect(scheduled.checkedAt.toISOString()).toBe(
        '2031-03-04T05:06:07.000Z',
      );
      expect(
        await experiments.claimOccurrence(
          scheduled.experiment.id,
          scheduled.checkedAt,
          new Date('2031-03-04T06:00:00Z'),
        ),
      ).toBe(true);

      clock.advance(3_600_000);
      await sources.sync(
        locationReading([
          fromFile('hourly', {
            schedule: '0 * * * *',
            description: 'now documented',
          }),
        ]),
      );
      expect(
        (await experiments.listScheduled())[0].checkedAt.toISOString(),
      ).toBe('2031-03-04T06:00:00.000Z');

      await sources.sync(
        locationReading([fromFile('hourly', { schedule: '30 * * * *' })]),
      );
      expect(
        (await experiments.listScheduled())[0].checkedAt.toISOString(),
      ).toBe('2031-03-04T06:06:07.000Z');
    });

    it('prunes the sources that are gone, and only those, with their experiments', async () => {
      const { experiments, sources } = await setup();
      const payments = 'component:default/payments';
      await sources.sync(locationReading([fromFile('kill-one')]));
      await sources.sync({
        ...locationReading([
          {
            spec: spec('kill-one', { entityRef: payments }),
            managedBy: { kind: 'location', source: FILE },
          },
        ]),
        key: locationSourceKey(payments),
        entityRef: payments,
      });
      await sources.sync({
        key: clusterSourceKey('prod', CHECKOUT),
        kind: 'cluster',
        entityRef: CHECKOUT,
        location: 'prod',
        experiments: [
          {
            spec: spec('from-cluster'),
            managedBy: { kind: 'cluster', source: 'prod/shop/from-cluster' },
          },
        ],
        problems: [],
      });
      const apiMade = await experiments.create(
        spec('by-hand'),
        'user:default/alice',
      );

      expect(
        await sources.prune('location:', [locationSourceKey(CHECKOUT)]),
      ).toBe(1);
      expect(await sources.list(payments)).toEqual([]);
      expect(
        (await experiments.list({ entityRef: payments, offset: 0, limit: 10 }))
          .totalCount,
      ).toBe(0);
      expect(
        (
          await experiments.list({ entityRef: CHECKOUT, offset: 0, limit: 10 })
        ).items
          .map(e => e.name)
          .sort(),
      ).toEqual(['by-hand', 'from-cluster', 'kill-one']);

      expect(await sources.prune('cluster:prod:', [])).toBe(1);
      expect(
        (
          await experiments.list({ entityRef: CHECKOUT, offset: 0, limit: 10 })
        ).items
          .map(e => e.name)
          .sort(),
      ).toEqual(['by-hand', 'kill-one']);
      expect(await experiments.get(apiMade.id)).toBeDefined();
    });
  },
);

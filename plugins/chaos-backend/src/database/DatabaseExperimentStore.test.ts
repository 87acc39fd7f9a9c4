import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import {
  ExperimentSpec,
  experimentSpecSchema,
} from '@chaoscraft/backstage-plugin-chaos-common';
import knexFactory from 'knex';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatabaseExperimentStore } from './DatabaseExperimentStore';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });

function spec(overrides: Partial<ExperimentSpec> = {}): ExperimentSpec {
  return experimentSpecSchema.parse({
    name: 'kill-one',
    entityRef: 'component:default/checkout',
    target: { namespace: 'shop', labelSelector: { app: 'checkout' } },
    faults: [{ type: 'pod-kill' }],
    ...overrides,
  });
}

describe.each(databases.eachSupportedId())(
  'DatabaseExperimentStore on %s',
  databaseId => {
    async function createStore(): Promise<DatabaseExperimentStore> {
      const knex = await databases.init(databaseId);
      return DatabaseExperimentStore.create({
        database: mockServices.database({ knex, migrations: { skip: false } }),
      });
    }

    it('creates, reads, updates and deletes an experiment, defaults applied', async () => {
      const store = await createStore();
      const created = await store.create(spec(), 'user:default/alice');
      expect(created).toMatchObject({
        name: 'kill-one',
        createdBy: 'user:default/alice',
        safety: {
          maxBlastRadiusPercent: 10,
          respectPodDisruptionBudgets: true,
        },
        target: { selection: { mode: 'one' } },
      });
      expect(await store.get(created.id)).toEqual(created);

      const updated = await store.update(
        created.id,
        spec({ description: 'now documented' }),
      );
      expect(updated?.description).toBe('now documented');
      expect(updated?.createdAt).toBe(created.createdAt);
      expect(Date.parse(updated!.updatedAt)).toBeGreaterThanOrEqual(
        Date.parse(created.updatedAt),
      );

      expect(await store.delete(created.id)).toBe(true);
      expect(await store.get(created.id)).toBeUndefined();
      expect(await store.delete(created.id)).toBe(false);
      expect(await store.update(created.id, spec())).toBeUndefined();
    });

    it('refuses a second experiment of the same name on one entity, and writes nothing', async () => {
      const store = await createStore();
      await store.create(spec(), 'user:default/alice');
      await expect(store.create(spec(), 'user:default/bob')).rejects.toThrow(
        "already has an experiment named 'kill-one'",
      );
      const page = await store.list({
        entityRef: 'component:default/checkout',
        offset: 0,
        limit: 10,
      });
      expect(page.totalCount).toBe(1);
      // The same name on another entity is fine.
      await store.create(
        spec({ entityRef: 'component:default/cart' }),
        'user:default/bob',
      );
    });

    it('lists by entity, newest first, a page at a time', async () => {
      const store = await createStore();
      for (let i = 0; i < 5; i++) {
        await store.create(spec({ name: `exp-${i}` }), 'user:default/alice');
        await new Promise(resolve => setTimeout(resolve, 5));
      }
      await store.create(
        spec({ name: 'other', entityRef: 'component:default/cart' }),
        'user:default/alice',
      );

      const first = await store.list({
        entityRef: 'component:default/checkout',
        offset: 0,
        limit: 2,
      });
      expect(first.totalCount).toBe(5);
      expect(first.items.map(e => e.name)).toEqual(['exp-4', 'exp-3']);
      const last = await store.list({
        entityRef: 'component:default/checkout',
        offset: 4,
        limit: 2,
      });
      expect(last.items.map(e => e.name)).toEqual(['exp-0']);
      expect((await store.list({ offset: 0, limit: 100 })).totalCount).toBe(6);
    });

    it('migrates down and up again', async () => {
      const knex = await databases.init(databaseId);
      await DatabaseExperimentStore.create({
        database: mockServices.database({ knex, migrations: { skip: false } }),
      });
      const directory = path.resolve(__dirname, '../../migrations');
      await knex.migrate.rollback({ directory }, true);
      expect(await knex.schema.hasTable('chaos_experiments')).toBe(false);
      expect(await knex.schema.hasTable('chaos_runs')).toBe(false);
      await knex.migrate.latest({ directory });
      expect(await knex.schema.hasTable('chaos_run_targets')).toBe(true);
      expect(await knex.schema.hasColumn('chaos_runs', 'experiment_name')).toBe(
        true,
      );
    });
  },
);

describe('DatabaseExperimentStore on a SQLite file', () => {
  it('keeps experiments across a restart', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chaos-sqlite-'));
    const open = () =>
      knexFactory({
        client: 'better-sqlite3',
        connection: { filename: path.join(dir, 'chaos.sqlite') },
        useNullAsDefault: true,
      });
    try {
      const first = open();
      const store = await DatabaseExperimentStore.create({
        database: mockServices.database({
          knex: first,
          migrations: { skip: false },
        }),
      });
      const created = await store.create(spec(), 'user:default/alice');
      await first.destroy();

      const second = open();
      const reopened = await DatabaseExperimentStore.create({
        database: mockServices.database({
          knex: second,
          migrations: { skip: false },
        }),
      });
      expect(await reopened.get(created.id)).toEqual(created);
      await second.destroy();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

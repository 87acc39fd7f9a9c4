import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { ConflictError } from '@backstage/errors';
import type {
  Experiment,
  ExperimentSpec,
  ManagedBy,
  Page,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { Clock, systemClock } from '../clock';
import {
  ExperimentStore,
  ListExperimentsOptions,
  ScheduledExperiment,
} from './ExperimentStore';
import { toIsoString } from './timestamps';

export const EXPERIMENTS_TABLE = 'chaos_experiments';
const TABLE = EXPERIMENTS_TABLE;

export type ExperimentRow = {
  id: string;
  entity_ref: string;
  name: string;
  spec: string;
  created_by: string;
  created_at: Date | string;
  updated_at: Date | string;
  schedule?: string | null;
  schedule_checked_at?: Date | string | number | null;
  /** Set for experiments kept as code (see DatabaseExperimentSourceStore). */
  managed_by?: string | null;
  source_key?: string | null;
  source?: string | null;
  source_url?: string | null;
};

/** Experiments kept as code change at their source: the API refuses to change them. */
function refuseManaged(
  row: Pick<ExperimentRow, 'name' | 'managed_by' | 'source'>,
  verb: string,
): void {
  if (row.managed_by) {
    throw new ConflictError(
      `Experiment '${row.name}' is kept as code (${
        row.managed_by === 'cluster' ? 'ChaosExperiment' : 'file'
      } ${row.source}): ${verb} it there`,
    );
  }
}

const migrationsDir = resolvePackagePath(
  '@chaoscraft/backstage-plugin-chaos-backend',
  'migrations',
);

const migrated = new WeakMap<DatabaseService, Promise<Knex>>();

/**
 * Runs the plugin's migrations unless the database service says to skip them, once per
 * database service: both stores ask for it, whichever is created first migrates.
 */
export function migrateChaosDatabase(database: DatabaseService): Promise<Knex> {
  let client = migrated.get(database);
  if (!client) {
    client = (async () => {
      const knex = await database.getClient();
      if (!database.migrations?.skip) {
        await knex.migrate.latest({ directory: migrationsDir });
      }
      return knex;
    })();
    migrated.set(database, client);
  }
  return client;
}

/** The experiment store on Knex: SQLite embedded, PostgreSQL in production. */
export class DatabaseExperimentStore implements ExperimentStore {
  static async create(options: {
    database: DatabaseService;
    clock?: Clock;
  }): Promise<DatabaseExperimentStore> {
    return new DatabaseExperimentStore(
      await migrateChaosDatabase(options.database),
      options.clock ?? systemClock,
    );
  }

  private constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async list({
    entityRef,
    entityRefs,
    offset,
    limit,
  }: ListExperimentsOptions): Promise<Page<Experiment>> {
    const scoped = (): Knex.QueryBuilder => {
      let query = this.db(TABLE);
      if (entityRef) query = query.where({ entity_ref: entityRef });
      if (entityRefs) query = query.whereIn('entity_ref', entityRefs);
      return query;
    };
    const [{ count }] = await scoped().count<[{ count: number | string }]>({
      count: '*',
    });
    const rows: ExperimentRow[] = await scoped()
      .select('*')
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'asc' },
      ])
      .offset(offset)
      .limit(limit);
    return {
      items: rows.map(toExperiment),
      totalCount: Number(count),
      offset,
      limit,
    };
  }

  async listEntityRefs(): Promise<string[]> {
    return (await this.db(TABLE).distinct('entity_ref')).map(
      (r: { entity_ref: string }) => r.entity_ref,
    );
  }

  async get(id: string): Promise<Experiment | undefined> {
    const row: ExperimentRow | undefined = await this.db(TABLE)
      .where({ id })
      .first();
    return row && toExperiment(row);
  }

  async create(spec: ExperimentSpec, createdBy: string): Promise<Experiment> {
    const now = this.clock.now();
    const row: ExperimentRow = {
      id: randomUUID(),
      entity_ref: spec.entityRef,
      name: spec.name,
      spec: JSON.stringify(spec),
      created_by: createdBy,
      created_at: now,
      updated_at: now,
      // A new schedule starts from now: it never runs occurrences from before it existed.
      schedule: spec.schedule ?? null,
      schedule_checked_at: spec.schedule ? now : null,
    };
    await this.withNameConflict(spec, () => this.db(TABLE).insert(row));
    return toExperiment(row);
  }

  async update(
    id: string,
    spec: ExperimentSpec,
  ): Promise<Experiment | undefined> {
    const now = this.clock.now();
    const changed = await this.withNameConflict(spec, () =>
      this.db.transaction(async tx => {
        const current:
          | Pick<ExperimentRow, 'schedule' | 'name' | 'managed_by' | 'source'>
          | undefined = await tx(TABLE)
          .where({ id })
          .first('schedule', 'name', 'managed_by', 'source');
        if (!current) return 0;
        refuseManaged(current, 'change');
        // A changed schedule starts from now; an unchanged one keeps its checkpoint.
        const schedule = spec.schedule ?? null;
        const scheduleColumns =
          (current.schedule ?? null) === schedule
            ? {}
            : { schedule, schedule_checked_at: schedule ? now : null };
        return tx(TABLE)
          .where({ id })
          .update({
            name: spec.name,
            spec: JSON.stringify(spec),
            updated_at: now,
            ...scheduleColumns,
          });
      }),
    );
    return changed ? this.get(id) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    const current:
      | Pick<ExperimentRow, 'name' | 'managed_by' | 'source'>
      | undefined = await this.db(TABLE)
      .where({ id })
      .first('name', 'managed_by', 'source');
    if (!current) return false;
    refuseManaged(current, 'delete');
    return (
      (await this.db(TABLE).where({ id }).whereNull('managed_by').delete()) > 0
    );
  }

  async listScheduled(): Promise<ScheduledExperiment[]> {
    const rows: ExperimentRow[] = await this.db(TABLE)
      .whereNotNull('schedule')
      .select('*');
    return rows.map(row => ({
      experiment: toExperiment(row) as ScheduledExperiment['experiment'],
      checkedAt: new Date(
        toIsoString(row.schedule_checked_at ?? row.updated_at),
      ),
    }));
  }

  async claimOccurrence(
    id: string,
    checkedAt: Date,
    occurrence: Date,
  ): Promise<boolean> {
    const moved = await this.db(TABLE)
      .where({ id })
      .andWhere(query =>
        query
          .where('schedule_checked_at', checkedAt)
          .orWhereNull('schedule_checked_at'),
      )
      .update({ schedule_checked_at: occurrence });
    return moved > 0;
  }

  /** Turns the unique (entity_ref, name) violation into a ConflictError. */
  private async withNameConflict<T>(
    spec: ExperimentSpec,
    write: () => Promise<T>,
  ): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (
        !(error instanceof ConflictError) &&
        /unique|duplicate/i.test(String((error as Error).message))
      ) {
        const taken: Pick<ExperimentRow, 'managed_by' | 'source'> | undefined =
          await this.db(TABLE)
            .where({ entity_ref: spec.entityRef, name: spec.name })
            .first('managed_by', 'source');
        const where = taken?.managed_by
          ? ` (kept as code: ${taken.source})`
          : '';
        throw new ConflictError(
          `Entity ${spec.entityRef} already has an experiment named '${spec.name}'${where}`,
        );
      }
      throw error;
    }
  }
}

export function toExperiment(row: ExperimentRow): Experiment {
  const spec: ExperimentSpec = JSON.parse(row.spec);
  const managedBy: ManagedBy | undefined = row.managed_by
    ? {
        kind: row.managed_by as ManagedBy['kind'],
        source: row.source ?? '',
        ...(row.source_url ? { url: row.source_url } : {}),
      }
    : undefined;
  return {
    ...spec,
    id: row.id,
    createdBy: row.created_by,
    createdAt: toIsoString(row.created_at),
    updatedAt: toIsoString(row.updated_at),
    ...(managedBy ? { managedBy } : {}),
  };
}

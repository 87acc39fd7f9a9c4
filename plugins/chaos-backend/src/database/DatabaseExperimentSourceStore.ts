import type { DatabaseService } from '@backstage/backend-plugin-api';
import type {
  ExperimentSource,
  ManagedBy,
  SourceProblem,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { Clock, systemClock } from '../clock';
import {
  EXPERIMENTS_TABLE,
  ExperimentRow,
  migrateChaosDatabase,
} from './DatabaseExperimentStore';
import type {
  ExperimentSourceStore,
  SourceReading,
} from './ExperimentSourceStore';
import { toIsoString } from './timestamps';

const SOURCES_TABLE = 'chaos_experiment_sources';

type SourceRow = {
  key: string;
  kind: string;
  entity_ref: string;
  location: string;
  checked_at: Date | string | number;
  experiment_count: number;
  problems: string;
};

/** How a conflicting experiment is named in a problem. */
function describeOwner(row: ExperimentRow): string {
  if (row.managed_by === 'cluster') return `ChaosExperiment ${row.source}`;
  if (row.managed_by === 'location') return `the file ${row.source}`;
  return `an experiment made in Backstage by ${row.created_by}`;
}

function createdByOf(managedBy: ManagedBy): string {
  const who =
    managedBy.kind === 'cluster'
      ? `ChaosExperiment ${managedBy.source}`
      : `file ${managedBy.source}`;
  return who.slice(0, 255);
}

/** Knex keeps a query's variables under SQLite's limit of 999 when lists are cut to this. */
const CHUNK = 500;

/** The source store on the chaos plugin's database (see ExperimentSourceStore). */
export class DatabaseExperimentSourceStore implements ExperimentSourceStore {
  static async create(options: {
    database: DatabaseService;
    clock?: Clock;
  }): Promise<DatabaseExperimentSourceStore> {
    return new DatabaseExperimentSourceStore(
      await migrateChaosDatabase(options.database),
      options.clock ?? systemClock,
    );
  }

  private constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async sync(reading: SourceReading): Promise<ExperimentSource> {
    const now = this.clock.now();
    const { key, entityRef } = reading;
    const problems: SourceProblem[] = [...reading.problems];
    const inEffect = new Set<string>();
    let count = 0;
    await this.db.transaction(async tx => {
      const own: ExperimentRow[] = await tx(EXPERIMENTS_TABLE).where({
        source_key: key,
      });
      if (!reading.experiments) {
        // Unreadable now: keep what the source defined, record only why.
        count = own.length;
        await this.writeSource(tx, reading, now, count, problems);
        return;
      }
      const ownByName = new Map(own.map(row => [row.name, row]));
      const experiments = reading.experiments;
      const names = [...new Set(experiments.map(e => e.spec.name))];
      const others: ExperimentRow[] = names.length
        ? await tx(EXPERIMENTS_TABLE)
            .where({ entity_ref: entityRef })
            .whereIn('name', names)
            .andWhere(query =>
              query.whereNull('source_key').orWhereNot('source_key', key),
            )
        : [];
      const otherByName = new Map(others.map(row => [row.name, row]));

      for (const { spec, managedBy } of experiments) {
        const { name } = spec;
        if (inEffect.has(name)) {
          problems.push({
            kind: 'conflict',
            source: managedBy.source,
            name,
            message: `'${name}' is defined more than once here; the first definition is in effect`,
          });
          continue;
        }
        const other = otherByName.get(name);
        if (other) {
          problems.push({
            kind: 'conflict',
            source: managedBy.source,
            name,
            field: 'metadata.name',
            message: `'${name}' is also ${describeOwner(
              other,
            )}, which stays in effect: rename one of them${
              other.managed_by
                ? ''
                : ', or delete the one in Backstage to keep this one'
            }`,
          });
          continue;
        }
        inEffect.add(name);
        const columns = {
          spec: JSON.stringify(spec),
          managed_by: managedBy.kind,
          source: managedBy.source,
          source_url: managedBy.url ?? null,
        };
        const schedule = spec.schedule ?? null;
        const existing = ownByName.get(name);
        if (!existing) {
          await tx(EXPERIMENTS_TABLE).insert({
            id: randomUUID(),
            entity_ref: entityRef,
            name,
            created_by: createdByOf(managedBy),
            created_at: now,
            updated_at: now,
            ...columns,
            source_key: key,
            // A new schedule starts from now: it never runs occurrences from before it existed.
            schedule,
            schedule_checked_at: schedule ? now : null,
          });
          continue;
        }
        const unchanged =
          existing.spec === columns.spec &&
          existing.source === columns.source &&
          (existing.source_url ?? null) === columns.source_url;
        if (unchanged) continue;
        // A changed schedule starts from now; an unchanged one keeps its checkpoint.
        const scheduleColumns =
          (existing.schedule ?? null) === schedule
            ? {}
            : { schedule, schedule_checked_at: schedule ? now : null };
        await tx(EXPERIMENTS_TABLE)
          .where({ id: existing.id })
          .update({ ...columns, updated_at: now, ...scheduleColumns });
      }

      const gone = own
        .filter(row => !inEffect.has(row.name))
        .map(row => row.id);
      for (let i = 0; i < gone.length; i += CHUNK) {
        await tx(EXPERIMENTS_TABLE)
          .whereIn('id', gone.slice(i, i + CHUNK))
          .delete();
      }
      count = inEffect.size;
      await this.writeSource(tx, reading, now, count, problems);
    });
    return {
      kind: reading.kind,
      entityRef,
      location: reading.location,
      checkedAt: now.toISOString(),
      experimentCount: count,
      problems,
    };
  }

  private async writeSource(
    tx: Knex.Transaction,
    reading: SourceReading,
    now: Date,
    count: number,
    problems: SourceProblem[],
  ) {
    await tx(SOURCES_TABLE)
      .insert({
        key: reading.key,
        kind: reading.kind,
        entity_ref: reading.entityRef,
        location: reading.location,
        checked_at: now,
        experiment_count: count,
        problems: JSON.stringify(problems),
      })
      .onConflict('key')
      .merge();
  }

  async prune(prefix: string, keep: Iterable<string>): Promise<number> {
    const kept = new Set(keep);
    // Filtered here rather than with LIKE, whose escaping differs between SQLite and PostgreSQL.
    const kind = prefix.slice(0, prefix.indexOf(':'));
    const rows: Array<Pick<SourceRow, 'key'>> = await this.db(SOURCES_TABLE)
      .where({ kind })
      .select('key');
    const gone = rows
      .map(row => row.key)
      .filter(key => key.startsWith(prefix) && !kept.has(key));
    for (let i = 0; i < gone.length; i += CHUNK) {
      const keys = gone.slice(i, i + CHUNK);
      await this.db.transaction(async tx => {
        await tx(EXPERIMENTS_TABLE).whereIn('source_key', keys).delete();
        await tx(SOURCES_TABLE).whereIn('key', keys).delete();
      });
    }
    return gone.length;
  }

  async list(entityRef: string): Promise<ExperimentSource[]> {
    const rows: SourceRow[] = await this.db(SOURCES_TABLE)
      .where({ entity_ref: entityRef })
      .orderBy('key');
    return rows.map(row => ({
      kind: row.kind as ExperimentSource['kind'],
      entityRef: row.entity_ref,
      location: row.location,
      checkedAt: toIsoString(row.checked_at),
      experimentCount: Number(row.experiment_count),
      problems: JSON.parse(row.problems) as SourceProblem[],
    }));
  }
}

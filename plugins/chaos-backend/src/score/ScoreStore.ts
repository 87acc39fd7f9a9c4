import type { DatabaseService } from '@backstage/backend-plugin-api';
import type { Knex } from 'knex';
import { migrateChaosDatabase } from '../database/DatabaseExperimentStore';
import { toIsoString } from '../database/timestamps';

/** What the resilience score reads from the run history. */
export interface ScoreStore {
  /**
   * For each fault type, when the newest run of the entity that had it, was not a dry run, and
   * ended Completed with the verdict Passed, finished; only runs finished at or after `since`.
   */
  lastPassedByFaultType(
    entityRef: string,
    since: Date,
  ): Promise<Map<string, Date>>;
}

/**
 * One grouped query over the runs of one entity, through the index on (entity_ref, verdict,
 * finished_at) and the (run_id, fault_type) key of chaos_run_faults: it returns at most one row
 * per fault type, however long the history.
 */
export class DatabaseScoreStore implements ScoreStore {
  static async create(options: {
    database: DatabaseService;
  }): Promise<DatabaseScoreStore> {
    return new DatabaseScoreStore(await migrateChaosDatabase(options.database));
  }

  private constructor(private readonly db: Knex) {}

  async lastPassedByFaultType(
    entityRef: string,
    since: Date,
  ): Promise<Map<string, Date>> {
    const rows: Array<{ fault_type: string; last: Date | string | number }> =
      await this.db('chaos_runs as r')
        .join('chaos_run_faults as f', 'f.run_id', 'r.id')
        .where('r.entity_ref', entityRef)
        .andWhere('r.verdict', 'Passed')
        .andWhere('r.phase', 'Completed')
        .andWhere('r.dry_run', false)
        .andWhere('r.finished_at', '>=', since)
        .groupBy('f.fault_type')
        .select('f.fault_type')
        .max({ last: 'r.finished_at' });
    return new Map(
      rows.map(row => [row.fault_type, new Date(toIsoString(row.last))]),
    );
  }
}

import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import {
  CHAOS_API_VERSION,
  CHAOS_RUN,
  CHAOS_RUN_ID_LABEL,
  TERMINAL_PHASES,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type {
  ChaosRunClient,
  ChaosRunResource,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { RUN_SUMMARY_COLUMNS } from '../src/database/DatabaseRunStore';
import { pgIsoTimestamps } from '../src/database/timestamps';
import type { Dialect } from './seed';

/** A query function: `?` placeholders, rows back (an empty array for writes). */
export type Query = (sql: string, params?: unknown[]) => Promise<any[]>;

/**
 * The database the raw baseline talks to, with no Knex in between: `pg` with a pool of the same
 * size as the backend's, or one better-sqlite3 connection (Knex gives SQLite a pool of one, so a
 * transaction holds the only connection: the same here, through a lock).
 */
export interface RawDb {
  query: Query;
  tx<T>(work: (query: Query) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openRawDb(
  dialect: Dialect,
  options: { pgUrl?: string; sqlitePath?: string; poolSize: number },
): Promise<RawDb> {
  if (dialect === 'pg') {
    const { Pool } = await import('pg');
    const pool = new Pool({
      connectionString: options.pgUrl,
      max: options.poolSize,
      // Timestamps read as the backend's reads for the API read them.
      types: pgIsoTimestamps,
    });
    const numbered = new Map<string, string>();
    const toPg = (sql: string): string => {
      let out = numbered.get(sql);
      if (!out) {
        let n = 0;
        out = sql.replace(/\?/g, () => `$${++n}`);
        numbered.set(sql, out);
      }
      return out;
    };
    return {
      query: async (sql, params = []) =>
        (await pool.query(toPg(sql), params)).rows,
      tx: async work => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await work(
            async (sql, params = []) =>
              (
                await client.query(toPg(sql), params)
              ).rows,
          );
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      },
      close: () => pool.end(),
    };
  }
  const run = sqliteThread(options.sqlitePath!);
  // One connection: whoever holds it (a query, or a whole transaction) goes first.
  let held: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const next = held.then(work, work);
    held = next.catch(() => undefined);
    return next;
  };
  return {
    query: (sql, params) => exclusive(() => run(sql, params)),
    tx: work =>
      exclusive(async () => {
        await run('BEGIN');
        try {
          const result = await work(run);
          await run('COMMIT');
          return result;
        } catch (error) {
          await run('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    close: () => run.close(),
  };
}

/**
 * better-sqlite3 on a thread of its own, as the backend's runs on the backend's thread and not on
 * the clients'. Run on the clients' thread, a synchronous statement would also stop their clocks:
 * a client's wait behind a long statement would go uncounted for the baseline and counted for the
 * backend. Statements are prepared once and run in the order they come.
 */
function sqliteThread(filename: string): Query & { close(): Promise<void> } {
  const source = `
    const { parentPort } = require('node:worker_threads');
    const Database = require(${JSON.stringify(
      require.resolve('better-sqlite3'),
    )});
    const db = new Database(${JSON.stringify(filename)});
    const statements = new Map();
    parentPort.on('message', ({ id, sql, params }) => {
      try {
        let statement = statements.get(sql);
        if (!statement) {
          statement = db.prepare(sql);
          statements.set(sql, statement);
        }
        if (statement.reader) parentPort.postMessage({ id, rows: statement.all(params) });
        else {
          statement.run(params);
          parentPort.postMessage({ id, rows: [] });
        }
      } catch (error) {
        parentPort.postMessage({ id, error: String(error && error.message || error) });
      }
    });`;
  const worker = new Worker(source, { eval: true });
  const waiting = new Map<
    number,
    { resolve: (rows: any[]) => void; reject: (e: Error) => void }
  >();
  let nextId = 0;
  worker.on(
    'message',
    ({ id, rows, error }: { id: number; rows?: any[]; error?: string }) => {
      const w = waiting.get(id)!;
      waiting.delete(id);
      if (error !== undefined) w.reject(new Error(error));
      else w.resolve(rows!);
    },
  );
  // As Knex binds them on better-sqlite3: Dates as epoch milliseconds, booleans as 0/1.
  const bind = (params: unknown[]) =>
    params.map(p => {
      if (p instanceof Date) return p.valueOf();
      return typeof p === 'boolean' ? Number(p) : p;
    });
  const query = ((sql: string, params: unknown[] = []) =>
    new Promise<any[]>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ id, sql, params: bind(params) });
    })) as Query & { close(): Promise<void> };
  query.close = async () => {
    await worker.terminate();
  };
  return query;
}

const terminal = TERMINAL_PHASES.map(() => '?').join(', ');

/**
 * The statements DatabaseRunStore and DatabaseExperimentStore issue for each operation, written
 * out as Knex writes them (quoted identifiers, `?` placeholders), so that the bench can check them
 * against what the backend really sent (see checkSameSql). Keep them in step with the stores.
 */
// A new run's row: the summary and the large columns; Knex writes an insert's columns sorted.
export const RUN_COLUMNS = [
  ...RUN_SUMMARY_COLUMNS,
  'spec',
  'probes',
  'steps',
  'abort_latency_ms',
  'resource_version',
].sort();
const q = (c: string) => `"${c}"`;

/** The columns a list reads, in the store's order. */
const SUMMARY = RUN_SUMMARY_COLUMNS.map(q).join(', ');

/** The total, from the per-entity counts the store keeps with each insert. */
const LIST_COUNT = `select sum("run_count") as "count" from "chaos_run_counts" where "entity_ref" = ? and "entity_ref" in (?)`;

export const SQL = {
  /** The total on its own: only for a page that came back empty. */
  listCount: LIST_COUNT,
  countRun: `insert into "chaos_run_counts" ("entity_ref", "run_count") values (?, ?) on conflict ("entity_ref") do update set "run_count" = "chaos_run_counts"."run_count" + 1`,
  /** A page, its total read in the same statement (a scalar subquery of listCount). */
  listFirstPage: `select ${SUMMARY}, (${LIST_COUNT}) as "total_count" from "chaos_runs" where "entity_ref" = ? and "entity_ref" in (?) order by "created_at" desc, "id" asc limit ?`,
  /** The page right after a cursor (created_at, id): keyset pagination. */
  listPageAfter: `select ${SUMMARY}, (${LIST_COUNT}) as "total_count" from "chaos_runs" where "entity_ref" = ? and "entity_ref" in (?) and "created_at" <= ? and ("created_at" < ? or "id" > ?) order by "created_at" desc, "id" asc limit ?`,
  getRun: `select * from "chaos_runs" where "id" = ? limit ?`,
  getTargets: `select * from "chaos_run_targets" where "run_id" = ? order by "pod" asc, "fault" asc`,
  getEvents: `select * from "chaos_run_events" where "run_id" = ?`,
  getExperiment: `select * from "chaos_experiments" where "id" = ? limit ?`,
  /** PostgreSQL only: SQLite's single writer already serializes the transaction. */
  lockEntity: `select "id" from "chaos_experiments" where "entity_ref" = ? for update`,
  liveOfExperiment: `select "id" from "chaos_runs" where "phase" not in (${terminal}) and "dry_run" = ? and "experiment_id" = ? limit ?`,
  liveOfEntity: `select count(*) as "count" from "chaos_runs" where "phase" not in (${terminal}) and "dry_run" = ? and "entity_ref" = ?`,
  insertRun: `insert into "chaos_runs" (${RUN_COLUMNS.map(q).join(
    ', ',
  )}) values (${RUN_COLUMNS.map(() => '?').join(', ')})`,
  /** The run's fault types, one row each (what the resilience score reads). */
  insertFaults: (count: number) =>
    `insert into "chaos_run_faults" ("fault_type", "run_id") values ${Array(
      count,
    )
      .fill('(?, ?)')
      .join(', ')}`,
  insertEvent: `insert into "chaos_run_events" ("message", "phase", "reason", "run_id", "time") values (?, ?, ?, ?, ?)`,
};

export type Experiment = {
  id: string;
  entity_ref: string;
  name: string;
  spec: string;
};

/** The raw operations: what each API call costs the database, and nothing else. */
export function rawOperations(db: RawDb, dialect: Dialect) {
  const getRun = async (id: string) => {
    const [[row], targets, events] = await Promise.all([
      db.query(SQL.getRun, [id, 1]),
      db.query(SQL.getTargets, [id]),
      db.query(SQL.getEvents, [id]),
    ]);
    if (!row) throw new Error(`no run ${id}`);
    return { row, targets, events };
  };
  return {
    /** A page of `limit` (one row more is read: whether another follows), after a cursor or first. */
    async list(
      entityRef: string,
      after: { createdAt: Date; id: string } | undefined,
      limit: number,
    ) {
      const scope = [entityRef, entityRef];
      const rows = after
        ? await db.query(SQL.listPageAfter, [
            ...scope,
            ...scope,
            after.createdAt,
            after.createdAt,
            after.id,
            limit + 1,
          ])
        : await db.query(SQL.listFirstPage, [...scope, ...scope, limit + 1]);
      const count = rows.length
        ? rows[0].total_count
        : (await db.query(SQL.listCount, scope))[0].count;
      return { count: Number(count), rows: rows.slice(0, limit) };
    },
    getRun,
    /** Records a run as DatabaseRunStore.create does, then reads it back as the launcher does. */
    async createRun(
      experimentId: string,
      createdBy: string,
      afterInsert: (row: Record<string, unknown>) => Promise<void>,
    ) {
      const [experiment] = (await db.query(SQL.getExperiment, [
        experimentId,
        1,
      ])) as Experiment[];
      if (!experiment) throw new Error(`no experiment ${experimentId}`);
      const id = randomUUID();
      const now = new Date();
      const spec = JSON.parse(experiment.spec);
      const row: Record<string, unknown> = {
        id,
        experiment_id: experiment.id,
        experiment_name: experiment.name,
        entity_ref: experiment.entity_ref,
        cluster: 'bench',
        namespace: spec.target.namespace,
        resource_name: `${experiment.name}-${id.slice(0, 8)}`,
        dry_run: false,
        spec: JSON.stringify({
          ...spec,
          name: undefined,
          experiment: { name: experiment.name, id: experiment.id },
          dryRun: false,
        }),
        phase: 'Pending',
        verdict: null,
        reason: null,
        message: null,
        blast_radius: null,
        probes: null,
        steps: null,
        abort_latency_ms: null,
        resource_version: null,
        created_by: createdBy,
        created_at: now,
        updated_at: now,
        started_at: null,
        finished_at: null,
      };
      await db.tx(async tx => {
        if (dialect === 'pg') await tx(SQL.lockEntity, [experiment.entity_ref]);
        const same = await tx(SQL.liveOfExperiment, [
          ...TERMINAL_PHASES,
          false,
          experiment.id,
          1,
        ]);
        if (same.length)
          throw new Error(`experiment ${experiment.id} already has a live run`);
        await tx(SQL.liveOfEntity, [
          ...TERMINAL_PHASES,
          false,
          experiment.entity_ref,
        ]);
        await tx(
          SQL.insertRun,
          RUN_COLUMNS.map(c => row[c]),
        );
        await tx(SQL.countRun, [experiment.entity_ref, 1]);
        const faultTypes = [
          ...new Set((spec.faults as Array<{ type: string }>).map(f => f.type)),
        ];
        if (faultTypes.length)
          await tx(
            SQL.insertFaults(faultTypes.length),
            faultTypes.flatMap(type => [type, id]),
          );
        await tx(SQL.insertEvent, [
          `Run requested by ${createdBy}`,
          'Pending',
          'Created',
          id,
          now,
        ]);
      });
      await afterInsert(row);
      return getRun(id);
    },
  };
}

/**
 * The `afterInsert` of rawOperations' createRun that creates, through `chaosRuns`, the ChaosRun
 * the launcher creates for the recorded run: the raw load and the HTTP floor send the same.
 */
export const createChaosRunWith =
  (chaosRuns: ChaosRunClient) =>
  async (row: Record<string, unknown>): Promise<void> => {
    await chaosRuns.create(chaosRunOf(row));
  };

function chaosRunOf(row: Record<string, unknown>): ChaosRunResource {
  return {
    apiVersion: CHAOS_API_VERSION,
    kind: CHAOS_RUN.kind,
    metadata: {
      name: String(row.resource_name),
      namespace: String(row.namespace),
      labels: {
        [CHAOS_RUN_ID_LABEL]: String(row.id),
        'app.kubernetes.io/managed-by': 'chaoscraft-backstage',
      },
    },
    spec: JSON.parse(String(row.spec)),
  };
}

/** Knex's SQL and ours, compared without quoting, placeholder style, case or spacing. */
export function normalizeSql(sql: string): string {
  return sql
    .replace(/\$\d+/g, '?')
    .replace(/[`"]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

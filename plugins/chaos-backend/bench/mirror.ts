import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { mockServices } from '@backstage/backend-test-utils';
import type {
  ChaosRunStatus,
  TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { DatabaseRunStore } from '../src/database/DatabaseRunStore';
import type { RawDb } from './rawSql';
import type { Dialect } from './seed';

export type MirrorFigure = {
  targets: number;
  repeats: number;
  /** Median time for the store to apply one status listing every target (an update of each). */
  storeMs: number;
  /** Median time for the same statements, sent raw in one transaction. */
  rawMs: number;
  /**
   * Median time for the store to apply that status once more, as a running run's next write
   * does: every record listed, none changed, so none is rewritten.
   */
  unchangedMs: number;
};

type Statement = { sql: string; bindings: unknown[] };

const statusOf = (
  targets: number,
  phase: TargetRecord['phase'],
  at: string,
): Partial<ChaosRunStatus> => ({
  phase: phase === 'Selected' ? 'Injecting' : 'Running',
  targets: Array.from({ length: targets }, (_, i) => ({
    pod: `fleet-${String(i).padStart(5, '0')}`,
    node: `kwok-node-${i % 50}`,
    fault: 'pod-kill',
    phase,
    ...(phase === 'Injected'
      ? {
          reason: 'ChaosPodKilled',
          message: 'pod evicted by chaos',
          injectedAt: at,
        }
      : {}),
    events: [],
  })),
});

/** Knex hands SQLite's driver Dates and booleans as it stores them: numbers. */
function sqliteValue(v: unknown): unknown {
  if (v instanceof Date) return v.valueOf();
  if (typeof v === 'boolean') return Number(v);
  return v;
}

/**
 * The run mirror's write of a large run: one status of `targets` records (every pod of the run,
 * as the agent lists them on each status write) applied by the store to a run whose records
 * exist, as after the first write. The baseline is the very statements the store sent, captured
 * from Knex and replayed raw in a transaction (for another run), so it is the floor for that SQL.
 */
export async function measureMirror(options: {
  knex: Knex;
  raw: RawDb;
  dialect: Dialect;
  experiment: { id: string; entityRef: string };
  targets: number;
  repeats: number;
}): Promise<MirrorFigure> {
  const { knex, raw, dialect, experiment, targets, repeats } = options;
  const runs = await DatabaseRunStore.create({
    database: mockServices.database({ knex, migrations: { skip: true } }),
  });
  const newRun = async () => {
    const id = randomUUID();
    const ref = {
      id,
      cluster: 'bench',
      namespace: 'chaos-bench',
      resourceName: `mirror-${id.slice(0, 8)}`,
    };
    await runs.create({
      id,
      experimentId: experiment.id,
      experimentName: 'mirror',
      entityRef: experiment.entityRef,
      cluster: ref.cluster,
      namespace: ref.namespace,
      resourceName: ref.resourceName,
      dryRun: false,
      createdBy: 'user:default/mock',
      spec: {},
    });
    await runs.applyStatus(
      ref,
      statusOf(targets, 'Selected', new Date().toISOString()),
      '1',
    );
    return ref;
  };

  const store: number[] = [];
  const rawTimes: number[] = [];
  const unchanged: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const [a, b] = [await newRun(), await newRun()];
    const injected = statusOf(targets, 'Injected', new Date().toISOString());

    // The statements of the store's transaction only: the backend shares this Knex, and its
    // own background work (the mirror's resync, schedules) must not be replayed with them.
    const sent: Statement[] = [];
    let transaction: string | undefined;
    const capture = (q: {
      sql: string;
      bindings?: unknown[];
      __knexTxId?: string;
    }) => {
      if (!q.__knexTxId) return;
      transaction ??= q.__knexTxId;
      if (
        q.__knexTxId === transaction &&
        !/^(begin|commit|rollback)\b/i.test(q.sql.trim())
      )
        sent.push({ sql: q.sql, bindings: q.bindings ?? [] });
    };
    knex.on('query', capture);
    let t0 = performance.now();
    await runs.applyStatus(a, injected, '2');
    store.push(performance.now() - t0);
    knex.off('query', capture);

    // The same statements for run b: its id (and name) where a's were.
    const renamed = new Map<unknown, unknown>([
      [a.id, b.id],
      [a.resourceName, b.resourceName],
    ]);
    const swap = (v: unknown): unknown => {
      const value = renamed.has(v) ? renamed.get(v) : v;
      return dialect === 'sqlite' ? sqliteValue(value) : value;
    };
    t0 = performance.now();
    await raw.tx(async query => {
      for (const s of sent) await query(s.sql, s.bindings.map(swap));
    });
    rawTimes.push(performance.now() - t0);

    t0 = performance.now();
    await runs.applyStatus(a, injected, '3');
    unchanged.push(performance.now() - t0);

    const [{ count }] = await knex('chaos_run_targets')
      .where({ run_id: b.id, phase: 'Injected' })
      .count<[{ count: number | string }]>({ count: '*' });
    if (Number(count) !== targets)
      throw new Error(
        `the raw replay left ${count} of ${targets} records Injected: not the store's work`,
      );
  }
  const median = (values: number[]) =>
    [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
  return {
    targets,
    repeats,
    storeMs: median(store),
    rawMs: median(rawTimes),
    unchangedMs: median(unchanged),
  };
}

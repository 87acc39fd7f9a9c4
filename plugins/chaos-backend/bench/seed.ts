import {
  experimentSpecSchema,
  MAX_PROBE_SAMPLES,
  type ProbeResult,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { Knex } from 'knex';

/**
 * The history bench-backend measures against, generated inside the database in one statement per
 * table (generate_series on PostgreSQL, a recursive CTE on SQLite): no row crosses the wire, so a
 * million runs take a minute, not an hour. Everything is a pure function of the row number, so two
 * seeds of the same size are the same data, on either database.
 *
 * Shape, chosen to be realistic and hard:
 * - `entities` catalog entities, 4 experiments each;
 * - `runs` runs spread over them with a power law (entity floor(E·f³), f the golden-ratio
 *   sequence): the busiest entity has ~5.8% of all runs (58k of 1M), the quietest ~70. The deep
 *   page is read on the busiest one.
 * - every run is finished (Completed, 1 in 20 Aborted, 1 in 20 Failed, 1 in 10 a dry run), one
 *   minute apart, ending 2026-01-01: 6 timeline rows for a run that ran (3 for a failed one), 1–3
 *   targets with 3 events each, and for 1 run in 5 a probe result of 30 samples;
 * - 1 run in 1,000 is large: 100 targets, two probes of 120 samples (the most the agent keeps).
 */
export type SeedShape = {
  entities: number;
  runs: number;
  /** The namespace every entity's pods live in (the bench's namespace in the sandbox). */
  namespace: string;
  cluster: string;
};

export const EXPERIMENTS_PER_ENTITY = 4;
/** Run i is large (100 targets) when i % LARGE_EVERY == LARGE_AT. */
export const LARGE_EVERY = 1000;
const LARGE_AT = 500;
export const LARGE_TARGETS = 100;
const GOLDEN = 0.6180339887498949;
const MINUTE_MS = 60_000;
export const SEED_END = Date.parse('2026-01-01T00:00:00Z');

export type Dialect = 'pg' | 'sqlite';

export const entityName = (e: number): string =>
  `svc-${String(e).padStart(4, '0')}`;
export const entityRef = (e: number): string =>
  `component:default/${entityName(e)}`;

/** The same ids the SQL writes: a UUID made of the row number, `group` telling tables apart. */
export function seededUuid(n: number, group: 'a000' | '8000'): string {
  return `${n.toString(16).padStart(8, '0')}-0000-4000-${group}-${n
    .toString(16)
    .padStart(12, '0')}`;
}
export const experimentId = (n: number): string => seededUuid(n, 'a000');
export const runId = (n: number): string => seededUuid(n, '8000');
/** The experiment the n-th create of the bench runs: entity n % E, then its next experiment. */
export const experimentForCreate = (n: number, entities: number): string =>
  experimentId(
    (n % entities) * EXPERIMENTS_PER_ENTITY + Math.floor(n / entities),
  );

/** Which entity run i belongs to: the same formula as the SQL. */
export function entityOfRun(i: number, entities: number): number {
  const f = i * GOLDEN - Math.floor(i * GOLDEN);
  return Math.floor(entities * f * f * f);
}

/** The run numbers of the large runs (100 targets). */
export function largeRuns(runs: number): number[] {
  const out: number[] = [];
  for (let i = LARGE_AT; i <= runs; i += LARGE_EVERY) out.push(i);
  return out;
}

export function experimentSpecJson(
  e: number,
  k: number,
  namespace: string,
): string {
  return JSON.stringify(
    experimentSpecSchema.parse({
      name: `kill-${k}`,
      entityRef: entityRef(e),
      description: `Kill one ${entityName(
        e,
      )} pod and check that it keeps serving.`,
      target: {
        namespace,
        labelSelector: { app: entityName(e) },
        selection: { mode: 'one' },
      },
      faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
      duration: '30s',
      safety: { maxBlastRadiusPercent: 10 },
      hypothesis: {
        interval: '5s',
        failureThreshold: 2,
        probes: [
          {
            type: 'k8s',
            name: `${entityName(e)}-available`,
            deployment: entityName(e),
            minAvailableRatio: 0.7,
          },
        ],
      },
    }),
  );
}

function samplePhase(
  s: number,
  samples: number,
): 'before' | 'during' | 'after' {
  if (s < 5) return 'before';
  return s >= samples - 5 ? 'after' : 'during';
}

function probeJson(name: string, samples: number): ProbeResult {
  return {
    name,
    type: 'promql',
    comparison: '<',
    threshold: 0.05,
    verdict: 'Passed',
    consecutiveFailures: 0,
    samples: Array.from({ length: samples }, (_, s) => ({
      time: new Date(SEED_END - (samples - s) * 1000).toISOString(),
      phase: samplePhase(s, samples),
      value: Number((0.001 * (s % 7)).toFixed(3)),
      ok: true,
    })),
  } as ProbeResult;
}

/** SQL fragments for each dialect. */
function dialect(d: Dialect) {
  const pg = d === 'pg';
  return {
    pg,
    /** A series 1..n as table `s(i)`: a FROM item (PostgreSQL) or a CTE (SQLite). */
    series: (n: number, name = 's', col = 'i') =>
      pg
        ? {
            with: '',
            from: `generate_series(1::bigint, ${n}) AS ${name}(${col})`,
          }
        : {
            with: `${name}(${col}) AS (SELECT 1 UNION ALL SELECT ${col} + 1 FROM ${name} WHERE ${col} < ${n})`,
            from: name,
          },
    uuid: (expr: string, group: string) =>
      pg
        ? `(lpad(to_hex(${expr}), 8, '0') || '-0000-4000-${group}-' || lpad(to_hex(${expr}), 12, '0'))::uuid`
        : `printf('%08x-0000-4000-${group}-%012x', ${expr}, ${expr})`,
    hex: (expr: string, width: number) =>
      pg
        ? `lpad(to_hex(${expr}), ${width}, '0')`
        : `printf('%0${width}x', ${expr})`,
    pad4: (expr: string) =>
      pg ? `lpad((${expr})::text, 4, '0')` : `printf('%04d', ${expr})`,
    int: (expr: string) =>
      pg ? `floor(${expr})::int` : `CAST(${expr} AS INTEGER)`,
    frac: (expr: string) =>
      pg
        ? `((${expr}) - floor(${expr}))`
        : `((${expr}) - CAST((${expr}) AS INTEGER))`,
    /** A timestamp `ms` milliseconds after the epoch: timestamptz on PostgreSQL, the integer ms knex stores on SQLite. */
    time: (msExpr: string) =>
      pg ? `to_timestamp((${msExpr}) / 1000.0)` : `(${msExpr})`,
    bool: (expr: string) =>
      pg ? `(${expr})` : `CASE WHEN ${expr} THEN 1 ELSE 0 END`,
    concat: (...parts: string[]) => parts.join(' || '),
    lit: (s: string) => `'${s.replace(/'/g, "''")}'`,
    text: (expr: string) => (pg ? `(${expr})::text` : `CAST(${expr} AS TEXT)`),
  };
}

/**
 * Inserts the history into a migrated, empty chaos database. `log` hears each table's time.
 */
export async function seedHistory(
  knex: Knex,
  d: Dialect,
  shape: SeedShape,
  log: (m: string) => void,
): Promise<void> {
  const x = dialect(d);
  const { entities, runs, namespace, cluster } = shape;
  const exps = entities * EXPERIMENTS_PER_ENTITY;
  const end = SEED_END;
  const timed = async (what: string, sql: string): Promise<void> => {
    const t0 = Date.now();
    try {
      await knex.raw(sql);
    } catch (error) {
      // The statement carries kilobytes of JSON: name the table and the database's reason only.
      throw new Error(
        `seeding ${what} failed: ${String((error as Error).message)
          .split(' - ')
          .pop()}`,
      );
    }
    log(`seeded ${what} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  const withClause = (...ctes: string[]) => {
    const parts = ctes.filter(Boolean);
    return parts.length ? `WITH RECURSIVE ${parts.join(', ')} ` : '';
  };

  // Experiment n (from 0): entity floor(n / 4), name kill-(n % 4). The spec differs per entity
  // only in names, so it is a template with the entity's name substituted.
  const specTemplate = experimentSpecJson(9999, 0, namespace)
    .replaceAll(entityName(9999), '__SVC__')
    .replace('"kill-0"', '"kill-__K__"');
  {
    const s = x.series(exps, 's', 'n');
    const n = '(s.n - 1)';
    const e = `(${n} / ${EXPERIMENTS_PER_ENTITY})`;
    const svc = x.concat(x.lit('svc-'), x.pad4(e));
    await timed(
      `${exps} experiments`,
      `${withClause(
        s.with,
      )}INSERT INTO chaos_experiments (id, entity_ref, name, spec, created_by, created_at, updated_at)
       SELECT ${x.uuid(n, 'a000')}, ${x.concat(
        x.lit('component:default/'),
        svc,
      )}, ${x.concat(
        x.lit('kill-'),
        x.text(`${n} % ${EXPERIMENTS_PER_ENTITY}`),
      )},
              replace(replace(${x.lit(
                specTemplate,
              )}, '__SVC__', ${svc}), '__K__', ${x.text(
        `${n} % ${EXPERIMENTS_PER_ENTITY}`,
      )}),
              'user:default/bench', ${x.time(
                `${end - runs * MINUTE_MS} - ${n} * 1000`,
              )}, ${x.time(`${end - runs * MINUTE_MS} - ${n} * 1000`)}
       FROM ${s.from}`,
    );
  }

  const runSpecTemplate = JSON.stringify({
    ...JSON.parse(specTemplate),
    name: undefined,
    experiment: { name: 'kill-__K__', id: '__EXP__' },
    dryRun: false,
  });
  const smallProbes = JSON.stringify([probeJson('available', 30)]);
  const largeProbes = JSON.stringify([
    probeJson('available', MAX_PROBE_SAMPLES),
    probeJson('error-rate', MAX_PROBE_SAMPLES),
  ]);
  {
    const s = x.series(runs);
    const f = x.frac(`s.i * ${GOLDEN}`);
    // The entity of run i, as entityOfRun computes it.
    const e = x.int(`${entities} * ${f} * ${f} * ${f}`);
    const k = `(s.i % ${EXPERIMENTS_PER_ENTITY})`;
    const exp = `(r.e * ${EXPERIMENTS_PER_ENTITY} + r.k)`;
    const svc = x.concat(x.lit('svc-'), x.pad4('r.e'));
    const created = `${end} - (${runs} - r.i) * ${MINUTE_MS}`;
    const phase = `CASE WHEN r.i % 20 = 0 THEN 'Aborted' WHEN r.i % 20 = 1 THEN 'Failed' ELSE 'Completed' END`;
    await timed(
      `${runs} runs`,
      `${withClause(
        s.with,
      )}INSERT INTO chaos_runs (id, experiment_id, experiment_name, entity_ref, cluster, namespace, resource_name, dry_run, spec,
              phase, verdict, reason, message, blast_radius, probes, steps, abort_latency_ms, resource_version, resource_uid, status_version,
              created_by, created_at, updated_at, started_at, finished_at)
       SELECT ${x.uuid('r.i', '8000')}, ${x.uuid(exp, 'a000')}, ${x.concat(
        x.lit('kill-'),
        x.text('r.k'),
      )},
              ${x.concat(x.lit('component:default/'), svc)}, ${x.lit(
        cluster,
      )}, ${x.lit(namespace)},
              ${x.concat(
                x.lit('kill-'),
                x.text('r.k'),
                x.lit('-'),
                x.hex('r.i', 8),
              )}, ${x.bool(`r.i % 10 = 9`)},
              replace(replace(replace(${x.lit(
                runSpecTemplate,
              )}, '__SVC__', ${svc}), '__K__', ${x.text(
        'r.k',
      )}), '__EXP__', ${x.text(x.uuid(exp, 'a000'))}),
              ${phase},
              CASE WHEN r.i % 20 = 0 THEN 'Failed' WHEN r.i % 20 = 1 THEN 'Inconclusive' ELSE 'Passed' END,
              CASE WHEN r.i % 20 = 0 THEN 'ProbeFailed' WHEN r.i % 20 = 1 THEN 'PreflightFailed' ELSE 'Completed' END,
              CASE WHEN r.i % 20 = 0 THEN 'Probe available failed 2 consecutive checks; rolled back'
                   WHEN r.i % 20 = 1 THEN 'No pod matched the selector' ELSE 'The steady state held' END,
              ${x.lit(
                JSON.stringify({
                  selected: 1,
                  eligible: 10,
                  percent: 10,
                  limit: 10,
                }),
              )},
              CASE WHEN r.i % ${LARGE_EVERY} = ${LARGE_AT} THEN ${x.lit(
        largeProbes,
      )} WHEN r.i % 5 = 0 THEN ${x.lit(smallProbes)} ELSE NULL END,
              NULL, CASE WHEN r.i % 20 = 0 THEN 450 ELSE NULL END,
              ${x.text('r.i')}, ${x.uuid(
        'r.i',
        'c000',
      )}, 6, 'user:default/bench',
              ${x.time(created)}, ${x.time(`${created} + 45000`)}, ${x.time(
        `${created} + 1000`,
      )}, ${x.time(`${created} + 45000`)}
       FROM (SELECT s.i AS i, ${e} AS e, ${k} AS k FROM ${s.from}) r`,
    );
  }

  {
    const s = x.series(runs);
    const p = x.series(6, 'p', 'n');
    const created = `${end} - (${runs} - s.i) * ${MINUTE_MS}`;
    const last = `CASE WHEN s.i % 20 = 0 THEN 'Aborted' ELSE 'Completed' END`;
    const phaseOf = `CASE p.n WHEN 1 THEN 'Pending' WHEN 2 THEN 'Preflight' WHEN 3 THEN 'Injecting' WHEN 4 THEN 'Running' WHEN 5 THEN 'RollingBack' ELSE ${last} END`;
    const failedPhase = `CASE p.n WHEN 1 THEN 'Pending' WHEN 2 THEN 'Preflight' ELSE 'Failed' END`;
    await timed(
      `${runs} timelines`,
      `${withClause(
        s.with,
        p.with,
      )}INSERT INTO chaos_run_events (run_id, phase, time, reason, message)
       SELECT ${x.uuid(
         's.i',
         '8000',
       )}, CASE WHEN s.i % 20 = 1 THEN ${failedPhase} ELSE ${phaseOf} END,
              ${x.time(
                `${created} + p.n * 5000`,
              )}, 'PhaseChanged', 'The agent moved the run on'
       FROM ${s.from}, ${p.from}
       WHERE s.i % 20 <> 1 OR p.n <= 3`,
    );
  }

  {
    const s = x.series(runs);
    const t = x.series(LARGE_TARGETS, 't', 'n');
    const created = `${end} - (${runs} - s.i) * ${MINUTE_MS}`;
    const count = `CASE WHEN s.i % ${LARGE_EVERY} = ${LARGE_AT} THEN ${LARGE_TARGETS} ELSE 1 + s.i % 3 END`;
    const at = (offsetMs: number): string => `${created} + ${offsetMs}`;
    const events = (time: (ms: number) => string) =>
      x.concat(
        x.lit('[{"time":"'),
        time(2000),
        x.lit(
          '","reason":"Selected","message":"Chosen by the seeded selection among 10 eligible pods"},',
        ),
        x.lit('{"time":"'),
        time(3000),
        x.lit(
          '","reason":"Injected","message":"Evicted through the Eviction API (grace period 0 s)"},',
        ),
        x.lit('{"time":"'),
        time(40000),
        x.lit(
          '","reason":"Recovered","message":"The pod was replaced by its ReplicaSet and is Ready"}]',
        ),
      );
    const iso = (ms: number) =>
      x.pg
        ? `to_char(to_timestamp((${at(
            ms,
          )}) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
        : `strftime('%Y-%m-%dT%H:%M:%fZ', (${at(ms)}) / 1000.0, 'unixepoch')`;
    // The join is a lateral series on PostgreSQL; SQLite filters a cross join of the small series.
    const from = x.pg
      ? `${s.from}, generate_series(1, ${count}) AS t(n)`
      : `${s.from}, ${t.from} WHERE t.n <= ${count}`;
    await timed(
      `targets`,
      `${withClause(
        s.with,
        x.pg ? '' : t.with,
      )}INSERT INTO chaos_run_targets (run_id, pod, fault, node, phase, reason, message, injected_at, recovered_at, events)
       SELECT ${x.uuid('s.i', '8000')}, ${x.concat(
        x.lit('pod-'),
        x.hex('s.i', 8),
        x.lit('-'),
        x.text('t.n'),
      )}, 'pod-kill',
              ${x.concat(
                x.lit('node-'),
                x.text('t.n % 50'),
              )}, 'Recovered', 'Recovered', 'The pod was replaced and is Ready',
              ${x.time(at(3000))}, ${x.time(at(40000))}, ${events(iso)}
       FROM ${from}`,
    );
  }
  await countRuns(knex);
}

/** The per-entity run counts the store keeps with each insert, for runs seeded behind its back. */
export async function countRuns(knex: Knex): Promise<void> {
  await knex('chaos_run_counts').delete();
  await knex.raw(
    'insert into chaos_run_counts (entity_ref, run_count) ' +
      'select entity_ref, count(*) from chaos_runs group by entity_ref',
  );
}

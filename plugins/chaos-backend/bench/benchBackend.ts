import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import knexFactory, { Knex } from 'knex';
import { createServiceFactory } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  ChaosRunClient,
  loadKubeConfig,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { applyCrds } from '@chaoscraft/agent-testkit';
import {
  SANDBOX_KUBECONFIG_ENV,
  startSandbox,
  stopSandbox,
  stopSandboxSync,
  StartedSandbox,
  waitFor,
} from '@chaoscraft/test-sandbox';
import { chaosPlugin } from '../src/plugin';
import { decodeRunCursor, encodeRunCursor } from '../src/database/runCursor';
import { startHttpFloor } from './httpFloor';
import {
  LoadJob,
  LoadResult,
  LoadTarget,
  LOOP_RESOLUTION_MS,
  loopLateMs,
  OPERATIONS,
  Operation,
} from './load';
import { measureMirror, MirrorFigure } from './mirror';
import { normalizeSql, openRawDb, RawDb, rawOperations } from './rawSql';
import {
  Dialect,
  entityName,
  entityRef,
  experimentForCreate,
  largeRuns,
  runId,
  SEED_END,
  seedHistory,
  countRuns,
  SeedShape,
} from './seed';

/**
 * bench-backend: the chaos backend's history at scale, against the same SQL sent raw.
 *
 * A database (a private PostgreSQL by default; BENCH_DB=sqlite for the embedded default) seeded
 * with BENCH_RUNS runs over 5,000 entities (see seed.ts), the chaos plugin started on it with
 * startTestBackend (its real router, stores, run launcher and auditor; permissions allow all; the
 * catalog a fake holding the 5,000 entities), and the sandbox's API server as its cluster. Then
 * BENCH_CLIENTS clients, each waiting BENCH_THINK_MS between requests, cycle through four
 * operations: the first page of an entity's runs (the entity weighted by its runs), a deep page of
 * the busiest entity, a run with 100 targets, and a new run (a ChaosRun created in the sandbox).
 * Every HTTP request carries a user's token, as the frontend's fetchApi sends one on every call.
 *
 * The baseline is the same statements sent by `pg` (or better-sqlite3) directly, with the same
 * pool size, the same clients and think time, and the same ChaosRun create; the bench checks at
 * warm-up that its statements are the ones the backend sent. Between the two, the HTTP floor
 * (httpFloor.ts): the same raw statements behind a bare `node:http` server on the backend's thread,
 * what any HTTP service over that SQL pays here at the least (floor_ratio against raw;
 * backend_floor_ratio, the backend against it). Each of the three then serves
 * BENCH_WARMUP_SECONDS (10) of the same load, not counted, and they take turns in BENCH_SLICES
 * slices each, so that all see the same machine. Every figure is the client's wall time, but two:
 * backend_cpu_ms_per_request, the CPU the backend's thread spent per request (its capacity is about
 * 1,000 / that many requests a second, whatever else the machine runs), and
 * floor_cpu_ms_per_request, the same thread's while the floor served.
 *
 * Last, the run mirror's write of a large run (mirror.ts): one status of BENCH_MIRROR_TARGETS
 * (1,000) records applied by the store, against its own statements replayed raw; then the same
 * status applied again (a running run's next write: nothing changed, nothing rewritten).
 */

const DIALECT: Dialect = process.env.BENCH_DB === 'sqlite' ? 'sqlite' : 'pg';
const RUNS = Number(
  process.env.BENCH_RUNS ?? (DIALECT === 'pg' ? 1_000_000 : 100_000),
);
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 5000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const SLICES = Number(process.env.BENCH_SLICES ?? 3);
/** Each client's pause between two requests: 50 clients at 100 ms offer up to 500 requests/s. */
const THINK_MS = Number(process.env.BENCH_THINK_MS ?? 100);
/** Seconds of load each target serves before the measured slices (not counted). */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 10);
/** BENCH_OPS=list_first,get_run measures only those. */
const OPS = (process.env.BENCH_OPS?.split(',') ?? [
  ...OPERATIONS,
]) as Operation[];
/** Knex's default pool for PostgreSQL (min 2, max 10): the backend's, and so the baseline's. */
const POOL_SIZE = DIALECT === 'pg' ? 10 : 1;
/** The run mirror's write of one large run's status: its targets (0 = not measured) and repeats. */
const MIRROR_TARGETS = Number(process.env.BENCH_MIRROR_TARGETS ?? 1000);
const MIRROR_REPEATS = Number(process.env.BENCH_MIRROR_REPEATS ?? 5);
const NAMESPACE = 'chaos-bench';
const CLUSTER = 'bench';
const WATCHDOG_MS = 30 * 60_000;
const REPO_ROOT = path.resolve(__dirname, '../../..');

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ];
}

const fmt = (n: number): string => n.toFixed(1);
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

/**
 * The CPU time the calling thread has had, in ms (Linux's /proc/thread-self/schedstat counts ns
 * on the CPU). The backend runs on this process's main thread, the load in a worker and the
 * database elsewhere, so the main thread's CPU per request is what a request costs the backend,
 * whatever the latency a busy or idle machine adds.
 */
function threadCpuMs(): number {
  return (
    Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) /
    1e6
  );
}

/**
 * While the backend serves one slice: how late its thread's event loop ran (time requests spent
 * behind other work on that thread), how long its garbage collector stopped that thread (V8's
 * pauses, reported after each), and how long each query waited for a connection from Knex's
 * pool (tarn's acquire events: a pool too small for the load shows here, not in the loop).
 */
function watchBackend(knex: Knex): {
  stop: () => {
    loopLateP99Ms: number;
    loopLateMaxMs: number;
    gcPauses: number[];
    connectionWaits: number[];
  };
} {
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const gcPauses: number[] = [];
  const gc = new PerformanceObserver(list => {
    for (const entry of list.getEntries()) gcPauses.push(entry.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  const pool = knex.client.pool as {
    on(event: string, listener: (id: number) => void): void;
    removeListener(event: string, listener: (id: number) => void): void;
  };
  const requested = new Map<number, number>();
  const connectionWaits: number[] = [];
  const onRequest = (id: number) => requested.set(id, performance.now());
  const onSuccess = (id: number) => {
    const since = requested.get(id);
    if (since === undefined) return;
    requested.delete(id);
    connectionWaits.push(performance.now() - since);
  };
  pool.on('acquireRequest', onRequest);
  pool.on('acquireSuccess', onSuccess);
  loopDelay.enable();
  return {
    stop: () => {
      loopDelay.disable();
      for (const entry of gc.takeRecords()) gcPauses.push(entry.duration);
      gc.disconnect();
      pool.removeListener('acquireRequest', onRequest);
      pool.removeListener('acquireSuccess', onSuccess);
      return {
        loopLateP99Ms: loopLateMs(loopDelay, 99),
        loopLateMaxMs: loopLateMs(loopDelay, 100),
        gcPauses,
        connectionWaits,
      };
    },
  };
}

type Cleanup = {
  name: string;
  run: () => Promise<void> | void;
  sync?: () => void;
};

/** A private PostgreSQL from scripts/postgres.sh, or BENCH_PG_URL's. */
function startPostgres(cleanups: Cleanup[]): string {
  if (process.env.BENCH_PG_URL) return process.env.BENCH_PG_URL;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chaoscraft-bench-pg-'));
  const script = path.join(REPO_ROOT, 'scripts/postgres.sh');
  const started = spawnSync('bash', [script, 'start', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (started.status !== 0)
    throw new Error(`scripts/postgres.sh start failed (${started.status})`);
  const stop = () => {
    spawnSync('bash', [script, 'stop', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push({ name: 'postgres', run: stop, sync: stop });
  return started.stdout.trim().split('\n').pop()!;
}

/**
 * The catalog the router reads on every request, holding the seeded entities. The stock
 * catalogServiceMock rebuilds a map of every entity on each call (5,000 stringifyEntityRef per
 * request), which would measure the mock; this one answers the same two calls from a map.
 */
function benchCatalog(entities: Entity[]) {
  const catalog = catalogServiceMock({ entities: entities.slice(0, 1) });
  const byRef = new Map(entities.map(e => [stringifyEntityRef(e), e]));
  catalog.getEntityByRef = async (
    ref: string | { kind: string; namespace?: string; name: string },
  ) =>
    byRef.get(
      typeof ref === 'string'
        ? stringifyEntityRef(parseEntityRef(ref))
        : stringifyEntityRef(ref),
    );
  catalog.getEntitiesByRefs = async (request: { entityRefs: string[] }) => ({
    items: request.entityRefs.map(ref => byRef.get(ref)),
  });
  return createServiceFactory({
    service: catalogServiceRef,
    deps: {},
    factory: () => catalog,
  });
}

function entitiesOf(count: number): Entity[] {
  return Array.from({ length: count }, (_, e) => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: entityName(e),
      namespace: 'default',
      annotations: {
        'backstage.io/kubernetes-namespace': NAMESPACE,
        'backstage.io/kubernetes-label-selector': `app=${entityName(e)}`,
        'chaoscraft.io/cluster': CLUSTER,
      },
    },
    spec: {
      type: 'service',
      owner: 'user:default/mock',
      lifecycle: 'production',
    },
    relations: [{ type: 'ownedBy', targetRef: 'user:default/mock' }],
  }));
}

/** Seeds unless BENCH_REUSE_SEED=1 finds this very shape already seeded (a marker table says). */
async function prepareDatabase(knex: Knex, shape: SeedShape): Promise<void> {
  const marker = JSON.stringify(shape);
  if (
    process.env.BENCH_REUSE_SEED === '1' &&
    (await knex.schema.hasTable('bench_seed'))
  ) {
    const [row] = await knex('bench_seed').select('shape');
    if (row?.shape === marker) {
      log('reusing the seeded database (BENCH_REUSE_SEED=1)');
      await knex.migrate.latest({
        directory: path.resolve(__dirname, '../migrations'),
      });
      // Back to the seed: the runs earlier benches created go (their events and targets cascade).
      const removed = await knex('chaos_runs')
        .where('created_at', '>', new Date(SEED_END))
        .delete();
      if (removed) log(`removed ${removed} runs an earlier bench created`);
      await countRuns(knex);
      return;
    }
  }
  for (const table of [
    'chaos_run_targets',
    'chaos_run_events',
    'chaos_runs',
    'chaos_experiments',
    'knex_migrations',
    'knex_migrations_lock',
    'bench_seed',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
  // Every other table the plugin's migrations make, so that they start from nothing.
  const others: string[] =
    DIALECT === 'pg'
      ? (
          await knex.raw(
            `select tablename from pg_tables where schemaname = 'public'`,
          )
        ).rows.map((r: any) => r.tablename)
      : (
          await knex.raw(
            `select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`,
          )
        ).map((r: any) => r.name);
  for (const table of others) await knex.schema.dropTableIfExists(table);
  await knex.migrate.latest({
    directory: path.resolve(__dirname, '../migrations'),
  });
  const t0 = Date.now();
  await seedHistory(knex, DIALECT, shape, log);
  await knex.raw(DIALECT === 'pg' ? 'VACUUM ANALYZE' : 'ANALYZE');
  await knex.schema.createTable('bench_seed', t => t.text('shape'));
  await knex('bench_seed').insert({ shape: marker });
  log(`seeded and analyzed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

async function ensureNamespace(core: CoreV1Api): Promise<void> {
  await waitFor(
    async () => {
      try {
        const ns = await core.readNamespace({ name: NAMESPACE });
        if (ns.status?.phase === 'Terminating') return false;
        return true;
      } catch {
        await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
        return true;
      }
    },
    { timeoutMs: 120_000, description: `namespace ${NAMESPACE}` },
  );
}

function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // The worker loads the TypeScript through the same runtime transform as this process.
    const worker = new Worker(
      `require(${JSON.stringify(path.join(__dirname, 'load.ts'))})`,
      {
        eval: true,
        workerData: job,
        execArgv: process.execArgv,
      },
    );
    worker.once(
      'message',
      (message: { result?: LoadResult; error?: string }) => {
        if (message.error) reject(new Error(message.error));
        else resolve(message.result!);
        void worker.terminate();
      },
    );
    worker.once('error', reject);
  });
}

/**
 * The baseline must send what the backend sends: runs each operation once through the backend
 * (recording Knex's statements) and once raw (recording ours), and fails when they differ.
 */
async function checkSameSql(
  knex: Knex,
  raw: RawDb,
  backendUrl: string,
  samples: Record<
    Operation,
    {
      path: string;
      method: string;
      body?: unknown;
      raw: (ops: ReturnType<typeof rawOperations>) => Promise<unknown>;
    }
  >,
): Promise<void> {
  const seen: string[] = [];
  const listener = (q: { sql: string }) => seen.push(normalizeSql(q.sql));
  const recorded: string[] = [];
  const recording: RawDb = {
    query: (sql, params) => {
      recorded.push(normalizeSql(sql));
      return raw.query(sql, params);
    },
    tx: work =>
      raw.tx(tx =>
        work((sql, params) => {
          recorded.push(normalizeSql(sql));
          return tx(sql, params);
        }),
      ),
    close: raw.close,
  };
  const ops = rawOperations(recording, DIALECT);
  const ignore = (sql: string) =>
    /^(begin|commit|rollback)\b|^(savepoint|release savepoint)/.test(sql);
  for (const op of OPERATIONS) {
    const sample = samples[op];
    seen.length = 0;
    knex.on('query', listener);
    const res = await fetch(`${backendUrl}/api/chaos${sample.path}`, {
      method: sample.method,
      headers: { 'content-type': 'application/json' },
      body: sample.body === undefined ? undefined : JSON.stringify(sample.body),
    });
    knex.off('query', listener);
    if (!res.ok)
      throw new Error(`warm-up ${op}: ${res.status} ${await res.text()}`);
    recorded.length = 0;
    await sample.raw(ops);
    const backend = [
      ...new Set(seen.filter(s => !ignore(s) && /chaos_/.test(s))),
    ].sort();
    const baseline = [...new Set(recorded.filter(s => !ignore(s)))].sort();
    if (JSON.stringify(backend) !== JSON.stringify(baseline)) {
      throw new Error(
        `the raw baseline of ${op} no longer sends what the backend sends; update bench/rawSql.ts.\n` +
          `backend:\n  ${backend.join('\n  ')}\nraw:\n  ${baseline.join(
            '\n  ',
          )}`,
      );
    }
    log(
      `warm-up ${op}: the baseline sends the backend's ${backend.length} statements`,
    );
  }
}

/**
 * BENCH_SQL_TIMES=1: every statement Knex sends while the backend slices run, with its count and
 * total time, the costliest first (on stderr). Finds the query a profile cannot: the stack of a
 * synchronous better-sqlite3 call is lost at the promise boundary.
 */
function sqlTimes(knex: Knex) {
  const started = new Map<string, { sql: string; at: number }>();
  const totals = new Map<string, { count: number; ms: number }>();
  const onQuery = (q: { __knexQueryUid: string; sql: string }) =>
    started.set(q.__knexQueryUid, {
      sql: normalizeSql(q.sql),
      at: performance.now(),
    });
  const onDone = (_: unknown, q: { __knexQueryUid: string }) => {
    const s = started.get(q.__knexQueryUid);
    if (!s) return;
    started.delete(q.__knexQueryUid);
    const t = totals.get(s.sql) ?? { count: 0, ms: 0 };
    t.count++;
    t.ms += performance.now() - s.at;
    totals.set(s.sql, t);
  };
  return {
    start: () => {
      knex.on('query', onQuery);
      knex.on('query-response', onDone);
      knex.on('query-error', onDone);
    },
    stop: () => {
      knex.off('query', onQuery);
      knex.off('query-response', onDone);
      knex.off('query-error', onDone);
    },
    report: () => {
      for (const [sql, t] of [...totals].sort((a, b) => b[1].ms - a[1].ms))
        log(
          `sql ${t.ms.toFixed(0)} ms over ${t.count} (${(
            t.ms / t.count
          ).toFixed(2)} ms each): ${sql
            .replace(/^select (?!count).*? from/, 'select … from')
            .slice(0, 240)}`,
        );
    },
  };
}

/**
 * BENCH_PROFILE=FILE: a CPU profile of this process's main thread (the backend) while the
 * backend slices run, for Chrome DevTools.
 */
function backendProfiler(file: string) {
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) =>
      session.post(method, params, (error, result) =>
        error ? reject(error) : resolve(result),
      ),
    );
  const profiles: any[] = [];
  return {
    start: async () => {
      await post('Profiler.enable');
      await post('Profiler.start');
    },
    stop: async () => {
      profiles.push((await post('Profiler.stop')).profile);
      // The slices' profiles side by side: each is a complete profile.
      profiles.forEach((profile, i) =>
        writeFileSync(`${file}.${i}.cpuprofile`, JSON.stringify(profile)),
      );
    },
  };
}

async function main(): Promise<void> {
  const cleanups: Cleanup[] = [];
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${WATCHDOG_MS / 60_000} min; stopping`);
    for (const c of [...cleanups].reverse()) c.sync?.();
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  log(
    `load average at start: ${os
      .loadavg()
      .map(l => l.toFixed(2))
      .join(' ')} (${os.cpus().length} cores)`,
  );
  try {
    // The database.
    let knex: Knex;
    let pgUrl: string | undefined;
    let sqlitePath: string | undefined;
    if (DIALECT === 'pg') {
      const server = startPostgres(cleanups);
      const admin = knexFactory({
        client: 'pg',
        connection: `${server}/postgres`,
      });
      const exists =
        (
          await admin.raw(
            `select 1 from pg_database where datname = 'chaos_bench'`,
          )
        ).rows.length > 0;
      if (!exists) await admin.raw('create database chaos_bench');
      await admin.destroy();
      pgUrl = `${server}/chaos_bench`;
      knex = knexFactory({
        client: 'pg',
        connection: pgUrl,
        pool: { min: 2, max: POOL_SIZE },
      });
    } else {
      const dir =
        process.env.BENCH_SQLITE_DIR ??
        mkdtempSync(path.join(os.tmpdir(), 'chaoscraft-bench-sqlite-'));
      if (!process.env.BENCH_SQLITE_DIR)
        cleanups.push({
          name: 'sqlite',
          run: () => rmSync(dir, { recursive: true, force: true }),
        });
      sqlitePath = path.join(dir, 'chaos.sqlite');
      knex = knexFactory({
        client: 'better-sqlite3',
        connection: { filename: sqlitePath },
        useNullAsDefault: true,
      });
    }
    cleanups.push({ name: 'knex', run: () => knex.destroy() });
    const shape: SeedShape = {
      entities: ENTITIES,
      runs: RUNS,
      namespace: NAMESPACE,
      cluster: CLUSTER,
    };
    await prepareDatabase(knex, shape);
    const [{ count: totalRuns }] = await knex('chaos_runs').count({
      count: '*',
    });
    const hot = entityRef(0);
    const [{ count: hotRuns }] = await knex('chaos_runs')
      .where({ entity_ref: hot })
      .count({ count: '*' });
    const deepOffset = Math.floor((Number(hotRuns) * 0.85) / 20) * 20;
    // The run before the deep page, whose cursor a client paging there would hold.
    const [before] = await knex('chaos_runs')
      .where({ entity_ref: hot })
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'asc' },
      ])
      .offset(deepOffset - 1)
      .limit(1)
      .select('created_at', 'id');
    const deep = {
      entityRef: hot,
      after: encodeRunCursor({
        createdAt: new Date(before.created_at),
        id: before.id,
      }),
    };
    log(
      `${totalRuns} runs; the busiest entity ${hot} has ${hotRuns}; the deep page starts at ${deepOffset} (after ${deep.after})`,
    );

    // The cluster.
    let sandbox: StartedSandbox | undefined;
    let kubeconfigPath = process.env[SANDBOX_KUBECONFIG_ENV];
    if (!kubeconfigPath) {
      log('starting a sandbox');
      sandbox = await startSandbox({ nodes: 1 });
      kubeconfigPath = sandbox.kubeconfigPath;
      const owned = sandbox;
      cleanups.push({
        name: 'sandbox',
        run: () => stopSandbox(owned),
        sync: () => stopSandboxSync(owned),
      });
    }
    const kc = loadKubeConfig(kubeconfigPath);
    cleanups.push({ name: 'kubeconfig', run: () => kc.close() });
    await applyCrds(kc);
    const core = kc.makeApiClient(CoreV1Api);
    await ensureNamespace(core);
    cleanups.push({
      name: 'namespace',
      run: async () => {
        await core.deleteNamespace({ name: NAMESPACE }).catch(() => undefined);
      },
    });

    // The backend.
    const backend = await startTestBackend({
      features: [
        chaosPlugin,
        mockServices.database.factory({ knex }),
        mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
        mockServices.rootConfig.factory({
          data: {
            permission: { enabled: true },
            chaos: {
              clusters: [{ name: CLUSTER, kubeconfigPath }],
              // Creates never wait for a run to end (no agent runs here): let an entity hold many.
              ceilings: { maxLiveRunsPerEntity: 1000 },
            },
          },
        }),
        benchCatalog(entitiesOf(ENTITIES)),
      ],
    });
    cleanups.push({ name: 'backend', run: () => backend.stop() });
    const port = (backend.server.address() as { port: number }).port;
    const backendUrl = `http://127.0.0.1:${port}`;
    log(`backend on ${backendUrl}`);

    const large = largeRuns(RUNS).map(runId);
    // Creates take experiments in turn (experimentForCreate), never one with a live run.
    let nextExperiment = 0;
    const raw = await openRawDb(DIALECT, {
      pgUrl,
      sqlitePath,
      poolSize: POOL_SIZE,
    });
    cleanups.push({ name: 'raw', run: () => raw.close() });
    const someEntity = entityRef(7);
    await checkSameSql(knex, raw, backendUrl, {
      list_first: {
        method: 'GET',
        path: `/runs?entityRef=${encodeURIComponent(someEntity)}&limit=20`,
        raw: ops => ops.list(someEntity, undefined, 20),
      },
      list_deep: {
        method: 'GET',
        path: `/runs?entityRef=${encodeURIComponent(hot)}&after=${
          deep.after
        }&limit=20`,
        raw: ops => ops.list(hot, decodeRunCursor(deep.after), 20),
      },
      get_run: {
        method: 'GET',
        path: `/runs/${large[0]}`,
        raw: ops => ops.getRun(large[0]),
      },
      create: {
        method: 'POST',
        path: `/experiments/${experimentForCreate(
          nextExperiment++,
          ENTITIES,
        )}/runs`,
        body: { dryRun: false },
        raw: ops =>
          ops.createRun(
            experimentForCreate(nextExperiment++, ENTITIES),
            'user:default/mock',
            async () => undefined,
          ),
      },
    });

    // The HTTP floor: the same raw statements behind a bare HTTP server on this thread.
    const floor = await startHttpFloor(
      rawOperations(raw, DIALECT),
      new ChaosRunClient(kc),
    );
    cleanups.push({ name: 'http floor', run: () => floor.close() });

    // The load: the three targets take turns, slice by slice.
    const TARGETS: LoadTarget[] = ['raw', 'backend', 'floor'];
    const sliceMs = (SECONDS * 1000) / SLICES;
    const totals = Object.fromEntries(
      TARGETS.map(target => [
        target,
        Object.fromEntries(OPERATIONS.map(op => [op, []])),
      ]),
    ) as unknown as Record<LoadTarget, LoadResult['latencies']>;
    const loadJob = (
      target: LoadTarget,
      durationMs: number,
      seed: number,
    ): LoadJob => ({
      target,
      dialect: DIALECT,
      url: { backend: backendUrl, floor: floor.url, raw: undefined }[target],
      authorization:
        target === 'raw' ? undefined : mockCredentials.user.header(),
      pgUrl,
      sqlitePath,
      poolSize: POOL_SIZE,
      kubeconfigPath,
      namespace: NAMESPACE,
      clients: CLIENTS,
      durationMs,
      thinkMs: THINK_MS,
      entities: ENTITIES,
      runs: RUNS,
      deep,
      largeRunIds: large,
      operations: OPS,
      firstExperiment: nextExperiment,
      seed,
    });
    const errors: string[] = [];
    /** A load's failures noted under `label`; its latencies, all operations together. */
    const collect = (result: LoadResult, label: string): number[] => {
      for (const op of OPERATIONS)
        if (result.errors[op].count)
          errors.push(
            `${label} ${op}: ${result.errors[op].count} errors, e.g. ${result.errors[op].sample}`,
          );
      nextExperiment = result.nextExperiment;
      return OPERATIONS.flatMap(op => result.latencies[op]);
    };
    // None is measured cold: a backend that has served a while has its paths compiled. Measured
    // from its first request, its first 10 s (the JIT at work) had a p99 3–6× the later slices'.
    const warmUps = WARMUP_SECONDS > 0 ? TARGETS : [];
    for (const target of warmUps) {
      const result = await runLoad(loadJob(target, WARMUP_SECONDS * 1000, 999));
      const n = collect(result, `warm-up ${target}`).length;
      log(
        `warm-up ${target}: ${n} requests in ${WARMUP_SECONDS} s, not counted`,
      );
    }
    const profiler = process.env.BENCH_PROFILE
      ? backendProfiler(process.env.BENCH_PROFILE)
      : undefined;
    const sql = process.env.BENCH_SQL_TIMES ? sqlTimes(knex) : undefined;
    /** This thread's CPU while the backend, then the floor, served their slices. */
    const cpu = {
      backend: { ms: 0, requests: 0 },
      floor: { ms: 0, requests: 0 },
    };
    for (let slice = 0; slice < SLICES; slice++) {
      const order = TARGETS.map(
        (_, k) => TARGETS[(slice + k) % TARGETS.length],
      );
      for (const target of order) {
        if (target === 'backend') {
          await profiler?.start();
          sql?.start();
        }
        const cpuAtStart = threadCpuMs();
        const watch = target === 'backend' ? watchBackend(knex) : undefined;
        const result = await runLoad(loadJob(target, sliceMs, 1000 + slice));
        const seen = watch?.stop();
        if (target === 'backend') {
          await profiler?.stop();
          sql?.stop();
        }
        for (const op of OPERATIONS)
          totals[target][op].push(...result.latencies[op]);
        const latencies = collect(result, target);
        const n = latencies.length;
        if (target !== 'raw') {
          cpu[target].ms += threadCpuMs() - cpuAtStart;
          cpu[target].requests += n;
        }
        const backendSide = seen
          ? `, the backend's by ${fmt(seen.loopLateP99Ms)} (${fmt(
              seen.loopLateMaxMs,
            )} at most); its garbage collector stopped it ${
              seen.gcPauses.length
            } times, ${fmt(sum(seen.gcPauses))} ms in all, ${fmt(
              Math.max(0, ...seen.gcPauses),
            )} the longest; a connection from its pool waited ${fmt(
              percentile(seen.connectionWaits, 50),
            )} ms at p50, ${fmt(percentile(seen.connectionWaits, 99))} at p99`
          : '';
        log(
          `slice ${slice + 1}/${SLICES} ${target}: ${n} requests in ${(
            sliceMs / 1000
          ).toFixed(0)} s (${(n / (sliceMs / 1000)).toFixed(0)}/s), p99 ${fmt(
            percentile(latencies, 99),
          )} ms; event loops late at p99: the load's by ${fmt(
            result.loopLateP99Ms,
          )} ms${backendSide}`,
        );
      }
    }
    sql?.report();
    if (errors.length)
      throw new Error(
        `requests failed, so the figures would flatter:\n${errors.join('\n')}`,
      );

    let mirror: MirrorFigure | undefined;
    if (MIRROR_TARGETS > 0) {
      mirror = await measureMirror({
        knex,
        raw,
        dialect: DIALECT,
        experiment: {
          id: experimentForCreate(nextExperiment, ENTITIES),
          entityRef: entityRef(nextExperiment % ENTITIES),
        },
        targets: MIRROR_TARGETS,
        repeats: MIRROR_REPEATS,
      });
      log(
        `mirror: one status of ${mirror.targets} targets applied in ${fmt(
          mirror.storeMs,
        )} ms by the store, ${fmt(
          mirror.rawMs,
        )} ms raw; applied again, unchanged, in ${fmt(
          mirror.unchangedMs,
        )} ms (medians of ${mirror.repeats})`,
      );
    }

    const seconds = SECONDS;
    for (const op of OPS) {
      const b = totals.backend[op];
      const r = totals.raw[op];
      const f = totals.floor[op];
      process.stdout.write(
        `op=${op} backend_p50_ms=${fmt(percentile(b, 50))} backend_p99_ms=${fmt(
          percentile(b, 99),
        )} ` +
          `raw_p50_ms=${fmt(percentile(r, 50))} raw_p99_ms=${fmt(
            percentile(r, 99),
          )} ratio=${(percentile(b, 99) / percentile(r, 99)).toFixed(2)} ` +
          `floor_p50_ms=${fmt(percentile(f, 50))} floor_p99_ms=${fmt(
            percentile(f, 99),
          )} ` +
          `backend_rps=${(b.length / seconds).toFixed(0)} raw_rps=${(
            r.length / seconds
          ).toFixed(0)}\n`,
      );
    }
    const all = (t: LoadTarget) => OPS.flatMap(op => totals[t][op]);
    const backendP99 = percentile(all('backend'), 99);
    const rawP99 = percentile(all('raw'), 99);
    const floorP99 = percentile(all('floor'), 99);
    log(
      `load average at end: ${os
        .loadavg()
        .map(l => l.toFixed(2))
        .join(' ')}`,
    );
    const mirrorFigures = mirror
      ? ` mirror_targets=${mirror.targets} mirror_ms=${fmt(
          mirror.storeMs,
        )} mirror_raw_ms=${fmt(mirror.rawMs)} mirror_ratio=${(
          mirror.storeMs / mirror.rawMs
        ).toFixed(2)} mirror_unchanged_ms=${fmt(mirror.unchangedMs)}`
      : '';
    process.stdout.write(
      `backend_p99_ms=${fmt(backendP99)} raw_p99_ms=${fmt(rawP99)} ratio=${(
        backendP99 / rawP99
      ).toFixed(2)} db=${
        DIALECT === 'pg' ? 'postgres' : 'sqlite'
      } runs=${totalRuns} clients=${CLIENTS} think_ms=${THINK_MS} backend_cpu_ms_per_request=${(
        cpu.backend.ms / cpu.backend.requests
      ).toFixed(2)} floor_p99_ms=${fmt(floorP99)} floor_ratio=${(
        floorP99 / rawP99
      ).toFixed(2)} backend_floor_ratio=${(backendP99 / floorP99).toFixed(
        2,
      )} floor_cpu_ms_per_request=${(cpu.floor.ms / cpu.floor.requests).toFixed(
        2,
      )}${mirrorFigures}\n`,
    );
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c.run();
      } catch (error) {
        log(`cleanup ${c.name} failed: ${String(error)}`);
      }
    }
    clearTimeout(watchdog);
  }
}

main().then(
  () => process.exit(0),
  error => {
    process.stderr.write(
      `bench-backend failed: ${
        error instanceof Error ? error.stack ?? error.message : String(error)
      }\n`,
    );
    process.exit(1);
  },
);

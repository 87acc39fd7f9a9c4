import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import { Browser, Page, chromium } from 'playwright-core';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { DatabaseService } from '@backstage/backend-plugin-api';
import {
  CHAOS_API_VERSION,
  CHAOS_RUN,
  CHAOS_RUN_ID_LABEL,
  MAX_PROBE_SAMPLES,
  type ChaosRunStatus,
  type ExperimentSpec,
  type ProbeResult,
  experimentSpecSchema,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  ChaosRunClient,
  type ChaosRunResource,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { applyCrds } from '@chaoscraft/agent-testkit';
import {
  SANDBOX_KUBECONFIG_ENV,
  WaitAbortedError,
  startSandbox,
  stopSandboxSync,
  waitFor,
} from '@chaoscraft/test-sandbox';
import { DatabaseExperimentStore } from '../../plugins/chaos-backend/src/database/DatabaseExperimentStore';
import { DatabaseRunStore } from '../../plugins/chaos-backend/src/database/DatabaseRunStore';
import type { Clock } from '../../plugins/chaos-backend/src/clock';

/**
 * bench-ui: how fast the Chaos tab and the run page become usable in a real browser, with a big
 * history, and whether the run page stays smooth while signals stream in.
 *
 * Real components: the production build of packages/app (built here when its sources are newer),
 * served by the real Backstage backend of packages/backend (`yarn start`, as `make dev` runs it)
 * on a free port, with the chaos plugin on its own SQLite database, the signals plugin, guest
 * sign-in and the permission policy; a sandbox API server (infra/sandbox) as the cluster
 * `sandbox`, so that the backend's run mirror watches real ChaosRun objects; headless Chromium
 * driven by playwright-core as the browser stories drive it.
 *
 * Data, written before the backend starts by the backend's own stores (DatabaseExperimentStore,
 * DatabaseRunStore: migrations, create, applyStatus): two catalog entities alike but for their
 * history, bench-busy with BENCH_UI_RUNS (500) runs of an experiment with 20 probes, and
 * bench-empty with none (the baseline). The newest BENCH_UI_FULL_RUNS runs carry 20 probes of 120
 * samples each (the most the agent keeps), older ones 20 of 12; one run has no probes (the run
 * page's baseline); the newest run is live, bound to a ChaosRun in the sandbox.
 *
 * Measured, each BENCH_UI_TRIALS times (the median is printed, the first trial separately: it
 * loads the plugin's code), in the page (performance.now(), read in requestAnimationFrame, i.e.
 * just before the frame that shows it is painted):
 * - tab_ms: from the in-app navigation to the Chaos tab of bench-busy (as a click on the tab does:
 *   the entity is already loaded) to the first frame with the experiments table, the first page
 *   of the run history and an enabled "New experiment" button; baseline_tab_ms: the same on
 *   bench-empty;
 * - run_page_ms: from the navigation to a finished run with 20 probes × 120 samples to the first
 *   frame where all 20 captions count their 120 samples and every chart in the viewport has drawn
 *   its line (the page draws a chart only in or near the viewport); baseline_run_page_ms: a run
 *   without probes;
 * - signals: with the live run's page open, every BENCH_UI_SIGNAL_MS (200) ms for
 *   BENCH_UI_STREAM_MS (10 s) the bench writes the ChaosRun's status in the sandbox (each probe
 *   one more sample, 70 → 120); the backend's mirror applies it through the observed run store,
 *   which publishes the run's signal; the page reads the run again and redraws. The page counts
 *   its frames (requestAnimationFrame) and long tasks (PerformanceObserver 'longtask') meanwhile:
 *   signals_frame_max_ms is the longest gap between two frames, signals_longtask_* the long tasks,
 *   signals_updates how many different sample counts the page showed, signals_received the
 *   signal messages its socket got.
 *
 * The last line of stdout is `key=value ...` ending in `tab_ms=<n> run_page_ms=<n>`; progress goes
 * to stderr. The whole bench is bounded by BENCH_UI_TIMEOUT_MS (15 min) and stops everything it
 * started (backend, browser, sandbox) on every exit. With CHAOSCRAFT_SANDBOX_KUBECONFIG it uses that
 * sandbox (its directory must be a sandbox.sh directory) and only removes its own namespace.
 */

const REPO = path.resolve(__dirname, '../..');
const RUNS = Number(process.env.BENCH_UI_RUNS ?? 500);
const FULL_RUNS = Number(process.env.BENCH_UI_FULL_RUNS ?? 20);
const PROBES = 20;
const SAMPLES = MAX_PROBE_SAMPLES;
const TRIALS = Number(process.env.BENCH_UI_TRIALS ?? 5);
const SIGNAL_MS = Number(process.env.BENCH_UI_SIGNAL_MS ?? 200);
const STREAM_MS = Number(process.env.BENCH_UI_STREAM_MS ?? 10_000);
const TIMEOUT_MS = Number(process.env.BENCH_UI_TIMEOUT_MS ?? 15 * 60_000);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const NAMESPACE = 'chaos-bench';
const CLUSTER = 'sandbox';
const BUSY = 'bench-busy';
const EMPTY = 'bench-empty';
const GUEST = 'user:default/guest';
/** The live run starts with this many samples per probe and gains one per signal, up to SAMPLES. */
const LIVE_START_SAMPLES = Math.max(
  1,
  SAMPLES - Math.round(STREAM_MS / SIGNAL_MS),
);

function log(message: string): void {
  process.stderr.write(`bench-ui: ${message}\n`);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const ms = (n: number): string => String(Math.round(n));

// --- Cleanup: everything started is stopped, in reverse order, on every way out ---------------

type Cleanup = {
  name: string;
  run: () => Promise<void> | void;
  sync: () => void;
};
const cleanups: Cleanup[] = [];
let cleaning: Promise<void> | undefined;

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const cleanup = cleanups.pop()!;
      try {
        await cleanup.run();
      } catch (error) {
        log(`cleanup of ${cleanup.name} failed: ${error}`);
      }
    }
  })();
  return cleaning;
}

process.on('exit', () => {
  // Only synchronous work here: whatever the async cleanup did not reach.
  while (cleanups.length) {
    try {
      cleanups.pop()!.sync();
    } catch {
      /* best effort on exit */
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping what the bench started`);
    void cleanUp().finally(() => process.exit(130));
  });
}

// --- The app bundle ------------------------------------------------------------------------------

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (
      entry.name === 'node_modules' ||
      entry.name === 'dist' ||
      entry.name === 'dist-types'
    )
      continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(
      newest,
      entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs,
    );
  }
  return newest;
}

/** Builds packages/app (the production bundle the backend serves) unless it is newer than its sources. */
function ensureAppBuild(): void {
  const index = path.join(REPO, 'packages/app/dist/index.html');
  const sources = ['packages/app', 'plugins/chaos', 'plugins/chaos-common'].map(
    d => newestMtime(path.join(REPO, d)),
  );
  if (
    existsSync(index) &&
    statSync(index).mtimeMs > Math.max(...sources) &&
    process.env.BENCH_UI_REBUILD !== '1'
  ) {
    log('packages/app/dist is newer than its sources: not rebuilding');
    return;
  }
  log('building packages/app (yarn workspace app build)');
  const t0 = Date.now();
  const built = spawnSync('yarn', ['workspace', 'app', 'build'], {
    cwd: REPO,
    stdio: ['ignore', process.stderr, 'inherit'],
  });
  if (built.status !== 0)
    throw new Error(`yarn workspace app build exited with ${built.status}`);
  log(`built the app in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

// --- The cluster ---------------------------------------------------------------------------------

async function sandbox(): Promise<{ dir: string; kc: KubeConfig }> {
  let dir: string;
  const shared = process.env[SANDBOX_KUBECONFIG_ENV];
  if (shared) {
    dir = path.dirname(shared);
    log(`using the sandbox of ${SANDBOX_KUBECONFIG_ENV} (${dir})`);
  } else {
    log('starting a sandbox (infra/sandbox/sandbox.sh up, kwok only)');
    const started = await startSandbox({ nodes: 1, realNode: false });
    cleanups.push({
      name: 'sandbox',
      run: () => stopSandboxSync(started),
      sync: () => stopSandboxSync(started),
    });
    dir = started.dir;
  }
  // Backstage's identity in the sandbox and the cluster config `make dev` gives the backend.
  const access = spawnSync(
    'bash',
    [path.join(REPO, 'infra/demo/access.sh'), dir],
    { stdio: ['ignore', process.stderr, 'inherit'] },
  );
  if (access.status !== 0)
    throw new Error(`infra/demo/access.sh exited with ${access.status}`);
  const kc = new KubeConfig();
  kc.loadFromFile(path.join(dir, 'kubeconfig'));
  await applyCrds(kc);
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    async () => {
      try {
        const ns = await core.readNamespace({ name: NAMESPACE });
        return ns.status?.phase !== 'Terminating';
      } catch {
        await core
          .createNamespace({ body: { metadata: { name: NAMESPACE } } })
          .catch(() => undefined);
        return false;
      }
    },
    { timeoutMs: 120_000, description: `namespace ${NAMESPACE}` },
  );
  const removeNamespace = () => {
    spawnSync(
      path.join(dir, 'bin/kubectl'),
      [
        '--kubeconfig',
        path.join(dir, 'kubeconfig'),
        'delete',
        'namespace',
        NAMESPACE,
        '--wait=false',
      ],
      { stdio: 'ignore' },
    );
  };
  if (shared)
    cleanups.push({
      name: `namespace ${NAMESPACE}`,
      run: removeNamespace,
      sync: removeNamespace,
    });
  return { dir, kc };
}

// --- The data ------------------------------------------------------------------------------------

function experimentSpec(entity: string): ExperimentSpec {
  return experimentSpecSchema.parse({
    name: 'kill-one-pod',
    entityRef: `component:default/${entity}`,
    description:
      'Kill one pod and check the service keeps serving, by twenty probes.',
    target: {
      namespace: NAMESPACE,
      labelSelector: { app: entity },
      selection: { mode: 'one' },
    },
    faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
    duration: '2m',
    safety: { maxBlastRadiusPercent: 50 },
    hypothesis: {
      interval: '1s',
      failureThreshold: 3,
      probes: Array.from({ length: PROBES }, (_, p) => ({
        type: 'promql',
        name: `probe-${String(p + 1).padStart(2, '0')}`,
        query: `sum(rate(http_requests_total{app="${entity}",code=~"5.."}[1m])) / sum(rate(http_requests_total{app="${entity}"}[1m])) + ${p}`,
        comparison: '<',
        threshold: 0.05,
      })),
    },
  });
}

/** Samples one second apart ending at `end`; a few fail during the injection, as real ones do. */
function probeResults(
  count: number,
  samples: number,
  end: number,
): ProbeResult[] {
  return Array.from({ length: count }, (_, p) => ({
    name: `probe-${String(p + 1).padStart(2, '0')}`,
    type: 'promql' as const,
    comparison: '<' as const,
    threshold: 0.05,
    verdict: 'Passed' as const,
    consecutiveFailures: 0,
    samples: Array.from({ length: samples }, (__, s) =>
      sample(p, s, samples, end - (samples - 1 - s) * 1000),
    ),
  }));
}

function sample(
  p: number,
  s: number,
  total: number,
  time: number,
): ProbeResult['samples'][number] {
  const value = Number(
    (
      0.01 +
      0.03 * Math.abs(Math.sin((s + p) / 7)) +
      (s % 29 === 0 ? 0.03 : 0)
    ).toFixed(4),
  );
  const phase =
    s < total * 0.2 ? 'before' : s > total * 0.8 ? 'after' : 'during';
  return { time: new Date(time).toISOString(), phase, value, ok: value < 0.05 };
}

function terminalStatus(
  start: number,
  probes: ProbeResult[],
): Partial<ChaosRunStatus> {
  const iso = (t: number) => new Date(t).toISOString();
  const end = start + 150_000;
  return {
    phase: 'Completed',
    phaseTransitions: [
      { phase: 'Preflight', time: iso(start + 1000) },
      { phase: 'Injecting', time: iso(start + 2000) },
      { phase: 'Running', time: iso(start + 3000) },
      { phase: 'RollingBack', time: iso(start + 123_000) },
      { phase: 'Completed', time: iso(end) },
    ],
    startedAt: iso(start),
    finishedAt: iso(end),
    blastRadius: { selected: 1, eligible: 3, percent: 33.3, limit: 50 },
    targets: [
      {
        pod: `${BUSY}-7d9c-abcde`,
        node: 'kwok-node-0',
        fault: 'pod-kill',
        phase: 'Recovered',
        injectedAt: iso(start + 2500),
        recoveredAt: iso(start + 20_000),
        events: [
          { time: iso(start + 2500), reason: 'Killed', message: 'pod deleted' },
        ],
      },
    ],
    probes,
    steps: [],
    verdict: 'Passed',
    conditions: [],
  };
}

/** A clock the seeding moves by hand, so the history's times are one a minute, oldest first. */
class SteppedClock implements Clock {
  constructor(private t: number) {}
  now(): Date {
    return new Date(this.t);
  }
  set(t: number): void {
    this.t = t;
  }
}

type Seeded = {
  fullRunId: string;
  bareRunId: string;
  liveRunId: string;
  liveResource: string;
};

/**
 * Writes the history with the backend's own stores, on the SQLite file the backend then opens
 * (`<directory>/chaos.sqlite`, as backend-defaults names a plugin's database).
 */
async function seed(sqliteDir: string): Promise<Seeded> {
  mkdirSync(sqliteDir, { recursive: true });
  const knex: Knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: path.join(sqliteDir, 'chaos.sqlite') },
    useNullAsDefault: true,
  });
  try {
    const database = {
      getClient: async () => knex,
      migrations: { skip: false },
    } as unknown as DatabaseService;
    const now = Date.now();
    const first = now - (RUNS + 60) * 60_000;
    const clock = new SteppedClock(first);
    const experiments = await DatabaseExperimentStore.create({
      database,
      clock,
    });
    const runs = await DatabaseRunStore.create({ database, clock });
    const spec = experimentSpec(BUSY);
    const experiment = await experiments.create(spec, GUEST);
    await experiments.create(experimentSpec(EMPTY), GUEST);

    const t0 = Date.now();
    const finished = RUNS - 1;
    let fullRunId = '';
    let bareRunId = '';
    const bareAt = finished - FULL_RUNS - 5;
    const newRun = (i: number) => ({
      id: randomUUID(),
      experimentId: experiment.id,
      experimentName: experiment.name,
      entityRef: spec.entityRef,
      cluster: CLUSTER,
      namespace: NAMESPACE,
      resourceName: `kill-one-pod-${String(i).padStart(4, '0')}`,
      dryRun: false,
      createdBy: GUEST,
      spec: {
        ...spec,
        experiment: { name: experiment.name, id: experiment.id },
      },
    });
    for (let i = 0; i < finished; i++) {
      const start = first + i * 60_000;
      clock.set(start);
      const run = await runs.create(newRun(i));
      const full = i >= finished - FULL_RUNS;
      const probes =
        i === bareAt
          ? []
          : probeResults(PROBES, full ? SAMPLES : 12, start + 120_000);
      clock.set(start + 150_000);
      const ref = {
        id: run.id,
        cluster: CLUSTER,
        namespace: NAMESPACE,
        resourceName: run.resourceName,
        uid: randomUUID(),
      };
      if (!(await runs.applyStatus(ref, terminalStatus(start, probes), '1')))
        throw new Error(`seeding run ${i}: status not applied`);
      if (i === bareAt) bareRunId = run.id;
      if (i === finished - 1) fullRunId = run.id;
    }
    // The newest run is live: Pending here; its ChaosRun's status (Running) comes through the mirror.
    clock.set(now);
    const live = await runs.create(newRun(finished));
    log(
      `seeded ${RUNS} runs of ${
        spec.entityRef
      } (${FULL_RUNS} with ${PROBES}×${SAMPLES} samples) in ${(
        (Date.now() - t0) /
        1000
      ).toFixed(1)} s`,
    );
    return {
      fullRunId,
      bareRunId,
      liveRunId: live.id,
      liveResource: live.resourceName,
    };
  } finally {
    await knex.destroy();
  }
}

function liveStatus(start: number, samples: number): ChaosRunStatus {
  const iso = (t: number) => new Date(t).toISOString();
  return {
    phase: 'Running',
    phaseTransitions: [
      { phase: 'Pending', time: iso(start) },
      { phase: 'Preflight', time: iso(start + 1000) },
      { phase: 'Injecting', time: iso(start + 2000) },
      { phase: 'Running', time: iso(start + 3000) },
    ],
    startedAt: iso(start),
    blastRadius: { selected: 1, eligible: 3, percent: 33.3, limit: 50 },
    targets: [
      {
        pod: `${BUSY}-7d9c-fghij`,
        node: 'kwok-node-0',
        fault: 'pod-kill',
        phase: 'Injected',
        injectedAt: iso(start + 2500),
        events: [],
      },
    ],
    // Samples one second apart from the start: each new one extends every chart to the right.
    probes: probeResults(PROBES, samples, start + (samples - 1) * 1000),
    steps: [],
    conditions: [],
  };
}

// --- The backend ---------------------------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function writeCatalogAndConfig(work: string, port: number): string {
  const entity = (name: string) => `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${name}
  annotations:
    backstage.io/kubernetes-id: ${name}
    backstage.io/kubernetes-namespace: ${NAMESPACE}
    backstage.io/kubernetes-label-selector: app=${name}
    chaoscraft.io/cluster: ${CLUSTER}
    chaoscraft.io/max-blast-radius-percent: '50'
spec:
  type: service
  lifecycle: production
  owner: team-checkout
`;
  const catalog = path.join(work, 'bench-entities.yaml');
  writeFileSync(catalog, `${entity(BUSY)}---\n${entity(EMPTY)}`);
  const url = `http://localhost:${port}`;
  const config = path.join(work, 'bench-config.yaml');
  // The app is served by the backend (app-backend serves packages/app/dist): one origin, one port.
  writeFileSync(
    config,
    `app:
  baseUrl: ${url}
backend:
  baseUrl: ${url}
  listen:
    host: 127.0.0.1
    port: ${port}
  cors:
    origin: ${url}
  database:
    client: better-sqlite3
    connection:
      directory: ${path.join(work, 'sqlite')}
catalog:
  locations:
    - type: file
      target: ${catalog}
    - type: file
      target: ${path.join(REPO, 'examples/catalog/org.yaml')}
      rules:
        - allow: [User, Group]
`,
  );
  return config;
}

async function startBackend(
  work: string,
  configs: string[],
  url: string,
): Promise<void> {
  const logFile = path.join(work, 'backend.log');
  const out = openSync(logFile, 'a');
  const args = ['start', ...configs.flatMap(c => ['--config', c])];
  log(
    `starting the backend (packages/backend: yarn ${args.join(
      ' ',
    )}); its log: ${logFile}`,
  );
  const child: ChildProcess = spawn('yarn', args, {
    cwd: path.join(REPO, 'packages/backend'),
    detached: true,
    stdio: ['ignore', out, out],
  });
  const pid = child.pid!;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      /* already gone */
    }
  };
  cleanups.push({
    name: 'backend',
    run: async () => {
      killGroup('SIGTERM');
      for (let i = 0; i < 40 && !exited; i++)
        await new Promise(r => setTimeout(r, 250));
      killGroup('SIGKILL');
    },
    sync: () => killGroup('SIGKILL'),
  });
  const t0 = Date.now();
  await waitFor(
    async () => {
      if (exited)
        throw new WaitAbortedError(`the backend exited; see ${logFile}`);
      return fetch(`${url}/.backstage/health/v1/readiness`).then(
        r => r.ok,
        () => false,
      );
    },
    {
      timeoutMs: 300_000,
      intervalMs: 500,
      description: 'the backend to be ready',
    },
  );
  log(`backend ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

async function guestToken(url: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/guest/refresh`, {
    headers: { 'x-requested-with': 'XMLHttpRequest' },
  });
  if (!res.ok)
    throw new Error(`guest sign-in: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { backstageIdentity: { token: string } };
  return body.backstageIdentity.token;
}

/** Until the catalog holds both entities and the chaos API shows the seeded history and the live run's status. */
async function waitForData(url: string, seeded: Seeded): Promise<void> {
  const token = await guestToken(url);
  const get = (p: string) =>
    fetch(`${url}${p}`, { headers: { authorization: `Bearer ${token}` } });
  await waitFor(
    async () => {
      for (const name of [BUSY, EMPTY]) {
        if (
          !(
            await get(`/api/catalog/entities/by-name/component/default/${name}`)
          ).ok
        )
          return false;
      }
      return true;
    },
    {
      timeoutMs: 180_000,
      intervalMs: 1000,
      description: 'the catalog to hold the bench entities',
    },
  );
  const page = (await (
    await get(
      `/api/chaos/runs?entityRef=${encodeURIComponent(
        `component:default/${BUSY}`,
      )}&limit=10`,
    )
  ).json()) as { totalCount: number };
  if (page.totalCount !== RUNS)
    throw new Error(
      `the chaos API lists ${page.totalCount} runs of ${BUSY}, not ${RUNS}`,
    );
  await waitFor(
    async () => {
      const run = (await (
        await get(`/api/chaos/runs/${seeded.liveRunId}`)
      ).json()) as { phase: string };
      return run.phase === 'Running';
    },
    {
      timeoutMs: 60_000,
      intervalMs: 500,
      description: 'the mirror to apply the live run status',
    },
  );
}

// --- The browser ---------------------------------------------------------------------------------

type Ready = 'tab' | 'run' | 'bare-run';

/**
 * Navigates inside the app (history.pushState and popstate, as a link does: the app and the
 * entity stay loaded) and returns the milliseconds to the first animation frame where `ready` holds.
 */
async function timeNavigation(
  page: Page,
  to: string,
  ready: Ready,
): Promise<number> {
  return page.evaluate(
    ({ to: target, ready: what, probes, samples }) =>
      new Promise<number>((resolve, reject) => {
        const isReady = (): boolean => {
          if (what === 'tab') {
            const button = [...document.querySelectorAll('button')].find(
              b => b.textContent === 'New experiment',
            );
            const runs = document.querySelector(
              'table[aria-label="Runs"] tbody',
            );
            const empty = [
              ...document.querySelectorAll('h1,h2,h3,h4,h5,h6'),
            ].some(h => h.textContent === 'No runs yet');
            const experiments = [
              ...document.querySelectorAll('h1,h2,h3,h4,h5,h6'),
            ].some(h => /^\d+ experiments?$/.test(h.textContent ?? ''));
            return Boolean(
              button &&
                !(button as HTMLButtonElement).disabled &&
                experiments &&
                ((runs && runs.children.length > 0) || empty),
            );
          }
          if (!document.querySelector('[data-testid="run-phase"]'))
            return false;
          if (what === 'bare-run')
            return document.body.textContent!.includes(
              'No probes: this run checked no steady-state hypothesis.',
            );
          const figures = document.querySelectorAll(
            'figure[aria-label^="Samples of probe"]',
          );
          if (figures.length !== probes) return false;
          // Every caption counting all samples, and the line of every chart in the viewport drawn
          // (the page draws a chart only in or near the viewport: what can be seen is complete).
          return [...figures].every(f => {
            if (
              !f
                .querySelector('figcaption')
                ?.textContent?.includes(`${samples} samples`)
            )
              return false;
            const box = f.getBoundingClientRect();
            const seen = box.bottom > 0 && box.top < window.innerHeight;
            return (
              !seen ||
              Boolean(
                f.querySelector('.recharts-line-curve')?.getAttribute('d'),
              )
            );
          });
        };
        const t0 = performance.now();
        window.history.pushState(null, '', target);
        window.dispatchEvent(new PopStateEvent('popstate', { state: null }));
        const tick = () => {
          if (isReady()) resolve(performance.now() - t0);
          else if (performance.now() - t0 > 60_000)
            reject(new Error(`not ready after 60 s: ${target}`));
          else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }),
    { to, ready, probes: PROBES, samples: SAMPLES },
  );
}

/** Until the entity's overview page is shown: its title and its first card. */
async function overviewShown(page: Page, name: string): Promise<void> {
  await page.getByRole('heading', { name, exact: true }).first().waitFor();
  await page.getByRole('heading', { name: 'Provided APIs' }).waitFor();
}

/** Signs in as guest on the entity's overview page. */
async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/catalog/default/component/${BUSY}`);
  const enter = page.getByRole('button', { name: /enter/i });
  const overview = page.getByRole('heading', { name: 'Provided APIs' });
  await enter.or(overview).first().waitFor({ timeout: 120_000 });
  if (await enter.isVisible()) await enter.click();
  await overviewShown(page, BUSY);
}

/** Back to a quiet starting point between trials: the entity's overview, settled. */
async function settle(page: Page, to: string): Promise<void> {
  const name = to.split('/').pop()!;
  await page.evaluate(target => {
    window.history.pushState(null, '', target);
    window.dispatchEvent(new PopStateEvent('popstate', { state: null }));
  }, to);
  await overviewShown(page, name);
  await page.waitForTimeout(1500);
}

async function trials(
  page: Page,
  from: string,
  to: string,
  ready: Ready,
): Promise<{ first: number; median: number }> {
  const times: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    await settle(page, from);
    times.push(await timeNavigation(page, to, ready));
  }
  log(`${to}: ${times.map(ms).join(', ')} ms`);
  return {
    first: times[0],
    median: median(times.slice(1).length ? times.slice(1) : times),
  };
}

/**
 * BENCH_UI_PROFILE=1: a CPU profile of the page (Chrome DevTools Protocol) while it does `work`,
 * saved as test-results/bench-ui-<name>.cpuprofile (open it in DevTools), and its self time summed
 * by bundle chunk (the production build splits the vendor code by package: module-recharts.*.js)
 * logged, so the cost can be pinned to a library without opening it.
 */
async function profiled<T>(
  page: Page,
  name: string,
  work: () => Promise<T>,
): Promise<T> {
  if (process.env.BENCH_UI_PROFILE !== '1') return work();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  const result = await work();
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.detach();
  const file = path.join(REPO, `test-results/bench-ui-${name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const byNode = new Map(profile.nodes.map(n => [n.id, n]));
  const self = new Map<string, number>();
  const deltas = profile.timeDeltas ?? [];
  (profile.samples ?? []).forEach((id, i) => {
    const frame = byNode.get(id)!.callFrame;
    const chunk = frame.url
      ? path.basename(frame.url).replace(/\.[0-9a-f]{8,}\.js$/, '')
      : `(${frame.functionName || 'native'})`;
    self.set(chunk, (self.get(chunk) ?? 0) + (deltas[i] ?? 0) / 1000);
  });
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
  log(
    `profile ${name} (${file}): self time by chunk: ${top
      .map(([k, v]) => `${k} ${Math.round(v)} ms`)
      .join(', ')}`,
  );
  return result;
}

type StreamStats = {
  frames: number;
  frameMaxMs: number;
  frameP99Ms: number;
  longTasks: number;
  longTaskMaxMs: number;
  longTaskTotalMs: number;
  updates: number;
  lastSamples: number;
};

async function stream(
  page: Page,
  kc: KubeConfig,
  seeded: Seeded,
  liveStart: number,
  signalsSeen: () => number,
): Promise<{ stats: StreamStats; signals: number; writes: number }> {
  const signalsBefore = signalsSeen();
  // The observers, started in the page before the first write.
  await page.evaluate(() => {
    const w = window as unknown as { benchStream: any };
    const state = {
      gaps: [] as number[],
      last: performance.now(),
      tasks: [] as number[],
      counts: new Set<string>(),
      running: true,
      lastText: '',
    };
    w.benchStream = state;
    new PerformanceObserver(list => {
      for (const entry of list.getEntries())
        if (state.running) state.tasks.push(entry.duration);
    }).observe({ type: 'longtask' });
    const frame = (t: number) => {
      if (!state.running) return;
      state.gaps.push(t - state.last);
      state.last = t;
      const caption =
        document.querySelector(
          'figure[aria-label^="Samples of probe"] figcaption',
        )?.textContent ?? '';
      const count = /(\d+) samples?/.exec(caption)?.[1] ?? '';
      state.counts.add(count);
      state.lastText = count;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(t => {
      state.last = t;
      requestAnimationFrame(frame);
    });
  });
  const client = new ChaosRunClient(kc);
  let object = await client.get(NAMESPACE, seeded.liveResource);
  const ticks = Math.round(STREAM_MS / SIGNAL_MS);
  let writes = 0;
  const t0 = Date.now();
  for (let i = 1; i <= ticks; i++) {
    const due = t0 + i * SIGNAL_MS;
    await new Promise(r => setTimeout(r, Math.max(0, due - Date.now())));
    object.status = liveStatus(
      liveStart,
      Math.min(SAMPLES, LIVE_START_SAMPLES + i),
    );
    object = await client.replaceStatus(object);
    writes++;
  }
  // Let the last signal land and the page draw it.
  await page
    .waitForFunction(
      n =>
        (window as unknown as { benchStream: { lastText: string } }).benchStream
          .lastText === String(n),
      Math.min(SAMPLES, LIVE_START_SAMPLES + ticks),
      { timeout: 15_000 },
    )
    .catch(() => log('the page did not show the last status within 15 s'));
  const stats = await page.evaluate(() => {
    const s = (window as unknown as { benchStream: any }).benchStream;
    s.running = false;
    const gaps = [...s.gaps].sort((a: number, b: number) => a - b);
    return {
      frames: gaps.length,
      frameMaxMs: gaps[gaps.length - 1] ?? 0,
      frameP99Ms: gaps[Math.max(0, Math.ceil(gaps.length * 0.99) - 1)] ?? 0,
      longTasks: s.tasks.length,
      longTaskMaxMs: Math.max(0, ...s.tasks),
      longTaskTotalMs: s.tasks.reduce((a: number, b: number) => a + b, 0),
      updates: s.counts.size - 1,
      lastSamples: Number(s.lastText),
    };
  });
  return { stats, signals: signalsSeen() - signalsBefore, writes };
}

/** The page, for a screenshot when the bench fails. */
let openPage: Page | undefined;
const FAILED_SHOT = path.join(REPO, 'test-results/bench-ui-failed.png');

// --- Main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  mkdirSync(path.join(REPO, 'test-results'), { recursive: true });
  ensureAppBuild();
  const work = mkdtempSync(path.join(os.tmpdir(), 'chaoscraft-bench-ui-'));
  const keep = process.env.BENCH_UI_KEEP === '1';
  const removeWork = () =>
    keep ? undefined : rmSync(work, { recursive: true, force: true });
  cleanups.push({ name: 'work dir', run: removeWork, sync: removeWork });

  const { dir: sandboxDir, kc } = await sandbox();
  const seeded = await seed(path.join(work, 'sqlite'));
  // The live run's ChaosRun, as the backend would have created it, with a first status.
  const liveStart = Date.now() - (LIVE_START_SAMPLES + 5) * 1000;
  const client = new ChaosRunClient(kc);
  const created = await client.create({
    apiVersion: CHAOS_API_VERSION,
    kind: CHAOS_RUN.kind,
    metadata: {
      name: seeded.liveResource,
      namespace: NAMESPACE,
      labels: {
        [CHAOS_RUN_ID_LABEL]: seeded.liveRunId,
        'app.kubernetes.io/managed-by': 'chaoscraft-backstage',
      },
    },
    spec: {
      ...experimentSpec(BUSY),
      experiment: { name: 'kill-one-pod' },
      dryRun: false,
      abort: false,
    } as ChaosRunResource['spec'],
  } as ChaosRunResource);
  created.status = liveStatus(liveStart, LIVE_START_SAMPLES);
  await client.replaceStatus(created);

  const port = await freePort();
  const url = `http://localhost:${port}`;
  const config = writeCatalogAndConfig(work, port);
  await startBackend(
    work,
    [
      path.join(REPO, 'app-config.yaml'),
      path.join(sandboxDir, 'app-config.yaml'),
      config,
    ],
    url,
  );
  await waitForData(url, seeded);

  // playwright-core gives it a fresh profile of its own.
  log('starting Chromium');
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  cleanups.push({
    name: 'browser',
    run: () => browser.close(),
    sync: () => undefined,
  });
  const page = await browser.newPage({
    viewport: { width: 1440, height: 1000 },
  });
  page.setDefaultTimeout(60_000);
  openPage = page;
  // The signal messages about the live run that reach the page (the signals socket opens at sign-in).
  let liveSignals = 0;
  page.on('websocket', ws =>
    ws.on('framereceived', frame => {
      if (String(frame.payload).includes(seeded.liveRunId)) liveSignals++;
    }),
  );
  await signIn(page, url);

  const entityPath = (name: string) => `/catalog/default/component/${name}`;
  const chaosPath = (name: string) => `${entityPath(name)}/chaos`;
  const baselineTab = await trials(
    page,
    entityPath(EMPTY),
    chaosPath(EMPTY),
    'tab',
  );
  const tab = await trials(page, entityPath(BUSY), chaosPath(BUSY), 'tab');
  const baselineRun = await trials(
    page,
    entityPath(BUSY),
    `${chaosPath(BUSY)}?run=${seeded.bareRunId}`,
    'bare-run',
  );
  const runUrl = `${chaosPath(BUSY)}?run=${seeded.fullRunId}`;
  const run = await trials(page, entityPath(BUSY), runUrl, 'run');
  if (process.env.BENCH_UI_PROFILE === '1') {
    await settle(page, entityPath(BUSY));
    await profiled(page, 'run-page', () => timeNavigation(page, runUrl, 'run'));
  }

  // The live run's page, then the signals.
  await settle(page, entityPath(BUSY));
  await page.evaluate(target => {
    window.history.pushState(null, '', target);
    window.dispatchEvent(new PopStateEvent('popstate', { state: null }));
  }, `${chaosPath(BUSY)}?run=${seeded.liveRunId}`);
  await page.getByTestId('run-live').waitFor();
  const pushed = (
    (await page.getByTestId('run-live').textContent()) ?? ''
  ).includes('pushed');
  if (!pushed)
    log('the run page says it polls: the signals plugin did not connect');
  await page
    .locator('figure[aria-label^="Samples of probe"]')
    .nth(PROBES - 1)
    .waitFor();
  await page.waitForTimeout(1000);
  log(
    `streaming: a status write every ${SIGNAL_MS} ms for ${STREAM_MS / 1000} s`,
  );
  const { stats, signals, writes } = await profiled(page, 'signals', () =>
    stream(page, kc, seeded, liveStart, () => liveSignals),
  );
  log(
    `streaming: ${JSON.stringify(
      stats,
    )}, ${signals} signal messages on the page's socket`,
  );
  await page
    .screenshot({ path: path.join(REPO, 'test-results/bench-ui-run-page.png') })
    .catch(() => undefined);

  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  await cleanUp();
  const figures = [
    `runs=${RUNS}`,
    `probes=${PROBES}x${SAMPLES}`,
    `baseline_tab_ms=${ms(baselineTab.median)}`,
    `tab_first_ms=${ms(tab.first)}`,
    `tab_ratio=${(tab.median / baselineTab.median).toFixed(2)}`,
    `baseline_run_page_ms=${ms(baselineRun.median)}`,
    `run_page_first_ms=${ms(run.first)}`,
    `run_page_ratio=${(run.median / baselineRun.median).toFixed(2)}`,
    `signal_writes=${writes}`,
    `signals_received=${signals}`,
    `signals_updates=${stats.updates}`,
    `signals_last_samples=${stats.lastSamples}`,
    `signals_frame_max_ms=${ms(stats.frameMaxMs)}`,
    `signals_frame_p99_ms=${ms(stats.frameP99Ms)}`,
    `signals_longtasks=${stats.longTasks}`,
    `signals_longtask_max_ms=${ms(stats.longTaskMaxMs)}`,
    `signals_longtask_total_ms=${ms(stats.longTaskTotalMs)}`,
    `tab_ms=${ms(tab.median)}`,
    `run_page_ms=${ms(run.median)}`,
  ];
  process.stdout.write(`${figures.join(' ')}\n`);
}

const watchdog = setTimeout(() => {
  log(`timed out after ${TIMEOUT_MS / 1000} s (BENCH_UI_TIMEOUT_MS)`);
  void cleanUp().finally(() => process.exit(1));
}, TIMEOUT_MS);
watchdog.unref();

main().then(
  () => process.exit(0),
  async error => {
    log(`failed: ${error instanceof Error ? error.stack : error}`);
    if (openPage) {
      await openPage.screenshot({ path: FAILED_SHOT }).then(
        () => log(`the page as it was: ${FAILED_SHOT}`),
        () => undefined,
      );
    }
    await cleanUp();
    process.exit(1);
  },
);

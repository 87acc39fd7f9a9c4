/**
 * Crash-revert benchmark (make bench-revert): how fast the node daemon's janitor, after a SIGKILL
 * and a restart, reverts every fault its ledger says is left.
 *
 * Real components: a sandbox API server (CHAOSCRAFT_SANDBOX_KUBECONFIG, else its own) with
 * BENCH_TARGETS (default 50) kwok pods bound to one node; the real controller (in-process); the
 * node daemon as its own OS process (`chaoscraft-agent node`, the built bundle as the image runs
 * it, or BENCH_AGENT_RUNTIME=source), so SIGKILL is real; one network namespace per pod (an eth0
 * veth into a bridge in a switch namespace, like pods on a node's CNI bridge), mapped to its pod
 * by the static resolver; real tc / iptables inside them. The kernel here has no netem, so the
 * fault is BENCH_FAULT: network-bandwidth (default: a tbf under an htb root on eth0) or
 * network-loss (iptables statistic in a chain of ours).
 *
 * Each trial:
 * 1. baseline, the normal recover path: a ChaosRun puts the fault on every pod; once all are
 *    Injected it is aborted and the running daemon reverts them (NodeDaemon.revert);
 * 2. crash: a second run puts the fault on every pod; the daemon is SIGKILLed; the run is aborted
 *    meanwhile (the controller waits in RollingBack); the daemon starts again and its janitor
 *    reverts what the ledger holds before the daemon says it started.
 * Figures, from the daemon's own log lines (pino `time`, one clock with this process):
 * - revert_ms: janitor started → the last target reverted (its `recovered` line);
 * - baseline_revert_ms: the same window for the normal path (first revert started → last reverted);
 * - restart_to_ready_ms: spawn of the new process → "node daemon started" (janitor included);
 * - restart_to_reverted_ms: spawn → the last target reverted;
 * - target_p50_ms / target_p99_ms: one target's revert (its `recovered` line's `ms`), janitor path.
 * After every revert each namespace is checked: any qdisc or iptables rule of ours left fails the
 * benchmark. The last line is
 *   revert_ms=<median> targets=<n> ...
 * Bounded: BENCH_TRIALS (default 5), BENCH_TIMEOUT_S (default 300) overall. Every process and
 * network namespace it made is removed by PID / name on the way out.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { ChaosRunSpecInput } from '@chaoscraft/backstage-plugin-chaos-common';
import { CHAOS_RUN_COORDINATES } from '@chaoscraft/backstage-plugin-chaos-node';
import { waitFor } from '@chaoscraft/test-sandbox';
import {
  applyCrds,
  createPodsOnNode,
  createRun,
  getRun,
  netnsUnavailableReason,
  OPT_IN,
  startController,
  TEST_CEILINGS,
  waitForRunPhase,
  type RunningController,
} from '@chaoscraft/agent-testkit';
import {
  benchCluster,
  deleteNamespaceQuietly,
  ensureAgentBundle,
  log,
  median,
  type AgentRuntime,
  type BenchCluster,
} from './benchSupport';

const TARGETS = Number(process.env.BENCH_TARGETS ?? '50');
const TRIALS = Number(process.env.BENCH_TRIALS ?? '5');
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? '300');
const FAULT = process.env.BENCH_FAULT ?? 'network-bandwidth';
const RUNTIME: AgentRuntime =
  process.env.BENCH_AGENT_RUNTIME === 'source' ? 'source' : 'bundle';
const TARGET_MS = 2000;
const AGENT_ROOT = path.resolve(__dirname, '..');

function faultSpec(): ChaosRunSpecInput['faults'][number] {
  if (FAULT === 'network-bandwidth')
    return { type: 'network-bandwidth', rateKbit: 1000 };
  if (FAULT === 'network-loss')
    return { type: 'network-loss', lossPercent: 30, correlationPercent: 0 };
  throw new Error(
    `BENCH_FAULT must be network-bandwidth or network-loss (no netem here), not '${FAULT}'`,
  );
}

function sh(argv: string[]): string {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(
      `'${argv.join(' ')}' failed: ${result.stderr || result.error}`,
    );
  return result.stdout;
}

/** One network namespace per pod, each with an eth0 veth into a bridge in a switch namespace. */
class PodNamespaces {
  readonly names: string[];
  readonly switchNs: string;
  private readonly made: string[] = [];

  constructor(prefix: string, count: number) {
    this.switchNs = `${prefix}-sw`;
    this.names = Array.from(
      { length: count },
      (_, i) => `${prefix}-${String(i).padStart(2, '0')}`,
    );
  }

  build(): void {
    sh(['ip', 'netns', 'add', this.switchNs]);
    this.made.push(this.switchNs);
    sh(['ip', '-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', this.switchNs, 'link', 'set', 'br0', 'up']);
    this.names.forEach((ns, i) => {
      sh(['ip', 'netns', 'add', ns]);
      this.made.push(ns);
      const port = `v${i}`;
      sh([
        'ip',
        'link',
        'add',
        'eth0',
        'netns',
        ns,
        'type',
        'veth',
        'peer',
        'name',
        port,
        'netns',
        this.switchNs,
      ]);
      sh([
        'ip',
        '-n',
        this.switchNs,
        'link',
        'set',
        port,
        'master',
        'br0',
        'up',
      ]);
      sh([
        'ip',
        '-n',
        ns,
        'addr',
        'add',
        `10.67.${Math.floor((i + 1) / 250)}.${((i + 1) % 250) + 1}/16`,
        'dev',
        'eth0',
      ]);
      sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    });
  }

  path(i: number): string {
    return `/var/run/netns/${this.names[i]}`;
  }

  /** What a fault of ours leaves in one namespace: qdiscs other than the default, CHAOS rules. */
  leftovers(ns: string): string[] {
    const run = (argv: string[]): string =>
      sh(['ip', 'netns', 'exec', ns, ...argv]);
    const qdiscs = run(['tc', 'qdisc', 'show'])
      .split('\n')
      .filter(
        line =>
          line.trim() && !/^qdisc noqueue 0: dev (lo|eth0) root/.test(line),
      );
    const rules = run(['iptables-save'])
      .split('\n')
      .filter(line => /^-A |^:CHAOS|CHAOS-/.test(line));
    return [...qdiscs, ...rules];
  }

  /** Namespaces that still hold something of ours, with what. */
  dirty(): Array<{ ns: string; left: string[] }> {
    return this.names
      .map(ns => ({ ns, left: this.leftovers(ns) }))
      .filter(d => d.left.length > 0);
  }

  destroy(): void {
    for (const ns of this.made.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
  }
}

interface LogLine {
  time: number;
  msg: string;
  ms?: number;
  pod?: string;
}

/** The node daemon as its own process; its JSON log lines are kept for the figures. */
class DaemonProcess {
  child?: ChildProcess;
  lines: LogLine[] = [];
  spawnedAt = 0;
  readyAt?: number;

  constructor(
    private readonly args: string[],
    private readonly logFile: string,
  ) {}

  async start(): Promise<void> {
    this.lines = [];
    this.readyAt = undefined;
    const [command, ...prefix] =
      RUNTIME === 'bundle'
        ? [path.join(AGENT_ROOT, 'bin/chaoscraft-agent')]
        : [
            process.execPath,
            '--require',
            require.resolve('@backstage/cli/config/nodeTransform.cjs'),
            'src/main.ts',
          ];
    this.spawnedAt = Date.now();
    const child = spawn(command, [...prefix, 'node', ...this.args], {
      cwd: AGENT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CHAOSCRAFT_AGENT_RUNTIME: RUNTIME },
    });
    this.child = child;
    const raw: string[] = [];
    child.stderr!.on('data', chunk => raw.push(String(chunk)));
    const ready = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', text => {
        raw.push(`${text}\n`);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          return;
        }
        this.lines.push(line);
        if (line.msg === 'node daemon started') {
          this.readyAt = Date.now();
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        writeFileSync(this.logFile, raw.join(''), { flag: 'a' });
        reject(
          new Error(
            `the node daemon exited (${signal ?? code}) before it was ready`,
          ),
        );
      });
    });
    ready.catch(() => undefined);
    await ready;
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null)
      return Promise.resolve();
    const gone = new Promise<void>(resolve =>
      child.once('exit', () => resolve()),
    );
    child.kill(signal);
    return gone;
  }

  /** Synchronous, for the watchdog: SIGKILL by PID. */
  killSync(): void {
    if (
      this.child?.pid &&
      this.child.exitCode === null &&
      this.child.signalCode === null
    ) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  recovered(since: number): LogLine[] {
    return this.lines.filter(
      line => line.msg.startsWith('recovered ') && line.time >= since,
    );
  }

  timeOf(msg: string): number | undefined {
    return this.lines.find(line => line.msg === msg)?.time;
  }
}

interface Bed {
  cluster: BenchCluster;
  namespace: string;
  agentNamespace: string;
  pods: string[];
  netns: PodNamespaces;
  daemon: DaemonProcess;
  controller: RunningController;
  dir: string;
}

interface TrialFigures {
  revert: number;
  baseline: number;
  ready: number;
  reverted: number;
  targetP50: number;
  targetP99: number;
  janitorTotal: number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ];
}

async function injectEverywhere(bed: Bed, name: string): Promise<void> {
  await createRun(bed.cluster.kc, bed.namespace, name, {
    target: {
      namespace: bed.namespace,
      labelSelector: { app: 'revert' },
      selection: { mode: 'percent', percent: 100 },
    },
    faults: [faultSpec()],
    duration: '10m',
    safety: { maxBlastRadiusPercent: 100 },
  });
  const run = await waitFor(
    async () => {
      const current = await getRun(bed.cluster.kc, bed.namespace, name);
      const targets = current.status?.targets ?? [];
      const failed = targets.find(record => record.phase === 'Failed');
      if (failed)
        throw new Error(
          `${name}: ${failed.pod} failed: ${failed.reason}: ${failed.message}`,
        );
      return targets.length === TARGETS &&
        targets.every(record => record.phase === 'Injected')
        ? current
        : undefined;
    },
    {
      timeoutMs: 120_000,
      intervalMs: 200,
      description: `${TARGETS} records of ${name} Injected`,
    },
  );
  const clean = TARGETS - bed.netns.dirty().length;
  if (clean > 0)
    throw new Error(
      `${name}: ${clean} namespace(s) without the fault although Injected`,
    );
  log(`${name}: ${run.status!.targets.length} targets injected`);
}

async function abort(bed: Bed, name: string): Promise<void> {
  await bed.cluster.kc
    .makeApiClient(CustomObjectsApi)
    .patchNamespacedCustomObject({
      ...CHAOS_RUN_COORDINATES,
      namespace: bed.namespace,
      name,
      body: [{ op: 'add', path: '/spec/abort', value: true }],
    });
}

/** Fails loudly when any namespace still holds a qdisc or rule of ours. */
function assertClean(bed: Bed, what: string): void {
  const dirty = bed.netns.dirty();
  if (dirty.length > 0) {
    const sample = dirty
      .slice(0, 3)
      .map(d => `${d.ns}: ${d.left.join(' | ')}`)
      .join('; ');
    throw new Error(
      `${what}: ${dirty.length} of ${TARGETS} namespaces still hold chaos objects: ${sample}`,
    );
  }
}

/** first revert started → last target reverted, from the daemon's `recovered` lines. */
function revertWindow(lines: LogLine[], from?: number): number {
  if (lines.length !== TARGETS)
    throw new Error(`expected ${TARGETS} recovered lines, saw ${lines.length}`);
  const start =
    from ?? Math.min(...lines.map(line => line.time - (line.ms ?? 0)));
  return Math.max(...lines.map(line => line.time)) - start;
}

async function trial(bed: Bed, n: number): Promise<TrialFigures> {
  const { daemon } = bed;
  // 1. Baseline: the same faults reverted by the running daemon (abort → NodeDaemon.revert).
  const baselineName = `revert-base-${n}`;
  await injectEverywhere(bed, baselineName);
  const baselineSince = Date.now();
  await abort(bed, baselineName);
  await waitForRunPhase(
    bed.cluster.kc,
    bed.namespace,
    baselineName,
    ['Aborted', 'Completed', 'Failed'],
    60_000,
  );
  await waitFor(async () => daemon.recovered(baselineSince).length >= TARGETS, {
    timeoutMs: 30_000,
    description: 'baseline reverts logged',
  });
  assertClean(bed, `${baselineName} (normal recover path)`);
  const baseline = revertWindow(daemon.recovered(baselineSince));

  // 2. Crash: SIGKILL with the faults in, the run aborted meanwhile, then the janitor.
  const name = `revert-crash-${n}`;
  await injectEverywhere(bed, name);
  await daemon.kill('SIGKILL');
  await abort(bed, name);
  await waitForRunPhase(
    bed.cluster.kc,
    bed.namespace,
    name,
    ['RollingBack'],
    30_000,
  );
  if (bed.netns.dirty().length !== TARGETS)
    throw new Error(
      `${name}: the killed daemon should have left the fault in every namespace`,
    );
  await daemon.start();
  // The janitor runs before the daemon says it started: nothing may be left by now.
  assertClean(bed, `${name} (janitor after SIGKILL)`);
  const janitorStarted = daemon.timeOf('janitor started');
  const janitorDone = daemon.timeOf('janitor done');
  const lines = daemon.recovered(janitorStarted ?? 0);
  if (janitorStarted === undefined || janitorDone === undefined)
    throw new Error('the daemon did not log its janitor');
  const lastReverted = Math.max(...lines.map(line => line.time));
  await waitForRunPhase(
    bed.cluster.kc,
    bed.namespace,
    name,
    ['Aborted', 'Completed', 'Failed'],
    60_000,
  );
  const figures: TrialFigures = {
    revert: revertWindow(lines, janitorStarted),
    baseline,
    ready: daemon.readyAt! - daemon.spawnedAt,
    reverted: lastReverted - daemon.spawnedAt,
    targetP50: percentile(
      lines.map(line => line.ms ?? NaN),
      50,
    ),
    targetP99: percentile(
      lines.map(line => line.ms ?? NaN),
      99,
    ),
    janitorTotal: janitorDone - janitorStarted,
  };
  process.stdout.write(
    `trial ${n}: revert_ms=${figures.revert} janitor_total_ms=${figures.janitorTotal} baseline_revert_ms=${figures.baseline} ` +
      `restart_to_ready_ms=${figures.ready} restart_to_reverted_ms=${figures.reverted} ` +
      `target_p50_ms=${figures.targetP50} target_p99_ms=${figures.targetP99}\n`,
  );
  return figures;
}

async function startBed(): Promise<Bed> {
  const unavailable = netnsUnavailableReason();
  if (unavailable)
    throw new Error(`bench-revert needs network namespaces: ${unavailable}`);
  if (RUNTIME === 'bundle') ensureAgentBundle();
  const cluster = await benchCluster(1);
  const suffix = Math.random().toString(36).slice(2, 8);
  const namespace = `bench-revert-${suffix}`;
  const agentNamespace = `bench-revert-agent-${suffix}`;
  const core = cluster.kc.makeApiClient(CoreV1Api);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-bench-revert-'));
  const netns = new PodNamespaces(`ccrev-${process.pid.toString(36)}`, TARGETS);
  process.once('exit', () => netns.destroy());
  log(
    `creating ${TARGETS} network namespaces (${netns.switchNs} and ${netns.names[0]}..)`,
  );
  netns.build();
  await core.createNamespace({
    body: { metadata: { name: namespace, labels: OPT_IN } },
  });
  await core.createNamespace({ body: { metadata: { name: agentNamespace } } });
  await applyCrds(cluster.kc);
  const node = (await core.listNode()).items[0]?.metadata?.name;
  if (!node) throw new Error('the sandbox has no node');
  const pods = Array.from(
    { length: TARGETS },
    (_, i) => `pod-${String(i).padStart(2, '0')}`,
  );
  log(`creating ${TARGETS} pods on ${node}`);
  await createPodsOnNode(cluster.kc, namespace, pods, { app: 'revert' }, node);
  const mapPath = path.join(dir, 'netns-map.json');
  writeFileSync(
    mapPath,
    JSON.stringify(
      Object.fromEntries(
        pods.map((pod, i) => [`${namespace}/${pod}`, netns.path(i)]),
      ),
    ),
  );
  const daemon = new DaemonProcess(
    [
      `--node-name=${node}`,
      `--namespace=${agentNamespace}`,
      `--kubeconfig=${cluster.kubeconfigPath}`,
      `--ledger=${path.join(dir, 'ledger.jsonl')}`,
      '--heartbeat-timeout=30s',
      '--check-interval=500ms',
      '--netns-resolver=static',
      `--netns-map=${mapPath}`,
      '--netem=absent',
    ],
    path.join(dir, 'daemon.log'),
  );
  process.once('exit', () => daemon.killSync());
  log(`starting the node daemon (${RUNTIME})`);
  await daemon.start();
  const controller = await startController(cluster.kc, {
    ceilings: TEST_CEILINGS,
    agentNamespace,
    watchNamespaces: [namespace],
    // The crash trial keeps a run in RollingBack while the daemon is dead and restarting.
    rollbackTimeoutMs: 120_000,
  });
  // Creation times have whole seconds; the runs start in a later second than their pods.
  await new Promise(resolve => setTimeout(resolve, 1100));
  return {
    cluster,
    namespace,
    agentNamespace,
    pods,
    netns,
    daemon,
    controller,
    dir,
  };
}

async function stopBed(bed: Bed): Promise<void> {
  await bed.controller.stop();
  await bed.daemon.kill('SIGTERM');
  const core = bed.cluster.kc.makeApiClient(CoreV1Api);
  await deleteNamespaceQuietly(core, bed.namespace);
  await deleteNamespaceQuietly(core, bed.agentNamespace);
  bed.netns.destroy();
  await bed.cluster.release();
  if (!process.env.BENCH_KEEP_LOGS)
    rmSync(bed.dir, { recursive: true, force: true });
  else log(`logs kept in ${bed.dir}`);
}

async function main(): Promise<void> {
  let bed: Bed | undefined;
  const deadline = setTimeout(() => {
    process.stderr.write(`bench-revert: gave up after ${TIMEOUT_S} s\n`);
    bed?.daemon.killSync();
    bed?.cluster.releaseSync();
    // The exit handlers delete the network namespaces.
    process.exit(2);
  }, TIMEOUT_S * 1000);
  deadline.unref();
  const trials: TrialFigures[] = [];
  try {
    bed = await startBed();
    for (let n = 1; n <= TRIALS; n++) trials.push(await trial(bed, n));
  } finally {
    if (bed) await stopBed(bed);
  }
  const mid = (key: keyof TrialFigures): number =>
    Math.round(median(trials.map(figures => figures[key])));
  const revert = mid('revert');
  const baseline = mid('baseline');
  process.stdout.write(
    `trials=${TRIALS} fault=${FAULT} runtime=${RUNTIME} max_revert_ms=${Math.max(
      ...trials.map(t => t.revert),
    )} target_ms=${TARGET_MS}\n`,
  );
  process.stdout.write(
    `revert_ms=${revert} targets=${TARGETS} janitor_total_ms=${mid(
      'janitorTotal',
    )} restart_to_ready_ms=${mid('ready')} ` +
      `restart_to_reverted_ms=${mid('reverted')} target_p50_ms=${mid(
        'targetP50',
      )} target_p99_ms=${mid('targetP99')} ` +
      `baseline_revert_ms=${baseline} ratio=${(revert / baseline).toFixed(
        2,
      )} fault=${FAULT}\n`,
  );
  clearTimeout(deadline);
}

main().then(
  () => process.exit(0),
  error => {
    process.stderr.write(
      `bench-revert failed: ${
        error instanceof Error ? error.stack : String(error)
      }\n`,
    );
    process.exit(1);
  },
);

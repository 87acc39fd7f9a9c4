import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
} from '@kubernetes/client-node';
import {
  SANDBOX_KUBECONFIG_ENV,
  startSandbox,
  stopSandbox,
  stopSandboxSync,
  StartedSandbox,
  waitFor,
} from '@chaoscraft/test-sandbox';
import { applyCrds } from '@chaoscraft/agent-testkit';
import {
  KeepAliveKubeConfig,
  loadKubeConfig,
} from '@chaoscraft/backstage-plugin-chaos-node';

const AGENT_ROOT = path.resolve(__dirname, '..');

export interface BenchCluster {
  kc: KeepAliveKubeConfig;
  kubeconfigPath: string;
  /** True when the benchmark started this sandbox (and so may simply purge it afterwards). */
  owned: boolean;
  /** Stops the sandbox when the benchmark started it. */
  release(): Promise<void>;
  /** The same, synchronously: for a watchdog that must stop everything and exit. */
  releaseSync(): void;
}

/** Uses CHAOSCRAFT_SANDBOX_KUBECONFIG when set, else starts (and later stops) its own sandbox. */
export async function benchCluster(nodes: number): Promise<BenchCluster> {
  let sandbox: StartedSandbox | undefined;
  let kubeconfigPath = process.env[SANDBOX_KUBECONFIG_ENV];
  if (!kubeconfigPath) {
    log(`starting a sandbox with ${nodes} nodes`);
    sandbox = await startSandbox({ nodes });
    kubeconfigPath = sandbox.kubeconfigPath;
  }
  // The agent's own client setup (connections reused), so the benchmark's baseline calls are as
  // quick as the agent's and the ratios compare like with like.
  const kc = loadKubeConfig(kubeconfigPath);
  return {
    kc,
    kubeconfigPath,
    owned: Boolean(sandbox),
    release: async () => {
      await kc.close();
      if (sandbox) await stopSandbox(sandbox);
    },
    releaseSync: () => (sandbox ? stopSandboxSync(sandbox) : undefined),
  };
}

export function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

export async function applyCrdsFromChart(kc: KubeConfig): Promise<void> {
  await applyCrds(kc);
}

/** Waits until some replica holds a Lease in the agent's namespace: the agent is leading. */
export async function waitForLeader(
  kc: KubeConfig,
  namespace: string,
): Promise<void> {
  const api = kc.makeApiClient(CoordinationV1Api);
  await waitFor(
    async () =>
      (
        await api.listNamespacedLease({ namespace })
      ).items.some(l => l.spec?.holderIdentity),
    {
      timeoutMs: 60_000,
      description: 'the agent to lead',
    },
  );
}

/**
 * How the agent process runs: `bundle` is the built JavaScript the image runs (bin/chaoscraft-agent
 * on dist/bundle, rebuilt here first when stale); `source` is the TypeScript through Backstage's
 * runtime transform, as in a checkout without a build.
 */
export type AgentRuntime = 'bundle' | 'source';

/**
 * Builds dist/bundle with the package's own `build:bundle` script (one definition of the build)
 * unless bin/chaoscraft-agent already finds it current.
 */
export function ensureAgentBundle(): void {
  const check = spawnSync(
    process.execPath,
    [path.join(AGENT_ROOT, 'bin/chaoscraft-agent'), 'help'],
    {
      cwd: AGENT_ROOT,
      env: { ...process.env, CHAOSCRAFT_AGENT_RUNTIME: 'bundle' },
      stdio: 'ignore',
    },
  );
  if (check.status === 0) return;
  log('building the agent bundle (yarn build:bundle)');
  const build = spawnSync('yarn', ['build:bundle'], {
    cwd: AGENT_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (build.status !== 0) {
    throw new Error(
      `yarn build:bundle failed (${build.status ?? build.signal})`,
    );
  }
}

export interface AgentProcess {
  child: ChildProcess;
  metricsPort: number;
  /** Peak resident set size of the agent process so far (VmHWM), in MiB. */
  peakRssMb(): number;
  /** Resident set size of the agent process now (VmRSS), in MiB. */
  rssMb(): number;
  stop(): Promise<void>;
}

/**
 * Starts `chaoscraft-agent controller` as a child process and waits for its metrics port. The
 * default runtime stays `source` so that existing benchmarks keep measuring what they did.
 */
export async function startAgentProcess(
  kubeconfigPath: string,
  args: string[],
  options: { runtime?: AgentRuntime } = {},
): Promise<AgentProcess> {
  const runtime = options.runtime ?? 'source';
  if (runtime === 'bundle') ensureAgentBundle();
  // The bundle runs through the entrypoint itself (its shebang carries the agent's Node flags),
  // exactly as the image starts it.
  const [command, ...prefix] =
    runtime === 'bundle'
      ? [path.join(AGENT_ROOT, 'bin/chaoscraft-agent')]
      : [
          process.execPath,
          '--require',
          require.resolve('@backstage/cli/config/nodeTransform.cjs'),
          'src/main.ts',
        ];
  const child = spawn(
    command,
    [
      ...prefix,
      'controller',
      `--kubeconfig=${kubeconfigPath}`,
      '--metrics-bind-address=127.0.0.1',
      '--metrics-port=0',
      '--log-level=info',
      ...args,
    ],
    {
      cwd: AGENT_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, CHAOSCRAFT_AGENT_RUNTIME: runtime },
    },
  );
  const lines = createInterface({ input: child.stdout! });
  // BENCH_AGENT_LOG=<file> keeps the agent's own log lines, to see what it did.
  if (process.env.BENCH_AGENT_LOG) {
    const logFile = createWriteStream(process.env.BENCH_AGENT_LOG, {
      flags: 'a',
    });
    lines.on('line', line => logFile.write(`${line}\n`));
    child.once('exit', () => logFile.end());
  }
  const metricsPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('agent did not start within 60 s')),
      60_000,
    );
    child.once('exit', code => reject(new Error(`agent exited with ${code}`)));
    lines.on('line', line => {
      const match = /"metricsPort":(\d+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  return {
    child,
    metricsPort,
    peakRssMb: () => peakRssMb(child.pid),
    rssMb: () => procStatusMb(child.pid, 'VmRSS'),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise(resolve => child.once('exit', resolve));
      child.kill('SIGTERM');
      // Bounded: an agent that does not shut down within 10 s is killed.
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    },
  };
}

export async function metricValue(
  port: number,
  name: string,
): Promise<number | undefined> {
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = body
    .split('\n')
    .find(l => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : undefined;
}

/** Peak resident set size (VmHWM) of a process, in MiB; 0 once it is gone. */
export function peakRssMb(pid: number | undefined): number {
  return procStatusMb(pid, 'VmHWM');
}

/** A memory field of /proc/<pid>/status (VmHWM, VmRSS...), in MiB; 0 once the process is gone. */
export function procStatusMb(
  pid: number | undefined,
  field: 'VmHWM' | 'VmRSS',
): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return (
      Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024
    );
  } catch {
    return 0;
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function mapConcurrent<T>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        await work(items[next++]);
      }
    }),
  );
}

export async function deleteNamespaceQuietly(
  core: CoreV1Api,
  name: string,
): Promise<void> {
  try {
    await core.deleteNamespace({ name });
  } catch {
    // Already gone: nothing to clean up.
  }
}

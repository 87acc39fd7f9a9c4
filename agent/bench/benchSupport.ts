import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { SANDBOX_KUBECONFIG_ENV, startSandbox, stopSandbox, StartedSandbox, waitFor } from '@chaoscraft/test-sandbox';
import { applyCrds } from '../src/acceptance/harness';

const AGENT_ROOT = path.resolve(__dirname, '..');

export interface BenchCluster {
  kc: KubeConfig;
  kubeconfigPath: string;
  /** Stops the sandbox when the benchmark started it. */
  release(): Promise<void>;
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
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return { kc, kubeconfigPath, release: async () => (sandbox ? stopSandbox(sandbox) : undefined) };
}

export function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export async function applyCrdsFromChart(kc: KubeConfig): Promise<void> {
  await applyCrds(kc);
}

/** Waits until some replica holds a Lease in the agent's namespace: the agent is leading. */
export async function waitForLeader(kc: KubeConfig, namespace: string): Promise<void> {
  const api = kc.makeApiClient(CoordinationV1Api);
  await waitFor(async () => (await api.listNamespacedLease({ namespace })).items.some(l => l.spec?.holderIdentity), {
    timeoutMs: 60_000,
    description: 'the agent to lead',
  });
}

export interface AgentProcess {
  child: ChildProcess;
  metricsPort: number;
  /** Peak resident set size of the agent process so far (VmHWM), in MiB. */
  peakRssMb(): number;
  stop(): Promise<void>;
}

/** Starts `chaoscraft-agent controller` as a child process and waits for its metrics port. */
export async function startAgentProcess(kubeconfigPath: string, args: string[]): Promise<AgentProcess> {
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      'src/main.ts',
      'controller',
      `--kubeconfig=${kubeconfigPath}`,
      '--metrics-bind-address=127.0.0.1',
      '--metrics-port=0',
      '--log-level=info',
      ...args,
    ],
    { cwd: AGENT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const metricsPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('agent did not start within 60 s')), 60_000);
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
    peakRssMb: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise(resolve => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function metricValue(port: number, name: string): Promise<number | undefined> {
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = body.split('\n').find(l => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : undefined;
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function mapConcurrent<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        await work(items[next++]);
      }
    }),
  );
}

export async function deleteNamespaceQuietly(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.deleteNamespace({ name });
  } catch {
    // Already gone: nothing to clean up.
  }
}

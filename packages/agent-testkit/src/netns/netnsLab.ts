import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

/**
 * A few network namespaces that play pods on one node: each "pod" has an eth0 veth into a
 * switch namespace holding a Linux bridge, like pods on a node's CNI bridge. Addresses live
 * only inside these namespaces (10.66.0.0/24), so no packet ever leaves the machine.
 */
export interface LabPod {
  /** `ip netns` name. */
  netns: string;
  /** /var/run/netns/<name>, for nsenter and the static resolver. */
  path: string;
  ip: string;
}

export const LAB_SUBNET = '10.66.0.0/24';
const POD_NAMES = ['a', 'b', 'c'] as const;
export type LabPodName = (typeof POD_NAMES)[number];

const live = new Set<string>();
let exitHookInstalled = false;

function sh(argv: string[]): string {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `'${argv.join(' ')}' failed: ${result.stderr || result.error}`,
    );
  }
  return result.stdout;
}

/** Why these tests cannot run here, or undefined when they can. */
export function netnsUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) {
    return 'network namespace tests need root (ip netns, tc, iptables)';
  }
  for (const tool of ['ip', 'tc', 'iptables', 'iptables-save', 'nsenter']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      return `${tool} is not installed (scripts/test-network.sh installs iptables and iproute2)`;
    }
  }
  return undefined;
}

export class NetnsLab {
  readonly pods: Record<LabPodName, LabPod>;
  private readonly switchNs: string;
  private readonly children = new Set<ChildProcess>();

  private constructor(readonly prefix: string) {
    this.switchNs = `${prefix}-sw`;
    this.pods = Object.fromEntries(
      POD_NAMES.map((name, i) => [
        name,
        {
          netns: `${prefix}-${name}`,
          path: `/var/run/netns/${prefix}-${name}`,
          ip: `10.66.0.${i + 1}`,
        },
      ]),
    ) as Record<LabPodName, LabPod>;
  }

  /** Creates the namespaces; `prefix` must be unique per test file (e.g. include the pid). */
  static create(prefix: string): NetnsLab {
    const lab = new NetnsLab(prefix);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const ns of live) {
          spawnSync('ip', ['netns', 'del', ns]);
        }
      });
    }
    try {
      lab.build();
    } catch (error) {
      lab.destroy();
      throw error;
    }
    return lab;
  }

  private build(): void {
    const sw = this.switchNs;
    sh(['ip', 'netns', 'add', sw]);
    live.add(sw);
    sh(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
    for (const name of POD_NAMES) {
      const pod = this.pods[name];
      sh(['ip', 'netns', 'add', pod.netns]);
      live.add(pod.netns);
      const port = `v-${name}`;
      sh([
        'ip',
        'link',
        'add',
        'eth0',
        'netns',
        pod.netns,
        'type',
        'veth',
        'peer',
        'name',
        port,
        'netns',
        sw,
      ]);
      sh(['ip', '-n', sw, 'link', 'set', port, 'master', 'br0', 'up']);
      sh(['ip', '-n', pod.netns, 'addr', 'add', `${pod.ip}/24`, 'dev', 'eth0']);
      sh(['ip', '-n', pod.netns, 'link', 'set', 'eth0', 'up']);
      sh(['ip', '-n', pod.netns, 'link', 'set', 'lo', 'up']);
    }
  }

  /** Kills the traffic processes this lab started and deletes its namespaces. */
  destroy(): void {
    for (const child of this.children) {
      if (child.exitCode === null && child.pid) {
        child.kill('SIGKILL');
      }
    }
    this.children.clear();
    for (const ns of [
      this.switchNs,
      ...POD_NAMES.map(n => this.pods[n].netns),
    ]) {
      if (live.has(ns)) {
        spawnSync('ip', ['netns', 'del', ns]);
        live.delete(ns);
      }
    }
  }

  exec(pod: LabPodName, argv: string[]): string {
    return sh(['nsenter', `--net=${this.pods[pod].path}`, '--', ...argv]);
  }

  /** The root qdisc lines and iptables rules of a pod: what a fault leaves behind. */
  leftovers(pod: LabPodName): { qdiscs: string[]; iptables: string[] } {
    const qdiscs = this.exec(pod, ['tc', 'qdisc', 'show'])
      .split('\n')
      .filter(
        line =>
          line.trim() && !/^qdisc noqueue 0: dev (lo|eth0) root/.test(line),
      );
    const iptables = this.exec(pod, ['iptables-save'])
      .split('\n')
      .filter(line => /^-A |^:CHAOS|CHAOS-/.test(line));
    return { qdiscs, iptables };
  }

  private spawnTraffic(
    pod: LabPodName,
    mode: string,
    args: Record<string, string | number>,
  ): ChildProcess {
    const argv = [
      `--net=${this.pods[pod].path}`,
      '--',
      process.execPath,
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      // Test-only code, always run from source: __dirname is where traffic.ts is.
      // eslint-disable-next-line no-restricted-syntax
      path.join(__dirname, 'traffic.ts'),
      mode,
      ...Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]),
    ];
    const child = spawn('nsenter', argv, {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Runs a bounded traffic mode and resolves with its JSON line. */
  async traffic<T = Record<string, unknown>>(
    pod: LabPodName,
    mode: 'recv' | 'send' | 'probe' | 'connect',
    args: Record<string, string | number>,
    onListening?: () => void,
  ): Promise<T> {
    const child = this.spawnTraffic(pod, mode, args);
    const lines = createInterface({ input: child.stdout! });
    return new Promise<T>((resolve, reject) => {
      let result: T | undefined;
      lines.on('line', line => {
        const parsed = JSON.parse(line);
        if (parsed.listening) {
          onListening?.();
        } else {
          result = parsed;
        }
      });
      child.once('exit', code =>
        result
          ? resolve(result)
          : reject(
              new Error(
                `traffic ${mode} in ${pod} exited ${code} without a result`,
              ),
            ),
      );
    });
  }

  /** Starts the long-lived TCP-discard / UDP-echo server in a pod; resolves once listening. */
  async serve(
    pod: LabPodName,
    ports: { tcp: number; udp: number },
  ): Promise<void> {
    const child = this.spawnTraffic(pod, 'serve', ports);
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      lines.once('line', () => resolve());
      child.once('exit', code =>
        reject(new Error(`serve in ${pod} exited ${code}`)),
      );
    });
  }

  /** TCP throughput from `from` to `to`, measured by the receiver, in kbit/s. */
  async throughput(
    from: LabPodName,
    to: LabPodName,
    options: { port: number; windowMs?: number },
  ): Promise<number> {
    let startSender: () => void = () => undefined;
    const listening = new Promise<void>(resolve => {
      startSender = resolve;
    });
    const received = this.traffic<{ kbitPerSecond: number }>(
      to,
      'recv',
      {
        port: options.port,
        'warmup-ms': 500,
        'window-ms': options.windowMs ?? 3000,
      },
      () => startSender(),
    );
    await listening;
    const sent = this.traffic(from, 'send', {
      host: this.pods[to].ip,
      port: options.port,
      'max-bytes': 4 * 1024 * 1024 * 1024,
      'timeout-ms': (options.windowMs ?? 3000) + 4000,
    });
    const [result] = await Promise.all([received, sent]);
    return result.kbitPerSecond;
  }

  /** UDP echo probes from `from` to the serve() of `to`. */
  probe(
    from: LabPodName,
    to: LabPodName,
    options: { port: number; count: number; intervalMs?: number },
  ): Promise<{
    sent: number;
    received: number;
    lossPercent: number;
    rttMedianMs: number | null;
  }> {
    return this.traffic(from, 'probe', {
      host: this.pods[to].ip,
      port: options.port,
      count: options.count,
      'interval-ms': options.intervalMs ?? 4,
      'timeout-ms': 1000,
    });
  }

  /** One TCP connect from `from` to the serve() of `to`. */
  connect(
    from: LabPodName,
    to: LabPodName,
    options: { port: number; timeoutMs?: number },
  ): Promise<{ ok: boolean; ms: number; error?: string }> {
    return this.traffic(from, 'connect', {
      host: this.pods[to].ip,
      port: options.port,
      'timeout-ms': options.timeoutMs ?? 1500,
    });
  }
}

import { parseDuration } from '@chaoscraft/backstage-plugin-chaos-common';
import pino, { Logger } from 'pino';
import { detectNetem, runCommand } from '../faults/network';
import {
  type ApiRateLimit,
  DEFAULT_API_RATE_LIMIT,
  loadKubeConfig,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { kubeRateLimit } from '../controllerArgs';
import { Ledger } from './Ledger';
import {
  CrictlNetnsResolver,
  DEFAULT_RUNTIME_ENDPOINT,
  NetnsResolver,
  StaticNetnsResolver,
} from './netns';
import { netnsInode } from '../faults/network';
import { NodeDaemon } from './NodeDaemon';

/** Options of `chaoscraft-agent node`. Flags in parseNodeDaemonArgs. */
export interface NodeDaemonOptions {
  /** This node's name, as in the records' `node`. Default env NODE_NAME. */
  nodeName?: string;
  /** Where this node's daemon Lease lives: the agent's namespace. Default env POD_NAMESPACE. */
  namespace?: string;
  /** Path of a kubeconfig; default in-cluster, then KUBECONFIG / ~/.kube/config. */
  kubeconfig?: string;
  /** The API client's token bucket (--kube-qps, --kube-burst). Default DEFAULT_API_RATE_LIMIT (50/100). */
  kubeRateLimit?: ApiRateLimit;
  /** The ledger file, on a hostPath. */
  ledger?: string;
  /** Dead-man's switch timeout. Default 30 s. */
  heartbeatTimeoutMs?: number;
  /** Period of the timer that re-checks every run with faults here. Default 1 s. */
  checkIntervalMs?: number;
  /** How pods are mapped to network namespaces. Default crictl. */
  netnsResolver?: 'crictl' | 'static';
  /** For `static`: JSON file {"<namespace>/<pod>": "<ip netns name or path>"}. */
  netnsMap?: string;
  crictl?: string;
  runtimeEndpoint?: string;
  /** iptables binary inside pod namespaces (iptables, iptables-legacy, iptables-nft). */
  iptables?: string;
  /** The node's cgroup filesystem, for stress faults (default /sys/fs/cgroup). */
  cgroupRoot?: string;
  /** `auto` probes the kernel; `absent` forces the no-netem fallbacks (testing). */
  netem?: 'auto' | 'absent';
  logger?: Logger;
}

export const DEFAULT_LEDGER_PATH = '/var/lib/chaoscraft/node-ledger.jsonl';
export const DEFAULT_AGENT_NAMESPACE = 'chaoscraft-system';

export const NODE_USAGE = `chaoscraft-agent node [flags]

  --node-name NAME           this node (default: env NODE_NAME)
  --namespace NS             the agent's namespace, for this node's daemon Lease
                             (default: env POD_NAMESPACE, else ${DEFAULT_AGENT_NAMESPACE})
  --kubeconfig PATH          default: in-cluster service account, then KUBECONFIG
  --kube-qps N               API requests a second, client-side token bucket refill
                             (default ${DEFAULT_API_RATE_LIMIT.qps}; 0 = no client-side limit)
  --kube-burst N             API requests sent at once before --kube-qps spacing starts
                             (default ${DEFAULT_API_RATE_LIMIT.burst})
  --ledger PATH              hostPath ledger file (default ${DEFAULT_LEDGER_PATH})
  --heartbeat-timeout DUR    dead-man's switch, e.g. 30s (default 30s)
  --check-interval DUR       re-check period (default 1s)
  --netns-resolver KIND      crictl (default) | static
  --netns-map PATH           static resolver: JSON {"ns/pod": "netns name or path"}
  --crictl PATH              crictl binary (default crictl)
  --runtime-endpoint URL     CRI socket (default ${DEFAULT_RUNTIME_ENDPOINT})
  --iptables BIN             iptables binary (default iptables)
  --cgroup-root DIR          the node's cgroup filesystem, for stress faults
                             (default /sys/fs/cgroup)
  --netem auto|absent        netem detection (default auto; absent forces fallbacks)
`;

/** Parses the `node` subcommand's flags (argv without the subcommand). */
export function parseNodeDaemonArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): NodeDaemonOptions {
  const options: NodeDaemonOptions = {
    nodeName: env.NODE_NAME,
    namespace: env.POD_NAMESPACE,
  };
  const take = (i: number, flag: string): string => {
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) {
      throw new Error(`${flag} needs a value\n\n${NODE_USAGE}`);
    }
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = (): string => {
      if (inline !== undefined) {
        return inline;
      }
      const next = take(i, flag);
      i++;
      return next;
    };
    switch (flag) {
      case '--node-name':
        options.nodeName = value();
        break;
      case '--namespace':
        options.namespace = value();
        break;
      case '--kubeconfig':
        options.kubeconfig = value();
        break;
      case '--kube-qps':
        options.kubeRateLimit = kubeRateLimit(
          value(),
          undefined,
          options.kubeRateLimit ?? DEFAULT_API_RATE_LIMIT,
        );
        break;
      case '--kube-burst':
        options.kubeRateLimit = kubeRateLimit(
          undefined,
          value(),
          options.kubeRateLimit ?? DEFAULT_API_RATE_LIMIT,
        );
        break;
      case '--ledger':
        options.ledger = value();
        break;
      case '--heartbeat-timeout':
        options.heartbeatTimeoutMs = parseDuration(value());
        break;
      case '--check-interval':
        options.checkIntervalMs = parseDuration(value());
        break;
      case '--netns-resolver': {
        const kind = value();
        if (kind !== 'crictl' && kind !== 'static') {
          throw new Error(
            `--netns-resolver must be crictl or static, not '${kind}'`,
          );
        }
        options.netnsResolver = kind;
        break;
      }
      case '--netns-map':
        options.netnsMap = value();
        break;
      case '--crictl':
        options.crictl = value();
        break;
      case '--runtime-endpoint':
        options.runtimeEndpoint = value();
        break;
      case '--iptables':
        options.iptables = value();
        break;
      case '--cgroup-root':
        options.cgroupRoot = value();
        break;
      case '--netem': {
        const mode = value();
        if (mode !== 'auto' && mode !== 'absent') {
          throw new Error(`--netem must be auto or absent, not '${mode}'`);
        }
        options.netem = mode;
        break;
      }
      default:
        throw new Error(`unknown flag '${argv[i]}'\n\n${NODE_USAGE}`);
    }
  }
  return options;
}

/** A started node daemon. */
export interface RunningNodeDaemon {
  daemon: NodeDaemon;
  /** Stops; with revert, removes every fault this node holds first (see NodeDaemon.stop). */
  stop(options?: { revert?: boolean }): Promise<void>;
}

/**
 * Entry point of the node role (`chaoscraft-agent node`): probes netem, opens the ledger, runs
 * the janitor, then watches ChaosRuns until stopped.
 */
export async function runNodeDaemon(
  options: NodeDaemonOptions = {},
): Promise<RunningNodeDaemon> {
  const nodeName = options.nodeName;
  if (!nodeName) {
    throw new Error(
      'the node role needs --node-name or env NODE_NAME (the downward API spec.nodeName)',
    );
  }
  const logger = (options.logger ?? pino({ name: 'chaoscraft-node' })).child({
    node: nodeName,
  });
  const kc = loadKubeConfig(options.kubeconfig, {
    rateLimit: options.kubeRateLimit ?? DEFAULT_API_RATE_LIMIT,
  });
  let resolver: NetnsResolver;
  if (options.netnsResolver === 'static') {
    if (!options.netnsMap) {
      throw new Error('--netns-resolver static needs --netns-map');
    }
    resolver = new StaticNetnsResolver({ file: options.netnsMap });
  } else {
    resolver = new CrictlNetnsResolver({
      crictl: options.crictl,
      runtimeEndpoint: options.runtimeEndpoint,
    });
  }
  const probe =
    options.netem === 'absent'
      ? { available: false, evidence: 'forced absent (--netem absent)' }
      : await detectNetem();
  logger.info(
    { netem: probe.available, evidence: probe.evidence },
    `netem ${probe.available ? 'available' : 'unavailable'}`,
  );

  const stressNg =
    (await runCommand('stress-ng', ['--version']).catch(() => undefined))
      ?.code === 0;
  logger.info(
    { stressNg },
    `stress-ng ${
      stressNg
        ? 'available'
        : 'unavailable: stress faults are refused at preflight'
    }`,
  );

  const ledgerPath = options.ledger ?? DEFAULT_LEDGER_PATH;
  const { ledger, skippedLines } = await Ledger.open(ledgerPath);
  logger.info(
    { ledger: ledgerPath, held: ledger.entries().length, skippedLines },
    'ledger opened',
  );

  // With hostPID, PID 1 is the node's init: its namespace is the node's own network.
  const hostNetnsInode = await netnsInode('/proc/1/ns/net');
  if (hostNetnsInode === undefined) {
    logger.warn(
      'cannot stat /proc/1/ns/net (no hostPID?): hostNetwork pods cannot be told apart',
    );
  }
  const daemon = new NodeDaemon(
    {
      nodeName,
      kc,
      ledger,
      resolver,
      capabilities: {
        netem: probe.available,
        iptables: options.iptables ?? 'iptables',
        stressNg,
      },
      cgroupRoot: options.cgroupRoot,
      logger,
      namespace: options.namespace ?? DEFAULT_AGENT_NAMESPACE,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 30_000,
      checkIntervalMs: options.checkIntervalMs ?? 1_000,
    },
    hostNetnsInode,
  );
  await daemon.start();
  logger.info('node daemon started');
  return {
    daemon,
    stop: async stopOptions => {
      await daemon.stop(stopOptions);
      // Its pooled connections would keep an embedding process (a test, a benchmark) alive.
      await kc.close();
    },
  };
}

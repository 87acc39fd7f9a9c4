import { readFileSync } from 'node:fs';
import os from 'node:os';
import {
  CHAOS_NAMESPACE_OPT_IN_LABEL,
  DEFAULT_CEILINGS,
  type ChaosCeilings,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  type ApiRateLimit,
  DEFAULT_API_RATE_LIMIT,
} from '@chaoscraft/backstage-plugin-chaos-node';

/** Everything the controller can be told, with the defaults its flags document (docs/agent.md). */
export interface ControllerConfig {
  /** Path of a kubeconfig; unset means in-cluster (service account), else the default loading rules. */
  kubeconfig?: string;
  /** The API client's token bucket (--kube-qps, --kube-burst; default DEFAULT_API_RATE_LIMIT, 50/100). */
  kubeRateLimit: ApiRateLimit;
  /** The agent's own namespace: protected, and home of the leader Lease. */
  agentNamespace: string;
  /** Namespaces whose ChaosRuns this controller reconciles; empty means all. */
  watchNamespaces: string[];
  protectedNamespaces: string[];
  optInLabel: string;
  allowCrossNamespaceTargets: boolean;
  metricsHost: string;
  metricsPort: number;
  leaderElect: boolean;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  heartbeatIntervalMs: number;
  rollbackTimeoutMs: number;
  relistPeriodMs: number;
  injectionConcurrency: number;
  /**
   * How long a progressive step waits for its targets to be acted on (node daemons inject
   * network faults) before its hold starts anyway.
   */
  injectionTimeoutMs: number;
  /**
   * Serve the ChaosRun mutating webhook that plans runs at admission on this port (0 = any free
   * port); unset = no webhook, every run is planned by preflight.
   */
  webhookPort?: number;
  webhookHost: string;
  /** Directory with the webhook's tls.crt and tls.key. */
  webhookCertDir: string;
  /** Prometheus base URL for promql probes; without it, runs with promql probes are refused. */
  prometheusUrl?: string;
  /** Serve target selection from a pod watch cache of the target namespace (relists when cold). */
  podCache: boolean;
  /**
   * The operator's ceilings (--max-blast-radius-percent, --max-duration, --allowed-fault-types,
   * --min-probe-interval, --max-probe-requests-per-check, --probe-allowed-hosts,
   * --probe-denied-hosts): the same rules the backend enforces, here for every ChaosRun, kubectl's
   * included. Defaults: the common package's DEFAULT_CEILINGS.
   */
  ceilings: ChaosCeilings;
  logLevel: string;
}

const SERVICE_ACCOUNT_NAMESPACE_FILE =
  '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The namespace the agent runs in: POD_NAMESPACE (downward API), else the service account's. */
export function detectAgentNamespace(): string {
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE_FILE, 'utf8').trim();
  } catch {
    return 'chaoscraft-system';
  }
}

export function defaultControllerConfig(): ControllerConfig {
  return {
    kubeRateLimit: DEFAULT_API_RATE_LIMIT,
    agentNamespace: detectAgentNamespace(),
    watchNamespaces: [],
    protectedNamespaces: [],
    optInLabel: CHAOS_NAMESPACE_OPT_IN_LABEL,
    allowCrossNamespaceTargets: false,
    metricsHost: '0.0.0.0',
    metricsPort: 8080,
    leaderElect: true,
    leaseName: 'chaoscraft-agent-controller',
    identity: process.env.POD_NAME ?? `${os.hostname()}-${process.pid}`,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    heartbeatIntervalMs: 5_000,
    rollbackTimeoutMs: 60_000,
    relistPeriodMs: 300_000,
    injectionConcurrency: 100,
    injectionTimeoutMs: 30_000,
    webhookHost: '0.0.0.0',
    webhookCertDir: '/etc/chaoscraft/webhook',
    podCache: true,
    ceilings: DEFAULT_CEILINGS,
    logLevel: process.env.LOG_LEVEL ?? 'info',
  };
}

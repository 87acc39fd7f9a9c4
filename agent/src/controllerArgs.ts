import { parseArgs } from 'node:util';
import {
  FAULT_TYPES,
  type FaultType,
  isValidHostPattern,
  parseDuration,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  type ApiRateLimit,
  validateApiRateLimit,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { ControllerConfig, defaultControllerConfig } from './config';

export const CONTROLLER_USAGE = `chaoscraft-agent controller [flags]

  --kubeconfig PATH              kubeconfig to use (default: in-cluster service account)
  --kube-qps N                   API requests a second, client-side token bucket refill
                                 (default 50; 0 = no client-side limit)
  --kube-burst N                 API requests sent at once before --kube-qps spacing starts
                                 (default 100)
  --namespace NS                 the agent's own namespace: protected, holds the Lease
                                 (default: $POD_NAMESPACE or the service account's)
  --watch-namespaces A,B         reconcile ChaosRuns only in these namespaces (default: all)
  --protected-namespaces A,B     never target these (kube-system, kube-public,
                                 kube-node-lease and --namespace always are)
  --opt-in-label KEY             namespace label that must be "true" (default chaoscraft.io/chaos-enabled)
  --allow-cross-namespace        let a run target a namespace other than its own
  --metrics-bind-address HOST    (default 0.0.0.0)
  --metrics-port PORT            /metrics, /healthz, /readyz; 0 picks a free port (default 8080)
  --leader-elect BOOL            (default true)
  --lease-name NAME              (default chaoscraft-agent-controller)
  --identity ID                  (default $POD_NAME or hostname-pid)
  --lease-duration DUR           (default 15s)
  --renew-deadline DUR           (default 10s)
  --retry-period DUR             (default 2s)
  --heartbeat-interval DUR       status.heartbeatTime renewal (default 5s)
  --rollback-timeout DUR         wait for node daemons to recover (default 60s)
  --relist-period DUR            informer relist (default 5m)
  --injection-concurrency N      targets acted on at once, the next started as one is done
                                 (default 100; --kube-qps and --kube-burst pace the calls)
  --injection-timeout DUR        a progressive step's wait for its targets to be acted on
                                 before its hold starts anyway (default 30s)
  --webhook-port N               serve the ChaosRun mutating webhook that plans runs at
                                 admission (default: off; 0 = any free port)
  --webhook-bind-address HOST    (default 0.0.0.0)
  --webhook-cert-dir DIR         tls.crt and tls.key (default /etc/chaoscraft/webhook)
  --prometheus-url URL           Prometheus for promql steady-state probes (default: none;
                                 runs with promql probes are then refused at preflight)
  --pod-cache BOOL               select targets from a pod watch cache of the target namespace
                                 (default true; a cold cache falls back to a fresh list)
  --log-level LEVEL              (default info)

 Ceilings no ChaosRun can raise (the backend enforces the same; refused runs end Failed with
 reason CeilingExceeded):
  --max-blast-radius-percent N   highest safety.maxBlastRadiusPercent (default 50)
  --max-duration DUR             longest duration and total of progressive holds (default 1h)
  --allowed-fault-types A,B      fault types that may run (default: all)
  --min-probe-interval DUR       shortest hypothesis.interval (default 1s)
  --max-probe-requests-per-check N  http probe requests per check, together (default 100)
  --probe-allowed-hosts A,B      hosts http probes may reach: names, *.suffix, CIDRs
                                 (default: any host not denied)
  --probe-denied-hosts A,B       always denied; loopback, link-local (169.254.0.0/16,
                                 fe80::/10) and the API server are denied by default
`;

function list(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map(s => s.trim())
        .filter(Boolean);
}

function bool(flag: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false')
    throw new Error(`--${flag} must be true or false`);
  return value === 'true';
}

function int(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new Error(`--${flag} must be a non-negative integer`);
  return parsed;
}

function faultTypes(value: string | undefined): FaultType[] | undefined {
  const types = list(value);
  if (!types) return undefined;
  const unknown = types.filter(
    t => !(FAULT_TYPES as readonly string[]).includes(t),
  );
  if (unknown.length)
    throw new Error(
      `--allowed-fault-types: unknown fault type(s) ${unknown.join(
        ', ',
      )} (known: ${FAULT_TYPES.join(', ')})`,
    );
  return types as FaultType[];
}

function hostPatterns(
  flag: string,
  value: string | undefined,
): string[] | undefined {
  const patterns = list(value);
  const bad = patterns?.filter(p => !isValidHostPattern(p)) ?? [];
  if (bad.length)
    throw new Error(
      `--${flag}: not a host name, *.suffix or CIDR: ${bad.join(', ')}`,
    );
  return patterns;
}

/** --kube-qps and --kube-burst onto a default: the client's token bucket (both roles). */
export function kubeRateLimit(
  qps: string | undefined,
  burst: string | undefined,
  fallback: ApiRateLimit,
): ApiRateLimit {
  return validateApiRateLimit(
    {
      qps: qps === undefined ? fallback.qps : Number(qps),
      burst: burst === undefined ? fallback.burst : Number(burst),
    },
    { qps: '--kube-qps', burst: '--kube-burst' },
  );
}

/** Parses the `controller` subcommand's flags onto the defaults. */
export function parseControllerArgs(argv: string[]): ControllerConfig {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      kubeconfig: { type: 'string' },
      'kube-qps': { type: 'string' },
      'kube-burst': { type: 'string' },
      namespace: { type: 'string' },
      'watch-namespaces': { type: 'string' },
      'protected-namespaces': { type: 'string' },
      'opt-in-label': { type: 'string' },
      'allow-cross-namespace': { type: 'boolean' },
      'metrics-bind-address': { type: 'string' },
      'metrics-port': { type: 'string' },
      'leader-elect': { type: 'string' },
      'lease-name': { type: 'string' },
      identity: { type: 'string' },
      'lease-duration': { type: 'string' },
      'renew-deadline': { type: 'string' },
      'retry-period': { type: 'string' },
      'heartbeat-interval': { type: 'string' },
      'rollback-timeout': { type: 'string' },
      'relist-period': { type: 'string' },
      'injection-concurrency': { type: 'string' },
      'injection-timeout': { type: 'string' },
      'webhook-port': { type: 'string' },
      'webhook-bind-address': { type: 'string' },
      'webhook-cert-dir': { type: 'string' },
      'prometheus-url': { type: 'string' },
      'pod-cache': { type: 'string' },
      'log-level': { type: 'string' },
      'max-blast-radius-percent': { type: 'string' },
      'max-duration': { type: 'string' },
      'allowed-fault-types': { type: 'string' },
      'min-probe-interval': { type: 'string' },
      'max-probe-requests-per-check': { type: 'string' },
      'probe-allowed-hosts': { type: 'string' },
      'probe-denied-hosts': { type: 'string' },
    },
  });
  const defaults = defaultControllerConfig();
  const duration = (value: string | undefined, fallback: number): number =>
    value === undefined ? fallback : parseDuration(value);
  const config: ControllerConfig = {
    kubeconfig: values.kubeconfig ?? defaults.kubeconfig,
    kubeRateLimit: kubeRateLimit(
      values['kube-qps'],
      values['kube-burst'],
      defaults.kubeRateLimit,
    ),
    agentNamespace: values.namespace ?? defaults.agentNamespace,
    watchNamespaces:
      list(values['watch-namespaces']) ?? defaults.watchNamespaces,
    protectedNamespaces:
      list(values['protected-namespaces']) ?? defaults.protectedNamespaces,
    optInLabel: values['opt-in-label'] ?? defaults.optInLabel,
    allowCrossNamespaceTargets:
      values['allow-cross-namespace'] ?? defaults.allowCrossNamespaceTargets,
    metricsHost: values['metrics-bind-address'] ?? defaults.metricsHost,
    metricsPort:
      int('metrics-port', values['metrics-port']) ?? defaults.metricsPort,
    leaderElect:
      bool('leader-elect', values['leader-elect']) ?? defaults.leaderElect,
    leaseName: values['lease-name'] ?? defaults.leaseName,
    identity: values.identity ?? defaults.identity,
    leaseDurationMs: duration(
      values['lease-duration'],
      defaults.leaseDurationMs,
    ),
    renewDeadlineMs: duration(
      values['renew-deadline'],
      defaults.renewDeadlineMs,
    ),
    retryPeriodMs: duration(values['retry-period'], defaults.retryPeriodMs),
    heartbeatIntervalMs: duration(
      values['heartbeat-interval'],
      defaults.heartbeatIntervalMs,
    ),
    rollbackTimeoutMs: duration(
      values['rollback-timeout'],
      defaults.rollbackTimeoutMs,
    ),
    relistPeriodMs: duration(values['relist-period'], defaults.relistPeriodMs),
    injectionConcurrency:
      int('injection-concurrency', values['injection-concurrency']) ??
      defaults.injectionConcurrency,
    injectionTimeoutMs: duration(
      values['injection-timeout'],
      defaults.injectionTimeoutMs,
    ),
    webhookPort:
      int('webhook-port', values['webhook-port']) ?? defaults.webhookPort,
    webhookHost: values['webhook-bind-address'] ?? defaults.webhookHost,
    webhookCertDir: values['webhook-cert-dir'] ?? defaults.webhookCertDir,
    prometheusUrl: values['prometheus-url'] || defaults.prometheusUrl,
    podCache: bool('pod-cache', values['pod-cache']) ?? defaults.podCache,
    logLevel: values['log-level'] ?? defaults.logLevel,
    ceilings: {
      maxBlastRadiusPercent:
        int('max-blast-radius-percent', values['max-blast-radius-percent']) ??
        defaults.ceilings.maxBlastRadiusPercent,
      maxDurationMs: duration(
        values['max-duration'],
        defaults.ceilings.maxDurationMs,
      ),
      allowedFaultTypes:
        faultTypes(values['allowed-fault-types']) ??
        defaults.ceilings.allowedFaultTypes,
      minProbeIntervalMs: duration(
        values['min-probe-interval'],
        defaults.ceilings.minProbeIntervalMs,
      ),
      maxProbeRequestsPerCheck:
        int(
          'max-probe-requests-per-check',
          values['max-probe-requests-per-check'],
        ) ?? defaults.ceilings.maxProbeRequestsPerCheck,
      probeHosts: {
        allow:
          hostPatterns('probe-allowed-hosts', values['probe-allowed-hosts']) ??
          defaults.ceilings.probeHosts.allow,
        deny:
          hostPatterns('probe-denied-hosts', values['probe-denied-hosts']) ??
          defaults.ceilings.probeHosts.deny,
      },
      maxLiveRunsPerEntity: defaults.ceilings.maxLiveRunsPerEntity,
    },
  };
  const maxBlast = config.ceilings.maxBlastRadiusPercent;
  if (maxBlast < 1 || maxBlast > 100)
    throw new Error('--max-blast-radius-percent must be from 1 to 100');
  if (config.ceilings.maxProbeRequestsPerCheck < 1)
    throw new Error('--max-probe-requests-per-check must be at least 1');
  if (config.prometheusUrl && !/^https?:\/\//.test(config.prometheusUrl)) {
    throw new Error('--prometheus-url must be an http(s) URL');
  }
  if (config.renewDeadlineMs >= config.leaseDurationMs) {
    throw new Error('--renew-deadline must be shorter than --lease-duration');
  }
  if (config.injectionConcurrency < 1)
    throw new Error('--injection-concurrency must be at least 1');
  return config;
}

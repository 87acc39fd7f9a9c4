import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  V1Namespace,
} from '@kubernetes/client-node';
import { isTerminalPhase } from '@chaoscraft/backstage-plugin-chaos-common';
import type { ControllerConfig } from '../config';
import { FaultRouter } from '../faults';
import {
  chaosRunsPath,
  ChaosRunClient,
  ChaosRunResource,
  isNotFound,
  KeepAliveKubeConfig,
  loadKubeConfig,
  ResilientInformer,
  StatusWriter,
  WorkQueue,
  runKey,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { makeKubeClients } from '../kube/clients';
import { NODE_DAEMON_LABEL, nodeDaemonPresence } from '../kube/nodeDaemonLease';
import { createLogger, Logger } from '../log';
import {
  ControllerMetrics,
  MetricsServer,
  startMetricsServer,
} from '../metrics';
import { EventRecorder } from '../status/kubeEvents';
import { ProbeHypothesisGate } from '../hypothesis/gate';
import { inClusterApiServerHosts } from '../probes/http';
import type { HypothesisGate } from '../hypothesis/hypothesisGate';
import { freshPodSource, PodCache, PodSource } from './podCache';
import { LeaderElector } from './leaderElection';
import { ReconcileDeps } from './pipeline';
import { RunReconciler } from './reconciler';
import {
  planAtAdmission,
  type AdmissionPlannerDeps,
} from '../admission/planner';
import {
  startAdmissionWebhook,
  type AdmissionWebhook,
} from '../admission/webhookServer';

export interface ControllerOptions {
  log?: Logger;
  /** Where the steady-state hypothesis plugs in; default: the probes (k8s, http, promql with --prometheus-url). */
  gate?: HypothesisGate;
  faults?: FaultRouter;
  /** Called after this replica lost the lease and stopped acting (the CLI exits). */
  onLostLeadership?: () => void;
  /** A ready KubeConfig instead of config.kubeconfig (tests). */
  kubeConfig?: KubeConfig;
}

/**
 * The controller role: informers feed a per-run work queue, which a leader-elected replica
 * drains through the reconcile pipeline. Standbys keep their caches warm so failover is quick.
 */
export class ChaosController {
  private readonly runInformers = new Map<
    string,
    ResilientInformer<ChaosRunResource>
  >();
  private readonly namespaces: ResilientInformer<V1Namespace>;
  private readonly queue: WorkQueue;
  private readonly elector: LeaderElector | undefined;
  private readonly events: EventRecorder;
  private readonly gate: HypothesisGate;
  private readonly pods: PodSource;
  private server: MetricsServer | undefined;
  private webhook: AdmissionWebhook | undefined;
  private readonly planner: AdmissionPlannerDeps;
  /** The connection pool of a KubeConfig this controller loaded itself (closed on stop). */
  private readonly ownKubeConfig: KeepAliveKubeConfig | undefined;
  private acting = false;
  private leadership: Promise<void> = Promise.resolve();
  readonly metrics: ControllerMetrics;
  readonly log: Logger;

  constructor(
    private readonly config: ControllerConfig,
    private readonly options: ControllerOptions = {},
  ) {
    this.log = options.log ?? createLogger(config.logLevel);
    const kc =
      options.kubeConfig ??
      (this.ownKubeConfig = loadKubeConfig(config.kubeconfig, {
        rateLimit: config.kubeRateLimit,
      }));
    const clients = makeKubeClients(kc);
    // Probes may never reach the API server: as this agent reaches it, and as pods do.
    const apiServerHosts = [
      new URL(
        kc.getCurrentCluster()?.server ?? 'https://kubernetes.default.svc',
      ).hostname,
      ...inClusterApiServerHosts(),
    ];
    const runs = new ChaosRunClient(kc);
    this.metrics = new ControllerMetrics(
      () => this.allRuns().map(run => run.status?.phase),
      () => this.allRuns(),
    );
    // Events have a client and a token bucket of their own (as controller-runtime's recorder):
    // a large run's one Event per target must never queue its evictions behind them.
    const eventsClient =
      kc instanceof KeepAliveKubeConfig
        ? kc.withOwnRateLimit().makeApiClient(CoreV1Api)
        : clients.core;
    this.events = new EventRecorder(eventsClient, this.log, config.identity);

    this.namespaces = new ResilientInformer<V1Namespace>({
      kc,
      path: '/api/v1/namespaces',
      list: async () => {
        const list = await clients.core.listNamespace();
        return {
          items: list.items,
          resourceVersion: list.metadata?.resourceVersion,
        };
      },
      relistPeriodMs: config.relistPeriodMs,
      onError: (error, delayMs) =>
        this.informerFailed(
          'namespaceInformer',
          '/api/v1/namespaces',
          error,
          delayMs,
        ),
    });
    const watched = config.watchNamespaces.length
      ? config.watchNamespaces
      : [''];
    for (const namespace of watched) {
      this.runInformers.set(
        namespace,
        new ResilientInformer<ChaosRunResource>({
          kc,
          path: chaosRunsPath(namespace || undefined),
          list: async () => {
            const list = await runs.list({ namespace: namespace || undefined });
            return {
              items: list.items,
              resourceVersion: list.metadata?.resourceVersion,
            };
          },
          relistPeriodMs: config.relistPeriodMs,
          onEvent: (event, run) => this.onRunEvent(event, run),
          onError: (error, delayMs) =>
            this.informerFailed(
              'runInformer',
              chaosRunsPath(namespace || undefined),
              error,
              delayMs,
            ),
        }),
      );
    }

    this.gate =
      options.gate ??
      new ProbeHypothesisGate({
        prometheusUrl: config.prometheusUrl,
        apps: kc.makeApiClient(AppsV1Api),
        probes: {
          http: {
            hosts: config.ceilings.probeHosts,
            extraDeniedHosts: apiServerHosts,
          },
        },
      });
    if (config.podCache) {
      const cache = new PodCache(kc, config.relistPeriodMs, this.log, () =>
        this.metrics.errors.inc({ step: 'podCache' }),
      );
      // Runs may only target their own namespace (unless cross-namespace is allowed), so the
      // watched namespaces are where targets will be: warm their caches up front.
      if (!config.allowCrossNamespaceTargets)
        config.watchNamespaces.forEach(namespace => cache.watch(namespace));
      this.pods = cache;
    } else {
      this.pods = freshPodSource(kc);
    }

    const deps: ReconcileDeps = {
      clients,
      runs,
      status: new StatusWriter(runs),
      events: this.events,
      metrics: this.metrics,
      faults: options.faults ?? FaultRouter.forController({ clients }),
      gate: this.gate,
      pods: this.pods,
      policy: {
        agentNamespace: config.agentNamespace,
        protectedNamespaces: config.protectedNamespaces,
        optInLabel: config.optInLabel,
        allowCrossNamespaceTargets: config.allowCrossNamespaceTargets,
        ceilings: config.ceilings,
        apiServerHosts,
      },
      timing: {
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        rollbackTimeoutMs: config.rollbackTimeoutMs,
        injectionConcurrency: config.injectionConcurrency,
        injectionTimeoutMs: config.injectionTimeoutMs,
      },
      namespaceLabels: name => this.namespaceLabels(clients.core, name),
      nodeDaemons: async () => {
        const leases = await clients.coordination.listNamespacedLease({
          namespace: config.agentNamespace,
          labelSelector: `${NODE_DAEMON_LABEL}=true`,
        });
        return nodeDaemonPresence(leases.items, Date.now());
      },
      latest: key => this.latest(key),
      memory: { violationSince: new Map(), armed: new Set() },
      wake: key => {
        if (this.acting) this.queue.add(key);
      },
    };
    this.planner = {
      pods: deps.pods,
      faults: deps.faults,
      policy: deps.policy,
      namespaceLabels: deps.namespaceLabels,
    };
    const reconciler = new RunReconciler(deps, this.log);
    this.queue = new WorkQueue(
      key => reconciler.reconcile(key),
      (key, error, delayMs) =>
        this.log.error(
          {
            err: error instanceof Error ? error.message : String(error),
            key,
            delayMs,
          },
          'reconcile failed; retrying',
        ),
    );

    if (config.leaderElect) {
      this.elector = new LeaderElector(
        clients.coordination,
        {
          namespace: config.agentNamespace,
          leaseName: config.leaseName,
          identity: config.identity,
          leaseDurationMs: config.leaseDurationMs,
          renewDeadlineMs: config.renewDeadlineMs,
          retryPeriodMs: config.retryPeriodMs,
        },
        {
          onStartedLeading: () => this.setActing(true),
          onStoppedLeading: () => {
            this.setActing(false);
            this.options.onLostLeadership?.();
          },
        },
        this.log,
      );
    }
  }

  /** Starts informers, the metrics server and (with leader election) the campaign for the lease. */
  async start(): Promise<void> {
    this.server = await startMetricsServer(this.metrics, {
      host: this.config.metricsHost,
      port: this.config.metricsPort,
      ready: () => this.hasSynced(),
    });
    if (this.config.webhookPort !== undefined) {
      // Every replica answers the webhook (the Service picks any): planning only reads caches.
      this.webhook = await startAdmissionWebhook({
        host: this.config.webhookHost,
        port: this.config.webhookPort,
        certDir: this.config.webhookCertDir,
        plan: (spec, namespace) =>
          planAtAdmission(spec, namespace, this.planner),
        planTimeoutMs: 1_500,
        log: this.log,
      });
    }
    this.namespaces.start();
    for (const informer of this.runInformers.values()) informer.start();
    if (this.elector) this.elector.start();
    else this.setActing(true);
    this.log.info(
      {
        metricsPort: this.server.port,
        identity: this.config.identity,
        watchNamespaces: this.config.watchNamespaces,
      },
      'controller started',
    );
  }

  /** Stops acting, releases the lease, stops watching; waits for in-flight reconciles. */
  async stop(): Promise<void> {
    if (this.elector) await this.elector.stop();
    this.setActing(false);
    await this.leadership;
    await Promise.all([
      this.namespaces.stop(),
      ...[...this.runInformers.values()].map(i => i.stop()),
      this.pods.stop(),
    ]);
    await this.gate.close?.();
    await this.events.flush();
    await this.server?.close();
    await this.webhook?.close();
    await this.ownKubeConfig?.close();
  }

  /** The admission webhook's port, when it is served. */
  get webhookPort(): number | undefined {
    return this.webhook?.port;
  }

  get metricsPort(): number {
    return this.server?.port ?? 0;
  }

  get isLeader(): boolean {
    return this.acting;
  }

  hasSynced(): boolean {
    return (
      this.namespaces.hasSynced() &&
      [...this.runInformers.values()].every(i => i.hasSynced())
    );
  }

  private setActing(acting: boolean): void {
    if (acting === this.acting) return;
    this.acting = acting;
    this.metrics.leader.set(acting ? 1 : 0);
    // Serialized, so a quick lose-then-win never runs two queues' worth of reconciles at once.
    this.leadership = this.leadership.then(async () => {
      if (acting) {
        this.queue.start();
        for (const run of this.allRuns()) this.queue.add(runKey(run));
      } else {
        await this.queue.stop();
      }
    });
  }

  private informerFailed(
    step: string,
    path: string,
    error: unknown,
    delayMs: number,
  ): void {
    this.metrics.errors.inc({ step });
    this.log.warn(
      { err: String(error), path, delayMs },
      'list/watch failed; restarting after backoff',
    );
  }

  private onRunEvent(
    event: 'add' | 'update' | 'delete',
    run: ChaosRunResource,
  ): void {
    const key = runKey(run);
    if (event === 'delete') {
      this.queue.forget(key);
      void this.gate.forget?.(key);
      return;
    }
    if (!this.acting) return;
    // Finished runs without our finalizer need nothing; skipping them keeps relists cheap.
    if (isTerminalPhase(run.status?.phase) && !run.metadata.finalizers?.length)
      return;
    this.queue.add(key);
  }

  private allRuns(): ChaosRunResource[] {
    return [...this.runInformers.values()].flatMap(informer => informer.list());
  }

  private latest(key: string): ChaosRunResource | undefined {
    const namespace = key.split('/')[0];
    return (this.runInformers.get(namespace) ?? this.runInformers.get(''))?.get(
      key,
    );
  }

  private async namespaceLabels(
    core: ReturnType<typeof makeKubeClients>['core'],
    name: string,
  ): Promise<Record<string, string> | undefined> {
    const cached = this.namespaces.get(name);
    if (cached) return cached.metadata?.labels ?? {};
    try {
      return (await core.readNamespace({ name })).metadata?.labels ?? {};
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

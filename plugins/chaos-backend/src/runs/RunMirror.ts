import type { LoggerService } from '@backstage/backend-plugin-api';
import { CHAOS_RUN_ID_LABEL } from '@chaoscraft/backstage-plugin-chaos-common';
import { ClusterRegistry } from '../cluster/ClusterRegistry';
import { ChaosRunGateway, ChaosRunObject } from '../cluster/ChaosRunGateway';
import { RunStore } from '../database/RunStore';
import { Clock, systemClock } from '../clock';
import { ChaosRunWatch } from './ChaosRunWatch';

/** The Backstage scheduler task (scope global) inside which one backend instance mirrors. */
export const RUN_MIRROR_TASK_ID = 'chaos-run-mirror';
/** How long one task invocation mirrors before it hands back (and another may take over). */
export const MIRROR_WINDOW_MS = 5 * 60_000;
const RESYNC_INTERVAL_MS = 60_000;
/**
 * A Pending run whose ChaosRun is not found is failed only after this long: its create may still
 * be in flight (the API server gives up on a request after 60 s).
 */
export const CREATE_GRACE_MS = 120_000;

/**
 * Mirrors ChaosRun status into the database, trusting only the objects the backend created: the
 * run-id label names a run, and cluster, namespace, name (and uid, once bound) must be that
 * run's. Status of one run is applied serially (a per-run chain of promises), and each write is a
 * conditional update on the row's status version, so neither interleaved events nor a second
 * writer can apply a stale status. Writes are idempotent and forward-only.
 *
 * Only one backend instance mirrors at a time: `runWindow` is the body of a global scheduler task,
 * so the scheduler's lock decides which instance watches and resyncs; when that instance dies its
 * lock expires and another takes over, resyncing first. Every instance still mirrors the runs it
 * creates itself (the create's answer), which the row lock and version keep consistent.
 */
export class RunMirror {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly clock: Clock;

  constructor(
    private readonly clusters: ClusterRegistry,
    private readonly runs: RunStore,
    private readonly logger: LoggerService,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  gateway(clusterName: string): ChaosRunGateway {
    const cluster = this.clusters.resolve(clusterName);
    return new ChaosRunGateway(this.clusters.kubeConfig(cluster));
  }

  /**
   * Mirrors one ChaosRun object seen in `cluster`, if it is one the backend created. Returns
   * whether a run took its status.
   */
  mirror(cluster: string, object: ChaosRunObject): Promise<boolean> {
    const runId = object.metadata?.labels?.[CHAOS_RUN_ID_LABEL];
    const { name, namespace } = object.metadata ?? {};
    if (!runId || !object.status || !name || !namespace)
      return Promise.resolve(false);
    const previous = this.queues.get(runId) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() =>
        this.runs.applyStatus(
          {
            id: runId,
            cluster,
            namespace,
            resourceName: name,
            uid: object.metadata.uid,
          },
          object.status!,
          object.metadata.resourceVersion,
        ),
      );
    this.queues.set(runId, next);
    const cleanup = () => {
      if (this.queues.get(runId) === next) this.queues.delete(runId);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  /** Reads every live run from its cluster: what a restart or a missed event left behind. */
  async resync(): Promise<void> {
    for (const run of await this.runs.listLive()) {
      try {
        const object = await this.gateway(run.cluster).get(
          run.namespace,
          run.resourceName,
        );
        const uid = await this.runs.resourceUid(run.id);
        const ours = object && (!uid || object.metadata.uid === uid);
        if (ours) {
          await this.mirror(run.cluster, object);
        } else if (
          this.clock.now().getTime() - Date.parse(run.createdAt) >
          CREATE_GRACE_MS
        ) {
          await this.runs.fail(
            run.id,
            object ? 'ChaosRunReplaced' : 'ChaosRunNotFound',
            object
              ? `ChaosRun ${run.namespace}/${run.resourceName} in cluster ${run.cluster} is no longer the one this run created`
              : `ChaosRun ${run.namespace}/${run.resourceName} no longer exists in cluster ${run.cluster}`,
          );
        }
      } catch (error) {
        this.logger.warn(
          `Could not resync chaos run ${run.id} in cluster ${run.cluster}: ${error}`,
        );
      }
    }
  }

  /**
   * One mirroring window: resync, then watch every cluster (and resync every minute) until the
   * window ends or `signal` says this instance no longer holds the task.
   */
  async runWindow(
    signal: AbortSignal,
    windowMs = MIRROR_WINDOW_MS,
  ): Promise<void> {
    const resync = () =>
      this.resync().catch(error =>
        this.logger.warn(`Chaos run resync failed: ${error}`),
      );
    await resync();
    if (signal.aborted) return;
    const watches = this.clusters.clusters.map(
      cluster =>
        new ChaosRunWatch({
          cluster: cluster.name,
          kubeConfig: this.clusters.kubeConfig(cluster),
          logger: this.logger,
          onObject: (name, object) => {
            this.mirror(name, object).catch(error =>
              this.logger.warn(
                `Could not mirror chaos run ${object.metadata?.name}: ${error}`,
              ),
            );
          },
        }),
    );
    watches.forEach(w => w.start());
    const timer = setInterval(resync, RESYNC_INTERVAL_MS);
    try {
      await new Promise<void>(resolve => {
        const end = setTimeout(resolve, windowMs);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(end);
            resolve();
          },
          { once: true },
        );
      });
    } finally {
      clearInterval(timer);
      watches.forEach(w => w.stop());
    }
  }
}

import type { LoggerService } from '@backstage/backend-plugin-api';
import { CHAOS_RUN_ID_LABEL } from '@chaoscraft/backstage-plugin-chaos-common';
import { Watch } from '@kubernetes/client-node';
import { ClusterRegistry } from '../cluster/ClusterRegistry';
import { ChaosRunGateway, ChaosRunObject, chaosRunWatchPath } from '../cluster/ChaosRunGateway';
import { RunStore } from '../database/RunStore';

const MAX_BACKOFF_MS = 30_000;
/** A watch that stays silent this long is restarted: half-open connections stall silently. */
const RESYNC_INTERVAL_MS = 60_000;

/**
 * Mirrors ChaosRun status into the database: a watch per cluster (restarted with backoff),
 * a resync of every live run at start, and again periodically, so a backend restart mid-run
 * loses nothing. Writes are idempotent upserts, so a replay records nothing twice.
 */
export class RunMirror {
  private stopped = false;
  private readonly aborts: Array<() => void> = [];
  private resyncTimer?: NodeJS.Timeout;

  constructor(
    private readonly clusters: ClusterRegistry,
    private readonly runs: RunStore,
    private readonly logger: LoggerService,
  ) {}

  gateway(clusterName: string): ChaosRunGateway {
    const cluster = this.clusters.resolve(clusterName);
    return new ChaosRunGateway(this.clusters.kubeConfig(cluster));
  }

  async start(): Promise<void> {
    await this.resync();
    for (const cluster of this.clusters.clusters) {
      this.watch(cluster.name, 0);
    }
    this.resyncTimer = setInterval(() => {
      this.resync().catch(error => this.logger.warn(`Chaos run resync failed: ${error}`));
    }, RESYNC_INTERVAL_MS);
    this.resyncTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    this.aborts.forEach(abort => abort());
  }

  /** Mirrors one ChaosRun object, if Backstage made it. */
  async mirror(object: ChaosRunObject): Promise<void> {
    const runId = object.metadata.labels?.[CHAOS_RUN_ID_LABEL];
    if (!runId || !object.status) return;
    await this.runs.applyStatus(runId, object.status, object.metadata.resourceVersion);
  }

  /** Reads every live run from its cluster: what a restart or a missed event left behind. */
  async resync(): Promise<void> {
    for (const run of await this.runs.listLive()) {
      try {
        const object = await this.gateway(run.cluster).get(run.namespace, run.resourceName);
        if (object) {
          await this.mirror(object);
        } else if (Date.now() - Date.parse(run.createdAt) > 30_000) {
          // Young runs get a grace period: their ChaosRun may be in the middle of creation.
          await this.runs.fail(run.id, 'ChaosRunNotFound', `ChaosRun ${run.namespace}/${run.resourceName} no longer exists in cluster ${run.cluster}`);
        }
      } catch (error) {
        this.logger.warn(`Could not resync chaos run ${run.id} in cluster ${run.cluster}: ${error}`);
      }
    }
  }

  /** `failures`: consecutive watches that ended before delivering anything; sets the backoff. */
  private watch(clusterName: string, failures: number): void {
    if (this.stopped) return;
    let consecutiveFailures = failures;
    const restart = (why: string) => {
      if (this.stopped) return;
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** consecutiveFailures);
      this.logger.info(`Chaos run watch on cluster ${clusterName} ended (${why}); restarting in ${delay} ms`);
      setTimeout(() => this.watch(clusterName, consecutiveFailures + 1), delay).unref();
    };
    const watch = new Watch(this.clusters.kubeConfig(this.clusters.resolve(clusterName)));
    watch
      .watch(
        chaosRunWatchPath,
        { labelSelector: CHAOS_RUN_ID_LABEL, allowWatchBookmarks: false },
        (type, object: ChaosRunObject) => {
          consecutiveFailures = 0;
          if (type === 'ADDED' || type === 'MODIFIED') {
            this.mirror(object).catch(error =>
              this.logger.warn(`Could not mirror chaos run ${object.metadata?.name}: ${error}`),
            );
          }
        },
        error => restart(error ? String(error) : 'closed by the server'),
      )
      .then(controller => this.aborts.push(() => controller.abort()))
      .catch(error => restart(String(error)));
  }
}

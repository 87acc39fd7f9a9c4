import type { LoggerService } from '@backstage/backend-plugin-api';
import { CHAOS_RUN_ID_LABEL } from '@chaoscraft/backstage-plugin-chaos-common';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { ChaosRunObject, chaosRunWatchPath } from '../cluster/ChaosRunGateway';

const MAX_BACKOFF_MS = 30_000;

/**
 * A watch of the ChaosRuns labelled `chaoscraft.io/run-id` in one cluster, restarted with backoff
 * when it ends. It only delivers objects; what to trust and how to store it is the mirror's.
 * Kept apart from RunMirror so that another event source (a shared informer) can replace it.
 */
export class ChaosRunWatch {
  private stopped = false;
  private abort?: () => void;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly options: {
      cluster: string;
      kubeConfig: KubeConfig;
      logger: LoggerService;
      onObject(cluster: string, object: ChaosRunObject): void;
    },
  ) {}

  start(): void {
    this.watch(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.();
  }

  /** `failures`: consecutive watches that ended before delivering anything; sets the backoff. */
  private watch(failures: number): void {
    if (this.stopped) return;
    const { cluster, logger } = this.options;
    let consecutiveFailures = failures;
    const restart = (why: string) => {
      if (this.stopped) return;
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** consecutiveFailures);
      logger.info(`Chaos run watch on cluster ${cluster} ended (${why}); restarting in ${delay} ms`);
      this.timer = setTimeout(() => this.watch(consecutiveFailures + 1), delay);
      this.timer.unref();
    };
    new Watch(this.options.kubeConfig)
      .watch(
        chaosRunWatchPath,
        { labelSelector: CHAOS_RUN_ID_LABEL, allowWatchBookmarks: false },
        (type, object: ChaosRunObject) => {
          consecutiveFailures = 0;
          if (type === 'ADDED' || type === 'MODIFIED') this.options.onObject(cluster, object);
        },
        error => restart(error ? String(error) : 'closed by the server'),
      )
      .then(controller => {
        if (this.stopped) controller.abort();
        else this.abort = () => controller.abort();
      })
      .catch(error => restart(String(error)));
  }
}

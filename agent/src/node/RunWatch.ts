import { CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { CHAOS_RUN_API, CHAOS_RUNS_PATH, ChaosRunObject } from './chaosRun';

export interface RunWatchOptions {
  kc: KubeConfig;
  logger: Logger;
  /** Called with the run's uid whenever it is added, changed or deleted. */
  onChange: (uid: string) => void;
  /** A full relist this often, against watches that stall silently. Default 60 s. */
  relistIntervalMs?: number;
}

/**
 * Every ChaosRun of the cluster, kept current by list + watch. Written by hand rather than with
 * the library's informer: that one stops for good on most errors; this one relists with backoff
 * on any error and on a timer, so a half-open connection cannot hide a run's end for long.
 */
export class RunWatch {
  private readonly runs = new Map<string, ChaosRunObject>();
  private readonly api: CustomObjectsApi;
  private readonly watch: Watch;
  private abort?: AbortController;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private backoffMs = 0;
  private generation = 0;
  /** True once the first list has arrived. */
  synced = false;

  constructor(private readonly options: RunWatchOptions) {
    this.api = options.kc.makeApiClient(CustomObjectsApi);
    this.watch = new Watch(options.kc);
  }

  get(uid: string): ChaosRunObject | undefined {
    return this.runs.get(uid);
  }

  all(): ChaosRunObject[] {
    return [...this.runs.values()];
  }

  /** Lists and starts watching; resolves after the first successful list. */
  async start(): Promise<void> {
    await this.cycle();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort();
  }

  private async cycle(): Promise<void> {
    const generation = ++this.generation;
    this.abort?.abort();
    clearTimeout(this.timer);
    const list = (await this.api.listClusterCustomObject({
      ...CHAOS_RUN_API,
    })) as {
      items?: ChaosRunObject[];
      metadata?: { resourceVersion?: string };
    };
    const seen = new Set<string>();
    for (const run of list.items ?? []) {
      const uid = run.metadata?.uid;
      if (uid) {
        seen.add(uid);
        this.put(uid, run);
      }
    }
    for (const uid of [...this.runs.keys()]) {
      if (!seen.has(uid)) {
        this.runs.delete(uid);
        this.options.onChange(uid);
      }
    }
    this.synced = true;
    this.backoffMs = 0;
    this.abort = await this.watch.watch(
      CHAOS_RUNS_PATH,
      {
        resourceVersion: list.metadata?.resourceVersion,
        allowWatchBookmarks: true,
      },
      (type: string, object: ChaosRunObject) => {
        const uid = object?.metadata?.uid;
        if (!uid || generation !== this.generation) {
          return;
        }
        if (type === 'ADDED' || type === 'MODIFIED') {
          this.put(uid, object);
        } else if (type === 'DELETED') {
          this.runs.delete(uid);
          this.options.onChange(uid);
        }
      },
      error => {
        if (generation === this.generation) {
          if (error) {
            this.options.logger.warn(
              { err: error },
              'ChaosRun watch ended; relisting',
            );
          }
          this.schedule(error ? this.nextBackoff() : 0);
        }
      },
    );
    this.schedule(this.options.relistIntervalMs ?? 60_000);
  }

  private put(uid: string, run: ChaosRunObject): void {
    const before = this.runs.get(uid);
    if (before?.metadata?.resourceVersion === run.metadata?.resourceVersion) {
      return;
    }
    this.runs.set(uid, run);
    this.options.onChange(uid);
  }

  private nextBackoff(): number {
    this.backoffMs = Math.min(
      this.backoffMs ? this.backoffMs * 2 : 500,
      15_000,
    );
    return this.backoffMs;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) {
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.cycle().catch(error => {
        this.options.logger.warn(
          { err: error },
          'ChaosRun list failed; retrying',
        );
        this.schedule(this.nextBackoff());
      });
    }, delayMs);
  }
}

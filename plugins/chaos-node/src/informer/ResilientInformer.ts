import { KubeConfig, KubernetesObject, Watch } from '@kubernetes/client-node';
import { apiErrorCode } from '../kube/apiErrors';
import { Backoff, Sleeper } from './backoff';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface ResilientInformerOptions<
  T,
  W extends KubernetesObject = KubernetesObject,
> {
  kc: KubeConfig;
  /** API path to watch, e.g. /api/v1/namespaces. */
  path: string;
  /** Watch only objects with these labels (the list should use the same selector). */
  labelSelector?: string;
  /** A full list, in the cache's item shape, and the resourceVersion to watch from. */
  list: () => Promise<{ items: T[]; resourceVersion?: string }>;
  /** Turns a watched object into a cache item (default: the object itself). */
  fromWatch?: (object: W) => T;
  /** The cache key of an item (default: `namespace/name`, or `name` for cluster objects). */
  keyOf?: (item: T) => string;
  /**
   * Relist this often even when the watch looks healthy: a half-open connection can stall a
   * watch silently, and only a fresh list notices.
   */
  relistPeriodMs: number;
  /** Every change; a relist reports every object again, which doubles as a periodic resync. */
  onEvent?: (event: InformerEvent, item: T) => void;
  /** A list or watch failed; the informer retries after `delayMs`. */
  onError?: (error: unknown, delayMs: number) => void;
}

function metadataKey(item: unknown): string {
  const metadata = (item as KubernetesObject).metadata;
  return metadata?.namespace
    ? `${metadata.namespace}/${metadata.name}`
    : `${metadata?.name}`;
}

/**
 * List, then watch from the list's resourceVersion, into a local cache: the one list/watch loop
 * of ChaosCraft (the controller's runs, namespaces and pods, the node daemons' runs, the
 * backend's mirror). Unlike client-node's informer, which stops for good on most errors, it
 * restarts with backoff after any failure, relists at once on 410 Gone, and relists
 * periodically. `live` says whether the cache follows the API server right now: listed, and
 * the watch continuing that list is connected.
 */
export class ResilientInformer<
  T,
  W extends KubernetesObject = KubernetesObject,
> {
  private readonly cache = new Map<string, T>();
  private readonly backoff = new Backoff(500, 30_000);
  private readonly sleeper = new Sleeper();
  private readonly keyOf: (item: T) => string;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private abortWatch: (() => void) | undefined;
  private synced = false;
  private readonly firstSync: Promise<void>;
  private markSynced: () => void = () => undefined;
  private watching = false;

  constructor(private readonly options: ResilientInformerOptions<T, W>) {
    this.keyOf = options.keyOf ?? metadataKey;
    this.firstSync = new Promise(resolve => {
      this.markSynced = resolve;
    });
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves once the first list is in the cache (never, if it never succeeds: race a timeout). */
  whenSynced(): Promise<void> {
    return this.firstSync;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.interrupt();
    this.abortWatch?.();
    await this.loop;
  }

  /** True once the first list has been loaded into the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Listed, and the watch that continues that list is connected. */
  get live(): boolean {
    return this.watching;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const list = await this.options.list();
        this.replaceAll(list.items);
        if (!this.synced) {
          this.synced = true;
          this.markSynced();
        }
        await this.watch(list.resourceVersion);
        this.backoff.reset();
      } catch (error) {
        this.watching = false;
        if (this.stopped) break;
        const delayMs = this.backoff.next();
        this.options.onError?.(error, delayMs);
        await this.sleeper.sleep(delayMs);
      }
    }
  }

  private emit(event: InformerEvent, item: T): void {
    this.options.onEvent?.(event, item);
  }

  private replaceAll(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = this.keyOf(item);
      seen.add(key);
      const existed = this.cache.has(key);
      this.cache.set(key, item);
      this.emit(existed ? 'update' : 'add', item);
    }
    for (const [key, item] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('delete', item);
      }
    }
  }

  /** Resolves when the watch should be replaced by a relist (timer, 410); rejects on errors. */
  private async watch(resourceVersion: string | undefined): Promise<void> {
    if (this.stopped) return;
    const fromWatch =
      this.options.fromWatch ?? ((object: W) => object as unknown as T);
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let abort: AbortController | undefined;
      const timers: { relist?: NodeJS.Timeout } = {};
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        this.watching = false;
        clearTimeout(timers.relist);
        abort?.abort();
        this.abortWatch = undefined;
        if (error && apiErrorCode(error) !== 410 && !this.stopped)
          reject(error);
        else resolve();
      };
      timers.relist = setTimeout(() => finish(), this.options.relistPeriodMs);
      this.abortWatch = () => finish();
      const watcher = new Watch(this.options.kc);
      // client-node aborts a watch that receives nothing for 30 s (a TimeoutError): a quiet
      // cluster would then look like a failing one, with backoff up to 30 s between watches and
      // every change in those gaps late until the next relist. The relist timer above already
      // ends a stalled watch; the inactivity timeout only has to outlast it. client-node declares
      // the field private and offers no setter, so it is set through a narrow cast.
      (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs =
        this.options.relistPeriodMs + 30_000;
      watcher
        .watch(
          this.options.path,
          {
            resourceVersion,
            allowWatchBookmarks: true,
            ...(this.options.labelSelector
              ? { labelSelector: this.options.labelSelector }
              : {}),
            // The server ends the watch itself after this; the periodic relist covers stalls.
            timeoutSeconds: Math.max(
              30,
              Math.round(this.options.relistPeriodMs / 1000) + 30,
            ),
          },
          (type: string, object: W) => {
            if (settled) return;
            if (type === 'ERROR') {
              // Usually 410 Gone (resourceVersion too old): relist, no backoff.
              const status = object as unknown as {
                code?: number;
                message?: string;
              };
              if (status.code === 410) finish();
              else
                finish(
                  Object.assign(new Error(status.message ?? 'watch error'), {
                    code: status.code,
                  }),
                );
              return;
            }
            if (type === 'BOOKMARK') return;
            const item = fromWatch(object);
            const key = this.keyOf(item);
            if (type === 'DELETED') {
              this.cache.delete(key);
              this.emit('delete', item);
            } else {
              const existed = this.cache.has(key);
              this.cache.set(key, item);
              this.emit(existed ? 'update' : 'add', item);
            }
          },
          (error: unknown) => finish(error ?? undefined),
        )
        .then(
          controller => {
            abort = controller;
            if (settled) controller.abort();
            // Only now does the cache follow the API server: events since the list will arrive.
            else this.watching = true;
          },
          error => finish(error ?? new Error('watch failed to start')),
        );
    });
  }
}

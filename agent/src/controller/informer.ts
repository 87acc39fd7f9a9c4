import { KubeConfig, KubernetesObject, Watch } from '@kubernetes/client-node';
import type { Logger } from '../log';
import { apiErrorCode } from '../kube/errors';
import { Backoff, Sleeper } from './backoff';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** API path to watch, e.g. /api/v1/namespaces. */
  path: string;
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  /**
   * Relist this often even when the watch looks healthy: a half-open connection can stall a
   * watch silently, and only a fresh list notices.
   */
  relistPeriodMs: number;
  log: Logger;
  onEvent: (event: InformerEvent, object: T) => void;
  onError?: (error: unknown) => void;
}

function objectKey(object: KubernetesObject): string {
  return object.metadata?.namespace
    ? `${object.metadata.namespace}/${object.metadata.name}`
    : `${object.metadata?.name}`;
}

/**
 * List, then watch from the list's resourceVersion, into a local cache. Unlike client-node's
 * informer, which stops for good on most errors, this one restarts with backoff after any
 * failure, relists on 410 Gone at once, and relists periodically.
 */
export class ResilientInformer<T extends KubernetesObject> {
  private readonly cache = new Map<string, T>();
  private readonly backoff = new Backoff(500, 30_000);
  private readonly sleeper = new Sleeper();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private abortWatch: (() => void) | undefined;
  private synced = false;

  constructor(private readonly options: InformerOptions<T>) {}

  start(): void {
    this.loop ??= this.run();
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
        this.synced = true;
        await this.watch(list.metadata?.resourceVersion);
        this.backoff.reset();
      } catch (error) {
        if (this.stopped) break;
        this.options.onError?.(error);
        const delayMs = this.backoff.next();
        this.options.log.warn({ err: String(error), path: this.options.path, delayMs }, 'list/watch failed; restarting after backoff');
        await this.sleeper.sleep(delayMs);
      }
    }
  }

  private replaceAll(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item);
      seen.add(key);
      const existed = this.cache.has(key);
      this.cache.set(key, item);
      // Emitting every object on a relist doubles as a periodic resync for the controller.
      this.options.onEvent(existed ? 'update' : 'add', item);
    }
    for (const [key, item] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.options.onEvent('delete', item);
      }
    }
  }

  /** Resolves when the watch should be replaced by a relist; rejects on errors. */
  private async watch(resourceVersion: string | undefined): Promise<void> {
    if (this.stopped) return;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let abort: AbortController | undefined;
      const timers: { relist?: NodeJS.Timeout } = {};
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timers.relist);
        abort?.abort();
        this.abortWatch = undefined;
        if (error && apiErrorCode(error) !== 410 && !this.stopped) reject(error);
        else resolve();
      };
      timers.relist = setTimeout(() => finish(), this.options.relistPeriodMs);
      this.abortWatch = () => finish();
      new Watch(this.options.kc)
        .watch(
          this.options.path,
          {
            resourceVersion,
            allowWatchBookmarks: true,
            // The server ends the watch itself after this; the periodic relist covers stalls.
            timeoutSeconds: Math.max(30, Math.round(this.options.relistPeriodMs / 1000) + 30),
          },
          (type: string, object: T) => {
            if (settled) return;
            if (type === 'ERROR') {
              // Usually 410 Gone (resourceVersion too old): relist, no backoff.
              const status = object as unknown as { code?: number; message?: string };
              if (status.code === 410) finish();
              else finish(Object.assign(new Error(status.message ?? 'watch error'), { code: status.code }));
              return;
            }
            if (type === 'BOOKMARK') return;
            const key = objectKey(object);
            if (type === 'DELETED') {
              this.cache.delete(key);
              this.options.onEvent('delete', object);
            } else {
              const existed = this.cache.has(key);
              this.cache.set(key, object);
              this.options.onEvent(existed ? 'update' : 'add', object);
            }
          },
          (error: unknown) => finish(error ?? undefined),
        )
        .then(
          controller => {
            abort = controller;
            if (settled) controller.abort();
          },
          error => finish(error ?? new Error('watch failed to start')),
        );
    });
  }
}

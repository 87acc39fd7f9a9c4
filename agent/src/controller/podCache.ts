import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { Logger } from '../log';
import { apiErrorCode } from '../kube/errors';
import { CandidatePod, toCandidatePod } from '../selection/candidates';
import { listCandidatePods, listPods } from '../selection/listCandidates';
import { Backoff, Sleeper } from './backoff';

/** What the pipeline asks for: the pods a run could target, as selection sees them. */
export interface PodSource {
  candidates(namespace: string, labelSelector: Record<string, string>): Promise<CandidatePod[]>;
  stop(): Promise<void>;
}

/** Always a fresh list from the API server (the behaviour without --pod-cache). */
export function freshPodSource(kc: KubeConfig): PodSource {
  return {
    candidates: (namespace, labelSelector) => listCandidatePods(kc, namespace, labelSelector),
    stop: async () => undefined,
  };
}

interface RawPod {
  metadata?: {
    name?: string;
    uid?: string;
    labels?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    resourceVersion?: string;
  };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}


function matches(pod: CandidatePod, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => pod.labels[key] === value);
}


/**
 * The pods of one namespace, kept by list + watch, holding only what selection needs (not whole
 * V1Pods). `live` is true only while the watch that continues the last list is connected: a
 * cache whose watch broke is cold until the next list, and a cold cache is never used.
 */
class NamespacePods {
  private readonly pods = new Map<string, CandidatePod>();
  private readonly backoff = new Backoff(500, 30_000);
  private readonly sleeper = new Sleeper();
  private stopped = false;
  private abortWatch: (() => void) | undefined;
  private readonly loop: Promise<void>;
  live = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
    private readonly relistPeriodMs: number,
    private readonly log: Logger,
    private readonly onError: () => void,
  ) {
    this.loop = this.run();
  }

  list(selector: Record<string, string>): CandidatePod[] {
    return [...this.pods.values()].filter(pod => matches(pod, selector));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.live = false;
    this.sleeper.interrupt();
    this.abortWatch?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const resourceVersion = await this.relist();
        await this.watch(resourceVersion);
        this.backoff.reset();
      } catch (error) {
        this.live = false;
        if (this.stopped) break;
        this.onError();
        const delayMs = this.backoff.next();
        this.log.warn({ err: String(error), namespace: this.namespace, delayMs }, 'pod cache list/watch failed; selection lists fresh meanwhile');
        await this.sleeper.sleep(delayMs);
      }
    }
  }

  /** Reloads the namespace with the selection lister (protobuf, trimmed), then swaps it in. */
  private async relist(): Promise<string | undefined> {
    const { pods, resourceVersion } = await listPods(this.kc, this.namespace);
    this.pods.clear();
    for (const pod of pods) this.pods.set(pod.name, pod);
    return resourceVersion;
  }

  /** Resolves when the watch should be replaced by a relist (timer, 410); rejects on errors. */
  private async watch(resourceVersion: string | undefined): Promise<void> {
    if (this.stopped) return;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let controller: AbortController | undefined;
      const timers: { relist?: NodeJS.Timeout } = {};
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        this.live = false;
        clearTimeout(timers.relist);
        controller?.abort();
        this.abortWatch = undefined;
        if (error && apiErrorCode(error) !== 410 && !this.stopped) reject(error);
        else resolve();
      };
      timers.relist = setTimeout(() => finish(), this.relistPeriodMs);
      this.abortWatch = () => finish();
      new Watch(this.kc)
        .watch(
          `/api/v1/namespaces/${this.namespace}/pods`,
          { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: Math.max(30, Math.round(this.relistPeriodMs / 1000) + 30) },
          (type: string, object: RawPod & { code?: number; message?: string }) => {
            if (settled) return;
            if (type === 'ERROR') {
              if (object.code === 410) finish();
              else finish(Object.assign(new Error(object.message ?? 'watch error'), { code: object.code }));
              return;
            }
            if (type === 'BOOKMARK') return;
            const name = object.metadata?.name ?? '';
            if (type === 'DELETED') this.pods.delete(name);
            else this.pods.set(name, toCandidatePod(object));
          },
          (error: unknown) => finish(error ?? undefined),
        )
        .then(
          started => {
            controller = started;
            if (settled) started.abort();
            // Only now does the cache follow the API server: events since the list will arrive.
            else this.live = true;
          },
          error => finish(error ?? new Error('pod watch failed to start')),
        );
    });
  }
}

/**
 * Target selection served from a per-namespace pod watch cache, so that the plan of a run does
 * not wait for a pod list (one API round trip, the longest on the injection path). A namespace
 * is cached once asked for (or named up front); until its cache is live (listed, and its watch
 * connected), selection falls back to a fresh list.
 *
 * Why a watch cache is safe for the plan: it trails the API server by the watch's delivery
 * time (milliseconds). A pod that went away in that window is still planned, and then its
 * eviction finds it gone (uid precondition: a same-named replacement is never touched) and the
 * record is Skipped; a pod that appeared in it is not yet Running, so it is not eligible anyway.
 */
export class PodCache implements PodSource {
  private readonly namespaces = new Map<string, NamespacePods>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly relistPeriodMs: number,
    private readonly log: Logger,
    private readonly onError: () => void = () => undefined,
  ) {}

  /** Starts caching a namespace's pods (idempotent). */
  watch(namespace: string): void {
    if (!this.namespaces.has(namespace)) {
      this.namespaces.set(namespace, new NamespacePods(this.kc, namespace, this.relistPeriodMs, this.log, this.onError));
    }
  }

  async candidates(namespace: string, labelSelector: Record<string, string>): Promise<CandidatePod[]> {
    const cached = this.namespaces.get(namespace);
    if (cached?.live) {
      return cached.list(labelSelector);
    }
    this.watch(namespace);
    return listCandidatePods(this.kc, namespace, labelSelector);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.namespaces.values()].map(pods => pods.stop()));
    this.namespaces.clear();
  }
}

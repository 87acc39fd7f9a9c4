import { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { ResilientInformer } from '@chaoscraft/backstage-plugin-chaos-node';
import type { Logger } from '../log';
import { CandidatePod, toCandidatePod } from '../selection/candidates';
import { listCandidatePods, listPods } from '../selection/listCandidates';

/** What the pipeline asks for: the pods a run could target, as selection sees them. */
export interface PodSource {
  candidates(
    namespace: string,
    labelSelector: Record<string, string>,
  ): Promise<CandidatePod[]>;
  stop(): Promise<void>;
}

/** Always a fresh list from the API server (the behaviour without --pod-cache). */
export function freshPodSource(kc: KubeConfig): PodSource {
  return {
    candidates: (namespace, labelSelector) =>
      listCandidatePods(kc, namespace, labelSelector),
    stop: async () => undefined,
  };
}

function matches(pod: CandidatePod, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(
    ([key, value]) => pod.labels[key] === value,
  );
}

/**
 * The pods of one namespace, kept by the shared informer, holding only what selection needs
 * (not whole V1Pods): the list comes from the trimmed protobuf lister, watch events are trimmed
 * the same way. A cache whose watch is not connected (`live` false) is never used.
 */
function namespacePods(
  kc: KubeConfig,
  namespace: string,
  relistPeriodMs: number,
  onError: (error: unknown, delayMs: number) => void,
) {
  return new ResilientInformer<CandidatePod, V1Pod>({
    kc,
    path: `/api/v1/namespaces/${namespace}/pods`,
    list: async () => {
      const { pods, resourceVersion } = await listPods(kc, namespace);
      return { items: pods, resourceVersion };
    },
    fromWatch: toCandidatePod,
    keyOf: pod => pod.name,
    relistPeriodMs,
    onError,
  });
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
  private readonly namespaces = new Map<
    string,
    ResilientInformer<CandidatePod, V1Pod>
  >();

  constructor(
    private readonly kc: KubeConfig,
    private readonly relistPeriodMs: number,
    private readonly log: Logger,
    private readonly onError: () => void = () => undefined,
  ) {}

  /** Starts caching a namespace's pods (idempotent). */
  watch(namespace: string): void {
    if (!this.namespaces.has(namespace)) {
      const pods = namespacePods(
        this.kc,
        namespace,
        this.relistPeriodMs,
        (error, delayMs) => {
          this.onError();
          this.log.warn(
            { err: String(error), namespace, delayMs },
            'pod cache list/watch failed; selection lists fresh meanwhile',
          );
        },
      );
      this.namespaces.set(namespace, pods);
      pods.start();
    }
  }

  async candidates(
    namespace: string,
    labelSelector: Record<string, string>,
  ): Promise<CandidatePod[]> {
    const cached = this.namespaces.get(namespace);
    if (cached?.live) {
      return cached.list().filter(pod => matches(pod, labelSelector));
    }
    this.watch(namespace);
    return listCandidatePods(this.kc, namespace, labelSelector);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.namespaces.values()].map(pods => pods.stop()));
    this.namespaces.clear();
  }
}

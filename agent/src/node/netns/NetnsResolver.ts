/** The pod whose network namespace is wanted. */
export interface PodRef {
  namespace: string;
  name: string;
  uid?: string;
  /** Container to prefer (the run's target.container); default the pod's first. */
  container?: string;
}

/** A network namespace the daemon can enter with `nsenter --net=PATH`. */
export interface ResolvedNetns {
  /** /proc/PID/ns/net or an `ip netns` bind mount such as /var/run/netns/NAME. */
  path: string;
  /** How it was found, for logs and the target record. */
  via: string;
  /**
   * The pod shares the node's network namespace (hostNetwork), as its runtime spec says: faults
   * there would hit the node itself, so they are refused.
   */
  hostNetwork?: boolean;
}

/** The main process of a pod's container, as seen in the node's /proc. */
export interface ResolvedProcess {
  pid: number;
  /** How it was found, for logs and the target record. */
  via: string;
}

/** The pod has no network namespace on this node (gone, not started, or not ours). */
export class NetnsNotFoundError extends Error {
  constructor(pod: PodRef, detail: string) {
    super(
      `network namespace of pod ${pod.namespace}/${pod.name} not found: ${detail}`,
    );
    this.name = 'NetnsNotFoundError';
  }
}

/**
 * Finds a pod's network namespace, and its container's main process (whose cgroups stress
 * faults load). Production asks the container runtime (CrictlNetnsResolver); tests map pods to
 * namespaces and processes they created (StaticNetnsResolver).
 */
export interface NetnsResolver {
  resolve(pod: PodRef): Promise<ResolvedNetns>;
  /** @throws NetnsNotFoundError when the pod has no running container on this node. */
  resolveProcess(pod: PodRef): Promise<ResolvedProcess>;
}

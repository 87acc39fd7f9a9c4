import {
  CoreV1Api,
  KubeConfig,
  V1Pod,
  V1Status,
  Watch,
} from '@kubernetes/client-node';
import { WaitAbortedError, waitFor, WaitForOptions } from './wait';

/** HTTP status of a failed client-node call (its ApiException), or undefined for other errors. */
export function apiErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'number' ? code : undefined;
}

/** The `Status` object the API server sent with a failed call, if any. */
export function apiErrorStatus(error: unknown): V1Status | undefined {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as V1Status;
    } catch {
      return undefined;
    }
  }
  return body && typeof body === 'object' ? (body as V1Status) : undefined;
}

/**
 * Awaits a call that must fail with HTTP `code`; resolves with the server's Status object.
 * Fails if the call succeeds or fails differently.
 */
export async function expectApiError(
  call: Promise<unknown>,
  code: number,
): Promise<V1Status> {
  let outcome: unknown;
  try {
    outcome = await call;
  } catch (error) {
    const actual = apiErrorCode(error);
    if (actual !== code) {
      throw new Error(
        `expected HTTP ${code}, got ${actual ?? 'a non-HTTP error'}: ${String(
          error,
        )}`,
        { cause: error },
      );
    }
    return apiErrorStatus(error) ?? {};
  }
  throw new Error(
    `expected HTTP ${code}, but the call succeeded: ${JSON.stringify(outcome)}`,
  );
}

/** Running, Ready and not being deleted: what kwok reports for a healthy pod on a fake node. */
export function isPodReady(pod: V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    pod.status?.phase === 'Running' &&
    (pod.status.conditions ?? []).some(
      c => c.type === 'Ready' && c.status === 'True',
    )
  );
}

/**
 * Waits until exactly `count` pods matching `labelSelector` are Ready and no other matching
 * pod is left (terminating or pending), and returns them.
 */
export async function waitForReadyPods(
  core: CoreV1Api,
  namespace: string,
  labelSelector: string,
  count: number,
  options: WaitForOptions = {},
): Promise<V1Pod[]> {
  return waitFor(
    async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector });
      const ready = pods.items.filter(isPodReady);
      return ready.length === count && pods.items.length === count
        ? ready
        : undefined;
    },
    {
      description: `${count} ready pods matching ${labelSelector} in ${namespace}`,
      ...options,
    },
  );
}

/**
 * A KubeConfig for the same cluster as `base` that authenticates with a bearer token, e.g.
 * one from the TokenRequest API, so a test can act as a service account.
 */
export function kubeConfigWithToken(
  base: KubeConfig,
  token: string,
  userName = 'token-user',
): KubeConfig {
  const cluster = base.getCurrentCluster();
  if (!cluster) {
    throw new Error('the base kubeconfig has no current cluster');
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: userName, token }],
    contexts: [{ name: userName, cluster: cluster.name, user: userName }],
    currentContext: userName,
  });
  return kc;
}

/** One event received through a watch. */
export interface WatchEvent<T> {
  type: string;
  object: T;
}

/** Records the events of one watch, for tests that assert on them. */
export interface WatchRecorder<T> {
  /** Every event so far, in arrival order. */
  readonly events: ReadonlyArray<WatchEvent<T>>;
  /** Resolves with the first event (already received or future) that matches. */
  waitForEvent(
    predicate: (event: WatchEvent<T>) => boolean,
    options?: WaitForOptions,
  ): Promise<WatchEvent<T>>;
  /** Ends the watch. */
  stop(): void;
}

/**
 * Starts a watch on `path` (e.g. `/api/v1/namespaces/ns/pods`) and records its events. The
 * start is retried until the server answers 200, since a just-established CRD can take a
 * moment to be served. If the watch ends before stop(), waitForEvent fails with the reason
 * instead of running into its timeout.
 */
export async function recordWatch<T>(
  kc: KubeConfig,
  path: string,
  queryParams: Record<string, string | number | boolean | undefined> = {},
  options: WaitForOptions = {},
): Promise<WatchRecorder<T>> {
  const events: Array<WatchEvent<T>> = [];
  let ended: { error: unknown } | undefined;
  let stopped = false;
  // Read through a function: `ended` is set in callbacks, which control-flow narrowing ignores.
  const endedNow = (): { error: unknown } | undefined => ended;
  const controller = await waitFor(
    async () => {
      ended = undefined;
      const started = await new Watch(kc).watch(
        path,
        queryParams,
        (type: string, object: T) => {
          events.push({ type, object });
        },
        (error: unknown) => {
          ended = { error };
        },
      );
      // A non-200 answer ends the watch before watch() returns: e.g. 429 while the watch
      // cache of a just-established CRD is still initializing.
      const failure = endedNow();
      if (failure) {
        throw new Error(`watch ${path} failed: ${String(failure.error)}`);
      }
      return started;
    },
    { description: `a watch on ${path}`, ...options },
  );
  return {
    events,
    waitForEvent: (predicate, waitOptions = {}) =>
      waitFor(
        () => {
          const match = events.find(predicate);
          const end = endedNow();
          if (!match && end && !stopped) {
            throw new WaitAbortedError(
              `the watch on ${path} ended before a matching event: ${String(
                end.error,
              )}`,
              { cause: end.error },
            );
          }
          return match;
        },
        { description: `a matching event on ${path}`, ...waitOptions },
      ),
    stop: () => {
      stopped = true;
      controller.abort();
    },
  };
}

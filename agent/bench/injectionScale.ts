import { EventEmitter, once } from 'node:events';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { delay, waitFor } from '@chaoscraft/test-sandbox';
import {
  isTerminalPhase,
  RunPhase,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  type ApiRateLimit,
  CHAOS_RUN_COORDINATES,
  chaosRunsPath,
  ChaosRunResource,
  KeepAliveKubeConfig,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { log, median } from './benchSupport';

/** Which way pods are killed: the PDB-respecting Eviction API, or a bare delete. */
export type KillPath = 'evict' | 'delete';

export interface ScaleFigure {
  targets: number;
  path: KillPath;
  /** How many pairs were measured (the figures are their medians). */
  repeats: number;
  /** ChaosRun created → its status lists every target Injected (the agent's own report). */
  injectMs: number;
  /** The same pods' worth of bare calls through a client with the agent's QPS and burst, all issued at once. */
  bareMs: number;
  /** ChaosRun created → a pod watch has seen its N pods deleted. */
  injectSeenMs: number;
  /** First bare call → the same watch has seen the N pods deleted. */
  bareSeenMs: number;
}

/** One side of a pair: its figure, and when a pod watch saw its last kill (same clock, same start). */
interface Timed {
  ms: number;
  seenMs: number;
}

export const SCALE_LABEL = 'bench-scale';

/** The scale namespace's Deployment: `replicas` kwok pods, none on the real node. */
export async function createScaleFleet(
  kc: KubeConfig,
  namespace: string,
  replicas: number,
): Promise<void> {
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'fleet' },
      spec: {
        replicas,
        selector: { matchLabels: { app: SCALE_LABEL } },
        template: {
          metadata: { labels: { app: SCALE_LABEL } },
          spec: {
            nodeSelector: { type: 'kwok' },
            terminationGracePeriodSeconds: 0,
            automountServiceAccountToken: false,
            containers: [{ name: 'app', image: 'chaoscraft-demo/app:1' }],
          },
        },
      },
    },
  });
}

const isRunning = (pod: V1Pod): boolean =>
  pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;

/** Waits (bounded) until the fleet is whole again: `replicas` Running pods, none terminating. */
export async function waitForFleet(
  core: CoreV1Api,
  namespace: string,
  replicas: number,
): Promise<V1Pod[]> {
  return waitFor(
    async () => {
      const pods = (
        await core.listNamespacedPod({
          namespace,
          labelSelector: `app=${SCALE_LABEL}`,
        })
      ).items;
      const running = pods.filter(isRunning);
      return running.length === replicas && pods.length === replicas
        ? running
        : undefined;
    },
    {
      timeoutMs: 4 * 60_000,
      intervalMs: 1_000,
      description: `${replicas} Running pods in ${namespace}`,
    },
  );
}

/**
 * A pod watch on a namespace that notes the first sign of each pod's deletion (its
 * deletionTimestamp set, or its DELETED event), once per pod: when a named pod goes (`of`), the
 * next pod to go (`next`), or the n-th since the watch opened (`nth`). Opened at the namespace's
 * current resourceVersion, so it replays none of the existing pods; when the API server ends the
 * watch, it resumes where it left off.
 *
 * At scale it is one observer for both sides of a pair, so their kills are compared where the
 * API server takes them, apart from what each side does around them: the bare side stops at its
 * last answer; the run's figure includes its create and the status write that reports the kills.
 */
export async function watchDeletions(kc: KubeConfig, namespace: string) {
  const list = await kc
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace, limit: 1 });
  let resourceVersion = list.metadata?.resourceVersion;
  /** Each pod's first sign of deletion, by name; and their times in the order seen. */
  const goneAt = new Map<string, number>();
  const times: number[] = [];
  const types = new Map<string, number>();
  /** Emits 'gone' (name, time) on each pod's first sign. */
  const signs = new EventEmitter();
  let stopped = false;
  let reopened = 0;
  let current: AbortController | undefined;
  const open = async (): Promise<void> => {
    current = await new Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { resourceVersion },
      (type: string, pod: V1Pod) => {
        types.set(type, (types.get(type) ?? 0) + 1);
        resourceVersion = pod.metadata?.resourceVersion ?? resourceVersion;
        const name = pod.metadata?.name;
        if (type !== 'DELETED' && !pod.metadata?.deletionTimestamp) return;
        if (!name || goneAt.has(name)) return;
        const at = performance.now();
        goneAt.set(name, at);
        times.push(at);
        signs.emit('gone', name, at);
      },
      () => {
        if (stopped) return;
        reopened++;
        open().catch(() => undefined);
      },
    );
  };
  await open();
  return {
    /** When the named pod was first seen going (at once if it already was). */
    of: async (pod: string): Promise<number> => {
      while (!goneAt.has(pod)) await once(signs, 'gone');
      return goneAt.get(pod)!;
    },
    /** When the next pod is first seen going. */
    next: async (): Promise<number> => (await once(signs, 'gone'))[1],
    /** When the n-th pod since the watch opened was first seen going (bounded wait). */
    async nth(n: number, timeoutMs = 60_000): Promise<number> {
      const deadline = performance.now() + timeoutMs;
      while (times.length < n) {
        const left = deadline - performance.now();
        if (left <= 0)
          throw new Error(
            `the pod watch on ${namespace} saw ${
              times.length
            } of ${n} deletions within ${timeoutMs} ms (events ${JSON.stringify(
              Object.fromEntries(types),
            )}, reopened ${reopened} times)`,
          );
        await once(signs, 'gone', {
          signal: AbortSignal.timeout(Math.ceil(left)),
        }).catch(() => undefined);
      }
      if (reopened) log(`the pod watch was reopened ${reopened} times`);
      return times[n - 1];
    },
    stop: () => {
      stopped = true;
      current?.abort();
    },
  };
}

export type Deletions = Awaited<ReturnType<typeof watchDeletions>>;

/** Kills one pod at once (grace period 0) by the path's API: an Eviction, or a bare delete. */
export function killPod(
  core: CoreV1Api,
  namespace: string,
  name: string,
  path: KillPath,
): Promise<unknown> {
  return path === 'evict'
    ? core.createNamespacedPodEviction({
        name,
        namespace,
        body: {
          metadata: { name, namespace },
          deleteOptions: { gracePeriodSeconds: 0 },
        },
      })
    : core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
}

/**
 * N bare kills of named pods, all handed at once to a client limited like the agent's (its own
 * token bucket, started full as the agent's is after a quiet spell): time from the first call to
 * the last answer, and to `deletions` seeing the N pods gone. "As fast as the client's QPS
 * allows": the bucket, not a concurrency cap, paces them.
 */
export async function bareKills(
  kc: KubeConfig,
  namespace: string,
  pods: string[],
  path: KillPath,
  deletions: Deletions,
): Promise<Timed> {
  const core = kc.makeApiClient(CoreV1Api);
  const t0 = performance.now();
  await Promise.all(pods.map(name => killPod(core, namespace, name, path)));
  const ms = performance.now() - t0;
  return { ms, seenMs: (await deletions.nth(pods.length)) - t0 };
}

/**
 * Creates a ChaosRun killing `targets` pods and resolves with the time from the create call to
 * the first status the watch delivers with every target Injected, and to `deletions` seeing the
 * N pods gone; logs what the create took.
 */
export async function timeScaleRun(
  kc: KubeConfig,
  namespace: string,
  name: string,
  targets: number,
  path: KillPath,
  deletions: Deletions,
): Promise<Timed> {
  let plannedBy = '?';
  let resolveInjected: (at: number) => void = () => undefined;
  let rejectInjected: (error: Error) => void = () => undefined;
  const injected = new Promise<number>((resolve, reject) => {
    resolveInjected = resolve;
    rejectInjected = reject;
  });
  const watcher = new Watch(kc);
  // client-node ends a watch after 30 s without an event; an admission-planned run writes its
  // status once, after every target, which at 1,000 targets on a loaded machine can be later.
  // (private in the typings; ResilientInformer sets it the same way)
  (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs =
    4 * 60_000;
  const watch = await watcher.watch(
    chaosRunsPath(namespace),
    { fieldSelector: `metadata.name=${name}` },
    (_type: string, run: ChaosRunResource) => {
      const status = run.status;
      const done =
        status?.targets?.filter(record => record.phase === 'Injected').length ??
        0;
      if (done >= targets) {
        plannedBy =
          status?.phaseTransitions?.[0]?.reason === 'PlannedAtAdmission'
            ? 'admission'
            : 'preflight';
        resolveInjected(performance.now());
      } else if (isTerminalPhase(status?.phase)) {
        rejectInjected(
          new Error(
            `run ${name} ended ${status?.phase} (${status?.reason}: ${status?.message}) with ${done}/${targets} Injected`,
          ),
        );
      }
    },
    (error: unknown) =>
      rejectInjected(
        new Error(
          `the watch on run ${name} ended before every target was Injected: ${String(
            error,
          )}`,
        ),
      ),
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    const t0 = performance.now();
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      ...CHAOS_RUN_COORDINATES,
      namespace,
      body: {
        apiVersion: 'chaoscraft.io/v1alpha1',
        kind: 'ChaosRun',
        metadata: { name },
        spec: {
          target: {
            namespace,
            labelSelector: { app: SCALE_LABEL },
            selection: { mode: 'fixed', count: targets },
          },
          faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
          safety: {
            maxBlastRadiusPercent: 100,
            respectPodDisruptionBudgets: path === 'evict',
          },
          duration: '1s',
        },
      },
    });
    const createdMs = performance.now() - t0;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `run ${name}: not all ${targets} targets Injected within 3 min`,
            ),
          ),
        3 * 60_000,
      );
    });
    const ms = (await Promise.race([injected, timeout])) - t0;
    const seenMs = (await deletions.nth(targets)) - t0;
    log(
      `run ${name}: planned by ${plannedBy}; created in ${createdMs.toFixed(
        0,
      )} ms, its ${targets} pods seen deleted at ${seenMs.toFixed(
        0,
      )} ms, all Injected in its status at ${ms.toFixed(0)} ms`,
    );
    return { ms, seenMs };
  } finally {
    clearTimeout(timer);
    watch.abort();
  }
}

/** Waits (bounded) until every ChaosRun of the namespace has ended. */
export async function waitForRunsToEnd(
  kc: KubeConfig,
  namespace: string,
): Promise<void> {
  const customObjects = kc.makeApiClient(CustomObjectsApi);
  await waitFor(
    async () => {
      const runs = (await customObjects.listNamespacedCustomObject({
        ...CHAOS_RUN_COORDINATES,
        namespace,
      })) as {
        items: Array<{ status?: { phase?: RunPhase } }>;
      };
      return runs.items.every(run => isTerminalPhase(run.status?.phase));
    },
    {
      timeoutMs: 2 * 60_000,
      intervalMs: 500,
      description: `runs in ${namespace} to end`,
    },
  );
}

/**
 * At each scale and on each kill path: a ChaosRun of N targets against N bare calls, measured
 * back to back from the same whole fleet (the order alternates by scale, so neither always
 * follows the other's replacement storm). The bare client is the agent's: KeepAliveKubeConfig
 * with the same QPS and burst.
 */
export async function measureScales(options: {
  kubeconfigPath: string;
  namespace: string;
  fleet: number;
  scales: number[];
  paths: KillPath[];
  rateLimit: ApiRateLimit;
  quietMs: number;
  /** Pairs measured at a scale (medians reported): small scales are quick and noisy. */
  repeats: (targets: number) => number;
}): Promise<ScaleFigure[]> {
  const { namespace, fleet, rateLimit } = options;
  const admin = new KeepAliveKubeConfig();
  admin.loadFromFile(options.kubeconfigPath);
  const limited = new KeepAliveKubeConfig({ rateLimit });
  limited.loadFromFile(options.kubeconfigPath);
  const core = admin.makeApiClient(CoreV1Api);
  const figures: ScaleFigure[] = [];
  let round = 0;
  try {
    for (const targets of options.scales) {
      for (const path of options.paths) {
        const settle = async (): Promise<V1Pod[]> => {
          await waitForRunsToEnd(admin, namespace);
          const pods = await waitForFleet(core, namespace, fleet);
          // The agent's bucket refills while the cluster is quiet: burst / qps seconds at most.
          await delay(
            Math.max(
              options.quietMs,
              rateLimit.qps > 0 ? (1000 * rateLimit.burst) / rateLimit.qps : 0,
            ),
          );
          return pods;
        };
        /** One side of a pair, from the whole fleet, under a fresh deletion watch. */
        const measure = async (
          act: (pods: V1Pod[], deletions: Deletions) => Promise<Timed>,
        ): Promise<Timed> => {
          const pods = await settle();
          const deletions = await watchDeletions(admin, namespace);
          try {
            return await act(pods, deletions);
          } finally {
            deletions.stop();
          }
        };
        const inject: Timed[] = [];
        const bare: Timed[] = [];
        const repeats = options.repeats(targets);
        for (let repeat = 0; repeat < repeats; repeat++) {
          const runName = `scale-${path}-${targets}-${round}`;
          const steps = [
            async () =>
              bare.push(
                await measure((pods, deletions) =>
                  bareKills(
                    limited,
                    namespace,
                    pods.slice(0, targets).map(pod => pod.metadata!.name!),
                    path,
                    deletions,
                  ),
                ),
              ),
            async () =>
              inject.push(
                await measure((_pods, deletions) =>
                  timeScaleRun(
                    admin,
                    namespace,
                    runName,
                    targets,
                    path,
                    deletions,
                  ),
                ),
              ),
          ];
          if (round % 2) steps.reverse();
          for (const step of steps) await step();
          round++;
          const kills = path === 'evict' ? 'evictions' : 'deletes';
          log(
            `scale ${targets} (${path}) ${
              repeat + 1
            }/${repeats}: ChaosRun all ` +
              `Injected ${inject[repeat].ms.toFixed(0)} ms, ${targets} bare ` +
              `${kills} ${bare[repeat].ms.toFixed(0)} ms at ${rateLimit.qps}/` +
              `${rateLimit.burst} QPS/burst; pods seen deleted: ` +
              `${inject[repeat].seenMs.toFixed(0)} ms against ` +
              `${bare[repeat].seenMs.toFixed(0)} ms`,
          );
        }
        const figure: ScaleFigure = {
          targets,
          path,
          repeats,
          injectMs: median(inject.map(t => t.ms)),
          bareMs: median(bare.map(t => t.ms)),
          injectSeenMs: median(inject.map(t => t.seenMs)),
          bareSeenMs: median(bare.map(t => t.seenMs)),
        };
        figures.push(figure);
        log(
          `scale ${targets} (${path}): medians ${figure.injectMs.toFixed(
            0,
          )} ms against ${figure.bareMs.toFixed(0)} ms: ratio ${(
            figure.injectMs / figure.bareMs
          ).toFixed(2)}; pods seen deleted ${figure.injectSeenMs.toFixed(
            0,
          )} ms against ${figure.bareSeenMs.toFixed(0)} ms: ratio ${(
            figure.injectSeenMs / figure.bareSeenMs
          ).toFixed(2)}`,
        );
      }
    }
    await waitForRunsToEnd(admin, namespace);
  } finally {
    await admin.close();
    await limited.close();
  }
  return figures;
}

/**
 * The scale figures for the last line: `inject_N_ms= evict_N_ms= ratio_N=` and the delete path's
 * (`_nopdb_`), each followed by `seen_ratio_N=`: the same pair timed to a pod watch seeing the N
 * pods deleted, which leaves out the run's create and status write and the bare side's answers.
 */
export function scaleFiguresLine(
  figures: ScaleFigure[],
  rateLimit: ApiRateLimit,
): string {
  const parts = [`kube_qps=${rateLimit.qps} kube_burst=${rateLimit.burst}`];
  for (const f of figures) {
    const ratio = (f.injectMs / f.bareMs).toFixed(2);
    const seenRatio = (f.injectSeenMs / f.bareSeenMs).toFixed(2);
    const n = f.targets;
    parts.push(
      f.path === 'evict'
        ? `inject_${n}_ms=${f.injectMs.toFixed(
            0,
          )} evict_${n}_ms=${f.bareMs.toFixed(
            0,
          )} ratio_${n}=${ratio} seen_ratio_${n}=${seenRatio}`
        : `inject_nopdb_${n}_ms=${f.injectMs.toFixed(
            0,
          )} delete_${n}_ms=${f.bareMs.toFixed(
            0,
          )} ratio_nopdb_${n}=${ratio} seen_ratio_nopdb_${n}=${seenRatio}`,
    );
  }
  return parts.join(' ');
}

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
 * N bare kills of named pods, all handed at once to a client limited like the agent's (its own
 * token bucket, started full as the agent's is after a quiet spell): time from the first call to
 * the last answer. "As fast as the client's QPS allows": the bucket, not a concurrency cap, paces them.
 */
export async function bareKills(
  kc: KubeConfig,
  namespace: string,
  pods: string[],
  path: KillPath,
): Promise<number> {
  const core = kc.makeApiClient(CoreV1Api);
  const t0 = performance.now();
  await Promise.all(
    pods.map(name =>
      path === 'evict'
        ? core.createNamespacedPodEviction({
            name,
            namespace,
            body: {
              metadata: { name, namespace },
              deleteOptions: { gracePeriodSeconds: 0 },
            },
          })
        : core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }),
    ),
  );
  return performance.now() - t0;
}

/**
 * Creates a ChaosRun killing `targets` pods and resolves with the time from the create call to
 * the first status the watch delivers with every target Injected.
 */
export async function timeScaleRun(
  kc: KubeConfig,
  namespace: string,
  name: string,
  targets: number,
  path: KillPath,
): Promise<number> {
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
    log(`run ${name}: planned by ${plannedBy}`);
    return ms;
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
        const injectMs: number[] = [];
        const bareMs: number[] = [];
        const repeats = options.repeats(targets);
        for (let repeat = 0; repeat < repeats; repeat++) {
          const runName = `scale-${path}-${targets}-${round}`;
          const steps = [
            async () => {
              const pods = await settle();
              bareMs.push(
                await bareKills(
                  limited,
                  namespace,
                  pods.slice(0, targets).map(pod => pod.metadata!.name!),
                  path,
                ),
              );
            },
            async () => {
              await settle();
              injectMs.push(
                await timeScaleRun(admin, namespace, runName, targets, path),
              );
            },
          ];
          if (round % 2) steps.reverse();
          for (const step of steps) await step();
          round++;
          log(
            `scale ${targets} (${path}) ${
              repeat + 1
            }/${repeats}: ChaosRun all Injected ${injectMs[repeat].toFixed(
              0,
            )} ms, ` +
              `${targets} bare ${
                path === 'evict' ? 'evictions' : 'deletes'
              } ${bareMs[repeat].toFixed(0)} ms at ${rateLimit.qps}/${
                rateLimit.burst
              } QPS/burst`,
          );
        }
        const figure = {
          targets,
          path,
          repeats,
          injectMs: median(injectMs),
          bareMs: median(bareMs),
        };
        figures.push(figure);
        log(
          `scale ${targets} (${path}): medians ${figure.injectMs.toFixed(
            0,
          )} ms against ${figure.bareMs.toFixed(0)} ms: ratio ${(
            figure.injectMs / figure.bareMs
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

/** The scale figures for the last line: `inject_N_ms= evict_N_ms= ratio_N=` and the delete path's. */
export function scaleFiguresLine(
  figures: ScaleFigure[],
  rateLimit: ApiRateLimit,
): string {
  const parts = [`kube_qps=${rateLimit.qps} kube_burst=${rateLimit.burst}`];
  for (const f of figures) {
    const ratio = (f.injectMs / f.bareMs).toFixed(2);
    parts.push(
      f.path === 'evict'
        ? `inject_${f.targets}_ms=${f.injectMs.toFixed(0)} evict_${
            f.targets
          }_ms=${f.bareMs.toFixed(0)} ratio_${f.targets}=${ratio}`
        : `inject_nopdb_${f.targets}_ms=${f.injectMs.toFixed(0)} delete_${
            f.targets
          }_ms=${f.bareMs.toFixed(0)} ratio_nopdb_${f.targets}=${ratio}`,
    );
  }
  return parts.join(' ');
}

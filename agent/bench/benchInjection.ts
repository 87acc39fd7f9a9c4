import { randomBytes } from 'node:crypto';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Watch,
} from '@kubernetes/client-node';
import { delay, waitFor, waitForReadyPods } from '@chaoscraft/test-sandbox';
import {
  isTerminalPhase,
  RunPhase,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  freePort,
  makeWebhookCert,
  registerAdmissionWebhook,
} from '@chaoscraft/agent-testkit';
import {
  AgentRuntime,
  applyCrdsFromChart,
  benchCluster,
  deleteNamespaceQuietly,
  log,
  median,
  startAgentProcess,
  waitForLeader,
} from './benchSupport';
import {
  type ApiRateLimit,
  CHAOS_RUN_COORDINATES,
  DEFAULT_API_RATE_LIMIT,
  validateApiRateLimit,
} from '@chaoscraft/backstage-plugin-chaos-node';
import {
  createScaleFleet,
  type Deletions,
  KillPath,
  killPod,
  measureScales,
  ScaleFigure,
  scaleFiguresLine,
  waitForFleet,
  watchDeletions,
} from './injectionScale';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 10);
/** The agent as the image runs it (the esbuild bundle), unless BENCH_AGENT_RUNTIME=source. */
const RUNTIME = (process.env.BENCH_AGENT_RUNTIME ?? 'bundle') as AgentRuntime;
const REPLICAS = 10;
/** The pause after the cluster looks quiet, before each measurement. */
const QUIET_MS = 300;
/** Targets per ChaosRun at scale (BENCH_SCALES=1,100,1000; empty = none), on kwok pods. */
const SCALES = (process.env.BENCH_SCALES ?? '1,100,1000')
  .split(',')
  .map(s => s.trim())
  .filter(Boolean)
  .map(Number);
/** Pairs measured at scales under 1,000 (medians): BENCH_SCALE_REPEATS, default 5. */
const SMALL_SCALE_REPEATS = Number(process.env.BENCH_SCALE_REPEATS ?? 5);
/** Kill paths at scale (BENCH_SCALE_PATHS=evict,delete): PDB-respecting evictions, bare deletes. */
const SCALE_PATHS = (process.env.BENCH_SCALE_PATHS ?? 'evict,delete')
  .split(',')
  .map(s => s.trim()) as KillPath[];
/** The agent's client QPS and burst (its flags), and the bare baseline's: BENCH_KUBE_QPS / BENCH_KUBE_BURST. */
const RATE_LIMIT: ApiRateLimit = validateApiRateLimit({
  qps: Number(process.env.BENCH_KUBE_QPS ?? DEFAULT_API_RATE_LIMIT.qps),
  burst: Number(process.env.BENCH_KUBE_BURST ?? DEFAULT_API_RATE_LIMIT.burst),
});
/** The whole benchmark, sandbox start to cleanup, must end within this; then it stops itself. */
const WATCHDOG_MS = 15 * 60_000;

/**
 * Injection latency: from creating a ChaosRun to the first target pod's deletion as a watch sees
 * it, against the same watch observation for a bare API delete issued here. Every measurement
 * starts from a quiet cluster (see settle), and each trial starts with a different one.
 *
 * The agent runs as its own process with its admission webhook registered for one namespace:
 * runs there are planned while the API server creates them, and the controller kills at first
 * sight (the headline ratio). A second namespace has no webhook, so its runs take the preflight
 * path (plan written to status, then kill): printed beside it for comparison.
 *
 * A fourth measurement shows what any controller that reacts to a created object can reach: the
 * benchmark creates a ConfigMap and, the moment its own (already open) watch delivers it, deletes
 * a pod; timed like the ChaosRun. Two API writes in sequence, no planning, nothing persisted.
 *
 * A fifth is a bare Eviction issued here: what the agent's kill costs on its own, since runs
 * respect PodDisruptionBudgets by default (the API server reads the pod, lists the budgets, writes
 * the DisruptionTarget condition and only then deletes). A sixth is the reactive floor with that
 * Eviction in place of the delete: what any controller pays that evicts only once the object
 * asking for it exists, as a ChaosRun must (eviction_floor_ratio, against the bare Eviction).
 *
 * Then, at scale (BENCH_SCALES, default 1, 100 and 1,000 targets; a Deployment of as many kwok
 * pods as the largest), on each kill path: the time from creating a ChaosRun to its status
 * listing every target Injected, against as many bare evictions (or deletes, for
 * `respectPodDisruptionBudgets: false`) handed at once to a client with the agent's QPS and
 * burst (BENCH_KUBE_QPS / BENCH_KUBE_BURST, passed to the agent as --kube-qps / --kube-burst).
 * Medians of BENCH_SCALE_REPEATS (5) pairs under 1,000 targets; one pair at 1,000 (each costs a
 * replacement storm of 1,000 pods).
 */
async function main(): Promise<void> {
  const cluster = await benchCluster(3);
  const { kc } = cluster;
  const core = kc.makeApiClient(CoreV1Api);
  const suffix = randomBytes(3).toString('hex');
  const namespace = `bench-inject-${suffix}`;
  const preflightNamespace = `bench-inject-pf-${suffix}`;
  const agentNamespace = `bench-agent-${suffix}`;
  const scaleNamespace = `bench-scale-${suffix}`;
  const fleet = SCALES.length ? Math.max(...SCALES) : 0;
  const cert = makeWebhookCert();
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${WATCHDOG_MS / 60_000} min; stopping`);
    cluster.releaseSync();
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  let agent: Awaited<ReturnType<typeof startAgentProcess>> | undefined;
  const stops: Array<() => unknown> = [];
  try {
    await applyCrdsFromChart(kc);
    for (const ns of [namespace, preflightNamespace]) {
      await core.createNamespace({
        body: {
          metadata: {
            name: ns,
            labels: { 'chaoscraft.io/chaos-enabled': 'true' },
          },
        },
      });
      await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name: 'bench' },
          spec: {
            replicas: REPLICAS,
            selector: { matchLabels: { app: 'bench' } },
            template: {
              metadata: { labels: { app: 'bench' } },
              spec: {
                containers: [{ name: 'app', image: 'chaoscraft-demo/app:1' }],
              },
            },
          },
        },
      });
    }
    await core.createNamespace({
      body: { metadata: { name: agentNamespace } },
    });
    if (fleet) {
      await core.createNamespace({
        body: {
          metadata: {
            name: scaleNamespace,
            labels: { 'chaoscraft.io/chaos-enabled': 'true' },
          },
        },
      });
      await createScaleFleet(kc, scaleNamespace, fleet);
    }
    for (const ns of [namespace, preflightNamespace])
      await waitForReadyPods(core, ns, 'app=bench', REPLICAS, {
        timeoutMs: 120_000,
      });
    if (fleet) {
      const started = performance.now();
      await waitForFleet(core, scaleNamespace, fleet);
      log(
        `${fleet} kwok pods Running in ${scaleNamespace} after ${(
          (performance.now() - started) /
          1000
        ).toFixed(1)} s more`,
      );
    }
    const webhookPort = await freePort();
    agent = await startAgentProcess(
      cluster.kubeconfigPath,
      [
        `--namespace=${agentNamespace}`,
        `--watch-namespaces=${[
          namespace,
          preflightNamespace,
          ...(fleet ? [scaleNamespace] : []),
        ].join(',')}`,
        // A run at scale takes every pod of its fleet.
        '--max-blast-radius-percent=100',
        `--kube-qps=${RATE_LIMIT.qps}`,
        `--kube-burst=${RATE_LIMIT.burst}`,
        `--webhook-port=${webhookPort}`,
        '--webhook-bind-address=127.0.0.1',
        `--webhook-cert-dir=${cert.certDir}`,
      ],
      { runtime: RUNTIME },
    );
    log(`agent pid ${agent.child.pid} (${RUNTIME})`);
    // Wait for leadership: the lease is created by the leader.
    await waitForLeader(kc, agentNamespace);
    const runSpec = (ns: string) => ({
      target: {
        namespace: ns,
        labelSelector: { app: 'bench' },
        selection: { mode: 'one' },
      },
      faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
      duration: '1s',
    });
    const unregister = await registerAdmissionWebhook(kc, {
      name: `chaoscraft-bench-${suffix}`,
      port: webhookPort,
      caBundle: cert.caBundle,
      // Runs at scale are planned at admission too, as the chart installs the agent.
      namespaces: [namespace, ...(fleet ? [scaleNamespace] : [])],
      probeNamespace: namespace,
      probeSpec: runSpec(namespace),
    });
    stops.push(unregister);

    const deletions = await watchDeletions(kc, namespace);
    const preflightDeletions = await watchDeletions(kc, preflightNamespace);
    stops.push(deletions.stop, preflightDeletions.stop);
    // The reactive floors' trigger: a watch on ConfigMaps that deletes (or evicts) a pod the moment
    // one named `trigger-<n>` (`evict-trigger-<n>`) appears; the pod is chosen before the create,
    // so no list is timed.
    const triggers = new Map<string, { victim: string; path: KillPath }>();
    const triggerWatch = await new Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      {},
      (type: string, object: { metadata?: { name?: string } }) => {
        const trigger =
          type === 'ADDED'
            ? triggers.get(object.metadata?.name ?? '')
            : undefined;
        if (!trigger) return;
        triggers.delete(object.metadata!.name!);
        killPod(core, namespace, trigger.victim, trigger.path).catch(error =>
          log(`floor kill failed: ${String(error)}`),
        );
      },
      () => undefined,
    );
    stops.push(() => triggerWatch.abort());

    const customObjects = kc.makeApiClient(CustomObjectsApi);
    const createRun = (ns: string, name: string) =>
      customObjects.createNamespacedCustomObject({
        ...CHAOS_RUN_COORDINATES,
        namespace: ns,
        body: {
          apiVersion: 'chaoscraft.io/v1alpha1',
          kind: 'ChaosRun',
          metadata: { name },
          spec: runSpec(ns),
        },
      });
    const ready = (ns: string) =>
      waitForReadyPods(core, ns, 'app=bench', REPLICAS, { timeoutMs: 60_000 });
    /**
     * Every measurement starts from the same quiet cluster: all pods of both namespaces Ready,
     * every earlier run finished, and a short pause for the stragglers (events, status writes,
     * the replacement pod's own updates). Without it, whichever measurement came right after a
     * run shared the machine with that run's tail.
     */
    const settle = async (): Promise<void> => {
      for (const ns of [namespace, preflightNamespace]) await ready(ns);
      await waitFor(
        async () => {
          for (const ns of [namespace, preflightNamespace]) {
            const runs = (await customObjects.listNamespacedCustomObject({
              ...CHAOS_RUN_COORDINATES,
              namespace: ns,
            })) as {
              items: Array<{ status?: { phase?: RunPhase } }>;
            };
            if (!runs.items.every(run => isTerminalPhase(run.status?.phase)))
              return false;
          }
          return true;
        },
        { timeoutMs: 60_000, description: 'earlier runs to finish' },
      );
      await delay(QUIET_MS);
    };
    /** Creates a ChaosRun; records the create call's time and the first deletion's. */
    const timeRun = async (
      ns: string,
      watch: Deletions,
      name: string,
      createMs: number[],
      deletionMs: number[],
    ): Promise<void> => {
      const seen = watch.next();
      const t0 = performance.now();
      await createRun(ns, name);
      createMs.push(performance.now() - t0);
      deletionMs.push((await seen) - t0);
    };
    /** One Running pod of the namespace, a different one for each `pick`. */
    const victimOf = async (pick: number): Promise<string> => {
      const pods = await ready(namespace);
      return pods[pick % pods.length].metadata!.name!;
    };
    /** Kills a pod here; records the time to its deletion seen. */
    const timeBare = async (
      path: KillPath,
      pick: number,
      ms: number[],
    ): Promise<void> => {
      const victim = await victimOf(pick);
      const seen = deletions.of(victim);
      const t0 = performance.now();
      await killPod(core, namespace, victim, path);
      ms.push((await seen) - t0);
    };
    /**
     * Creates a ConfigMap the trigger watch answers with a kill; records the kill's time
     * (and the create's, given `createMs`).
     */
    const timeFloor = async (
      name: string,
      path: KillPath,
      pick: number,
      floorMs: number[],
      createMs?: number[],
    ): Promise<void> => {
      const victim = await victimOf(pick);
      const seen = deletions.of(victim);
      triggers.set(name, { victim, path });
      const t0 = performance.now();
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name } },
      });
      createMs?.push(performance.now() - t0);
      floorMs.push((await seen) - t0);
    };
    const baselineMs: number[] = [];
    const floorMs: number[] = [];
    const evictionFloorMs: number[] = [];
    const evictionMs: number[] = [];
    const admissionMs: number[] = [];
    const preflightMs: number[] = [];
    // How long the create call itself takes, with the webhook in its path and without.
    const createWithWebhookMs: number[] = [];
    const createWithoutMs: number[] = [];
    const createConfigMapMs: number[] = [];
    const measurements: Array<(trial: number) => Promise<void>> = [
      // Baseline: a bare delete of one Running pod.
      trial => timeBare('delete', trial, baselineMs),
      // Reactive floor: create a ConfigMap; the trigger watch deletes a pod when it sees it.
      trial =>
        timeFloor(
          `trigger-${trial}`,
          'delete',
          trial + 1,
          floorMs,
          createConfigMapMs,
        ),
      // The same with an Eviction: the floor of a PDB-respecting kill that follows its record.
      trial =>
        timeFloor(
          `evict-trigger-${trial}`,
          'evict',
          trial + 3,
          evictionFloorMs,
        ),
      // Bare eviction: the same delete through the Eviction API, as the agent issues it.
      trial => timeBare('evict', trial + 2, evictionMs),
      // A ChaosRun planned at admission, and one planned by preflight (no webhook there).
      trial =>
        timeRun(
          namespace,
          deletions,
          `trial-${trial}`,
          createWithWebhookMs,
          admissionMs,
        ),
      trial =>
        timeRun(
          preflightNamespace,
          preflightDeletions,
          `trial-${trial}`,
          createWithoutMs,
          preflightMs,
        ),
    ];
    for (let trial = 0; trial < TRIALS; trial++) {
      // Each trial starts with a different measurement, so none is always first or last.
      for (let k = 0; k < measurements.length; k++) {
        await settle();
        await measurements[(trial + k) % measurements.length](trial);
      }
      log(
        `trial ${trial + 1}/${TRIALS}: baseline ${baselineMs[trial].toFixed(
          1,
        )} ms, reactive floor ${floorMs[trial].toFixed(1)} ms, ` +
          `bare eviction ${evictionMs[trial].toFixed(1)} ms, ` +
          `eviction floor ${evictionFloorMs[trial].toFixed(1)} ms, ` +
          `chaosrun planned at admission ${admissionMs[trial].toFixed(
            1,
          )} ms, by preflight ${preflightMs[trial].toFixed(1)} ms`,
      );
    }
    const base = median(baselineMs);
    const floor = median(floorMs);
    const eviction = median(evictionMs);
    const evictionFloor = median(evictionFloorMs);
    const p50 = median(admissionMs);
    const preflight = median(preflightMs);
    log(
      `medians over ${TRIALS} trials: baseline ${base.toFixed(
        1,
      )} ms, reactive floor ${floor.toFixed(1)} ms, ` +
        `bare eviction ${eviction.toFixed(1)} ms, ` +
        `eviction floor ${evictionFloor.toFixed(1)} ms, ` +
        `planned at admission ${p50.toFixed(
          1,
        )} ms, planned by preflight ${preflight.toFixed(1)} ms; ` +
        `the create call itself: ChaosRun ${median(createWithWebhookMs).toFixed(
          1,
        )} ms with the webhook, ` +
        `${median(createWithoutMs).toFixed(1)} ms without, ConfigMap ${median(
          createConfigMapMs,
        ).toFixed(1)} ms`,
    );
    let scaleFigures: ScaleFigure[] = [];
    if (fleet) {
      scaleFigures = await measureScales({
        kubeconfigPath: cluster.kubeconfigPath,
        namespace: scaleNamespace,
        fleet,
        scales: SCALES,
        paths: SCALE_PATHS,
        rateLimit: RATE_LIMIT,
        quietMs: 1_000,
        repeats: targets => (targets >= 1000 ? 1 : SMALL_SCALE_REPEATS),
      });
    }
    process.stdout.write(
      `reactive_floor_ratio=${(floor / base).toFixed(2)} bare_eviction_ratio=${(
        eviction / base
      ).toFixed(2)} ` +
        `preflight_path_ratio=${(preflight / base).toFixed(
          2,
        )} preflight_p50_ms=${preflight.toFixed(1)}\n`,
    );
    // Against a bare delete, and against a bare Eviction: the floor of a PDB-respecting kill. Then
    // what any controller pays that evicts in answer to a created object, against the same Eviction.
    process.stdout.write(
      `injection_latency_ratio=${(p50 / base).toFixed(2)} eviction_ratio=${(
        p50 / eviction
      ).toFixed(2)} eviction_floor_ratio=${(evictionFloor / eviction).toFixed(
        2,
      )} p50_ms=${p50.toFixed(1)}` +
        `${
          scaleFigures.length
            ? ` ${scaleFiguresLine(scaleFigures, RATE_LIMIT)}`
            : ''
        }\n`,
    );
  } finally {
    for (const stop of stops.reverse()) await stop();
    await agent?.stop();
    for (const ns of [
      namespace,
      preflightNamespace,
      agentNamespace,
      scaleNamespace,
    ])
      await deleteNamespaceQuietly(core, ns);
    cert.remove();
    await cluster.release();
    clearTimeout(watchdog);
  }
}

main().catch(error => {
  process.stderr.write(
    `bench-injection failed: ${
      error instanceof Error ? error.stack : String(error)
    }\n`,
  );
  process.exit(1);
});

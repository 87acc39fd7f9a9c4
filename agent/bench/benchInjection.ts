import { randomBytes } from 'node:crypto';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, V1Pod, Watch } from '@kubernetes/client-node';
import { waitForReadyPods } from '@chaoscraft/test-sandbox';
import { applyCrdsFromChart, benchCluster, deleteNamespaceQuietly, log, median, startAgentProcess, waitForLeader } from './benchSupport';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 20);
const REPLICAS = 10;

/**
 * Injection latency: from creating a ChaosRun to the first target pod's deletion as a watch sees
 * it, against the same watch observation for a bare API delete issued here. Trials alternate,
 * so drift in the sandbox hits both sides alike.
 *
 * A third measurement shows what any controller that reacts to a created object can reach: the
 * benchmark creates a ConfigMap and, the moment its own (already open) watch delivers it, deletes
 * a pod; timed like the ChaosRun, from the create to the deletion seen. That is two API writes
 * in sequence with no planning and nothing persisted: the floor under the agent's figure, which
 * adds one write (the persisted plan, so a restart never kills twice).
 */
async function main(): Promise<void> {
  const cluster = await benchCluster(3);
  const { kc } = cluster;
  const core = kc.makeApiClient(CoreV1Api);
  const suffix = randomBytes(3).toString('hex');
  const namespace = `bench-inject-${suffix}`;
  const agentNamespace = `bench-agent-${suffix}`;
  let agent: Awaited<ReturnType<typeof startAgentProcess>> | undefined;
  let stopWatch: (() => void) | undefined;
  try {
    await applyCrdsFromChart(kc);
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'chaoscraft.io/chaos-enabled': 'true' } } } });
    await core.createNamespace({ body: { metadata: { name: agentNamespace } } });
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'bench' },
        spec: {
          replicas: REPLICAS,
          selector: { matchLabels: { app: 'bench' } },
          template: { metadata: { labels: { app: 'bench' } }, spec: { containers: [{ name: 'app', image: 'chaoscraft-demo/app:1' }] } },
        },
      },
    });
    await waitForReadyPods(core, namespace, 'app=bench', REPLICAS, { timeoutMs: 120_000 });
    agent = await startAgentProcess(cluster.kubeconfigPath, [`--namespace=${agentNamespace}`, `--watch-namespaces=${namespace}`]);
    // Wait for leadership: the lease is created by the leader.
    await waitForLeader(kc, agentNamespace);

    const seen = new Map<string, (at: number) => void>();
    // Held in an object so the watch callback and the trial loop share one slot.
    const next: { deletion?: (at: number) => void } = {};
    const watchController = await new Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      {},
      (type: string, pod: V1Pod) => {
        if (type !== 'DELETED' && !pod.metadata?.deletionTimestamp) return;
        const at = performance.now();
        const name = pod.metadata!.name!;
        seen.get(name)?.(at);
        seen.delete(name);
        next.deletion?.(at);
        next.deletion = undefined;
      },
      () => undefined,
    );
    // The reactive floor's trigger: a watch on ConfigMaps that deletes a pod the moment one named
    // `trigger-<n>` appears (the pod to delete is chosen before the create, so no list is timed).
    const triggers = new Map<string, string>();
    const triggerWatch = await new Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      {},
      (type: string, object: { metadata?: { name?: string } }) => {
        const victim = type === 'ADDED' ? triggers.get(object.metadata?.name ?? '') : undefined;
        if (!victim) return;
        triggers.delete(object.metadata!.name!);
        core.deleteNamespacedPod({ name: victim, namespace, gracePeriodSeconds: 0 }).catch(error => log(`floor delete failed: ${String(error)}`));
      },
      () => undefined,
    );
    stopWatch = () => {
      watchController.abort();
      triggerWatch.abort();
    };

    const customObjects = kc.makeApiClient(CustomObjectsApi);
    const controllerMs: number[] = [];
    const baselineMs: number[] = [];
    const floorMs: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      // Baseline: a bare delete of one Running pod.
      let pods = await waitForReadyPods(core, namespace, 'app=bench', REPLICAS, { timeoutMs: 60_000 });
      const victim = pods[trial % pods.length].metadata!.name!;
      const baselineSeen = new Promise<number>(resolve => seen.set(victim, resolve));
      const t0 = performance.now();
      await core.deleteNamespacedPod({ name: victim, namespace, gracePeriodSeconds: 0 });
      baselineMs.push((await baselineSeen) - t0);

      // Reactive floor: create a ConfigMap; the trigger watch deletes a pod when it sees it.
      pods = await waitForReadyPods(core, namespace, 'app=bench', REPLICAS, { timeoutMs: 60_000 });
      const floorVictim = pods[(trial + 1) % pods.length].metadata!.name!;
      const floorSeen = new Promise<number>(resolve => seen.set(floorVictim, resolve));
      triggers.set(`trigger-${trial}`, floorVictim);
      const tf = performance.now();
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `trigger-${trial}` } } });
      floorMs.push((await floorSeen) - tf);

      pods = await waitForReadyPods(core, namespace, 'app=bench', REPLICAS, { timeoutMs: 60_000 });
      const injectionSeen = new Promise<number>(resolve => {
        next.deletion = resolve;
      });
      const t1 = performance.now();
      await customObjects.createNamespacedCustomObject({
        group: 'chaoscraft.io',
        version: 'v1alpha1',
        plural: 'chaosruns',
        namespace,
        body: {
          apiVersion: 'chaoscraft.io/v1alpha1',
          kind: 'ChaosRun',
          metadata: { name: `trial-${trial}` },
          spec: {
            target: { namespace, labelSelector: { app: 'bench' }, selection: { mode: 'one' } },
            faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
            duration: '1s',
          },
        },
      });
      controllerMs.push((await injectionSeen) - t1);
      log(
        `trial ${trial + 1}/${TRIALS}: baseline ${baselineMs[trial].toFixed(1)} ms, ` +
          `reactive floor ${floorMs[trial].toFixed(1)} ms, chaosrun ${controllerMs[trial].toFixed(1)} ms`,
      );
    }
    const p50 = median(controllerMs);
    const base = median(baselineMs);
    const floor = median(floorMs);
    log(`median baseline ${base.toFixed(1)} ms, reactive floor ${floor.toFixed(1)} ms, chaosrun ${p50.toFixed(1)} ms over ${TRIALS} trials`);
    process.stdout.write(`reactive_floor_ratio=${(floor / base).toFixed(2)} chaosrun_over_floor=${(p50 / floor).toFixed(2)}\n`);
    process.stdout.write(`injection_latency_ratio=${(p50 / base).toFixed(2)} p50_ms=${p50.toFixed(1)}\n`);
  } finally {
    stopWatch?.();
    await agent?.stop();
    await deleteNamespaceQuietly(core, namespace);
    await deleteNamespaceQuietly(core, agentNamespace);
    await cluster.release();
  }
}

main().catch(error => {
  process.stderr.write(`bench-injection failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

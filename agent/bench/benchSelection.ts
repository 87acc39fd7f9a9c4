import { randomBytes } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { waitFor } from '@chaoscraft/test-sandbox';
import {
  applyCrdsFromChart,
  benchCluster,
  deleteNamespaceQuietly,
  log,
  mapConcurrent,
  median,
  metricValue,
  startAgentProcess,
  waitForLeader,
} from './benchSupport';

const PODS = Number(process.env.BENCH_PODS ?? 5000);
const NODES = Number(process.env.BENCH_NODES ?? 50);
const RUNS = 5;

/**
 * Selection at scale: 5,000 Running pods on 50 kwok nodes; the agent selects 10% in dry runs
 * (nothing is touched). Reports the median time the agent spent listing, selecting and
 * computing the blast radius (its own histogram), and its peak RSS (VmHWM).
 */
async function main(): Promise<void> {
  const cluster = await benchCluster(NODES);
  const { kc } = cluster;
  const core = kc.makeApiClient(CoreV1Api);
  const suffix = randomBytes(3).toString('hex');
  const namespace = `bench-select-${suffix}`;
  const agentNamespace = `bench-agent-${suffix}`;
  let agent: Awaited<ReturnType<typeof startAgentProcess>> | undefined;
  const deadline = Date.now() + 15 * 60_000;
  try {
    await applyCrdsFromChart(kc);
    const nodes = (await core.listNode({ labelSelector: 'type=kwok' })).items.map(n => n.metadata!.name!);
    if (nodes.length < NODES) {
      throw new Error(`the sandbox has ${nodes.length} kwok nodes, ${NODES} needed: start it with --nodes ${NODES} or unset CHAOSCRAFT_SANDBOX_KUBECONFIG`);
    }
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'chaoscraft.io/chaos-enabled': 'true' } } } });
    await core.createNamespace({ body: { metadata: { name: agentNamespace } } });
    log(`creating ${PODS} pods on ${NODES} nodes`);
    const started = Date.now();
    // Bare pods bound to a node directly: no scheduler or ReplicaSet in the way, kwok runs them.
    await mapConcurrent(
      Array.from({ length: PODS }, (_, i) => i),
      48,
      async i => {
        await core.createNamespacedPod({
          namespace,
          body: {
            metadata: { name: `pod-${String(i).padStart(5, '0')}`, labels: { app: 'fleet' } },
            spec: { nodeName: nodes[i % NODES], containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
          },
        });
      },
    );
    log(`created in ${((Date.now() - started) / 1000).toFixed(1)} s; waiting for Running`);
    await waitFor(
      async () => {
        let running = 0;
        let token: string | undefined;
        do {
          const page = await core.listNamespacedPod({ namespace, limit: 1000, _continue: token });
          running += page.items.filter(p => p.status?.phase === 'Running').length;
          token = page.metadata?._continue || undefined;
        } while (token);
        return running >= PODS;
      },
      { timeoutMs: Math.max(60_000, deadline - Date.now() - 60_000), intervalMs: 2_000, description: `${PODS} Running pods` },
    );
    log(`all Running after ${((Date.now() - started) / 1000).toFixed(1)} s`);

    agent = await startAgentProcess(cluster.kubeconfigPath, [`--namespace=${agentNamespace}`, `--watch-namespaces=${namespace}`]);
    await waitForLeader(kc, agentNamespace);
    const customObjects = kc.makeApiClient(CustomObjectsApi);
    const durations: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const before = (await metricValue(agent.metricsPort, 'chaoscraft_selection_duration_seconds_sum')) ?? 0;
      const name = `select-${run}`;
      await customObjects.createNamespacedCustomObject({
        group: 'chaoscraft.io',
        version: 'v1alpha1',
        plural: 'chaosruns',
        namespace,
        body: {
          apiVersion: 'chaoscraft.io/v1alpha1',
          kind: 'ChaosRun',
          metadata: { name },
          spec: {
            target: { namespace, labelSelector: { app: 'fleet' }, selection: { mode: 'percent', percent: 10 } },
            faults: [{ type: 'pod-kill' }],
            dryRun: true,
            seed: run,
          },
        },
      });
      const done = await waitFor(
        async () => {
          const object = (await customObjects.getNamespacedCustomObject({ group: 'chaoscraft.io', version: 'v1alpha1', plural: 'chaosruns', namespace, name })) as {
            status?: { phase?: string; blastRadius?: { selected: number; eligible: number } };
          };
          return object.status?.phase === 'Completed' || object.status?.phase === 'Failed' ? object : undefined;
        },
        { timeoutMs: 60_000, description: `dry run ${name}` },
      );
      const after = (await metricValue(agent.metricsPort, 'chaoscraft_selection_duration_seconds_sum')) ?? 0;
      durations.push((after - before) * 1000);
      log(`run ${run + 1}/${RUNS}: ${done.status?.phase} ${JSON.stringify(done.status?.blastRadius)} in ${durations[run].toFixed(0)} ms`);
    }
    const rss = agent.peakRssMb();
    process.stdout.write(`selection_ms=${median(durations).toFixed(0)} agent_rss_mb=${rss.toFixed(0)}\n`);
  } finally {
    await agent?.stop();
    log('cleaning up');
    await deleteNamespaceQuietly(core, namespace);
    await deleteNamespaceQuietly(core, agentNamespace);
    await cluster.release();
  }
}

main().catch(error => {
  process.stderr.write(`bench-selection failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

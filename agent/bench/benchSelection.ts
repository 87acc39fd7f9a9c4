import { randomBytes } from 'node:crypto';
import https from 'node:https';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';
import { delay, waitFor } from '@chaoscraft/test-sandbox';
import { listPods } from '../src/selection/listCandidates';
import {
  AgentProcess,
  AgentRuntime,
  applyCrdsFromChart,
  benchCluster,
  deleteNamespaceQuietly,
  log,
  mapConcurrent,
  median,
  metricValue,
  startAgentProcess,
} from './benchSupport';
import { CHAOS_RUN_COORDINATES } from '@chaoscraft/backstage-plugin-chaos-node';

const PODS = Number(process.env.BENCH_PODS ?? 5000);
const NODES = Number(process.env.BENCH_NODES ?? 50);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** `bundle` (default) is what the image runs; `source` measures the TypeScript transform. */
const RUNTIME = (process.env.BENCH_AGENT_RUNTIME ?? 'bundle') as AgentRuntime;
/**
 * Which pod sources to measure: `fresh` (--pod-cache=false: every plan lists the pods, as a cold
 * cache or a cross-namespace run does), `cache` (--pod-cache=true), or `both` (default). The last
 * line always reports the fresh list, the path that includes listing 5,000 pods.
 */
const MODES =
  (process.env.BENCH_POD_SOURCE ?? 'both') === 'both'
    ? ['fresh', 'cache']
    : [process.env.BENCH_POD_SOURCE!];
/** Creates in flight: enough to keep a loaded 2-core API server busy without queueing for long. */
const CREATE_CONCURRENCY = 32;
/** The whole benchmark, sandbox start to cleanup, must end within this; then it stops itself. */
const WATCHDOG_MS = 20 * 60_000;

interface ModeResult {
  mode: string;
  selectionMs: number[];
  dryRunMs: number[];
  /** Peak RSS (VmHWM) over the agent's life, startup included. */
  rssMb: number;
  /** RSS (VmRSS) right after the last 5,000-pod dry run completed. */
  rssAfterMb: number;
}

/**
 * Creates bare pods bound to kwok nodes (no scheduler, no ReplicaSet; kwok makes them Running)
 * over one keep-alive connection pool: client-node's typed client opens a TLS connection per
 * request, which on this machine made creation client-bound.
 */
async function createPods(
  kc: KubeConfig,
  namespace: string,
  nodes: string[],
): Promise<void> {
  const server = kc.getCurrentCluster()!.server.replace(/\/$/, '');
  const tls: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: CREATE_CONCURRENCY,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
  });
  const post = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({
        metadata: {
          name: `pod-${String(i).padStart(5, '0')}`,
          labels: { app: 'fleet' },
        },
        spec: {
          nodeName: nodes[i % nodes.length],
          terminationGracePeriodSeconds: 0,
          automountServiceAccountToken: false,
          containers: [{ name: 'app', image: 'chaoscraft-demo/app:1' }],
        },
      });
      const request = https.request(
        `${server}/api/v1/namespaces/${namespace}/pods`,
        {
          method: 'POST',
          agent,
          headers: {
            ...tls.headers,
            'Content-Type': 'application/json',
            Accept: 'application/json',
          },
        },
        response => {
          const chunks: Buffer[] = [];
          response.on('data', chunk => chunks.push(chunk));
          response.on('end', () =>
            (response.statusCode ?? 500) < 300
              ? resolve()
              : reject(
                  new Error(
                    `creating pod ${i}: HTTP ${
                      response.statusCode
                    } ${Buffer.concat(chunks).toString().slice(0, 300)}`,
                  ),
                ),
          );
        },
      );
      request.setTimeout(60_000, () =>
        request.destroy(new Error(`creating pod ${i} timed out`)),
      );
      request.on('error', reject);
      request.end(body);
    });
  try {
    await mapConcurrent(
      Array.from({ length: PODS }, (_, i) => i),
      CREATE_CONCURRENCY,
      post,
    );
  } finally {
    agent.destroy();
  }
}

async function measureMode(
  kc: KubeConfig,
  kubeconfigPath: string,
  namespace: string,
  agentNamespace: string,
  mode: string,
): Promise<ModeResult> {
  const customObjects = kc.makeApiClient(CustomObjectsApi);
  let agent: AgentProcess | undefined;
  try {
    agent = await startAgentProcess(
      kubeconfigPath,
      [
        `--namespace=${agentNamespace}`,
        `--watch-namespaces=${namespace}`,
        '--leader-elect=false',
        `--pod-cache=${mode === 'cache'}`,
      ],
      { runtime: RUNTIME },
    );
    log(
      `[${mode}] agent pid ${
        agent.child.pid
      } (${RUNTIME}) started; idle VmHWM ${agent.peakRssMb().toFixed(0)} MB`,
    );
    if (mode === 'cache') {
      // Give the cache its list + watch, as a long-running controller has; a cold cache would
      // fall back to a fresh list and the run would say so in its time.
      await delay(5_000);
    }
    const selectionMs: number[] = [];
    const dryRunMs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const before =
        (await metricValue(
          agent.metricsPort,
          'chaoscraft_selection_duration_seconds_sum',
        )) ?? 0;
      const name = `select-${mode}-${run}`;
      const created = performance.now();
      await customObjects.createNamespacedCustomObject({
        ...CHAOS_RUN_COORDINATES,
        namespace,
        body: {
          apiVersion: `${CHAOS_RUN_COORDINATES.group}/${CHAOS_RUN_COORDINATES.version}`,
          kind: 'ChaosRun',
          metadata: { name },
          spec: {
            target: {
              namespace,
              labelSelector: { app: 'fleet' },
              selection: { mode: 'percent', percent: 10 },
            },
            faults: [{ type: 'pod-kill' }],
            dryRun: true,
            seed: run,
          },
        },
      });
      const done = await waitFor(
        async () => {
          const object = (await customObjects.getNamespacedCustomObject({
            ...CHAOS_RUN_COORDINATES,
            namespace,
            name,
          })) as {
            status?: {
              phase?: string;
              reason?: string;
              blastRadius?: { selected: number; eligible: number };
            };
          };
          return object.status?.phase === 'Completed' ||
            object.status?.phase === 'Failed'
            ? object
            : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 50, description: `dry run ${name}` },
      );
      dryRunMs.push(performance.now() - created);
      const after =
        (await metricValue(
          agent.metricsPort,
          'chaoscraft_selection_duration_seconds_sum',
        )) ?? 0;
      selectionMs.push((after - before) * 1000);
      const radius = done.status?.blastRadius;
      if (done.status?.phase !== 'Completed' || radius?.eligible !== PODS) {
        throw new Error(
          `dry run ${name} ended ${done.status?.phase} (${
            done.status?.reason
          }), blast radius ${JSON.stringify(
            radius,
          )}; expected Completed over ${PODS} eligible pods`,
        );
      }
      log(
        `[${mode}] run ${run + 1}/${RUNS}: ${radius.selected} of ${
          radius.eligible
        } selected; ` +
          `selection ${selectionMs[run].toFixed(
            0,
          )} ms, dry run create->Completed ${dryRunMs[run].toFixed(0)} ms`,
      );
    }
    return {
      mode,
      selectionMs,
      dryRunMs,
      rssMb: agent.peakRssMb(),
      rssAfterMb: agent.rssMb(),
    };
  } finally {
    await agent?.stop();
  }
}

/**
 * GitHub issue 4: selection at scale. 5,000 Running pods on 50 kwok nodes; the agent (a separate
 * process, run as the image runs it) plans dry-run ChaosRuns selecting 10% of them (nothing is
 * touched). Per run it reports:
 *  - selection: the agent's own chaoscraft_selection_duration_seconds for that run, which times
 *    exactly the preflight's pod listing (fresh from the API server, or from the pod cache),
 *    target selection and blast-radius computation, in the agent process;
 *  - dry run: wall time from creating the ChaosRun to seeing it Completed (informer delivery,
 *    reconcile, selection, the status write, and this benchmark's 50 ms polling).
 * and the agent process's peak RSS (VmHWM from /proc/<pid>/status: startup included) and its RSS
 * (VmRSS) right after its last 5,000-pod run.
 * The last line is the fresh-list mode's median selection time, its agent's peak RSS and its RSS
 * after the run.
 */
async function main(): Promise<void> {
  const cluster = await benchCluster(NODES);
  const { kc } = cluster;
  const core = kc.makeApiClient(CoreV1Api);
  const suffix = randomBytes(3).toString('hex');
  const namespace = `bench-select-${suffix}`;
  const agentNamespace = `bench-agent-${suffix}`;
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${WATCHDOG_MS / 60_000} min; stopping`);
    cluster.releaseSync();
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    await applyCrdsFromChart(kc);
    const nodes = (
      await core.listNode({ labelSelector: 'type=kwok' })
    ).items.map(n => n.metadata!.name!);
    if (nodes.length < NODES) {
      throw new Error(
        `the sandbox has ${nodes.length} kwok nodes, ${NODES} needed: start it with --nodes ${NODES} or unset CHAOSCRAFT_SANDBOX_KUBECONFIG`,
      );
    }
    await core.createNamespace({
      body: {
        metadata: {
          name: namespace,
          labels: { 'chaoscraft.io/chaos-enabled': 'true' },
        },
      },
    });
    await core.createNamespace({
      body: { metadata: { name: agentNamespace } },
    });
    // The ServiceAccount admission plugin refuses pods until the namespace's default account exists.
    await waitFor(
      async () =>
        (
          await core.listNamespacedServiceAccount({ namespace })
        ).items.some(sa => sa.metadata?.name === 'default'),
      {
        timeoutMs: 60_000,
        description: 'the default ServiceAccount',
      },
    );
    log(
      `creating ${PODS} pods on ${NODES} nodes (${CREATE_CONCURRENCY} in flight)`,
    );
    const started = Date.now();
    await createPods(kc, namespace, nodes.slice(0, NODES));
    log(
      `created in ${((Date.now() - started) / 1000).toFixed(
        1,
      )} s; waiting for kwok to make them Running`,
    );
    await waitFor(
      async () =>
        (
          await listPods(kc, namespace)
        ).pods.filter(pod => pod.phase === 'Running').length >= PODS,
      {
        timeoutMs: 5 * 60_000,
        intervalMs: 2_000,
        description: `${PODS} Running pods`,
      },
    );
    log(`all Running after ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const results: ModeResult[] = [];
    for (const mode of MODES) {
      results.push(
        await measureMode(
          kc,
          cluster.kubeconfigPath,
          namespace,
          agentNamespace,
          mode,
        ),
      );
    }
    log(
      `timed: list ${PODS} pods + select 10% + blast radius, inside the agent (its selection histogram), median of ${RUNS} dry runs`,
    );
    for (const result of results) {
      log(
        `[${result.mode}] selection median ${median(result.selectionMs).toFixed(
          0,
        )} ms (max ${Math.max(...result.selectionMs).toFixed(0)}), ` +
          `dry run create->Completed median ${median(result.dryRunMs).toFixed(
            0,
          )} ms, agent peak RSS ${result.rssMb.toFixed(0)} MB, ` +
          `RSS after the last run ${result.rssAfterMb.toFixed(
            0,
          )} MB (${RUNTIME})`,
      );
    }
    const headline = results.find(r => r.mode === 'fresh') ?? results[0];
    process.stdout.write(
      `selection_ms=${median(headline.selectionMs).toFixed(
        0,
      )} agent_rss_mb=${headline.rssMb.toFixed(0)} ` +
        `agent_rss_after_run_mb=${headline.rssAfterMb.toFixed(0)}\n`,
    );
  } finally {
    log('cleaning up');
    if (!cluster.owned) {
      // A shared sandbox keeps running: leave it without our 5,000 pods, and wait (bounded) for
      // them to go, so that the next benchmark does not measure kwok deleting them.
      await deleteNamespaceQuietly(core, namespace);
      await deleteNamespaceQuietly(core, agentNamespace);
      await waitFor(
        async () =>
          !(
            await core.listNamespace()
          ).items.some(ns => ns.metadata?.name === namespace),
        {
          timeoutMs: 3 * 60_000,
          intervalMs: 2_000,
          description: `namespace ${namespace} to be deleted`,
        },
      ).catch(error =>
        log(
          `leaving ${namespace} terminating: ${
            error instanceof Error ? error.message : String(error)
          }`,
        ),
      );
    }
    await cluster.release();
    clearTimeout(watchdog);
  }
}

main().catch(error => {
  process.stderr.write(
    `bench-selection failed: ${
      error instanceof Error ? error.stack : String(error)
    }\n`,
  );
  process.exit(1);
});

/**
 * Every fault the Chaos tab offers, live, against a running `make dev` stack with the sandbox's
 * real node (scripts/test-e2e.sh starts one): through the backend's API, as the guest (who owns
 * checkout), one experiment per fault type on the checkout entity, each run to its end.
 *
 * Each must end Completed or Aborted for a real reason, never Failed for a missing component
 * (NodeDaemonUnavailable, PrometheusNotConfigured, a missing stress-ng...). The one accepted
 * refusal: latency, duplication and corruption need the kernel's netem qdisc; on a node whose
 * daemon reports no netem (the build machines' kernel has none) preflight refuses them with
 * NodeCapabilityMissing naming netem, and the test says so. Where netem exists they must complete.
 *
 * Two runs carry a PromQL steady-state probe on checkout's error rate as its users see it (the
 * load generator's demo_client_requests_total): a bandwidth limit leaves it flat and passes; a
 * 60% loss on 30% of the pods raises it and aborts the run (HypothesisViolated).
 *
 * While a fault holds, the test measures it in the targeted pod from the host (pod IPs on the real
 * node's bridge are routable from it; the node's cgroups are the host's; e2e/support/podFigures.ts):
 * - network-bandwidth: the throughput of a 300 KB download out of the pod, against the asked rate
 *   and against the same pod before the run;
 * - network-loss: the share of 200 TCP handshakes the pod fails to answer, against the asked loss
 *   (a run of its own: one pod, no probe, so nothing aborts it while it is measured);
 * - cpu-stress and memory-stress: the CPU cores and MiB the target container's cgroup uses,
 *   against what was asked, less what it used before.
 * Each figure must lie in a band around what was asked, so a fault that is not applied, or not
 * to the asked size, fails.
 *
 * Prints a table of fault → final phase, verdict and reason, and the measured figures under it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
} from '@kubernetes/client-node';
import {
  type ExperimentSpecInput,
  type RunDetail,
  experimentSchema,
  runDetailSchema,
  runSchema,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  connectFailures,
  containerCgroup,
  cpuCores,
  downloadKbit,
  memoryMiB,
} from './support/podFigures';

const BACKEND = process.env.E2E_BACKEND_URL ?? 'http://localhost:7007';
const PROMETHEUS = process.env.E2E_PROMETHEUS_URL;
const ENTITY = 'component:default/checkout';
const NAMESPACE = 'chaos-demo';
/** checkout's replicas in the demo shop (infra/demo/workload). */
const CHECKOUT_REPLICAS = 10;
const suffix = Date.now().toString(36);

/** checkout's error rate as its users see it: every answer that was not a 200 in time. */
const ERROR_RATE =
  'sum(rate(demo_client_requests_total{service="checkout",code!="200"}[20s])) / sum(rate(demo_client_requests_total{service="checkout"}[20s]))';
const TERMINAL = new Set(['Completed', 'Aborted', 'Failed']);

let token = '';
let netem: boolean | undefined;
let core: CoreV1Api;
const table: Array<{
  fault: string;
  phase: string;
  verdict: string;
  reason: string;
  note: string;
}> = [];
/** The figures measured in the pods, printed under the table. */
const figures: string[] = [];

async function api<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${BACKEND}/api/chaos${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

async function errorRate(): Promise<number | undefined> {
  const response = await fetch(`${PROMETHEUS}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: ERROR_RATE }),
  });
  const result = (
    (await response.json()) as {
      data?: { result?: Array<{ value: [number, string] }> };
    }
  ).data?.result;
  return result?.length === 1 ? Number(result[0].value[1]) : undefined;
}

/** Steady state before a probed run: the error rate of earlier runs' faults has left the window. */
async function untilSteady(): Promise<number> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const rate = await errorRate();
    if (rate !== undefined && rate < 0.01) return rate;
    assert.ok(
      Date.now() < deadline,
      `checkout's error rate stays at ${rate} (query: ${ERROR_RATE})`,
    );
    await new Promise(resolve => setTimeout(resolve, 2000));
  }
}

/** Creates the experiment (named after `label`) and starts a run of it; returns the run's id. */
async function startRun(
  label: string,
  spec: Omit<ExperimentSpecInput, 'name' | 'entityRef'>,
): Promise<string> {
  const experiment = experimentSchema.parse(
    await api('POST', '/experiments', {
      name: `live-${label}-${suffix}`,
      entityRef: ENTITY,
      ...spec,
    }),
  );
  return runSchema.parse(
    await api('POST', `/experiments/${experiment.id}/runs`, { dryRun: false }),
  ).id;
}

/** Polls the run until `done` holds for it, for at most 180 s. */
async function until(
  fault: string,
  runId: string,
  what: string,
  done: (run: RunDetail) => boolean,
): Promise<RunDetail> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const run = runDetailSchema.parse(await api('GET', `/runs/${runId}`));
    if (done(run)) return run;
    assert.ok(
      Date.now() < deadline,
      `${fault}: still ${run.phase} after 180 s, waiting for ${what}`,
    );
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
}

const ended = (run: RunDetail) => TERMINAL.has(run.phase);
const allInjected = (run: RunDetail) =>
  run.phase === 'Running' &&
  run.targets.length > 0 &&
  run.targets.every(target => target.phase === 'Injected');

/** Creates the experiment, runs it, and waits for the run's end. */
async function runToEnd(
  fault: string,
  spec: Omit<ExperimentSpecInput, 'name' | 'entityRef'>,
): Promise<RunDetail> {
  return until(fault, await startRun(fault, spec), 'its end', ended);
}

/**
 * Runs the experiment and, once its one target is Injected, hands that pod to `measure`; checks
 * that the target was still Injected when the measurement ended, then waits for the run's end.
 */
async function runMeasured<T>(
  fault: string,
  spec: Omit<ExperimentSpecInput, 'name' | 'entityRef'>,
  measure: (pod: CheckoutPod) => Promise<T>,
): Promise<{ run: RunDetail; figure: T }> {
  const runId = await startRun(fault, spec);
  const injected = await until(
    fault,
    runId,
    'its target Injected',
    run => ended(run) || allInjected(run),
  );
  assert.ok(
    allInjected(injected),
    `${fault}: ended ${injected.phase} before its target was Injected: ${injected.reason}: ${injected.message}`,
  );
  assert.equal(injected.targets.length, 1, `${fault}: one target`);
  const pod = (await checkoutPods()).find(
    p => p.name === injected.targets[0].pod,
  );
  assert.ok(
    pod,
    `${fault}: the target ${injected.targets[0].pod} is a running checkout pod`,
  );
  const figure = await measure(pod);
  // The backend's view of the run follows the agent's within a second or two; the runs last far
  // longer than their measurement, so a target still Injected here held the fault throughout.
  const after = runDetailSchema.parse(await api('GET', `/runs/${runId}`));
  assert.ok(
    allInjected(after),
    `${fault}: the fault held while it was measured (now ${
      after.phase
    }, ${after.targets.map(t => t.phase).join(', ')})`,
  );
  return { run: await until(fault, runId, 'its end', ended), figure };
}

interface CheckoutPod {
  name: string;
  ip: string;
  uid: string;
  containerId: string;
}

/**
 * checkout's running pods (only the ready ones with `ready`), with what the measurements need:
 * their IP, UID and container ID. A target under a network fault may fail its readiness probe.
 */
async function checkoutPods({ ready = false } = {}): Promise<CheckoutPod[]> {
  const pods = await core.listNamespacedPod({
    namespace: NAMESPACE,
    labelSelector: 'app=checkout',
  });
  return pods.items.flatMap(pod => {
    const container = pod.status?.containerStatuses?.[0];
    const { podIP } = pod.status ?? {};
    if (
      !container?.state?.running ||
      !container.containerID ||
      !podIP ||
      pod.metadata?.deletionTimestamp
    )
      return [];
    if (ready && !container.ready) return [];
    return [
      {
        name: pod.metadata!.name!,
        ip: podIP,
        uid: pod.metadata!.uid!,
        containerId: container.containerID,
      },
    ];
  });
}

/**
 * `measure` for every ready checkout pod, one after the other (or all at once with `parallel`):
 * the figures before a run, by pod name, since which pod the run will pick is not known yet.
 */
async function eachPod<T>(
  measure: (pod: CheckoutPod) => Promise<T>,
  { parallel = false } = {},
): Promise<Map<string, T>> {
  // Every replica ready first (an earlier pod-kill's replacements may still be starting), so
  // whichever pod the run picks has a figure from before it.
  const deadline = Date.now() + 120_000;
  let pods = await checkoutPods({ ready: true });
  while (pods.length < CHECKOUT_REPLICAS && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 1000));
    pods = await checkoutPods({ ready: true });
  }
  assert.equal(
    pods.length,
    CHECKOUT_REPLICAS,
    `checkout's ready pods: ${pods.map(p => p.name).join(', ')}`,
  );
  if (parallel)
    return new Map(
      await Promise.all(
        pods.map(async pod => [pod.name, await measure(pod)] as const),
      ),
    );
  const measured = new Map<string, T>();
  for (const pod of pods) measured.set(pod.name, await measure(pod));
  return measured;
}

/** The figure measured before the run in the pod the run then picked. */
function beforeIn<T>(measured: Map<string, T>, pod: string): T {
  const figure = measured.get(pod);
  assert.ok(
    figure !== undefined,
    `${pod} was not ready before the run, so it has no figure from then`,
  );
  return figure;
}

/**
 * The checkout pods the Kubernetes tab shows: the Kubernetes plugin's answer for the entity, from
 * the cluster config it shares with the chaos plugin. Its errors must be empty (every object type
 * it reads is granted to backstage/backstage).
 */
async function kubernetesTabPods(): Promise<string[]> {
  const response = await fetch(
    `${BACKEND}/api/kubernetes/resources/workloads/query`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ entityRef: ENTITY, auth: {} }),
    },
  );
  const text = await response.text();
  assert.ok(response.ok, `the Kubernetes plugin: ${response.status} ${text}`);
  const answer = JSON.parse(text) as {
    items: Array<{
      cluster: { name: string };
      errors: unknown[];
      resources: Array<{
        type: string;
        resources: Array<{ metadata: { name: string } }>;
      }>;
    }>;
  };
  assert.deepEqual(
    answer.items.map(item => item.cluster.name),
    ['sandbox'],
  );
  assert.deepEqual(
    answer.items[0].errors,
    [],
    'the Kubernetes plugin read every object type',
  );
  return answer.items[0].resources
    .filter(r => r.type === 'pods')
    .flatMap(r => r.resources.map(p => p.metadata.name));
}

function record(fault: string, run: RunDetail, note = ''): void {
  table.push({
    fault,
    phase: run.phase,
    verdict: run.verdict ?? '',
    reason: run.reason ?? '',
    note,
  });
}

/** Never Failed for a missing component; names what happened when it was. */
function assertNoMissingComponent(fault: string, run: RunDetail): void {
  assert.doesNotMatch(
    run.reason ?? '',
    /NodeDaemonUnavailable|PrometheusNotConfigured|RollbackTimeout/,
    `${fault}: ${run.reason}: ${run.message}`,
  );
  const failedTargets = run.targets.filter(t => t.phase === 'Failed');
  assert.deepEqual(
    failedTargets,
    [],
    `${fault}: targets failed: ${JSON.stringify(failedTargets)}`,
  );
}

/** Every target was injected (by the node daemon for node faults) and recovered. */
function assertInjectedAndRecovered(fault: string, run: RunDetail): void {
  assert.ok(run.targets.length > 0, `${fault}: no target`);
  for (const target of run.targets) {
    assert.ok(
      target.injectedAt,
      `${fault}: ${target.pod} never injected: ${JSON.stringify(target)}`,
    );
    assert.equal(
      target.phase,
      'Recovered',
      `${fault}: ${target.pod} ended ${target.phase}`,
    );
  }
}

const one = {
  namespace: NAMESPACE,
  labelSelector: { app: 'checkout' },
  selection: { mode: 'one' as const },
};
const errorRateProbe = {
  interval: '2s',
  failureThreshold: 2,
  recoveryTimeout: '60s',
  probes: [
    {
      type: 'promql' as const,
      name: 'error-rate',
      query: ERROR_RATE,
      comparison: '<' as const,
      threshold: 0.05,
    },
  ],
};

before(async () => {
  const response = await fetch(`${BACKEND}/api/auth/guest/refresh`, {
    method: 'POST',
  });
  assert.ok(response.ok, `guest sign-in: ${response.status}`);
  token = ((await response.json()) as { backstageIdentity: { token: string } })
    .backstageIdentity.token;
  // What the real node's daemon says it can do: the capabilities on its Lease.
  const kc = new KubeConfig();
  kc.loadFromFile(process.env.E2E_KUBECONFIG!);
  const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({
    namespace: 'chaoscraft-system',
    name: 'chaoscraft-node-real-node-0',
  });
  netem = JSON.parse(
    lease.metadata?.annotations?.['chaoscraft.io/capabilities'] ?? '{}',
  ).netem;
  core = kc.makeApiClient(CoreV1Api);
});

after(() => {
  const widths = ['fault', 'phase', 'verdict', 'reason', 'note'].map(key =>
    Math.max(
      key.length,
      ...table.map(row => row[key as keyof (typeof table)[number]].length),
    ),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(
    `\nevery fault on the real node (netem ${netem ? 'available' : 'absent'}):`,
  );
  console.log(line(['fault', 'phase', 'verdict', 'reason', 'note']));
  for (const row of table)
    console.log(
      line([row.fault, row.phase, row.verdict, row.reason, row.note]),
    );
  console.log('\nmeasured in the targeted pod while the fault held:');
  for (const figure of figures) console.log(`  ${figure}`);
});

test('every fault the Chaos tab offers ends Completed or Aborted for a real reason', async t => {
  assert.ok(PROMETHEUS, 'E2E_PROMETHEUS_URL names the demo Prometheus');

  await t.test(
    'network-bandwidth with an error-rate probe: the pod sends at the asked rate, the probe passes, Completed',
    async () => {
      const rateKbit = 1000;
      const bytes = 300_000;
      const unlimited = await eachPod(pod => downloadKbit(pod.ip, bytes));
      const before = await untilSteady();
      const { run, figure: measured } = await runMeasured(
        'network-bandwidth',
        {
          target: one,
          faults: [{ type: 'network-bandwidth', rateKbit }],
          duration: '25s',
          safety: { maxBlastRadiusPercent: 50 },
          hypothesis: errorRateProbe,
        },
        async pod => ({
          pod: pod.name,
          kbit: await downloadKbit(pod.ip, bytes),
        }),
      );
      const unlimitedKbit = beforeIn(unlimited, measured.pod);
      figures.push(
        `bandwidth: asked ${rateKbit} kbit/s, measured ${measured.kbit.toFixed(
          0,
        )} kbit/s (before: ${unlimitedKbit.toFixed(0)}) over ${
          bytes / 1000
        } KB out of ${measured.pod}`,
      );
      const samples = run.probes.flatMap(p => p.samples ?? []);
      record(
        'network-bandwidth',
        run,
        `error rate ${before.toFixed(3)} before; ${
          samples.length
        } probe samples, all < 0.05`,
      );
      assertNoMissingComponent('network-bandwidth', run);
      assert.equal(run.phase, 'Completed', `${run.reason}: ${run.message}`);
      assert.equal(run.verdict, 'Passed', `${run.reason}: ${run.message}`);
      assertInjectedAndRecovered('network-bandwidth', run);
      assert.ok(
        samples.some(s => s.phase === 'during'),
        'the probe was checked during the fault',
      );
      // tbf lets through its rate and no more (its bucket holds a few frames): a little under the
      // rate for TCP's ramp-up, never far above it.
      assert.ok(
        measured.kbit >= 0.5 * rateKbit && measured.kbit <= 1.2 * rateKbit,
        `measured ${measured.kbit.toFixed(0)} kbit/s for an asked ${rateKbit}`,
      );
      assert.ok(
        unlimitedKbit >= 5 * rateKbit,
        `before the fault the pod sent ${unlimitedKbit.toFixed(0)} kbit/s`,
      );
    },
  );

  await t.test(
    'pod-kill: Completed, and the pod it killed was on the Kubernetes tab',
    async () => {
      const shown = await kubernetesTabPods();
      assert.equal(
        shown.length,
        10,
        `the Kubernetes tab shows checkout's pods: ${shown.join(', ')}`,
      );
      const run = await runToEnd('pod-kill', {
        target: one,
        faults: [{ type: 'pod-kill' }],
        duration: '5s',
        safety: { maxBlastRadiusPercent: 50 },
      });
      const killed = run.targets.map(target => target.pod);
      record(
        'pod-kill',
        run,
        `killed ${killed.join(', ')}, shown on the Kubernetes tab before`,
      );
      assertNoMissingComponent('pod-kill', run);
      assert.equal(run.phase, 'Completed', `${run.reason}: ${run.message}`);
      assert.equal(killed.length, 1);
      assert.ok(
        shown.includes(killed[0]),
        `${killed[0]} is one of the pods the Kubernetes tab showed`,
      );
    },
  );

  await t.test(
    'network-partition: injected by the node daemon, recovered, Completed',
    async () => {
      const run = await runToEnd('network-partition', {
        target: one,
        faults: [{ type: 'network-partition' }],
        duration: '10s',
        safety: { maxBlastRadiusPercent: 50 },
      });
      record('network-partition', run);
      assertNoMissingComponent('network-partition', run);
      assert.equal(run.phase, 'Completed', `${run.reason}: ${run.message}`);
      assertInjectedAndRecovered('network-partition', run);
    },
  );

  await t.test(
    "cpu-stress: the container's cgroup uses the asked cores, Completed",
    async () => {
      const fault = {
        type: 'cpu-stress' as const,
        workers: 1,
        loadPercent: 40,
      };
      const asked = (fault.workers * fault.loadPercent) / 100;
      const cpuDir = (pod: CheckoutPod) =>
        containerCgroup('cpuacct', pod.uid, pod.containerId);
      const idle = await eachPod(async pod => cpuCores(await cpuDir(pod)), {
        parallel: true,
      });
      const { run, figure } = await runMeasured(
        'cpu-stress',
        {
          target: one,
          faults: [fault],
          duration: '25s',
          safety: { maxBlastRadiusPercent: 50 },
        },
        async pod => {
          const dir = await cpuDir(pod);
          await new Promise(resolve => setTimeout(resolve, 1000)); // stress-ng's workers start
          return { pod: pod.name, cores: await cpuCores(dir) };
        },
      );
      const before = beforeIn(idle, figure.pod);
      const added = figure.cores - before;
      figures.push(
        `cpu-stress: asked ${asked.toFixed(2)} cores, measured ${added.toFixed(
          2,
        )} cores (container total ${figure.cores.toFixed(
          2,
        )}, before ${before.toFixed(3)}; limit 0.5) over 3 s in ${figure.pod}`,
      );
      record('cpu-stress', run);
      assertNoMissingComponent('cpu-stress', run);
      assert.equal(run.phase, 'Completed', `${run.reason}: ${run.message}`);
      assertInjectedAndRecovered('cpu-stress', run);
      // Below the container's 0.5-core limit, so the asked load is what binds.
      assert.ok(
        added >= 0.5 * asked && added <= 1.25 * asked,
        `measured ${added.toFixed(2)} cores for an asked ${asked}`,
      );
    },
  );

  await t.test(
    "memory-stress: the container's cgroup holds the asked memory, Completed",
    async () => {
      const fault = {
        type: 'memory-stress' as const,
        workers: 1,
        megabytes: 64,
      };
      const memoryDir = (pod: CheckoutPod) =>
        containerCgroup('memory', pod.uid, pod.containerId);
      const idle = await eachPod(async pod => memoryMiB(await memoryDir(pod)));
      const { run, figure } = await runMeasured(
        'memory-stress',
        {
          target: one,
          faults: [fault],
          duration: '25s',
          safety: { maxBlastRadiusPercent: 50 },
        },
        async pod => {
          const dir = await memoryDir(pod);
          // stress-ng's worker maps and fills its share; the most it held over three seconds.
          let most = 0;
          for (let i = 0; i < 4; i++) {
            await new Promise(resolve => setTimeout(resolve, 1000));
            most = Math.max(most, await memoryMiB(dir));
          }
          return { pod: pod.name, mib: most };
        },
      );
      const before = beforeIn(idle, figure.pod);
      const added = figure.mib - before;
      figures.push(
        `memory-stress: asked ${fault.megabytes} MiB, measured ${added.toFixed(
          0,
        )} MiB (container total ${figure.mib.toFixed(
          0,
        )}, before ${before.toFixed(0)}; limit 256) in ${figure.pod}`,
      );
      record('memory-stress', run);
      assertNoMissingComponent('memory-stress', run);
      assert.equal(run.phase, 'Completed', `${run.reason}: ${run.message}`);
      assertInjectedAndRecovered('memory-stress', run);
      // The worker's own buffer, plus stress-ng's process itself.
      assert.ok(
        added >= 0.75 * fault.megabytes && added <= 1.5 * fault.megabytes,
        `measured ${added.toFixed(0)} MiB for an asked ${fault.megabytes}`,
      );
    },
  );

  for (const fault of [
    { type: 'network-latency' as const, latencyMs: 100 },
    { type: 'network-duplicate' as const, duplicatePercent: 10 },
    { type: 'network-corrupt' as const, corruptPercent: 10 },
  ]) {
    await t.test(
      `${fault.type}: Completed where netem exists, else refused naming netem`,
      async () => {
        const run = await runToEnd(fault.type, {
          target: one,
          faults: [fault],
          duration: '10s',
          safety: { maxBlastRadiusPercent: 50 },
        });
        assertNoMissingComponent(fault.type, run);
        if (netem) {
          record(fault.type, run);
          assert.equal(run.phase, 'Completed', `${run.reason}: ${run.message}`);
          assertInjectedAndRecovered(fault.type, run);
        } else {
          record(
            fault.type,
            run,
            `no netem in this kernel, a real reason: ${run.message ?? ''}`,
          );
          assert.equal(run.phase, 'Failed');
          assert.equal(run.verdict, 'Refused');
          assert.equal(run.reason, 'NodeCapabilityMissing');
          assert.match(run.message ?? '', /netem/);
          assert.deepEqual(
            run.targets.filter(target => target.injectedAt),
            [],
            'nothing was injected',
          );
        }
      },
    );
  }

  await t.test(
    'network-loss with an error-rate probe: the error rate rises, the run is Aborted',
    async () => {
      const before = await untilSteady();
      const run = await runToEnd('network-loss', {
        target: { ...one, selection: { mode: 'percent', percent: 30 } },
        faults: [{ type: 'network-loss', lossPercent: 60 }],
        duration: '60s',
        safety: { maxBlastRadiusPercent: 50 },
        hypothesis: errorRateProbe,
      });
      const worst = Math.max(
        ...run.probes.flatMap(p => (p.samples ?? []).map(s => s.value ?? 0)),
      );
      record(
        'network-loss',
        run,
        `error rate ${before.toFixed(3)} before, up to ${worst.toFixed(
          3,
        )}; abort latency ${run.abortLatencyMs ?? '?'} ms`,
      );
      assertNoMissingComponent('network-loss', run);
      assert.equal(run.phase, 'Aborted', `${run.reason}: ${run.message}`);
      assert.equal(run.reason, 'HypothesisViolated', run.message ?? '');
      assert.ok(worst >= 0.05, `the error rate reached ${worst}`);
      assertInjectedAndRecovered('network-loss', run);
    },
  );

  await t.test(
    'network-loss on one pod, without a probe: the pod loses the asked share of its packets, Completed',
    async () => {
      const lossPercent = 50;
      const tries = 200;
      const clean = await eachPod(pod => connectFailures(pod.ip, { tries }));
      const { run, figure } = await runMeasured(
        'network-loss-measured',
        {
          target: one,
          faults: [{ type: 'network-loss', lossPercent }],
          duration: '30s',
          safety: { maxBlastRadiusPercent: 50 },
        },
        async pod => ({
          pod: pod.name,
          failed: await connectFailures(pod.ip, { tries }),
        }),
      );
      const before = beforeIn(clean, figure.pod);
      figures.push(
        `loss: asked ${lossPercent}%, measured ${(figure.failed * 100).toFixed(
          1,
        )}% over ${tries} tries (TCP handshakes from the host; before: ${(
          before * 100
        ).toFixed(1)}%) to ${figure.pod}`,
      );
      record(
        'network-loss',
        run,
        `one pod, no probe: measured ${(figure.failed * 100).toFixed(
          1,
        )}% of ${tries} handshakes lost`,
      );
      assertNoMissingComponent('network-loss', run);
      assert.equal(run.phase, 'Completed', `${run.reason}: ${run.message}`);
      assertInjectedAndRecovered('network-loss', run);
      // Each handshake fails when the pod's SYN-ACK is dropped: a draw with probability P. Over 200
      // tries the standard deviation is 3.5 points at P = 50%; the band is four of them each side.
      assert.ok(
        Math.abs(figure.failed * 100 - lossPercent) <= 15,
        `measured ${(figure.failed * 100).toFixed(
          1,
        )}% for an asked ${lossPercent}%`,
      );
      assert.ok(
        before <= 0.02,
        `before the fault ${(before * 100).toFixed(
          1,
        )}% of the handshakes failed`,
      );
    },
  );
});

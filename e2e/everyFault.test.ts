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
 * Prints a table of fault → final phase, verdict and reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  type ExperimentSpecInput,
  type RunDetail,
  experimentSchema,
  runDetailSchema,
  runSchema,
} from '@chaoscraft/backstage-plugin-chaos-common';

const BACKEND = process.env.E2E_BACKEND_URL ?? 'http://localhost:7007';
const PROMETHEUS = process.env.E2E_PROMETHEUS_URL;
const ENTITY = 'component:default/checkout';
const NAMESPACE = 'chaos-demo';
const suffix = Date.now().toString(36);

/** checkout's error rate as its users see it: every answer that was not a 200 in time. */
const ERROR_RATE =
  'sum(rate(demo_client_requests_total{service="checkout",code!="200"}[20s])) / sum(rate(demo_client_requests_total{service="checkout"}[20s]))';
const TERMINAL = new Set(['Completed', 'Aborted', 'Failed']);

let token = '';
let netem: boolean | undefined;
const table: Array<{ fault: string; phase: string; verdict: string; reason: string; note: string }> = [];

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${BACKEND}/api/chaos${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
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
  const result = ((await response.json()) as { data?: { result?: Array<{ value: [number, string] }> } }).data?.result;
  return result?.length === 1 ? Number(result[0].value[1]) : undefined;
}

/** Steady state before a probed run: the error rate of earlier runs' faults has left the window. */
async function untilSteady(): Promise<number> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const rate = await errorRate();
    if (rate !== undefined && rate < 0.01) return rate;
    assert.ok(Date.now() < deadline, `checkout's error rate stays at ${rate} (query: ${ERROR_RATE})`);
    await new Promise(resolve => setTimeout(resolve, 2000));
  }
}

/** Creates the experiment, runs it, and waits for the run's end. */
async function runToEnd(fault: string, spec: Omit<ExperimentSpecInput, 'name' | 'entityRef'>): Promise<RunDetail> {
  const experiment = experimentSchema.parse(
    await api('POST', '/experiments', { name: `live-${fault}-${suffix}`, entityRef: ENTITY, ...spec }),
  );
  const started = runSchema.parse(await api('POST', `/experiments/${experiment.id}/runs`, { dryRun: false }));
  const deadline = Date.now() + 180_000;
  for (;;) {
    const run = runDetailSchema.parse(await api('GET', `/runs/${started.id}`));
    if (TERMINAL.has(run.phase)) return run;
    assert.ok(Date.now() < deadline, `${fault}: still ${run.phase} after 180 s`);
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
}

/**
 * The checkout pods the Kubernetes tab shows: the Kubernetes plugin's answer for the entity, from
 * the cluster config it shares with the chaos plugin. Its errors must be empty (every object type
 * it reads is granted to backstage/backstage).
 */
async function kubernetesTabPods(): Promise<string[]> {
  const response = await fetch(`${BACKEND}/api/kubernetes/resources/workloads/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ entityRef: ENTITY, auth: {} }),
  });
  const text = await response.text();
  assert.ok(response.ok, `the Kubernetes plugin: ${response.status} ${text}`);
  const answer = JSON.parse(text) as {
    items: Array<{
      cluster: { name: string };
      errors: unknown[];
      resources: Array<{ type: string; resources: Array<{ metadata: { name: string } }> }>;
    }>;
  };
  assert.deepEqual(answer.items.map(item => item.cluster.name), ['sandbox']);
  assert.deepEqual(answer.items[0].errors, [], 'the Kubernetes plugin read every object type');
  return answer.items[0].resources.filter(r => r.type === 'pods').flatMap(r => r.resources.map(p => p.metadata.name));
}

function record(fault: string, run: RunDetail, note = ''): void {
  table.push({ fault, phase: run.phase, verdict: run.verdict ?? '', reason: run.reason ?? '', note });
}

/** Never Failed for a missing component; names what happened when it was. */
function assertNoMissingComponent(fault: string, run: RunDetail): void {
  assert.doesNotMatch(
    run.reason ?? '',
    /NodeDaemonUnavailable|PrometheusNotConfigured|RollbackTimeout/,
    `${fault}: ${run.reason}: ${run.message}`,
  );
  const failedTargets = run.targets.filter(t => t.phase === 'Failed');
  assert.deepEqual(failedTargets, [], `${fault}: targets failed: ${JSON.stringify(failedTargets)}`);
}

/** Every target was injected (by the node daemon for node faults) and recovered. */
function assertInjectedAndRecovered(fault: string, run: RunDetail): void {
  assert.ok(run.targets.length > 0, `${fault}: no target`);
  for (const target of run.targets) {
    assert.ok(target.injectedAt, `${fault}: ${target.pod} never injected: ${JSON.stringify(target)}`);
    assert.equal(target.phase, 'Recovered', `${fault}: ${target.pod} ended ${target.phase}`);
  }
}

const one = { namespace: NAMESPACE, labelSelector: { app: 'checkout' }, selection: { mode: 'one' as const } };
const errorRateProbe = {
  interval: '2s',
  failureThreshold: 2,
  recoveryTimeout: '60s',
  probes: [
    { type: 'promql' as const, name: 'error-rate', query: ERROR_RATE, comparison: '<' as const, threshold: 0.05 },
  ],
};

before(async () => {
  const response = await fetch(`${BACKEND}/api/auth/guest/refresh`, { method: 'POST' });
  assert.ok(response.ok, `guest sign-in: ${response.status}`);
  token = ((await response.json()) as { backstageIdentity: { token: string } }).backstageIdentity.token;
  // What the real node's daemon says it can do: the capabilities on its Lease.
  const kc = new KubeConfig();
  kc.loadFromFile(process.env.E2E_KUBECONFIG!);
  const lease = await kc
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ namespace: 'chaoscraft-system', name: 'chaoscraft-node-real-node-0' });
  netem = JSON.parse(lease.metadata?.annotations?.['chaoscraft.io/capabilities'] ?? '{}').netem;
});

after(() => {
  const widths = ['fault', 'phase', 'verdict', 'reason', 'note'].map(key =>
    Math.max(key.length, ...table.map(row => row[key as keyof (typeof table)[number]].length)),
  );
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  console.log(`\nevery fault on the real node (netem ${netem ? 'available' : 'absent'}):`);
  console.log(line(['fault', 'phase', 'verdict', 'reason', 'note']));
  for (const row of table) console.log(line([row.fault, row.phase, row.verdict, row.reason, row.note]));
});

test('every fault the Chaos tab offers ends Completed or Aborted for a real reason', async t => {
  assert.ok(PROMETHEUS, 'E2E_PROMETHEUS_URL names the demo Prometheus');

  await t.test('network-bandwidth with an error-rate probe: injected, the probe passes, Completed', async () => {
    const before = await untilSteady();
    const run = await runToEnd('network-bandwidth', {
      target: one,
      faults: [{ type: 'network-bandwidth', rateKbit: 1000 }],
      duration: '15s',
      safety: { maxBlastRadiusPercent: 50 },
      hypothesis: errorRateProbe,
    });
    const samples = run.probes.flatMap(p => p.samples ?? []);
    record('network-bandwidth', run, `error rate ${before.toFixed(3)} before; ${samples.length} probe samples, all < 0.05`);
    assertNoMissingComponent('network-bandwidth', run);
    assert.equal(run.phase, 'Completed', `${run.reason}: ${run.message}`);
    assert.equal(run.verdict, 'Passed', `${run.reason}: ${run.message}`);
    assertInjectedAndRecovered('network-bandwidth', run);
    assert.ok(samples.some(s => s.phase === 'during'), 'the probe was checked during the fault');
  });

  await t.test('pod-kill: Completed, and the pod it killed was on the Kubernetes tab', async () => {
    const shown = await kubernetesTabPods();
    assert.equal(shown.length, 10, `the Kubernetes tab shows checkout's pods: ${shown.join(', ')}`);
    const run = await runToEnd('pod-kill', {
      target: one,
      faults: [{ type: 'pod-kill' }],
      duration: '5s',
      safety: { maxBlastRadiusPercent: 50 },
    });
    const killed = run.targets.map(target => target.pod);
    record('pod-kill', run, `killed ${killed.join(', ')}, shown on the Kubernetes tab before`);
    assertNoMissingComponent('pod-kill', run);
    assert.equal(run.phase, 'Completed', `${run.reason}: ${run.message}`);
    assert.equal(killed.length, 1);
    assert.ok(shown.includes(killed[0]), `${killed[0]} is one of the pods the Kubernetes tab showed`);
  });

  for (const fault of [
    { type: 'network-partition' as const },
    { type: 'cpu-stress' as const, workers: 1, loadPercent: 50 },
    { type: 'memory-stress' as const, workers: 1, megabytes: 64 },
  ]) {
    await t.test(`${fault.type}: injected by the node daemon, recovered, Completed`, async () => {
      const run = await runToEnd(fault.type, {
        target: one,
        faults: [fault],
        duration: '10s',
        safety: { maxBlastRadiusPercent: 50 },
      });
      record(fault.type, run);
      assertNoMissingComponent(fault.type, run);
      assert.equal(run.phase, 'Completed', `${run.reason}: ${run.message}`);
      assertInjectedAndRecovered(fault.type, run);
    });
  }

  for (const fault of [
    { type: 'network-latency' as const, latencyMs: 100 },
    { type: 'network-duplicate' as const, duplicatePercent: 10 },
    { type: 'network-corrupt' as const, corruptPercent: 10 },
  ]) {
    await t.test(`${fault.type}: Completed where netem exists, else refused naming netem`, async () => {
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
        record(fault.type, run, `no netem in this kernel, a real reason: ${run.message ?? ''}`);
        assert.equal(run.phase, 'Failed');
        assert.equal(run.verdict, 'Refused');
        assert.equal(run.reason, 'NodeCapabilityMissing');
        assert.match(run.message ?? '', /netem/);
        assert.deepEqual(run.targets.filter(target => target.injectedAt), [], 'nothing was injected');
      }
    });
  }

  await t.test('network-loss with an error-rate probe: the error rate rises, the run is Aborted', async () => {
    const before = await untilSteady();
    const run = await runToEnd('network-loss', {
      target: { ...one, selection: { mode: 'percent', percent: 30 } },
      faults: [{ type: 'network-loss', lossPercent: 60 }],
      duration: '60s',
      safety: { maxBlastRadiusPercent: 50 },
      hypothesis: errorRateProbe,
    });
    const worst = Math.max(...run.probes.flatMap(p => (p.samples ?? []).map(s => s.value ?? 0)));
    record(
      'network-loss',
      run,
      `error rate ${before.toFixed(3)} before, up to ${worst.toFixed(3)}; abort latency ${run.abortLatencyMs ?? '?'} ms`,
    );
    assertNoMissingComponent('network-loss', run);
    assert.equal(run.phase, 'Aborted', `${run.reason}: ${run.message}`);
    assert.equal(run.reason, 'HypothesisViolated', run.message ?? '');
    assert.ok(worst >= 0.05, `the error rate reached ${worst}`);
    assertInjectedAndRecovered('network-loss', run);
  });
});

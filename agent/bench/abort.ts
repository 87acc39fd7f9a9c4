/**
 * Abort-latency benchmark (make bench-abort), through the shipped path: ChaosRuns in a sandbox,
 * the real controller (ChaosController, in-process) whose default gate asks the test bed's real
 * Prometheus, and the real node daemon (in-process, static netns resolver) applying real packet
 * loss (iptables statistic where the kernel has no netem) in the network namespace of the test
 * bed's demo service, which stands in for the target pod.
 *
 * Each trial creates a ChaosRun: the demo pod as its one target, network-loss 40%, a promql probe
 * on the client error rate (< 5%) every BENCH_INTERVAL_MS with failureThreshold 1, duration 60 s.
 * The run aborts on the violation, rolls back and waits for recovery; then the figures are read
 * from its status:
 * - abort latency: the first violating sample (its time in status.probes, which is when the
 *   probe asked Prometheus) → every fault reverted as the node daemon reported it (the latest
 *   recoveredAt of the target records, stamped after the revert);
 * - decide: first violating sample → RollingBack (status.phaseTransitions); revert: RollingBack →
 *   reverted, the rollback alone, which is the floor any detection adds to;
 * - status: status.abortLatencyMs, which the controller stamps once it has seen every record
 *   Recovered (one more watch event after the daemon's write);
 * - detection-inclusive: the moment Prometheus first reported the error rate over 5% (a side
 *   poller asks every 50 ms) → reverted: adds the wait for the next probe round.
 * Prints one line per trial, then medians; the last line is exactly
 *   abort_latency_ms=<median> probe_interval_ms=<interval>
 * Bounded: BENCH_TRIALS (default 10) trials and BENCH_TIMEOUT_S (default 420) overall. Uses the
 * sandbox of CHAOSCRAFT_SANDBOX_KUBECONFIG when set, else starts (and stops) its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import type {
  ChaosRunSpecInput,
  ChaosRunStatus,
  ProbeSample,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  applyCrds,
  createPodsOnNode,
  createRun,
  OPT_IN,
  startController,
  startNodeDaemon,
  waitForRunPhase,
  type InProcessNodeDaemon,
  type RunningController,
  startTestbed,
  type Testbed,
  TEST_CEILINGS,
} from '@chaoscraft/agent-testkit';
import {
  benchCluster,
  deleteNamespaceQuietly,
  log,
  median,
  type BenchCluster,
} from './benchSupport';

const TRIALS = Number(process.env.BENCH_TRIALS ?? '10');
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? '1000');
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? '420');

/** Polls Prometheus every 50 ms and remembers when it first reported a value over `threshold`. */
function watchCrossing(
  testbed: Testbed,
  threshold: number,
): { first(): number | undefined; stop(): void } {
  let first: number | undefined;
  let stopped = false;
  void (async () => {
    while (!stopped && first === undefined) {
      const asked = Date.now();
      const value = await testbed.errorRate().catch(() => undefined);
      if (value !== undefined && value > threshold) first = asked;
      await new Promise(resolve => setTimeout(resolve, 50));
    }
  })();
  return { first: () => first, stop: () => void (stopped = true) };
}

/** The first sample of the failing `during` streak that ended the run (the violation's start). */
function firstViolatingSample(
  samples: readonly ProbeSample[],
): ProbeSample | undefined {
  const during = samples.filter(sample => sample.phase === 'during');
  let first: ProbeSample | undefined;
  for (let i = during.length - 1; i >= 0 && !during[i].ok; i--)
    first = during[i];
  return first;
}

interface TrialFigures {
  abort: number;
  decide: number;
  revert: number;
  status: number;
  detection: number;
}

function figuresOf(
  name: string,
  status: ChaosRunStatus,
  crossedAt: number | undefined,
): TrialFigures {
  if (status.phase !== 'Aborted' || status.reason !== 'HypothesisViolated') {
    throw new Error(
      `${name} did not abort on the hypothesis: ${status.phase} ${status.reason}: ${status.message}`,
    );
  }
  const sample = firstViolatingSample(status.probes[0]?.samples ?? []);
  const unrecovered = status.targets.filter(
    record => record.phase !== 'Recovered' || !record.recoveredAt,
  );
  if (!sample || status.targets.length === 0 || unrecovered.length > 0) {
    throw new Error(
      `${name}: no violating sample, or a target the node daemon did not report recovered`,
    );
  }
  const violatedAt = Date.parse(sample.time);
  const revertedAt = Math.max(
    ...status.targets.map(record => Date.parse(record.recoveredAt!)),
  );
  const rollingBackAt = Date.parse(
    status.phaseTransitions.find(t => t.phase === 'RollingBack')!.time,
  );
  return {
    abort: revertedAt - violatedAt,
    decide: rollingBackAt - violatedAt,
    revert: revertedAt - rollingBackAt,
    status: status.abortLatencyMs ?? NaN,
    detection: revertedAt - Math.min(crossedAt ?? violatedAt, violatedAt),
  };
}

interface Bed {
  cluster: BenchCluster;
  testbed: Testbed;
  namespace: string;
  agentNamespace: string;
  daemon: InProcessNodeDaemon;
  controller: RunningController;
  dir: string;
}

async function trial(bed: Bed, n: number): Promise<TrialFigures> {
  const { cluster, testbed, namespace } = bed;
  await testbed.waitForErrorRate(
    rate => rate < 0.05,
    'below 5% before the trial',
    30_000,
  );
  const spec: ChaosRunSpecInput = {
    target: {
      namespace,
      labelSelector: { app: 'demo' },
      selection: { mode: 'one' },
    },
    faults: [{ type: 'network-loss', lossPercent: 40, correlationPercent: 0 }],
    duration: '60s',
    safety: { maxBlastRadiusPercent: 100 },
    hypothesis: {
      interval: `${INTERVAL_MS}ms`,
      failureThreshold: 1,
      recoveryTimeout: '30s',
      probes: [
        {
          type: 'promql',
          name: 'error-rate',
          query: testbed.errorRateQuery,
          comparison: '<',
          threshold: 0.05,
        },
      ],
    },
  };
  const name = `abort-${n}`;
  const crossing = watchCrossing(testbed, 0.05);
  try {
    await createRun(cluster.kc, namespace, name, spec);
    const done = await waitForRunPhase(
      cluster.kc,
      namespace,
      name,
      ['Completed', 'Aborted', 'Failed'],
      90_000,
    );
    const figures = figuresOf(name, done.status!, crossing.first());
    const value = firstViolatingSample(done.status!.probes[0].samples)?.value;
    process.stdout.write(
      `trial ${n}: abort_latency_ms=${figures.abort} decide_ms=${
        figures.decide
      } revert_ms=${figures.revert} status_abort_latency_ms=${
        figures.status
      } detection_inclusive_ms=${figures.detection} value=${value?.toFixed(
        3,
      )}\n`,
    );
    return figures;
  } finally {
    crossing.stop();
  }
}

async function startBed(): Promise<Bed> {
  const cluster = await benchCluster(3);
  const suffix = Math.random().toString(36).slice(2, 8);
  const namespace = `bench-abort-${suffix}`;
  const agentNamespace = `bench-abort-agent-${suffix}`;
  const core = cluster.kc.makeApiClient(CoreV1Api);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-bench-abort-'));
  log(
    'starting the test bed (Prometheus, demo service in a netns, load generator)',
  );
  const testbed = await startTestbed({
    rate: 50,
    loadDurationS: TIMEOUT_S,
    requestTimeoutMs: 500,
  });
  await core.createNamespace({
    body: { metadata: { name: namespace, labels: OPT_IN } },
  });
  await core.createNamespace({ body: { metadata: { name: agentNamespace } } });
  await applyCrds(cluster.kc);
  const node = (await core.listNode()).items[0]?.metadata?.name;
  if (!node) throw new Error('the sandbox has no node');
  await createPodsOnNode(
    cluster.kc,
    namespace,
    ['demo'],
    { app: 'demo' },
    node,
  );
  const daemon = await startNodeDaemon({
    kubeconfigPath: cluster.kubeconfigPath,
    nodeName: node,
    agentNamespace,
    dir,
  });
  daemon.mapPod(namespace, 'demo', testbed.netns.path);
  const controller = await startController(cluster.kc, {
    ceilings: TEST_CEILINGS,
    agentNamespace,
    watchNamespaces: [namespace],
    prometheusUrl: testbed.prometheusUrl,
    rollbackTimeoutMs: 20_000,
  });
  // Creation times have whole seconds; the runs start in a later second than their pod.
  await new Promise(resolve => setTimeout(resolve, 1100));
  return {
    cluster,
    testbed,
    namespace,
    agentNamespace,
    daemon,
    controller,
    dir,
  };
}

async function stopBed(bed: Bed): Promise<void> {
  await bed.controller.stop();
  await bed.daemon.stop();
  const core = bed.cluster.kc.makeApiClient(CoreV1Api);
  await deleteNamespaceQuietly(core, bed.namespace);
  await deleteNamespaceQuietly(core, bed.agentNamespace);
  if (bed.testbed.faults.notes.length > 0)
    process.stderr.write(`notes: ${bed.testbed.faults.notes.join('; ')}\n`);
  await bed.testbed.stop();
  await bed.cluster.release();
  rmSync(bed.dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  let bed: Bed | undefined;
  const deadline = setTimeout(() => {
    process.stderr.write(`bench-abort: gave up after ${TIMEOUT_S} s\n`);
    bed?.cluster.releaseSync();
    // The test bed's exit handlers stop its processes and delete its network namespace.
    process.exit(2);
  }, TIMEOUT_S * 1000);
  deadline.unref();
  const trials: TrialFigures[] = [];
  try {
    bed = await startBed();
    for (let n = 1; n <= TRIALS; n++) trials.push(await trial(bed, n));
  } finally {
    if (bed) await stopBed(bed);
  }
  const of = (key: keyof TrialFigures): number[] =>
    trials.map(figures => figures[key]);
  const mid = (key: keyof TrialFigures): number => Math.round(median(of(key)));
  process.stdout.write(
    `trials=${TRIALS} median_decide_ms=${mid('decide')} median_revert_ms=${mid(
      'revert',
    )} ` +
      `median_status_abort_latency_ms=${mid(
        'status',
      )} median_detection_inclusive_ms=${mid('detection')} ` +
      `max_abort_latency_ms=${Math.max(...of('abort'))} target_ms=${
        INTERVAL_MS + 500
      }\n`,
  );
  process.stdout.write(
    `abort_latency_ms=${mid('abort')} probe_interval_ms=${INTERVAL_MS}\n`,
  );
  clearTimeout(deadline);
}

main().then(
  () => process.exit(0),
  error => {
    process.stderr.write(
      `bench-abort failed: ${
        error instanceof Error ? error.stack : String(error)
      }\n`,
    );
    process.exit(1);
  },
);

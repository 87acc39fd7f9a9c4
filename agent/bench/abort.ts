/**
 * Abort-latency benchmark (make bench-abort): how long from the first probe sample over the
 * threshold to every fault reverted, against the real test bed (Prometheus, load generator,
 * demo service in a network namespace, iptables packet loss).
 *
 * Each trial: steady state before, inject 40% packet loss, watch the promql error-rate probe
 * every BENCH_INTERVAL_MS with failureThreshold 1, roll back on the violation, wait until
 * Prometheus sees the error rate recover. Two figures per trial:
 * - abort latency: first violating sample → rollback complete (status.abortLatencyMs);
 * - detection-inclusive: the moment Prometheus first reported the error rate over 5% (a side
 *   poller asks every 50 ms) → rollback complete; bounded by one probe interval plus the
 *   rollback, because the monitor samples once per interval.
 * Prints one line per trial, then medians; the last line is exactly
 *   abort_latency_ms=<median> probe_interval_ms=<interval>
 * Bounded: BENCH_TRIALS (default 10) trials and BENCH_TIMEOUT_S (default 300) overall.
 */
import { hypothesisSchema, type NetworkFault } from '@chaoscraft/backstage-plugin-chaos-common';
import { HypothesisMonitor, runGuarded } from '../src/hypothesis';
// infra/testbed is test tooling run from the source tree, not a workspace package.
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
import { startTestbed, type Testbed } from '../../infra/testbed/testbed';

const TRIALS = Number(process.env.BENCH_TRIALS ?? '10');
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? '1000');
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? '300');
const LOSS: NetworkFault = { type: 'network-loss', device: 'eth0', lossPercent: 40, correlationPercent: 0 };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
}

/** Polls Prometheus every 50 ms and remembers when it first reported a value over `threshold`. */
function watchCrossing(testbed: Testbed, threshold: number): { first(): number | undefined; stop(): void } {
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

async function trial(testbed: Testbed, n: number): Promise<{ abort: number; detection: number }> {
  await testbed.waitForErrorRate(rate => rate < 0.05, 'below 5% before the trial', 30_000);
  const monitor = new HypothesisMonitor({
    hypothesis: hypothesisSchema.parse({
      interval: `${INTERVAL_MS}ms`,
      failureThreshold: 1,
      recoveryTimeout: '30s',
      probes: [{ type: 'promql', name: 'error-rate', query: testbed.errorRateQuery, comparison: '<', threshold: 0.05 }],
    }),
    context: { namespace: 'testbed', prometheusUrl: testbed.prometheusUrl },
  });
  let crossing: ReturnType<typeof watchCrossing> | undefined;
  const result = await runGuarded({
    monitor,
    durationMs: 30_000,
    faults: {
      inject: async () => {
        await testbed.faults.apply(LOSS);
        crossing = watchCrossing(testbed, 0.05);
      },
      rollback: () => testbed.faults.revertAll(),
    },
  });
  crossing?.stop();
  if (result.abortLatencyMs === undefined || result.revertedAt === undefined) {
    throw new Error(`trial ${n}: the run did not abort (${result.phase}, ${result.verdict}: ${result.message})`);
  }
  const firstSeen = crossing?.first() ?? result.violation!.since;
  const detection = Math.max(0, result.revertedAt - Math.min(firstSeen, result.violation!.since));
  process.stdout.write(
    `trial ${n}: abort_latency_ms=${result.abortLatencyMs} detection_inclusive_ms=${detection} value=${result.violation!.value?.toFixed(3)} recovered=${result.recovery?.holds}\n`,
  );
  return { abort: result.abortLatencyMs, detection };
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    process.stderr.write(`bench-abort: gave up after ${TIMEOUT_S} s\n`);
    process.exit(2);
  }, TIMEOUT_S * 1000);
  deadline.unref();
  const testbed = await startTestbed({ rate: 50, loadDurationS: TIMEOUT_S, requestTimeoutMs: 500 });
  const aborts: number[] = [];
  const detections: number[] = [];
  try {
    for (let n = 1; n <= TRIALS; n++) {
      const { abort, detection } = await trial(testbed, n);
      aborts.push(abort);
      detections.push(detection);
    }
  } finally {
    if (testbed.faults.notes.length > 0) process.stderr.write(`notes: ${testbed.faults.notes.join('; ')}\n`);
    await testbed.stop();
  }
  process.stdout.write(
    `trials=${TRIALS} median_detection_inclusive_ms=${median(detections)} max_abort_latency_ms=${Math.max(...aborts)} target_ms=${INTERVAL_MS + 500}\n`,
  );
  process.stdout.write(`abort_latency_ms=${median(aborts)} probe_interval_ms=${INTERVAL_MS}\n`);
  clearTimeout(deadline);
}

main().catch(error => {
  process.stderr.write(`bench-abort failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

/**
 * Acceptance tests against real components: a real Prometheus (Debian package) scraping a real
 * load generator, a demo service in its own network namespace, and real packet loss and
 * partitions (iptables) applied by the node daemon's injector. `make test-hypothesis` runs them
 * (CHAOSCRAFT_TESTBED=1); they need root and /usr/bin/prometheus. See docs/hypothesis.md.
 */
import { existsSync } from 'node:fs';
import { hypothesisSchema, type NetworkFault } from '@chaoscraft/backstage-plugin-chaos-common';
// infra/testbed is test tooling run from the source tree, not a workspace package.
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
import { startTestbed, type Testbed } from '../../../infra/testbed/testbed';
// infra/testbed is test tooling run from the source tree, not a workspace package.
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
import { PROMETHEUS_BIN } from '../../../infra/testbed/prometheus';
import { HypothesisMonitor } from './monitor';
import { planProgressiveSteps } from './progressive';
import { runGuarded, type FaultLifecycle } from './guardedRun';

const missing = [
  process.env.CHAOSCRAFT_TESTBED !== '1' && 'CHAOSCRAFT_TESTBED=1 (set by make test-hypothesis)',
  process.getuid?.() !== 0 && 'root (network namespaces, iptables)',
  !existsSync(PROMETHEUS_BIN) && `${PROMETHEUS_BIN} (Debian package prometheus)`,
].filter(Boolean);
const describeTestbed = missing.length === 0 ? describe : describe.skip;
if (missing.length > 0) {
  // eslint-disable-next-line no-console
  console.warn(`hypothesis acceptance tests skipped: needs ${missing.join(', ')}`);
}

const LOSS: NetworkFault = { type: 'network-loss', device: 'eth0', lossPercent: 40, correlationPercent: 0 };
const PARTITION: NetworkFault = { type: 'network-partition', device: 'eth0', direction: 'both' };

describeTestbed('steady-state hypothesis against the test bed', () => {
  let testbed: Testbed;

  beforeAll(async () => {
    testbed = await startTestbed({ rate: 50, loadDurationS: 240, requestTimeoutMs: 500 });
  }, 60_000);

  afterAll(async () => {
    if (testbed) {
      if (testbed.faults.notes.length > 0) {
        // eslint-disable-next-line no-console
        console.warn(`test bed notes:\n${testbed.faults.notes.join('\n')}`);
      }
      await testbed.stop();
    }
  }, 30_000);

  afterEach(async () => {
    // Whatever a test did, the next one starts from a healthy service.
    await testbed.faults.revertAll();
    await testbed.waitForErrorRate(rate => rate < 0.05, 'back below 5% between tests', 30_000);
  }, 40_000);

  const errorRateHypothesis = (overrides: Record<string, unknown> = {}) =>
    hypothesisSchema.parse({
      interval: '1s',
      failureThreshold: 2,
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
      ...overrides,
    });

  const monitorFor = (hypothesis: ReturnType<typeof errorRateHypothesis>) =>
    new HypothesisMonitor({
      hypothesis,
      context: { namespace: 'testbed', prometheusUrl: testbed.prometheusUrl },
    });

  /** Faults of one test: the given fault on inject, everything reverted on rollback. */
  const faultsOf = (fault: NetworkFault): FaultLifecycle & { injected: number } => {
    const lifecycle = {
      injected: 0,
      inject: async () => {
        lifecycle.injected += 1;
        await testbed.faults.apply(fault);
      },
      rollback: () => testbed.faults.revertAll(),
    };
    return lifecycle;
  };

  it('aborts when the error rate Prometheus sees rises above 5% under packet loss, rolls back, and sees it recover', async () => {
    const monitor = monitorFor(errorRateHypothesis());
    const faults = faultsOf(LOSS);
    const result = await runGuarded({ monitor, faults, durationMs: 60_000 });

    expect(result.phase).toBe('Aborted');
    expect(result.verdict).toBe('Failed');
    expect(result.reason).toBe('HypothesisViolated');
    expect(result.violation).toMatchObject({ probe: 'error-rate', comparison: '<', threshold: 0.05 });
    expect(result.violation!.value).toBeGreaterThan(0.05);
    expect(result.message).toMatch(/^probe error-rate \(promql\) failed: 0\.\d+, must be < 0\.05 \(2 consecutive failed checks\); steady state recovered .* after rollback$/);
    // Rolled back: nothing left in the service's namespace.
    expect(testbed.faults.active).toBe(0);
    expect(result.abortLatencyMs).toBeGreaterThanOrEqual(0);
    // Failure streak of 2 at a 1 s interval: at most one interval plus the rollback itself.
    expect(result.abortLatencyMs!).toBeLessThan(1000 + 500);

    const [probe] = result.probes;
    expect(probe).toMatchObject({ name: 'error-rate', type: 'promql', verdict: 'Failed', comparison: '<', threshold: 0.05 });
    const phases = probe.samples.map(s => s.phase);
    expect(phases[0]).toBe('before');
    expect(phases).toContain('during');
    expect(phases[phases.length - 1]).toBe('after');
    const failing = probe.samples.filter(s => s.phase === 'during' && !s.ok);
    expect(failing.length).toBeGreaterThanOrEqual(2);
    expect(failing.every(s => (s.value ?? 0) > 0.05)).toBe(true);
    // The recovery Prometheus reported is real: it sees the error rate under 5% now.
    expect(result.recovery?.holds).toBe(true);
    expect(await testbed.errorRate()).toBeLessThan(0.05);
  }, 90_000);

  it('refuses a run whose steady state does not hold before it starts, showing the values', async () => {
    await testbed.faults.apply(PARTITION);
    await testbed.waitForErrorRate(rate => rate > 0.5, 'above 50% under a partition');
    const monitor = monitorFor(errorRateHypothesis());
    const faults = faultsOf(LOSS);
    const result = await runGuarded({ monitor, faults, durationMs: 60_000 });

    expect(faults.injected).toBe(0);
    expect(result).toMatchObject({ phase: 'Failed', verdict: 'Refused', reason: 'SteadyStateNotMet' });
    expect(result.message).toMatch(
      /^steady state does not hold before injection: error-rate \(promql\) = (1|0\.\d+), must be < 0\.05$/,
    );
    expect(result.probes[0].samples).toEqual([
      expect.objectContaining({ phase: 'before', ok: false, value: expect.any(Number) }),
    ]);
    expect(result.probes[0].verdict).toBe('Failed');
  }, 60_000);

  describe('progressive steps, with an http probe against the demo service as the gate', () => {
    const httpHypothesis = () =>
      hypothesisSchema.parse({
        interval: '500ms',
        failureThreshold: 2,
        recoveryTimeout: '20s',
        probes: [
          {
            type: 'http',
            name: 'demo-home',
            url: testbed.serviceUrl,
            expectedStatus: 200,
            maxLatencyMs: 300,
            requests: 10,
            minSuccessRatio: 0.9,
          },
        ],
      });
    // 1 pod, then 10%, then 20% of 20 eligible pods, holding 3 s each.
    const plan = planProgressiveSteps({
      eligible: 20,
      maxBlastRadiusPercent: 25,
      steps: [
        { selection: { mode: 'one' }, hold: '3s' },
        { selection: { mode: 'percent', percent: 10 }, hold: '3s' },
        { selection: { mode: 'percent', percent: 20 }, hold: '3s' },
      ],
    });
    if (!plan.ok) throw new Error(plan.message);

    /** The service breaks once the blast radius reaches `breakingStep` (never when undefined). */
    const widening = (breakingStep?: number): FaultLifecycle & { widened: number[] } => {
      const lifecycle = {
        widened: [] as number[],
        inject: async (step?: { index: number; targetCount: number }) => {
          lifecycle.widened.push(step!.targetCount);
          if (step!.index === breakingStep) {
            await testbed.faults.apply(PARTITION);
          }
        },
        rollback: () => testbed.faults.revertAll(),
      };
      return lifecycle;
    };

    it('completes every step when every gate holds', async () => {
      const monitor = new HypothesisMonitor({ hypothesis: httpHypothesis(), context: { namespace: 'testbed' } });
      const faults = widening(undefined);
      const result = await runGuarded({ monitor, faults, durationMs: 0, plan: plan.steps });
      expect(result).toMatchObject({ phase: 'Completed', verdict: 'Passed', reason: 'SteadyStateHeld' });
      expect(faults.widened).toEqual([1, 2, 4]);
      expect(result.steps.map(s => [s.index, s.result, s.blastRadius.selected, s.blastRadius.percent])).toEqual([
        [0, 'Passed', 1, 5],
        [1, 'Passed', 2, 10],
        [2, 'Passed', 4, 20],
      ]);
      expect(result.probes[0].verdict).toBe('Passed');
    }, 60_000);

    it('stops at the first failing gate', async () => {
      const monitor = new HypothesisMonitor({ hypothesis: httpHypothesis(), context: { namespace: 'testbed' } });
      const faults = widening(1);
      const result = await runGuarded({ monitor, faults, durationMs: 0, plan: plan.steps });
      expect(result).toMatchObject({ phase: 'Aborted', verdict: 'Failed', reason: 'HypothesisViolated' });
      expect(faults.widened).toEqual([1, 2]);
      expect(result.steps.map(s => [s.index, s.result, s.blastRadius.selected])).toEqual([
        [0, 'Passed', 1],
        [1, 'Failed', 2],
      ]);
      expect(result.violation).toMatchObject({ probe: 'demo-home', type: 'http', comparison: '>=', threshold: 0.9 });
      expect(result.violation!.value).toBeLessThan(0.9);
      expect(result.message).toMatch(/^probe demo-home \(http\) failed: 0(\.\d+)?, must be >= 0\.9 \(\d+ of 10 requests failed: .*timeout after 300 ms.*\)/);
      expect(testbed.faults.active).toBe(0);
      expect(result.recovery?.holds).toBe(true);
    }, 60_000);
  });
});

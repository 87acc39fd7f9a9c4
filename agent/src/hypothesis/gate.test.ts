import {
  chaosRunSpecSchema,
  type Probe,
} from '@chaoscraft/backstage-plugin-chaos-common';
import pino from 'pino';
import type { ProbeCheck, ProbeChecker } from '../probes';
import { ProbeHypothesisGate } from './gate';
import { nextProgressiveAction, planProgressiveSteps } from './progressive';

class Switchable implements ProbeChecker {
  readonly type = 'k8s' as const;
  answer: ProbeCheck = { ok: true, value: 1 };
  async check(_probe: Probe): Promise<ProbeCheck> {
    return this.answer;
  }
}

describe('ProbeHypothesisGate', () => {
  const spec = chaosRunSpecSchema.parse({
    target: { namespace: 'shop', labelSelector: { app: 'web' } },
    faults: [{ type: 'pod-kill' }],
    duration: '1m',
    hypothesis: {
      interval: '10ms',
      failureThreshold: 2,
      recoveryTimeout: '100ms',
      probes: [
        {
          type: 'k8s',
          name: 'web-available',
          deployment: 'web',
          minAvailableRatio: 0.5,
        },
      ],
    },
  });
  const input = (extra = {}) => ({
    spec,
    status: {
      targets: [],
      probes: [],
      steps: [],
      conditions: [],
      phaseTransitions: [],
    },
    log: pino({ level: 'silent' }),
    runKey: 'shop/run-1',
    ...extra,
  });

  it('refuses, watches, reports the violation at once, and concludes', async () => {
    const checker = new Switchable();
    const gate = new ProbeHypothesisGate({ probes: { checkers: [checker] } });
    checker.answer = { ok: false, value: 0.25 };
    expect(await gate.before(input())).toMatchObject({
      ok: false,
      reason: 'SteadyStateNotMet',
    });

    checker.answer = { ok: true, value: 1 };
    expect(await gate.before(input())).toMatchObject({ ok: true });
    expect(await gate.during(input())).toMatchObject({ ok: true });
    const violation = gate.violation(input());
    checker.answer = { ok: false, value: 0.25 };
    const found = await violation;
    expect(found).toMatchObject({
      ok: false,
      reason: 'HypothesisViolated',
      violationSince: expect.any(String),
    });
    expect(found.message).toMatch(
      /^probe web-available \(k8s\) failed: 0.25, must be >= 0.5/,
    );
    expect(await gate.during(input())).toMatchObject({
      ok: false,
      reason: 'HypothesisViolated',
    });

    checker.answer = { ok: true, value: 1 };
    const verdict = await gate.after(input());
    expect(verdict).toMatchObject({
      verdict: 'Failed',
      reason: 'HypothesisViolated',
    });
    expect(verdict.probes?.[0]).toMatchObject({
      name: 'web-available',
      verdict: 'Failed',
    });
  });

  it('passes a run whose probes held and recovered', async () => {
    const checker = new Switchable();
    const gate = new ProbeHypothesisGate({ probes: { checkers: [checker] } });
    await gate.before(input());
    await gate.during(input());
    expect(await gate.after(input())).toMatchObject({
      verdict: 'Passed',
      reason: 'SteadyStateHeld',
    });
  });

  it('passes a run that ended because its duration elapsed', async () => {
    const checker = new Switchable();
    const gate = new ProbeHypothesisGate({ probes: { checkers: [checker] } });
    await gate.before(input());
    await gate.during(input());
    const ended = input({
      status: {
        targets: [],
        probes: [],
        steps: [],
        conditions: [],
        phaseTransitions: [],
        reason: 'DurationElapsed',
      },
    });
    expect(await gate.after(ended)).toMatchObject({
      verdict: 'Passed',
      reason: 'SteadyStateHeld',
    });
  });

  it('refuses promql probes when no Prometheus URL is configured, naming them', async () => {
    const gate = new ProbeHypothesisGate();
    const promql = chaosRunSpecSchema.parse({
      ...spec,
      hypothesis: {
        probes: [
          {
            type: 'promql',
            name: 'error-rate',
            query: 'vector(0)',
            comparison: '<',
            threshold: 0.05,
          },
        ],
      },
    });
    const check = await gate.before(input({ spec: promql }));
    expect(check).toMatchObject({
      ok: false,
      reason: 'PrometheusNotConfigured',
    });
    expect(check.message).toContain('error-rate');
    expect(check.message).toContain('--prometheus-url');
  });
});

describe('nextProgressiveAction', () => {
  const plan = planProgressiveSteps({
    eligible: 10,
    maxBlastRadiusPercent: 50,
    steps: [
      { selection: { mode: 'one' }, hold: '10s' },
      { selection: { mode: 'percent', percent: 30 }, hold: '10s' },
    ],
  });
  if (!plan.ok) throw new Error(plan.message);
  const t0 = Date.parse('2025-01-01T00:00:00Z');
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();

  it('widens, holds, passes and completes from status.steps alone', () => {
    expect(nextProgressiveAction(plan.steps, [], t0)).toMatchObject({
      kind: 'widen',
      step: { index: 0, targetCount: 1 },
    });
    const injected = {
      index: 0,
      startedAt: at(0),
      injectedAt: at(0),
      result: 'Running' as const,
    };
    expect(
      nextProgressiveAction(plan.steps, [injected], t0 + 4000),
    ).toMatchObject({ kind: 'hold', remainingMs: 6000 });
    expect(
      nextProgressiveAction(plan.steps, [injected], t0 + 10_000),
    ).toMatchObject({ kind: 'pass', step: { index: 0 } });
    expect(
      nextProgressiveAction(
        plan.steps,
        [{ index: 0, startedAt: at(0), result: 'Passed' }],
        t0,
      ),
    ).toMatchObject({
      kind: 'widen',
      step: { index: 1, targetCount: 3, newTargets: 2 },
    });
    expect(
      nextProgressiveAction(
        plan.steps,
        [
          { index: 0, startedAt: at(0), result: 'Passed' },
          { index: 1, startedAt: at(10), result: 'Passed' },
        ],
        t0,
      ),
    ).toEqual({ kind: 'complete' });
    expect(
      nextProgressiveAction(
        plan.steps,
        [{ index: 0, startedAt: at(0), result: 'Failed' }],
        t0,
      ),
    ).toMatchObject({
      kind: 'stopped',
      step: { index: 0 },
    });
  });

  it("starts a step's hold when its targets are injected, not when it was recorded", () => {
    // Recorded at 0 s, faults in at 7 s (a slow node daemon): at 12 s the 10 s hold has 5 s left.
    expect(
      nextProgressiveAction(
        plan.steps,
        [{ index: 0, startedAt: at(0), result: 'Running' }],
        t0 + 60_000,
      ),
    ).toMatchObject({
      kind: 'injecting',
      step: { index: 0 },
    });
    expect(
      nextProgressiveAction(
        plan.steps,
        [{ index: 0, startedAt: at(0), injectedAt: at(7), result: 'Running' }],
        t0 + 12_000,
      ),
    ).toMatchObject({ kind: 'hold', remainingMs: 5000 });
  });
});

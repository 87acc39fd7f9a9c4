import {
  hypothesisSchema,
  type Probe,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  SteadyStateProbes,
  type ProbeCheck,
  type ProbeChecker,
} from '../probes';
import { setTimeout as sleep } from 'node:timers/promises';
import { HypothesisMonitor } from './monitor';

/** A k8s-typed checker whose answers the test scripts, one per check, per probe name. */
class ScriptedChecker implements ProbeChecker {
  readonly type = 'k8s' as const;
  readonly calls: string[] = [];
  constructor(
    private readonly script: (name: string, call: number) => ProbeCheck,
  ) {}
  async check(probe: Probe): Promise<ProbeCheck> {
    this.calls.push(probe.name);
    const n = this.calls.filter(c => c === probe.name).length;
    return this.script(probe.name, n);
  }
}

function monitorWith(
  script: (name: string, call: number) => ProbeCheck,
  overrides: Record<string, unknown> = {},
) {
  const checker = new ScriptedChecker(script);
  const hypothesis = hypothesisSchema.parse({
    interval: '20ms',
    failureThreshold: 3,
    recoveryTimeout: '200ms',
    probes: [
      {
        type: 'k8s',
        name: 'available',
        deployment: 'web',
        minAvailableRatio: 0.5,
      },
      { type: 'k8s', name: 'other', deployment: 'db', minAvailableRatio: 0.9 },
    ],
    ...overrides,
  });
  const monitor = new HypothesisMonitor({
    hypothesis,
    context: { namespace: 'n' },
    probes: new SteadyStateProbes({ checkers: [checker] }),
  });
  return { monitor, checker };
}

const healthy: ProbeCheck = { ok: true, value: 1 };

describe('HypothesisMonitor', () => {
  it('refuses before injection, naming each failing probe with its value and bound', async () => {
    const { monitor } = monitorWith(name =>
      name === 'available'
        ? { ok: false, value: 0.25 }
        : { ok: false, error: 'Deployment n/db not found' },
    );
    const before = await monitor.checkBefore();
    expect(before.holds).toBe(false);
    expect(before.message).toBe(
      'steady state does not hold before injection: available (k8s) = 0.25, must be >= 0.5; ' +
        'other (k8s), must be >= 0.9: Deployment n/db not found',
    );
    expect(
      monitor.conclude({ kind: 'refused', judgement: before }),
    ).toMatchObject({
      verdict: 'Refused',
      reason: 'SteadyStateNotMet',
    });
    expect(monitor.results().map(r => r.verdict)).toEqual(['Failed', 'Failed']);
  });

  it('aborts after failureThreshold consecutive failures, not before, and says where it began', async () => {
    // "available": ok, fail, ok (resets), fail, fail, fail -> violation at its 6th check.
    const pattern = [true, false, true, false, false, false];
    const { monitor, checker } = monitorWith((name, call) =>
      name === 'available' && !pattern[call - 1]
        ? { ok: false, value: 0.25 }
        : healthy,
    );
    const watch = monitor.watch();
    const violation = await watch.violation;
    await watch.stop();
    expect(monitor.violation).toBe(violation);
    expect(violation).toMatchObject({
      probe: 'available',
      type: 'k8s',
      value: 0.25,
      comparison: '>=',
      threshold: 0.5,
      consecutiveFailures: 3,
      message:
        'probe available (k8s) failed: 0.25, must be >= 0.5 (3 consecutive failed checks)',
    });
    expect(checker.calls.filter(c => c === 'available')).toHaveLength(6);
    const result = monitor.results()[0];
    expect(result.consecutiveFailures).toBe(3);
    expect(violation!.since).toBe(Date.parse(result.samples[3].time));
    expect(violation!.detectedAt).toBeGreaterThanOrEqual(violation!.since);
  });

  it('checks every interval while it watches, finds nothing when nothing fails, and stops when told', async () => {
    const { monitor, checker } = monitorWith(() => healthy);
    const watch = monitor.watch();
    await sleep(200);
    await watch.stop();
    expect(await watch.violation).toBeUndefined();
    expect(monitor.violation).toBeUndefined();
    const rounds = checker.calls.filter(c => c === 'available').length;
    await sleep(60);
    expect(checker.calls.filter(c => c === 'available')).toHaveLength(rounds);
    expect(rounds).toBeGreaterThanOrEqual(5);
    expect(rounds).toBeLessThanOrEqual(12);
  });

  it('waits for recovery within recoveryTimeout and concludes', async () => {
    const { monitor } = monitorWith((_name, call) =>
      call < 3 ? { ok: false, value: 0 } : healthy,
    );
    const recovery = await monitor.awaitRecovery();
    expect(recovery.holds).toBe(true);
    expect(recovery.recoveredAfterMs).toBeGreaterThanOrEqual(35);
    expect(monitor.conclude({ kind: 'completed' }, recovery)).toMatchObject({
      verdict: 'Passed',
      reason: 'SteadyStateHeld',
    });
    expect(monitor.results().map(r => r.verdict)).toEqual(['Passed', 'Passed']);
  });

  it('fails the verdict when steady state does not come back in time', async () => {
    const { monitor } = monitorWith(name =>
      name === 'other' ? { ok: false, value: 0.5 } : healthy,
    );
    const started = Date.now();
    const recovery = await monitor.awaitRecovery();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(recovery.holds).toBe(false);
    expect(recovery.message).toMatch(
      /did not recover within 0.2 s: other \(k8s\) = 0.5, must be >= 0.9/,
    );
    expect(monitor.conclude({ kind: 'completed' }, recovery)).toMatchObject({
      verdict: 'Failed',
      reason: 'SteadyStateNotRecovered',
    });
    expect(monitor.results().map(r => r.verdict)).toEqual(['Passed', 'Failed']);
  });

  it('only checks each probe at the moments its checkAt names', async () => {
    const checker = new ScriptedChecker(() => healthy);
    const monitor = new HypothesisMonitor({
      hypothesis: hypothesisSchema.parse({
        interval: '10ms',
        probes: [
          {
            type: 'k8s',
            name: 'pre',
            deployment: 'a',
            minAvailableRatio: 1,
            checkAt: ['before'],
          },
          {
            type: 'k8s',
            name: 'live',
            deployment: 'b',
            minAvailableRatio: 1,
            checkAt: ['during'],
          },
        ],
      }),
      context: { namespace: 'n' },
      probes: new SteadyStateProbes({ checkers: [checker] }),
    });
    await monitor.checkBefore();
    const watch = monitor.watch();
    await sleep(30);
    await watch.stop();
    await monitor.awaitRecovery();
    expect(new Set(checker.calls.slice(0, 1))).toEqual(new Set(['pre']));
    expect(checker.calls.slice(1).every(c => c === 'live')).toBe(true);
  });
});

import type {
  ProbeResult,
  TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { fitStatusBudget } from './budget';
import { normalizeStatus } from './records';

const T = '2031-01-01T00:00:00.000Z';

function bigStatus(targets: number, probes: number) {
  const records: TargetRecord[] = Array.from({ length: targets }, (_, i) => ({
    pod: `checkout-${i}`,
    uid: `uid-${i}`,
    node: 'node-1',
    fault: 'network-loss',
    phase: 'Injected',
    events: Array.from({ length: 10 }, (__, e) => ({
      time: T,
      reason: `Event${e}`,
      message: 'x'.repeat(900),
    })),
  }));
  const results: ProbeResult[] = Array.from({ length: probes }, (_, p) => ({
    name: `probe-${p}`,
    type: 'http',
    verdict: 'Passed',
    consecutiveFailures: 0,
    samples: Array.from({ length: 120 }, (__, n) => ({
      time: T,
      phase: 'during' as const,
      value: n,
      ok: true,
      error: 'e'.repeat(400),
    })),
  }));
  return normalizeStatus({
    phase: 'Running',
    targets: records,
    probes: results,
  });
}

describe('fitStatusBudget', () => {
  it('leaves a small status alone', () => {
    const status = bigStatus(3, 1);
    const before = JSON.stringify(status);
    expect(fitStatusBudget(status)).toBe(true);
    expect(JSON.stringify(status)).toBe(before);
    expect(status.dropped).toBeUndefined();
  });

  it('drops the oldest events and samples first, counts them, and keeps every record', () => {
    // 500 targets x 10 events of ~1 KB, 20 probes x 120 samples: about 6 MiB.
    const status = bigStatus(500, 20);
    expect(Buffer.byteLength(JSON.stringify(status))).toBeGreaterThan(
      5 * 1024 * 1024,
    );
    expect(fitStatusBudget(status)).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(status))).toBeLessThanOrEqual(
      1024 * 1024,
    );
    expect(status.targets).toHaveLength(500);
    expect(status.probes).toHaveLength(20);
    // The newest survive.
    expect(status.targets[0].events.at(-1)?.reason).toBe('Event9');
    expect(status.probes[0].samples.at(-1)?.value).toBe(119);
    const keptEvents = status.targets.reduce((n, r) => n + r.events.length, 0);
    const keptSamples = status.probes.reduce((n, p) => n + p.samples.length, 0);
    expect(status.dropped!.targetEvents + keptEvents).toBe(5000);
    expect(status.dropped!.probeSamples + keptSamples).toBe(2400);
  });

  it('says when even the records alone do not fit', () => {
    const status = bigStatus(200, 0);
    expect(fitStatusBudget(status, 10_000)).toBe(false);
    expect(status.targets.every(r => r.events.length === 0)).toBe(true);
  });
});

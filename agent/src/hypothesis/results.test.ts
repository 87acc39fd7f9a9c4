import { MAX_PROBE_SAMPLES } from '@chaoscraft/backstage-plugin-chaos-common';
import { ProbeRecord } from './results';

const probe = {
  type: 'promql' as const,
  name: 'error-rate',
  checkAt: ['before' as const, 'during' as const, 'after' as const],
  query: 'x',
  comparison: '<' as const,
  threshold: 0.05,
};

describe('ProbeRecord', () => {
  it(`keeps only the last ${MAX_PROBE_SAMPLES} samples`, () => {
    const record = new ProbeRecord(probe);
    for (let i = 0; i < MAX_PROBE_SAMPLES + 30; i++) {
      record.record('during', { ok: true, value: i }, i * 1000);
    }
    const { samples } = record.toStatus();
    expect(samples).toHaveLength(MAX_PROBE_SAMPLES);
    expect(samples[0].value).toBe(30);
    expect(samples[samples.length - 1].value).toBe(MAX_PROBE_SAMPLES + 29);
  });

  it('counts consecutive failures during the run and remembers where the violation began', () => {
    const record = new ProbeRecord(probe);
    record.record('during', { ok: false, value: 0.2 }, 1000);
    record.record('during', { ok: false, value: 0.3 }, 2000);
    expect(record.consecutiveFailures).toBe(2);
    expect(record.violationSince).toBe(1000);
    record.record('during', { ok: true, value: 0.01 }, 3000);
    expect(record.consecutiveFailures).toBe(0);
    expect(record.violationSince).toBeUndefined();
    // A pending sample (inside `for`) starts the violation without counting as a failure.
    record.record('during', { ok: true, value: 0.2, pending: true }, 4000);
    record.record('during', { ok: false, value: 0.2 }, 5000);
    expect(record.consecutiveFailures).toBe(1);
    expect(record.violationSince).toBe(4000);
  });

  it('does not let before and after samples move the streak', () => {
    const record = new ProbeRecord(probe);
    record.record('before', { ok: false, value: 0.2 }, 1000);
    record.record('after', { ok: false, value: 0.2 }, 2000);
    expect(record.consecutiveFailures).toBe(0);
  });

  it('writes the status shape, with error text capped and non-finite values left out', () => {
    const record = new ProbeRecord(probe);
    record.record('before', { ok: false, error: 'x'.repeat(600) }, 0);
    record.record('during', { ok: false, value: Infinity }, 1000);
    expect(record.toStatus()).toEqual({
      name: 'error-rate',
      type: 'promql',
      comparison: '<',
      threshold: 0.05,
      verdict: 'Unknown',
      consecutiveFailures: 1,
      samples: [
        {
          time: '1970-01-01T00:00:00.000Z',
          phase: 'before',
          ok: false,
          error: 'x'.repeat(512),
        },
        { time: '1970-01-01T00:00:01.000Z', phase: 'during', ok: false },
      ],
    });
    expect(record.describeLatest()).toBe('error-rate (promql), must be < 0.05');
  });
});

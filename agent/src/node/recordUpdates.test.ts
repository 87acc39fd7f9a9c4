import type { TargetRecord } from '@chaoscraft/backstage-plugin-chaos-common';
import { applyRecordUpdates } from '@chaoscraft/backstage-plugin-chaos-node';
import { outcomeUpdate } from './recordUpdates';

describe('outcomeUpdate', () => {
  const injected = {
    phase: 'Injected' as const,
    reason: 'Injected',
    message: 'partitioned',
    eventType: 'Normal' as const,
  };
  const record = (phase: TargetRecord['phase']): TargetRecord => ({
    pod: 'web-1',
    uid: 'u1',
    fault: 'network-partition',
    phase,
    events: [],
  });

  it('stamps a record the daemon saw waiting, and leaves one already Injected as it was', () => {
    const fresh = [record('Selected')];
    // The daemon's first pass: the record waits for it.
    const first = outcomeUpdate(record('Selected'), injected);
    expect(
      applyRecordUpdates(fresh, [first], undefined, '2030-01-01T00:00:00.000Z'),
    ).toBe(true);
    expect(fresh[0].injectedAt).toBe('2030-01-01T00:00:00.000Z');
    // A second pass on a stale copy (still Selected in the daemon's cache): no second stamp.
    const again = outcomeUpdate(record('Selected'), injected);
    expect(
      applyRecordUpdates(fresh, [again], undefined, '2030-01-01T00:00:00.020Z'),
    ).toBe(false);
    expect(fresh[0].injectedAt).toBe('2030-01-01T00:00:00.000Z');
    expect(fresh[0].events).toHaveLength(1);
  });

  it('re-stamps a record it saw Injected but holds nothing for (a restarted daemon re-applying)', () => {
    const fresh = [
      { ...record('Injected'), injectedAt: '2030-01-01T00:00:00.000Z' },
    ];
    const update = outcomeUpdate(fresh[0], injected);
    expect(
      applyRecordUpdates(
        fresh,
        [update],
        undefined,
        '2030-01-01T00:01:00.000Z',
      ),
    ).toBe(true);
    expect(fresh[0].injectedAt).toBe('2030-01-01T00:01:00.000Z');
  });
});

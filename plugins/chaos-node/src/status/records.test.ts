import type { TargetRecord } from '@chaoscraft/backstage-plugin-chaos-common';
import { applyRecordUpdates, sameTarget } from './records';

const NOW = '2030-01-01T00:00:30.000Z';

describe('applyRecordUpdates', () => {
  const records = (): TargetRecord[] => [
    {
      pod: 'p',
      uid: 'u1',
      node: 'n1',
      fault: 'network-loss',
      phase: 'Selected',
      events: [],
    },
    {
      pod: 'p',
      uid: 'u1',
      node: 'n2',
      fault: 'network-loss',
      phase: 'Selected',
      events: [],
    },
    {
      pod: 'p',
      uid: 'u1',
      node: 'n1',
      fault: 'pod-kill',
      phase: 'Selected',
      events: [],
    },
  ];
  const onN1Network = (record: TargetRecord) =>
    record.node === 'n1' && record.fault.startsWith('network-');
  const injected = (reason = 'Injected') => ({
    pod: 'p',
    uid: 'u1',
    fault: 'network-loss' as const,
    phase: 'Injected' as const,
    reason,
    message: 'ok',
  });

  it('touches only the records the writer owns, and caps events', () => {
    const rs = records();
    expect(applyRecordUpdates(rs, [injected()], onN1Network, NOW)).toBe(true);
    expect(rs.map(r => r.phase)).toEqual(['Injected', 'Selected', 'Selected']);
    expect(rs[0].injectedAt).toBe(NOW);
    for (let i = 0; i < 15; i++)
      applyRecordUpdates(rs, [injected(`R${i}`)], onN1Network, NOW);
    expect(rs[0].events).toHaveLength(10);
    expect(rs[0].events.at(-1)?.reason).toBe('R14');
  });

  it('respects onlyFrom', () => {
    const rs = records();
    rs[0].phase = 'Recovered';
    const update = {
      ...injected(),
      phase: 'Recovered' as const,
      onlyFrom: ['Injected' as const],
    };
    expect(applyRecordUpdates(rs, [update], onN1Network, NOW)).toBe(false);
    expect(rs[0].phase).toBe('Recovered');
  });

  it('matches a record by pod, fault and uid: a same-named replacement pod is another target', () => {
    const rs = records();
    expect(
      applyRecordUpdates(rs, [{ ...injected(), uid: 'u2' }], onN1Network, NOW),
    ).toBe(false);
    expect(
      sameTarget(rs[0], { pod: 'p', uid: 'u1', fault: 'network-loss' }),
    ).toBe(true);
    expect(
      sameTarget(rs[0], { pod: 'p', uid: 'u2', fault: 'network-loss' }),
    ).toBe(false);
  });

  it('clears recoveredAt when a fault is injected again', () => {
    const rs = records();
    rs[0].phase = 'Recovering';
    rs[0].recoveredAt = NOW;
    applyRecordUpdates(
      rs,
      [injected()],
      onN1Network,
      '2030-01-01T00:01:00.000Z',
    );
    expect(rs[0].recoveredAt).toBeUndefined();
    expect(rs[0].injectedAt).toBe('2030-01-01T00:01:00.000Z');
  });
});

import { formatZodIssues } from '../validation';
import { experimentSpecSchema } from './experiment';

const base = {
  name: 'x',
  entityRef: 'component:default/checkout',
  target: { namespace: 'shop', labelSelector: { app: 'checkout' } },
  faults: [{ type: 'pod-kill' }],
};
const fields = (body: object) => {
  const result = experimentSpecSchema.safeParse(body);
  return result.success ? [] : formatZodIssues(result.error).map(i => i.field);
};

describe('bounds of the experiment model', () => {
  it('bounds the cidrs × ports product, each list, and the device name', () => {
    const cidrs = Array.from({ length: 10 }, (_, i) => `10.0.${i}.0/24`);
    const ports = Array.from({ length: 10 }, (_, i) => 8000 + i);
    expect(
      fields({
        ...base,
        faults: [
          {
            type: 'network-loss',
            lossPercent: 5,
            destinations: { cidrs, ports },
          },
        ],
      }),
    ).toEqual(['faults.0.destinations']);
    expect(
      fields({
        ...base,
        faults: [
          {
            type: 'network-loss',
            lossPercent: 5,
            destinations: {
              cidrs: cidrs.slice(0, 8),
              ports: ports.slice(0, 8),
            },
          },
        ],
      }),
    ).toEqual([]);
    expect(
      fields({
        ...base,
        faults: [
          {
            type: 'network-loss',
            lossPercent: 5,
            destinations: { cidrs: Array(33).fill('10.0.0.0/8') },
          },
        ],
      }),
    ).toContain('faults.0.destinations.cidrs');
    for (const device of ['eth0;reboot', 'a b', '../x', '..', 'eth0$(id)']) {
      expect(
        fields({
          ...base,
          faults: [{ type: 'network-loss', lossPercent: 5, device }],
        }),
      ).toEqual(['faults.0.device']);
    }
    expect(
      fields({
        ...base,
        faults: [{ type: 'network-loss', lossPercent: 5, device: 'eth0.100' }],
      }),
    ).toEqual([]);
    expect(
      fields({
        ...base,
        faults: [
          {
            type: 'network-loss',
            lossPercent: 5,
            destinations: { cidrs: ['999.0.0.0/8'] },
          },
        ],
      }),
    ).toEqual(['faults.0.destinations.cidrs.0']);
  });

  it('bounds durations, selector size and counts', () => {
    expect(fields({ ...base, duration: '99999999999999999999h' })).toContain(
      'duration',
    );
    expect(fields({ ...base, duration: '169h' })).toEqual(['duration']);
    expect(
      fields({
        ...base,
        target: {
          ...base.target,
          labelSelector: Object.fromEntries(
            Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']),
          ),
        },
      }),
    ).toEqual(['target.labelSelector']);
    expect(
      fields({
        ...base,
        target: { ...base.target, selection: { mode: 'fixed', count: 1e9 } },
      }),
    ).toEqual(['target.selection.count']);
  });
});

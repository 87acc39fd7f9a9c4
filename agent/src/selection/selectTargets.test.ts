import { CandidatePod } from './candidates';
import { computeBlastRadius, exceedsLimit } from './blastRadius';
import { plannedCount, selectTargets } from './selectTargets';

function pods(
  count: number,
  overrides: Partial<CandidatePod> = {},
): CandidatePod[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `web-${String(i).padStart(3, '0')}`,
    uid: `uid-${i}`,
    node: `node-${i % 3}`,
    phase: 'Running',
    deleting: false,
    labels: { app: 'web' },
    ...overrides,
  }));
}

describe('plannedCount', () => {
  it('takes one, a fixed count capped at eligible, or the ceiling of a percentage', () => {
    expect(plannedCount({ mode: 'one' }, 10)).toBe(1);
    expect(plannedCount({ mode: 'fixed', count: 4 }, 10)).toBe(4);
    expect(plannedCount({ mode: 'fixed', count: 40 }, 10)).toBe(10);
    expect(plannedCount({ mode: 'percent', percent: 30 }, 10)).toBe(3);
    expect(plannedCount({ mode: 'percent', percent: 25 }, 10)).toBe(3);
    expect(plannedCount({ mode: 'percent', percent: 1 }, 10)).toBe(1);
    expect(plannedCount({ mode: 'percent', percent: 100 }, 7)).toBe(7);
    expect(plannedCount({ mode: 'percent', percent: 5 }, 40)).toBe(2);
    expect(plannedCount({ mode: 'percent', percent: 5 }, 41)).toBe(3);
  });

  it('is not fooled by floating point (7% of 100 is 7, not 8)', () => {
    expect(plannedCount({ mode: 'percent', percent: 7 }, 100)).toBe(7);
    expect(plannedCount({ mode: 'percent', percent: 0.07 * 100 }, 100)).toBe(7);
  });

  it('selects nothing when nothing is eligible', () => {
    expect(plannedCount({ mode: 'one' }, 0)).toBe(0);
    expect(plannedCount({ mode: 'percent', percent: 50 }, 0)).toBe(0);
  });
});

describe('selectTargets', () => {
  it('only picks Running pods that are not being deleted', () => {
    const candidates = [
      ...pods(3),
      { ...pods(1)[0], name: 'pending', phase: 'Pending' },
      { ...pods(1)[0], name: 'terminating', deleting: true },
    ];
    const result = selectTargets(
      candidates,
      { mode: 'percent', percent: 100 },
      1,
    );
    expect(result.eligible).toBe(3);
    expect(result.selected.map(p => p.name)).toEqual([
      'web-000',
      'web-001',
      'web-002',
    ]);
  });

  it('is reproducible with a seed, whatever order the pods were listed in', () => {
    const listed = pods(50);
    const a = selectTargets(listed, { mode: 'fixed', count: 5 }, 1234);
    const b = selectTargets(
      [...listed].reverse(),
      { mode: 'fixed', count: 5 },
      1234,
    );
    expect(a.selected.map(p => p.name)).toEqual(b.selected.map(p => p.name));
    expect(a.seed).toBe(1234);
  });

  it('picks differently with different seeds and spreads over the set', () => {
    const listed = pods(50);
    const picks = new Set(
      Array.from(
        { length: 20 },
        (_, seed) =>
          selectTargets(listed, { mode: 'one' }, seed).selected[0].name,
      ),
    );
    expect(picks.size).toBeGreaterThan(5);
  });

  it('returns the selection sorted by name and without duplicates', () => {
    const result = selectTargets(pods(20), { mode: 'fixed', count: 10 }, 99);
    const names = result.selected.map(p => p.name);
    expect(new Set(names).size).toBe(10);
    expect([...names].sort()).toEqual(names);
  });
});

describe('blast radius', () => {
  it('is selected over eligible in percent, against the limit', () => {
    expect(computeBlastRadius(1, 10, 10)).toEqual({
      selected: 1,
      eligible: 10,
      percent: 10,
      limit: 10,
    });
    expect(computeBlastRadius(1, 3, 50).percent).toBe(33.33);
    expect(computeBlastRadius(0, 0, 10).percent).toBe(0);
  });

  it('rounds the exact ratio half up: 23 of 160 is 14.375%, shown as 14.38 (not 14.37 from float noise)', () => {
    expect(computeBlastRadius(23, 160, 10).percent).toBe(14.38);
    expect(computeBlastRadius(41, 160, 10).percent).toBe(25.63);
    expect(computeBlastRadius(1, 8, 10).percent).toBe(12.5);
    expect(computeBlastRadius(2, 3, 10).percent).toBe(66.67);
  });

  it('allows exactly the limit and refuses above it, without float noise', () => {
    expect(exceedsLimit(computeBlastRadius(1, 10, 10))).toBe(false);
    expect(exceedsLimit(computeBlastRadius(3, 10, 30))).toBe(false);
    expect(exceedsLimit(computeBlastRadius(5, 10, 10))).toBe(true);
    expect(exceedsLimit(computeBlastRadius(1, 5, 10))).toBe(true);
  });
});

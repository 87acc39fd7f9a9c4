import type { TargetRecord } from '@chaoscraft/backstage-plugin-chaos-common';
import type { CandidatePod } from '../../selection/candidates';
import { computeBlastRadius, exceedsLimit } from '../../selection/blastRadius';
import { eligibleAtWidening, pickNewTargets } from './progressive';

const pod = (name: string, createdAt: string): CandidatePod => ({
  name,
  uid: `uid-${name}`,
  node: 'kwok-node-0',
  phase: 'Running',
  deleting: false,
  labels: { app: 'web' },
  createdAt: Date.parse(createdAt),
});

const targeted = (name: string): TargetRecord => ({
  pod: name,
  fault: 'pod-kill',
  phase: 'Injected',
  events: [],
});

describe('pickNewTargets', () => {
  const started = '2026-11-22T10:00:00.700Z';
  const candidates = [
    pod('old-1', '2026-11-22T09:00:00Z'),
    pod('old-2', '2026-11-22T09:00:00Z'),
    pod('old-3', '2026-11-22T09:59:59Z'),
    // Replacements of killed pods: created since the run started, even within its first second.
    pod('new-1', '2026-11-22T10:00:00Z'),
    pod('new-2', '2026-11-22T10:00:05Z'),
  ];

  it('widens only among pods that were there before the run and are not targeted yet', () => {
    const picked = pickNewTargets(
      candidates,
      [targeted('old-1')],
      5,
      7,
      1,
      started,
    );
    expect(picked.selected.map(p => p.name).sort()).toEqual(['old-2', 'old-3']);
  });

  it('draws reproducibly for a seed and step', () => {
    const first = pickNewTargets(candidates, [], 1, 7, 2, started).selected.map(
      p => p.name,
    );
    expect(
      pickNewTargets(candidates, [], 1, 7, 2, started).selected.map(
        p => p.name,
      ),
    ).toEqual(first);
    expect(first[0]).toMatch(/^old-/);
  });

  it('without a start time, only the pods already targeted are left out', () => {
    const picked = pickNewTargets(candidates, [targeted('old-1')], 5, 7, 1);
    expect(picked.selected.map(p => p.name).sort()).toEqual([
      'new-1',
      'new-2',
      'old-2',
      'old-3',
    ]);
  });
});

describe('eligibleAtWidening', () => {
  const started = '2026-11-22T10:00:00.700Z';
  const killed = (name: string): TargetRecord => ({
    ...targeted(name),
    phase: 'Injected',
  });

  it("counts the pods there before the run plus the run's own targets, not their replacements", () => {
    // old-1 was killed (gone from the list); new-1 is its replacement; old-2, old-3 still run.
    const now = [
      pod('old-2', '2026-11-22T09:00:00Z'),
      pod('old-3', '2026-11-22T09:59:59Z'),
      pod('new-1', '2026-11-22T10:00:03Z'),
    ];
    expect(eligibleAtWidening(now, [killed('old-1')], started)).toBe(3);
  });

  it('counts a target still running (a network fault) once', () => {
    const now = [
      pod('old-1', '2026-11-22T09:00:00Z'),
      pod('old-2', '2026-11-22T09:00:00Z'),
    ];
    expect(eligibleAtWidening(now, [killed('old-1')], started)).toBe(2);
  });

  it('leaves out pods that are not Running or are being deleted', () => {
    const now = [
      pod('old-1', '2026-11-22T09:00:00Z'),
      { ...pod('old-2', '2026-11-22T09:00:00Z'), phase: 'Pending' },
      { ...pod('old-3', '2026-11-22T09:00:00Z'), deleting: true },
    ];
    expect(eligibleAtWidening(now, [], started)).toBe(1);
  });

  it('shrinks when the workload is scaled down mid-run, so the cap stops the next widening', () => {
    // Planned: 3 of 10 under 30%. Scaled down to 4 while step 1 (1 pod) held: 3 of 5 is 60%.
    const now = Array.from({ length: 4 }, (_, i) =>
      pod(`old-${i + 2}`, '2026-11-22T09:00:00Z'),
    );
    const eligible = eligibleAtWidening(now, [killed('old-1')], started);
    expect(eligible).toBe(5);
    expect(exceedsLimit(computeBlastRadius(3, eligible, 30))).toBe(true);
    expect(exceedsLimit(computeBlastRadius(3, 10, 30))).toBe(false);
  });
});

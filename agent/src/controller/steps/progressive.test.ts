import type { TargetRecord } from '@chaoscraft/backstage-plugin-chaos-common';
import type { CandidatePod } from '../../selection/candidates';
import { pickNewTargets } from './progressive';

const pod = (name: string, createdAt: string): CandidatePod => ({
  name,
  uid: `uid-${name}`,
  node: 'kwok-node-0',
  phase: 'Running',
  deleting: false,
  labels: { app: 'web' },
  createdAt: Date.parse(createdAt),
});

const targeted = (name: string): TargetRecord => ({ pod: name, fault: 'pod-kill', phase: 'Injected', events: [] });

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
    const picked = pickNewTargets(candidates, [targeted('old-1')], 5, 7, 1, started);
    expect(picked.selected.map(p => p.name).sort()).toEqual(['old-2', 'old-3']);
  });

  it('draws reproducibly for a seed and step', () => {
    const first = pickNewTargets(candidates, [], 1, 7, 2, started).selected.map(p => p.name);
    expect(pickNewTargets(candidates, [], 1, 7, 2, started).selected.map(p => p.name)).toEqual(first);
    expect(first[0]).toMatch(/^old-/);
  });

  it('without a start time, only the pods already targeted are left out', () => {
    const picked = pickNewTargets(candidates, [targeted('old-1')], 5, 7, 1);
    expect(picked.selected.map(p => p.name).sort()).toEqual(['new-1', 'new-2', 'old-2', 'old-3']);
  });
});

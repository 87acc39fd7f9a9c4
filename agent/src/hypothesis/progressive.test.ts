import { planProgressiveSteps, selectionCount } from './progressive';

describe('selectionCount', () => {
  it('rounds percentages up, never below one pod nor above the eligible pods', () => {
    expect(selectionCount({ mode: 'one' }, 40)).toBe(1);
    expect(selectionCount({ mode: 'fixed', count: 3 }, 40)).toBe(3);
    expect(selectionCount({ mode: 'fixed', count: 50 }, 40)).toBe(40);
    expect(selectionCount({ mode: 'percent', percent: 5 }, 40)).toBe(2);
    expect(selectionCount({ mode: 'percent', percent: 5 }, 41)).toBe(3);
    expect(selectionCount({ mode: 'percent', percent: 1 }, 10)).toBe(1);
  });
});

describe('planProgressiveSteps', () => {
  const steps = [
    { selection: { mode: 'one' as const }, hold: '30s' },
    { selection: { mode: 'percent' as const, percent: 5 }, hold: '1m' },
    { selection: { mode: 'percent' as const, percent: 10 }, hold: '500ms' },
  ];

  it('yields cumulative counts, blast radius and holds: 1 pod, then 5%, then 10% of 100', () => {
    const plan = planProgressiveSteps({ eligible: 100, steps, maxBlastRadiusPercent: 10 });
    expect(plan).toEqual({
      ok: true,
      steps: [
        { index: 0, targetCount: 1, newTargets: 1, holdMs: 30_000, blastRadius: { selected: 1, eligible: 100, percent: 1, limit: 10 } },
        { index: 1, targetCount: 5, newTargets: 4, holdMs: 60_000, blastRadius: { selected: 5, eligible: 100, percent: 5, limit: 10 } },
        { index: 2, targetCount: 10, newTargets: 5, holdMs: 500, blastRadius: { selected: 10, eligible: 100, percent: 10, limit: 10 } },
      ],
    });
  });

  it('never narrows: a smaller later selection keeps the earlier count', () => {
    const plan = planProgressiveSteps({
      eligible: 30,
      steps: [
        { selection: { mode: 'fixed', count: 3 }, hold: '1s' },
        { selection: { mode: 'one' }, hold: '1s' },
      ],
      maxBlastRadiusPercent: 20,
    });
    expect(plan.ok && plan.steps.map(s => [s.targetCount, s.newTargets])).toEqual([
      [3, 3],
      [3, 0],
    ]);
    expect(plan.ok && plan.steps[0].blastRadius.percent).toBe(10);
  });

  it('refuses a plan whose step would pass the blast-radius limit, naming the step', () => {
    const plan = planProgressiveSteps({ eligible: 12, steps, maxBlastRadiusPercent: 10 });
    expect(plan).toEqual({
      ok: false,
      reason: 'BlastRadiusExceeded',
      message: 'progressive step 3 would disrupt 2 of 12 eligible pods (16.67%), above the 10% limit',
    });
  });

  it('refuses when nothing is eligible', () => {
    expect(planProgressiveSteps({ eligible: 0, steps, maxBlastRadiusPercent: 10 })).toMatchObject({
      ok: false,
      reason: 'NoEligibleTargets',
    });
  });
});

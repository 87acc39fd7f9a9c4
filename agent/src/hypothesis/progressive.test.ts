import type { CandidatePod } from '../selection/candidates';
import { computeBlastRadius, exceedsLimit } from '../selection/blastRadius';
import { plannedCount, selectTargets } from '../selection/selectTargets';
import { checkBlastRadius } from '../safety/preflight';
import { planProgressiveSteps } from './progressive';

const pods = (count: number): CandidatePod[] =>
  Array.from({ length: count }, (_, i) => ({
    name: `web-${String(i).padStart(3, '0')}`,
    uid: `uid-${i}`,
    phase: 'Running',
    deleting: false,
    labels: { app: 'web' },
  }));

describe('planProgressiveSteps', () => {
  const steps = [
    { selection: { mode: 'one' as const }, hold: '30s' },
    { selection: { mode: 'percent' as const, percent: 5 }, hold: '1m' },
    { selection: { mode: 'percent' as const, percent: 10 }, hold: '500ms' },
  ];

  it('yields cumulative counts, blast radius and holds: 1 pod, then 5%, then 10% of 100', () => {
    const plan = planProgressiveSteps({
      eligible: 100,
      steps,
      maxBlastRadiusPercent: 10,
    });
    expect(plan).toEqual({
      ok: true,
      steps: [
        {
          index: 0,
          targetCount: 1,
          newTargets: 1,
          holdMs: 30_000,
          blastRadius: { selected: 1, eligible: 100, percent: 1, limit: 10 },
        },
        {
          index: 1,
          targetCount: 5,
          newTargets: 4,
          holdMs: 60_000,
          blastRadius: { selected: 5, eligible: 100, percent: 5, limit: 10 },
        },
        {
          index: 2,
          targetCount: 10,
          newTargets: 5,
          holdMs: 500,
          blastRadius: { selected: 10, eligible: 100, percent: 10, limit: 10 },
        },
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
    expect(
      plan.ok && plan.steps.map(s => [s.targetCount, s.newTargets]),
    ).toEqual([
      [3, 3],
      [3, 0],
    ]);
    expect(plan.ok && plan.steps[0].blastRadius.percent).toBe(10);
  });

  it('refuses a plan whose step would pass the blast-radius limit, naming the step', () => {
    const plan = planProgressiveSteps({
      eligible: 12,
      steps,
      maxBlastRadiusPercent: 10,
    });
    expect(plan).toEqual({
      ok: false,
      reason: 'BlastRadiusExceeded',
      message:
        'progressive step 3 would disrupt 2 of 12 eligible pods (16.67%), above the 10% limit',
    });
  });

  it('refuses when nothing is eligible', () => {
    expect(
      planProgressiveSteps({ eligible: 0, steps, maxBlastRadiusPercent: 10 }),
    ).toMatchObject({
      ok: false,
      reason: 'NoEligibleTargets',
    });
  });
});

/**
 * A progressive step and a plain run must count, measure and cap the same way: the step
 * planner uses the plain run's plannedCount, computeBlastRadius and exceedsLimit.
 */
describe('planProgressiveSteps agrees with a plain run', () => {
  const limit = 100;

  it('counts a percentage as a plain run selects it: 8.8% of 375 pods is 33 (not 34)', () => {
    const selection = { mode: 'percent' as const, percent: 8.8 };
    const plain = selectTargets(pods(375), selection, 1);
    expect(plain.selected).toHaveLength(33);
    expect(plannedCount(selection, 375)).toBe(33);
    const plan = planProgressiveSteps({
      eligible: 375,
      steps: [{ selection, hold: '1s' }],
      maxBlastRadiusPercent: limit,
    });
    expect(plan.ok && plan.steps[0].targetCount).toBe(33);
  });

  it("states a step's blast radius as a plain run's, to the last digit (23 of 160 is 14.375%)", () => {
    const plan = planProgressiveSteps({
      eligible: 160,
      steps: [{ selection: { mode: 'fixed', count: 23 }, hold: '1s' }],
      maxBlastRadiusPercent: limit,
    });
    expect(plan.ok && plan.steps[0].blastRadius).toEqual(
      computeBlastRadius(23, 160, limit),
    );
  });

  it('caps a step as preflight caps a plain run: 1 of 3 pods is over a 33.33% limit', () => {
    const radius = computeBlastRadius(1, 3, 33.33);
    expect(exceedsLimit(radius)).toBe(true);
    expect(checkBlastRadius(radius)).toMatchObject({
      reason: 'BlastRadiusExceeded',
    });
    expect(
      planProgressiveSteps({
        eligible: 3,
        steps: [{ selection: { mode: 'one' }, hold: '1s' }],
        maxBlastRadiusPercent: 33.33,
      }),
    ).toMatchObject({ ok: false, reason: 'BlastRadiusExceeded' });
  });

  it('allows exactly the limit, as exceedsLimit does (3 of 10 under 30%)', () => {
    const plan = planProgressiveSteps({
      eligible: 10,
      steps: [{ selection: { mode: 'percent', percent: 30 }, hold: '1s' }],
      maxBlastRadiusPercent: 30,
    });
    expect(plan).toMatchObject({
      ok: true,
      steps: [{ targetCount: 3, blastRadius: { percent: 30 } }],
    });
  });
});

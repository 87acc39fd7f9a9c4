import {
  chaosRunSpecSchema,
  type AdmissionPlan,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { computeBlastRadius } from '../selection/blastRadius';
import { checkAdmissionPlan } from './planner';

const spec = (percent: number, limit: number) =>
  chaosRunSpecSchema.parse({
    target: {
      namespace: 'shop',
      labelSelector: { app: 'web' },
      selection: { mode: 'percent', percent },
    },
    faults: [{ type: 'pod-kill' }],
    duration: '10s',
    safety: { maxBlastRadiusPercent: limit },
  });

const planOf = (
  selected: number,
  eligible: number,
  limit: number,
): AdmissionPlan => ({
  version: 1,
  targets: Array.from({ length: selected }, (_, i) => ({
    name: `web-${i}`,
    uid: `uid-${i}`,
  })),
  blastRadius: computeBlastRadius(selected, eligible, limit),
  seed: 7,
});

describe('checkAdmissionPlan', () => {
  it('accepts the plan the webhook makes: 8.8% of 375 pods is 33, as selectTargets counts it', () => {
    expect(
      checkAdmissionPlan(spec(8.8, 10), planOf(33, 375, 10), 375, 0),
    ).toBeUndefined();
  });

  it('refuses a plan that takes more than the selection asks for', () => {
    expect(checkAdmissionPlan(spec(8.8, 10), planOf(34, 375, 10), 375, 0)).toBe(
      "the plan selects 34 of 375 pods; the run's selection asks for 33",
    );
  });

  it('refuses a plan over the limit, in integers (1 of 3 is over 33.33%)', () => {
    expect(
      checkAdmissionPlan(spec(30, 33.33), planOf(1, 3, 33.33), 3, 0),
    ).toMatch(/above the limit of 33.33%/);
  });
});

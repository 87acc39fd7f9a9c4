import type { Run } from '@chaoscraft/backstage-plugin-chaos-common';
import { runEndPayload, runPageLink } from './RunEndNotifier';

const run: Run = {
  id: '6f1d2c3e-0000-4000-8000-000000000001',
  experimentId: 'e',
  experimentName: 'loss-30',
  entityRef: 'component:shop/checkout',
  cluster: 'prod',
  namespace: 'shop',
  resourceName: 'loss-30-6f1d2c3e',
  dryRun: false,
  phase: 'Aborted',
  verdict: 'Failed',
  reason: 'HypothesisViolated',
  message: 'error-rate: 0.31 is not < 0.05 three times in a row',
  blastRadius: { selected: 3, eligible: 10, percent: 30, limit: 50 },
  createdBy: 'user:default/alice',
  createdAt: '2031-01-01T00:00:00.000Z',
  updatedAt: '2031-01-01T00:01:00.000Z',
};

describe('the end-of-run notification', () => {
  it("links to the run on the entity's Chaos tab", () => {
    expect(runPageLink(run)).toBe(
      '/catalog/shop/component/checkout/chaos?run=6f1d2c3e-0000-4000-8000-000000000001',
    );
  });

  it('says verdict, blast radius and cause; a failed hypothesis is high severity', () => {
    expect(runEndPayload(run)).toEqual({
      title: 'Chaos run Aborted, Failed: loss-30 on checkout',
      description:
        'Verdict: Failed (Aborted). Blast radius: 3 of 10 pods (30%, limit 50%). HypothesisViolated: error-rate: 0.31 is not < 0.05 three times in a row.',
      link: '/catalog/shop/component/checkout/chaos?run=6f1d2c3e-0000-4000-8000-000000000001',
      severity: 'high',
      topic: 'chaos-run',
      scope: 'chaos-run:6f1d2c3e-0000-4000-8000-000000000001',
    });
    const passed = runEndPayload({
      ...run,
      phase: 'Completed',
      verdict: 'Passed',
      blastRadius: undefined,
      reason: undefined,
      message: undefined,
    });
    expect(passed).toMatchObject({
      severity: 'normal',
      title: 'Chaos run Passed: loss-30 on checkout',
      description:
        'Verdict: Passed (Completed). Blast radius: no pods were selected.',
    });
  });
});

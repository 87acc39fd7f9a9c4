import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  FAULT_TYPES,
  parseApiAnswer,
} from '@chaoscraft/backstage-plugin-chaos-common';
import request from 'supertest';
import { chaosPlugin } from '../../plugin';

jest.setTimeout(60_000);

const component = (name: string, annotations: Record<string, string>) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations },
  spec: { type: 'service', owner: 'team-checkout' },
});

async function startBackend() {
  const { server } = await startTestBackend({
    features: [
      chaosPlugin,
      mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
      mockServices.rootConfig.factory({
        data: {
          permission: { enabled: true },
          chaos: {
            clusters: [
              { name: 'prod', url: 'https://127.0.0.1:59999' },
              { name: 'dev', url: 'https://127.0.0.1:59998' },
            ],
            ceilings: {
              maxBlastRadiusPercent: 40,
              clusters: { prod: { maxBlastRadiusPercent: 20 } },
              allowedFaultTypes: [
                'pod-kill',
                'network-loss',
                'network-bandwidth',
              ],
              maxDuration: '15m',
            },
          },
        },
      }),
      catalogServiceMock.factory({
        entities: [
          component('checkout', {
            'backstage.io/kubernetes-namespace': 'shop',
            'backstage.io/kubernetes-label-selector': 'app=checkout',
            'chaoscraft.io/cluster': 'dev',
            'chaoscraft.io/max-blast-radius-percent': '30',
          }),
          component('payments', {
            'backstage.io/kubernetes-namespace': 'shop',
            'backstage.io/kubernetes-label-selector': 'app=payments',
            'chaoscraft.io/cluster': 'prod',
          }),
          component('legacy', {}),
        ],
      }),
    ],
  });
  return server;
}

describe('GET /score and GET /ceilings', () => {
  it('answers the score of an entity, counting only the allowed fault types', async () => {
    const server = await startBackend();
    const res = await request(server)
      .get('/api/chaos/score')
      .query({ entityRef: 'Component:default/checkout' });
    expect(res.status).toBe(200);
    const score = parseApiAnswer('getResilienceScore', res.body);
    expect(score).toMatchObject({
      entityRef: 'component:default/checkout',
      score: 0,
      fullValueDays: 30,
      zeroValueDays: 90,
    });
    expect(score.faults.map(f => f.type).sort()).toEqual([
      'network-bandwidth',
      'network-loss',
      'pod-kill',
    ]);
    expect(
      score.faults.every(f => f.points === 0 && f.maxPoints === 33.3),
    ).toBe(true);
  });

  it("answers the ceilings of an entity: the operator's, lowered by its cluster and its annotation", async () => {
    const server = await startBackend();
    const checkout = parseApiAnswer(
      'getEntityCeilings',
      (
        await request(server)
          .get('/api/chaos/ceilings')
          .query({ entityRef: 'component:default/checkout' })
      ).body,
    );
    expect(checkout).toMatchObject({
      cluster: 'dev',
      maxBlastRadiusPercent: 30,
      maxDurationMs: 15 * 60_000,
      allowedFaultTypes: ['pod-kill', 'network-loss', 'network-bandwidth'],
    });
    const payments = parseApiAnswer(
      'getEntityCeilings',
      (
        await request(server)
          .get('/api/chaos/ceilings')
          .query({ entityRef: 'component:default/payments' })
      ).body,
    );
    expect(payments).toMatchObject({
      cluster: 'prod',
      maxBlastRadiusPercent: 20,
    });
    expect(FAULT_TYPES.length).toBeGreaterThan(
      payments.allowedFaultTypes.length,
    );
  });

  it.each([
    ['/score', {}, 400, 'entityRef'],
    ['/score', { entityRef: 'checkout' }, 400, 'entityRef'],
    ['/score', { entityRef: 'component:default/nobody' }, 404, 'nobody'],
    ['/ceilings', { entityRef: 'component:default/nobody' }, 404, 'nobody'],
    [
      '/ceilings',
      { entityRef: 'component:default/legacy' },
      400,
      'backstage.io/kubernetes-namespace',
    ],
  ])('%s with %j answers %d naming %s', async (path, query, status, named) => {
    const server = await startBackend();
    const res = await request(server).get(`/api/chaos${path}`).query(query);
    expect(res.status).toBe(status);
    expect(res.body.error.message).toContain(named);
  });
});

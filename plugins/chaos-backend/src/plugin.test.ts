import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { chaosPlugin } from './plugin';
import { chaosComponent } from './__testUtils__/entities';

// The first start of a test backend compiles a lot on a busy machine.
jest.setTimeout(60_000);

const validBody = {
  name: 'kill-one',
  entityRef: 'component:default/checkout',
  target: { namespace: 'shop', labelSelector: { app: 'checkout' } },
  faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
};

async function startBackend(
  result: AuthorizeResult.ALLOW | AuthorizeResult.DENY,
) {
  const auditor = mockServices.auditor.mock();
  const event = { success: jest.fn(), fail: jest.fn() };
  auditor.createEvent.mockResolvedValue(event);
  const { server } = await startTestBackend({
    features: [
      chaosPlugin,
      mockServices.permissions.factory({ result }),
      mockServices.rootConfig.factory({
        data: {
          permission: { enabled: true },
          chaos: {
            clusters: [{ name: 'nowhere', url: 'https://127.0.0.1:59999' }],
          },
        },
      }),
      auditor.factory,
      catalogServiceMock.factory({
        entities: [chaosComponent({ namespace: 'shop', cluster: 'nowhere' })],
      }),
    ],
  });
  return { server, auditor, event };
}

describe('chaos backend plugin', () => {
  it('creates an experiment for an owner, lists it, and audits the write', async () => {
    const { server, auditor, event } = await startBackend(
      AuthorizeResult.ALLOW,
    );
    const created = await request(server)
      .post('/api/chaos/experiments')
      .send(validBody);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.any(String),
      createdBy: 'user:default/mock',
      safety: { maxBlastRadiusPercent: 10, respectPodDisruptionBudgets: true },
    });
    expect(auditor.createEvent).toHaveBeenCalledWith(
      expect.objectContaining({ eventId: 'experiment-create' }),
    );
    expect(event.success).toHaveBeenCalled();

    const list = await request(server)
      .get('/api/chaos/experiments')
      .query({ entityRef: 'Component:default/checkout', limit: 5 });
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ totalCount: 1, offset: 0, limit: 5 });
    expect(list.body.items[0].id).toBe(created.body.id);

    const fetched = await request(server).get(
      `/api/chaos/experiments/${created.body.id}`,
    );
    expect(fetched.body).toEqual(created.body);
  });

  it.each([
    [
      'a missing field',
      { ...validBody, target: { namespace: 'shop' } },
      'labelSelector',
    ],
    [
      'a field of the wrong type',
      {
        ...validBody,
        faults: [{ type: 'network-latency', latencyMs: 'slow' }],
      },
      'latencyMs',
    ],
    [
      'a rule only zod knows',
      {
        ...validBody,
        target: { ...validBody.target, selection: { mode: 'fixed' } },
      },
      'target.selection.count',
    ],
    [
      'an empty selector',
      { ...validBody, target: { namespace: 'shop', labelSelector: {} } },
      'labelSelector',
    ],
    ['a bad entity ref', { ...validBody, entityRef: 'checkout' }, 'entityRef'],
    [
      'two faults of one type',
      { ...validBody, faults: [{ type: 'pod-kill' }, { type: 'pod-kill' }] },
      'faults.1.type',
    ],
  ])(
    'answers 400 naming the field for %s, and stores nothing',
    async (_what, body, field) => {
      const { server } = await startBackend(AuthorizeResult.ALLOW);
      const res = await request(server)
        .post('/api/chaos/experiments')
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.name).toBe('InputError');
      expect(res.body.error.message).toContain(field);
      const list = await request(server).get('/api/chaos/experiments');
      expect(list.body.totalCount).toBe(0);
    },
  );

  it('refuses writes by a non-owner with 403 and writes nothing', async () => {
    const { server, event } = await startBackend(AuthorizeResult.DENY);
    const res = await request(server)
      .post('/api/chaos/experiments')
      .send(validBody);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('only its owners may');
    expect(event.fail).toHaveBeenCalled();
    expect(
      (await request(server).get('/api/chaos/experiments')).body.totalCount,
    ).toBe(0);
  });

  it('updates and deletes, with 404 for an unknown id and 409 for a duplicate name', async () => {
    const { server } = await startBackend(AuthorizeResult.ALLOW);
    const a = await request(server)
      .post('/api/chaos/experiments')
      .send(validBody);
    await request(server)
      .post('/api/chaos/experiments')
      .send({ ...validBody, name: 'kill-two' });

    const dup = await request(server)
      .post('/api/chaos/experiments')
      .send(validBody);
    expect(dup.status).toBe(409);

    const renamed = await request(server)
      .put(`/api/chaos/experiments/${a.body.id}`)
      .send({ ...validBody, duration: '2m' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.duration).toBe('2m');

    const moved = await request(server)
      .put(`/api/chaos/experiments/${a.body.id}`)
      .send({ ...validBody, entityRef: 'component:default/cart' });
    expect(moved.status).toBe(400);

    expect(
      (await request(server).delete(`/api/chaos/experiments/${a.body.id}`))
        .status,
    ).toBe(204);
    expect(
      (await request(server).get(`/api/chaos/experiments/${a.body.id}`)).status,
    ).toBe(404);
    expect(
      (await request(server).delete(`/api/chaos/experiments/${a.body.id}`))
        .status,
    ).toBe(404);
  });

  it('answers 503 and records the run Failed when the cluster cannot be reached at all', async () => {
    const { server } = await startBackend(AuthorizeResult.ALLOW);
    const experiment = await request(server)
      .post('/api/chaos/experiments')
      .send(validBody);
    const run = await request(server)
      .post(`/api/chaos/experiments/${experiment.body.id}/runs`)
      .send({});
    expect(run.status).toBe(503);
    expect(run.body.error.message).toContain(
      'Could not create the ChaosRun in cluster nowhere',
    );
    const runs = await request(server).get('/api/chaos/runs');
    expect(runs.body.items).toEqual([
      expect.objectContaining({ phase: 'Failed', reason: 'ClusterError' }),
    ]);
  });

  it('answers 403 to a non-owner on run and abort, and 404 for unknown runs', async () => {
    const { server } = await startBackend(AuthorizeResult.DENY);
    const run = await request(server)
      .post('/api/chaos/experiments/00000000-0000-0000-0000-000000000000/runs')
      .send({});
    expect(run.status).toBe(404);
    expect((await request(server).get('/api/chaos/runs/nope')).status).toBe(
      404,
    );
    expect(
      (await request(server).post('/api/chaos/runs/nope/abort')).status,
    ).toBe(404);
  });
});

import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { createServiceFactory } from '@backstage/backend-plugin-api';
import type { Entity } from '@backstage/catalog-model';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import knexFactory, { Knex } from 'knex';
import request from 'supertest';
import { chaosPlugin } from './plugin';

/**
 * The authorization holes of issue 12, each as an attacker would try it through the API, on the
 * whole plugin (startTestBackend). The guest belongs to team-checkout: it owns checkout, not
 * payments. Runs against a real cluster are in exploits.test.ts.
 */
jest.setTimeout(60_000);

const GUEST = 'user:default/guest';
const STRANGER = 'user:default/stranger';

function component(
  name: string,
  owner: string,
  annotations: Record<string, string> | undefined,
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      ...(annotations ? { annotations } : {}),
    },
    spec: { type: 'service', owner },
    relations: [{ type: 'ownedBy', targetRef: `group:default/${owner}` }],
  };
}

const entities: Entity[] = [
  component('checkout', 'team-checkout', {
    'backstage.io/kubernetes-namespace': 'chaos-demo',
    'backstage.io/kubernetes-label-selector': 'app=checkout',
    'chaoscraft.io/cluster': 'sandbox',
    'chaoscraft.io/max-blast-radius-percent': '30',
  }),
  component('payments', 'team-payments', {
    'backstage.io/kubernetes-namespace': 'chaos-demo',
    'backstage.io/kubernetes-label-selector': 'app=payments',
    'chaoscraft.io/cluster': 'sandbox',
  }),
  component('legacy-batch', 'team-checkout', undefined),
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: 'guest', namespace: 'default' },
    spec: { memberOf: ['team-checkout'] },
    relations: [{ type: 'memberOf', targetRef: 'group:default/team-checkout' }],
  },
];

/** A catalog that hides payments from everyone but its team, as a catalog policy might. */
function catalogHiding(hidden: string, from: string) {
  const inner = catalogServiceMock({ entities });
  const visible = (ref: string, credentials: any) =>
    !(ref === hidden && credentials?.principal?.userEntityRef === from);
  return createServiceFactory({
    service: catalogServiceRef,
    deps: {},
    factory: () =>
      Object.assign(Object.create(inner), {
        getEntityByRef: async (ref: any, options: any) =>
          visible(String(ref), options?.credentials)
            ? inner.getEntityByRef(ref, options)
            : undefined,
        getEntitiesByRefs: async (req: any, options: any) => {
          const { items } = await inner.getEntitiesByRefs(req, options);
          return {
            items: items.map((e, i) =>
              visible(req.entityRefs[i], options?.credentials) ? e : null,
            ),
          };
        },
      }),
  });
}

async function startBackend(
  options: {
    result?: AuthorizeResult.ALLOW | AuthorizeResult.DENY;
    config?: object;
    catalog?: ReturnType<typeof catalogHiding>;
    knex?: Knex;
  } = {},
) {
  const { server } = await startTestBackend({
    features: [
      chaosPlugin,
      ...(options.knex
        ? [
            mockServices.database.factory({
              knex: options.knex,
              migrations: { skip: false },
            }),
          ]
        : []),
      mockServices.permissions.factory({
        result: options.result ?? AuthorizeResult.ALLOW,
      }),
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.user(GUEST),
      }),
      mockServices.rootConfig.factory({
        data: {
          permission: { enabled: true },
          chaos: {
            clusters: [{ name: 'sandbox', url: 'https://127.0.0.1:59999' }],
          },
          ...options.config,
        },
      }),
      options.catalog ?? catalogServiceMock.factory({ entities }),
    ],
  });
  return server;
}

const checkoutBody = {
  name: 'kill-one',
  entityRef: 'component:default/checkout',
  target: { namespace: 'chaos-demo', labelSelector: { app: 'checkout' } },
  faults: [{ type: 'pod-kill' }],
};

async function count(server: any, path: string, as = GUEST): Promise<number> {
  const res = await request(server)
    .get(path)
    .set('authorization', mockCredentials.user.header(as));
  return res.body.totalCount;
}

describe('targets derive from the entity', () => {
  it('refuses an experiment on checkout that targets payments pods (the exploit), and stores nothing', async () => {
    const server = await startBackend();
    const res = await request(server)
      .post('/api/chaos/experiments')
      .send({
        ...checkoutBody,
        target: { namespace: 'chaos-demo', labelSelector: { app: 'payments' } },
      });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('target.labelSelector');
    expect(await count(server, '/api/chaos/experiments')).toBe(0);
  });

  it("refuses a target in another namespace than the entity's", async () => {
    const server = await startBackend();
    const res = await request(server)
      .post('/api/chaos/experiments')
      .send({
        ...checkoutBody,
        target: {
          namespace: 'kube-system',
          labelSelector: { app: 'checkout' },
        },
      });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('target.namespace');
  });

  it('accepts a narrower selector, and refuses an update that widens it or moves it', async () => {
    const server = await startBackend();
    const created = await request(server)
      .post('/api/chaos/experiments')
      .send({
        ...checkoutBody,
        target: {
          namespace: 'chaos-demo',
          labelSelector: { app: 'checkout', tier: 'web' },
        },
      });
    expect(created.status).toBe(201);
    const widened = await request(server)
      .put(`/api/chaos/experiments/${created.body.id}`)
      .send({
        ...checkoutBody,
        target: { namespace: 'chaos-demo', labelSelector: { tier: 'web' } },
      });
    expect(widened.status).toBe(400);
    expect(widened.body.error.message).toContain('target.labelSelector');
  });

  it('refuses experiments for an entity without the annotations, naming the annotation', async () => {
    const server = await startBackend();
    const res = await request(server)
      .post('/api/chaos/experiments')
      .send({ ...checkoutBody, entityRef: 'component:default/legacy-batch' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(
      'backstage.io/kubernetes-namespace',
    );
  });
});

describe('operator ceilings', () => {
  it("refuses raising the blast radius above the entity's cap (PUT to 50 on a 30% entity)", async () => {
    const server = await startBackend();
    const created = await request(server)
      .post('/api/chaos/experiments')
      .send(checkoutBody);
    expect(created.status).toBe(201);
    const raised = await request(server)
      .put(`/api/chaos/experiments/${created.body.id}`)
      .send({ ...checkoutBody, safety: { maxBlastRadiusPercent: 50 } });
    expect(raised.status).toBe(400);
    expect(raised.body.error.message).toContain('safety.maxBlastRadiusPercent');
  });

  it.each([
    [
      'a probe of the cloud metadata service',
      {
        hypothesis: {
          probes: [
            {
              type: 'http',
              name: 'm',
              url: 'http://169.254.169.254/latest/meta-data/',
            },
          ],
        },
      },
      'hypothesis.probes.0.url',
    ],
    [
      'a probe of loopback',
      {
        hypothesis: {
          probes: [{ type: 'http', name: 'm', url: 'http://[::1]:8080/' }],
        },
      },
      'hypothesis.probes.0.url',
    ],
    [
      'a probe of the cluster API server',
      {
        hypothesis: {
          probes: [
            { type: 'http', name: 'm', url: 'https://127.0.0.1:59999/api' },
          ],
        },
      },
      'hypothesis.probes.0.url',
    ],
    [
      'a probe every 10 ms',
      {
        hypothesis: {
          interval: '10ms',
          probes: [
            {
              type: 'k8s',
              name: 'k',
              deployment: 'checkout',
              minAvailableRatio: 0.5,
            },
          ],
        },
      },
      'hypothesis.interval',
    ],
    [
      '20 probes of 1,000 requests',
      {
        hypothesis: {
          probes: Array.from({ length: 20 }, (_, i) => ({
            type: 'http',
            name: `p${i}`,
            url: 'http://checkout.chaos-demo.svc/',
            requests: 1000,
          })),
        },
      },
      'hypothesis.probes',
    ],
    ['a day-long run', { duration: '24h' }, 'duration'],
    [
      'a fault type the operator does not allow',
      { faults: [{ type: 'cpu-stress' }] },
      'faults.0.type',
    ],
  ])('refuses %s, naming the field', async (_what, extra, field) => {
    const server = await startBackend({
      config: {
        chaos: {
          clusters: [{ name: 'sandbox', url: 'https://127.0.0.1:59999' }],
          ceilings: { allowedFaultTypes: ['pod-kill', 'network-latency'] },
        },
      },
    });
    const res = await request(server)
      .post('/api/chaos/experiments')
      .send({ ...checkoutBody, ...extra });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(field);
    expect(await count(server, '/api/chaos/experiments')).toBe(0);
  });
});

describe('with permission.enabled false the plugin fails closed', () => {
  const open = {
    permission: { enabled: false },
    chaos: { clusters: [{ name: 'sandbox', url: 'https://127.0.0.1:59999' }] },
  };

  it("lets an owner by the catalog's relations write, and nobody else", async () => {
    // What Backstage's permissions service answers when the framework is off: ALLOW to all.
    const server = await startBackend({
      result: AuthorizeResult.ALLOW,
      config: open,
    });
    const own = await request(server)
      .post('/api/chaos/experiments')
      .send(checkoutBody);
    expect(own.status).toBe(201);
    const theirs = await request(server)
      .post('/api/chaos/experiments')
      .send({
        ...checkoutBody,
        entityRef: 'component:default/payments',
        target: { namespace: 'chaos-demo', labelSelector: { app: 'payments' } },
      });
    expect(theirs.status).toBe(403);
    const stranger = await request(server)
      .delete(`/api/chaos/experiments/${own.body.id}`)
      .set('authorization', mockCredentials.user.header(STRANGER));
    expect(stranger.status).toBe(403);
    const service = await request(server)
      .delete(`/api/chaos/experiments/${own.body.id}`)
      .set('authorization', mockCredentials.service.header());
    expect(service.status).toBe(403);
    expect(await count(server, '/api/chaos/experiments')).toBe(1);
  });
});

describe('reads are authorized', () => {
  it('answers 404 for experiments of an entity the caller cannot see, and leaves them out of lists', async () => {
    const server = await startBackend({
      catalog: catalogHiding('component:default/payments', STRANGER),
    });
    const created = await request(server)
      .post('/api/chaos/experiments')
      .set('authorization', mockCredentials.user.header(GUEST))
      .send({
        ...checkoutBody,
        entityRef: 'component:default/payments',
        target: { namespace: 'chaos-demo', labelSelector: { app: 'payments' } },
      });
    expect(created.status).toBe(201);
    const asStranger = (path: string, query: object = {}) =>
      request(server)
        .get(path)
        .query(query)
        .set('authorization', mockCredentials.user.header(STRANGER));
    expect(
      (await asStranger(`/api/chaos/experiments/${created.body.id}`)).status,
    ).toBe(404);
    expect((await asStranger('/api/chaos/experiments')).body.totalCount).toBe(
      0,
    );
    const scoped = await asStranger('/api/chaos/experiments', {
      entityRef: 'component:default/payments',
    });
    expect(scoped.body).toMatchObject({ totalCount: 0 });
    expect(await count(server, '/api/chaos/experiments', GUEST)).toBe(1);
  });

  it('answers 404 when the policy denies chaos.experiment.read', async () => {
    const knex = knexFactory({
      client: 'better-sqlite3',
      connection: ':memory:',
      useNullAsDefault: true,
    });
    try {
      const server = await startBackend({ knex });
      const created = await request(server)
        .post('/api/chaos/experiments')
        .send(checkoutBody);
      expect(created.status).toBe(201);
      expect(
        (await request(server).get(`/api/chaos/experiments/${created.body.id}`))
          .status,
      ).toBe(200);
      const denied = await startBackend({ result: AuthorizeResult.DENY, knex });
      expect(
        (await request(denied).get(`/api/chaos/experiments/${created.body.id}`))
          .status,
      ).toBe(404);
      expect(
        (await request(denied).get('/api/chaos/experiments')).body.totalCount,
      ).toBe(0);
    } finally {
      await knex.destroy();
    }
  });
});

describe('bad ids, offsets and limits', () => {
  it.each([
    ['/api/chaos/experiments/not-a-uuid', 404],
    ['/api/chaos/runs/not-a-uuid', 404],
    ['/api/chaos/experiments?offset=100000000000000000000', 400],
    ['/api/chaos/runs?offset=-1', 400],
    ['/api/chaos/runs?limit=0', 400],
    ['/api/chaos/runs?limit=1000', 400],
    ['/api/chaos/runs?entityRef=%00', 400],
  ])('%s answers %i', async (path, status) => {
    const server = await startBackend();
    const res = await request(server).get(path);
    expect(res.status).toBe(status);
  });

  const cursor = Buffer.from(
    `1700000000000.${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`,
  ).toString('base64url');
  it.each([
    ['/api/chaos/runs?after=not-a-cursor', /after: not a cursor this API gave/],
    [
      `/api/chaos/runs?after=${Buffer.from(
        '1.x; drop table chaos_runs',
      ).toString('base64url')}`,
      /after: not a cursor/,
    ],
    [`/api/chaos/runs?after=${'a'.repeat(200)}`, /after/],
    [`/api/chaos/runs?after=${cursor}&offset=20`, /after: .*leave offset out/],
  ])('%s answers 400 naming after', async (path, message) => {
    const server = await startBackend();
    const res = await request(server).get(path);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
  });

  it('a well-formed cursor pages (empty history: an empty page)', async () => {
    const server = await startBackend();
    const res = await request(server).get(`/api/chaos/runs?after=${cursor}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ items: [], offset: 0, limit: 20 });
    expect(res.body.nextCursor).toBeUndefined();
  });
});

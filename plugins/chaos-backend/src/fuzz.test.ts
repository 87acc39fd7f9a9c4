import {
  TestDatabases,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { applyCrds, OPT_IN } from '@chaoscraft/agent-testkit';
import { useSandboxNamespace } from '@chaoscraft/test-sandbox';
import fc from 'fast-check';
import type { Knex } from 'knex';
import request from 'supertest';
import { chaosPlugin } from './plugin';
import { chaosComponent } from './__testUtils__/entities';
import { sandboxChaosConfig } from './__testUtils__/sandboxConfig';

/**
 * Property-based fuzzing of every endpoint, on SQLite and PostgreSQL: generated bodies (random
 * JSON, and valid bodies with one field replaced or removed), query strings and ids. Whatever
 * comes in, the answer is never a 5xx; a 400 names the field it refuses; and a refused write
 * writes no row. The cluster is the sandbox (runs are created there and stay Pending: no agent
 * runs here), so even valid run requests get a real answer. Prints `fuzz: N requests, 0 5xx`.
 */
jest.setTimeout(300_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });
const sandbox = useSandboxNamespace({ labels: OPT_IN });
const REQUESTS_PER_DATABASE = Number(
  process.env.CHAOSCRAFT_FUZZ_REQUESTS ?? 10_000,
);

/** The requests of one generated round: five writes, six reads and an abort. */
const REQUESTS_PER_ROUND = 12;

const entity = (namespace: string) => chaosComponent({ namespace });

const validBody = (namespace: string, name: string) => ({
  name,
  entityRef: 'component:default/checkout',
  description: 'fuzzed',
  duration: '30s',
  target: {
    namespace,
    labelSelector: { app: 'checkout' },
    selection: { mode: 'percent', percent: 10 },
  },
  faults: [
    { type: 'pod-kill', gracePeriodSeconds: 0 },
    {
      type: 'network-latency',
      latencyMs: 100,
      destinations: { cidrs: ['10.0.0.0/8'], ports: [80] },
    },
  ],
  safety: { maxBlastRadiusPercent: 20, respectPodDisruptionBudgets: true },
  hypothesis: {
    interval: '5s',
    probes: [{ type: 'http', name: 'home', url: 'http://checkout.shop.svc/' }],
  },
  schedule: '0 3 * * 1',
});

type Json = unknown;
const REMOVE = Symbol('remove');
type Path = Array<string | number>;

/** Every path into a JSON value, so a mutation can pick one. */
function paths(value: Json, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [prefix];
  const children = Array.isArray(value)
    ? value.map((v, i) => [i, v] as const)
    : Object.entries(value);
  return [prefix, ...children.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function mutate(
  value: Json,
  path: Path,
  replacement: Json | typeof REMOVE,
): Json {
  if (path.length === 0)
    return replacement === REMOVE ? undefined : replacement;
  const [head, ...rest] = path;
  const copy: any = Array.isArray(value)
    ? [...value]
    : { ...(value as object) };
  const next = mutate(copy[head], rest, replacement);
  if (next === undefined && rest.length === 0) {
    if (Array.isArray(copy)) copy.splice(head as number, 1);
    else delete copy[head];
  } else copy[head] = next;
  return copy;
}

/** Nasty scalars: wrong types, edge numbers, long and odd strings. */
const nasty: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    null,
    true,
    -1,
    0,
    1e308,
    -1e308,
    1.5,
    2 ** 53,
    '',
    ' ',
    '../../etc',
    'eth0;reboot',
    '169.254.169.254',
    'http://169.254.169.254/',
    'http://[::1]/',
    '\u0000',
    '99999999999999999999h',
    '0 0 0 0 0',
    'a'.repeat(5000),
    'component:default/payments',
    'kube-system',
    [],
    {},
    [{}],
    { app: 'payments' },
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

type Body =
  | { kind: 'json'; value: Json; mutated?: Path }
  | { kind: 'raw'; text: string };

const body = (namespace: string): fc.Arbitrary<Body> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.nat(), nasty, fc.boolean(), fc.integer({ min: 0, max: 1e6 }))
        .map(([pick, replacement, remove, n]) => {
          const base = validBody(namespace, `fz-${n}`);
          const all = paths(base).filter(p => p.length > 0 && p[0] !== 'name');
          const path = all[pick % all.length];
          return {
            kind: 'json' as const,
            value: mutate(base, path, remove ? REMOVE : replacement),
            mutated: path,
          };
        }),
    },
    {
      weight: 2,
      arbitrary: fc
        .jsonValue({ maxDepth: 3 })
        .map(value => ({ kind: 'json' as const, value })),
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ maxLength: 80 })
        .map(text => ({ kind: 'raw' as const, text: `{${text}` })),
    },
  );

const id: fc.Arbitrary<string> = fc.oneof(
  fc.uuid(),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '00000000-0000-0000-0000-000000000000',
    "1' OR '1'='1",
    '%00',
    '..',
    'a'.repeat(65),
    '1e400',
  ),
);

const query = fc.record(
  {
    entityRef: fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.constantFrom(
        'component:default/checkout',
        'Component:default/checkout',
        'x',
        ':',
        'a:b/c',
        'a'.repeat(600),
      ),
    ),
    offset: fc.oneof(
      fc.integer({ min: -5, max: 200_000 }).map(String),
      fc.string({ maxLength: 25 }),
      fc.constantFrom('1e20', '100000000000000000000', '0x10', '-0', 'NaN'),
    ),
    limit: fc.oneof(
      fc.integer({ min: -5, max: 500 }).map(String),
      fc.string({ maxLength: 10 }),
    ),
  },
  { requiredKeys: [] },
);

describe.each(databases.eachSupportedId())('fuzz on %s', databaseId => {
  let knex: Knex;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;

  beforeAll(async () => {
    await applyCrds(sandbox.kc);
    knex = await databases.init(databaseId);
    backend = await startTestBackend({
      features: [
        chaosPlugin,
        mockServices.scheduler.factory({ skipTaskRunOnStartup: true }),
        mockServices.database.factory({ knex, migrations: { skip: false } }),
        mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
        mockServices.rootConfig.factory({
          data: await sandboxChaosConfig(),
        }),
        catalogServiceMock.factory({ entities: [entity(sandbox.namespace)] }),
      ],
    });
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it(`answers ${REQUESTS_PER_DATABASE}+ generated requests with no 5xx, naming the field of each 400, writing nothing on a refusal`, async () => {
    const server = backend.server;
    const seeded = await request(server)
      .post('/api/chaos/experiments')
      .send(validBody(sandbox.namespace, 'seed'));
    expect(seeded.status).toBe(201);
    const experimentId: string = seeded.body.id;

    const rows = async () => {
      const [e] = await knex('chaos_experiments').count({ n: '*' });
      const [r] = await knex('chaos_runs').count({ n: '*' });
      const seed = await knex('chaos_experiments')
        .where({ id: experimentId })
        .first('spec', 'updated_at');
      return `${e.n}/${r.n}/${seed?.spec}/${seed?.updated_at}`;
    };

    let sent = 0;
    let serverErrors = 0;
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const record = (
      what: string,
      res: request.Response,
      expectFieldIn?: string[],
    ) => {
      sent += 1;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) {
        serverErrors += 1;
        failures.push(
          `${what} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`,
        );
        return;
      }
      if (res.status === 400 && expectFieldIn) {
        const message = String(res.body?.error?.message ?? '');
        if (!expectFieldIn.some(field => message.includes(field))) {
          failures.push(
            `${what} → 400 not naming any of ${expectFieldIn.join(
              '|',
            )}: ${message.slice(0, 300)}`,
          );
        }
      }
    };

    // Always as JSON text, whatever the value (supertest would send a bare string as a form).
    const send = (req: request.Test, b: Body) =>
      req
        .set('content-type', 'application/json')
        .send(b.kind === 'raw' ? b.text : JSON.stringify(b.value) ?? 'null');
    /** Where a 400 must point: the top field mutated; any field for a wholly random body. */
    const fieldsOf = (b: Body) =>
      b.kind === 'json' && b.mutated
        ? [String(b.mutated[0])]
        : [
            'body',
            '(root)',
            'JSON',
            'json',
            'Unexpected',
            'name',
            'entityRef',
            'target',
            'faults',
            'required',
            'must',
          ];

    const write = async (
      what: string,
      make: () => request.Test,
      b: Body,
      allowed: number[],
      alsoNamed: string[] = [],
    ) => {
      const before = await rows();
      const res = await send(make(), b);
      record(what, res, [...fieldsOf(b), ...alsoNamed]);
      if (res.status >= 400 && (await rows()) !== before)
        failures.push(`${what} → ${res.status} but rows changed`);
      if (!allowed.includes(res.status) && res.status < 500)
        failures.push(`${what} → unexpected ${res.status}`);
    };

    // Each round sends REQUESTS_PER_ROUND requests; the count is checked against `sent` below.
    const rounds = Math.ceil(REQUESTS_PER_DATABASE / REQUESTS_PER_ROUND);
    await fc.assert(
      fc.asyncProperty(
        body(sandbox.namespace),
        body(sandbox.namespace),
        id,
        query,
        query,
        async (b1, b2, someId, q1, q2) => {
          await write(
            'POST /experiments',
            () => request(server).post('/api/chaos/experiments'),
            b1,
            [201, 400, 404, 409, 413],
          );
          await write(
            'PUT /experiments/:seed',
            () => request(server).put(`/api/chaos/experiments/${experimentId}`),
            b2,
            [200, 400, 404, 409, 413],
          );
          await write(
            'PUT /experiments/:random',
            () =>
              request(server).put(
                `/api/chaos/experiments/${encodeURIComponent(someId)}`,
              ),
            b1,
            [200, 400, 404, 409, 413],
            ['id'],
          );
          await write(
            'POST /experiments/:random/runs',
            () =>
              request(server).post(
                `/api/chaos/experiments/${encodeURIComponent(someId)}/runs`,
              ),
            { kind: 'json', value: {} },
            [201, 400, 404, 409],
            ['id'],
          );
          const runBody: Body =
            b2.kind === 'json' &&
            typeof b2.value === 'object' &&
            b2.value !== null &&
            !Array.isArray(b2.value) &&
            Object.keys(b2.value as object).length < 2
              ? b2
              : { kind: 'json', value: { dryRun: true } };
          await write(
            'POST /experiments/:seed/runs',
            () =>
              request(server).post(
                `/api/chaos/experiments/${experimentId}/runs`,
              ),
            {
              ...runBody,
              mutated: runBody.kind === 'json' ? ['dryRun'] : undefined,
            } as Body,
            [201, 400, 409, 413],
          );
          record(
            'GET /experiments',
            await request(server).get('/api/chaos/experiments').query(q1),
            ['entityRef', 'offset', 'limit'],
          );
          record(
            'GET /runs',
            await request(server).get('/api/chaos/runs').query(q2),
            ['entityRef', 'offset', 'limit'],
          );
          record(
            'GET /experiments/:id',
            await request(server).get(
              `/api/chaos/experiments/${encodeURIComponent(someId)}`,
            ),
            ['id'],
          );
          record(
            'GET /runs/:id',
            await request(server).get(
              `/api/chaos/runs/${encodeURIComponent(someId)}`,
            ),
            ['id'],
          );
          record(
            'GET /score',
            await request(server)
              .get('/api/chaos/score')
              .query(
                q1.entityRef === undefined ? {} : { entityRef: q1.entityRef },
              ),
            ['entityRef'],
          );
          record(
            'GET /ceilings',
            await request(server)
              .get('/api/chaos/ceilings')
              .query(
                q2.entityRef === undefined ? {} : { entityRef: q2.entityRef },
              ),
            ['entityRef'],
          );
          const before = await rows();
          const aborted = await request(server).post(
            `/api/chaos/runs/${encodeURIComponent(someId)}/abort`,
          );
          record('POST /runs/:id/abort', aborted, ['id']);
          if (aborted.status >= 400 && (await rows()) !== before)
            failures.push('abort refused but rows changed');
        },
      ),
      {
        numRuns: rounds,
        seed: Number(process.env.CHAOSCRAFT_FUZZ_SEED ?? 12),
        endOnFailure: true,
      },
    );

    // The ids that exist, too: delete refusals for a random id, then the seeded one for real.
    record(
      'DELETE /experiments/:random',
      await request(server).delete('/api/chaos/experiments/not-a-uuid'),
      ['id'],
    );
    record(
      'DELETE /experiments/:seed',
      await request(server).delete(`/api/chaos/experiments/${experimentId}`),
    );

    process.stdout.write(
      `fuzz: ${sent} requests, ${serverErrors} 5xx (${databaseId}; statuses ${JSON.stringify(
        Object.fromEntries(statuses),
      )})\n`,
    );
    expect(sent).toBeGreaterThanOrEqual(REQUESTS_PER_DATABASE);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(serverErrors).toBe(0);
  });
});

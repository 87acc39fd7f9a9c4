import {
  TestDatabases,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { useSandboxNamespace } from '@chaoscraft/test-sandbox';
import { OPT_IN, applyCrds } from '@chaoscraft/agent-testkit';
import {
  CHAOS_GROUP,
  CHAOS_RUN,
  CHAOS_VERSION,
  ChaosBackendClient,
  type ChaosBackendResponse,
  type ChaosApiAnswer,
  type ChaosApiOperation,
  type ErrorResponse,
  type ExperimentSpecInput,
  errorResponseSchema,
  parseApiAnswer,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { chaosPlugin } from '../plugin';
import { chaosComponent } from '../__testUtils__/entities';
import { sandboxChaosConfig } from '../__testUtils__/sandboxConfig';

/**
 * The API contract, end to end: the client generated from openapi.yaml (the one the frontend
 * uses) against the real router, with the plugin on SQLite behind a real HTTP server and the
 * local Kubernetes sandbox as its cluster. Every answer is checked exactly against the model's
 * schema of its operation, and every error against the error body's schema.
 */
jest.setTimeout(120_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const sandbox = useSandboxNamespace({ labels: OPT_IN });

const ENTITY_REF = 'component:default/checkout';

/** A component whose pods are `app=checkout` in `namespace` of the sandbox cluster. */
const component = (name: string, namespace: string) =>
  chaosComponent({ name, namespace, selector: 'app=checkout' });

async function startBackend() {
  const knex = await databases.init('SQLITE_3');
  return startTestBackend({
    features: [
      chaosPlugin,
      mockServices.database.factory({ knex, migrations: { skip: false } }),
      mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
      mockServices.rootConfig.factory({
        data: await sandboxChaosConfig(),
      }),
      catalogServiceMock.factory({
        entities: [
          component('checkout', sandbox.namespace),
          component('nowhere', 'no-such-namespace'),
        ],
      }),
    ],
  });
}

/** The body of a success answer, checked against its operation's schema. */
async function answer<O extends ChaosApiOperation>(
  operation: O,
  response: ChaosBackendResponse<unknown>,
  status: number,
): Promise<ChaosApiAnswer<O>> {
  const body = await response.json();
  expect({ operation, status: response.status, body }).toMatchObject({
    operation,
    status,
  });
  return parseApiAnswer(operation, body);
}

/** The body of an error answer, checked against the error body's schema. */
async function failure(
  response: ChaosBackendResponse<unknown>,
  status: number,
  name: string,
): Promise<ErrorResponse> {
  const body = errorResponseSchema.parse(await response.json());
  expect({ status: response.status, name: body.error.name }).toEqual({
    status,
    name,
  });
  expect(body.response.statusCode).toBe(status);
  return body;
}

describe('the generated client against the real router', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let client: ChaosBackendClient;
  const spec = (
    name: string,
    overrides: Partial<ExperimentSpecInput> = {},
  ): ExperimentSpecInput => ({
    name,
    entityRef: ENTITY_REF,
    target: {
      namespace: sandbox.namespace,
      labelSelector: { app: 'checkout' },
    },
    faults: [{ type: 'pod-kill' }],
    ...overrides,
  });
  const chaosRun = (name: string) =>
    sandbox.kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: CHAOS_GROUP,
      version: CHAOS_VERSION,
      plural: CHAOS_RUN.plural,
      namespace: sandbox.namespace,
      name,
    });

  beforeAll(async () => {
    await applyCrds(sandbox.kc);
    backend = await startBackend();
    const port = backend.server.port();
    client = new ChaosBackendClient({
      discoveryApi: {
        getBaseUrl: async pluginId =>
          `http://127.0.0.1:${port}/api/${pluginId}`,
      },
      fetchApi: { fetch },
    });
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it('creates, lists a page of, gets, updates and deletes experiments', async () => {
    const created = await answer(
      'createExperiment',
      await client.createExperiment({ body: spec('kill-one') }),
      201,
    );
    expect(created).toMatchObject({
      name: 'kill-one',
      duration: '60s',
      createdBy: 'user:default/mock',
    });
    await answer(
      'createExperiment',
      await client.createExperiment({ body: spec('kill-two') }),
      201,
    );
    await answer(
      'createExperiment',
      await client.createExperiment({ body: spec('kill-three') }),
      201,
    );
    await failure(
      await client.createExperiment({ body: spec('kill-one') }),
      409,
      'ConflictError',
    );

    const page = await answer(
      'listExperiments',
      await client.listExperiments({
        query: { entityRef: 'Component:default/checkout', offset: 1, limit: 2 },
      }),
      200,
    );
    expect(page).toMatchObject({ totalCount: 3, offset: 1, limit: 2 });
    expect(page.items).toHaveLength(2);
    const tooMany = await failure(
      await client.listExperiments({ query: { limit: 101 } }),
      400,
      'InputError',
    );
    expect(tooMany.error.message).toContain('limit');

    expect(
      await answer(
        'getExperiment',
        await client.getExperiment({ path: { id: created.id } }),
        200,
      ),
    ).toEqual(created);

    const updated = await answer(
      'updateExperiment',
      await client.updateExperiment({
        path: { id: created.id },
        body: spec('kill-one', { duration: '2m' }),
      }),
      200,
    );
    expect(updated).toMatchObject({
      id: created.id,
      duration: '2m',
      createdAt: created.createdAt,
    });
    const moved = await failure(
      await client.updateExperiment({
        path: { id: created.id },
        body: spec('kill-one', { entityRef: 'component:default/cart' }),
      }),
      400,
      'InputError',
    );
    expect(moved.error.message).toContain('entityRef');

    const deleted = await client.deleteExperiment({ path: { id: created.id } });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    await failure(
      await client.getExperiment({ path: { id: created.id } }),
      404,
      'NotFoundError',
    );
    await failure(
      await client.deleteExperiment({ path: { id: created.id } }),
      404,
      'NotFoundError',
    );
  });

  it('starts a dry run and a run, lists them, gets one, and aborts one with an answer that is a Run', async () => {
    const experiment = await answer(
      'createExperiment',
      await client.createExperiment({ body: spec('runs-of-me') }),
      201,
    );

    const dry = await answer(
      'runExperiment',
      await client.runExperiment({
        path: { id: experiment.id },
        body: { dryRun: true },
      }),
      201,
    );
    expect(dry).toMatchObject({
      experimentId: experiment.id,
      dryRun: true,
      phase: 'Pending',
      cluster: 'sandbox',
      namespace: sandbox.namespace,
    });
    const run = await answer(
      'runExperiment',
      await client.runExperiment({ path: { id: experiment.id }, body: {} }),
      201,
    );
    expect(run.dryRun).toBe(false);
    // Both were handed to the cluster as ChaosRuns.
    expect(await chaosRun(dry.resourceName)).toMatchObject({
      spec: { dryRun: true },
    });
    expect(await chaosRun(run.resourceName)).toMatchObject({
      spec: { dryRun: false },
    });
    await failure(
      await client.runExperiment({
        path: { id: 'no-such-experiment' },
        body: {},
      }),
      404,
      'NotFoundError',
    );

    const runs = await answer(
      'listRuns',
      await client.listRuns({ query: { entityRef: ENTITY_REF, limit: 1 } }),
      200,
    );
    expect(runs).toMatchObject({ offset: 0, limit: 1 });
    expect(runs.totalCount).toBeGreaterThanOrEqual(2);
    expect(runs.items).toHaveLength(1);

    const detail = await answer(
      'getRun',
      await client.getRun({ path: { id: run.id } }),
      200,
    );
    expect(detail).toMatchObject({
      id: run.id,
      phase: 'Pending',
      targets: [],
      steps: [],
    });
    expect(detail.timeline.map(e => e.phase)).toEqual(['Pending']);
    await failure(
      await client.getRun({ path: { id: 'no-such-run' } }),
      404,
      'NotFoundError',
    );

    // No agent runs here, so the run stays live: the abort is handed to the cluster.
    const aborted = await answer(
      'abortRun',
      await client.abortRun({ path: { id: run.id } }),
      202,
    );
    expect(aborted).toMatchObject({ id: run.id, phase: 'Pending' });
    expect(await chaosRun(run.resourceName)).toMatchObject({
      spec: { abort: true },
    });
    await failure(
      await client.abortRun({ path: { id: 'no-such-run' } }),
      404,
      'NotFoundError',
    );
  });

  it('answers the score and the ceilings of an entity through the generated client', async () => {
    const score = await answer(
      'getResilienceScore',
      await client.getResilienceScore({ query: { entityRef: ENTITY_REF } }),
      200,
    );
    expect(score).toMatchObject({
      entityRef: ENTITY_REF,
      fullValueDays: 30,
      zeroValueDays: 90,
    });
    expect(score.faults.length).toBeGreaterThan(0);
    await failure(
      await client.getResilienceScore({ query: { entityRef: 'not-a-ref' } }),
      400,
      'InputError',
    );
    const ceilings = await answer(
      'getEntityCeilings',
      await client.getEntityCeilings({ query: { entityRef: ENTITY_REF } }),
      200,
    );
    expect(ceilings).toMatchObject({
      entityRef: ENTITY_REF,
      cluster: 'sandbox',
    });
    await failure(
      await client.getEntityCeilings({
        query: { entityRef: 'component:default/no-such-entity' },
      }),
      404,
      'NotFoundError',
    );
  });

  it('answers 503 when the cluster refuses the ChaosRun, records the run Failed, and refuses to abort it', async () => {
    const experiment = await answer(
      'createExperiment',
      await client.createExperiment({
        // An entity whose namespace does not exist in the cluster: the API server refuses the run.
        body: spec('nowhere', {
          entityRef: 'component:default/nowhere',
          target: {
            namespace: 'no-such-namespace',
            labelSelector: { app: 'checkout' },
          },
        }),
      }),
      201,
    );
    const refused = await failure(
      await client.runExperiment({ path: { id: experiment.id }, body: {} }),
      503,
      'ServiceUnavailableError',
    );
    expect(refused.error.message).toContain('Could not create the ChaosRun');

    const runs = await answer(
      'listRuns',
      await client.listRuns({
        query: { entityRef: 'component:default/nowhere' },
      }),
      200,
    );
    const failed = runs.items.find(r => r.experimentId === experiment.id)!;
    expect(failed).toMatchObject({ phase: 'Failed', reason: 'ClusterError' });
    await failure(
      await client.abortRun({ path: { id: failed.id } }),
      409,
      'ConflictError',
    );
  });
});

import {
  TestDatabases,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  OPT_IN,
  applyCrds,
  createDeployment,
  startController,
  watchPodDeletions,
} from '@chaoscraft/agent/src/acceptance/harness';
import { CHAOS_GROUP, CHAOS_RUN, CHAOS_RUN_ID_LABEL, CHAOS_VERSION } from '@chaoscraft/backstage-plugin-chaos-common';
import { sandboxKubeconfigPath, useSandboxNamespace, waitFor } from '@chaoscraft/test-sandbox';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { Knex } from 'knex';
import request from 'supertest';
import { chaosPlugin } from './plugin';
import { RUN_MIRROR_TASK_ID } from './runs/RunMirror';

/**
 * The holes of issue 12 against the real thing: the backend on PostgreSQL, the sandbox's API
 * server, and the real agent controller executing what the backend (or kubectl) creates. The
 * guest owns checkout (app=checkout) and not payments (app=payments), both in one namespace.
 */
jest.setTimeout(240_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15'] });
const sandbox = useSandboxNamespace({ labels: OPT_IN });
const agentHome = useSandboxNamespace();

const component = (name: string, owner: string, namespace: string) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name,
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-namespace': namespace,
      'backstage.io/kubernetes-label-selector': `app=${name}`,
      'chaoscraft.io/cluster': 'sandbox',
    },
  },
  spec: { type: 'service', owner },
  relations: [{ type: 'ownedBy', targetRef: `group:default/${owner}` }],
});

type TestScheduler = ReturnType<typeof mockServices.scheduler> & { factory: typeof mockServices.scheduler.factory };

describe('security against the sandbox and the real agent', () => {
  let knex: Knex;
  let controller: { stop(): Promise<void> };
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let paymentsPods: string[];
  const custom = () => sandbox.kc.makeApiClient(CustomObjectsApi);

  beforeAll(async () => {
    knex = await databases.init('POSTGRES_15');
    await applyCrds(sandbox.kc);
    await createDeployment(sandbox.kc, sandbox.namespace, 'checkout', 6);
    paymentsPods = (await createDeployment(sandbox.kc, sandbox.namespace, 'payments', 4)).map(p => p.metadata!.name!);
    controller = await startController(sandbox.kc, { agentNamespace: agentHome.namespace, watchNamespaces: [sandbox.namespace] });
    const scheduler = mockServices.scheduler() as TestScheduler;
    backend = await startTestBackend({
      features: [
        chaosPlugin,
        scheduler.factory({ skipTaskRunOnStartup: true }),
        mockServices.database.factory({ knex, migrations: { skip: false } }),
        mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
        mockServices.rootConfig.factory({
          data: { permission: { enabled: true }, chaos: { clusters: [{ name: 'sandbox', kubeconfigPath: await sandboxKubeconfigPath() }] } },
        }),
        catalogServiceMock.factory({ entities: [component('checkout', 'team-checkout', sandbox.namespace), component('payments', 'team-payments', sandbox.namespace)] }),
      ],
    });
    // The mirror runs inside its global task; here it mirrors until the backend stops.
    scheduler.triggerTask(RUN_MIRROR_TASK_ID).catch(() => undefined);
  });

  afterAll(async () => {
    await backend?.stop();
    await controller?.stop();
  });

  const experiment = (name: string, extra: object = {}) => ({
    name,
    entityRef: 'component:default/checkout',
    duration: '60s',
    target: { namespace: sandbox.namespace, labelSelector: { app: 'checkout' }, selection: { mode: 'fixed', count: 1 } },
    faults: [{ type: 'pod-kill' }],
    safety: { maxBlastRadiusPercent: 50, respectPodDisruptionBudgets: false },
    ...extra,
  });
  const post = (path: string, body: object = {}) => request(backend.server).post(`/api/chaos${path}`).send(body);
  const runPhase = async (id: string) => (await request(backend.server).get(`/api/chaos/runs/${id}`)).body.phase as string;
  const untilPhase = (id: string, phases: string[]) =>
    waitFor(async () => phases.includes(await runPhase(id)), { timeoutMs: 90_000, intervalMs: 300, description: `run ${id} in ${phases}` });

  it('the exploit: an experiment on checkout aimed at payments pods answers 400, and no payments pod is ever touched', async () => {
    const deletions = await watchPodDeletions(sandbox.kc, sandbox.namespace);
    try {
      const exploit = await post('/experiments', experiment('exploit', { target: { namespace: sandbox.namespace, labelSelector: { app: 'payments' }, selection: { mode: 'percent', percent: 50 } } }));
      expect(exploit.status).toBe(400);
      expect(exploit.body.error.message).toContain('target.labelSelector');

      // An experiment stored before targets were bound (written straight into the database) is
      // refused at run time too, and no ChaosRun is created.
      const legit = await post('/experiments', experiment('legit', { duration: '2s' }));
      expect(legit.status).toBe(201);
      const stale = { ...legit.body, name: 'stale', target: { ...legit.body.target, labelSelector: { app: 'payments' } } };
      const staleId = '0b8e1e43-6c1e-4d63-9d5e-4a5c3c1f0a11';
      await knex('chaos_experiments').insert({
        id: staleId, entity_ref: 'component:default/checkout', name: 'stale', spec: JSON.stringify({ ...stale, id: undefined }),
        created_by: 'user:default/guest', created_at: new Date(), updated_at: new Date(),
      });
      const staleRun = await post(`/experiments/${staleId}/runs`);
      expect(staleRun.status).toBe(400);
      expect(staleRun.body.error.message).toContain('target.labelSelector');
      expect(await knex('chaos_runs').where({ experiment_id: staleId })).toHaveLength(0);

      // The owner's own run goes ahead and touches checkout pods only.
      const run = await post(`/experiments/${legit.body.id}/runs`);
      expect(run.status).toBe(201);
      await untilPhase(run.body.id, ['Completed', 'Failed', 'Aborted']);
      expect(await runPhase(run.body.id)).toBe('Completed');
      expect(deletions.deleted.size).toBeGreaterThan(0);
      expect([...deletions.deleted].filter(pod => !pod.startsWith('checkout-'))).toEqual([]);
      expect([...deletions.deleted].filter(pod => paymentsPods.includes(pod))).toEqual([]);
    } finally {
      deletions.stop();
    }
  });

  it('a kubectl ChaosRun with a copied run-id label changes no backend record; abort still reaches the real one', async () => {
    const created = await post('/experiments', experiment('long-one'));
    const run = await post(`/experiments/${created.body.id}/runs`);
    expect(run.status).toBe(201);
    await untilPhase(run.body.id, ['Running']);

    // One live run per experiment.
    expect((await post(`/experiments/${created.body.id}/runs`)).status).toBe(409);

    // The forgery: same label, another name; the agent refuses it (nothing matches), so its
    // status says Failed. Before the fix the mirror wrote that onto the real run.
    await custom().createNamespacedCustomObject({
      group: CHAOS_GROUP, version: CHAOS_VERSION, plural: CHAOS_RUN.plural, namespace: sandbox.namespace,
      body: {
        apiVersion: `${CHAOS_GROUP}/${CHAOS_VERSION}`, kind: CHAOS_RUN.kind,
        metadata: { name: 'forged', labels: { [CHAOS_RUN_ID_LABEL]: run.body.id } },
        spec: { target: { namespace: sandbox.namespace, labelSelector: { app: 'nothing-here' } }, faults: [{ type: 'pod-kill' }], dryRun: true },
      },
    });
    await waitFor(async () => {
      const forged = (await custom().getNamespacedCustomObject({ group: CHAOS_GROUP, version: CHAOS_VERSION, plural: CHAOS_RUN.plural, namespace: sandbox.namespace, name: 'forged' })) as { status?: { phase?: string } };
      return forged.status?.phase === 'Failed';
    }, { timeoutMs: 30_000, description: 'the forged run refused by the agent' });
    // Give the mirror (watch, then a resync) time to see it.
    await new Promise(resolve => setTimeout(resolve, 3_000));
    const row = await knex('chaos_runs').where({ id: run.body.id }).first();
    expect(row.phase).toBe('Running');
    expect(row.verdict).toBeNull();

    const abort = await post(`/runs/${run.body.id}/abort`);
    expect(abort.status).toBe(202);
    await untilPhase(run.body.id, ['Aborted', 'Completed', 'Failed']);
    expect(await runPhase(run.body.id)).toBe('Aborted');
  });

  it('abort after the ChaosRun was deleted answers 409, not 500', async () => {
    const created = await post('/experiments', experiment('deleted-one'));
    const run = await post(`/experiments/${created.body.id}/runs`);
    await untilPhase(run.body.id, ['Running']);
    await custom().deleteNamespacedCustomObject({ group: CHAOS_GROUP, version: CHAOS_VERSION, plural: CHAOS_RUN.plural, namespace: sandbox.namespace, name: run.body.resourceName });
    await waitFor(async () => {
      try {
        await custom().getNamespacedCustomObject({ group: CHAOS_GROUP, version: CHAOS_VERSION, plural: CHAOS_RUN.plural, namespace: sandbox.namespace, name: run.body.resourceName });
        return false;
      } catch {
        return true;
      }
    }, { timeoutMs: 60_000, description: 'the ChaosRun gone (its finalizer done)' });
    const abort = await post(`/runs/${run.body.id}/abort`);
    expect(abort.status).toBe(409);
    expect(abort.body.error.message).toMatch(/nothing to abort|already ended/);
  });
});

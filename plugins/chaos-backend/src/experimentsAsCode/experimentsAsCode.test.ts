import {
  TestDatabases,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { urlReaderServiceFactory } from '@backstage/backend-defaults/urlReader';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  sandboxKubeconfigPath,
  useSandboxNamespace,
  waitFor,
} from '@chaoscraft/test-sandbox';
import {
  OPT_IN,
  applyCrds,
  createDeployment,
  startController,
} from '@chaoscraft/agent-testkit';
import {
  CHAOS_EXPERIMENT,
  CHAOS_GROUP,
  CHAOS_VERSION,
  type Experiment,
  type ExperimentSourceList,
  type RunDetail,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import request from 'supertest';
import { chaosPlugin } from '../plugin';
import { RUN_MIRROR_TASK_ID } from '../runs/RunMirror';
import { localFileUrlReaderFactory } from './LocalFileUrlReader';
import { EXPERIMENT_LOCATIONS_TASK_ID } from './LocationExperiments';
import {
  ACCEPTED_CONDITION,
  CLUSTER_EXPERIMENTS_TASK_ID,
} from './ClusterExperiments';
import { sandboxChaosConfig } from '../__testUtils__/sandboxConfig';

/**
 * Experiments kept as code, end to end on real components: files at an entity's
 * experiments-location (a `file:` location read by the local file reader, and a `url:` location
 * served over HTTP and read by Backstage's fetch reader) and ChaosExperiments applied with kubectl
 * to the sandbox, read by the whole plugin, shown through the REST API as managed experiments,
 * read-only, with every problem visible, and run by the real agent.
 */
jest.setTimeout(240_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const sandbox = useSandboxNamespace({ labels: OPT_IN });
const agentHome = useSandboxNamespace();
// A second opted-in namespace: a ChaosExperiment there may not act for checkout.
const elsewhere = useSandboxNamespace({ labels: OPT_IN });

type TestScheduler = ReturnType<typeof mockServices.scheduler> & {
  factory: typeof mockServices.scheduler.factory;
};

const doc = (name: string, spec: object, extra: object = {}) => ({
  apiVersion: `${CHAOS_GROUP}/${CHAOS_VERSION}`,
  kind: CHAOS_EXPERIMENT.kind,
  metadata: { name, ...extra },
  spec,
});

async function kubectl(args: string[], input?: string): Promise<string> {
  const kubeconfig = await sandboxKubeconfigPath();
  const binary = path.join(path.dirname(kubeconfig), 'bin', 'kubectl');
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      ['--kubeconfig', kubeconfig, ...args],
      (error, stdout, stderr) =>
        error
          ? reject(
              new Error(
                `kubectl ${args.join(' ')}: ${stderr || error.message}`,
              ),
            )
          : resolve(stdout),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

describe('experiments kept as code', () => {
  let knex: Knex;
  let controller: { stop(): Promise<void> };
  let repo: string;
  let served: Record<string, string>;
  let httpServer: http.Server;
  let port: number;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  const scheduler = mockServices.scheduler() as TestScheduler;

  const checkoutTarget = () => ({
    namespace: sandbox.namespace,
    labelSelector: { app: 'checkout' },
  });

  beforeAll(async () => {
    knex = await databases.init('SQLITE_3');
    await applyCrds(sandbox.kc);
    await createDeployment(sandbox.kc, sandbox.namespace, 'checkout', 4);
    controller = await startController(sandbox.kc, {
      agentNamespace: agentHome.namespace,
      watchNamespaces: [sandbox.namespace],
    });

    repo = await fs.mkdtemp(path.join(os.tmpdir(), 'chaos-repo-'));
    await fs.mkdir(path.join(repo, 'chaos'));
    served = {};
    httpServer = http.createServer((req, res) => {
      const body = served[req.url ?? ''];
      res
        .writeHead(body === undefined ? 404 : 200, {
          'content-type': 'text/yaml',
        })
        .end(body ?? 'not found');
    });
    await new Promise<void>(resolve =>
      httpServer.listen(0, '127.0.0.1', resolve),
    );
    port = (httpServer.address() as AddressInfo).port;

    const annotations = (extra: Record<string, string>) => ({
      'backstage.io/kubernetes-namespace': sandbox.namespace,
      'backstage.io/kubernetes-label-selector': 'app=checkout',
      'chaoscraft.io/cluster': 'sandbox',
      'chaoscraft.io/max-blast-radius-percent': '50',
      ...extra,
    });
    backend = await startTestBackend({
      features: [
        chaosPlugin,
        urlReaderServiceFactory,
        localFileUrlReaderFactory,
        scheduler.factory({ skipTaskRunOnStartup: true }),
        mockServices.database.factory({ knex, migrations: { skip: false } }),
        mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
        mockServices.rootConfig.factory({
          data: await sandboxChaosConfig({
            backend: { reading: { allow: [{ host: `127.0.0.1:${port}` }] } },
            chaos: {
              experimentsAsCode: { localDirectories: [repo] },
            },
          }),
        }),
        catalogServiceMock.factory({
          entities: [
            {
              apiVersion: 'backstage.io/v1alpha1',
              kind: 'Component',
              metadata: {
                name: 'checkout',
                namespace: 'default',
                annotations: annotations({
                  'backstage.io/managed-by-location': `file:${path.join(
                    repo,
                    'catalog-info.yaml',
                  )}`,
                  'chaoscraft.io/experiments-location': './chaos/',
                }),
              },
              spec: { type: 'service', owner: 'team-checkout' },
            },
            {
              apiVersion: 'backstage.io/v1alpha1',
              kind: 'Component',
              metadata: {
                name: 'cart',
                namespace: 'default',
                annotations: annotations({
                  'chaoscraft.io/experiments-location': `url:http://127.0.0.1:${port}/cart/chaos.yaml`,
                }),
              },
              spec: { type: 'service', owner: 'team-checkout' },
            },
          ],
        }),
      ],
    });
    scheduler.triggerTask(RUN_MIRROR_TASK_ID).catch(() => undefined);
  });

  afterAll(async () => {
    await backend?.stop();
    await controller?.stop();
    await new Promise(resolve => httpServer?.close(resolve));
    await fs.rm(repo, { recursive: true, force: true });
  });

  const writeFile = (name: string, content: object | string) =>
    fs.writeFile(
      path.join(repo, 'chaos', name),
      typeof content === 'string' ? content : JSON.stringify(content),
    );
  const experimentsOf = async (entity: string): Promise<Experiment[]> => {
    const res = await request(backend.server)
      .get('/api/chaos/experiments')
      .query({ entityRef: `component:default/${entity}`, limit: 100 });
    expect(res.status).toBe(200);
    return res.body.items;
  };
  const sourcesOf = async (entity: string): Promise<ExperimentSourceList> => {
    const res = await request(backend.server)
      .get('/api/chaos/sources')
      .query({ entityRef: `component:default/${entity}` });
    expect(res.status).toBe(200);
    return res.body;
  };
  const runToEnd = (runId: string) =>
    waitFor(
      async () => {
        const res = await request(backend.server).get(
          `/api/chaos/runs/${runId}`,
        );
        return ['Completed', 'Failed', 'Aborted'].includes(res.body.phase)
          ? (res.body as RunDetail)
          : undefined;
      },
      {
        timeoutMs: 120_000,
        intervalMs: 500,
        description: `run ${runId} to end`,
      },
    );

  it('shows a YAML experiment at the location after one refresh, read-only, and runs it', async () => {
    await writeFile(
      'kill-one.yaml',
      doc('code-kill-one', {
        target: checkoutTarget(),
        faults: [{ type: 'pod-kill' }],
        duration: '2s',
        safety: {
          maxBlastRadiusPercent: 50,
          respectPodDisruptionBudgets: false,
        },
      }),
    );
    expect((await experimentsOf('checkout')).filter(e => e.managedBy)).toEqual(
      [],
    );

    await scheduler.triggerTask(EXPERIMENT_LOCATIONS_TASK_ID);

    const [experiment] = (await experimentsOf('checkout')).filter(
      e => e.name === 'code-kill-one',
    );
    const fileUrl = `file://${path.join(repo, 'chaos', 'kill-one.yaml')}`;
    expect(experiment).toMatchObject({
      entityRef: 'component:default/checkout',
      duration: '2s',
      managedBy: { kind: 'location', source: fileUrl },
    });

    const put = await request(backend.server)
      .put(`/api/chaos/experiments/${experiment.id}`)
      .send({
        ...experiment,
        id: undefined,
        createdBy: undefined,
        createdAt: undefined,
        updatedAt: undefined,
        managedBy: undefined,
        duration: '5s',
      });
    expect(put.status).toBe(409);
    expect(put.body.error.message).toBe(
      `Experiment 'code-kill-one' is kept as code (file ${fileUrl}): change it there`,
    );
    const del = await request(backend.server).delete(
      `/api/chaos/experiments/${experiment.id}`,
    );
    expect(del.status).toBe(409);

    const started = await request(backend.server)
      .post(`/api/chaos/experiments/${experiment.id}/runs`)
      .send({});
    expect(started.status).toBe(201);
    const run = await runToEnd(started.body.id);
    expect(run).toMatchObject({
      phase: 'Completed',
      experimentName: 'code-kill-one',
      blastRadius: { selected: 1, eligible: 4 },
    });
  });

  it("reads a url: location through Backstage's fetch reader", async () => {
    served['/cart/chaos.yaml'] = [
      JSON.stringify(
        doc('cart-kill', {
          target: checkoutTarget(),
          faults: [{ type: 'pod-kill' }],
        }),
      ),
      JSON.stringify(
        doc('cart-cpu', {
          target: checkoutTarget(),
          faults: [{ type: 'cpu-stress' }],
        }),
      ),
    ].join('\n---\n');
    await scheduler.triggerTask(EXPERIMENT_LOCATIONS_TASK_ID);
    const cart = await experimentsOf('cart');
    const url = `http://127.0.0.1:${port}/cart/chaos.yaml`;
    expect(cart.map(e => [e.name, e.managedBy]).sort()).toEqual([
      ['cart-cpu', { kind: 'location', source: `${url}#2`, url }],
      ['cart-kill', { kind: 'location', source: `${url}#1`, url }],
    ]);
    expect((await sourcesOf('cart')).items).toEqual([
      expect.objectContaining({
        kind: 'location',
        location: url,
        experimentCount: 2,
        problems: [],
      }),
    ]);
    // The server goes away: what the location defined stays, and the source says why.
    delete served['/cart/chaos.yaml'];
    await scheduler.triggerTask(EXPERIMENT_LOCATIONS_TASK_ID);
    expect(await experimentsOf('cart')).toHaveLength(2);
    expect((await sourcesOf('cart')).items[0].problems).toEqual([
      expect.objectContaining({
        kind: 'read',
        source: url,
        message: expect.stringContaining('could not be read'),
      }),
    ]);
  });

  it('shows drift and conflicts: a field error, a name taken in the database, a target outside the entity', async () => {
    const made = await request(backend.server)
      .post('/api/chaos/experiments')
      .send({
        name: 'by-hand',
        entityRef: 'component:default/checkout',
        target: checkoutTarget(),
        faults: [{ type: 'pod-kill' }],
      });
    expect(made.status).toBe(201);
    await writeFile(
      'clash.yaml',
      doc('by-hand', {
        target: checkoutTarget(),
        faults: [{ type: 'pod-kill' }],
      }),
    );
    await writeFile(
      'slow.yaml',
      `apiVersion: chaoscraft.io/v1alpha1
kind: ChaosExperiment
metadata:
  name: slow
spec:
  target:
    namespace: ${sandbox.namespace}
    labelSelector: { app: checkout }
  faults:
    - type: network-latency
      latencyMs: 0
`,
    );
    await writeFile(
      'wide.yaml',
      doc('wide', {
        target: {
          namespace: sandbox.namespace,
          labelSelector: { app: 'payments' },
        },
        faults: [{ type: 'pod-kill' }],
      }),
    );
    await scheduler.triggerTask(EXPERIMENT_LOCATIONS_TASK_ID);

    const file = (name: string) => `file://${path.join(repo, 'chaos', name)}`;
    const [source] = (await sourcesOf('checkout')).items;
    expect(source.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'invalid',
          source: file('slow.yaml'),
          name: 'slow',
          field: 'spec.faults.0.latencyMs',
        }),
        expect.objectContaining({
          kind: 'conflict',
          source: file('clash.yaml'),
          name: 'by-hand',
          message: expect.stringContaining(
            'made in Backstage by user:default/mock',
          ),
        }),
        expect.objectContaining({
          kind: 'binding',
          source: file('wide.yaml'),
          name: 'wide',
          message: expect.stringContaining('target.labelSelector'),
        }),
      ]),
    );
    expect(source.problems).toHaveLength(3);
    const names = (await experimentsOf('checkout')).map(e => [
      e.name,
      e.managedBy?.kind ?? 'api',
    ]);
    expect(names).toEqual(
      expect.arrayContaining([
        ['by-hand', 'api'],
        ['code-kill-one', 'location'],
      ]),
    );
    expect(names.map(([n]) => n)).not.toEqual(expect.arrayContaining(['slow']));
    expect(names.map(([n]) => n)).not.toEqual(expect.arrayContaining(['wide']));

    // A file removed takes its experiment with it; runs stay in the history.
    await fs.rm(path.join(repo, 'chaos', 'kill-one.yaml'));
    await scheduler.triggerTask(EXPERIMENT_LOCATIONS_TASK_ID);
    expect((await experimentsOf('checkout')).map(e => e.name)).not.toContain(
      'code-kill-one',
    );
  });

  it('takes ChaosExperiments applied with kubectl onto the entity they name, and writes back whether it did', async () => {
    const good = doc(
      'cluster-kill',
      {
        entityRef: 'component:default/checkout',
        target: checkoutTarget(),
        faults: [{ type: 'pod-kill' }],
      },
      { namespace: sandbox.namespace },
    );
    const misplaced = doc(
      'misplaced-kill',
      {
        entityRef: 'component:default/checkout',
        target: checkoutTarget(),
        faults: [{ type: 'pod-kill' }],
      },
      { namespace: elsewhere.namespace },
    );
    const orphan = doc(
      'orphan',
      { target: checkoutTarget(), faults: [{ type: 'pod-kill' }] },
      { namespace: sandbox.namespace },
    );
    await kubectl(
      ['apply', '-f', '-'],
      [good, misplaced, orphan].map(d => JSON.stringify(d)).join('\n---\n'),
    );

    await scheduler.triggerTask(CLUSTER_EXPERIMENTS_TASK_ID);

    const [fromCluster] = (await experimentsOf('checkout')).filter(
      e => e.name === 'cluster-kill',
    );
    expect(fromCluster.managedBy).toEqual({
      kind: 'cluster',
      source: `sandbox/${sandbox.namespace}/cluster-kill`,
    });
    const clusterSource = (await sourcesOf('checkout')).items.find(
      s => s.kind === 'cluster',
    )!;
    expect(clusterSource).toMatchObject({
      location: 'sandbox',
      experimentCount: 1,
    });
    // The source reads the whole cluster, which test files running beside this one share (their
    // ChaosExperiments may name an entity called checkout too): only this test's namespaces count.
    const ours = [sandbox.namespace, elsewhere.namespace].map(
      ns => `sandbox/${ns}/`,
    );
    expect(
      clusterSource.problems.filter(p =>
        ours.some(prefix => p.source.startsWith(prefix)),
      ),
    ).toEqual([
      expect.objectContaining({
        kind: 'binding',
        source: `sandbox/${elsewhere.namespace}/misplaced-kill`,
        field: 'metadata.namespace',
      }),
    ]);

    const api = sandbox.kc.makeApiClient(CustomObjectsApi);
    const condition = async (namespace: string, name: string) => {
      const object = (await api.getNamespacedCustomObject({
        group: CHAOS_GROUP,
        version: CHAOS_VERSION,
        plural: CHAOS_EXPERIMENT.plural,
        namespace,
        name,
      })) as any;
      return object.status?.conditions?.find(
        (c: { type: string }) => c.type === ACCEPTED_CONDITION,
      );
    };
    expect(await condition(sandbox.namespace, 'cluster-kill')).toMatchObject({
      status: 'True',
      reason: 'InEffect',
    });
    expect(
      await condition(elsewhere.namespace, 'misplaced-kill'),
    ).toMatchObject({
      status: 'False',
      reason: 'OutsideEntity',
      message: expect.stringContaining('metadata.namespace'),
    });
    expect(await condition(sandbox.namespace, 'orphan')).toMatchObject({
      status: 'False',
      reason: 'NoEntity',
    });
    // kubectl shows it too.
    expect(
      await kubectl([
        'get',
        'chaosexperiment',
        'misplaced-kill',
        '-n',
        elsewhere.namespace,
        '-o',
        `jsonpath={.status.conditions[?(@.type=="${ACCEPTED_CONDITION}")].reason}`,
      ]),
    ).toBe('OutsideEntity');

    // Deleted from the cluster: gone from the entity.
    await kubectl([
      'delete',
      'chaosexperiment',
      'cluster-kill',
      '-n',
      sandbox.namespace,
    ]);
    await scheduler.triggerTask(CLUSTER_EXPERIMENTS_TASK_ID);
    expect((await experimentsOf('checkout')).map(e => e.name)).not.toContain(
      'cluster-kill',
    );
  });
});

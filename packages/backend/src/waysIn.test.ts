import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { AuthenticationError } from '@backstage/errors';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
  createProxyAuthenticator,
} from '@backstage/plugin-auth-node';
import authPlugin from '@backstage/plugin-auth-backend';
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { userInfoServiceFactory } from '@backstage/backend-defaults/userInfo';
import {
  actionsRegistryServiceFactory,
  actionsServiceFactory,
  metricsServiceFactory,
  tracingServiceFactory,
} from '@backstage/backend-defaults/alpha';
import { permissionsServiceFactory } from '@backstage/backend-defaults/permissions';
import { urlReaderServiceFactory } from '@backstage/backend-defaults/urlReader';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import chaosPlugin, {
  localFileUrlReaderFactory,
} from '@chaoscraft/backstage-plugin-chaos-backend';
import scaffolderModuleChaos from '@chaoscraft/backstage-plugin-scaffolder-backend-module-chaos';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import catalogModuleTemplates from '@backstage/plugin-catalog-backend-module-scaffolder-entity-model';
import permissionPlugin from '@backstage/plugin-permission-backend';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import mcpActionsPlugin from '@backstage/plugin-mcp-actions-backend';
import chaosCraftPolicy from './permissionPolicy';
import {
  OPT_IN,
  applyCrds,
  createDeployment,
  startController,
} from '@chaoscraft/agent-testkit';
import {
  sandboxKubeconfigPath,
  useSandboxNamespace,
  waitFor,
} from '@chaoscraft/test-sandbox';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import yaml from 'yaml';

/**
 * The ways in, on a real backend: the real catalog (reading the real templates of
 * examples/templates), the permission backend with the shipped policy, the scaffolder with the
 * chaos actions, the chaos plugin with its Actions Registry actions, and the MCP endpoint of
 * @backstage/plugin-mcp-actions-backend, all on one started backend (startTestBackend), the
 * local sandbox as the cluster and the real agent running the runs. Tokens come from Backstage's
 * mock auth (one per user); who owns what comes from the catalog, as at sign-in.
 */
jest.setTimeout(300_000);

const sandbox = useSandboxNamespace({ labels: OPT_IN });
const agentHome = useSandboxNamespace();
const ROOT = path.resolve(__dirname, '../../..');
const GUEST = 'user:default/guest'; // team-checkout: owns checkout
const PAT = 'user:default/pat'; // team-payments: owns payments
const tokens = new Map<string, string>();
const bearer = (user: string) => `Bearer ${tokens.get(user)}`;

/**
 * A sign-in provider for the test: the user named in a header, signed in as that catalog User
 * through Backstage's own resolver (ownership claims from the catalog's memberOf), so every token
 * in this test is a real Backstage user token, as guest sign-in gives in `make dev`.
 */
const headerSignIn = createBackendModule({
  pluginId: 'auth',
  moduleId: 'test-header-sign-in',
  register(reg) {
    reg.registerInit({
      deps: { providers: authProvidersExtensionPoint },
      async init({ providers }) {
        providers.registerProvider({
          providerId: 'test-header',
          factory: createProxyAuthProviderFactory({
            authenticator: createProxyAuthenticator({
              defaultProfileTransform: async () => ({ profile: {} }),
              initialize: () => undefined,
              async authenticate({ req }) {
                const user = req.header('x-test-user');
                if (!user) throw new AuthenticationError('x-test-user missing');
                return { result: { user } };
              },
            }),
            signInResolver: async ({ result }, ctx) =>
              ctx.signInWithCatalogUser({ entityRef: { name: result.user } }),
          }),
        });
      },
    });
  },
});

describe('templates, experiments as code and MCP on a started backend', () => {
  let dir: string;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let base: string;
  let controller: { stop(): Promise<void> };

  const component = (
    name: string,
    owner: string,
    extra: Record<string, string> = {},
  ) => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      annotations: {
        'backstage.io/kubernetes-namespace': sandbox.namespace,
        'backstage.io/kubernetes-label-selector': `app=${name}`,
        'chaoscraft.io/cluster': 'sandbox',
        'chaoscraft.io/max-blast-radius-percent': '50',
        ...extra,
      },
    },
    spec: { type: 'service', lifecycle: 'production', owner },
  });

  beforeAll(async () => {
    await applyCrds(sandbox.kc);
    await createDeployment(sandbox.kc, sandbox.namespace, 'checkout', 10);
    await createDeployment(sandbox.kc, sandbox.namespace, 'payments', 4);
    controller = await startController(sandbox.kc, {
      agentNamespace: agentHome.namespace,
      watchNamespaces: [sandbox.namespace],
    });

    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chaos-ways-'));
    await fs.mkdir(path.join(dir, 'chaos'));
    await fs.writeFile(
      path.join(dir, 'entities.yaml'),
      [
        component('checkout', 'team-checkout', {
          'chaoscraft.io/experiments-location': './chaos/',
        }),
        component('payments', 'team-payments'),
      ]
        .map(e => yaml.stringify(e))
        .join('---\n'),
    );
    const org = await fs.readFile(
      path.join(ROOT, 'examples/catalog/org.yaml'),
      'utf8',
    );
    await fs.writeFile(
      path.join(dir, 'org.yaml'),
      `${org}\n---\n${yaml.stringify({
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'User',
        metadata: { name: 'pat' },
        spec: { memberOf: ['team-payments'] },
      })}`,
    );
    await fs.writeFile(
      path.join(dir, 'chaos', 'kill-one.yaml'),
      yaml.stringify({
        apiVersion: 'chaoscraft.io/v1alpha1',
        kind: 'ChaosExperiment',
        metadata: { name: 'code-kill-one' },
        spec: {
          target: {
            namespace: sandbox.namespace,
            labelSelector: { app: 'checkout' },
          },
          faults: [{ type: 'pod-kill' }],
          duration: '2s',
        },
      }),
    );

    backend = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleTemplates,
        permissionPlugin,
        chaosCraftPolicy,
        scaffolderPlugin,
        scaffolderModuleChaos,
        chaosPlugin,
        mcpActionsPlugin,
        authPlugin,
        headerSignIn,
        authServiceFactory,
        httpAuthServiceFactory,
        userInfoServiceFactory,
        localFileUrlReaderFactory,
        urlReaderServiceFactory,
        permissionsServiceFactory,
        schedulerServiceFactory,
        actionsRegistryServiceFactory,
        actionsServiceFactory,
        metricsServiceFactory,
        tracingServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            backend: { actions: { pluginSources: ['chaos'] } },
            permission: { enabled: true },
            catalog: {
              rules: [
                {
                  allow: ['Component', 'Template', 'User', 'Group', 'Location'],
                },
              ],
              locations: [
                { type: 'file', target: path.join(dir, 'entities.yaml') },
                { type: 'file', target: path.join(dir, 'org.yaml') },
                {
                  type: 'file',
                  target: path.join(ROOT, 'examples/templates/*/template.yaml'),
                },
              ],
            },
            chaos: {
              clusters: [
                {
                  name: 'sandbox',
                  kubeconfigPath: await sandboxKubeconfigPath(),
                },
              ],
              experimentsAsCode: {
                localDirectories: [dir],
                refreshInterval: '1s',
              },
            },
            mcpActions: { name: 'chaoscraft' },
            auth: { providers: { 'test-header': {} } },
          },
        }),
      ],
    });
    base = `http://localhost:${backend.server.port()}`;
    // Both users sign in once the catalog has read them.
    const signIn = (user: string, backendUrl: string) =>
      waitFor(
        async () => {
          const res = await fetch(
            `${backendUrl}/api/auth/test-header/refresh`,
            { headers: { 'x-test-user': user.split('/')[1] } },
          );
          return res.ok
            ? ((await res.json()).backstageIdentity.token as string)
            : undefined;
        },
        {
          timeoutMs: 120_000,
          intervalMs: 500,
          description: `${user} to sign in`,
        },
      );
    for (const user of [GUEST, PAT]) tokens.set(user, await signIn(user, base));
    // The catalog has read the locations when the three templates and both users resolve.
    await waitFor(
      async () => {
        const res = await fetch(`${base}/api/catalog/entities/by-refs`, {
          method: 'POST',
          headers: {
            authorization: bearer(GUEST),
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            entityRefs: [
              'template:default/chaos-pod-kill',
              'template:default/chaos-network-latency',
              'template:default/chaos-resilience-suite',
              GUEST,
              PAT,
              'component:default/payments',
            ],
          }),
        });
        const { items } = await res.json();
        return (
          items?.every(
            (e: { relations?: unknown[] } | null) =>
              e && (e.relations?.length ?? 0) > 0,
          ) || undefined
        );
      },
      {
        timeoutMs: 120_000,
        intervalMs: 500,
        description: 'the catalog to process the locations',
      },
    );
  });

  afterAll(async () => {
    await backend?.stop();
    await controller?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function api(
    user: string,
    method: string,
    route: string,
    body?: unknown,
  ) {
    const res = await fetch(`${base}${route}`, {
      method,
      headers: {
        authorization: bearer(user),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Runs a template through POST /api/scaffolder/v2/tasks and waits for the task to end. */
  async function runTemplate(user: string, template: string, values: object) {
    const created = await api(user, 'POST', '/api/scaffolder/v2/tasks', {
      templateRef: `template:default/${template}`,
      values,
    });
    expect(created.status).toBe(201);
    const task = await waitFor(
      async () => {
        const res = await api(
          user,
          'GET',
          `/api/scaffolder/v2/tasks/${created.body.id}`,
        );
        return ['completed', 'failed', 'cancelled'].includes(res.body.status)
          ? res.body
          : undefined;
      },
      {
        timeoutMs: 120_000,
        intervalMs: 500,
        description: `task ${created.body.id} of ${template}`,
      },
    );
    const events = (
      await api(
        user,
        'GET',
        `/api/scaffolder/v2/tasks/${created.body.id}/events`,
      )
    ).body as Array<{ type: string; body: any }>;
    const completion = events.find(e => e.type === 'completion');
    return {
      status: task.status as string,
      output: completion?.body?.output,
      log: events.map(e => e.body?.message ?? '').join('\n'),
    };
  }

  const experimentsOf = async (user: string, entity: string) =>
    (
      await api(
        user,
        'GET',
        `/api/chaos/experiments?entityRef=${encodeURIComponent(
          `component:default/${entity}`,
        )}&limit=100`,
      )
    ).body.items as Array<{
      id: string;
      name: string;
      createdBy: string;
      managedBy?: unknown;
      target: any;
      safety: any;
      faults: any[];
      hypothesis?: any;
    }>;

  it('adds a pod-kill experiment through the template, target from the annotations, dry run shown, Chaos tab linked', async () => {
    const task = await runTemplate(GUEST, 'chaos-pod-kill', {
      entity: 'component:default/checkout',
      name: 'tpl-pod-kill',
      percent: 30,
      duration: '30s',
      respectPodDisruptionBudgets: false,
      preview: true,
    });
    expect({
      status: task.status,
      log: task.status === 'completed' ? '' : task.log,
    }).toEqual({ status: 'completed', log: '' });
    expect(task.output.links).toEqual([
      {
        title: 'Open the Chaos tab',
        icon: 'dashboard',
        url: '/catalog/default/component/checkout/chaos',
      },
      {
        title: "The dry run's targets",
        url: expect.stringMatching(
          /^\/catalog\/default\/component\/checkout\/chaos\?run=[0-9a-f-]{36}$/,
        ),
      },
    ]);
    const [created] = (await experimentsOf(GUEST, 'checkout')).filter(
      e => e.name === 'tpl-pod-kill',
    );
    expect(created).toMatchObject({
      createdBy: GUEST,
      target: {
        namespace: sandbox.namespace,
        labelSelector: { app: 'checkout' },
        selection: { mode: 'percent', percent: 30 },
      },
      safety: { maxBlastRadiusPercent: 30, respectPodDisruptionBudgets: false },
      faults: [{ type: 'pod-kill' }],
    });
    // The preview step's dry run, as recorded: three of ten pods, nothing touched.
    const runId = task.output.links[1].url.split('run=')[1];
    const run = (await api(GUEST, 'GET', `/api/chaos/runs/${runId}`)).body;
    expect(run).toMatchObject({
      dryRun: true,
      phase: 'Completed',
      blastRadius: { selected: 3, eligible: 10 },
    });
  });

  it('adds a network-latency experiment with an error-rate hypothesis through the template', async () => {
    const task = await runTemplate(GUEST, 'chaos-network-latency', {
      entity: 'component:default/checkout',
      name: 'tpl-latency',
      latencyMs: 250,
      jitterMs: 20,
      percent: 20,
      duration: '2m',
      errorRateQuery:
        'sum(rate(http_requests_total{app="checkout",code=~"5.."}[1m])) / sum(rate(http_requests_total{app="checkout"}[1m]))',
      maxErrorRate: 0.02,
    });
    expect({
      status: task.status,
      log: task.status === 'completed' ? '' : task.log,
    }).toEqual({ status: 'completed', log: '' });
    expect(task.output.links[0].url).toBe(
      '/catalog/default/component/checkout/chaos',
    );
    const [created] = (await experimentsOf(GUEST, 'checkout')).filter(
      e => e.name === 'tpl-latency',
    );
    expect(created.faults).toEqual([
      expect.objectContaining({
        type: 'network-latency',
        latencyMs: 250,
        jitterMs: 20,
      }),
    ]);
    expect(created.hypothesis.probes).toEqual([
      expect.objectContaining({
        type: 'promql',
        name: 'error-rate',
        comparison: '<=',
        threshold: 0.02,
        query: expect.stringContaining('code=~"5.."'),
      }),
    ]);
  });

  it('adds a resilience suite: pod kill, latency, CPU and a progressive kill', async () => {
    const task = await runTemplate(GUEST, 'chaos-resilience-suite', {
      entity: 'component:default/checkout',
      prefix: 'suite',
      deployment: 'checkout',
      minAvailableRatio: 0.6,
    });
    expect({
      status: task.status,
      log: task.status === 'completed' ? '' : task.log,
    }).toEqual({ status: 'completed', log: '' });
    const suite = (await experimentsOf(GUEST, 'checkout')).filter(e =>
      e.name.startsWith('suite-'),
    );
    expect(suite.map(e => [e.name, e.faults[0].type]).sort()).toEqual([
      ['suite-cpu', 'cpu-stress'],
      ['suite-latency', 'network-latency'],
      ['suite-pod-kill', 'pod-kill'],
      ['suite-progressive', 'pod-kill'],
    ]);
    const progressive = suite.find(e => e.name === 'suite-progressive')!;
    expect(
      progressive.safety.progressiveSteps.map((s: any) => s.selection.percent),
    ).toEqual([10, 20, 30]);
    expect(progressive.hypothesis.probes[0]).toMatchObject({
      type: 'k8s',
      deployment: 'checkout',
      minAvailableRatio: 0.6,
    });
  });

  it("fails a non-owner's task with the reason, and creates nothing", async () => {
    for (const template of ['chaos-pod-kill', 'chaos-resilience-suite']) {
      const task = await runTemplate(GUEST, template, {
        entity: 'component:default/payments',
        name: 'not-mine',
        percent: 20,
        duration: '30s',
        prefix: 'not-mine',
        deployment: 'payments',
        minAvailableRatio: 0.5,
      });
      expect(task.status).toBe('failed');
      expect(task.log).toContain(
        'You may not create chaos experiments of component:default/payments: only its owners may',
      );
    }
    expect(await experimentsOf(PAT, 'payments')).toEqual([]);
    // Its owner can.
    const owned = await runTemplate(PAT, 'chaos-pod-kill', {
      entity: 'component:default/payments',
      name: 'pay-kill',
      percent: 25,
      duration: '30s',
      preview: false,
    });
    expect(owned.status).toBe('completed');
    expect((await experimentsOf(PAT, 'payments')).map(e => e.name)).toEqual([
      'pay-kill',
    ]);
  });

  it('writes an experiment as code through the scaffolder dry run, next to catalog-info.yaml', async () => {
    const template = {
      apiVersion: 'scaffolder.backstage.io/v1beta3',
      kind: 'Template',
      metadata: { name: 'write-chaos' },
      spec: {
        owner: 'group:default/admins',
        type: 'service',
        parameters: [],
        // As a real template would fetch the service's repository first: here, the dry run's files.
        steps: [
          { id: 'fetch', action: 'fetch:plain', input: { url: './' } },
          {
            id: 'write',
            action: 'chaos:experiment:write-file',
            input: {
              name: 'as-code',
              faults: [{ type: 'pod-kill' }],
              target: { selection: { mode: 'fixed', count: 2 } },
            },
          },
        ],
        output: {
          links: [
            { title: 'Chaos', url: '${{ steps.write.output.chaosUrl }}' },
          ],
        },
      },
    };
    const catalogInfo = yaml.stringify(component('checkout', 'team-checkout'));
    const res = await api(GUEST, 'POST', '/api/scaffolder/v2/dry-run', {
      template,
      values: {},
      directoryContents: [
        {
          path: 'catalog-info.yaml',
          base64Content: Buffer.from(catalogInfo).toString('base64'),
        },
      ],
    });
    expect({
      status: res.status,
      body: res.status === 200 ? undefined : res.body,
    }).toEqual({ status: 200, body: undefined });
    const files = Object.fromEntries(
      (
        res.body.directoryContents as Array<{
          path: string;
          base64Content: string;
        }>
      ).map(f => [f.path, Buffer.from(f.base64Content, 'base64').toString()]),
    );
    expect(Object.keys(files).sort()).toEqual([
      'catalog-info.yaml',
      'chaos/as-code.yaml',
    ]);
    expect(
      yaml.parse(files['catalog-info.yaml']).metadata.annotations[
        'chaoscraft.io/experiments-location'
      ],
    ).toBe('./chaos/');
    expect(yaml.parse(files['chaos/as-code.yaml'])).toEqual({
      apiVersion: 'chaoscraft.io/v1alpha1',
      kind: 'ChaosExperiment',
      metadata: { name: 'as-code' },
      spec: expect.objectContaining({
        entityRef: 'component:default/checkout',
        target: {
          namespace: sandbox.namespace,
          labelSelector: { app: 'checkout' },
          selection: { mode: 'fixed', count: 2 },
        },
        faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
      }),
    });
    expect(res.body.output.links[0].url).toBe(
      'http://localhost:3000/catalog/default/component/checkout/chaos',
    );
  });

  it("shows the YAML experiment at checkout's experiments-location as managed by code", async () => {
    const managed = await waitFor(
      async () =>
        (
          await experimentsOf(GUEST, 'checkout')
        ).find(e => e.name === 'code-kill-one'),
      {
        timeoutMs: 30_000,
        intervalMs: 500,
        description: 'the code experiment to be read',
      },
    );
    expect(managed.managedBy).toEqual({
      kind: 'location',
      source: `file://${path.join(dir, 'chaos', 'kill-one.yaml')}`,
    });
  });

  describe('through MCP, as an AI client', () => {
    async function mcpClient(user: string): Promise<Client> {
      const client = new Client({ name: 'chaoscraft-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(
          new URL(`${base}/api/mcp-actions/v1`),
          {
            requestInit: { headers: { authorization: bearer(user) } },
          },
        ),
      );
      return client;
    }
    const text = (result: any) =>
      (result.content as Array<{ type: string; text: string }>)
        .map(c => c.text)
        .join('\n');

    it('lists the chaos tools, read-only and destructive ones marked', async () => {
      const client = await mcpClient(GUEST);
      try {
        const { tools } = await client.listTools();
        const chaos = Object.fromEntries(
          tools
            .filter(t => t.name.includes('chaos'))
            .map(t => [t.name, t.annotations]),
        );
        expect(Object.keys(chaos).sort()).toEqual(
          [
            'abort-run',
            'get-run',
            'list-experiments',
            'preview-run',
            'run-experiment',
          ]
            .map(n => expect.stringMatching(new RegExp(`^chaos[.:_-]+${n}$`)))
            .sort(),
        );
        const by = (n: string) =>
          Object.entries(chaos).find(([name]) => name.endsWith(n))![1]!;
        for (const n of ['list-experiments', 'get-run', 'preview-run'])
          expect(by(n)).toMatchObject({
            readOnlyHint: true,
            destructiveHint: false,
          });
        for (const n of ['run-experiment', 'abort-run'])
          expect(by(n)).toMatchObject({
            readOnlyHint: false,
            destructiveHint: true,
          });
      } finally {
        await client.close();
      }
    });

    it('previews a run (a dry run) through the tools: targets and blast radius, nothing touched', async () => {
      const client = await mcpClient(GUEST);
      try {
        const { tools } = await client.listTools();
        const tool = (n: string) => tools.find(t => t.name.endsWith(n))!.name;
        const listed = await client.callTool({
          name: tool('list-experiments'),
          arguments: { entityRef: 'component:default/checkout' },
        });
        expect(listed.isError).toBeFalsy();
        const { experiments } = JSON.parse(text(listed));
        const target = experiments.find(
          (e: { name: string }) => e.name === 'tpl-pod-kill',
        );
        expect(target).toMatchObject({
          faults: ['pod-kill'],
          maxBlastRadiusPercent: 30,
        });
        expect(
          experiments.find((e: { name: string }) => e.name === 'code-kill-one')
            ?.managedBy,
        ).toMatchObject({ kind: 'location' });

        const preview = await client.callTool({
          name: tool('preview-run'),
          arguments: { experimentId: target.id, waitSeconds: 60 },
        });
        expect(preview.isError).toBeFalsy();
        const { finished, run } = JSON.parse(text(preview));
        expect(finished).toBe(true);
        expect(run).toMatchObject({
          dryRun: true,
          phase: 'Completed',
          blastRadius: { selected: 3, eligible: 10, percent: 30 },
        });
        expect(run.targets).toHaveLength(3);
        expect(
          run.targets.every((t: { pod: string }) =>
            t.pod.startsWith('checkout-'),
          ),
        ).toBe(true);

        const got = await client.callTool({
          name: tool('get-run'),
          arguments: { runId: run.id },
        });
        expect(JSON.parse(text(got)).run).toMatchObject({
          id: run.id,
          phase: 'Completed',
          createdBy: GUEST,
        });
      } finally {
        await client.close();
      }
    });

    it("refuses a destructive call by a non-owner, and lets the owner's through", async () => {
      const [payKill] = await experimentsOf(PAT, 'payments');
      const guest = await mcpClient(GUEST);
      try {
        const { tools } = await guest.listTools();
        const tool = (n: string) => tools.find(t => t.name.endsWith(n))!.name;
        const refused = await guest.callTool({
          name: tool('run-experiment'),
          arguments: { experimentId: payKill.id },
        });
        expect(refused.isError).toBe(true);
        expect(text(refused)).toContain(
          'You may not create chaos experiments of component:default/payments: only its owners may',
        );
        const previewRefused = await guest.callTool({
          name: tool('preview-run'),
          arguments: { experimentId: payKill.id },
        });
        expect(previewRefused.isError).toBe(true);
        // Nothing was started for payments.
        expect(
          (
            await api(
              PAT,
              'GET',
              '/api/chaos/runs?entityRef=component%3Adefault%2Fpayments',
            )
          ).body.totalCount,
        ).toBe(0);
      } finally {
        await guest.close();
      }

      const pat = await mcpClient(PAT);
      try {
        const { tools } = await pat.listTools();
        const tool = (n: string) => tools.find(t => t.name.endsWith(n))!.name;
        const started = await pat.callTool({
          name: tool('run-experiment'),
          arguments: { experimentId: payKill.id },
        });
        expect(started.isError).toBeFalsy();
        const { run } = JSON.parse(text(started));
        expect(run).toMatchObject({
          dryRun: false,
          entityRef: 'component:default/payments',
          createdBy: PAT,
        });

        // The guest may not abort it either; the owner may (or it has already ended).
        const guestAbort = await (
          await mcpClient(GUEST)
        ).callTool({ name: tool('abort-run'), arguments: { runId: run.id } });
        expect(guestAbort.isError).toBe(true);
        expect(text(guestAbort)).toContain('only its owners may');
        const ownerAbort = await pat.callTool({
          name: tool('abort-run'),
          arguments: { runId: run.id },
        });
        expect(ownerAbort.isError ? text(ownerAbort) : 'aborted').toMatch(
          /aborted|has already ended/,
        );
      } finally {
        await pat.close();
      }
    });
  });
});

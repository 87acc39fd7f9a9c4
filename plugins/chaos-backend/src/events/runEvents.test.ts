import {
  TestDatabases,
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import {
  coreServices,
  createBackendPlugin,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  eventsServiceFactory,
  eventsServiceRef,
} from '@backstage/plugin-events-node';
import notificationsPlugin from '@backstage/plugin-notifications-backend';
import {
  entityRunsSignalChannel,
  resilienceScoreSchema,
  runSignalChannel,
  type RunDetail,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { useSandboxNamespace, waitFor } from '@chaoscraft/test-sandbox';
import {
  OPT_IN,
  applyCrds,
  createDeployment,
  startController,
} from '@chaoscraft/agent-testkit';
import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import request from 'supertest';
import { chaosPlugin } from '../plugin';
import { RUN_MIRROR_TASK_ID } from '../runs/RunMirror';
import { sandboxChaosConfig } from '../__testUtils__/sandboxConfig';

/**
 * What follows a run, on the whole backend against real components: the chaos plugin on SQLite
 * and on PostgreSQL, the real agent controller running the ChaosRun in the sandbox, the real
 * notifications backend (its own database) and the real signals service on Backstage's event bus.
 * While the run moves, signals go out on its channel and its entity's; when it ends, the entity's
 * owners and its starter each get one notification, with verdict, blast radius and a link; the
 * score counts the fault type it passed.
 */
jest.setTimeout(240_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });
const sandbox = useSandboxNamespace({ labels: OPT_IN });
const agentHome = useSandboxNamespace();

const ENTITY = 'component:default/checkout';
const ALICE = 'user:default/alice'; // member of team-checkout, the owner
const BOB = 'user:default/bob'; // nobody to checkout
const STARTER = 'user:default/mock'; // who the test backend's default credentials are

function catalogEntities(namespace: string) {
  const group = (name: string, members: string[]) => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name, namespace: 'default' },
    spec: { type: 'team', children: [] },
    relations: members.map(targetRef => ({ type: 'hasMember', targetRef })),
  });
  return [
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: 'checkout',
        namespace: 'default',
        annotations: {
          'backstage.io/kubernetes-namespace': namespace,
          'backstage.io/kubernetes-label-selector': 'app=checkout',
          'chaoscraft.io/cluster': 'sandbox',
        },
      },
      spec: { type: 'service', owner: 'team-checkout' },
      relations: [
        { type: 'ownedBy', targetRef: 'group:default/team-checkout' },
      ],
    },
    group('team-checkout', [ALICE]),
    group('team-payments', [BOB]),
    ...[ALICE, BOB, STARTER].map(ref => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name: ref.split('/')[1], namespace: 'default' },
      spec: {},
    })),
  ];
}

type Signal = { channel: string; message: { runId: string } };

let controller: { stop(): Promise<void> };

beforeAll(async () => {
  await applyCrds(sandbox.kc);
  await createDeployment(sandbox.kc, sandbox.namespace, 'checkout', 4);
  controller = await startController(sandbox.kc, {
    agentNamespace: agentHome.namespace,
    watchNamespaces: [sandbox.namespace],
  });
});

afterAll(async () => {
  await controller?.stop();
});

describe.each(databases.eachSupportedId())(
  'run signals, notifications and score on %s',
  databaseId => {
    async function startBackend() {
      // Each plugin its own fresh database of this kind, as in production.
      const knexes = new Map<string, ReturnType<typeof databases.init>>();
      const database = createServiceFactory({
        service: coreServices.database,
        deps: { pluginMetadata: coreServices.pluginMetadata },
        factory: ({ pluginMetadata }) => {
          const id = pluginMetadata.getId();
          if (!knexes.has(id)) knexes.set(id, databases.init(databaseId));
          return {
            getClient: () => knexes.get(id)!,
            migrations: { skip: false },
          };
        },
      });
      const signals: Signal[] = [];
      // Listens where the signals backend listens: the 'signals' topic of the event bus.
      const signalTap = createBackendPlugin({
        pluginId: 'signal-tap',
        register(env) {
          env.registerInit({
            deps: { events: eventsServiceRef },
            async init({ events }) {
              await events.subscribe({
                id: 'signal-tap',
                topics: ['signals'],
                onEvent: async event => {
                  signals.push(event.eventPayload as Signal);
                },
              });
            },
          });
        },
      });
      const scheduler = mockServices.scheduler() as ReturnType<
        typeof mockServices.scheduler
      > & { factory: typeof mockServices.scheduler.factory };
      const backend = await startTestBackend({
        features: [
          chaosPlugin,
          notificationsPlugin,
          signalTap,
          // The real event bus (the test backend's default is a mock per plugin): signals travel on it.
          eventsServiceFactory,
          database,
          scheduler.factory({ skipTaskRunOnStartup: true }),
          mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
          mockServices.rootConfig.factory({
            data: await sandboxChaosConfig({
              app: { baseUrl: 'http://localhost:3000' },
            }),
          }),
          catalogServiceMock.factory({
            entities: catalogEntities(sandbox.namespace),
          }),
        ],
      });
      scheduler.triggerTask(RUN_MIRROR_TASK_ID).catch(() => undefined);
      return { server: backend.server, stop: () => backend.stop(), signals };
    }

    async function runToEnd(server: any, runId: string): Promise<RunDetail> {
      return waitFor(
        async () => {
          const res = await request(server).get(`/api/chaos/runs/${runId}`);
          return ['Completed', 'Failed', 'Aborted'].includes(res.body.phase)
            ? (res.body as RunDetail)
            : undefined;
        },
        {
          timeoutMs: 120_000,
          intervalMs: 300,
          description: `run ${runId} to end`,
        },
      );
    }

    const notificationsOf = async (server: any, user: string) => {
      const res = await request(server)
        .get('/api/notifications/notifications')
        .set('Authorization', mockCredentials.user.header(user));
      expect(res.status).toBe(200);
      return res.body.notifications as Array<{
        payload: {
          title: string;
          description: string;
          link: string;
          topic: string;
          severity: string;
        };
      }>;
    };

    it('signals every change, notifies owners and starter once at the end, and scores the passed fault', async () => {
      const backend = await startBackend();
      try {
        const { server, signals } = backend;
        const scoreBefore = resilienceScoreSchema.parse(
          (
            await request(server)
              .get('/api/chaos/score')
              .query({ entityRef: ENTITY })
          ).body,
        );
        expect(scoreBefore.score).toBe(0);

        const created = await request(server)
          .post('/api/chaos/experiments')
          .send({
            name: `kill-${databaseId.toLowerCase().replace(/_/g, '-')}`,
            entityRef: ENTITY,
            duration: '2s',
            target: {
              namespace: sandbox.namespace,
              labelSelector: { app: 'checkout' },
              selection: { mode: 'one' },
            },
            faults: [{ type: 'pod-kill' }],
            safety: {
              maxBlastRadiusPercent: 50,
              respectPodDisruptionBudgets: false,
            },
            // A verdict needs a hypothesis: without one a run ends Inconclusive, and scores nothing.
            hypothesis: {
              interval: '1s',
              probes: [
                {
                  type: 'k8s',
                  name: 'available',
                  deployment: 'checkout',
                  minAvailableRatio: 0.5,
                },
              ],
            },
          });
        expect(created.status).toBe(201);
        const started = await request(server)
          .post(`/api/chaos/experiments/${created.body.id}/runs`)
          .send({});
        expect(started.status).toBe(201);
        const runId: string = started.body.id;
        const run = await runToEnd(server, runId);
        expect(run).toMatchObject({
          phase: 'Completed',
          verdict: 'Passed',
          blastRadius: { selected: 1, eligible: 4 },
        });

        // Signals: on the run's channel and the entity's, for the record (Pending) and each phase after.
        await waitFor(
          () =>
            signals.filter(s => s.channel === runSignalChannel(runId)).length >=
            3,
          { timeoutMs: 10_000, description: 'run signals' },
        );
        const onRun = signals.filter(
          s => s.channel === runSignalChannel(runId),
        );
        const onEntity = signals.filter(
          s => s.channel === entityRunsSignalChannel(ENTITY),
        );
        expect(onRun.every(s => s.message.runId === runId)).toBe(true);
        expect(onEntity.length).toBe(onRun.length);
        expect(Object.keys(onRun[0].message)).toEqual(['runId']);

        // Notifications: alice (an owner, through team-checkout) and the starter, not bob.
        const expected = {
          title: expect.stringMatching(
            /^Chaos run Passed: kill-.* on checkout$/,
          ),
          description: expect.stringContaining(
            'Blast radius: 1 of 4 pods (25%, limit 50%).',
          ),
          link: `/catalog/default/component/checkout/chaos?run=${runId}`,
          topic: 'chaos-run',
          severity: 'normal',
        };
        const forAlice = await waitFor(
          async () => {
            const list = await notificationsOf(server, ALICE);
            return list.length > 0 ? list : undefined;
          },
          { timeoutMs: 20_000, description: 'the notification for alice' },
        );
        expect(forAlice).toEqual([
          expect.objectContaining({
            payload: expect.objectContaining(expected),
          }),
        ]);
        expect(await notificationsOf(server, STARTER)).toEqual([
          expect.objectContaining({
            payload: expect.objectContaining(expected),
          }),
        ]);
        expect(await notificationsOf(server, BOB)).toEqual([]);

        // A replayed status of the ended run (a watch event: here an annotation touched) signals
        // again but announces nothing twice.
        const before = signals.filter(
          s => s.channel === runSignalChannel(runId),
        ).length;
        await sandbox.kc
          .makeApiClient(CustomObjectsApi)
          .patchNamespacedCustomObject(
            {
              group: 'chaoscraft.io',
              version: 'v1alpha1',
              namespace: sandbox.namespace,
              plural: 'chaosruns',
              name: run.resourceName,
              body: { metadata: { annotations: { 'test/touched': 'yes' } } },
            },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          );
        await waitFor(
          () =>
            signals.filter(s => s.channel === runSignalChannel(runId)).length >
            before,
          { timeoutMs: 20_000, description: 'the replay signalled' },
        );
        expect(await notificationsOf(server, ALICE)).toHaveLength(1);

        // A dry run is not announced.
        const dry = await request(server)
          .post(`/api/chaos/experiments/${created.body.id}/runs`)
          .send({ dryRun: true });
        const dryRun = await runToEnd(server, dry.body.id);
        expect(dryRun.targets.every(t => t.phase === 'Skipped')).toBe(true);
        expect(await notificationsOf(server, ALICE)).toHaveLength(1);

        // The score counts pod-kill, passed a moment ago, in full.
        const score = resilienceScoreSchema.parse(
          (
            await request(server)
              .get('/api/chaos/score')
              .query({ entityRef: ENTITY })
          ).body,
        );
        expect(score.faults.find(f => f.type === 'pod-kill')).toMatchObject({
          weight: 1,
          lastPassedAt: run.finishedAt,
        });
        expect(score.score).toBe(Math.round(100 / score.faults.length));
      } finally {
        await backend.stop();
      }
    });
  },
);

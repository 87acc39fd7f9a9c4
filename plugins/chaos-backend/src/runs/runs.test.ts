import {
  TestDatabases,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { chaosExperimentReadPermission } from '@chaoscraft/backstage-plugin-chaos-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { useSandboxNamespace, waitFor } from '@chaoscraft/test-sandbox';
import {
  OPT_IN,
  applyCrds,
  createDeployment,
  startController,
} from '@chaoscraft/agent-testkit';
import type { RunDetail } from '@chaoscraft/backstage-plugin-chaos-common';
import { CoreV1Api } from '@kubernetes/client-node';
import type { Knex } from 'knex';
import request from 'supertest';
import { chaosPlugin } from '../plugin';
import { SCHEDULED_RUNS_TASK_ID } from './ScheduledRuns';
import { RUN_MIRROR_TASK_ID } from './RunMirror';
import { chaosComponent } from '../__testUtils__/entities';
import { sandboxChaosConfig } from '../__testUtils__/sandboxConfig';

/**
 * The whole backend path against real components: the backend plugin on PostgreSQL creates
 * ChaosRuns in the local Kubernetes sandbox, the real agent controller executes them, and the
 * backend mirrors their status into its database.
 */
jest.setTimeout(180_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15'] });
const sandbox = useSandboxNamespace({ labels: OPT_IN });
// The agent's own namespace holds its Lease; it is protected, so it is not the target.
const agentHome = useSandboxNamespace();

function entity(namespace: string) {
  return chaosComponent({ namespace });
}

/**
 * A scheduler whose tasks the test triggers. mockServices.scheduler() returns Backstage's
 * MockSchedulerService, whose instance `factory` its type declaration leaves out.
 */
type TestScheduler = ReturnType<typeof mockServices.scheduler> & {
  factory: typeof mockServices.scheduler.factory;
};
const testScheduler = () => mockServices.scheduler() as TestScheduler;

async function startBackend(
  knex: Knex,
  result: AuthorizeResult.ALLOW | AuthorizeResult.DENY,
  scheduler = testScheduler(),
) {
  const backend = await startTestBackend({
    features: [
      chaosPlugin,
      scheduler.factory({ skipTaskRunOnStartup: true }),
      mockServices.database.factory({ knex, migrations: { skip: false } }),
      result === AuthorizeResult.ALLOW
        ? mockServices.permissions.factory({ result })
        : // A non-owner: may read the entity's chaos, may change none of it.
          createServiceFactory({
            service: coreServices.permissions,
            deps: {},
            factory: () =>
              ({
                authorize: async (
                  requests: Array<{ permission: { name: string } }>,
                ) =>
                  requests.map(r => ({
                    result:
                      r.permission.name === chaosExperimentReadPermission.name
                        ? AuthorizeResult.ALLOW
                        : AuthorizeResult.DENY,
                  })),
                authorizeConditional: async (requests: unknown[]) =>
                  requests.map(() => ({ result: AuthorizeResult.DENY })),
              } as any),
          }),
      mockServices.rootConfig.factory({
        data: await sandboxChaosConfig(),
      }),
      catalogServiceMock.factory({ entities: [entity(sandbox.namespace)] }),
    ],
  });
  // The mirror runs inside its global scheduler task; this backend holds it until it stops.
  scheduler.triggerTask(RUN_MIRROR_TASK_ID).catch(() => undefined);
  return backend;
}

describe('runs against the sandbox and the real agent', () => {
  let knex: Knex;
  let controller: { stop(): Promise<void> };

  beforeAll(async () => {
    knex = await databases.init('POSTGRES_15');
    await applyCrds(sandbox.kc);
    await createDeployment(sandbox.kc, sandbox.namespace, 'checkout', 10);
    controller = await startController(sandbox.kc, {
      agentNamespace: agentHome.namespace,
      watchNamespaces: [sandbox.namespace],
    });
  });

  afterAll(async () => {
    await controller?.stop();
  });

  async function createExperiment(
    server: any,
    name: string,
    duration: string,
    extra: object = {},
  ) {
    const res = await request(server)
      .post('/api/chaos/experiments')
      .send({
        ...extra,
        name,
        entityRef: 'component:default/checkout',
        duration,
        target: {
          namespace: sandbox.namespace,
          labelSelector: { app: 'checkout' },
          selection: { mode: 'percent', percent: 30 },
        },
        faults: [{ type: 'pod-kill' }],
        safety: {
          maxBlastRadiusPercent: 50,
          respectPodDisruptionBudgets: false,
        },
      });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function runUntil(
    server: any,
    runId: string,
    phases: string[],
  ): Promise<RunDetail> {
    return waitFor(
      async () => {
        const res = await request(server).get(`/api/chaos/runs/${runId}`);
        return phases.includes(res.body.phase)
          ? (res.body as RunDetail)
          : undefined;
      },
      {
        timeoutMs: 120_000,
        intervalMs: 500,
        description: `run ${runId} to reach ${phases.join('/')}`,
      },
    );
  }

  it('runs an experiment to completion and keeps targets, blast radius and verdict in the database', async () => {
    const backend = await startBackend(knex, AuthorizeResult.ALLOW);
    try {
      const experimentId = await createExperiment(
        backend.server,
        'kill-30',
        '2s',
      );
      const started = await request(backend.server)
        .post(`/api/chaos/experiments/${experimentId}/runs`)
        .send({});
      expect(started.status).toBe(201);

      const run = await runUntil(backend.server, started.body.id, [
        'Completed',
        'Failed',
        'Aborted',
      ]);
      expect(run).toMatchObject({
        phase: 'Completed',
        verdict: expect.any(String),
        blastRadius: { selected: 3, eligible: 10, percent: 30, limit: 50 },
      });
      expect(run.targets).toHaveLength(3);
      expect(run.timeline.map(e => e.phase)).toEqual(
        expect.arrayContaining(['Pending', 'Running', 'Completed']),
      );

      const row = await knex('chaos_runs')
        .where({ id: started.body.id })
        .first();
      expect(row.phase).toBe('Completed');
      expect(
        await knex('chaos_run_targets').where({ run_id: started.body.id }),
      ).toHaveLength(3);

      // The killed pods are gone and the ReplicaSet brought the count back.
      const core = sandbox.kc.makeApiClient(CoreV1Api);
      await waitFor(
        async () => {
          const pods = await core.listNamespacedPod({
            namespace: sandbox.namespace,
            labelSelector: 'app=checkout',
          });
          const names = pods.items
            .filter(
              p =>
                p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
            )
            .map(p => p.metadata!.name);
          return (
            names.length === 10 &&
            run.targets.every(t => !names.includes(t.pod))
          );
        },
        { timeoutMs: 60_000, description: '10 fresh checkout pods' },
      );
    } finally {
      await backend.stop();
    }
  });

  it('leaves exactly one complete record when the backend restarts mid-run', async () => {
    const first = await startBackend(knex, AuthorizeResult.ALLOW);
    const experimentId = await createExperiment(
      first.server,
      'restart-me',
      '6s',
    );
    const started = await request(first.server)
      .post(`/api/chaos/experiments/${experimentId}/runs`)
      .send({});
    await runUntil(first.server, started.body.id, ['Running']);
    await first.stop();

    const second = await startBackend(knex, AuthorizeResult.ALLOW);
    try {
      const run = await runUntil(second.server, started.body.id, [
        'Completed',
        'Failed',
        'Aborted',
      ]);
      expect(run.phase).toBe('Completed');
      expect(run.targets).toHaveLength(3);
      expect(
        await knex('chaos_runs').where({ experiment_id: experimentId }),
      ).toHaveLength(1);
      const phases = run.timeline.map(e => e.phase);
      expect(new Set(phases).size).toBe(phases.length);
      expect(phases).toContain('Completed');
    } finally {
      await second.stop();
    }
  });

  it('answers 403 to non-owners on run and abort, and an owner can abort a live run', async () => {
    const owner = await startBackend(knex, AuthorizeResult.ALLOW);
    try {
      const experimentId = await createExperiment(
        owner.server,
        'abort-me',
        '5m',
      );
      const started = await request(owner.server)
        .post(`/api/chaos/experiments/${experimentId}/runs`)
        .send({});
      await runUntil(owner.server, started.body.id, ['Running']);

      const stranger = await startBackend(knex, AuthorizeResult.DENY);
      try {
        const run = await request(stranger.server)
          .post(`/api/chaos/experiments/${experimentId}/runs`)
          .send({});
        expect(run.status).toBe(403);
        const abort = await request(stranger.server).post(
          `/api/chaos/runs/${started.body.id}/abort`,
        );
        expect(abort.status).toBe(403);
      } finally {
        await stranger.stop();
      }

      const abort = await request(owner.server).post(
        `/api/chaos/runs/${started.body.id}/abort`,
      );
      expect(abort.status).toBe(202);
      const run = await runUntil(owner.server, started.body.id, [
        'Aborted',
        'Completed',
        'Failed',
      ]);
      expect(run.phase).toBe('Aborted');
      expect(
        (
          await request(owner.server).post(
            `/api/chaos/runs/${started.body.id}/abort`,
          )
        ).status,
      ).toBe(409);
    } finally {
      await owner.stop();
    }
  });

  it('starts a scheduled experiment on its own, as the schedule, and runs it to completion', async () => {
    const scheduler = testScheduler();
    const backend = await startBackend(knex, AuthorizeResult.ALLOW, scheduler);
    try {
      const experimentId = await createExperiment(
        backend.server,
        'every-minute',
        '2s',
        { schedule: '* * * * *' },
      );
      // Nothing is due yet: the schedule starts from when it was set.
      await scheduler.triggerTask(SCHEDULED_RUNS_TASK_ID);
      expect(
        await knex('chaos_runs').where({ experiment_id: experimentId }),
      ).toHaveLength(0);
      // As if the schedule had been set two minutes ago: this minute's occurrence is due.
      await knex('chaos_experiments')
        .where({ id: experimentId })
        .update({ schedule_checked_at: new Date(Date.now() - 120_000) });
      await scheduler.triggerTask(SCHEDULED_RUNS_TASK_ID);
      const [row] = await knex('chaos_runs').where({
        experiment_id: experimentId,
      });
      expect(row.created_by).toBe('schedule (* * * * *)');
      const run = await runUntil(backend.server, row.id, [
        'Completed',
        'Failed',
        'Aborted',
      ]);
      expect(run).toMatchObject({
        phase: 'Completed',
        blastRadius: { selected: 3, eligible: 10 },
      });
    } finally {
      await backend.stop();
    }
  });
});

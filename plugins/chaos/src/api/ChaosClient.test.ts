import { setupServer } from 'msw/node';
import { registerMswTestHooks } from '@backstage/frontend-test-utils';
import { ResponseError } from '@backstage/errors';
import type {
  ExperimentSpecInput,
  RunDetail,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  ABORT_MESSAGE,
  ABORT_REASON,
  aRunDetail,
  anExperiment,
  at,
  fakeChaosBackend,
  testChaosClient,
} from './__testUtils__/fakeChaosBackend';

/**
 * The client generated from openapi.yaml, wrapped as ChaosApi, against the fake backend: what
 * the UI tests rely on the fake for. apiContract.test.ts in the backend holds the same
 * client to the real router.
 */
const server = setupServer();
registerMswTestHooks(server);

const spec = (
  name: string,
  overrides: Partial<ExperimentSpecInput> = {},
): ExperimentSpecInput => ({
  name,
  entityRef: 'component:default/checkout',
  target: { namespace: 'chaos-demo', labelSelector: { app: 'checkout' } },
  faults: [{ type: 'pod-kill' }],
  ...overrides,
});

async function rejection(promise: Promise<unknown>): Promise<ResponseError> {
  const error = await promise.then(
    () => undefined,
    e => e,
  );
  expect(error).toBeInstanceOf(ResponseError);
  return error as ResponseError;
}

describe('ChaosClient against the fake backend', () => {
  it('creates, replaces and deletes experiments as the backend does', async () => {
    const backend = fakeChaosBackend(server);
    const api = testChaosClient();

    const created = await api.createExperiment(spec('kill-one'));
    expect(created).toMatchObject({
      name: 'kill-one',
      duration: '60s',
      safety: { maxBlastRadiusPercent: 10 },
    });

    const replaced = await api.updateExperiment(
      created.id,
      spec('kill-one', { duration: '2m' }),
    );
    expect(replaced).toMatchObject({
      id: created.id,
      duration: '2m',
      createdAt: created.createdAt,
    });
    expect(replaced.updatedAt > created.updatedAt).toBe(true);
    expect(await api.getExperiment(created.id)).toEqual(replaced);

    await api.createExperiment(spec('kill-two'));
    const clash = await rejection(
      api.updateExperiment(created.id, spec('kill-two')),
    );
    expect(clash.response.status).toBe(409);
    const moved = await rejection(
      api.updateExperiment(
        created.id,
        spec('kill-one', { entityRef: 'component:default/cart' }),
      ),
    );
    expect(moved.response.status).toBe(400);
    expect(moved.body.error).toMatchObject({
      name: 'InputError',
      message: expect.stringContaining('entityRef'),
    });

    await api.deleteExperiment(created.id);
    expect(backend.experiments.map(e => e.name)).toEqual(['kill-two']);
    const gone = await rejection(api.deleteExperiment(created.id));
    expect(gone.response.status).toBe(404);
    expect(gone.body).toMatchObject({
      error: {
        name: 'NotFoundError',
        message: `No experiment with id ${created.id}`,
      },
      request: {
        method: 'DELETE',
        url: `/api/chaos/experiments/${created.id}`,
      },
      response: { statusCode: 404 },
    });
  });

  it('pages lists newest first with offset, limit and totalCount, and refuses a limit out of range', async () => {
    const experiments = Array.from({ length: 25 }, (_, i) =>
      anExperiment({
        id: `exp-${i}`,
        name: `kill-${i}`,
        createdAt: at(i),
        updatedAt: at(i),
      }),
    );
    fakeChaosBackend(server, {
      experiments: [
        ...experiments,
        anExperiment({ id: 'other', entityRef: 'component:default/cart' }),
      ],
    });
    const api = testChaosClient();

    const first = await api.listExperiments({
      entityRef: 'Component:default/checkout',
    });
    expect(first).toMatchObject({ totalCount: 25, offset: 0, limit: 20 });
    expect(first.items.map(e => e.name).slice(0, 2)).toEqual([
      'kill-24',
      'kill-23',
    ]);

    const last = await api.listExperiments({
      entityRef: 'component:default/checkout',
      offset: 20,
      limit: 10,
    });
    expect(last).toMatchObject({ totalCount: 25, offset: 20, limit: 10 });
    expect(last.items.map(e => e.name)).toEqual([
      'kill-4',
      'kill-3',
      'kill-2',
      'kill-1',
      'kill-0',
    ]);

    const tooMany = await rejection(
      api.listExperiments({
        entityRef: 'component:default/checkout',
        limit: 101,
      }),
    );
    expect(tooMany.response.status).toBe(400);
    expect(tooMany.body.error.message).toContain('limit');

    const runs = Array.from({ length: 3 }, (_, i) =>
      aRunDetail({ id: `run-${i}`, createdAt: at(i) }),
    );
    fakeChaosBackend(server, { runs });
    const page = await api.listRuns({
      entityRef: 'component:default/checkout',
      offset: 1,
      limit: 1,
    });
    expect(page).toMatchObject({ totalCount: 3, offset: 1, limit: 1 });
    expect(page.items.map(r => r.id)).toEqual(['run-1']);
    // A list holds summaries: the detail's fields stay out.
    expect(page.items[0]).not.toHaveProperty('targets');
  });

  it('answers a run request with the recorded Pending run, and an abort with the run as it was, then rolls back', async () => {
    const backend = fakeChaosBackend(server, { experiments: [anExperiment()] });
    backend.nextRun = (experiment, id) => [
      aRunDetail({
        id,
        experimentId: experiment.id,
        phase: 'Running',
        verdict: undefined,
        reason: undefined,
        message: undefined,
        finishedAt: undefined,
      }),
    ];
    const api = testChaosClient();

    const started = await api.runExperiment('exp-1', { dryRun: true });
    expect(started).toMatchObject({
      phase: 'Pending',
      dryRun: true,
      experimentId: 'exp-1',
    });
    expect(started).not.toHaveProperty('verdict');

    const answer = await api.abortRun(started.id);
    expect(answer).toMatchObject({ id: started.id, phase: 'Running' });
    expect(answer).not.toHaveProperty('steps');

    const rollingBack = await api.getRun(started.id);
    expect(rollingBack).toMatchObject({
      phase: 'RollingBack',
      reason: ABORT_REASON,
      message: ABORT_MESSAGE,
    });
    const aborted = await api.getRun(started.id);
    expect(aborted).toMatchObject({
      phase: 'Aborted',
      verdict: 'Inconclusive',
      reason: ABORT_REASON,
    });
    expect(aborted.timeline.map(e => e.phase).slice(-2)).toEqual([
      'RollingBack',
      'Aborted',
    ]);

    const again = await rejection(api.abortRun(started.id));
    expect(again.response.status).toBe(409);
    expect((await rejection(api.abortRun('nope'))).response.status).toBe(404);
    expect((await rejection(api.runExperiment('nope'))).response.status).toBe(
      404,
    );
  });

  it('ends a run aborted before any injection at once, as the agent does', async () => {
    fakeChaosBackend(server, {
      runs: [
        aRunDetail({
          phase: 'Preflight',
          verdict: undefined,
          reason: undefined,
          message: undefined,
          finishedAt: undefined,
        }),
      ],
    });
    const api = testChaosClient();
    await api.abortRun('run-1');
    expect(await api.getRun('run-1')).toMatchObject({
      phase: 'Aborted',
      verdict: 'Inconclusive',
      reason: ABORT_REASON,
      message: `${ABORT_MESSAGE} before any injection`,
    });
  });

  it('refuses to serve an answer outside the schema of its operation', async () => {
    const invalid = { ...aRunDetail(), pods: 3 } as RunDetail;
    const backend = fakeChaosBackend(server, {
      runs: [
        invalid,
        aRunDetail({
          id: 'run-2',
          blastRadius: { selected: -1, eligible: 10, percent: 0, limit: 50 },
        }),
      ],
    });
    const api = testChaosClient();
    jest.spyOn(console, 'error').mockImplementation(() => {});
    const extra = await rejection(api.getRun('run-1'));
    expect(extra.response.status).toBe(500);
    expect(extra.cause.message).toBe(
      'Invalid fake getRun answer: fields outside its schema: pods',
    );
    const malformed = await rejection(api.getRun('run-2'));
    expect(malformed.cause.message).toContain('blastRadius.selected');
    // The list of the same runs is refused too.
    expect(
      (
        await rejection(
          api.listRuns({ entityRef: 'component:default/checkout' }),
        )
      ).cause.message,
    ).toContain('items.1.blastRadius.selected');
    expect(backend.violations).toHaveLength(3);
  });
});

import { http, HttpResponse } from 'msw';
import type { setupServer } from 'msw/node';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import {
  ConflictError,
  InputError,
  NotFoundError,
  serializeError,
} from '@backstage/errors';
import {
  DEFAULT_CEILINGS,
  DEFAULT_PAGE_LIMIT,
  type EntityCeilings,
  MAX_PAGE_LIMIT,
  type ChaosApiOperation,
  type Experiment,
  type ExperimentSource,
  type ProbeSample,
  type Run,
  type RunDetail,
  type RunPhase,
  errorResponseSchema,
  experimentSpecSchema,
  isTerminalPhase,
  parseApiAnswer,
  resilienceScore,
  runRequestSchema,
  runSummaryOf,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { ChaosClient } from '../ChaosClient';

export const BASE = 'http://chaos.test/api/chaos';

/** The real client, over fetch, against the msw handlers below. */
export function testChaosClient(): ChaosClient {
  return new ChaosClient({
    discoveryApi: { getBaseUrl: async () => BASE },
    fetchApi: { fetch: (input, init) => fetch(input, init) },
  });
}

const T0 = Date.parse('2025-06-01T10:00:00Z');
export const at = (seconds: number): string =>
  new Date(T0 + seconds * 1000).toISOString();

export function anExperiment(overrides: Partial<Experiment> = {}): Experiment {
  const spec = experimentSpecSchema.parse({
    name: 'kill-one',
    entityRef: 'component:default/checkout',
    target: { namespace: 'chaos-demo', labelSelector: { app: 'checkout' } },
    faults: [{ type: 'pod-kill' }],
    duration: '30s',
  });
  return {
    ...spec,
    id: 'exp-1',
    createdBy: 'user:default/guest',
    createdAt: at(0),
    updatedAt: at(0),
    ...overrides,
  };
}

const probePhaseAt = (seconds: number): ProbeSample['phase'] => {
  if (seconds < 10) return 'before';
  return seconds < 45 ? 'during' : 'after';
};

/** A finished, passed run with three targets, a blast radius and one probe. */
export function aRunDetail(overrides: Partial<RunDetail> = {}): RunDetail {
  return {
    id: 'run-1',
    experimentId: 'exp-1',
    experimentName: 'kill-one',
    entityRef: 'component:default/checkout',
    cluster: 'sandbox',
    namespace: 'chaos-demo',
    resourceName: 'kill-one-abc12',
    dryRun: false,
    phase: 'Completed',
    verdict: 'Passed',
    reason: 'SteadyStateHeld',
    message: 'Every probe held during and after the faults',
    blastRadius: { selected: 3, eligible: 10, percent: 30, limit: 50 },
    createdBy: 'user:default/guest',
    createdAt: at(0),
    updatedAt: at(60),
    startedAt: at(0),
    finishedAt: at(60),
    targets: ['checkout-7d9f-a', 'checkout-7d9f-b', 'checkout-7d9f-c'].map(
      (pod, i) => ({
        pod,
        node: `node-${i}`,
        fault: 'pod-kill' as const,
        phase: 'Recovered' as const,
        reason: 'PodDeleted',
        message: `evicted ${pod}`,
        events: [],
      }),
    ),
    probes: [
      {
        name: 'p99-latency',
        type: 'promql',
        comparison: '<',
        threshold: 500,
        verdict: 'Passed',
        consecutiveFailures: 0,
        samples: [0, 10, 20, 30, 40, 50].map(s => ({
          time: at(s),
          phase: probePhaseAt(s),
          value: 200 + s * 3,
          ok: true,
        })),
      },
    ],
    steps: [],
    timeline: [
      { time: at(0), phase: 'Pending' },
      {
        time: at(2),
        phase: 'Preflight',
        reason: 'Checking',
        message: 'namespace opted in, 10 pods eligible',
      },
      { time: at(8), phase: 'Injecting' },
      { time: at(10), phase: 'Running' },
      { time: at(40), phase: 'RollingBack', reason: 'DurationElapsed' },
      { time: at(60), phase: 'Completed', reason: 'SteadyStateHeld' },
    ],
    ...overrides,
  };
}

/** The summary of a run, as lists and the abort answer give it. */
export const summaryOf = runSummaryOf;

/** A run moving through phases: each GET returns the next state, then the last one forever. */
export function progression(base: RunDetail, phases: RunPhase[]): RunDetail[] {
  return phases.map((phase, i) => ({
    ...base,
    phase,
    verdict: phase === 'Completed' ? base.verdict : undefined,
    updatedAt: at(i),
    finishedAt:
      phase === 'Completed' || phase === 'Aborted' || phase === 'Failed'
        ? at(i)
        : undefined,
    timeline: base.timeline.slice(0, i + 1),
  }));
}

/**
 * What the agent writes when spec.abort is set (agent/src/controller/steps/handleStopRequest.ts
 * and rollBack.ts), as the backend mirrors it: the reason and message of the stop, then the
 * verdict of a run whose hypothesis could not conclude.
 */
export const ABORT_REASON = 'AbortRequested';
export const ABORT_MESSAGE = 'spec.abort was set; stopping';

/** The states a live run goes through once aborted, from `run` as it is now. */
function abortedStates(run: RunDetail, time: () => string): RunDetail[] {
  const stop = { reason: ABORT_REASON, message: ABORT_MESSAGE };
  if (run.phase === 'Pending' || run.phase === 'Preflight') {
    // Nothing was injected: the agent ends the run at once.
    const finishedAt = time();
    const message = `${ABORT_MESSAGE} before any injection`;
    return [
      {
        ...run,
        phase: 'Aborted',
        verdict: 'Inconclusive',
        ...stop,
        message,
        updatedAt: finishedAt,
        finishedAt,
        timeline: [
          ...run.timeline,
          { time: finishedAt, phase: 'Aborted', ...stop, message },
        ],
      },
    ];
  }
  const rollingBackAt = time();
  const rollingBack: RunDetail = {
    ...run,
    phase: 'RollingBack',
    ...stop,
    updatedAt: rollingBackAt,
    timeline: [
      ...run.timeline,
      { time: rollingBackAt, phase: 'RollingBack', ...stop },
    ],
  };
  const finishedAt = time();
  return [
    rollingBack,
    {
      ...rollingBack,
      phase: 'Aborted',
      verdict: 'Inconclusive',
      updatedAt: finishedAt,
      finishedAt,
      timeline: [
        ...rollingBack.timeline,
        { time: finishedAt, phase: 'Aborted', ...stop },
      ],
    },
  ];
}

/** An operation of the API, by the generated client's method name. */
export type FakeOperation = ChaosApiOperation | 'deleteExperiment';

export type FakeChaosBackend = {
  experiments: Experiment[];
  /** Sources of experiments kept as code, with their problems (GET /sources). */
  sources: ExperimentSource[];
  /** Per run id, the states still to be served by GET /runs/{id}; the last one sticks. */
  runs: Map<string, RunDetail[]>;
  /** Number of GET /runs/{id} per id. */
  runGets: Map<string, number>;
  aborted: string[];
  started: { experimentId: string; dryRun: boolean }[];
  /** What a newly started run goes through; default: straight to Completed. */
  nextRun?: (
    experiment: Experiment,
    id: string,
    dryRun: boolean,
  ) => RunDetail[];
  /** Operations that answer with an error, as the backend's error middleware would. */
  failures: Map<FakeOperation, Error>;
  /** Why the fake refused to serve an answer: each is also answered 500 with the reason. */
  violations: string[];
  /** What GET /ceilings answers (the entityRef is the request's). */
  ceilings: Omit<EntityCeilings, 'entityRef'>;
  addRun(states: RunDetail | RunDetail[]): void;
};

/** Status codes of Backstage's error middleware, by error name. */
const STATUS_OF: Record<string, number> = {
  InputError: 400,
  AuthenticationError: 401,
  NotAllowedError: 403,
  NotFoundError: 404,
  ConflictError: 409,
  NotImplementedError: 501,
  ServiceUnavailableError: 503,
};

function normalizeEntityRef(ref: string): string {
  try {
    return stringifyEntityRef(parseEntityRef(ref));
  } catch (error) {
    throw new InputError(`entityRef: ${(error as Error).message}`);
  }
}

/** offset and limit as the OpenAPI validator in front of the real router reads them. */
function pageOf(url: URL): {
  entityRef?: string;
  offset: number;
  limit: number;
} {
  const integer = (
    name: string,
    fallback: number,
    min: number,
    max: number,
  ): number => {
    const raw = url.searchParams.get(name);
    if (raw === null) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      throw new InputError(`${name}: must be an integer from ${min} to ${max}`);
    }
    return value;
  };
  const entityRef = url.searchParams.get('entityRef');
  return {
    entityRef: entityRef ? normalizeEntityRef(entityRef) : undefined,
    offset: integer('offset', 0, 0, Number.MAX_SAFE_INTEGER),
    limit: integer('limit', DEFAULT_PAGE_LIMIT, 1, MAX_PAGE_LIMIT),
  };
}

function page<T>(
  all: T[],
  { offset, limit }: { offset: number; limit: number },
) {
  return {
    items: all.slice(offset, offset + limit),
    totalCount: all.length,
    offset,
    limit,
  };
}

const newestFirst = (
  a: { createdAt: string; id: string },
  b: { createdAt: string; id: string },
) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id);

/**
 * An in-memory chaos backend behind msw that answers as the real one does: the same routes
 * (create, replace, delete, paging with offset/limit/totalCount, runs, abort), status codes and
 * error bodies, so components are tested through the real ChaosClient over fetch. Every answer
 * is checked exactly against the model's schema of its operation (chaosApiAnswers), and every
 * error against the error body's. An answer that does not match is not served: the fake answers
 * 500 with the reason instead (and keeps it in `violations`), so the test fails on it.
 */
export function fakeChaosBackend(
  server: ReturnType<typeof setupServer>,
  init: {
    experiments?: Experiment[];
    runs?: RunDetail[];
    sources?: ExperimentSource[];
  } = {},
): FakeChaosBackend {
  const state: FakeChaosBackend = {
    experiments: [...(init.experiments ?? [])],
    sources: [...(init.sources ?? [])],
    runs: new Map(),
    runGets: new Map(),
    aborted: [],
    started: [],
    failures: new Map(),
    violations: [],
    ceilings: {
      ...DEFAULT_CEILINGS,
      cluster: 'sandbox',
      allowedFaultTypes: [...DEFAULT_CEILINGS.allowedFaultTypes],
      probeHosts: { allow: [], deny: [] },
    },
    addRun(states) {
      const list = Array.isArray(states) ? states : [states];
      state.runs.set(list[0].id, [...list]);
    },
  };
  for (const run of init.runs ?? []) state.addRun(run);
  const current = (id: string) => state.runs.get(id)?.[0];
  // The fake's clock: what it creates is newer than the given data, and never depends on today.
  let tick = 1000;
  const now = () => at(tick++);
  let ids = 0;

  /** A success answer, checked as it travels: JSON, so without the fields that are undefined. */
  const ok = (operation: ChaosApiOperation, body: unknown, status = 200) => {
    const wire = JSON.parse(JSON.stringify(body));
    parseApiAnswer(operation, wire, `fake ${operation} answer`);
    return HttpResponse.json(wire, { status });
  };

  const failed = (request: Request, error: Error) => {
    const url = new URL(request.url);
    const statusCode = STATUS_OF[error.name] ?? 500;
    const body = errorResponseSchema.parse({
      error: serializeError(error),
      request: { method: request.method, url: url.pathname + url.search },
      response: { statusCode },
    });
    return HttpResponse.json(body, { status: statusCode });
  };

  /** One route: injected failures and thrown Backstage errors become error answers. */
  const route =
    (
      operation: FakeOperation,
      handle: (
        request: Request,
        params: Record<string, string>,
      ) => Promise<Response> | Response,
    ) =>
    async ({
      request,
      params,
    }: {
      request: Request;
      params: Record<string, string | readonly string[] | undefined>;
    }) => {
      const failure = state.failures.get(operation);
      if (failure) return failed(request, failure);
      try {
        return await handle(request, params as Record<string, string>);
      } catch (error) {
        if ((error as Error).name in STATUS_OF)
          return failed(request, error as Error);
        // An answer outside its schema (or a bug of the fake): a 500 that says why, so the
        // component under test shows it and the test fails on it.
        state.violations.push((error as Error).message);
        // eslint-disable-next-line no-console
        console.error(error);
        return failed(request, error as Error);
      }
    };

  const experimentOf = (id: string) => {
    const found = state.experiments.find(e => e.id === id);
    if (!found) throw new NotFoundError(`No experiment with id ${id}`);
    return found;
  };

  const parseSpec = async (request: Request) => {
    const parsed = experimentSpecSchema.safeParse(await request.json());
    if (!parsed.success)
      throw new InputError(`Invalid experiment: ${parsed.error.message}`);
    return {
      ...parsed.data,
      entityRef: normalizeEntityRef(parsed.data.entityRef),
    };
  };

  /** Experiments kept as code change at their source, as the backend says (409). */
  const assertNotManaged = (experiment: Experiment, verb: string) => {
    if (experiment.managedBy) {
      throw new ConflictError(
        `Experiment '${experiment.name}' is kept as code (${experiment.managedBy.source}): ${verb} it there`,
      );
    }
  };

  const assertNameFree = (
    spec: { entityRef: string; name: string },
    exceptId?: string,
  ) => {
    if (
      state.experiments.some(
        e =>
          e.id !== exceptId &&
          e.entityRef === spec.entityRef &&
          e.name === spec.name,
      )
    ) {
      throw new ConflictError(
        `${spec.entityRef} already has an experiment named ${spec.name}`,
      );
    }
  };

  server.use(
    http.get(
      `${BASE}/experiments`,
      route('listExperiments', request => {
        const query = pageOf(new URL(request.url));
        const all = state.experiments
          .filter(e => !query.entityRef || e.entityRef === query.entityRef)
          .sort(newestFirst);
        return ok('listExperiments', page(all, query));
      }),
    ),
    http.get(
      `${BASE}/experiments/:id`,
      route('getExperiment', (_request, params) =>
        ok('getExperiment', experimentOf(params.id)),
      ),
    ),
    http.post(
      `${BASE}/experiments`,
      route('createExperiment', async request => {
        const spec = await parseSpec(request);
        assertNameFree(spec);
        const time = now();
        const created: Experiment = {
          ...spec,
          id: `experiment-${++ids}`,
          createdBy: 'user:default/guest',
          createdAt: time,
          updatedAt: time,
        };
        state.experiments.push(created);
        return ok('createExperiment', created, 201);
      }),
    ),
    http.put(
      `${BASE}/experiments/:id`,
      route('updateExperiment', async (request, params) => {
        const spec = await parseSpec(request);
        const existing = experimentOf(params.id);
        assertNotManaged(existing, 'change');
        if (spec.entityRef !== existing.entityRef) {
          throw new InputError(
            `entityRef: an experiment cannot move to another entity (it belongs to ${existing.entityRef})`,
          );
        }
        assertNameFree(spec, existing.id);
        const updated: Experiment = {
          ...spec,
          id: existing.id,
          createdBy: existing.createdBy,
          createdAt: existing.createdAt,
          updatedAt: now(),
        };
        state.experiments = state.experiments.map(e =>
          e.id === existing.id ? updated : e,
        );
        return ok('updateExperiment', updated);
      }),
    ),
    http.delete(
      `${BASE}/experiments/:id`,
      route('deleteExperiment', (_request, params) => {
        assertNotManaged(experimentOf(params.id), 'delete');
        state.experiments = state.experiments.filter(e => e.id !== params.id);
        return new HttpResponse(null, { status: 204 });
      }),
    ),
    http.post(
      `${BASE}/experiments/:id/runs`,
      route('runExperiment', async (request, params) => {
        const text = await request.text();
        const parsed = runRequestSchema.safeParse(text ? JSON.parse(text) : {});
        if (!parsed.success)
          throw new InputError(`Invalid run request: ${parsed.error.message}`);
        const { dryRun } = parsed.data;
        const experiment = experimentOf(params.id);
        state.started.push({ experimentId: experiment.id, dryRun });
        const id = `run-${state.runs.size + 1}`;
        const createdAt = now();
        const states = state.nextRun?.(experiment, id, dryRun) ?? [
          aRunDetail({
            id,
            experimentId: experiment.id,
            experimentName: experiment.name,
            entityRef: experiment.entityRef,
            dryRun,
            createdAt,
          }),
        ];
        state.addRun(states);
        // The backend answers with the run as it records it, before the cluster has said anything.
        const first = states[0];
        const recorded: Run = {
          id: first.id,
          experimentId: experiment.id,
          experimentName: experiment.name,
          entityRef: experiment.entityRef,
          cluster: first.cluster,
          namespace: experiment.target.namespace,
          resourceName: first.resourceName,
          dryRun,
          phase: 'Pending',
          createdBy: 'user:default/guest',
          createdAt: first.createdAt,
          updatedAt: first.createdAt,
        };
        return ok('runExperiment', recorded, 201);
      }),
    ),
    http.get(
      `${BASE}/sources`,
      route('listExperimentSources', request => {
        const entityRef = new URL(request.url).searchParams.get('entityRef');
        if (!entityRef) throw new InputError('entityRef: required');
        const normalized = normalizeEntityRef(entityRef);
        return ok('listExperimentSources', {
          items: state.sources.filter(s => s.entityRef === normalized),
        });
      }),
    ),
    http.get(
      `${BASE}/runs`,
      route('listRuns', request => {
        const query = pageOf(new URL(request.url));
        const all = [...state.runs.keys()]
          .map(id => current(id)!)
          .filter(r => !query.entityRef || r.entityRef === query.entityRef)
          .sort(newestFirst)
          .map(runSummaryOf);
        return ok('listRuns', page(all, query));
      }),
    ),
    http.get(
      `${BASE}/runs/:id`,
      route('getRun', (_request, params) => {
        const states = state.runs.get(params.id);
        if (!states) throw new NotFoundError(`No run with id ${params.id}`);
        state.runGets.set(params.id, (state.runGets.get(params.id) ?? 0) + 1);
        const served = states.length > 1 ? states.shift()! : states[0];
        return ok('getRun', served);
      }),
    ),
    http.get(
      `${BASE}/score`,
      route('getResilienceScore', request => {
        const entityRef = normalizeEntityRef(
          new URL(request.url).searchParams.get('entityRef') ?? '',
        );
        // The backend's own computation, over the fake's runs: passed, not dry, with the faults
        // of the experiment that started them.
        const lastPassed = new Map<string, Date>();
        for (const id of state.runs.keys()) {
          const run = current(id)!;
          if (
            run.entityRef !== entityRef ||
            run.dryRun ||
            run.phase !== 'Completed' ||
            run.verdict !== 'Passed' ||
            !run.finishedAt
          )
            continue;
          const experiment = state.experiments.find(
            e => e.id === run.experimentId,
          );
          for (const fault of experiment?.faults ?? []) {
            const finished = new Date(run.finishedAt);
            if (!(lastPassed.get(fault.type)! > finished))
              lastPassed.set(fault.type, finished);
          }
        }
        return ok(
          'getResilienceScore',
          resilienceScore({
            entityRef,
            faultTypes: state.ceilings.allowedFaultTypes,
            lastPassed,
            now: new Date(now()),
          }),
        );
      }),
    ),
    http.get(
      `${BASE}/ceilings`,
      route('getEntityCeilings', request => {
        const entityRef = normalizeEntityRef(
          new URL(request.url).searchParams.get('entityRef') ?? '',
        );
        return ok('getEntityCeilings', { entityRef, ...state.ceilings });
      }),
    ),
    http.post(
      `${BASE}/runs/:id/abort`,
      route('abortRun', (_request, params) => {
        const run = current(params.id);
        if (!run) throw new NotFoundError(`No run with id ${params.id}`);
        if (isTerminalPhase(run.phase))
          throw new ConflictError(
            `Run ${params.id} has already ended (${run.phase})`,
          );
        state.aborted.push(params.id);
        state.runs.set(params.id, abortedStates(run, now));
        // The backend answers with the run as it was recorded when the abort was handed over.
        return ok('abortRun', runSummaryOf(run), 202);
      }),
    ),
  );
  return state;
}

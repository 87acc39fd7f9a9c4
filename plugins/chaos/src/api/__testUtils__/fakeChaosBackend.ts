import { http, HttpResponse } from 'msw';
import type { setupServer } from 'msw/node';
import {
  Experiment,
  ProbeSample,
  Run,
  RunDetail,
  RunPhase,
  experimentSpecSchema,
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
export const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

export function anExperiment(overrides: Partial<Experiment> = {}): Experiment {
  const spec = experimentSpecSchema.parse({
    name: 'kill-one',
    entityRef: 'component:default/checkout',
    target: { namespace: 'chaos-demo', labelSelector: { app: 'checkout' } },
    faults: [{ type: 'pod-kill' }],
    duration: '30s',
  });
  return { ...spec, id: 'exp-1', createdBy: 'user:default/guest', createdAt: at(0), updatedAt: at(0), ...overrides };
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
    targets: ['checkout-7d9f-a', 'checkout-7d9f-b', 'checkout-7d9f-c'].map((pod, i) => ({
      pod,
      node: `node-${i}`,
      fault: 'pod-kill' as const,
      phase: 'Recovered' as const,
      reason: 'PodDeleted',
      message: `evicted ${pod}`,
      events: [],
    })),
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
      { time: at(2), phase: 'Preflight', reason: 'Checking', message: 'namespace opted in, 10 pods eligible' },
      { time: at(8), phase: 'Injecting' },
      { time: at(10), phase: 'Running' },
      { time: at(40), phase: 'RollingBack', reason: 'DurationElapsed' },
      { time: at(60), phase: 'Completed', reason: 'SteadyStateHeld' },
    ],
    ...overrides,
  };
}

export function summaryOf(run: RunDetail): Run {
  const { targets: _t, probes: _p, steps: _s, abortLatencyMs: _a, timeline: _l, ...summary } = run;
  return summary;
}

/** A run moving through phases: each GET returns the next state, then the last one forever. */
export function progression(base: RunDetail, phases: RunPhase[]): RunDetail[] {
  return phases.map((phase, i) => ({
    ...base,
    phase,
    verdict: phase === 'Completed' ? base.verdict : undefined,
    updatedAt: at(i),
    finishedAt: phase === 'Completed' || phase === 'Aborted' || phase === 'Failed' ? at(i) : undefined,
    timeline: base.timeline.slice(0, i + 1),
  }));
}

export type FakeChaosBackend = {
  experiments: Experiment[];
  /** Per run id, the states still to be served by GET /runs/{id}; the last one sticks. */
  runs: Map<string, RunDetail[]>;
  /** Number of GET /runs/{id} per id. */
  runGets: Map<string, number>;
  aborted: string[];
  started: { experimentId: string; dryRun: boolean }[];
  /** What a newly started run goes through; default: straight to Completed. */
  nextRun?: (experiment: Experiment, id: string, dryRun: boolean) => RunDetail[];
  addRun(states: RunDetail | RunDetail[]): void;
};

/**
 * A tiny in-memory chaos backend behind msw, answering as the real one does (same status codes
 * and error bodies), so components are tested through the real ChaosClient over fetch.
 */
export function fakeChaosBackend(server: ReturnType<typeof setupServer>, init: { experiments?: Experiment[]; runs?: RunDetail[] } = {}): FakeChaosBackend {
  const state: FakeChaosBackend = {
    experiments: [...(init.experiments ?? [])],
    runs: new Map(),
    runGets: new Map(),
    aborted: [],
    started: [],
    addRun(states) {
      const list = Array.isArray(states) ? states : [states];
      state.runs.set(list[0].id, [...list]);
    },
  };
  for (const run of init.runs ?? []) state.addRun(run);
  const current = (id: string) => {
    const states = state.runs.get(id);
    return states?.[0];
  };

  server.use(
    http.get(`${BASE}/experiments`, ({ request }) => {
      const url = new URL(request.url);
      const items = state.experiments.filter(e => e.entityRef === url.searchParams.get('entityRef'));
      return HttpResponse.json({ items, totalCount: items.length, offset: 0, limit: 10 });
    }),
    http.get(`${BASE}/experiments/:id`, ({ params }) => {
      const found = state.experiments.find(e => e.id === params.id);
      return found
        ? HttpResponse.json(found)
        : HttpResponse.json({ error: { name: 'NotFoundError', message: `no experiment ${params.id}` } }, { status: 404 });
    }),
    http.post(`${BASE}/experiments`, async ({ request }) => {
      const parsed = experimentSpecSchema.safeParse(await request.json());
      if (!parsed.success) {
        return HttpResponse.json({ error: { name: 'InputError', message: parsed.error.message } }, { status: 400 });
      }
      const now = new Date().toISOString();
      const created = { ...parsed.data, id: String(state.experiments.length + 1), createdBy: 'user:default/guest', createdAt: now, updatedAt: now };
      state.experiments.push(created);
      return HttpResponse.json(created, { status: 201 });
    }),
    http.delete(`${BASE}/experiments/:id`, ({ params }) => {
      state.experiments = state.experiments.filter(e => e.id !== params.id);
      return new HttpResponse(null, { status: 204 });
    }),
    http.post(`${BASE}/experiments/:id/runs`, async ({ params, request }) => {
      const experiment = state.experiments.find(e => e.id === params.id);
      if (!experiment) {
        return HttpResponse.json({ error: { name: 'NotFoundError', message: `no experiment ${params.id}` } }, { status: 404 });
      }
      const body = (await request.json()) as { dryRun?: boolean };
      const dryRun = body.dryRun ?? false;
      state.started.push({ experimentId: experiment.id, dryRun });
      const id = `run-${state.runs.size + 1}`;
      const states = state.nextRun?.(experiment, id, dryRun) ?? [
        aRunDetail({ id, experimentId: experiment.id, experimentName: experiment.name, entityRef: experiment.entityRef, dryRun, createdAt: new Date().toISOString() }),
      ];
      state.addRun(states);
      return HttpResponse.json(summaryOf(states[0]), { status: 201 });
    }),
    http.get(`${BASE}/runs`, ({ request }) => {
      const url = new URL(request.url);
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 20);
      const all = [...state.runs.keys()]
        .map(id => current(id)!)
        .filter(r => r.entityRef === url.searchParams.get('entityRef'))
        .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
        .map(summaryOf);
      return HttpResponse.json({ items: all.slice(offset, offset + limit), totalCount: all.length, offset, limit });
    }),
    http.get(`${BASE}/runs/:id`, ({ params }) => {
      const id = String(params.id);
      const states = state.runs.get(id);
      if (!states) {
        return HttpResponse.json({ error: { name: 'NotFoundError', message: `no run ${id}` } }, { status: 404 });
      }
      state.runGets.set(id, (state.runGets.get(id) ?? 0) + 1);
      const served = states.length > 1 ? states.shift()! : states[0];
      return HttpResponse.json(served);
    }),
    http.post(`${BASE}/runs/:id/abort`, ({ params }) => {
      const id = String(params.id);
      const run = current(id);
      if (!run) {
        return HttpResponse.json({ error: { name: 'NotFoundError', message: `no run ${id}` } }, { status: 404 });
      }
      state.aborted.push(id);
      const rollingBack: RunDetail = {
        ...run,
        phase: 'RollingBack',
        updatedAt: at(100),
        timeline: [...run.timeline, { time: at(100), phase: 'RollingBack', reason: 'Aborted', message: 'aborted by user:default/guest' }],
      };
      const aborted: RunDetail = {
        ...rollingBack,
        phase: 'Aborted',
        verdict: undefined,
        reason: 'Aborted',
        message: 'aborted by user:default/guest',
        updatedAt: at(101),
        finishedAt: at(101),
        timeline: [...rollingBack.timeline, { time: at(101), phase: 'Aborted', reason: 'Aborted' }],
      };
      state.runs.set(id, [rollingBack, aborted]);
      return HttpResponse.json(summaryOf(rollingBack), { status: 202 });
    }),
  );
  return state;
}

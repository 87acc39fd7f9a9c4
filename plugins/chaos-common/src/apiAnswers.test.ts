import { experimentSpecSchema } from './model';
import { parseApiAnswer } from './apiAnswers';
import { type RunDetail, runSummaryOf } from './api';

const run = {
  id: 'run-1',
  experimentId: 'exp-1',
  experimentName: 'kill-one',
  entityRef: 'component:default/checkout',
  cluster: 'sandbox',
  namespace: 'chaos-demo',
  resourceName: 'kill-one-abc12',
  dryRun: false,
  phase: 'Running',
  blastRadius: { selected: 3, eligible: 10, percent: 30, limit: 50 },
  createdBy: 'user:default/guest',
  createdAt: '2025-06-01T10:00:00.000Z',
  updatedAt: '2025-06-01T10:00:01.000Z',
};

describe('parseApiAnswer', () => {
  it('accepts an answer that is exactly its schema', () => {
    expect(parseApiAnswer('abortRun', run)).toEqual(run);
  });

  it('names the fields an answer has beyond its schema, nested ones included', () => {
    expect(() =>
      parseApiAnswer(
        'abortRun',
        { ...run, steps: [], abortLatencyMs: 3 },
        'abort answer',
      ),
    ).toThrow(
      'Invalid abort answer: fields outside its schema: steps, abortLatencyMs',
    );
    const list = {
      items: [{ ...run, blastRadius: { ...run.blastRadius, pods: 3 } }],
      totalCount: 1,
      offset: 0,
      limit: 20,
    };
    expect(() => parseApiAnswer('listRuns', list)).toThrow(
      'fields outside its schema: items.0.blastRadius.pods',
    );
  });

  it('names a missing or malformed field', () => {
    const { phase: _phase, ...withoutPhase } = run;
    expect(() => parseApiAnswer('getRun', withoutPhase)).toThrow(/phase: /);
    expect(() =>
      parseApiAnswer('abortRun', { ...run, createdAt: 'yesterday' }),
    ).toThrow(/createdAt: /);
  });

  it('does not count defaults the answer carries as extra, keeps label maps whole, and names defaults it lacks', () => {
    const spec = experimentSpecSchema.parse({
      name: 'kill-one',
      entityRef: 'component:default/checkout',
      target: {
        namespace: 'shop',
        labelSelector: { app: 'checkout', tier: 'web' },
      },
      faults: [{ type: 'pod-kill' }],
    });
    const experiment = {
      ...spec,
      id: 'e',
      createdBy: 'u',
      createdAt: run.createdAt,
      updatedAt: run.updatedAt,
    };
    expect(parseApiAnswer('getExperiment', experiment)).toEqual(experiment);
    // The backend answers with defaults applied: an answer without them is not one it sends.
    const { safety: _safety, ...withoutSafety } = experiment;
    expect(() => parseApiAnswer('getExperiment', withoutSafety)).toThrow(
      'missing fields: safety',
    );
    const withoutGrace = { ...experiment, faults: [{ type: 'pod-kill' }] };
    expect(() => parseApiAnswer('getExperiment', withoutGrace)).toThrow(
      'missing fields: faults.0.gracePeriodSeconds',
    );
  });
});

describe('runSummaryOf', () => {
  it('keeps exactly the fields of a Run, so the summary of a detail is a valid Run answer', () => {
    const detail = {
      ...run,
      targets: [],
      probes: [],
      steps: [],
      abortLatencyMs: 12,
      timeline: [],
    } as RunDetail;
    expect(runSummaryOf(detail)).toEqual(run);
    expect(parseApiAnswer('abortRun', runSummaryOf(detail))).toEqual(run);
  });
});

import {
  DEFAULT_CEILINGS,
  type EntityCeilings,
  FAULT_TYPES,
  experimentSpecSchema,
  readEntityTarget,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  type FormValues,
  emptyFormValues,
  formValuesFromExperiment,
  inputPathFor,
  issuesOfAnswer,
  newFault,
  newProbe,
  newStep,
  parseSelector,
  placeIssues,
  validateValues,
} from './formModel';

const entityRef = 'component:default/checkout';
const { target: entityTarget } = readEntityTarget({
  'backstage.io/kubernetes-namespace': 'chaos-demo',
  'backstage.io/kubernetes-label-selector': 'app=checkout',
  'chaoscraft.io/cluster': 'sandbox',
});
const ceilings: EntityCeilings = {
  ...DEFAULT_CEILINGS,
  entityRef,
  cluster: 'sandbox',
  maxBlastRadiusPercent: 30,
  allowedFaultTypes: FAULT_TYPES.filter(t => t !== 'memory-stress'),
  probeHosts: { allow: [], deny: [] },
};
const context = { entityRef, entityTarget, ceilings };

const valid = (): FormValues => ({
  ...emptyFormValues({
    namespace: 'chaos-demo',
    labelSelector: { app: 'checkout' },
  }),
  name: 'kill-some',
});

/** Where the form shows each issue: by the name of the input. */
const placed = (values: FormValues) =>
  placeIssues(validateValues(values, context).issues);

describe('the experiment form model', () => {
  it('turns the starting values into a spec the schema accepts, numbers as numbers', () => {
    const { spec, issues } = validateValues(valid(), context);
    expect(issues).toEqual([]);
    expect(experimentSpecSchema.parse(spec)).toMatchObject({
      target: {
        namespace: 'chaos-demo',
        labelSelector: { app: 'checkout' },
        selection: { mode: 'one' },
      },
      faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
      safety: { maxBlastRadiusPercent: 10, respectPodDisruptionBudgets: true },
      duration: '60s',
    });
    expect(spec?.hypothesis).toBeUndefined();
  });

  it('offers every fault type with fields the model accepts from the start', () => {
    for (const type of FAULT_TYPES) {
      const { spec, issues } = validateValues(
        { ...valid(), faults: [newFault(type)] },
        { entityRef, entityTarget },
      );
      expect({ type, issues }).toEqual({ type, issues: [] });
      expect(experimentSpecSchema.parse(spec).faults[0].type).toBe(type);
    }
  });

  it('builds several faults, destinations, steps and every kind of probe', () => {
    const values = valid();
    const bandwidth = newFault('network-bandwidth');
    bandwidth.fields.rateKbit = '512';
    bandwidth.destinations = {
      cidrs: '10.96.0.0/12, 192.168.0.0/16',
      ports: '80 443',
    };
    values.faults = [newFault('pod-kill'), bandwidth];
    values.safety.progressiveSteps = [
      newStep(),
      { selection: { mode: 'percent', count: '', percent: '20' }, hold: '1m' },
    ];
    const http = newProbe('http', 'front');
    http.fields.url = 'http://checkout.chaos-demo.svc/healthz';
    http.checkAt = ['during'];
    const k8s = newProbe('k8s', 'replicas');
    k8s.fields.deployment = 'checkout';
    const promql = newProbe('promql', 'error-rate', {
      query: 'sum(rate(errors[1m]))',
    });
    promql.fields.threshold = '0.05';
    values.hypothesis.probes = [promql, http, k8s];
    values.schedule = ' 0 3 * * 1 ';
    const { spec, issues } = validateValues(values, context);
    expect(issues).toEqual([]);
    expect(experimentSpecSchema.parse(spec)).toMatchObject({
      faults: [
        { type: 'pod-kill' },
        {
          type: 'network-bandwidth',
          rateKbit: 512,
          device: 'eth0',
          destinations: {
            cidrs: ['10.96.0.0/12', '192.168.0.0/16'],
            ports: [80, 443],
          },
        },
      ],
      safety: {
        progressiveSteps: [
          { selection: { mode: 'fixed', count: 1 }, hold: '30s' },
          { selection: { mode: 'percent', percent: 20 }, hold: '1m' },
        ],
      },
      hypothesis: {
        interval: '10s',
        failureThreshold: 3,
        probes: [
          {
            type: 'promql',
            name: 'error-rate',
            query: 'sum(rate(errors[1m]))',
            comparison: '<',
            threshold: 0.05,
            checkAt: ['before', 'during', 'after'],
          },
          {
            type: 'http',
            name: 'front',
            checkAt: ['during'],
            expectedStatus: 200,
            requests: 10,
          },
          {
            type: 'k8s',
            name: 'replicas',
            deployment: 'checkout',
            minAvailableRatio: 0.8,
          },
        ],
      },
      schedule: '0 3 * * 1',
    });
  });

  it('puts each schema error at the input of its field', () => {
    const values = valid();
    values.name = 'Not Valid';
    values.target.labelSelector = '';
    values.target.selection = { mode: 'fixed', count: '', percent: '' };
    values.duration = 'soon';
    const latency = newFault('network-latency');
    latency.fields.latencyMs = 'x';
    const loss = newFault('network-loss');
    loss.destinations = { cidrs: '10.0.0.0/33', ports: '' };
    values.faults = [latency, loss, newFault('network-loss')];
    const http = newProbe('http', 'front');
    http.fields.url = 'ftp://nope';
    http.checkAt = [];
    values.hypothesis.probes = [http];
    values.safety.progressiveSteps = [
      { selection: { mode: 'percent', count: '', percent: '' }, hold: '30s' },
    ];
    const { byInput } = placed(values);
    expect(byInput).toMatchObject({
      name: expect.stringMatching(/lowercase/),
      'target.labelSelector': expect.stringMatching(/must not be empty/),
      'target.selection.count': expect.stringMatching(
        /required when mode is 'fixed'/,
      ),
      duration: expect.stringMatching(/duration/),
      'faults.0.fields.latencyMs': expect.stringMatching(/number/),
      'faults.1.destinations.cidrs': expect.stringMatching(/IPv4 CIDR/),
      'hypothesis.probes.0.fields.url': expect.any(String),
      'hypothesis.probes.0.checkAt': expect.any(String),
      'safety.progressiveSteps.0.selection.percent': expect.stringMatching(
        /required when mode is 'percent'/,
      ),
    });
  });

  it("refuses two faults of one type at the second one's type", () => {
    const values = valid();
    values.faults = [
      newFault('network-loss'),
      newFault('pod-kill'),
      newFault('network-loss'),
    ];
    expect(placed(values).byInput['faults.2.type']).toMatch(
      /already faults\[0\]/,
    );
  });

  it("checks the target and the ceilings with the backend's rules", () => {
    const outside = {
      ...valid(),
      target: { ...valid().target, labelSelector: 'app=payments' },
    };
    expect(placed(outside).byInput['target.labelSelector']).toMatch(
      /only the entity's pods/,
    );
    const wide = valid();
    wide.safety.maxBlastRadiusPercent = '40';
    wide.faults = [newFault('memory-stress')];
    expect(placed(wide).byInput).toMatchObject({
      'safety.maxBlastRadiusPercent': expect.stringMatching(
        /above the ceiling of 30%/,
      ),
      'faults.0.type': expect.stringMatching(/not allowed here/),
    });
    const chatty = valid();
    chatty.hypothesis.probes = [1, 2].map(i => {
      const probe = newProbe('http', `p${i}`);
      probe.fields.url = 'http://checkout.chaos-demo.svc/';
      probe.fields.requests = '60';
      return probe;
    });
    // A rule over several probes has no one input: it is shown above the buttons.
    expect(placed(chatty).general).toEqual([
      expect.stringMatching(
        /^hypothesis.probes: the http probes send 120 requests per check/,
      ),
    ]);
  });

  it('round-trips an experiment through the form', () => {
    const spec = experimentSpecSchema.parse({
      name: 'lag',
      entityRef,
      description: 'slow network',
      target: {
        namespace: 'chaos-demo',
        labelSelector: { app: 'checkout', tier: 'web' },
        container: 'app',
        selection: { mode: 'percent', percent: 20 },
      },
      faults: [
        {
          type: 'network-latency',
          latencyMs: 250,
          jitterMs: 20,
          destinations: { cidrs: ['10.0.0.0/8'], ports: [5432] },
        },
        { type: 'cpu-stress', workers: 2 },
      ],
      safety: {
        maxBlastRadiusPercent: 25,
        respectPodDisruptionBudgets: false,
        progressiveSteps: [{ selection: { mode: 'fixed', count: 1 } }],
      },
      hypothesis: {
        interval: '5s',
        probes: [
          {
            type: 'promql',
            name: 'errors',
            query: 'sum(rate(x[1m]))',
            comparison: '<',
            threshold: 0.05,
            for: '20s',
            checkAt: ['during'],
          },
          {
            type: 'k8s',
            name: 'replicas',
            deployment: 'checkout',
            minAvailableRatio: 0.5,
          },
        ],
      },
      schedule: '*/30 * * * *',
    });
    const experiment = {
      ...spec,
      id: '1',
      createdBy: 'user:default/guest',
      createdAt: '',
      updatedAt: '',
    };
    const values = formValuesFromExperiment(experiment);
    expect(values.faults[0]).toMatchObject({
      fields: { latencyMs: '250', jitterMs: '20' },
      destinations: { cidrs: '10.0.0.0/8', ports: '5432' },
    });
    const { spec: again, issues } = validateValues(values, {
      entityRef,
      entityTarget,
    });
    expect(issues).toEqual([]);
    expect(experimentSpecSchema.parse(again)).toEqual(spec);
  });

  it('finds the input of a nested path, and reads the fields of a 400 answer', () => {
    expect(inputPathFor('target.labelSelector.app')).toBe(
      'target.labelSelector',
    );
    expect(inputPathFor('faults.0.destinations')).toBe(
      'faults.0.destinations.cidrs',
    );
    expect(inputPathFor('faults.0.destinations.ports.3')).toBe(
      'faults.0.destinations.ports',
    );
    expect(inputPathFor('hypothesis.probes')).toBeUndefined();
    expect(
      issuesOfAnswer(
        'Invalid experiment: hypothesis.probes.0.url: host 10.0.0.1 is the API server; duration: too long',
      ),
    ).toEqual([
      {
        field: 'hypothesis.probes.0.url',
        message: 'host 10.0.0.1 is the API server',
      },
      { field: 'duration', message: 'too long' },
    ]);
    expect(
      issuesOfAnswer('checkout already has an experiment named kill'),
    ).toEqual([
      {
        field: '(root)',
        message: 'checkout already has an experiment named kill',
      },
    ]);
    expect(parseSelector(' app = checkout ,tier=web,')).toEqual({
      app: 'checkout',
      tier: 'web',
    });
  });
});

import { readExperimentFiles } from './experimentFiles';

const CHECKOUT = 'component:default/checkout';
const doc = (name: string, spec: string) => `apiVersion: chaoscraft.io/v1alpha1
kind: ChaosExperiment
metadata:
  name: ${name}
spec:
${spec}`;
const GOOD_SPEC = `  target:
    namespace: shop
    labelSelector: { app: checkout }
  faults:
    - type: pod-kill`;

describe('readExperimentFiles', () => {
  it('reads every document of every file as an experiment of the entity, defaults applied', () => {
    const { experiments, problems } = readExperimentFiles(
      [
        { url: 'file:///r/chaos/a.yaml', text: doc('kill-a', GOOD_SPEC) },
        {
          url: 'file:///r/chaos/b.yaml',
          text: `${doc('kill-b', GOOD_SPEC)}\n---\n${doc(
            'kill-c',
            `${GOOD_SPEC}\n  schedule: "0 3 * * 1"`,
          )}`,
        },
      ],
      CHECKOUT,
    );
    expect(problems).toEqual([]);
    expect(
      experiments.map(e => [
        e.spec.name,
        e.source,
        e.spec.entityRef,
        e.spec.duration,
      ]),
    ).toEqual([
      ['kill-a', 'file:///r/chaos/a.yaml', CHECKOUT, '60s'],
      ['kill-b', 'file:///r/chaos/b.yaml#1', CHECKOUT, '60s'],
      ['kill-c', 'file:///r/chaos/b.yaml#2', CHECKOUT, '60s'],
    ]);
    expect(experiments[2].spec.schedule).toBe('0 3 * * 1');
  });

  it('names the field of a document that breaks the model, and the line of one that is not YAML', () => {
    const { experiments, problems } = readExperimentFiles(
      [
        {
          url: 'file:///r/chaos/bad.yaml',
          text: doc(
            'slow',
            `  target:\n    namespace: shop\n    labelSelector: { app: checkout }\n  faults:\n    - type: network-latency\n      latencyMs: -5`,
          ),
        },
        {
          url: 'file:///r/chaos/broken.yaml',
          text: 'apiVersion: chaoscraft.io/v1alpha1\nkind: [unclosed\n',
        },
        {
          url: 'file:///r/chaos/other.yaml',
          text: doc(
            'elsewhere',
            `  entityRef: component:default/payments\n${GOOD_SPEC}`,
          ),
        },
        {
          url: 'file:///r/chaos/kind.yaml',
          text: doc('Not_A_Name', GOOD_SPEC).replace(
            'ChaosExperiment',
            'ChaosRun',
          ),
        },
      ],
      CHECKOUT,
    );
    expect(experiments).toEqual([]);
    expect(problems).toEqual([
      {
        kind: 'invalid',
        source: 'file:///r/chaos/bad.yaml',
        name: 'slow',
        field: 'spec.faults.0.latencyMs',
        message: expect.stringMatching(/>=\s*1/),
      },
      {
        kind: 'parse',
        source: 'file:///r/chaos/broken.yaml',
        message:
          'line 3, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
      },
      {
        kind: 'invalid',
        source: 'file:///r/chaos/other.yaml',
        name: 'elsewhere',
        field: 'spec.entityRef',
        message: `names component:default/payments, but this experiment belongs to ${CHECKOUT}`,
      },
      {
        kind: 'invalid',
        source: 'file:///r/chaos/kind.yaml',
        name: 'Not_A_Name',
        field: 'kind',
        message: 'must be ChaosExperiment',
      },
      {
        kind: 'invalid',
        source: 'file:///r/chaos/kind.yaml',
        name: 'Not_A_Name',
        field: 'metadata.name',
        message: expect.stringContaining('RFC 1123'),
      },
    ]);
  });

  it('skips empty documents and refuses oversized files', () => {
    const { experiments, problems } = readExperimentFiles(
      [
        { url: 'file:///r/empty.yaml', text: '# nothing yet\n' },
        { url: 'file:///r/huge.yaml', text: `# ${'x'.repeat(300 * 1024)}` },
      ],
      CHECKOUT,
    );
    expect(experiments).toEqual([]);
    expect(problems).toEqual([
      {
        kind: 'parse',
        source: 'file:///r/huge.yaml',
        message: 'the file is larger than 256 KiB',
      },
    ]);
  });
});

import type { Entity } from '@backstage/catalog-model';
import {
  chaosTabUrl,
  experimentActionInputSchema,
  experimentFor,
  jsonSchemaOf,
  parseInput,
} from './experimentInput';

const checkout: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'checkout',
    annotations: {
      'backstage.io/kubernetes-namespace': 'shop',
      'backstage.io/kubernetes-label-selector':
        'app=checkout,tier in (web),track!=canary',
      'chaoscraft.io/cluster': 'prod',
    },
  },
};

describe("the template actions' experiment input", () => {
  it("fills the target from the entity's annotations where the template leaves it out", () => {
    const input = parseInput(experimentActionInputSchema, {
      entityRef: 'component:default/checkout',
      name: 'kill-some',
      faults: [{ type: 'pod-kill' }],
      target: { selection: { mode: 'percent', percent: 20 } },
    });
    expect(experimentFor(input, checkout)).toMatchObject({
      entityRef: 'component:default/checkout',
      target: {
        namespace: 'shop',
        labelSelector: { app: 'checkout', tier: 'web' },
        selection: { mode: 'percent', percent: 20 },
      },
      duration: '60s',
      safety: { maxBlastRadiusPercent: 10 },
    });
  });

  it('names the field at fault, and the annotation an entity lacks', () => {
    expect(() =>
      parseInput(experimentActionInputSchema, {
        entityRef: 'checkout',
        name: 'x',
        faults: [],
      }),
    ).toThrow(
      'Invalid input: faults: Too small: expected array to have >=1 items; entityRef: must be a full entity reference such as component:default/my-service',
    );
    const input = parseInput(experimentActionInputSchema, {
      entityRef: 'component:default/legacy',
      name: 'x',
      faults: [{ type: 'pod-kill' }],
    });
    expect(() =>
      experimentFor(input, { ...checkout, metadata: { name: 'legacy' } }),
    ).toThrow(
      /^backstage.io\/kubernetes-namespace: the entity has no backstage.io\/kubernetes-namespace annotation/,
    );
    expect(() =>
      parseInput(experimentActionInputSchema, {
        entityRef: 'component:default/checkout',
        name: 'x',
        faults: [{ type: 'network-latency', latencyMs: 0 }],
        duration: '200h',
      }),
    ).toThrow(/faults\.0\.latencyMs: .*duration: must be at most 168h/);
  });

  it('hands the scaffolder the JSON Schema of the model', () => {
    const schema = jsonSchemaOf(experimentActionInputSchema) as {
      type: string;
      required: string[];
      properties: Record<string, any>;
    };
    expect(schema.type).toBe('object');
    expect(schema.required).toEqual(
      expect.arrayContaining(['entityRef', 'name', 'faults']),
    );
    expect(schema.required).not.toContain('target');
    expect(schema.properties.name).toMatchObject({
      type: 'string',
      maxLength: 63,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    });
    expect(JSON.stringify(schema.properties.faults)).toContain(
      'network-latency',
    );
  });

  it("links to the entity's Chaos tab", () => {
    expect(
      chaosTabUrl('http://localhost:3000/', {
        kind: 'Component',
        namespace: 'default',
        name: 'checkout',
      }),
    ).toBe('http://localhost:3000/catalog/default/component/checkout/chaos');
    expect(
      chaosTabUrl(
        'https://b.example',
        { kind: 'component', namespace: 'Shop', name: 'a b' },
        'r-1',
      ),
    ).toBe('https://b.example/catalog/shop/component/a%20b/chaos?run=r-1');
  });
});

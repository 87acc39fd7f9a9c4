import type { Entity } from '@backstage/catalog-model';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';

const component = (
  name: string,
  owner: string,
  relations: Array<[string, string]>,
): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default' },
  spec: { type: 'service', owner },
  relations: [
    [`ownedBy`, `group:default/${owner}`] as [string, string],
    ...relations,
  ].map(([type, targetRef]) => ({ type, targetRef })),
});

/**
 * The catalog graph around checkout, with the relations the catalog would have computed:
 * orders depends on checkout directly, storefront consumes the API checkout provides.
 */
export const catalogGraph: Entity[] = [
  component('checkout', 'team-checkout', [
    ['dependencyOf', 'component:default/orders'],
    ['providesApi', 'api:default/checkout-api'],
  ]),
  component('orders', 'team-orders', [
    ['dependsOn', 'component:default/checkout'],
  ]),
  component('storefront', 'team-web', [
    ['consumesApi', 'api:default/checkout-api'],
  ]),
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'API',
    metadata: { name: 'checkout-api', namespace: 'default' },
    spec: {
      type: 'openapi',
      owner: 'team-checkout',
      lifecycle: 'production',
      definition: '{}',
    },
    relations: [
      { type: 'apiProvidedBy', targetRef: 'component:default/checkout' },
      { type: 'apiConsumedBy', targetRef: 'component:default/storefront' },
    ],
  },
];

/** An in-memory catalog with that graph. */
export const testCatalog = () => catalogApiMock({ entities: catalogGraph });

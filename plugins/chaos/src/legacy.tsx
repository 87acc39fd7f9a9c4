import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { ChaosClient, chaosApiRef } from './api';

/** ChaosCraft for apps still on the legacy frontend system. */
export const chaosPlugin = createPlugin({
  id: 'chaos',
  apis: [
    createApiFactory({
      api: chaosApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new ChaosClient({ discoveryApi, fetchApi }),
    }),
  ],
});

/** Put inside an `EntityLayout.Route path="/chaos" title="Chaos"` of the entity page. */
export const EntityChaosContent = chaosPlugin.provide(
  createComponentExtension({
    name: 'EntityChaosContent',
    component: {
      lazy: () =>
        import('./components/EntityChaosContent').then(
          m => m.EntityChaosContent,
        ),
    },
  }),
);

/** Put on the entity overview page, e.g. in a `Grid item md={6}`. */
export const EntityChaosCard = chaosPlugin.provide(
  createComponentExtension({
    name: 'EntityChaosCard',
    component: {
      lazy: () =>
        import('./components/EntityChaosCard').then(m => m.EntityChaosCard),
    },
  }),
);

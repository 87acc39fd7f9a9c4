import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { ChaosClient, chaosApiRef } from './api';

export const chaosApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: chaosApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) => new ChaosClient({ discoveryApi, fetchApi }),
    }),
});

/** The Chaos tab on components; it explains which annotation is missing when one is. */
export const entityChaosContent = EntityContentBlueprint.make({
  params: {
    path: '/chaos',
    title: 'Chaos',
    filter: 'kind:component',
    loader: () =>
      import('./components/EntityChaosContent').then(m => <m.EntityChaosContent />),
  },
});

/** ChaosCraft for Backstage's new frontend system. */
export default createFrontendPlugin({
  pluginId: 'chaos',
  extensions: [chaosApi, entityChaosContent],
});

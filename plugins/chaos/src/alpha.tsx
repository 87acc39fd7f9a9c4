import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { KUBERNETES_NAMESPACE_ANNOTATION } from '@chaoscraft/backstage-plugin-chaos-common';
import { ChaosClient, chaosApiRef } from './api';

export const chaosApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: chaosApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new ChaosClient({ discoveryApi, fetchApi }),
    }),
});

/** The Chaos tab on components; it explains which annotation is missing when one is. */
export const entityChaosContent = EntityContentBlueprint.make({
  params: {
    path: '/chaos',
    title: 'Chaos',
    filter: 'kind:component',
    loader: () =>
      import('./components/EntityChaosContent').then(m => (
        <m.EntityChaosContent />
      )),
  },
});

/**
 * Overview card: the last run and a 30-day resilience summary. Only on components that can
 * have runs at all, i.e. that say where their pods are.
 */
export const entityChaosCard = EntityCardBlueprint.make({
  params: {
    filter: entity =>
      entity.kind.toLocaleLowerCase('en-US') === 'component' &&
      Boolean(entity.metadata.annotations?.[KUBERNETES_NAMESPACE_ANNOTATION]),
    loader: () =>
      import('./components/EntityChaosCard').then(m => <m.EntityChaosCard />),
  },
});

/** ChaosCraft for Backstage's new frontend system. */
export default createFrontendPlugin({
  pluginId: 'chaos',
  extensions: [chaosApi, entityChaosContent, entityChaosCard],
});

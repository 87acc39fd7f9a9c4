import {
  createFrontendPlugin,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';

import { rootRouteRef } from './routes';

export const page = PageBlueprint.make({
  params: {
    path: '/chaos',
    routeRef: rootRouteRef,
    loader: () =>
      import('./components/TodoPage').then(m => (
        <m.TodoPage />
      )),
  },
});

export const chaosPlugin = createFrontendPlugin({
  pluginId: 'chaos',
  extensions: [page],
  routes: {
    root: rootRouteRef,
  }
});

import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { chaosPermissions } from '@chaoscraft/backstage-plugin-chaos-common';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { ClusterRegistry } from './cluster/ClusterRegistry';
import { DatabaseExperimentStore } from './database/DatabaseExperimentStore';
import { DatabaseRunStore } from './database/DatabaseRunStore';
import { RunMirror } from './runs/RunMirror';
import { createRouter } from './service/router';

/**
 * The ChaosCraft backend plugin: experiments and runs of chaos experiments on catalog
 * entities.
 *
 * @public
 */
export const chaosPlugin = createBackendPlugin({
  pluginId: 'chaos',
  register(env) {
    env.registerInit({
      deps: {
        database: coreServices.database,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        lifecycle: coreServices.lifecycle,
        catalog: catalogServiceRef,
      },
      async init(deps) {
        const { database, httpAuth, httpRouter, permissions, permissionsRegistry, auditor, logger } = deps;
        permissionsRegistry.addPermissions(chaosPermissions);
        const experiments = await DatabaseExperimentStore.create({ database });
        const runs = await DatabaseRunStore.create({ database });
        const clusters = ClusterRegistry.fromConfig(deps.config);
        const mirror = new RunMirror(clusters, runs, logger);
        deps.lifecycle.addStartupHook(() => mirror.start());
        deps.lifecycle.addShutdownHook(() => mirror.stop());
        httpRouter.use(
          await createRouter({
            experiments,
            runs,
            clusters,
            mirror,
            catalog: deps.catalog,
            httpAuth,
            permissions,
            auditor,
            logger,
          }),
        );
      },
    });
  },
});

import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { chaosPermissions } from '@chaoscraft/backstage-plugin-chaos-common';
import { DatabaseExperimentStore } from './database/DatabaseExperimentStore';
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
      },
      async init({ database, httpAuth, httpRouter, permissions, permissionsRegistry, auditor, logger }) {
        permissionsRegistry.addPermissions(chaosPermissions);
        const experiments = await DatabaseExperimentStore.create({ database });
        httpRouter.use(
          await createRouter({ experiments, httpAuth, permissions, auditor, logger }),
        );
      },
    });
  },
});

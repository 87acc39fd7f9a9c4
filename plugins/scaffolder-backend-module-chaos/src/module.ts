import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createChaosExperimentAction } from './actions/createExperiment';
import { createChaosRunAction } from './actions/run';
import { createWriteExperimentFileAction } from './actions/writeExperimentFile';

/**
 * ChaosCraft's scaffolder actions: `chaos:experiment:create`, `chaos:experiment:write-file` and
 * `chaos:run`. Each acts as the user who runs the template.
 *
 * @public
 */
export const scaffolderModuleChaos = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'chaos',
  register(reg) {
    reg.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        auth: coreServices.auth,
        discovery: coreServices.discovery,
        config: coreServices.rootConfig,
        catalog: catalogServiceRef,
      },
      async init({ scaffolder, auth, discovery, config, catalog }) {
        const appBaseUrl = config.getString('app.baseUrl');
        scaffolder.addActions(
          createChaosExperimentAction({ auth, discovery, catalog, appBaseUrl }),
          createWriteExperimentFileAction({ auth, catalog, appBaseUrl }),
          createChaosRunAction({ auth, discovery, appBaseUrl }),
        );
      },
    });
  },
});

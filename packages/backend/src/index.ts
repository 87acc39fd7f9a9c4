/*
 * The ChaosCraft demo and end-to-end backend: Backstage with the chaos plugin, guest sign-in,
 * the catalog and the permission policy that ties chaos writes to entity ownership, software
 * templates with the chaos actions, and the MCP endpoint for AI clients.
 */
import { createBackend } from '@backstage/backend-defaults';
import { localFileUrlReaderFactory } from '@chaoscraft/backstage-plugin-chaos-backend';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));
backend.add(import('@backstage/plugin-proxy-backend'));

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));
// Template entities (the scaffolder's) are valid catalog entities only with this module.
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);

backend.add(import('@backstage/plugin-permission-backend'));
backend.add(import('./permissionPolicy'));

backend.add(import('@backstage/plugin-search-backend'));
backend.add(import('@backstage/plugin-search-backend-module-catalog'));

backend.add(import('@backstage/plugin-kubernetes-backend'));
backend.add(import('@backstage/plugin-user-settings-backend'));
backend.add(import('@backstage/plugin-signals-backend'));
// The chaos plugin tells an entity's owners and a run's starter when a run ends.
backend.add(import('@backstage/plugin-notifications-backend'));

backend.add(import('@chaoscraft/backstage-plugin-chaos-backend'));
// Reads `file:` experiments-locations (only inside chaos.experimentsAsCode.localDirectories).
backend.add(localFileUrlReaderFactory);

// Software templates, with ChaosCraft's actions (chaos:experiment:create, :write-file, chaos:run).
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(
  import('@chaoscraft/backstage-plugin-scaffolder-backend-module-chaos'),
);

// Backstage actions (the chaos plugin's among them) as MCP tools for AI clients: /api/mcp-actions/v1.
backend.add(import('@backstage/plugin-mcp-actions-backend'));

backend.start();

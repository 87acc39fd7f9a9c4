/*
 * The ChaosCraft demo and end-to-end backend: Backstage with the chaos plugin, guest sign-in,
 * the catalog and the permission policy that ties chaos writes to entity ownership.
 */
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));
backend.add(import('@backstage/plugin-proxy-backend'));

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));

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

backend.start();

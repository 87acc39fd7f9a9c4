import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  catalogEntityCreatePermission,
  catalogEntityDeletePermission,
  catalogEntityRefreshPermission,
  catalogIngestionManagePermission,
  catalogLocationCreatePermission,
  catalogLocationDeletePermission,
} from '@backstage/plugin-catalog-common/alpha';
import { kubernetesProxyPermission } from '@backstage/plugin-kubernetes-common';
import {
  AuthorizeResult,
  PolicyDecision,
  isResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import {
  chaosExperimentReadPermission,
  chaosWritePermissions,
} from '@chaoscraft/backstage-plugin-chaos-common';

const chaosWriteNames = new Set(chaosWritePermissions.map(p => p.name));

/**
 * What only admins may do. Ownership is what authorizes chaos, and it comes from the catalog, so
 * whoever can write the catalog can make themselves an owner: registering a location with a
 * Component that names their team as owner, or deleting and re-registering one. The Kubernetes
 * proxy would reach the clusters with the backend's credentials, around every chaos check.
 */
export const ADMIN_ONLY_PERMISSIONS: readonly string[] = [
  catalogLocationCreatePermission.name,
  catalogLocationDeletePermission.name,
  catalogEntityCreatePermission.name,
  catalogEntityDeletePermission.name,
  catalogEntityRefreshPermission.name,
  catalogIngestionManagePermission.name,
  kubernetesProxyPermission.name,
];

export const DEFAULT_ADMIN_GROUPS = ['group:default/admins'];

/** `chaos.adminGroups`: the groups whose members may write the catalog. */
export function readAdminGroups(config: Config): string[] {
  return (
    config.getOptionalStringArray('chaos.adminGroups') ?? DEFAULT_ADMIN_GROUPS
  ).map(g => g.toLocaleLowerCase('en-US'));
}

/**
 * ChaosCraft's policy, safe as shipped:
 * - catalog writes (locations, entity create, delete and refresh, ingestion) and the Kubernetes
 *   proxy: members of an admin group only (`chaos.adminGroups`, default `group:default/admins`);
 * - chaos reads: anyone signed in, limited by what the catalog lets them see (the chaos backend
 *   answers 404 for entities the caller cannot see);
 * - chaos writes (create, update, delete, run, abort): the entity's owners, as the catalog knows
 *   them (the user's ownership refs, groups included);
 * - everything else (catalog reads, search, ...): allowed.
 */
export class ChaosCraftPermissionPolicy implements PermissionPolicy {
  private readonly adminGroups: Set<string>;

  constructor(options: { adminGroups?: string[] } = {}) {
    this.adminGroups = new Set(
      (options.adminGroups ?? DEFAULT_ADMIN_GROUPS).map(g =>
        g.toLocaleLowerCase('en-US'),
      ),
    );
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    if (ADMIN_ONLY_PERMISSIONS.includes(permission.name)) {
      const refs = (user?.info.ownershipEntityRefs ?? []).map(r =>
        r.toLocaleLowerCase('en-US'),
      );
      return {
        result: refs.some(r => this.adminGroups.has(r))
          ? AuthorizeResult.ALLOW
          : AuthorizeResult.DENY,
      };
    }
    if (permission.name === chaosExperimentReadPermission.name) {
      return { result: AuthorizeResult.ALLOW };
    }
    if (chaosWriteNames.has(permission.name)) {
      if (!isResourcePermission(permission, 'catalog-entity')) {
        return { result: AuthorizeResult.DENY };
      }
      return createCatalogConditionalDecision(
        permission,
        catalogConditions.isEntityOwner({
          claims: user?.info.ownershipEntityRefs ?? [],
        }),
      );
    }
    return { result: AuthorizeResult.ALLOW };
  }
}

export default createBackendModule({
  pluginId: 'permission',
  moduleId: 'chaoscraft-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint, config: coreServices.rootConfig },
      async init({ policy, config }) {
        policy.setPolicy(
          new ChaosCraftPermissionPolicy({
            adminGroups: readAdminGroups(config),
          }),
        );
      },
    });
  },
});

import { createBackendModule } from '@backstage/backend-plugin-api';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
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
import { chaosWritePermissions } from '@chaoscraft/backstage-plugin-chaos-common';

const chaosWriteNames = new Set(chaosWritePermissions.map(p => p.name));

/**
 * ChaosCraft's policy: anyone signed in may read; only the owners of an entity (as the
 * catalog knows them, through the user's ownership refs, groups included) may create,
 * change, delete, run or abort its chaos experiments. Everything else is allowed, as in a
 * development Backstage.
 */
export class ChaosCraftPermissionPolicy implements PermissionPolicy {
  async handle(request: PolicyQuery, user?: PolicyQueryUser): Promise<PolicyDecision> {
    const { permission } = request;
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
      deps: { policy: policyExtensionPoint },
      async init({ policy }) {
        policy.setPolicy(new ChaosCraftPermissionPolicy());
      },
    });
  },
});

import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  chaosExperimentReadPermission,
  chaosRunCreatePermission,
  chaosWritePermissions,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { ChaosCraftPermissionPolicy } from './permissionPolicy';

const user = {
  identity: { type: 'user' as const, userEntityRef: 'user:default/guest', ownershipEntityRefs: ['user:default/guest', 'group:default/team-checkout'] },
  info: { userEntityRef: 'user:default/guest', ownershipEntityRefs: ['user:default/guest', 'group:default/team-checkout'] },
  credentials: {} as any,
  token: 'token',
};

describe('ChaosCraftPermissionPolicy', () => {
  const policy = new ChaosCraftPermissionPolicy();

  it('lets anyone read experiments', async () => {
    expect(await policy.handle({ permission: chaosExperimentReadPermission }, user as any)).toEqual({
      result: AuthorizeResult.ALLOW,
    });
  });

  it.each(chaosWritePermissions.map(p => [p.name, p]))(
    '%s is conditional on owning the entity, with the user\'s ownership refs',
    async (_name, permission) => {
      const decision = await policy.handle({ permission }, user as any);
      expect(decision).toEqual({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          resourceType: 'catalog-entity',
          params: { claims: ['user:default/guest', 'group:default/team-checkout'] },
        },
      });
    },
  );

  it('gives a caller without ownership refs a condition nobody meets', async () => {
    const decision = await policy.handle({ permission: chaosRunCreatePermission });
    expect(decision).toMatchObject({ conditions: { params: { claims: [] } } });
  });
});

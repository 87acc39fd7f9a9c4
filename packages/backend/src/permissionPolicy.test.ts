import { mockServices } from '@backstage/backend-test-utils';
import {
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
  catalogEntityRefreshPermission,
  catalogLocationCreatePermission,
  catalogLocationDeletePermission,
} from '@backstage/plugin-catalog-common/alpha';
import { kubernetesProxyPermission } from '@backstage/plugin-kubernetes-common';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  chaosExperimentReadPermission,
  chaosRunCreatePermission,
  chaosWritePermissions,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  ChaosCraftPermissionPolicy,
  readAdminGroups,
} from './permissionPolicy';

function userWith(ownershipEntityRefs: string[]) {
  return {
    identity: {
      type: 'user' as const,
      userEntityRef: ownershipEntityRefs[0],
      ownershipEntityRefs,
    },
    info: { userEntityRef: ownershipEntityRefs[0], ownershipEntityRefs },
    credentials: {} as any,
    token: 'token',
  };
}
const guest = userWith(['user:default/guest', 'group:default/team-checkout']);
const admin = userWith(['user:default/root', 'Group:default/Admins']);

describe('ChaosCraftPermissionPolicy', () => {
  const policy = new ChaosCraftPermissionPolicy();

  it('lets anyone read experiments and the catalog', async () => {
    for (const permission of [
      chaosExperimentReadPermission,
      catalogEntityReadPermission,
    ]) {
      expect(await policy.handle({ permission }, guest as any)).toEqual({
        result: AuthorizeResult.ALLOW,
      });
    }
  });

  it.each(
    [
      catalogLocationCreatePermission,
      catalogLocationDeletePermission,
      catalogEntityDeletePermission,
      catalogEntityRefreshPermission,
      kubernetesProxyPermission,
    ].map(p => [p.name, p]),
  )(
    'denies %s to non-admins (ownership comes from the catalog), and allows it to admins',
    async (_name, permission) => {
      expect(await policy.handle({ permission } as any, guest as any)).toEqual({
        result: AuthorizeResult.DENY,
      });
      expect(await policy.handle({ permission } as any)).toEqual({
        result: AuthorizeResult.DENY,
      });
      expect(await policy.handle({ permission } as any, admin as any)).toEqual({
        result: AuthorizeResult.ALLOW,
      });
    },
  );

  it('reads the admin groups from config', async () => {
    const config = mockServices.rootConfig({
      data: { chaos: { adminGroups: ['group:default/platform'] } },
    });
    const configured = new ChaosCraftPermissionPolicy({
      adminGroups: readAdminGroups(config),
    });
    const platform = userWith(['user:default/p', 'group:default/platform']);
    expect(
      await configured.handle(
        { permission: catalogLocationCreatePermission },
        platform as any,
      ),
    ).toEqual({ result: AuthorizeResult.ALLOW });
    expect(
      await configured.handle(
        { permission: catalogLocationCreatePermission },
        admin as any,
      ),
    ).toEqual({ result: AuthorizeResult.DENY });
    expect(readAdminGroups(mockServices.rootConfig({ data: {} }))).toEqual([
      'group:default/admins',
    ]);
  });

  it.each(chaosWritePermissions.map(p => [p.name, p]))(
    "%s is conditional on owning the entity, with the user's ownership refs",
    async (_name, permission) => {
      const decision = await policy.handle({ permission }, guest as any);
      expect(decision).toEqual({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          resourceType: 'catalog-entity',
          params: {
            claims: ['user:default/guest', 'group:default/team-checkout'],
          },
        },
      });
    },
  );

  it('gives a caller without ownership refs a condition nobody meets', async () => {
    const decision = await policy.handle({
      permission: chaosRunCreatePermission,
    });
    expect(decision).toMatchObject({ conditions: { params: { claims: [] } } });
  });
});

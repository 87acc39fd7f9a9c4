import type {
  BackstageCredentials,
  BackstageUserPrincipal,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  Entity,
  RELATION_MEMBER_OF,
  RELATION_OWNED_BY,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { catalogEntityPermissionResourceRef } from '@backstage/plugin-catalog-node/alpha';
import {
  AuthorizeResult,
  type ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  createConditionAuthorizer,
  createConditionFactory,
  createPermissionRule,
} from '@backstage/plugin-permission-node';
import { chaosExperimentReadPermission } from '@chaoscraft/backstage-plugin-chaos-common';
import { z } from 'zod';

/**
 * The catalog's own ownership rule (`IS_ENTITY_OWNER`: an `ownedBy` relation to one of the
 * claims), evaluated here when the permission framework is off, so that the plugin still fails
 * closed. Same name and semantics as the catalog's rule, so a policy reads the same either way.
 */
export const isEntityOwnerByRelations = createPermissionRule({
  name: 'IS_ENTITY_OWNER',
  description: 'Allow entities with an ownedBy relation to one of the claims',
  resourceRef: catalogEntityPermissionResourceRef,
  paramsSchema: z.object({ claims: z.array(z.string()) }),
  apply: (entity, { claims }) =>
    (entity.relations ?? []).some(
      r =>
        r.type === RELATION_OWNED_BY &&
        claims.includes(r.targetRef.toLocaleLowerCase('en-US')),
    ),
  toQuery: ({ claims }) => ({ key: 'relations.ownedBy', values: claims }),
});
const ownedBy = createConditionFactory(isEntityOwnerByRelations);
const isAuthorized = createConditionAuthorizer([isEntityOwnerByRelations]);

/**
 * Who may see and change the chaos of which entity. Reads go through the catalog with the
 * caller's credentials (an entity the caller cannot see does not exist, for chaos too) and the
 * `chaos.experiment.read` permission; writes through the policy, per entity. With the permission
 * framework disabled (`permission.enabled: false`, Backstage's default) writes do NOT become open:
 * they need a user who owns the entity by the catalog's relations.
 */
export class EntityAccess {
  constructor(
    private readonly options: {
      catalog: CatalogService;
      permissions: PermissionsService;
      permissionsEnabled: boolean;
    },
  ) {}

  /** The entity as the caller sees it; NotFoundError when the caller cannot see it. */
  async visibleEntity(
    entityRef: string,
    credentials: BackstageCredentials,
  ): Promise<Entity> {
    const entity = await this.options.catalog.getEntityByRef(entityRef, {
      credentials,
    });
    if (!entity)
      throw new NotFoundError(`No entity ${entityRef} in the catalog`);
    return entity;
  }

  /**
   * Throws NotFoundError (the same answer as for an id that does not exist: no existence is
   * leaked) unless the caller can see the entity and read its chaos.
   */
  async authorizeRead(
    entityRef: string,
    credentials: BackstageCredentials,
    notFound: string,
  ): Promise<void> {
    const readable = await this.readableEntityRefs([entityRef], credentials);
    if (!readable.has(entityRef)) throw new NotFoundError(notFound);
  }

  /** Of these entity refs, the ones whose chaos the caller may read. */
  async readableEntityRefs(
    entityRefs: string[],
    credentials: BackstageCredentials,
  ): Promise<Set<string>> {
    if (entityRefs.length === 0) return new Set();
    const { items } = await this.options.catalog.getEntitiesByRefs(
      { entityRefs, fields: ['kind', 'metadata.namespace', 'metadata.name'] },
      { credentials },
    );
    const visible = entityRefs.filter((_ref, i) => items[i]);
    if (!this.options.permissionsEnabled || visible.length === 0)
      return new Set(visible);
    const decisions = await this.options.permissions.authorize(
      visible.map(resourceRef => ({
        permission: chaosExperimentReadPermission,
        resourceRef,
      })),
      { credentials },
    );
    return new Set(
      visible.filter(
        (_ref, i) => decisions[i].result === AuthorizeResult.ALLOW,
      ),
    );
  }

  /**
   * Throws NotAllowedError unless the caller may do `permission` on this entity: the policy's
   * answer when permissions are enabled, else ownership by the catalog's relations.
   */
  async authorizeWrite(
    entity: Entity,
    permission: ResourcePermission<'catalog-entity'>,
    credentials: BackstageCredentials<BackstageUserPrincipal>,
  ): Promise<void> {
    const entityRef = stringifyEntityRef(entity);
    const denied = new NotAllowedError(
      `You may not ${permission.attributes.action} chaos experiments of ${entityRef}: only its owners may`,
    );
    if (this.options.permissionsEnabled) {
      const [decision] = await this.options.permissions.authorize(
        [{ permission, resourceRef: entityRef }],
        { credentials },
      );
      if (decision.result !== AuthorizeResult.ALLOW) throw denied;
      return;
    }
    const claims = await this.ownershipClaims(credentials);
    const decision = {
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: ownedBy({ claims }),
    } as const;
    if (!isAuthorized(decision, entity)) throw denied;
  }

  /** The user and the groups the catalog says the user is a member of. */
  private async ownershipClaims(
    credentials: BackstageCredentials<BackstageUserPrincipal>,
  ): Promise<string[]> {
    const userRef =
      credentials.principal.userEntityRef.toLocaleLowerCase('en-US');
    const user = await this.options.catalog.getEntityByRef(userRef, {
      credentials,
    });
    const groups = (user?.relations ?? [])
      .filter(r => r.type === RELATION_MEMBER_OF)
      .map(r => r.targetRef.toLocaleLowerCase('en-US'));
    return [userRef, ...groups];
  }
}

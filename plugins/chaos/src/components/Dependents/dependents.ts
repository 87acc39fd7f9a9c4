import {
  type Entity,
  RELATION_API_CONSUMED_BY,
  RELATION_DEPENDENCY_OF,
  RELATION_OWNED_BY,
  RELATION_PROVIDES_API,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import type { CatalogApi } from '@backstage/plugin-catalog-react';

/** An entity that a disruption of this one may reach, how, and who to tell. */
export type Dependent = {
  entityRef: string;
  /** Direct `dependsOn` relations, and the APIs of this entity it consumes. */
  dependsDirectly: boolean;
  viaApis: string[];
  owners: string[];
};

const targets = (entity: Entity | undefined, type: string): string[] =>
  (entity?.relations ?? []).filter(r => r.type === type).map(r => r.targetRef);

const FIELDS = ['kind', 'metadata.name', 'metadata.namespace', 'relations'];

/**
 * Who depends on an entity, from the catalog graph as the signed-in user may see it: entities
 * with a `dependsOn` relation to it (its `dependencyOf`), and the consumers of every API it
 * provides (`providesApi` → the API's `apiConsumedBy`); each with its owners (`ownedBy`). Entities
 * the user cannot see are left out, since the catalog does not return them.
 */
export async function findDependents(
  catalog: Pick<CatalogApi, 'getEntityByRef' | 'getEntitiesByRefs'>,
  entityRef: string,
): Promise<Dependent[]> {
  const entity = await catalog.getEntityByRef(entityRef);
  if (!entity) return [];
  const self = stringifyEntityRef(entity);
  const byRef = new Map<
    string,
    { dependsDirectly: boolean; viaApis: string[] }
  >();
  const note = (ref: string) => {
    if (!byRef.has(ref))
      byRef.set(ref, { dependsDirectly: false, viaApis: [] });
    return byRef.get(ref)!;
  };
  for (const ref of targets(entity, RELATION_DEPENDENCY_OF))
    note(ref).dependsDirectly = true;

  const apiRefs = targets(entity, RELATION_PROVIDES_API);
  if (apiRefs.length) {
    const { items: apis } = await catalog.getEntitiesByRefs({
      entityRefs: apiRefs,
      fields: FIELDS,
    });
    apis.forEach((api, i) => {
      for (const consumer of targets(api, RELATION_API_CONSUMED_BY))
        note(consumer).viaApis.push(apiRefs[i]);
    });
  }
  byRef.delete(self);
  const refs = [...byRef.keys()];
  if (refs.length === 0) return [];
  const { items } = await catalog.getEntitiesByRefs({
    entityRefs: refs,
    fields: FIELDS,
  });
  return refs
    .map((ref, i) =>
      items[i]
        ? {
            entityRef: ref,
            ...byRef.get(ref)!,
            owners: targets(items[i], RELATION_OWNED_BY),
          }
        : undefined,
    )
    .filter((d): d is Dependent => d !== undefined)
    .sort((a, b) => a.entityRef.localeCompare(b.entityRef));
}

import { createPermission } from '@backstage/plugin-permission-common';

/**
 * Every ChaosCraft permission concerns one catalog entity: the service whose experiments
 * and runs they guard. Tying them to the `catalog-entity` resource type lets a policy use
 * the catalog's own conditions (`isEntityOwner`) instead of a second ownership model.
 */
const RESOURCE_TYPE_CATALOG_ENTITY = 'catalog-entity';

export const chaosExperimentReadPermission = createPermission({
  name: 'chaos.experiment.read',
  attributes: { action: 'read' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

export const chaosExperimentCreatePermission = createPermission({
  name: 'chaos.experiment.create',
  attributes: { action: 'create' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

export const chaosExperimentUpdatePermission = createPermission({
  name: 'chaos.experiment.update',
  attributes: { action: 'update' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

export const chaosExperimentDeletePermission = createPermission({
  name: 'chaos.experiment.delete',
  attributes: { action: 'delete' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

export const chaosRunCreatePermission = createPermission({
  name: 'chaos.run.create',
  attributes: { action: 'create' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

export const chaosRunAbortPermission = createPermission({
  name: 'chaos.run.abort',
  attributes: { action: 'update' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

export const chaosPermissions = [
  chaosExperimentReadPermission,
  chaosExperimentCreatePermission,
  chaosExperimentUpdatePermission,
  chaosExperimentDeletePermission,
  chaosRunCreatePermission,
  chaosRunAbortPermission,
];

/** Permissions that change something: a policy grants them to the entity's owners only. */
export const chaosWritePermissions = chaosPermissions.filter(
  p => p !== chaosExperimentReadPermission,
);

import type { Entity } from '@backstage/catalog-model';

/**
 * A Component the chaos plugin can bind experiments to: its pods are `app=<name>` (or
 * `selector`) in `namespace` of `cluster`, owned by `owner` (spec and the ownedBy relation the
 * catalog would add). `annotations: null` leaves the chaos annotations out altogether.
 */
export function chaosComponent(options: {
  name?: string;
  namespace: string;
  owner?: string;
  cluster?: string;
  selector?: string;
  annotations?: Record<string, string> | null;
}): Entity {
  const {
    name = 'checkout',
    owner = 'team-checkout',
    cluster = 'sandbox',
  } = options;
  const annotations =
    options.annotations === null
      ? undefined
      : {
          'backstage.io/kubernetes-namespace': options.namespace,
          'backstage.io/kubernetes-label-selector':
            options.selector ?? `app=${name}`,
          'chaoscraft.io/cluster': cluster,
          ...options.annotations,
        };
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      ...(annotations ? { annotations } : {}),
    },
    spec: { type: 'service', owner },
    relations: [{ type: 'ownedBy', targetRef: `group:default/${owner}` }],
  };
}

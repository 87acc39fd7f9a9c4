/**
 * Catalog annotations ChaosCraft reads. The Kubernetes plugin's own annotations locate the
 * pods; ChaosCraft adds only what those cannot say. docs/annotations.md documents each.
 */
export const KUBERNETES_ID_ANNOTATION = 'backstage.io/kubernetes-id';
export const KUBERNETES_NAMESPACE_ANNOTATION = 'backstage.io/kubernetes-namespace';
export const KUBERNETES_LABEL_SELECTOR_ANNOTATION = 'backstage.io/kubernetes-label-selector';

/** Cluster name, as configured for the backend; default: the only or first cluster. */
export const CHAOS_CLUSTER_ANNOTATION = 'chaoscraft.io/cluster';
/** Upper bound for every experiment of this entity, in percent of eligible pods. */
export const CHAOS_MAX_BLAST_RADIUS_ANNOTATION = 'chaoscraft.io/max-blast-radius-percent';
/** PromQL that new experiments get as their default steady-state probe. */
export const CHAOS_HYPOTHESIS_QUERY_ANNOTATION = 'chaoscraft.io/hypothesis-query';
/** Where experiments kept as code live (a URL the catalog can read). */
export const CHAOS_EXPERIMENTS_LOCATION_ANNOTATION = 'chaoscraft.io/experiments-location';

/** Namespace label that opts a namespace in to chaos; the agent refuses all others. */
export const CHAOS_NAMESPACE_OPT_IN_LABEL = 'chaoscraft.io/chaos-enabled';
/** Label on a ChaosRun carrying the Backstage run id that created it. */
export const CHAOS_RUN_ID_LABEL = 'chaoscraft.io/run-id';

/** Annotations an entity needs before its Chaos tab can define experiments. */
export const REQUIRED_ENTITY_ANNOTATIONS = [KUBERNETES_NAMESPACE_ANNOTATION] as const;

/**
 * The label selector an entity's pods carry: the Kubernetes plugin's selector annotation,
 * else `backstage.io/kubernetes-id=<id>`, as the Kubernetes plugin itself selects them.
 */
export function entityLabelSelector(annotations: Record<string, string> = {}): Record<string, string> | undefined {
  const raw = annotations[KUBERNETES_LABEL_SELECTOR_ANNOTATION];
  if (raw) {
    const selector: Record<string, string> = {};
    for (const part of raw.split(',')) {
      const [key, value] = part.split('=').map(s => s.trim());
      if (key && value !== undefined) selector[key] = value;
    }
    return Object.keys(selector).length ? selector : undefined;
  }
  const id = annotations[KUBERNETES_ID_ANNOTATION];
  return id ? { 'backstage.io/kubernetes-id': id } : undefined;
}

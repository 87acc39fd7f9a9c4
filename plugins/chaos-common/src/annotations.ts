/**
 * Catalog annotations ChaosCraft reads. The Kubernetes plugin's own annotations locate the
 * pods; ChaosCraft adds only what those cannot say. docs/annotations.md documents each.
 */
export const KUBERNETES_ID_ANNOTATION = 'backstage.io/kubernetes-id';
export const KUBERNETES_NAMESPACE_ANNOTATION =
  'backstage.io/kubernetes-namespace';
export const KUBERNETES_LABEL_SELECTOR_ANNOTATION =
  'backstage.io/kubernetes-label-selector';

/** Cluster name, as configured for the backend; required for chaos. */
export const CHAOS_CLUSTER_ANNOTATION = 'chaoscraft.io/cluster';
/** Lowers the operator's blast-radius ceiling for this entity (never raises it), in percent. */
export const CHAOS_MAX_BLAST_RADIUS_ANNOTATION =
  'chaoscraft.io/max-blast-radius-percent';
/** PromQL that new experiments get as their default steady-state probe. */
export const CHAOS_HYPOTHESIS_QUERY_ANNOTATION =
  'chaoscraft.io/hypothesis-query';
/** Where experiments kept as code live (a URL the catalog can read). */
export const CHAOS_EXPERIMENTS_LOCATION_ANNOTATION =
  'chaoscraft.io/experiments-location';

/** Namespace label that opts a namespace in to chaos; the agent refuses all others. */
export const CHAOS_NAMESPACE_OPT_IN_LABEL = 'chaoscraft.io/chaos-enabled';
/** Label on a ChaosRun carrying the Backstage run id that created it. */
export const CHAOS_RUN_ID_LABEL = 'chaoscraft.io/run-id';

/**
 * ChaosRun metadata.annotations key carrying the W3C trace context (`traceparent`) of the request
 * that started the run, so the agent's spans for it join the same trace.
 */
export const CHAOS_TRACEPARENT_ANNOTATION = 'chaoscraft.io/traceparent';

/**
 * Annotations an entity needs before it can have chaos experiments (readEntityTarget reads them):
 * the namespace, the selector (or else the Kubernetes id) and the cluster of its pods.
 */
export const REQUIRED_ENTITY_ANNOTATIONS = [
  KUBERNETES_NAMESPACE_ANNOTATION,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
  CHAOS_CLUSTER_ANNOTATION,
] as const;

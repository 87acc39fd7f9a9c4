import {
  CHAOS_RUN_ID_LABEL,
  CHAOS_TRACEPARENT_ANNOTATION,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Attributes,
  type Context,
} from '@opentelemetry/api';
import type { V1ObjectMeta } from '@kubernetes/client-node';

/** Span attribute names every ChaosCraft span about a run carries. */
export const RUN_SPAN_ATTRIBUTES = {
  runId: 'chaoscraft.run_id',
  run: 'chaoscraft.run',
  experiment: 'chaoscraft.experiment',
  entity: 'chaoscraft.entity',
  fault: 'chaoscraft.fault',
  pod: 'k8s.pod.name',
  node: 'k8s.node.name',
  namespace: 'k8s.namespace.name',
} as const;

/**
 * The trace context to put on a ChaosRun being created (its annotations), from the active
 * context: empty when nothing is traced.
 */
export function traceAnnotations(
  from: Context = context.active(),
): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(from, carrier);
  return carrier.traceparent
    ? { [CHAOS_TRACEPARENT_ANNOTATION]: carrier.traceparent }
    : {};
}

/** The context of the request that started a run, from its annotation (the root context if none). */
export function runTraceContext(run: { metadata?: V1ObjectMeta }): Context {
  const traceparent = run.metadata?.annotations?.[CHAOS_TRACEPARENT_ANNOTATION];
  return traceparent
    ? propagation.extract(ROOT_CONTEXT, { traceparent })
    : ROOT_CONTEXT;
}

/** The trace id a run belongs to, for log lines (read from the annotation; no SDK needed). */
export function runTraceId(run: {
  metadata?: V1ObjectMeta;
}): string | undefined {
  const traceparent = run.metadata?.annotations?.[CHAOS_TRACEPARENT_ANNOTATION];
  const id = traceparent?.split('-')[1];
  return id && /^[0-9a-f]{32}$/.test(id) ? id : undefined;
}

/** The run's identity as span attributes: its Backstage id (label), name, experiment, entity. */
export function runSpanAttributes(run: {
  metadata?: V1ObjectMeta;
  spec?: unknown;
}): Attributes {
  const spec = run.spec as
    | { experiment?: { name?: string; id?: string }; entityRef?: string }
    | undefined;
  const attributes: Attributes = {
    [RUN_SPAN_ATTRIBUTES.run]: `${run.metadata?.namespace}/${run.metadata?.name}`,
    [RUN_SPAN_ATTRIBUTES.runId]:
      run.metadata?.labels?.[CHAOS_RUN_ID_LABEL] ?? run.metadata?.uid ?? '',
  };
  if (spec?.experiment?.name)
    attributes[RUN_SPAN_ATTRIBUTES.experiment] = spec.experiment.name;
  if (spec?.entityRef) attributes[RUN_SPAN_ATTRIBUTES.entity] = spec.entityRef;
  return attributes;
}

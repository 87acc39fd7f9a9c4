import {
  experimentSourceListSchema,
  experimentSpecSchema,
  managedBySchema,
  entityCeilingsSchema,
  resilienceScoreSchema,
  runDetailSchema,
  runRequestSchema,
  runSchema,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { z } from 'zod';

/** Keywords meaningful to Kubernetes only; the OpenAPI spec leaves them out. */
function stripKubernetesKeywords(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripKubernetesKeywords);
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node)
        .filter(
          ([key]) => !key.startsWith('x-kubernetes-') && key !== '$schema',
        )
        // Timestamps travel as ISO strings; `format: date-time` would make the generated
        // server types expect Date objects.
        .filter(([key, value]) => !(key === 'format' && value === 'date-time'))
        .map(([key, value]) => [key, stripKubernetesKeywords(value)]),
    );
  }
  return node;
}

function toOpenApi(
  schema: z.ZodType,
  io: 'input' | 'output',
): Record<string, unknown> {
  const json = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'throw',
  });
  return { 'x-generated': true, ...(stripKubernetesKeywords(json) as object) };
}

/**
 * The OpenAPI component schemas derived from the experiment model: what a client sends
 * (defaults optional) and what the backend returns (defaults applied).
 */
export function generatedComponentSchemas(): Record<
  string,
  Record<string, unknown>
> {
  return {
    ExperimentSpec: toOpenApi(experimentSpecSchema, 'input'),
    ExperimentSpecResolved: toOpenApi(experimentSpecSchema, 'output'),
    Run: toOpenApi(runSchema, 'output'),
    RunDetail: toOpenApi(runDetailSchema, 'output'),
    RunRequest: toOpenApi(runRequestSchema, 'input'),
    ManagedBy: toOpenApi(managedBySchema, 'output'),
    ExperimentSourceList: toOpenApi(experimentSourceListSchema, 'output'),
    ResilienceScore: toOpenApi(resilienceScoreSchema, 'output'),
    EntityCeilings: toOpenApi(entityCeilingsSchema, 'output'),
  };
}

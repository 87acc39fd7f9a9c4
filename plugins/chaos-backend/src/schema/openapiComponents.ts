import {
  experimentSpecSchema,
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
        .filter(([key]) => !key.startsWith('x-kubernetes-') && key !== '$schema')
        // Timestamps travel as ISO strings; `format: date-time` would make the generated
        // server types expect Date objects.
        .filter(([key, value]) => !(key === 'format' && value === 'date-time'))
        .map(([key, value]) => [key, stripKubernetesKeywords(value)]),
    );
  }
  return node;
}

/**
 * zod writes a discriminated union as a plain `oneOf`; naming the discriminator lets the
 * request validator pick the member by `type` and report that member's fields only, instead
 * of every member's complaints.
 */
function addDiscriminators(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(addDiscriminators);
  if (!node || typeof node !== 'object') return node;
  const out = Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, addDiscriminators(value)]),
  ) as Record<string, unknown>;
  const members = out.oneOf as Array<{ properties?: Record<string, { enum?: unknown[] }> }> | undefined;
  if (members?.every(m => m.properties?.type?.enum?.length === 1)) {
    out.discriminator = { propertyName: 'type' };
  }
  return out;
}

function toOpenApi(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'throw' });
  return { 'x-generated': true, ...(addDiscriminators(stripKubernetesKeywords(json)) as object) };
}

/**
 * The OpenAPI component schemas derived from the experiment model: what a client sends
 * (defaults optional) and what the backend returns (defaults applied).
 */
export function generatedComponentSchemas(): Record<string, Record<string, unknown>> {
  return {
    ExperimentSpec: toOpenApi(experimentSpecSchema, 'input'),
    ExperimentSpecResolved: toOpenApi(experimentSpecSchema, 'output'),
    Run: toOpenApi(runSchema, 'output'),
    RunDetail: toOpenApi(runDetailSchema, 'output'),
    RunRequest: toOpenApi(runRequestSchema, 'input'),
  };
}

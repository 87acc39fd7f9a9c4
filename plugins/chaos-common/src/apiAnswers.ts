import type { z } from 'zod';
import {
  entityCeilingsSchema,
  experimentListSchema,
  resilienceScoreSchema,
  experimentSchema,
  experimentSourceListSchema,
  runDetailSchema,
  runListSchema,
  runSchema,
} from './api';
import type { DefaultApiClient } from './schema/openapi';
import { formatZodIssues } from './validation';

/**
 * What each operation of the API answers on success, by the generated client's method name
 * (DeleteExperiment answers 204 without a body). The compiler checks that every operation of
 * openapi.yaml is here.
 */
export const chaosApiAnswers = {
  listExperiments: experimentListSchema,
  getExperiment: experimentSchema,
  createExperiment: experimentSchema,
  updateExperiment: experimentSchema,
  runExperiment: runSchema,
  listRuns: runListSchema,
  getRun: runDetailSchema,
  abortRun: runSchema,
  listExperimentSources: experimentSourceListSchema,
  getResilienceScore: resilienceScoreSchema,
  getEntityCeilings: entityCeilingsSchema,
} satisfies Record<
  Exclude<keyof DefaultApiClient, 'deleteExperiment'>,
  z.ZodType
>;

export type ChaosApiOperation = keyof typeof chaosApiAnswers;
/** The body of an operation's success answer. */
export type ChaosApiAnswer<O extends ChaosApiOperation> = z.output<
  (typeof chaosApiAnswers)[O]
>;

/**
 * Paths of the fields parsing dropped from `input` (fields its schema does not name) and of
 * those it added (defaults the answer should have carried).
 */
function fieldDiff(
  input: unknown,
  output: unknown,
  path: string[] = [],
): { extra: string[]; missing: string[] } {
  const diff = { extra: [] as string[], missing: [] as string[] };
  if (Array.isArray(input) && Array.isArray(output)) {
    input.forEach((item, i) =>
      merge(diff, fieldDiff(item, output[i], [...path, String(i)])),
    );
  } else if (
    input &&
    output &&
    typeof input === 'object' &&
    typeof output === 'object'
  ) {
    const out = output as Record<string, unknown>;
    for (const [key, value] of Object.entries(input)) {
      if (key in out) merge(diff, fieldDiff(value, out[key], [...path, key]));
      else diff.extra.push([...path, key].join('.'));
    }
    for (const key of Object.keys(out)) {
      if (!(key in input) && out[key] !== undefined)
        diff.missing.push([...path, key].join('.'));
    }
  }
  return diff;
}

function merge(
  into: { extra: string[]; missing: string[] },
  from: { extra: string[]; missing: string[] },
): void {
  into.extra.push(...from.extra);
  into.missing.push(...from.missing);
}

/**
 * Checks an answer of the API against its operation's schema, exactly as the OpenAPI output schemas say
 * it: a malformed field fails, and so do a field the schema does not name (zod would drop it
 * silently; the OpenAPI schemas say `additionalProperties: false`) and a field with a default
 * that the answer leaves out (the backend answers with defaults applied). Returns the parsed
 * answer; throws an Error naming every field at fault.
 */
export function parseApiAnswer<O extends ChaosApiOperation>(
  operation: O,
  answer: unknown,
  what = `${operation} answer`,
): ChaosApiAnswer<O> {
  // TypeScript cannot narrow the schema by a generic key; the map above ties the two.
  const schema: z.ZodType = chaosApiAnswers[operation];
  const result = schema.safeParse(answer);
  if (!result.success) {
    const issues = formatZodIssues(result.error).map(
      i => `${i.field}: ${i.message}`,
    );
    throw new Error(`Invalid ${what}: ${issues.join('; ')}`);
  }
  const { extra, missing } = fieldDiff(answer, result.data);
  const problems = [
    ...(extra.length ? [`fields outside its schema: ${extra.join(', ')}`] : []),
    ...(missing.length ? [`missing fields: ${missing.join(', ')}`] : []),
  ];
  if (problems.length > 0) {
    throw new Error(`Invalid ${what}: ${problems.join('; ')}`);
  }
  return result.data as ChaosApiAnswer<O>;
}

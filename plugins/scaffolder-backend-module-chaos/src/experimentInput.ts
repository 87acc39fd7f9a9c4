import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  defaultMatchLabels,
  experimentSpecSchema,
  formatZodIssues,
  readEntityTarget,
  selectionSchema,
  targetSchema,
  type ExperimentSpec,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { z } from 'zod';

/**
 * What a template passes to create or write an experiment: the experiment model itself, except
 * that the target may be left out, or given in part, and is then filled from the entity's
 * annotations (its namespace, and its label selector's equalities), as the Chaos tab's form does.
 */
export const experimentActionInputSchema = experimentSpecSchema
  .omit({ target: true, entityRef: true })
  .extend({
    entityRef: experimentSpecSchema.shape.entityRef,
    target: z
      .object({
        namespace: targetSchema.shape.namespace.optional(),
        labelSelector: targetSchema.shape.labelSelector.optional(),
        container: targetSchema.shape.container,
        selection: selectionSchema.optional(),
      })
      .optional(),
  });
export type ExperimentActionInput = z.input<typeof experimentActionInputSchema>;

/** The same with the entity optional: `write-file` may find it in the workspace's catalog-info.yaml. */
export const writeFileInputSchema = experimentActionInputSchema.extend({
  entityRef: experimentSpecSchema.shape.entityRef.optional(),
  catalogInfoPath: z.string().min(1).max(1024).default('./catalog-info.yaml'),
  directory: z.string().min(1).max(1024).default('chaos'),
  annotate: z.boolean().default(true),
  overwrite: z.boolean().default(false),
});

/** Parses with a model schema; a failure is an InputError naming every field. */
export function parseInput<T extends z.ZodType>(
  schema: T,
  input: unknown,
): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new InputError(
      `Invalid input: ${formatZodIssues(result.error)
        .map(i => `${i.field}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return result.data;
}

/** JSON Schema of a model schema, as the scaffolder validates inputs and shows them at /create/actions. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(schema, {
    target: 'draft-7',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return json;
}

/**
 * The experiment the input describes, for `entity`: its target filled from the entity's
 * annotations where the input leaves it out, then checked against the one model. The chaos
 * backend checks it again against the entity (containment, ceilings) when it is created or run.
 */
export function experimentFor(
  input:
    | z.output<typeof experimentActionInputSchema>
    | z.output<typeof writeFileInputSchema>,
  entity: Entity,
): ExperimentSpec {
  const { target: read, problem } = readEntityTarget(
    entity.metadata.annotations ?? {},
  );
  if (problem)
    throw new InputError(`${problem.annotation}: ${problem.message}`);
  const {
    catalogInfoPath: _c,
    directory: _d,
    annotate: _a,
    overwrite: _o,
    ...rest
  } = input as z.output<typeof writeFileInputSchema>;
  const result = experimentSpecSchema.safeParse({
    ...rest,
    entityRef: stringifyEntityRef(entity),
    target: {
      namespace: input.target?.namespace ?? read.namespace,
      labelSelector: input.target?.labelSelector ?? defaultMatchLabels(read),
      ...(input.target?.container ? { container: input.target.container } : {}),
      ...(input.target?.selection ? { selection: input.target.selection } : {}),
    },
  });
  if (!result.success) {
    throw new InputError(
      `Invalid experiment: ${formatZodIssues(result.error)
        .map(i => `${i.field}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return result.data;
}

/**
 * The entity's Chaos tab, as a path inside the app (what template output links use: the app
 * opens it in place, under whatever base path it is served from).
 */
export function chaosTabPath(
  entityRef: { kind: string; namespace: string; name: string },
  runId?: string,
): string {
  const path = `/catalog/${encodeURIComponent(
    entityRef.namespace.toLocaleLowerCase('en-US'),
  )}/${encodeURIComponent(
    entityRef.kind.toLocaleLowerCase('en-US'),
  )}/${encodeURIComponent(entityRef.name)}/chaos`;
  return `${path}${runId ? `?run=${encodeURIComponent(runId)}` : ''}`;
}

/** The same as an absolute URL of the app (for logs, messages and other tools). */
export function chaosTabUrl(
  appBaseUrl: string,
  entityRef: { kind: string; namespace: string; name: string },
  runId?: string,
): string {
  return `${appBaseUrl.replace(/\/+$/, '')}${chaosTabPath(entityRef, runId)}`;
}

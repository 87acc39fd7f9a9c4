import { z } from 'zod';
import { CHAOS_API_VERSION, CHAOS_EXPERIMENT } from './crd/crds';
import { dnsLabelSchema } from './model/target';
import {
  chaosExperimentSpecSchema,
  experimentSpecSchema,
  type ExperimentSpec,
  type ExperimentSpecInput,
} from './model/experiment';
import { formatZodIssues, type FieldIssue } from './validation';

/**
 * An experiment kept as code: the `ChaosExperiment` resource, whether it is applied to a cluster
 * or kept as a YAML file next to the service's `catalog-info.yaml` (the entity's
 * `chaoscraft.io/experiments-location`). One shape for both, so a file can also be applied with
 * kubectl, and one schema (the model's) validates all three ways in.
 */
export type ChaosExperimentDocument = {
  apiVersion: typeof CHAOS_API_VERSION;
  kind: typeof CHAOS_EXPERIMENT.kind;
  metadata: { name: string; namespace?: string };
  spec: Omit<ExperimentSpecInput, 'name'>;
};

const documentSchema = z.object({
  apiVersion: z.literal(CHAOS_API_VERSION, {
    error: `must be ${CHAOS_API_VERSION}`,
  }),
  kind: z.literal(CHAOS_EXPERIMENT.kind, {
    error: `must be ${CHAOS_EXPERIMENT.kind}`,
  }),
  metadata: z.looseObject({
    name: dnsLabelSchema,
    namespace: z.string().optional(),
  }),
  spec: chaosExperimentSpecSchema,
});

/** The document of an experiment: what `chaos:experiment:write-file` writes. */
export function chaosExperimentDocument(
  spec: ExperimentSpec | ExperimentSpecInput,
): ChaosExperimentDocument {
  const { name, ...rest } = spec;
  // Only the fields that are set: a file says what its author chose, defaults stay implicit.
  const body = Object.fromEntries(
    Object.entries(rest).filter(([, value]) => value !== undefined),
  );
  return {
    apiVersion: CHAOS_API_VERSION,
    kind: CHAOS_EXPERIMENT.kind,
    metadata: { name },
    spec: body as ChaosExperimentDocument['spec'],
  };
}

/** What reading one document gave: the experiment, or every field at fault. */
export type ChaosExperimentReading =
  | { name: string; spec: ExperimentSpec; issues?: undefined }
  | { name?: string; spec?: undefined; issues: FieldIssue[] };

/**
 * Reads a ChaosExperiment document as an experiment of `entityRef` (the entity whose location
 * holds the file, or the one the resource names). Fields are named as they are in the document
 * (`spec.faults.0.latencyMs`); a document naming another entity is refused.
 */
export function readChaosExperimentDocument(
  value: unknown,
  entityRef: string,
): ChaosExperimentReading {
  const parsed = documentSchema.safeParse(value);
  const name =
    typeof (value as { metadata?: { name?: unknown } })?.metadata?.name ===
    'string'
      ? (value as { metadata: { name: string } }).metadata.name
      : undefined;
  if (!parsed.success) return { name, issues: formatZodIssues(parsed.error) };
  const { spec, metadata } = parsed.data;
  if (
    spec.entityRef !== undefined &&
    spec.entityRef.toLocaleLowerCase('en-US') !==
      entityRef.toLocaleLowerCase('en-US')
  ) {
    return {
      name,
      issues: [
        {
          field: 'spec.entityRef',
          message: `names ${spec.entityRef}, but this experiment belongs to ${entityRef}`,
        },
      ],
    };
  }
  const experiment = experimentSpecSchema.safeParse({
    ...spec,
    name: metadata.name,
    entityRef,
  });
  if (!experiment.success) {
    return {
      name,
      issues: formatZodIssues(experiment.error).map(i => ({
        ...i,
        field: `spec.${i.field}`,
      })),
    };
  }
  return { name: metadata.name, spec: experiment.data };
}

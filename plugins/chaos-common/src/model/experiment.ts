import { z } from 'zod';
import { durationSchema } from './duration';
import { faultListSchema } from './faults';
import { hypothesisSchema } from './hypothesis';
import { safetySchema } from './safety';
import { cronScheduleSchema } from './schedule';
import { dnsLabelSchema, targetSchema } from './target';

/** A full catalog entity reference, `kind:namespace/name`. */
export const entityRefSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][-A-Za-z0-9_.]*:[A-Za-z0-9][-A-Za-z0-9_.]*\/[A-Za-z0-9][-A-Za-z0-9_.]*$/,
    'must be a full entity reference such as component:default/my-service',
  );

/**
 * The shape every experiment shares, wherever it lives: in the backend's database, in a
 * ChaosExperiment resource, or copied into the ChaosRun that executes it.
 */
const experimentBody = {
  description: z.string().max(2000).default(''),
  target: targetSchema,
  faults: faultListSchema,
  duration: durationSchema.default('60s'),
  safety: safetySchema.prefault({}),
  hypothesis: hypothesisSchema.optional(),
};

/** What a user writes to create or replace an experiment through the API. */
export const experimentSpecSchema = z.object({
  name: dnsLabelSchema,
  entityRef: entityRefSchema,
  ...experimentBody,
  schedule: cronScheduleSchema.optional(),
});
export type ExperimentSpec = z.infer<typeof experimentSpecSchema>;
/** The same, before defaults are applied: what a client may send. */
export type ExperimentSpecInput = z.input<typeof experimentSpecSchema>;

/** Spec of the ChaosExperiment custom resource: experiments kept as code in the cluster. */
export const chaosExperimentSpecSchema = z.object({
  entityRef: entityRefSchema.optional(),
  ...experimentBody,
  schedule: cronScheduleSchema.optional(),
});
export type ChaosExperimentSpec = z.infer<typeof chaosExperimentSpecSchema>;

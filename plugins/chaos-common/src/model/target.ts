import { z } from 'zod';

/** RFC 1123 label, as Kubernetes requires for namespace names. */
export const dnsLabelSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'must be a lowercase RFC 1123 label (a-z, 0-9 and -)',
  );

/**
 * How many of the eligible (Running) pods a run disrupts. One object rather than a
 * discriminated union so that it maps one-to-one onto a structural CRD schema.
 */
export const selectionSchema = z
  .object({
    mode: z.enum(['one', 'fixed', 'percent']).default('one'),
    count: z.number().int().min(1).max(100_000).optional(),
    percent: z.number().min(1).max(100).optional(),
  })
  .superRefine((selection, ctx) => {
    if (selection.mode === 'fixed' && selection.count === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['count'],
        message: "is required when mode is 'fixed'",
      });
    }
    if (selection.mode === 'percent' && selection.percent === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['percent'],
        message: "is required when mode is 'percent'",
      });
    }
  })
  .meta({
    // `has(self.mode)` first: the API server also evaluates these rules against the schema's
    // default for the whole object ({}), where mode is absent (it means 'one').
    'x-kubernetes-validations': [
      {
        rule: "!has(self.mode) || self.mode != 'fixed' || has(self.count)",
        message: "count is required when mode is 'fixed'",
        fieldPath: '.count',
      },
      {
        rule: "!has(self.mode) || self.mode != 'percent' || has(self.percent)",
        message: "percent is required when mode is 'percent'",
        fieldPath: '.percent',
      },
    ],
  });

const labelKey = z
  .string()
  .min(1)
  .max(317)
  .regex(
    /^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
    'must be a Kubernetes label key',
  );
const labelValue = z
  .string()
  .max(63)
  .regex(
    /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/,
    'must be a Kubernetes label value',
  );

export const MAX_SELECTOR_LABELS = 16;

export const targetSchema = z.object({
  namespace: dnsLabelSchema,
  /** matchLabels of the pods that may be hit. Never empty: that would mean "every pod". */
  labelSelector: z
    .record(labelKey, labelValue)
    .refine(selector => Object.keys(selector).length > 0, {
      message: 'must not be empty: an empty selector matches every pod',
    })
    .refine(selector => Object.keys(selector).length <= MAX_SELECTOR_LABELS, {
      message: `must have at most ${MAX_SELECTOR_LABELS} labels`,
    })
    .meta({ minProperties: 1, maxProperties: MAX_SELECTOR_LABELS }),
  /** Restricts container-scoped faults to one container; default: the pod's first. */
  container: z
    .string()
    .min(1)
    .max(63)
    .regex(
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
      'must be a container name (a lowercase RFC 1123 label)',
    )
    .optional(),
  selection: selectionSchema.prefault({}),
});

export type Selection = z.infer<typeof selectionSchema>;
export type Target = z.infer<typeof targetSchema>;

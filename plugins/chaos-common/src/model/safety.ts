import { z } from 'zod';
import { durationSchema } from './duration';
import { selectionSchema } from './target';

export const DEFAULT_MAX_BLAST_RADIUS_PERCENT = 10;

/** One widening step of a progressive run: disrupt this many, hold, check the gate. */
export const progressiveStepSchema = z.object({
  selection: selectionSchema,
  /** How long the step holds while the hypothesis acts as its gate. */
  hold: durationSchema.default('30s'),
});
export type ProgressiveStep = z.infer<typeof progressiveStepSchema>;

export const safetySchema = z.object({
  /** Selected targets over eligible pods, in percent; a run above it is refused. */
  maxBlastRadiusPercent: z
    .number()
    .min(1)
    .max(100)
    .default(DEFAULT_MAX_BLAST_RADIUS_PERCENT),
  /** Pod kills go through the Eviction API, so PodDisruptionBudgets can block them. */
  respectPodDisruptionBudgets: z.boolean().default(true),
  /** Widens the blast radius step by step; the run stops at the first failing gate. */
  progressiveSteps: z.array(progressiveStepSchema).max(10).optional(),
});
export type Safety = z.infer<typeof safetySchema>;

import { z } from 'zod';
import { experimentSpecSchema } from './model/experiment';
import {
  blastRadiusSchema,
  phaseTransitionSchema,
  probeResultSchema,
  runPhaseSchema,
  stepRecordSchema,
  targetRecordSchema,
  verdictSchema,
} from './model/run';

/** One page of a list; `offset` and `limit` echo the request. */
export type Page<T> = {
  items: T[];
  totalCount: number;
  offset: number;
  limit: number;
};

/** The schema of one page of `item`s. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    totalCount: z.number().int().min(0),
    offset: z.number().int().min(0),
    limit: z.number().int().min(1),
  });
}

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;
/** Deeper pages are refused (400): nobody pages that far, and huge offsets overflow the database. */
export const MAX_PAGE_OFFSET = 100_000;

const timestamp = z.iso.datetime();

/** An experiment as the backend stores and returns it: the spec with defaults applied. */
export const experimentSchema = experimentSpecSchema.extend({
  id: z.string(),
  createdBy: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Experiment = z.infer<typeof experimentSchema>;

export const experimentListSchema = pageSchema(experimentSchema);
export type ExperimentList = Page<Experiment>;

/** A run as the backend records it: the durable history of one ChaosRun. */
export const runSchema = z.object({
  id: z.string(),
  /** Empty once the experiment that started it is deleted; the run stays. */
  experimentId: z.string(),
  /** The experiment's name when the run started. */
  experimentName: z.string(),
  entityRef: z.string(),
  cluster: z.string(),
  namespace: z.string(),
  /** metadata.name of the ChaosRun in the cluster. */
  resourceName: z.string(),
  dryRun: z.boolean(),
  phase: runPhaseSchema,
  verdict: verdictSchema.optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  blastRadius: blastRadiusSchema.optional(),
  createdBy: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
  startedAt: timestamp.optional(),
  finishedAt: timestamp.optional(),
});
export type Run = z.infer<typeof runSchema>;

/** A phase the run reached, in order: its timeline. */
export const runTimelineEventSchema = phaseTransitionSchema;
export type RunTimelineEvent = z.infer<typeof runTimelineEventSchema>;

export const runDetailSchema = runSchema.extend({
  targets: z.array(targetRecordSchema),
  probes: z.array(probeResultSchema),
  /** What a progressive run reached: one record per step, in order; empty for other runs. */
  steps: z.array(stepRecordSchema),
  /** Time from the first failing probe sample to every fault reverted, when a probe stopped the run. */
  abortLatencyMs: z.number().int().min(0).optional(),
  timeline: z.array(runTimelineEventSchema),
});
export type RunDetail = z.infer<typeof runDetailSchema>;

/** A run's summary, as lists and the abort answer give it: the fields the Run schema names. */
export function runSummaryOf(run: Run & Partial<RunDetail>): Run {
  const summary: Record<string, unknown> = {};
  for (const key of Object.keys(runSchema.shape)) {
    if (key in run) summary[key] = run[key as keyof Run];
  }
  return summary as Run;
}

/** What `POST /experiments/{id}/runs` accepts. */
export const runRequestSchema = z.object({ dryRun: z.boolean().default(false) });
export type RunRequest = z.input<typeof runRequestSchema>;

export const runListSchema = pageSchema(runSchema);
export type RunList = Page<Run>;

/** The body of every error answer, as Backstage's error middleware writes it (ErrorResponseBody). */
export const errorResponseSchema = z.object({
  error: z.looseObject({ name: z.string(), message: z.string() }),
  request: z.object({ method: z.string(), url: z.string() }).optional(),
  response: z.object({ statusCode: z.number().int() }),
});
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

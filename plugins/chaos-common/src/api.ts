import { z } from 'zod';
import { experimentSpecSchema } from './model/experiment';
import { faultTypeSchema } from './model/faults';
import {
  blastRadiusSchema,
  phaseTransitionSchema,
  probeResultSchema,
  runPhaseSchema,
  stepRecordSchema,
  targetRecordSchema,
  verdictSchema,
} from './model/run';

/**
 * One page of a list; `offset` and `limit` echo the request. Lists of runs also give
 * `nextCursor` while more items follow: pass it as `after` for the next page, which costs the same
 * however deep it is (an offset costs what it skips).
 */
export type Page<T> = {
  items: T[];
  totalCount: number;
  offset: number;
  limit: number;
  nextCursor?: string;
};

/** The schema of one page of `item`s. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    totalCount: z.number().int().min(0),
    offset: z.number().int().min(0),
    limit: z.number().int().min(1),
    nextCursor: z.string().optional(),
  });
}

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;
/** Deeper pages are refused (400): nobody pages that far, and huge offsets overflow the database. */
export const MAX_PAGE_OFFSET = 100_000;

const timestamp = z.iso.datetime();

/**
 * Where an experiment kept as code is defined. Such an experiment is read-only through the API
 * (change it at its source) and can be run like any other.
 */
export const managedBySchema = z.object({
  /** `location`: a file at the entity's `chaoscraft.io/experiments-location`; `cluster`: a ChaosExperiment resource. */
  kind: z.enum(['location', 'cluster']),
  /** The file's URL, or `<cluster>/<namespace>/<name>` of the ChaosExperiment. */
  source: z.string(),
  /** A link to view the source in a browser, when it has one. */
  url: z.string().optional(),
});
export type ManagedBy = z.infer<typeof managedBySchema>;

/** An experiment as the backend stores and returns it: the spec with defaults applied. */
export const experimentSchema = experimentSpecSchema.extend({
  id: z.string(),
  createdBy: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
  /** Set when the experiment is kept as code; absent for experiments made through the API. */
  managedBy: managedBySchema.optional(),
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
export const runRequestSchema = z.object({
  dryRun: z.boolean().default(false),
});
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

/** Something wrong with experiments kept as code, shown where the entity's experiments are. */
export const sourceProblemSchema = z.object({
  /**
   * `read`: the location could not be read; `parse`: not YAML; `invalid`: a field breaks the
   * model; `conflict`: the name is taken by another experiment of the entity; `binding`: the
   * experiment does not fit its entity (target, cluster, ceilings).
   */
  kind: z.enum(['read', 'parse', 'invalid', 'conflict', 'binding']),
  /** The file (with `#<document>` when it holds several), or `<cluster>/<namespace>/<name>`. */
  source: z.string(),
  /** The experiment's name, when it has one. */
  name: z.string().optional(),
  /** The field at fault, as written in the document (`spec.faults.0.latencyMs`). */
  field: z.string().optional(),
  message: z.string(),
});
export type SourceProblem = z.infer<typeof sourceProblemSchema>;

/** One source of an entity's experiments kept as code, as the backend last read it. */
export const experimentSourceSchema = z.object({
  kind: managedBySchema.shape.kind,
  entityRef: z.string(),
  /** The location read (resolved), or the cluster's name. */
  location: z.string(),
  /** When the backend last read it. */
  checkedAt: timestamp,
  /** Experiments it defines that are in effect. */
  experimentCount: z.number().int().min(0),
  problems: z.array(sourceProblemSchema),
});
export type ExperimentSource = z.infer<typeof experimentSourceSchema>;

export const experimentSourceListSchema = z.object({
  items: z.array(experimentSourceSchema),
});
export type ExperimentSourceList = z.infer<typeof experimentSourceListSchema>;
/**
 * The resilience score's decay: a fault type passed at most this many days ago counts in full...
 */
export const SCORE_FULL_VALUE_DAYS = 30;
/** ...then its value falls linearly, to nothing at this many days. */
export const SCORE_ZERO_VALUE_DAYS = 90;

/** One fault type's share of an entity's resilience score. */
export const resilienceScoreFaultSchema = z.object({
  type: faultTypeSchema,
  /** When the newest passed run with this fault type finished; absent: none passed in the window. */
  lastPassedAt: timestamp.optional(),
  /** 1 up to SCORE_FULL_VALUE_DAYS after lastPassedAt, then falling linearly to 0. */
  weight: z.number().min(0).max(1),
  /** What it adds to the score now: maxPoints × weight. */
  points: z.number().min(0).max(100),
  /** What it adds when passed within SCORE_FULL_VALUE_DAYS: 100 / the number of fault types counted. */
  maxPoints: z.number().min(0).max(100),
  /** When it starts to decay (lastPassedAt + SCORE_FULL_VALUE_DAYS). */
  decaysFrom: timestamp.optional(),
  /** When it is worth nothing (lastPassedAt + SCORE_ZERO_VALUE_DAYS). */
  expiresAt: timestamp.optional(),
});
export type ResilienceScoreFault = z.infer<typeof resilienceScoreFaultSchema>;

/**
 * How well an entity has shown it copes with each kind of fault lately, 0..100: the sum of the
 * fault types' points. A fault type counts when a run with it (not a dry run) ended Completed with
 * the verdict Passed; its value decays with the age of that run.
 */
export const resilienceScoreSchema = z.object({
  entityRef: z.string(),
  /** Σ points, rounded. */
  score: z.number().int().min(0).max(100),
  /** The clock the score was computed at. */
  computedAt: timestamp,
  fullValueDays: z.number().int().min(0),
  zeroValueDays: z.number().int().min(1),
  /** Every fault type the operator allows, most to gain first: what raises the score. */
  faults: z.array(resilienceScoreFaultSchema),
});
export type ResilienceScore = z.infer<typeof resilienceScoreSchema>;

/**
 * The ceilings an entity's experiments must stay under: the operator's, lowered by the cluster's
 * cap and the entity's `chaoscraft.io/max-blast-radius-percent`. The form checks with them
 * (ceilingIssues) before it saves; the backend checks again, with the cluster's API server added
 * to the denied probe hosts.
 */
export const entityCeilingsSchema = z.object({
  entityRef: z.string(),
  cluster: z.string(),
  maxBlastRadiusPercent: z.number().min(0).max(100),
  maxDurationMs: z.number().int().min(0),
  allowedFaultTypes: z.array(faultTypeSchema),
  minProbeIntervalMs: z.number().int().min(0),
  maxProbeRequestsPerCheck: z.number().int().min(0),
  probeHosts: z.object({
    allow: z.array(z.string()),
    deny: z.array(z.string()),
  }),
  maxLiveRunsPerEntity: z.number().int().min(1),
});
export type EntityCeilings = z.infer<typeof entityCeilingsSchema>;

/**
 * Signals (Backstage's push channel) the backend publishes whenever a run's record changes: one
 * channel per run and one per entity. The message only says which run changed; clients read the
 * run through the API, so what they see is still what they may read.
 */
export type ChaosRunSignal = { runId: string };
export const runSignalChannel = (runId: string): string => `chaos:run:${runId}`;
export const entityRunsSignalChannel = (entityRef: string): string =>
  `chaos:entity:${entityRef}`;

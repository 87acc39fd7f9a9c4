import { z } from 'zod';
import { faultTypeSchema } from './faults';
import { comparisonSchema, probePhaseSchema } from './hypothesis';
import { chaosExperimentSpecSchema, entityRefSchema } from './experiment';

const timestamp = z.iso.datetime();

/** Spec of one execution, the ChaosRun custom resource. */
export const chaosRunSpecSchema = chaosExperimentSpecSchema
  .omit({ schedule: true })
  .extend({
    /** Where the run came from, for people and for Backstage. */
    experiment: z
      .object({
        name: z.string().min(1).max(253),
        id: z.string().max(64).optional(),
      })
      .optional(),
    entityRef: entityRefSchema.optional(),
    /** Select and compute the blast radius, touch nothing. */
    dryRun: z.boolean().default(false),
    /** Makes target selection reproducible. */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
    /** Set to true to stop the run: no further injection, everything recoverable rolls back. */
    abort: z.boolean().default(false),
  });
export type ChaosRunSpec = z.infer<typeof chaosRunSpecSchema>;
export type ChaosRunSpecInput = z.input<typeof chaosRunSpecSchema>;

export const RUN_PHASES = [
  'Pending',
  'Preflight',
  'Injecting',
  'Running',
  'RollingBack',
  'Completed',
  'Aborted',
  'Failed',
] as const;
export const runPhaseSchema = z.enum(RUN_PHASES);
export type RunPhase = z.infer<typeof runPhaseSchema>;
export const TERMINAL_PHASES: readonly RunPhase[] = [
  'Completed',
  'Aborted',
  'Failed',
];
export function isTerminalPhase(phase: RunPhase | undefined): boolean {
  return phase !== undefined && TERMINAL_PHASES.includes(phase);
}

/** Did the steady-state hypothesis hold? Refused runs never started. */
export const verdictSchema = z.enum([
  'Passed',
  'Failed',
  'Refused',
  'Inconclusive',
]);
export type Verdict = z.infer<typeof verdictSchema>;

export const targetPhaseSchema = z.enum([
  'Selected',
  'Injecting',
  'Injected',
  'Blocked',
  'Recovering',
  'Recovered',
  'Failed',
  'Skipped',
]);
export type TargetPhase = z.infer<typeof targetPhaseSchema>;

export const MAX_TARGET_EVENTS = 10;
export const MAX_PROBE_SAMPLES = 120;

export const targetEventSchema = z.object({
  time: timestamp,
  reason: z.string().max(128),
  message: z.string().max(1024),
});
export type TargetEvent = z.infer<typeof targetEventSchema>;

/** What happened to one pod for one fault. */
export const targetRecordSchema = z.object({
  pod: z.string(),
  uid: z.string().optional(),
  node: z.string().optional(),
  fault: faultTypeSchema,
  phase: targetPhaseSchema,
  reason: z.string().max(128).optional(),
  message: z.string().max(1024).optional(),
  injectedAt: timestamp.optional(),
  recoveredAt: timestamp.optional(),
  events: z.array(targetEventSchema).max(MAX_TARGET_EVENTS).default([]),
});
export type TargetRecord = z.infer<typeof targetRecordSchema>;

export const blastRadiusSchema = z.object({
  selected: z.number().int().min(0),
  eligible: z.number().int().min(0),
  percent: z.number().min(0).max(100),
  limit: z.number().min(0).max(100),
});
export type BlastRadius = z.infer<typeof blastRadiusSchema>;

export const probeSampleSchema = z.object({
  time: timestamp,
  phase: probePhaseSchema,
  value: z.number().optional(),
  ok: z.boolean(),
  error: z.string().max(512).optional(),
});
export type ProbeSample = z.infer<typeof probeSampleSchema>;

export const probeResultSchema = z.object({
  name: z.string(),
  type: z.enum(['promql', 'http', 'k8s']),
  comparison: comparisonSchema.optional(),
  threshold: z.number().optional(),
  verdict: z.enum(['Passed', 'Failed', 'Unknown']),
  consecutiveFailures: z.number().int().min(0).default(0),
  samples: z.array(probeSampleSchema).max(MAX_PROBE_SAMPLES).default([]),
});
export type ProbeResult = z.infer<typeof probeResultSchema>;

export const stepRecordSchema = z.object({
  index: z.number().int().min(0),
  blastRadius: blastRadiusSchema,
  /** When the step began widening: its new targets were chosen and recorded. */
  startedAt: timestamp,
  /**
   * When every target of the step had been acted on (or the agent's injection timeout passed):
   * the step's hold, its gate window, counts from here.
   */
  injectedAt: timestamp.optional(),
  finishedAt: timestamp.optional(),
  result: z.enum(['Running', 'Passed', 'Failed']),
});
export type StepRecord = z.infer<typeof stepRecordSchema>;

export const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string().max(4096).default(''),
  lastTransitionTime: timestamp,
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.infer<typeof conditionSchema>;

/** One phase reached, so that a watcher that missed fast transitions still sees them all. */
export const phaseTransitionSchema = z.object({
  phase: runPhaseSchema,
  time: timestamp,
  reason: z.string().max(128).optional(),
  message: z.string().max(1024).optional(),
});
export type PhaseTransition = z.infer<typeof phaseTransitionSchema>;

export const chaosRunStatusSchema = z.object({
  phase: runPhaseSchema.optional(),
  /** Every phase the run reached, in order; each phase at most once. */
  phaseTransitions: z
    .array(phaseTransitionSchema)
    .max(RUN_PHASES.length)
    .default([]),
  observedGeneration: z.number().int().optional(),
  startedAt: timestamp.optional(),
  finishedAt: timestamp.optional(),
  /** Renewed by the controller while it drives the run; node daemons revert when it goes stale. */
  heartbeatTime: timestamp.optional(),
  blastRadius: blastRadiusSchema.optional(),
  targets: z.array(targetRecordSchema).max(5000).default([]),
  probes: z.array(probeResultSchema).max(20).default([]),
  steps: z.array(stepRecordSchema).max(10).default([]),
  verdict: verdictSchema.optional(),
  /** Machine-readable cause, CamelCase (e.g. BlastRadiusExceeded). */
  reason: z.string().max(128).optional(),
  message: z.string().max(4096).optional(),
  /** Time from the first violating probe sample to every fault reverted. */
  abortLatencyMs: z.number().int().min(0).optional(),
  conditions: z.array(conditionSchema).max(16).default([]),
  /**
   * What the agent left out to keep the status within its size budget (etcd refuses objects of
   * more than 1.5 MiB): the oldest target events and probe samples go first, and are counted here.
   */
  dropped: z
    .object({
      targetEvents: z.number().int().min(0).default(0),
      probeSamples: z.number().int().min(0).default(0),
    })
    .optional(),
});
export type ChaosRunStatus = z.infer<typeof chaosRunStatusSchema>;

/**
 * metadata.annotations key of a ChaosRun planned at admission: the agent's mutating webhook
 * selects the targets while the run is being created, so the plan is persisted by the create
 * itself and the controller can act on its first sight of the run.
 */
export const ADMISSION_PLAN_ANNOTATION = 'chaoscraft.io/admission-plan';

/** The JSON in ADMISSION_PLAN_ANNOTATION. */
export const admissionPlanSchema = z.object({
  version: z.literal(1),
  targets: z
    .array(
      z.object({
        name: z.string().min(1),
        uid: z.string().min(1),
        node: z.string().optional(),
      }),
    )
    .min(1),
  blastRadius: blastRadiusSchema,
  seed: z.number().int(),
});
export type AdmissionPlan = z.infer<typeof admissionPlanSchema>;

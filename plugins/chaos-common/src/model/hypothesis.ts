import { z } from 'zod';
import { durationSchema } from './duration';

export const comparisonSchema = z.enum(['<', '<=', '>', '>=', '==', '!=']);
export type Comparison = z.infer<typeof comparisonSchema>;

/** When a probe is checked relative to the fault injection. */
export const probePhaseSchema = z.enum(['before', 'during', 'after']);
export type ProbePhase = z.infer<typeof probePhaseSchema>;

const probeCommon = {
  name: z
    .string()
    .min(1)
    .max(63)
    .regex(
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
      'must be a lowercase name (a-z, 0-9 and -)',
    ),
  checkAt: z
    .array(probePhaseSchema)
    .min(1)
    .max(3)
    .default(['before', 'during', 'after']),
};

export const promqlProbeSchema = z.object({
  type: z.literal('promql'),
  ...probeCommon,
  /** Must evaluate to a single scalar or a one-element vector. */
  query: z.string().min(1).max(4096),
  comparison: comparisonSchema,
  threshold: z.number(),
  /** The condition must fail for this long before the probe counts as failing. */
  for: durationSchema.optional(),
});

export const httpProbeSchema = z.object({
  type: z.literal('http'),
  ...probeCommon,
  url: z.url({ protocol: /^https?$/ }).max(2048),
  expectedStatus: z.number().int().min(100).max(599).default(200),
  maxLatencyMs: z.number().int().min(1).max(60_000).default(1000),
  requests: z.number().int().min(1).max(1000).default(10),
  /** Fraction of the requests that must meet status and latency, 0..1. */
  minSuccessRatio: z.number().min(0).max(1).default(1),
});

export const k8sProbeSchema = z.object({
  type: z.literal('k8s'),
  ...probeCommon,
  /** Deployment in the run's target namespace. */
  deployment: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Deployment name'),
  /** availableReplicas / spec.replicas must stay at or above this, 0..1. */
  minAvailableRatio: z.number().min(0).max(1),
});

export const probeSchema = z.discriminatedUnion('type', [
  promqlProbeSchema,
  httpProbeSchema,
  k8sProbeSchema,
]);
export type Probe = z.infer<typeof probeSchema>;
export type ProbeType = Probe['type'];

export const hypothesisSchema = z.object({
  probes: z.array(probeSchema).min(1).max(20),
  /** How often probes run while faults are active. */
  interval: durationSchema.default('10s'),
  /** Consecutive failed checks during the run that trigger an abort. */
  failureThreshold: z.number().int().min(1).max(100).default(3),
  /** How long steady state may take to come back after rollback. */
  recoveryTimeout: durationSchema.default('60s'),
});
export type Hypothesis = z.infer<typeof hypothesisSchema>;

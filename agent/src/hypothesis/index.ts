export { HypothesisMonitor } from './monitor';
export type {
  HypothesisConclusion,
  HypothesisContext,
  HypothesisMonitorOptions,
  HypothesisViolation,
  HypothesisWatch,
  RecoveryJudgement,
  RunEnding,
  SteadyStateJudgement,
} from './monitor';
export { ProbeRecord, describeSample } from './results';
export { planProgressiveSteps } from './progressive';
export type { PlannedStep, ProgressivePlan } from './progressive';
export { runProgressiveSteps } from './progressiveRun';
export type { ProgressiveHooks, ProgressiveOutcome, StepRecord } from './progressiveRun';
export { runGuarded } from './guardedRun';
export type { FaultLifecycle, GuardedRunOptions, GuardedRunResult } from './guardedRun';
export { nextProgressiveAction } from './progressive';
export type { ProgressiveAction } from './progressive';
export { ProbeHypothesisGate } from './gate';
export type { ProbeHypothesisGateOptions } from './gate';
export { noHypothesisGate } from './hypothesisGate';
export type { GateCheck, GateInput, GateVerdict, HypothesisGate } from './hypothesisGate';

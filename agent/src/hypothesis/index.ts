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
export { nextProgressiveAction, planProgressiveSteps } from './progressive';
export type {
  PlannedStep,
  ProgressiveAction,
  ProgressivePlan,
} from './progressive';
export { ProbeHypothesisGate } from './gate';
export type { ProbeHypothesisGateOptions } from './gate';
export { noHypothesisGate } from './hypothesisGate';
export type {
  GateCheck,
  GateInput,
  GateVerdict,
  HypothesisGate,
} from './hypothesisGate';

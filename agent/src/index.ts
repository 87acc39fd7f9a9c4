/**
 * The ChaosCraft in-cluster agent: the controller role (leader-elected ChaosRun reconciler) and
 * the node role (network and stress faults). See docs/agent.md. Its test kit,
 * @chaoscraft/agent-testkit, uses only what this file exports.
 *
 * @packageDocumentation
 */
export { ChaosController } from './controller/controller';
export {
  KeepAliveKubeConfig,
  loadKubeConfig,
} from '@chaoscraft/backstage-plugin-chaos-node';
export type { ControllerOptions } from './controller/controller';
export { defaultControllerConfig } from './config';
export type { ControllerConfig } from './config';
export { parseControllerArgs } from './controllerArgs';
export { noHypothesisGate } from './hypothesis/hypothesisGate';
export type {
  GateCheck,
  GateInput,
  GateVerdict,
  HypothesisGate,
} from './hypothesis/hypothesisGate';
export { RUN_PIPELINE } from './controller/reconciler';
export { FAULT_MODULES, FaultRouter, UnknownFaultTypeError } from './faults';
export type {
  FaultContext,
  FaultExecutor,
  FaultImplementation,
  FaultModule,
  FaultOutcome,
  FaultTarget,
} from './faults';
export { CHAOS_FINALIZER } from '@chaoscraft/backstage-plugin-chaos-node';
export type { ChaosRunResource } from '@chaoscraft/backstage-plugin-chaos-node';
export { selectTargets, plannedCount } from './selection/selectTargets';
export { computeBlastRadius, exceedsLimit } from './selection/blastRadius';
export { main } from './main';
export { startTracing, recordRunTrace } from './tracing';
export { MUTATE_CHAOSRUN_PATH } from './admission/webhookServer';
export {
  runNodeDaemon,
  NodeDaemon,
  Ledger,
  readLedgerFile,
  StaticNetnsResolver,
  CrictlNetnsResolver,
} from './node';
export type {
  RunningNodeDaemon,
  NodeDaemonOptions,
  LedgerEntry,
  NetnsResolver,
} from './node';
export {
  detectNetem,
  NETEM_PROBE_ARGV,
  NetworkInjector,
} from './faults/network';
export type { NodeCapabilities } from './faults/network';

export * from './types';
export * from './objects';
export * from './exec';
export * from './names';
export { detectNetem, NETEM_PROBE_ARGV } from './capabilities';
export { NETWORK_FAULT_PLANNERS, planNetworkFault } from './planners';
export {
  NetworkInjector,
  InjectionRefusedError,
  netnsInode,
  networkTargetKey,
} from './injector';
export type {
  NetworkTarget,
  NetworkInjectorOptions,
  RecoveryOutcome,
} from './injector';
export { NETWORK_FAULTS, explainNetworkFailure } from './fault';

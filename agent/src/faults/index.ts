export { FAULT_MODULES, FaultRouter } from './registry';
export { UnknownFaultTypeError } from './types';
export type {
  ApplyContext,
  ControllerFaultDeps,
  FaultContext,
  FaultExecutor,
  FaultImplementation,
  FaultModule,
  FaultOutcome,
  FaultRun,
  FaultTarget,
  NodeFaultDeps,
} from './types';

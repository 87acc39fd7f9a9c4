/**
 * The node-side kit that every process talking to a cluster shares: the agent's controller and
 * node daemon, and the backend's cluster access. The ChaosRun resource and its one client, API
 * error codes, the one resilient informer, the one per-key work queue, the one status writer
 * and record transition, connection reuse and the client-side rate limit.
 *
 * @packageDocumentation
 */
export { KeepAliveKubeConfig, loadKubeConfig } from './kube/kubeConfig';
export {
  ApiThrottle,
  DEFAULT_API_RATE_LIMIT,
  validateApiRateLimit,
} from './kube/apiRateLimit';
export type { ApiRateLimit } from './kube/apiRateLimit';
export {
  apiErrorBody,
  apiErrorCode,
  describeApiError,
  isConflict,
  isNotFound,
} from './kube/apiErrors';
export {
  CHAOS_FINALIZER,
  CHAOS_RUN_COORDINATES,
  chaosRunsPath,
  runKey,
  splitRunKey,
} from './chaosRun/resource';
export type { ChaosRunResource } from './chaosRun/resource';
export { ChaosRunClient } from './chaosRun/ChaosRunClient';
export type { ChaosRunList } from './chaosRun/ChaosRunClient';
export { Backoff, Sleeper } from './informer/backoff';
export { ResilientInformer } from './informer/ResilientInformer';
export type {
  InformerEvent,
  ResilientInformerOptions,
} from './informer/ResilientInformer';
export { WorkQueue } from './queue/WorkQueue';
export type { WorkFailureHandler, WorkResult, Worker } from './queue/WorkQueue';
export { StatusWriter } from './status/StatusWriter';
export { DEFAULT_STATUS_BUDGET_BYTES, fitStatusBudget } from './status/budget';
export type { StatusMutation, StatusWriteResult } from './status/StatusWriter';
export {
  appendTargetEvent,
  applyRecordUpdates,
  normalizeStatus,
  nowIso,
  sameTarget,
  setCondition,
  transitionRecord,
} from './status/records';
export type { RecordIdentity, RecordUpdate, RunStatus } from './status/records';
export {
  RUN_SPAN_ATTRIBUTES,
  runSpanAttributes,
  runTraceContext,
  runTraceId,
  traceAnnotations,
} from './tracing/runTrace';

import {
  isTerminalPhase,
  type RunPhase,
  type TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { ChaosRunResource } from '@chaoscraft/backstage-plugin-chaos-node';
import type { FaultRouter } from '../faults';

/** Records a node daemon acts on: faults executed by node daemons, on its own node. */
export function isOwnRecord(
  record: TargetRecord,
  nodeName: string,
  faults: FaultRouter,
): boolean {
  return record.node === nodeName && faults.executorOf(record.fault) === 'node';
}

/**
 * Why a run's faults must (not) be in place. The phase and the heartbeat decide; absent a run
 * everything goes.
 */
export type RunAssessment =
  | { inject: true }
  | {
      inject: false;
      /** CamelCase, for records and logs. */
      reason:
        | 'RunDeleted'
        | 'RunFinished'
        | 'RollingBack'
        | 'Aborted'
        | 'HeartbeatLost'
        | 'NotStarted';
      message: string;
    };

/** Phases in which network faults are wanted, given a fresh heartbeat. */
const INJECTING_PHASES: readonly RunPhase[] = ['Injecting', 'Running'];

/**
 * The dead-man's switch lives here: faults stay only while the run is Injecting or Running,
 * not aborted, not being deleted, and its controller renewed the heartbeat within the timeout.
 */
export function assessRun(
  run: ChaosRunResource | undefined,
  nowMs: number,
  heartbeatTimeoutMs: number,
): RunAssessment {
  if (!run) {
    return {
      inject: false,
      reason: 'RunDeleted',
      message: 'the run was deleted',
    };
  }
  if (run.metadata?.deletionTimestamp) {
    return {
      inject: false,
      reason: 'RunDeleted',
      message: 'the run is being deleted',
    };
  }
  const phase = run.status?.phase;
  if (isTerminalPhase(phase)) {
    return {
      inject: false,
      reason: 'RunFinished',
      message: `the run is ${phase}`,
    };
  }
  if (phase === 'RollingBack') {
    return {
      inject: false,
      reason: 'RollingBack',
      message: 'the run is rolling back',
    };
  }
  if ((run.spec as { abort?: unknown } | undefined)?.abort === true) {
    return {
      inject: false,
      reason: 'Aborted',
      message: 'the run was aborted (spec.abort)',
    };
  }
  if (!phase || !INJECTING_PHASES.includes(phase)) {
    return {
      inject: false,
      reason: 'NotStarted',
      message: `the run is ${phase ?? 'new'}`,
    };
  }
  const heartbeat = run.status?.heartbeatTime
    ? Date.parse(run.status.heartbeatTime)
    : NaN;
  if (Number.isNaN(heartbeat)) {
    // Not yet renewed even once: the controller may write it just after the phase.
    return {
      inject: false,
      reason: 'NotStarted',
      message: `the run is ${phase} without a heartbeat`,
    };
  }
  const ageMs = nowMs - heartbeat;
  if (ageMs > heartbeatTimeoutMs) {
    return {
      inject: false,
      reason: 'HeartbeatLost',
      message: `heartbeat is ${Math.round(
        ageMs / 1000,
      )}s old (timeout ${Math.round(
        heartbeatTimeoutMs / 1000,
      )}s): reverted by the node's dead-man's switch`,
    };
  }
  return { inject: true };
}

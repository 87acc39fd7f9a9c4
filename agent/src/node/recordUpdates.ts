import type {
  TargetPhase,
  TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type {
  RecordIdentity,
  RecordUpdate,
} from '@chaoscraft/backstage-plugin-chaos-node';
import type { FaultOutcome } from '../faults';

/** Records the controller hands over for injection. */
export const WANTS_INJECTION: readonly TargetPhase[] = [
  'Selected',
  'Injecting',
];

/** Records a node daemon may have put a fault behind. */
export const MAY_HOLD_FAULT: readonly TargetPhase[] = [
  'Selected',
  'Injecting',
  'Injected',
  'Recovering',
];

function identity(record: RecordIdentity): RecordIdentity {
  return { pod: record.pod, uid: record.uid, fault: record.fault };
}

/**
 * A fault's outcome on a record the daemon was asked to inject. It lands only while the record is
 * still where the daemon saw it: a daemon acting on a stale copy (its own Injected not yet in its
 * cache) re-applies idempotently, and must not stamp the record Injected a second time, which would
 * move `injectedAt` past the moment the controller started counting the step's hold from.
 */
export function outcomeUpdate(
  record: TargetRecord,
  outcome: FaultOutcome,
): RecordUpdate {
  return outcome.phase === 'Failed'
    ? failedUpdate(record, outcome.reason, outcome.message)
    : {
        ...identity(record),
        phase: outcome.phase,
        reason: outcome.reason,
        message: outcome.message,
        onlyFrom: WANTS_INJECTION.includes(record.phase)
          ? WANTS_INJECTION
          : [record.phase],
      };
}

export function failedUpdate(
  record: RecordIdentity,
  reason: string,
  message: string,
): RecordUpdate {
  return {
    ...identity(record),
    phase: 'Failed',
    reason,
    message,
    onlyFrom: ['Selected', 'Injecting', 'Injected'],
  };
}

/** The daemon no longer holds a fault for the record: `reason` says why it let go. */
export function recoveredUpdate(
  record: RecordIdentity,
  reason: string,
  message: string,
): RecordUpdate {
  return {
    ...identity(record),
    phase: 'Recovered',
    reason,
    message,
    onlyFrom: MAY_HOLD_FAULT,
  };
}

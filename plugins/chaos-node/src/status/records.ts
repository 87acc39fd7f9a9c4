import {
  ChaosRunStatus,
  Condition,
  MAX_TARGET_EVENTS,
  TargetEvent,
  TargetPhase,
  TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';

/** A status with every list present: what the pipeline steps read and mutate. */
export type RunStatus = ChaosRunStatus;

export function normalizeStatus(
  status: Partial<ChaosRunStatus> | undefined,
): RunStatus {
  return {
    ...status,
    phaseTransitions: status?.phaseTransitions ?? [],
    targets: status?.targets ?? [],
    probes: status?.probes ?? [],
    steps: status?.steps ?? [],
    conditions: status?.conditions ?? [],
  };
}

export function nowIso(): string {
  return new Date().toISOString();
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Appends an event to a record, keeping only the newest MAX_TARGET_EVENTS (status size is bounded). */
export function appendTargetEvent(
  record: TargetRecord,
  reason: string,
  message: string,
  time = nowIso(),
): void {
  const event: TargetEvent = {
    time,
    reason: clip(reason, 128),
    message: clip(message, 1024),
  };
  record.events = [...(record.events ?? []), event].slice(-MAX_TARGET_EVENTS);
}

/**
 * Moves a record to a phase, with the why, and logs it among the record's events: the one
 * record transition, whoever writes it (the controller or a node daemon).
 */
export function transitionRecord(
  record: TargetRecord,
  phase: TargetRecord['phase'],
  reason: string,
  message: string,
  time = nowIso(),
): void {
  record.phase = phase;
  record.reason = clip(reason, 128);
  record.message = clip(message, 1024);
  if (phase === 'Injected') {
    record.injectedAt = time;
    // Injected again (a restarted node daemon re-applies a live run's fault).
    delete record.recoveredAt;
  }
  if (phase === 'Recovered') record.recoveredAt = time;
  appendTargetEvent(record, reason, message, time);
}

/** The identity of a record: one pod (by uid when known) and one fault type. */
export type RecordIdentity = Pick<TargetRecord, 'pod' | 'uid' | 'fault'>;

/** Identity of a record: one pod (by uid when known) and one fault type. */
export function sameTarget(a: RecordIdentity, b: RecordIdentity): boolean {
  return (
    a.pod === b.pod && a.fault === b.fault && (a.uid ?? '') === (b.uid ?? '')
  );
}

/** What should happen to one record, decided by a writer that does not hold the status. */
export interface RecordUpdate extends RecordIdentity {
  phase: TargetPhase;
  reason: string;
  message: string;
  /** Only if the record is in one of these phases (re-checked on every write attempt). */
  onlyFrom?: readonly TargetPhase[];
}

/**
 * Applies updates to the records they name (`owns` limits which records this writer may touch);
 * true if anything changed. Pure, so a status write can re-run it on a fresher copy.
 */
export function applyRecordUpdates(
  records: TargetRecord[],
  updates: readonly RecordUpdate[],
  owns: (record: TargetRecord) => boolean = () => true,
  time = nowIso(),
): boolean {
  let changed = false;
  for (const update of updates) {
    const record = records.find(r => owns(r) && sameTarget(r, update));
    if (!record || (update.onlyFrom && !update.onlyFrom.includes(record.phase)))
      continue;
    transitionRecord(record, update.phase, update.reason, update.message, time);
    changed = true;
  }
  return changed;
}

/** Sets a condition, keeping lastTransitionTime when the status did not change (as metav1 does). */
export function setCondition(
  status: RunStatus,
  condition: Omit<Condition, 'lastTransitionTime' | 'message'> & {
    message?: string;
  },
): void {
  const existing = status.conditions.find(c => c.type === condition.type);
  const next: Condition = {
    ...condition,
    message: clip(condition.message ?? '', 4096),
    lastTransitionTime:
      existing && existing.status === condition.status
        ? existing.lastTransitionTime
        : nowIso(),
  };
  status.conditions = [
    ...status.conditions.filter(c => c.type !== condition.type),
    next,
  ].slice(-16);
}

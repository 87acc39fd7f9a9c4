import {
  ChaosRunStatus,
  Condition,
  MAX_TARGET_EVENTS,
  TargetEvent,
  TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';

/** A status with every list present: what the pipeline steps read and mutate. */
export type RunStatus = ChaosRunStatus;

export function normalizeStatus(status: Partial<ChaosRunStatus> | undefined): RunStatus {
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
export function appendTargetEvent(record: TargetRecord, reason: string, message: string, time = nowIso()): void {
  const event: TargetEvent = { time, reason: clip(reason, 128), message: clip(message, 1024) };
  record.events = [...(record.events ?? []), event].slice(-MAX_TARGET_EVENTS);
}

/** Moves a record to a phase, with the why, and logs it among the record's events. */
export function transitionRecord(
  record: TargetRecord,
  phase: TargetRecord['phase'],
  reason: string,
  message: string,
): void {
  const time = nowIso();
  record.phase = phase;
  record.reason = clip(reason, 128);
  record.message = clip(message, 1024);
  if (phase === 'Injected') record.injectedAt = time;
  if (phase === 'Recovered') record.recoveredAt = time;
  appendTargetEvent(record, reason, message, time);
}

/** Identity of a record: one pod (by uid when known) and one fault type. */
export function sameTarget(a: Pick<TargetRecord, 'pod' | 'uid' | 'fault'>, b: Pick<TargetRecord, 'pod' | 'uid' | 'fault'>): boolean {
  return a.pod === b.pod && a.fault === b.fault && (a.uid ?? '') === (b.uid ?? '');
}

/** Sets a condition, keeping lastTransitionTime when the status did not change (as metav1 does). */
export function setCondition(
  status: RunStatus,
  condition: Omit<Condition, 'lastTransitionTime' | 'message'> & { message?: string },
): void {
  const existing = status.conditions.find(c => c.type === condition.type);
  const next: Condition = {
    ...condition,
    message: clip(condition.message ?? '', 4096),
    lastTransitionTime:
      existing && existing.status === condition.status ? existing.lastTransitionTime : nowIso(),
  };
  status.conditions = [...status.conditions.filter(c => c.type !== condition.type), next].slice(-16);
}

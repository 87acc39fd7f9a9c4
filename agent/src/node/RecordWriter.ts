import type { CustomObjectsApi } from '@kubernetes/client-node';
import {
  MAX_TARGET_EVENTS,
  TargetPhase,
  TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { CHAOS_RUN_API, ChaosRunObject, isOwnRecord } from './chaosRun';

/** What should happen to one of this node's records. */
export interface RecordUpdate {
  pod: string;
  fault: string;
  phase: TargetPhase;
  reason: string;
  message: string;
  /** Only if the record is in one of these phases (re-checked on every attempt). */
  onlyFrom?: readonly TargetPhase[];
}

export interface RunRef {
  namespace: string;
  name: string;
  uid: string;
}

const MAX_ATTEMPTS = 10;
const MAX_MESSAGE = 1024;
const MAX_REASON = 128;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Applies updates to the run's records; true if anything changed. Pure, for tests too. */
export function applyRecordUpdates(
  records: TargetRecord[],
  nodeName: string,
  updates: readonly RecordUpdate[],
  now: Date,
): boolean {
  let changed = false;
  for (const update of updates) {
    const record = records.find(
      r =>
        isOwnRecord(r, nodeName) &&
        r.pod === update.pod &&
        r.fault === update.fault,
    );
    if (
      !record ||
      (update.onlyFrom && !update.onlyFrom.includes(record.phase))
    ) {
      continue;
    }
    const time = now.toISOString();
    const reason = clip(update.reason, MAX_REASON);
    const message = clip(update.message, MAX_MESSAGE);
    record.phase = update.phase;
    record.reason = reason;
    record.message = message;
    if (update.phase === 'Injected') {
      record.injectedAt = time;
      delete record.recoveredAt;
    }
    if (update.phase === 'Recovered') {
      record.recoveredAt = time;
    }
    record.events = [...(record.events ?? []), { time, reason, message }].slice(
      -MAX_TARGET_EVENTS,
    );
    changed = true;
  }
  return changed;
}

/**
 * Writes this node's records of a run through the status subresource: read, change only our
 * own records, replace with the read resourceVersion, and on a conflict read again. The
 * controller and other nodes write other parts of the same status concurrently.
 */
export class RecordWriter {
  constructor(
    private readonly api: CustomObjectsApi,
    private readonly nodeName: string,
  ) {}

  async update(
    run: RunRef,
    updates: readonly RecordUpdate[],
  ): Promise<'written' | 'unchanged' | 'gone'> {
    if (updates.length === 0) {
      return 'unchanged';
    }
    for (let attempt = 1; ; attempt++) {
      let current: ChaosRunObject;
      try {
        current = (await this.api.getNamespacedCustomObject({
          ...CHAOS_RUN_API,
          namespace: run.namespace,
          name: run.name,
        })) as ChaosRunObject;
      } catch (error) {
        if (apiCode(error) === 404) {
          return 'gone';
        }
        throw error;
      }
      if (current.metadata?.uid !== run.uid) {
        return 'gone';
      }
      const status = (current.status ??= {});
      const records = (status.targets ??= []);
      if (!applyRecordUpdates(records, this.nodeName, updates, new Date())) {
        return 'unchanged';
      }
      try {
        await this.api.replaceNamespacedCustomObjectStatus({
          ...CHAOS_RUN_API,
          namespace: run.namespace,
          name: run.name,
          body: current,
        });
        return 'written';
      } catch (error) {
        const code = apiCode(error);
        if (code === 404) {
          return 'gone';
        }
        if (code !== 409 || attempt >= MAX_ATTEMPTS) {
          throw error;
        }
        await new Promise(resolve =>
          setTimeout(resolve, 20 + Math.random() * 80 * attempt),
        );
      }
    }
  }
}

/** HTTP status of a failed client-node call. */
export function apiCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

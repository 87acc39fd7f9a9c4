import type { ChaosRunClient } from '../chaosRun/ChaosRunClient';
import type { ChaosRunResource } from '../chaosRun/resource';
import { isConflict, isNotFound } from '../kube/apiErrors';
import type { TargetRecord } from '@chaoscraft/backstage-plugin-chaos-common';
import { DEFAULT_STATUS_BUDGET_BYTES, fitStatusBudget } from './budget';
import {
  applyRecordUpdates,
  normalizeStatus,
  nowIso,
  RecordUpdate,
  RunStatus,
} from './records';

/**
 * Every phase reached is listed once, in order, so that a watcher (the backend's mirror) that
 * missed a fast transition, e.g. Injecting lasting milliseconds, still sees it happened.
 */
function recordPhaseTransition(
  status: RunStatus,
  phaseBefore: RunStatus['phase'],
): void {
  if (!status.phase || status.phase === phaseBefore) return;
  if (status.phaseTransitions.some(t => t.phase === status.phase)) return;
  status.phaseTransitions = [
    ...status.phaseTransitions,
    {
      phase: status.phase,
      time: nowIso(),
      reason: status.reason?.slice(0, 128),
      message: status.message?.slice(0, 1024),
    },
  ];
}

/**
 * Changes the status it is given, in place. Returns false when, on the (possibly fresher)
 * object it sees, there is nothing to write: e.g. another writer already moved the run on.
 * It must be a pure function of the run it receives, because it is re-run after a conflict.
 */
export type StatusMutation = (
  status: RunStatus,
  run: ChaosRunResource,
) => boolean | void;

export interface StatusWriteResult {
  /** The run as the API server returned it after the write (or the fresh copy if not written). */
  run: ChaosRunResource;
  written: boolean;
}

/**
 * Writes status through the status subresource with optimistic concurrency: every write carries
 * the resourceVersion it was computed from, and a 409 re-reads the run and re-applies the
 * mutation. That is what keeps the node daemons' writes to their own records intact.
 */
export class StatusWriter {
  constructor(
    private readonly runs: ChaosRunClient,
    private readonly maxAttempts = 8,
    private readonly budgetBytes = DEFAULT_STATUS_BUDGET_BYTES,
  ) {}

  async update(
    run: ChaosRunResource,
    mutate: StatusMutation,
  ): Promise<StatusWriteResult> {
    let current = run;
    for (let attempt = 1; ; attempt++) {
      const draft: ChaosRunResource = structuredClone(current);
      const status = normalizeStatus(draft.status);
      draft.status = status;
      const phaseBefore = status.phase;
      if (mutate(status, draft) === false) {
        return { run: current, written: false };
      }
      recordPhaseTransition(status, phaseBefore);
      // Whatever the mutation added, the object must stay writable: oldest history goes first.
      fitStatusBudget(status, this.budgetBytes);
      try {
        return { run: await this.runs.replaceStatus(draft), written: true };
      } catch (error) {
        if (!isConflict(error) || attempt >= this.maxAttempts) {
          throw error;
        }
        current = await this.runs.get(
          run.metadata.namespace!,
          run.metadata.name!,
        );
      }
    }
  }

  /**
   * Applies record updates (a node daemon's injections and recoveries) to the run with this uid,
   * touching only the records `owns` allows; 'gone' when the run was deleted, or replaced by a
   * new one of the same name.
   */
  async updateRecords(
    run: ChaosRunResource,
    updates: readonly RecordUpdate[],
    owns: (record: TargetRecord) => boolean,
  ): Promise<'written' | 'unchanged' | 'gone'> {
    if (updates.length === 0) return 'unchanged';
    const uid = run.metadata.uid;
    let replaced = false;
    try {
      const { written } = await this.update(run, (status, fresh) => {
        replaced = fresh.metadata.uid !== uid;
        return !replaced && applyRecordUpdates(status.targets, updates, owns);
      });
      if (replaced) return 'gone';
      return written ? 'written' : 'unchanged';
    } catch (error) {
      if (isNotFound(error)) return 'gone';
      throw error;
    }
  }
}

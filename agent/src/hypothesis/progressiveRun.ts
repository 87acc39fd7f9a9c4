import type { StepRecord } from '@chaoscraft/backstage-plugin-chaos-common';
import type { HypothesisMonitor, HypothesisViolation } from './monitor';
import type { PlannedStep } from './progressive';

export type { StepRecord };

export interface ProgressiveHooks {
  /**
   * Widens the disruption to `step.targetCount` targets (injecting `step.newTargets` more) and
   * resolves once they are injected; the step's gate starts then.
   */
  widen(step: PlannedStep, signal?: AbortSignal): Promise<void>;
  /** Called on every change of status.steps, e.g. to write it through the status subresource. */
  onSteps?(steps: StepRecord[]): void | Promise<void>;
}

export interface ProgressiveOutcome {
  /** Every step passed its gate. */
  completed: boolean;
  /** Index of the last step that was started. */
  reached: number;
  steps: StepRecord[];
  /** The gate failure that stopped the run, if one did. */
  violation?: HypothesisViolation;
}

/**
 * Runs the planned steps in order: widen, then hold while the `during` probes are the gate. The
 * first failing gate stops the run (the caller rolls back every step's faults). A step is
 * `Passed` when its gate held for the whole hold, `Failed` when it did not: a violation, or the
 * run was stopped (`signal`) before the hold ended. Failure streaks carry over from one step to
 * the next, because the faults of earlier steps stay active.
 */
export async function runProgressiveSteps(
  plan: PlannedStep[],
  monitor: HypothesisMonitor,
  hooks: ProgressiveHooks,
  signal?: AbortSignal,
): Promise<ProgressiveOutcome> {
  const steps: StepRecord[] = [];
  const publish = async (): Promise<void> => {
    await hooks.onSteps?.(steps.map(step => ({ ...step, blastRadius: { ...step.blastRadius } })));
  };
  for (const planned of plan) {
    if (signal?.aborted) {
      break;
    }
    const record: StepRecord = {
      index: planned.index,
      blastRadius: planned.blastRadius,
      startedAt: new Date().toISOString(),
      result: 'Running',
    };
    steps.push(record);
    await publish();
    await hooks.widen(planned, signal);
    record.injectedAt = new Date().toISOString();
    const violation = signal?.aborted ? undefined : await monitor.hold(planned.holdMs, signal);
    record.finishedAt = new Date().toISOString();
    record.result = violation || signal?.aborted ? 'Failed' : 'Passed';
    await publish();
    if (record.result === 'Failed') {
      return { completed: false, reached: planned.index, steps, violation };
    }
  }
  return {
    completed: steps.length === plan.length && steps.every(step => step.result === 'Passed'),
    reached: steps.length - 1,
    steps,
  };
}

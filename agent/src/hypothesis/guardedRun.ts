import type { ChaosRunStatus, RunPhase, Verdict } from '@chaoscraft/backstage-plugin-chaos-common';
import type { HypothesisMonitor, HypothesisViolation, RecoveryJudgement, RunEnding } from './monitor';
import type { PlannedStep } from './progressive';
import { runProgressiveSteps, type StepRecord } from './progressiveRun';

/** What the run's faults look like to the hypothesis: things to inject and to revert. */
export interface FaultLifecycle {
  /**
   * Injects faults. Without a progressive plan it is called once with no step; with one, once
   * per step, to widen to `step.targetCount` targets. Resolves once the faults are in place.
   */
  inject(step: PlannedStep | undefined, signal?: AbortSignal): Promise<void>;
  /** Reverts every injected fault; resolves only when all of them are reverted. */
  rollback(): Promise<void>;
}

export interface GuardedRunOptions {
  monitor: HypothesisMonitor;
  faults: FaultLifecycle;
  /** How long faults stay active without a progressive plan. */
  durationMs: number;
  /** A resolved progressive plan (planProgressiveSteps); its holds replace durationMs. */
  plan?: PlannedStep[];
  /** Stops the run from outside (spec.abort, deletion): rollback and recovery still happen. */
  signal?: AbortSignal;
  /** Each phase change, for status. */
  onPhase?(phase: RunPhase): void | Promise<void>;
  onSteps?(steps: StepRecord[]): void | Promise<void>;
  now?: () => number;
}

/** The status fields this run decides, ready to merge into ChaosRunStatus. */
export interface GuardedRunResult
  extends Pick<ChaosRunStatus, 'probes' | 'steps' | 'abortLatencyMs' | 'reason' | 'message'> {
  phase: 'Completed' | 'Aborted' | 'Failed';
  verdict: Verdict;
  violation?: HypothesisViolation;
  recovery?: RecoveryJudgement;
  /** Epoch ms when the last fault was reverted. */
  revertedAt?: number;
}

/**
 * The whole hypothesis lifecycle of one run, as the controller drives it: steady state before
 * (or refuse), inject (all at once, or step by step behind gates), watch, roll back on the
 * first violation or at the end, wait for recovery, conclude. It is the reference for the
 * controller's pipeline (see docs/hypothesis.md) and what the acceptance tests and the abort
 * benchmark run against real faults.
 */
export async function runGuarded(options: GuardedRunOptions): Promise<GuardedRunResult> {
  const { monitor, faults, signal } = options;
  const now = options.now ?? Date.now;
  let steps: StepRecord[] = [];

  await options.onPhase?.('Preflight');
  const before = await monitor.checkBefore(signal);
  if (!before.holds) {
    const conclusion = monitor.conclude({ kind: 'refused', judgement: before });
    return { phase: 'Failed', ...conclusion, probes: monitor.results(), steps };
  }

  let ending: RunEnding = { kind: 'completed' };
  let injected = false;
  try {
    await options.onPhase?.('Injecting');
    if (options.plan && options.plan.length > 0) {
      await options.onPhase?.('Running');
      const outcome = await runProgressiveSteps(
        options.plan,
        monitor,
        {
          widen: async (step, stepSignal) => {
            injected = true;
            await faults.inject(step, stepSignal);
          },
          onSteps: async records => {
            steps = records;
            await options.onSteps?.(records);
          },
        },
        signal,
      );
      steps = outcome.steps;
      if (outcome.violation) {
        ending = { kind: 'violated', violation: outcome.violation };
      }
    } else {
      injected = true;
      await faults.inject(undefined, signal);
      await options.onPhase?.('Running');
      const violation = await monitor.hold(options.durationMs, signal);
      if (violation) {
        ending = { kind: 'violated', violation };
      }
    }
    if (ending.kind === 'completed' && signal?.aborted) {
      ending = { kind: 'interrupted', reason: 'the run was aborted' };
    }
  } catch (error) {
    ending = { kind: 'interrupted', reason: `the run failed: ${(error as Error).message}` };
  }

  await options.onPhase?.('RollingBack');
  let revertedAt: number | undefined;
  if (injected) {
    await faults.rollback();
    revertedAt = now();
  }
  const violation = ending.kind === 'violated' ? ending.violation : undefined;
  const recovery = await monitor.awaitRecovery();
  const conclusion = monitor.conclude(ending, recovery);
  let phase: GuardedRunResult['phase'] = 'Failed';
  if (ending.kind === 'completed') phase = 'Completed';
  else if (ending.kind === 'violated' || signal?.aborted) phase = 'Aborted';
  return {
    phase,
    ...conclusion,
    probes: monitor.results(),
    steps,
    violation,
    recovery,
    revertedAt,
    abortLatencyMs: violation && revertedAt !== undefined ? Math.max(0, Math.round(revertedAt - violation.since)) : undefined,
  };
}

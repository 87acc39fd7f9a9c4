import {
  type ChaosRunResource,
  splitRunKey,
  isNotFound,
  type WorkResult,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { runLogger, Logger } from '../log';
import type { ReconcileDeps, ReconcileStep, RunContext } from './pipeline';
import { ensureFinalizer } from './steps/ensureFinalizer';
import { handleStopRequest } from './steps/handleStopRequest';
import { holdRunning } from './steps/holdRunning';
import { injectTargets } from './steps/injectTargets';
import { parseSpec } from './steps/parseSpec';
import { preflight } from './steps/preflight';
import { rollBack } from './steps/rollBack';
import { terminalRun } from './steps/terminalRun';

/**
 * The order of a run's life. Each step owns one concern and either hands over to the next or
 * ends this reconcile (optionally asking to be called again later).
 */
export const RUN_PIPELINE: readonly ReconcileStep[] = [
  terminalRun,
  parseSpec,
  ensureFinalizer,
  handleStopRequest,
  preflight,
  injectTargets,
  holdRunning,
  rollBack,
];

/** Reconciles one run by key; the work queue guarantees one call per key at a time. */
export class RunReconciler {
  constructor(
    private readonly deps: ReconcileDeps,
    private readonly log: Logger,
    private readonly steps: readonly ReconcileStep[] = RUN_PIPELINE,
  ) {
    deps.metrics.initializeErrorSteps(steps.map(step => step.name));
  }

  async reconcile(key: string): Promise<WorkResult> {
    const cached = this.deps.latest(key);
    if (!cached) {
      return {};
    }
    const run = await this.freshRun(key, cached);
    if (!run) {
      return {};
    }
    const context: RunContext = {
      key,
      run,
      log: runLogger(this.log, run),
      deps: this.deps,
    };
    let stepName = 'none';
    const endTimer = this.deps.metrics.reconcileDuration.startTimer();
    try {
      for (const step of this.steps) {
        stepName = step.name;
        const outcome = await step.run(context);
        if (!outcome.continue) {
          return { requeueAfterMs: outcome.requeueAfterMs };
        }
      }
      return {};
    } catch (error) {
      this.deps.metrics.errors.inc({ step: stepName });
      context.log.warn(
        {
          step: stepName,
          err: error instanceof Error ? error.message : String(error),
        },
        'reconcile step failed',
      );
      throw error;
    } finally {
      endTimer({ step: stepName });
    }
  }

  /**
   * A run that has never been written to (no status) is taken from the watch event as is: the
   * first write is conditional on its resourceVersion, so a stale copy can only fail, and
   * skipping the read keeps injection latency at watch speed. Any run already in progress is
   * re-read, because acting on a stale plan could touch a target twice.
   */
  private async freshRun(
    key: string,
    cached: ChaosRunResource,
  ): Promise<ChaosRunResource | undefined> {
    if (!cached.status?.phase) {
      return cached;
    }
    const { namespace, name } = splitRunKey(key);
    try {
      return await this.deps.runs.get(namespace, name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

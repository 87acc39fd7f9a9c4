import type { AppsV1Api } from '@kubernetes/client-node';
import type { ChaosRunSpec } from '@chaoscraft/backstage-plugin-chaos-common';
import type {
  GateCheck,
  GateInput,
  GateVerdict,
  HypothesisGate,
} from './hypothesisGate';
import { SteadyStateProbes, type SteadyStateProbesOptions } from '../probes';
import {
  HypothesisMonitor,
  type HypothesisWatch,
  type RunEnding,
} from './monitor';

export interface ProbeHypothesisGateOptions {
  /** Agent flag --prometheus-url; promql probes fail with a clear error without it. */
  prometheusUrl?: string;
  /** Apps API of the cluster, for k8s probes. */
  apps?: AppsV1Api;
  probes?: SteadyStateProbesOptions;
}

/** status.reason values of a run that ran its full course (duration, or every progressive step). */
const COMPLETED_REASONS = new Set([
  'Completed',
  'DurationElapsed',
  'ProgressiveStepsCompleted',
]);

interface LiveRun {
  monitor: HypothesisMonitor;
  watch?: HypothesisWatch;
}

/**
 * The controller's HypothesisGate (./hypothesisGate.ts) backed by
 * HypothesisMonitor. One monitor per run, created at before() and dropped at after():
 * - before(): steady state before injection, once; not ok means refuse (SteadyStateNotMet).
 * - during(): the first call starts the `during` watch, which then checks every
 *   hypothesis.interval on its own; each call reports what it has seen. To roll back without
 *   waiting for the next tick, also await `violation(input)` (see docs/hypothesis.md).
 * - after(): stops the watch, waits up to recoveryTimeout for steady state, and concludes.
 */
export class ProbeHypothesisGate implements HypothesisGate {
  private readonly runs = new Map<string, LiveRun>();

  constructor(private readonly options: ProbeHypothesisGateOptions = {}) {}

  async before(input: GateInput): Promise<GateCheck> {
    if (!input.spec.hypothesis) {
      return { ok: true };
    }
    const key = runKeyOf(input);
    await this.drop(key);
    const unreachable = input.spec.hypothesis.probes.filter(
      probe => probe.type === 'promql' && !this.options.prometheusUrl,
    );
    if (unreachable.length > 0) {
      return {
        ok: false,
        reason: 'PrometheusNotConfigured',
        message: `promql probe(s) ${unreachable
          .map(p => p.name)
          .join(
            ', ',
          )} need a Prometheus, but this agent has no --prometheus-url; nothing was touched`,
      };
    }
    const run = { monitor: this.monitorFor(input.spec) };
    this.runs.set(key, run);
    const judgement = await run.monitor.checkBefore();
    const probes = run.monitor.results();
    if (!judgement.holds) {
      run.monitor.conclude({ kind: 'refused', judgement });
      this.runs.delete(key);
      return {
        ok: false,
        reason: 'SteadyStateNotMet',
        message: judgement.message,
        probes: run.monitor.results(),
      };
    }
    return { ok: true, message: judgement.message, probes };
  }

  async during(input: GateInput): Promise<GateCheck> {
    const run = this.liveRun(input);
    if (!run) {
      return { ok: true };
    }
    run.watch ??= run.monitor.watch();
    return this.report(run);
  }

  /**
   * Resolves as soon as the `during` watch finds a violation (never, if it does not): race it
   * with the controller's tick to roll back within one probe interval of the first bad sample.
   */
  async violation(input: GateInput): Promise<GateCheck> {
    const run = this.liveRun(input);
    if (!run) {
      return new Promise(() => {});
    }
    run.watch ??= run.monitor.watch();
    const found = await run.watch.violation;
    return found ? this.report(run) : new Promise(() => {});
  }

  async after(input: GateInput): Promise<GateVerdict> {
    const key = runKeyOf(input);
    const run = this.liveRun(input);
    if (!run) {
      return {
        verdict: 'Inconclusive',
        reason: 'NoHypothesisEvaluated',
        message:
          'the run has no steady-state hypothesis; the faults ran, nothing was checked',
      };
    }
    await run.watch?.stop();
    const violation = run.monitor.violation;
    let ending: RunEnding = { kind: 'completed' };
    if (violation) {
      ending = { kind: 'violated', violation };
    } else if (input.spec.abort) {
      ending = {
        kind: 'interrupted',
        reason: 'the run was aborted (spec.abort)',
      };
    } else if (
      input.status.reason &&
      !COMPLETED_REASONS.has(input.status.reason)
    ) {
      ending = {
        kind: 'interrupted',
        reason: input.status.message ?? input.status.reason,
      };
    }
    try {
      const recovery = await run.monitor.awaitRecovery();
      const conclusion = run.monitor.conclude(ending, recovery);
      return { ...conclusion, probes: run.monitor.results() };
    } finally {
      this.runs.delete(key);
    }
  }

  /** Forgets a run without concluding it (deleted, or lost leadership). */
  async forget(runKey: string): Promise<void> {
    await this.drop(runKey);
  }

  /** Stops every run's probe loop (the controller is stopping). */
  async close(): Promise<void> {
    await Promise.all([...this.runs.keys()].map(key => this.drop(key)));
  }

  private report(run: LiveRun): GateCheck {
    const violation = run.monitor.violation;
    const probes = run.monitor.results();
    if (!violation) {
      return { ok: true, probes };
    }
    return {
      ok: false,
      reason: 'HypothesisViolated',
      message: violation.message,
      probes,
      violationSince: new Date(violation.since).toISOString(),
    };
  }

  /**
   * The run's monitor; after a controller restart (or failover) mid-run there is none, and a
   * fresh one resumes the `during` checks without a `before` judgement.
   */
  private liveRun(input: GateInput): LiveRun | undefined {
    if (!input.spec.hypothesis) {
      return undefined;
    }
    const key = runKeyOf(input);
    let run = this.runs.get(key);
    if (!run) {
      run = { monitor: this.monitorFor(input.spec) };
      this.runs.set(key, run);
    }
    return run;
  }

  private monitorFor(spec: ChaosRunSpec): HypothesisMonitor {
    return new HypothesisMonitor({
      hypothesis: spec.hypothesis!,
      context: {
        namespace: spec.target.namespace,
        prometheusUrl: this.options.prometheusUrl,
        apps: this.options.apps,
      },
      probes: new SteadyStateProbes(this.options.probes),
    });
  }

  private async drop(key: string): Promise<void> {
    const run = this.runs.get(key);
    this.runs.delete(key);
    await run?.watch?.stop();
  }
}

function runKeyOf(input: GateInput): string {
  return input.runKey;
}

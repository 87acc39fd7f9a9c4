import { setTimeout as sleep } from 'node:timers/promises';
import {
  parseDuration,
  type Hypothesis,
  type ProbePhase,
  type ProbeResult,
  type ProbeSample,
  type Verdict,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  formatValue,
  probeBound,
  SteadyStateProbes,
  type ProbeBound,
  type ProbeContext,
} from '../probes';
import { ProbeRecord } from './results';

/** What a run's probes need to reach their systems; the phase and signal are added per check. */
export type HypothesisContext = Omit<ProbeContext, 'phase' | 'signal' | 'now'>;

export interface HypothesisMonitorOptions {
  /** The run's spec.hypothesis, parsed (defaults applied). */
  hypothesis: Hypothesis;
  context: HypothesisContext;
  /** Probe router; one per run. Default: the real promql, http and k8s checkers. */
  probes?: SteadyStateProbes;
  /** Clock (epoch ms). Default Date.now. */
  now?: () => number;
}

/** The judgement of a steady state at one moment (before injection, or after rollback). */
export interface SteadyStateJudgement {
  holds: boolean;
  /** One line per probe that did not hold: its value and its bound (or its error). */
  failures: string[];
  /** Human summary, fit for status.message. */
  message: string;
}

export interface RecoveryJudgement extends SteadyStateJudgement {
  /** Time from the start of the wait to the round in which every probe held. */
  recoveredAfterMs?: number;
}

/** The reason to abort: one probe failed `failureThreshold` consecutive checks while faults were active. */
export interface HypothesisViolation extends ProbeBound {
  probe: string;
  type: ProbeResult['type'];
  /** The value of the sample that crossed the failure threshold, if one was measured. */
  value?: number;
  error?: string;
  consecutiveFailures: number;
  /** Epoch ms of the first violating sample of the streak: abort latency counts from here. */
  since: number;
  /** Epoch ms when the abort was decided. */
  detectedAt: number;
  message: string;
}

/** A `during` watch in progress. */
export interface HypothesisWatch {
  /** Resolves with the first violation, or with undefined once the watch is stopped without one. */
  readonly violation: Promise<HypothesisViolation | undefined>;
  /** Stops checking and waits for in-flight checks to settle; their samples are discarded. */
  stop(): Promise<void>;
}

/** How the run ended, as far as the hypothesis is concerned. */
export type RunEnding =
  | { kind: 'refused'; judgement: SteadyStateJudgement }
  | { kind: 'violated'; violation: HypothesisViolation }
  | { kind: 'completed' }
  /** Stopped for another reason (spec.abort, deletion, an error): the hypothesis was not fully tested. */
  | { kind: 'interrupted'; reason: string };

export interface HypothesisConclusion {
  verdict: Verdict;
  /** CamelCase, for status.reason. */
  reason: string;
  message: string;
}

/**
 * Checks a run's steady-state hypothesis at the three moments the spec names:
 * - before injection (`checkBefore`): every probe must hold, or the run is refused;
 * - while faults are active (`watch`): every `interval`, and `failureThreshold`
 *   consecutive failures of one probe are a violation that calls for an abort;
 * - after rollback (`awaitRecovery`): every probe must hold again within `recoveryTimeout`.
 * It keeps each probe's results in the ChaosRunStatus `probes` shape (`results()`).
 *
 * It never injects nor reverts anything: the controller does (through ProbeHypothesisGate), and
 * asks this object when to.
 */
export class HypothesisMonitor {
  readonly intervalMs: number;
  readonly failureThreshold: number;
  readonly recoveryTimeoutMs: number;
  private readonly records: ProbeRecord[];
  private readonly probes: SteadyStateProbes;
  private readonly context: HypothesisContext;
  private readonly now: () => number;
  private firstViolation: HypothesisViolation | undefined;

  constructor(options: HypothesisMonitorOptions) {
    const { hypothesis } = options;
    this.intervalMs = parseDuration(hypothesis.interval);
    this.failureThreshold = hypothesis.failureThreshold;
    this.recoveryTimeoutMs = parseDuration(hypothesis.recoveryTimeout);
    this.records = hypothesis.probes.map(probe => new ProbeRecord(probe));
    this.probes = options.probes ?? new SteadyStateProbes();
    this.context = options.context;
    this.now = options.now ?? Date.now;
  }

  /** The first violation seen in this run, if any. */
  get violation(): HypothesisViolation | undefined {
    return this.firstViolation;
  }

  /** status.probes: per probe, its verdict, failure streak and last samples. */
  results(): ProbeResult[] {
    return this.records.map(record => record.toStatus());
  }

  /** Steady state before injection: every `before` probe must hold, once. */
  async checkBefore(): Promise<SteadyStateJudgement> {
    const judgement = await this.judgeRound('before');
    return {
      ...judgement,
      message: judgement.holds
        ? 'steady state holds before injection'
        : `steady state does not hold before injection: ${judgement.failures.join(
            '; ',
          )}`,
    };
  }

  /**
   * Starts checking the `during` probes every `interval`, the first round at once. Rounds never
   * overlap; a round that outlasts the interval is followed by the next one at once. Each probe
   * is judged as soon as its own check returns, so a slow probe does not delay another's abort.
   */
  watch(): HypothesisWatch {
    const records = this.recordsAt('during');
    const stopper = new AbortController();
    const checks = stopper.signal;
    const settler: {
      settle?: (violation: HypothesisViolation | undefined) => void;
    } = {};
    const violation = new Promise<HypothesisViolation | undefined>(resolve => {
      settler.settle = resolve;
    });
    const settle = (found: HypothesisViolation | undefined): void =>
      settler.settle!(found);

    const loop = async (): Promise<void> => {
      let nextRound = this.now();
      while (!checks.aborted) {
        await Promise.all(
          records.map(async record => {
            const found = await this.sampleDuring(record, checks);
            if (found && !checks.aborted) {
              this.firstViolation ??= found;
              settle(found);
              stopper.abort();
            }
          }),
        );
        nextRound = Math.max(nextRound + this.intervalMs, this.now());
        await pause(nextRound - this.now(), checks);
      }
    };
    const done = records.length === 0 ? Promise.resolve() : loop();
    void done.finally(() => settle(undefined));
    return {
      violation,
      stop: async () => {
        stopper.abort();
        await done;
      },
    };
  }

  /**
   * After rollback: checks the `after` probes every `interval` until one round sees all of them
   * hold, or `recoveryTimeout` has passed (the last round runs at the deadline).
   */
  async awaitRecovery(): Promise<RecoveryJudgement> {
    const started = this.now();
    const deadline = started + this.recoveryTimeoutMs;
    for (;;) {
      const round = await this.judgeRound('after');
      if (round.holds) {
        const recoveredAfterMs = this.now() - started;
        return {
          ...round,
          recoveredAfterMs,
          message: `steady state recovered ${formatSeconds(
            recoveredAfterMs,
          )} after rollback`,
        };
      }
      const remaining = deadline - this.now();
      if (remaining <= 0) {
        return {
          ...round,
          message: `steady state did not recover within ${formatSeconds(
            this.recoveryTimeoutMs,
          )}: ${round.failures.join('; ')}`,
        };
      }
      await pause(Math.min(this.intervalMs, remaining));
    }
  }

  /**
   * The run's verdict from how it ended and, unless it was refused, whether steady state came
   * back. Also settles each probe's own verdict.
   */
  conclude(
    ending: RunEnding,
    recovery?: RecoveryJudgement,
  ): HypothesisConclusion {
    const failed = new Set<string>();
    for (const record of this.records) {
      const latest = record.latest;
      if (latest && !latest.ok && latest.phase !== 'during') {
        failed.add(record.probe.name);
      }
    }
    if (ending.kind === 'violated') {
      failed.add(ending.violation.probe);
    }
    for (const record of this.records) {
      if (failed.has(record.probe.name)) {
        record.verdict = 'Failed';
      } else if (record.latest) {
        record.verdict = 'Passed';
      }
    }

    const recovered = recovery === undefined || recovery.holds;
    const recoveryNote = recovery ? `; ${recovery.message}` : '';
    switch (ending.kind) {
      case 'refused':
        return {
          verdict: 'Refused',
          reason: 'SteadyStateNotMet',
          message: ending.judgement.message,
        };
      case 'violated':
        return {
          verdict: 'Failed',
          reason: 'HypothesisViolated',
          message: `${ending.violation.message}${recoveryNote}`,
        };
      case 'completed':
        return recovered
          ? {
              verdict: 'Passed',
              reason: 'SteadyStateHeld',
              message: `steady state held during the run${recoveryNote}`,
            }
          : {
              verdict: 'Failed',
              reason: 'SteadyStateNotRecovered',
              message: recovery!.message,
            };
      case 'interrupted':
        return recovered
          ? {
              verdict: 'Inconclusive',
              reason: 'Interrupted',
              message: `${ending.reason}${recoveryNote}`,
            }
          : {
              verdict: 'Failed',
              reason: 'SteadyStateNotRecovered',
              message: `${ending.reason}; ${recovery!.message}`,
            };
      default: {
        const unknown: never = ending;
        throw new TypeError(`unknown run ending ${JSON.stringify(unknown)}`);
      }
    }
  }

  private recordsAt(phase: ProbePhase): ProbeRecord[] {
    return this.records.filter(record => record.probe.checkAt.includes(phase));
  }

  private async judgeRound(
    phase: 'before' | 'after',
  ): Promise<SteadyStateJudgement> {
    const records = this.recordsAt(phase);
    await Promise.all(records.map(record => this.sample(record, phase)));
    const failures = records
      .filter(record => !record.latest?.ok)
      .map(record => record.describeLatest());
    return {
      holds: failures.length === 0,
      failures,
      message:
        failures.length === 0 ? 'steady state holds' : failures.join('; '),
    };
  }

  private async sample(
    record: ProbeRecord,
    phase: ProbePhase,
    signal?: AbortSignal,
  ): Promise<ProbeSample | undefined> {
    const time = this.now();
    const check = await this.probes.check(record.probe, {
      ...this.context,
      phase,
      signal,
      now: this.now,
    });
    if (signal?.aborted) {
      // The run moved on while this check was in flight: its result says nothing about the system.
      return undefined;
    }
    const sample = record.record(phase, check, time);
    return sample;
  }

  private async sampleDuring(
    record: ProbeRecord,
    signal: AbortSignal,
  ): Promise<HypothesisViolation | undefined> {
    const sample = await this.sample(record, 'during', signal);
    if (!sample || record.consecutiveFailures < this.failureThreshold) {
      return undefined;
    }
    const { comparison, threshold } = probeBound(record.probe);
    const value = sample.value;
    const what =
      value !== undefined
        ? `${formatValue(value)}, must be ${comparison} ${formatValue(
            threshold,
          )}`
        : sample.error ?? 'no value';
    const streak =
      this.failureThreshold > 1
        ? ` (${record.consecutiveFailures} consecutive failed checks)`
        : '';
    return {
      probe: record.probe.name,
      type: record.probe.type,
      comparison,
      threshold,
      value,
      error: sample.error,
      consecutiveFailures: record.consecutiveFailures,
      since: record.violationSince ?? this.now(),
      detectedAt: this.now(),
      message: `probe ${record.probe.name} (${
        record.probe.type
      }) failed: ${what}${
        value !== undefined && sample.error ? ` (${sample.error})` : ''
      }${streak}`,
    };
  }
}

/** Waits `ms`, or less if `signal` fires; never rejects. */
async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) {
    return;
  }
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // aborted: the caller checks its signal
  }
}

function formatSeconds(ms: number): string {
  return ms < 10_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.round(ms / 1000)} s`;
}

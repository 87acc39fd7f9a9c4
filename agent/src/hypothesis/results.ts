import {
  MAX_PROBE_SAMPLES,
  type Probe,
  type ProbePhase,
  type ProbeResult,
  type ProbeSample,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { formatValue, probeBound, type ProbeCheck } from '../probes';

/** The status fields a sample's text may occupy (ProbeSample.error is at most 512 chars). */
const MAX_ERROR_LENGTH = 512;

/**
 * The running record of one probe across a run, in the ChaosRunStatus `probes` shape: the last
 * MAX_PROBE_SAMPLES samples, the streak of failed `during` checks, and when the current
 * violation began (the first failing or pending sample of the streak), which is where abort
 * latency is measured from.
 */
export class ProbeRecord {
  readonly probe: Probe;
  verdict: ProbeResult['verdict'] = 'Unknown';
  consecutiveFailures = 0;
  /** Epoch ms of the first sample of the current violation, if one is going on. */
  violationSince: number | undefined;
  private readonly samples: ProbeSample[] = [];

  constructor(probe: Probe) {
    this.probe = probe;
  }

  get latest(): ProbeSample | undefined {
    return this.samples[this.samples.length - 1];
  }

  /**
   * Adds a sample taken at `time` (epoch ms). Only `during` samples move the failure streak:
   * `before` and `after` are single judgements of a steady state, not a run of evidence.
   */
  record(phase: ProbePhase, check: ProbeCheck, time: number): ProbeSample {
    const sample: ProbeSample = {
      time: new Date(time).toISOString(),
      phase,
      ok: check.ok,
      ...(check.value !== undefined && Number.isFinite(check.value)
        ? { value: check.value }
        : {}),
      ...(check.error !== undefined
        ? { error: check.error.slice(0, MAX_ERROR_LENGTH) }
        : {}),
    };
    this.samples.push(sample);
    if (this.samples.length > MAX_PROBE_SAMPLES) {
      this.samples.splice(0, this.samples.length - MAX_PROBE_SAMPLES);
    }
    if (phase === 'during') {
      if (check.ok && !check.pending) {
        this.consecutiveFailures = 0;
        this.violationSince = undefined;
      } else {
        this.violationSince ??= time;
        if (!check.ok) {
          this.consecutiveFailures += 1;
        }
      }
    }
    return sample;
  }

  /** Status form; samples are copied so later samples do not change a written status. */
  toStatus(): ProbeResult {
    const { comparison, threshold } = probeBound(this.probe);
    return {
      name: this.probe.name,
      type: this.probe.type,
      comparison,
      threshold,
      verdict: this.verdict,
      consecutiveFailures: this.consecutiveFailures,
      samples: [...this.samples],
    };
  }

  /** "error-rate (promql) = 0.31, must be < 0.05" or "... : query returned no data ...". */
  describeLatest(): string {
    return describeSample(this.probe, this.latest);
  }
}

/** One line naming a probe, what it measured and what it must satisfy. */
export function describeSample(
  probe: Probe,
  sample: ProbeSample | undefined,
): string {
  const { comparison, threshold } = probeBound(probe);
  const head = `${probe.name} (${probe.type})`;
  const bound = `must be ${comparison} ${formatValue(threshold)}`;
  if (!sample) {
    return `${head}: not checked yet, ${bound}`;
  }
  const value =
    sample.value !== undefined ? ` = ${formatValue(sample.value)}` : '';
  const error = sample.error ? `: ${sample.error}` : '';
  return `${head}${value}, ${bound}${error}`;
}

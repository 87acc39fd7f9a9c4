import {
  parseDuration,
  type Probe,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { satisfies } from './comparison';
import type { ProbeCheck, ProbeChecker, ProbeContext } from './types';

type PromqlProbe = Extract<Probe, { type: 'promql' }>;

export interface PromqlProbeOptions {
  /** Upper bound for one query, so a hung Prometheus cannot stall the run. Default 5 s. */
  queryTimeoutMs?: number;
}

/** The part of a Prometheus `/api/v1/query` answer this probe reads. */
interface PrometheusQueryResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: {
    resultType: 'vector' | 'scalar' | 'matrix' | 'string';
    result: unknown;
  };
}

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Prometheus writes sample values as strings, with Go's spelling of the infinities. */
function parseSampleValue(raw: string): number {
  if (raw === '+Inf' || raw === 'Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  return Number(raw);
}

function describeSeries(metric: Record<string, string>): string {
  const labels = Object.entries(metric)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return `{${labels}}`;
}

/**
 * Reads the single number a hypothesis query must produce, or says why there is none. The
 * query must evaluate to a scalar or to a vector of exactly one series: "no data" usually means
 * a wrong query or a target that stopped being scraped, and several series mean the query
 * forgot an aggregation; neither can be judged against one threshold.
 */
export function readSingleValue(body: PrometheusQueryResponse): {
  value?: number;
  error?: string;
} {
  if (body.status !== 'success' || !body.data) {
    return {
      error: `Prometheus error (${body.errorType ?? 'unknown'}): ${
        body.error ?? 'no data in response'
      }`,
    };
  }
  const { resultType, result } = body.data;
  if (resultType === 'scalar') {
    const [, raw] = result as [number, string];
    return checkNumber(parseSampleValue(raw));
  }
  if (resultType !== 'vector') {
    return {
      error: `query returned a ${resultType}; it must return a scalar or a single-series vector`,
    };
  }
  const series = result as VectorSample[];
  if (series.length === 0) {
    return {
      error:
        'query returned no data (empty vector): check the query and that its series are being scraped',
    };
  }
  if (series.length > 1) {
    const shown = series
      .slice(0, 3)
      .map(s => describeSeries(s.metric))
      .join(', ');
    return {
      error: `query returned ${series.length} series (${shown}${
        series.length > 3 ? ', ...' : ''
      }); aggregate it to one series, e.g. with sum()`,
    };
  }
  return checkNumber(parseSampleValue(series[0].value[1]));
}

function checkNumber(value: number): { value?: number; error?: string } {
  if (Number.isNaN(value)) {
    // 0/0, e.g. an error ratio while no requests were made at all.
    return {
      error: 'query returned NaN (for a ratio: no traffic in the window?)',
    };
  }
  return { value };
}

/**
 * PromQL probe: an instant query against `--prometheus-url`, compared with a threshold. With
 * `for`, a violation while faults are active only counts once it has lasted that long (like an
 * alerting rule's pending state); before injection and after rollback the condition is judged
 * as it is, without a grace window, because a steady state that is already slipping must not be
 * called steady.
 */
export class PromqlProbeChecker implements ProbeChecker<PromqlProbe> {
  readonly type = 'promql' as const;
  private readonly queryTimeoutMs: number;
  /** Per probe name: when the current run of violating samples began (the `for` window). */
  private readonly violatingSince = new Map<string, number>();

  constructor(options: PromqlProbeOptions = {}) {
    this.queryTimeoutMs = options.queryTimeoutMs ?? 5_000;
  }

  async check(probe: PromqlProbe, ctx: ProbeContext): Promise<ProbeCheck> {
    const now = ctx.now ?? Date.now;
    const raw = await this.evaluate(probe, ctx);
    if (ctx.phase !== 'during' || probe.for === undefined) {
      return raw;
    }
    if (raw.ok) {
      this.violatingSince.delete(probe.name);
      return raw;
    }
    const since = this.violatingSince.get(probe.name) ?? now();
    this.violatingSince.set(probe.name, since);
    const forMs = parseDuration(probe.for);
    if (now() - since >= forMs) {
      return raw;
    }
    return { ok: true, value: raw.value, pending: true };
  }

  private async evaluate(
    probe: PromqlProbe,
    ctx: ProbeContext,
  ): Promise<ProbeCheck> {
    if (!ctx.prometheusUrl) {
      return {
        ok: false,
        error: 'no Prometheus URL configured (agent flag --prometheus-url)',
      };
    }
    const url = new URL(
      'api/v1/query',
      ctx.prometheusUrl.endsWith('/')
        ? ctx.prometheusUrl
        : `${ctx.prometheusUrl}/`,
    );
    const timeout = AbortSignal.timeout(this.queryTimeoutMs);
    const signal = ctx.signal
      ? AbortSignal.any([ctx.signal, timeout])
      : timeout;
    let body: PrometheusQueryResponse;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: probe.query }),
        signal,
      });
      const text = await response.text();
      try {
        body = JSON.parse(text);
      } catch {
        return {
          ok: false,
          error: `Prometheus answered HTTP ${
            response.status
          } with a non-JSON body: ${text.slice(0, 200)}`,
        };
      }
    } catch (error) {
      if (timeout.aborted) {
        return {
          ok: false,
          error: `Prometheus query timed out after ${this.queryTimeoutMs} ms`,
        };
      }
      return {
        ok: false,
        error: `Prometheus query failed: ${(error as Error).message}`,
      };
    }
    const { value, error } = readSingleValue(body);
    if (error !== undefined || value === undefined) {
      return { ok: false, error };
    }
    return { ok: satisfies(value, probe.comparison, probe.threshold), value };
  }
}

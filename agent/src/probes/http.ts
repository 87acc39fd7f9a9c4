import type { Probe } from '@chaoscraft/backstage-plugin-chaos-common';
import type { ProbeCheck, ProbeChecker, ProbeContext } from './types';

type HttpProbe = Extract<Probe, { type: 'http' }>;

export interface HttpProbeOptions {
  /** Requests in flight at once, so a probe of 1000 requests cannot flood the service. Default 5. */
  concurrency?: number;
}

type Outcome = { ok: true } | { ok: false; cause: string };

/**
 * HTTP probe: `requests` requests to `url`; one succeeds when it answers `expectedStatus` within
 * `maxLatencyMs`. The value is the success ratio, which must be at least `minSuccessRatio`.
 * A request is cut off at `maxLatencyMs` (it has failed by then anyway), so one check takes at
 * most about requests / concurrency × maxLatencyMs. Redirects are not followed: the status is
 * what the URL itself answers.
 */
export class HttpProbeChecker implements ProbeChecker<HttpProbe> {
  readonly type = 'http' as const;
  private readonly concurrency: number;

  constructor(options: HttpProbeOptions = {}) {
    this.concurrency = Math.max(1, options.concurrency ?? 5);
  }

  async check(probe: HttpProbe, ctx: ProbeContext): Promise<ProbeCheck> {
    const outcomes: Outcome[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < probe.requests && !ctx.signal?.aborted) {
        next += 1;
        outcomes.push(await this.request(probe, ctx));
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.concurrency, probe.requests) }, worker),
    );
    if (outcomes.length < probe.requests) {
      return { ok: false, error: 'check cancelled' };
    }
    const succeeded = outcomes.filter(o => o.ok).length;
    const value = succeeded / probe.requests;
    const ok = value >= probe.minSuccessRatio;
    if (succeeded === outcomes.length) {
      return { ok, value };
    }
    return { ok, value, error: summarizeFailures(outcomes, probe.requests) };
  }

  private async request(probe: HttpProbe, ctx: ProbeContext): Promise<Outcome> {
    const timeout = AbortSignal.timeout(probe.maxLatencyMs);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
    const started = performance.now();
    try {
      const response = await fetch(probe.url, { redirect: 'manual', signal });
      // Drain the body so the connection is released; it counts towards the latency.
      await response.arrayBuffer();
      const latency = performance.now() - started;
      if (response.status !== probe.expectedStatus) {
        return { ok: false, cause: `HTTP ${response.status}` };
      }
      if (latency > probe.maxLatencyMs) {
        return { ok: false, cause: `slower than ${probe.maxLatencyMs} ms` };
      }
      return { ok: true };
    } catch (error) {
      if (timeout.aborted) {
        return { ok: false, cause: `timeout after ${probe.maxLatencyMs} ms` };
      }
      const cause = (error as Error & { cause?: { code?: string } }).cause?.code;
      return { ok: false, cause: cause ?? (error as Error).message };
    }
  }
}

/** "3 of 10 requests failed: 2× timeout after 500 ms, 1× HTTP 503". */
function summarizeFailures(outcomes: Outcome[], total: number): string {
  const counts = new Map<string, number>();
  for (const outcome of outcomes) {
    if (!outcome.ok) {
      counts.set(outcome.cause, (counts.get(outcome.cause) ?? 0) + 1);
    }
  }
  const failed = [...counts.values()].reduce((a, b) => a + b, 0);
  const causes = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([cause, n]) => `${n}× ${cause}`)
    .join(', ');
  return `${failed} of ${total} requests failed: ${causes}`.slice(0, 512);
}

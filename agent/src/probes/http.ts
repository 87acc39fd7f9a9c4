import {
  DEFAULT_CEILINGS,
  probeHostRefusal,
  urlHost,
  type Probe,
  type ProbeHostRules,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, fetch } from 'undici';
import type { ProbeCheck, ProbeChecker, ProbeContext } from './types';

type HttpProbe = Extract<Probe, { type: 'http' }>;

export interface HttpProbeOptions {
  /** Requests in flight at once, so a probe of 1000 requests cannot flood the service. Default 5. */
  concurrency?: number;
  /**
   * Which hosts probes may reach (agent flags --probe-allowed-hosts, --probe-denied-hosts).
   * Loopback, link-local and the API server's names are denied by default.
   */
  hosts?: ProbeHostRules;
  /**
   * Hosts only this agent knows to deny: the API server's address. Default: the in-cluster
   * service address (KUBERNETES_SERVICE_HOST), when there is one.
   */
  extraDeniedHosts?: string[];
}

/** The API server as a pod sees it. */
export function inClusterApiServerHosts(
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  return env.KUBERNETES_SERVICE_HOST ? [env.KUBERNETES_SERVICE_HOST] : [];
}

/** Why a probe may not fetch this URL, before any request: its host as written. */
export function probeUrlRefusal(
  url: string,
  rules: ProbeHostRules,
  extraDenied: readonly string[],
): string | undefined {
  const host = urlHost(url);
  return host === undefined
    ? `'${url}' has no host`
    : probeHostRefusal(host, rules, extraDenied);
}

/**
 * A DNS lookup that refuses a name resolving to a denied address, so that a name pointing at
 * 127.0.0.1 or 169.254.169.254 cannot stand in for the address itself. It runs at connect time,
 * on the addresses actually connected to, so a name that changes its answer gains nothing.
 */
export function guardedLookup(
  rules: ProbeHostRules,
  extraDenied: readonly string[],
): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(
      hostname,
      { ...options, all: true },
      (error, addresses: LookupAddress[]) => {
        if (error) {
          callback(error, '', 4);
          return;
        }
        for (const a of addresses) {
          const refusal = probeHostRefusal(a.address, rules, extraDenied);
          if (refusal) {
            callback(
              Object.assign(
                new Error(`${hostname} resolves to ${a.address}: ${refusal}`),
                { code: 'EPROBEHOSTDENIED' },
              ),
              '',
              4,
            );
            return;
          }
        }
        if ((options as { all?: boolean }).all)
          (callback as unknown as (e: null, a: LookupAddress[]) => void)(
            null,
            addresses,
          );
        else callback(null, addresses[0].address, addresses[0].family);
      },
    );
  };
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
  private readonly hosts: ProbeHostRules;
  private readonly extraDeniedHosts: string[];
  private readonly dispatcher: Agent;

  constructor(options: HttpProbeOptions = {}) {
    this.concurrency = Math.max(1, options.concurrency ?? 5);
    this.hosts = options.hosts ?? DEFAULT_CEILINGS.probeHosts;
    this.extraDeniedHosts =
      options.extraDeniedHosts ?? inClusterApiServerHosts();
    this.dispatcher = new Agent({
      connect: { lookup: guardedLookup(this.hosts, this.extraDeniedHosts) },
    });
  }

  async check(probe: HttpProbe, ctx: ProbeContext): Promise<ProbeCheck> {
    // A denied host is refused before any request, in every phase: a dry run's steady-state check
    // fetches too, so it must not be a way to read what the agent can reach.
    const refused = probeUrlRefusal(
      probe.url,
      this.hosts,
      this.extraDeniedHosts,
    );
    if (refused)
      return { ok: false, error: `probe refused: ${refused}`.slice(0, 512) };
    const outcomes: Outcome[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < probe.requests && !ctx.signal?.aborted) {
        next += 1;
        outcomes.push(await this.request(probe, ctx));
      }
    };
    await Promise.all(
      Array.from(
        { length: Math.min(this.concurrency, probe.requests) },
        worker,
      ),
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
    const signal = ctx.signal
      ? AbortSignal.any([ctx.signal, timeout])
      : timeout;
    const started = performance.now();
    try {
      const response = await fetch(probe.url, {
        redirect: 'manual',
        signal,
        dispatcher: this.dispatcher,
      });
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
      const cause = (
        error as Error & { cause?: { code?: string; message?: string } }
      ).cause;
      if (cause?.code === 'EPROBEHOSTDENIED')
        return { ok: false, cause: `probe refused: ${cause.message}` };
      return { ok: false, cause: cause?.code ?? (error as Error).message };
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

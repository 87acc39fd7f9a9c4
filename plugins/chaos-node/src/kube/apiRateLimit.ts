import { TokenBucket } from 'limiter';

/**
 * A client-side limit on API requests, as client-go's rest.Config QPS and Burst: a token bucket
 * that holds `burst` tokens, refills at `qps` a second, and starts full. `qps: 0` turns it off
 * (the API server's priority and fairness is then the only limit).
 */
export interface ApiRateLimit {
  qps: number;
  burst: number;
}

/**
 * The agent's defaults. client-go's are 5/10, tuned for kubectl-sized clients; Chaos Mesh
 * hard-codes 30/50, and a kill of many pods then waited minutes on its own client. 50/100 lets
 * the agent act on 100 targets at once and 50 a second after that, well inside what a default
 * API server's priority and fairness grants one workload (its `workload-low` level shares
 * hundreds of seats).
 */
export const DEFAULT_API_RATE_LIMIT: ApiRateLimit = { qps: 50, burst: 100 };

/** Checks a limit from flags or config; throws naming what is wrong. */
export function validateApiRateLimit(
  limit: ApiRateLimit,
  names = { qps: 'qps', burst: 'burst' },
): ApiRateLimit {
  if (!Number.isFinite(limit.qps) || limit.qps < 0)
    throw new Error(
      `${names.qps} must be a number >= 0 (0 = no client-side limit)`,
    );
  if (!Number.isInteger(limit.burst) || limit.burst < 1)
    throw new Error(`${names.burst} must be an integer >= 1`);
  return limit;
}

/**
 * Waits for a token before each API request. Built on `limiter`'s TokenBucket (continuous
 * refill, waiters served first come first served behind a single timer), as client-go's
 * token-bucket limiter behaves: a burst goes out at once, then requests are spaced 1/qps apart.
 */
export class ApiThrottle {
  private readonly bucket: TokenBucket | undefined;
  private waits = 0;
  private waitedMs = 0;
  /** Requests queued for a token now. */
  private waiting = 0;

  constructor(readonly limit: ApiRateLimit) {
    validateApiRateLimit(limit);
    if (limit.qps > 0) {
      this.bucket = new TokenBucket({
        bucketSize: limit.burst,
        tokensPerInterval: limit.qps,
        interval: 'second',
      });
      // client-go's bucket starts full: a fresh process may send its first `burst` at once.
      this.bucket.content = limit.burst;
    }
  }

  /** Resolves when the request may go; at once while the bucket has a token. */
  async take(): Promise<void> {
    if (!this.bucket) return;
    // With nobody waiting, a token in the bucket is taken at once. Otherwise the request queues
    // behind the waiters (limiter's queue is first come, first served), so a request arriving as
    // a token drips in does not take it from one already waiting. A wait is counted by tokens,
    // not by the clock: on a loaded machine even a free token can take a millisecond to hand out.
    if (this.waiting === 0 && this.bucket.tryRemoveTokens(1)) return;
    this.waits++;
    this.waiting++;
    const started = performance.now();
    try {
      await this.bucket.removeTokens(1);
    } finally {
      this.waiting--;
      this.waitedMs += performance.now() - started;
    }
  }

  /** Requests that found no token for them, and how long they waited in all. */
  stats(): { waits: number; waitedMs: number } {
    return { waits: this.waits, waitedMs: this.waitedMs };
  }
}

import { ApiThrottle, validateApiRateLimit } from './apiRateLimit';

/** How many of `n` take() calls have resolved after the clock moved `ms` (fake timers). */
async function resolvedAfter(
  throttle: ApiThrottle,
  n: number,
  steps: number[],
): Promise<number[]> {
  const taken = { count: 0 };
  const count = (): void => {
    taken.count++;
  };
  Array.from({ length: n }, () => void throttle.take().then(count));
  const counts: number[] = [];
  for (const ms of steps) {
    await jest.advanceTimersByTimeAsync(ms);
    counts.push(taken.count);
  }
  return counts;
}

describe('ApiThrottle', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('lets the burst through at once, then one request per 1/qps', async () => {
    const throttle = new ApiThrottle({ qps: 10, burst: 3 });
    // At 0 ms the burst (3); every 100 ms one more.
    expect(
      await resolvedAfter(throttle, 8, [0, 100, 100, 100, 100, 100, 100]),
    ).toEqual([3, 4, 5, 6, 7, 8, 8]);
    expect(throttle.stats().waits).toBe(5);
  });

  it('refills while idle, never beyond the burst', async () => {
    const throttle = new ApiThrottle({ qps: 10, burst: 3 });
    await resolvedAfter(throttle, 3, [0]);
    // 10 s idle refill 100 tokens' worth, capped at 3.
    await jest.advanceTimersByTimeAsync(10_000);
    expect(await resolvedAfter(throttle, 5, [0, 100])).toEqual([3, 4]);
  });

  it('serves waiters first come, first served', async () => {
    const throttle = new ApiThrottle({ qps: 100, burst: 1 });
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3, 4]
        .map(async i => {
          await throttle.take();
          order.push(i);
        })
        .concat(jest.advanceTimersByTimeAsync(100)),
    );
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('does not limit with qps 0', async () => {
    const throttle = new ApiThrottle({ qps: 0, burst: 1 });
    expect(await resolvedAfter(throttle, 1000, [0])).toEqual([1000]);
  });

  it('refuses a negative qps and a burst below 1, naming the flag', () => {
    expect(() =>
      validateApiRateLimit(
        { qps: -1, burst: 10 },
        { qps: '--kube-qps', burst: '--kube-burst' },
      ),
    ).toThrow(/--kube-qps/);
    expect(() =>
      validateApiRateLimit(
        { qps: 5, burst: 0 },
        { qps: '--kube-qps', burst: '--kube-burst' },
      ),
    ).toThrow(/--kube-burst/);
    expect(() => validateApiRateLimit({ qps: Number('x'), burst: 1 })).toThrow(
      /qps/,
    );
  });
});

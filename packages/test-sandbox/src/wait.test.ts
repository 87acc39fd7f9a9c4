import { apiErrorCode, apiErrorStatus, expectApiError } from './kube';
import { waitFor } from './wait';

function httpError(code: number, body: unknown): Error {
  return Object.assign(new Error(`HTTP ${code}`), { code, body });
}

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let calls = 0;
    await expect(
      waitFor(() => (++calls >= 3 ? calls : undefined), { intervalMs: 1 }),
    ).resolves.toBe(3);
  });

  it('treats thrown errors as not-yet and reports the last one on timeout', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('still starting');
        },
        { timeoutMs: 30, intervalMs: 5, description: 'the thing' },
      ),
    ).rejects.toThrow(
      /timed out after 30 ms waiting for the thing: last error: still starting/,
    );
  });
});

describe('API error helpers', () => {
  const status = { kind: 'Status', code: 429, reason: 'TooManyRequests' };

  it('reads the code and the Status body of a client-node ApiException', () => {
    const error = httpError(429, JSON.stringify(status));
    expect(apiErrorCode(error)).toBe(429);
    expect(apiErrorStatus(error)).toEqual(status);
    expect(
      apiErrorCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })),
    ).toBeUndefined();
  });

  it('expectApiError accepts the expected code only', async () => {
    await expect(
      expectApiError(
        Promise.reject(httpError(429, JSON.stringify(status))),
        429,
      ),
    ).resolves.toEqual(status);
    await expect(
      expectApiError(Promise.reject(httpError(403, '')), 429),
    ).rejects.toThrow(/expected HTTP 429, got 403/);
    await expect(expectApiError(Promise.resolve({}), 429)).rejects.toThrow(
      /the call succeeded/,
    );
  });
});

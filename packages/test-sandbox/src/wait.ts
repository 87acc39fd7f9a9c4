export interface WaitForOptions {
  /** Give up after this long. Default 60 s. */
  timeoutMs?: number;
  /** Pause between polls. Default 200 ms. */
  intervalMs?: number;
  /** Names the condition in the timeout error. */
  description?: string;
}

/**
 * Thrown by a waitFor check to stop waiting at once, when the condition can no longer come
 * true (e.g. the watch it listens on has ended). waitFor rethrows it unchanged.
 */
export class WaitAbortedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WaitAbortedError';
  }
}

/** Resolves after `ms` milliseconds. For poll intervals, not for waiting on state. */
export function delay(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/**
 * Polls `check` until it returns a value other than `undefined`, `null` or `false`, and
 * resolves with that value. An error thrown by `check` counts as "not yet" (the API may be
 * catching up); the last one is reported if the wait times out. A WaitAbortedError ends the
 * wait at once.
 */
export async function waitFor<T>(
  check: () =>
    | Promise<T | undefined | null | false>
    | T
    | undefined
    | null
    | false,
  options: WaitForOptions = {},
): Promise<T> {
  const {
    timeoutMs = 60_000,
    intervalMs = 200,
    description = 'condition',
  } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== null && result !== false) {
        return result;
      }
      lastError = undefined;
    } catch (error) {
      if (error instanceof WaitAbortedError) {
        throw error;
      }
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause =
        lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${description}${cause}`,
        {
          cause: lastError,
        },
      );
    }
    await delay(intervalMs);
  }
}

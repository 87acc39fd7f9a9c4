/**
 * Where the backend reads the time. Stores stamp records with it and the scheduler decides what
 * fell due with it, so tests pass a clock they control instead of depending on today's date.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

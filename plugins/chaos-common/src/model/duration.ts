import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION_PATTERN = /^(\d+(ms|s|m|h))+$/;
/** No duration in the model is longer than a week; operators' ceilings go lower. */
export const MAX_DURATION_MS = 7 * 24 * 3_600_000;

/**
 * A duration written the way Kubernetes users write them: `500ms`, `30s`, `5m`, `1h30m`.
 * Kept as a string in the model so that YAML, the API and the CRD all read the same.
 */
export const durationSchema = z
  .string()
  .max(32)
  .regex(DURATION_PATTERN, 'must be a duration such as 30s, 5m or 1h30m')
  .refine(
    value =>
      !DURATION_PATTERN.test(value) || parseDuration(value) <= MAX_DURATION_MS,
    'must be at most 168h (a week)',
  );

/** Parses a duration string into milliseconds; throws on a malformed value. */
export function parseDuration(value: string): number {
  if (!DURATION_PATTERN.test(value)) {
    throw new TypeError(`Invalid duration '${value}'`);
  }
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)(ms|s|m|h)/g)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total;
}

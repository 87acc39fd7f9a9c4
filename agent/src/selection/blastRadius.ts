import type { BlastRadius } from '@chaoscraft/backstage-plugin-chaos-common';

/**
 * The share of eligible pods a run disrupts, against the run's limit; the percent has two
 * decimals, rounded half up from the exact ratio. selected * 10 000 is an integer, so the one
 * division is the only rounding: (selected / eligible) * 100 * 100 would make 23 of 160
 * (14.375%) 14.374999999999998 first, and show 14.37.
 */
export function computeBlastRadius(
  selected: number,
  eligible: number,
  limitPercent: number,
): BlastRadius {
  const percent =
    eligible === 0 ? 0 : Math.round((selected * 10_000) / eligible) / 100;
  return { selected, eligible, percent, limit: limitPercent };
}

/**
 * Compared in integers (selected * 100 against limit * eligible) because 3 / 10 * 100 is
 * 30.000000000000004 in floating point, which would refuse 3 of 10 pods under a 30% cap.
 */
export function exceedsLimit(radius: BlastRadius): boolean {
  return radius.selected * 100 > radius.limit * radius.eligible;
}

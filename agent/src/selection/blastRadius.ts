import type { BlastRadius } from '@chaoscraft/backstage-plugin-chaos-common';

/** The share of eligible pods a run disrupts, against the run's limit. */
export function computeBlastRadius(selected: number, eligible: number, limitPercent: number): BlastRadius {
  const percent = eligible === 0 ? 0 : Math.round((selected / eligible) * 100 * 100) / 100;
  return { selected, eligible, percent, limit: limitPercent };
}

/**
 * Compared in integers (selected * 100 against limit * eligible) because 3 / 10 * 100 is
 * 30.000000000000004 in floating point, which would refuse 3 of 10 pods under a 30% cap.
 */
export function exceedsLimit(radius: BlastRadius): boolean {
  return radius.selected * 100 > radius.limit * radius.eligible;
}

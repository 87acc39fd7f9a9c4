import type { Selection } from '@chaoscraft/backstage-plugin-chaos-common';
import { CandidatePod, isEligible } from './candidates';
import { randomSeed, seededRandom } from './prng';

function byName(a: CandidatePod, b: CandidatePod): number {
  if (a.name === b.name) return 0;
  return a.name < b.name ? -1 : 1;
}

export interface TargetSelection {
  /** Pods picked, ordered by name. */
  selected: CandidatePod[];
  /** How many pods could have been picked (Running, not terminating). */
  eligible: number;
  /** The seed the pick used: spec.seed, or a random one. */
  seed: number;
}

/**
 * How many of `eligible` pods a selection asks for. Percent rounds UP (ceil of P% of eligible)
 * and is at least 1, so that "10% of 5 pods" disrupts one pod rather than none; the blast
 * radius check then decides whether that one is allowed.
 */
export function plannedCount(selection: Selection, eligible: number): number {
  if (eligible === 0) {
    return 0;
  }
  switch (selection.mode) {
    case 'one':
      return 1;
    case 'fixed':
      return Math.min(selection.count ?? 1, eligible);
    case 'percent': {
      // Round away float noise first: 7 * 100 / 100 must be 7, not 7.000000000000001 -> 8.
      const exact =
        Math.round((((selection.percent ?? 0) * eligible) / 100) * 1e9) / 1e9;
      return Math.min(Math.max(Math.ceil(exact), 1), eligible);
    }
    default:
      return 1;
  }
}

/**
 * Picks targets among the eligible candidates. Sorting by name first makes the pick depend only
 * on the set of pods and the seed, not on the order the API server listed them in; a partial
 * Fisher-Yates shuffle then draws `count` of them.
 */
export function selectTargets(
  candidates: readonly CandidatePod[],
  selection: Selection,
  seed: number = randomSeed(),
): TargetSelection {
  const eligible = candidates.filter(isEligible).sort(byName);
  const count = plannedCount(selection, eligible.length);
  const random = seededRandom(seed);
  // O(n log n) for the sort, O(count) for the draw; `eligible` is already a fresh array (from
  // filter), so it is shuffled in place. Same draws as ever: a seed keeps picking the same pods.
  const pool = eligible;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    const picked = pool[j];
    pool[j] = pool[i];
    pool[i] = picked;
  }
  const selected = pool.slice(0, count).sort(byName);
  return { selected, eligible: eligible.length, seed };
}

import {
  SCORE_FULL_VALUE_DAYS,
  SCORE_ZERO_VALUE_DAYS,
  type ResilienceScore,
  type ResilienceScoreFault,
} from '../api';
import type { FaultType } from '../model/faults';

const DAY_MS = 24 * 60 * 60 * 1000;

export type ScoreDecayWindow = { fullValueDays: number; zeroValueDays: number };

export const DEFAULT_SCORE_DECAY: ScoreDecayWindow = {
  fullValueDays: SCORE_FULL_VALUE_DAYS,
  zeroValueDays: SCORE_ZERO_VALUE_DAYS,
};

/**
 * What a pass of `ageMs` is worth, 0..1: in full up to `fullValueDays`, then falling linearly to
 * nothing at `zeroValueDays`. A pass dated in the future (clocks of two machines) counts in full.
 */
export function decayWeight(
  ageMs: number,
  window: ScoreDecayWindow = DEFAULT_SCORE_DECAY,
): number {
  const full = window.fullValueDays * DAY_MS;
  const zero = window.zeroValueDays * DAY_MS;
  if (ageMs <= full) return 1;
  if (ageMs >= zero) return 0;
  return (zero - ageMs) / (zero - full);
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

/**
 * The resilience score of an entity (pure and isomorphic: the backend serves it, the frontend's
 * test fake answers with it) at `now`, from the newest passed run of each fault type
 * (`lastPassed`). Every fault type the operator allows is worth the same share of 100; a type
 * passed within the full-value window earns all of it, an older pass a decaying part. Fault
 * types listed most-to-gain first, so the first ones are what raises the score the most.
 */
export function resilienceScore(options: {
  entityRef: string;
  faultTypes: readonly FaultType[];
  lastPassed: ReadonlyMap<string, Date>;
  now: Date;
  window?: ScoreDecayWindow;
}): ResilienceScore {
  const { entityRef, faultTypes, lastPassed, now } = options;
  const window = options.window ?? DEFAULT_SCORE_DECAY;
  const maxPoints = faultTypes.length ? 100 / faultTypes.length : 0;
  const faults: ResilienceScoreFault[] = faultTypes.map(type => {
    const passed = lastPassed.get(type);
    if (!passed)
      return { type, weight: 0, points: 0, maxPoints: round1(maxPoints) };
    const weight = decayWeight(now.getTime() - passed.getTime(), window);
    return {
      type,
      lastPassedAt: passed.toISOString(),
      weight: Math.round(weight * 1000) / 1000,
      points: round1(maxPoints * weight),
      maxPoints: round1(maxPoints),
      decaysFrom: new Date(
        passed.getTime() + window.fullValueDays * DAY_MS,
      ).toISOString(),
      expiresAt: new Date(
        passed.getTime() + window.zeroValueDays * DAY_MS,
      ).toISOString(),
    };
  });
  const total = faultTypes.reduce((sum, type) => {
    const passed = lastPassed.get(type);
    return passed
      ? sum + maxPoints * decayWeight(now.getTime() - passed.getTime(), window)
      : sum;
  }, 0);
  const gain = (f: ResilienceScoreFault) => f.maxPoints - f.points;
  return {
    entityRef,
    score: Math.min(100, Math.max(0, Math.round(total))),
    computedAt: now.toISOString(),
    fullValueDays: window.fullValueDays,
    zeroValueDays: window.zeroValueDays,
    faults: [...faults].sort(
      (a, b) =>
        gain(b) - gain(a) ||
        faultTypes.indexOf(a.type) - faultTypes.indexOf(b.type),
    ),
  };
}

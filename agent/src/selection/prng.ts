/**
 * mulberry32: a tiny seeded PRNG. Not for cryptography; it only has to make target selection
 * reproducible from `spec.seed`, identically in every Node.js version.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for runs that did not give one; recorded nowhere because the plan itself is persisted. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/**
 * A small deterministic pseudo-random number generator for the demo simulation.
 *
 * mulberry32: 32 bits of state, period 2^32, passes the usual quick statistical checks and is
 * plenty for a toy network. The same seed always gives the same sequence on every platform,
 * because it only uses 32-bit integer arithmetic (`Math.imul`, `>>>`).
 */

/** A seeded source of random numbers. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** A new generator whose sequence depends on this one's; for independent sub-streams. */
  fork(): Rng;
}

/** Turns any integer seed into a well-mixed 32-bit state (splitmix32 finaliser). */
function mixSeed(seed: number): number {
  let z = (Math.trunc(seed) + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A mulberry32 generator seeded with `seed` (any integer; it is mixed first so 0, 1, 2 differ well). */
export function mulberry32(seed: number): Rng {
  let state = mixSeed(seed);
  let spare = NaN;

  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  return {
    next,
    int: (n) => Math.floor(next() * n),
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal: () => {
      if (!Number.isNaN(spare)) {
        const s = spare;
        spare = NaN;
        return s;
      }
      let u = next();
      while (u === 0) u = next();
      const r = Math.sqrt(-2 * Math.log(u));
      const a = 2 * Math.PI * next();
      spare = r * Math.sin(a);
      return r * Math.cos(a);
    },
    fork: () => mulberry32(Math.floor(next() * 4294967296)),
  };
}

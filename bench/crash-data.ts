/**
 * The deterministic experiment of the crash harness: every value of every step is a pure function
 * of (seed, episode, step), so the harness can check any prefix of a killed file without keeping
 * a reference copy. Quickstart-like: 100 neurons, spike masks at 2 %, v (float32) kept every 100
 * steps, behaviour x/y every step, sparse rewards (~1 %), a few weight changes (~0.5 % of steps)
 * and events (~0.2 %). A {@link Profile} changes the episode lengths (fixed, or drawn per episode
 * from a range: the many-short-episodes mode), the sampling and the weight-change and event rates.
 */

export const N_NEURONS = 100;
export const SAMPLING = 100;
export const N_SYNAPSES = 1000;
export const WC_RATE = 0.005;
export const EVENT_RATE = 0.002;

/** What the writer logs besides the seed: episode lengths, sampling, rates. */
export interface Profile {
  /** Steps of every episode; with `minSteps`, the most steps of an episode. */
  steps: number;
  /** Episodes have from `minSteps` to `steps` steps, drawn per episode ({@link episodeSteps}). */
  minSteps?: number;
  /** Neural state kept every this many steps [SAMPLING]. */
  sampling?: number;
  /** Fraction of the steps followed by weight changes [WC_RATE]. */
  wcRate?: number;
  /** Fraction of the steps followed by an event [EVENT_RATE]. */
  eventRate?: number;
}

/**
 * The steps of episode `ep`. The lengths do not depend on the seed: the harness calibrates the
 * phases (and the writes in each) of a config with one seed and kills runs of other seeds at
 * them, so every seed must have the same episodes.
 */
export function episodeSteps(_seed: number, ep: number, p: Profile): number {
  if (p.minSteps === undefined || p.minSteps >= p.steps) return p.steps;
  return p.minSteps + (hash4(0x5eed, ep, -2, 7) % (p.steps - p.minSteps + 1));
}

export function sampling(p: Profile): number {
  return p.sampling ?? SAMPLING;
}

/** A 32-bit integer hash of four integers (murmur3-style finaliser). */
export function hash4(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ c, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ d, 0x165667b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [0, 1). */
export function unit(a: number, b: number, c: number, d: number): number {
  return hash4(a, b, c, d) / 4294967296;
}

/** The 0/1 spike mask of step `t` (about 2 % ones). */
export function spikeMask(seed: number, ep: number, t: number, out = new Uint8Array(N_NEURONS)): Uint8Array {
  for (let i = 0; i < N_NEURONS; i++) out[i] = hash4(seed, ep, t, i) < 85899346 ? 1 : 0; // 2^32 * 0.02
  return out;
}

/** Ids of the neurons that spiked at step `t`, ascending. */
export function spikeIds(seed: number, ep: number, t: number): number[] {
  const ids: number[] = [];
  for (let i = 0; i < N_NEURONS; i++) if (hash4(seed, ep, t, i) < 85899346) ids.push(i);
  return ids;
}

/** Membrane potentials at step `t` (logged at every step; kept every SAMPLING steps). */
export function membrane(seed: number, ep: number, t: number, out = new Float32Array(N_NEURONS)): Float32Array {
  for (let i = 0; i < N_NEURONS; i++) out[i] = -70 + 20 * unit(seed, ep, t, 1000 + i);
  return out;
}

export function behaviorX(seed: number, ep: number, t: number): number {
  return unit(seed, ep, t, 2001);
}

export function behaviorY(seed: number, ep: number, t: number): number {
  return unit(seed, ep, t, 2002) - 0.5;
}

/** The reward of step `t`: non-zero on about 1 % of the steps. */
export function reward(seed: number, ep: number, t: number): number {
  const h = hash4(seed, ep, t, 2003);
  return h < 42949673 ? 0.25 + (h % 1000) / 1000 : 0;
}

export interface WeightChange { timestep: number; synapseId: number; oldWeight: number; newWeight: number }

/** The weight changes logged after step `t` (on about `rate` of the steps, 0.5 % by default; 1–3 of them). */
export function weightChanges(seed: number, ep: number, t: number, rate = WC_RATE): WeightChange[] {
  const h = hash4(seed, ep, t, 2004);
  if (h >= Math.round(4294967296 * rate)) return [];
  const n = 1 + (h % 3);
  const out: WeightChange[] = [];
  for (let k = 0; k < n; k++) {
    const s = hash4(seed, ep, t, 3000 + k);
    const oldWeight = (s % 10007) / 10007;
    out.push({ timestep: t, synapseId: s % N_SYNAPSES, oldWeight, newWeight: oldWeight + 0.001 * (1 + k) });
  }
  return out;
}

export interface CrashEvent { timestep: number; type: string; data: { t: number; k: number; tag: string } }

/** The event logged after step `t`, if any (about `rate` of the steps, 0.2 % by default). */
export function event(seed: number, ep: number, t: number, rate = EVENT_RATE): CrashEvent | null {
  const h = hash4(seed, ep, t, 2005);
  if (h >= Math.round(4294967296 * rate)) return null;
  return { timestep: t, type: h % 2 ? "probe" : "reset", data: { t, k: h % 997, tag: `e${ep}:${t}` } };
}

/** The network saved at the start: 100 neurons and N_SYNAPSES COO connections. */
export function network(seed: number): { sourceIds: Int32Array; targetIds: Int32Array; values: Float64Array } {
  const sourceIds = Int32Array.from({ length: N_SYNAPSES }, (_, i) => hash4(seed, -1, i, 1) % N_NEURONS);
  const targetIds = Int32Array.from({ length: N_SYNAPSES }, (_, i) => hash4(seed, -1, i, 2) % N_NEURONS);
  const values = Float64Array.from({ length: N_SYNAPSES }, (_, i) => unit(seed, -1, i, 3) - 0.5);
  return { sourceIds, targetIds, values };
}

/** The config the writer saves. */
export function config(seed: number, episodes: number, steps: number): Record<string, unknown> {
  return { seed, episodes, steps, n_neurons: N_NEURONS, sampling: SAMPLING, learning_rate: 0.01, tag: "crash-harness" };
}

/** The summary given to endEpisode. */
export function summary(seed: number, ep: number, steps: number): Record<string, unknown> {
  return { ep, steps, check: hash4(seed, ep, steps, 4000) };
}

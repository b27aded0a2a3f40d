/**
 * The data a benchmark run logs, generated before the clock starts, much as the h5py reference
 * peer generates it: a block of precomputed steps reused cyclically, and a network of neurons*10
 * random connections. Seeded, so every run logs the same data.
 *
 * The block is min(episodes x steps, 10000) steps, indexed by the step's position in the whole
 * run ({@link stepIndex}), so it spans episodes when they are short. The peer's block is
 * min(steps, 10000), drawn once and repeated in every episode: the same thing when episodes are
 * whole multiples of 10000 steps (five of the workloads; medium_normal's 5000-step episodes now
 * take the two halves of a 10000-step block in turn). On many_episodes (50 steps) the peer's way
 * makes one block of 50 every episode's data, and drawn with this generator that block had no
 * weight-change step and no reward at all (the workload asks for 2 % and 1 %; the peer's own
 * 50-step block happens to have 2 weight-change steps, 4 %). Spanning episodes gives every
 * workload its nominal rates.
 */
import type { Workload } from "./workloads.js";

/** Rows of `block` steps, plus the network. Row views are made here, not in the timed loop. */
export interface WorkloadData {
  block: number;
  neurons: number;
  /** float32 membrane potentials, -65 + 10 N(0, 1), one row per step of the block. */
  v: Float32Array[];
  /** 0/1 spike masks, one row per step of the block. */
  spikes: Uint8Array[];
  x: Float64Array;
  y: Float64Array;
  /** 1.0 on about 1% of the steps, else 0. */
  reward: Float64Array;
  /** 1 on steps with weight changes. */
  weightChange: Uint8Array;
  sourceIds: Int32Array;
  targetIds: Int32Array;
  weights: Float64Array;
}

/** mulberry32: uniform numbers in [0, 1) from a 32-bit seed (shared by the bench scripts). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `out` with standard normals (Box-Muller, both values used). */
function fillNormal(rand: () => number, out: Float64Array): void {
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const a = 2 * Math.PI * rand();
    out[i] = r * Math.cos(a);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(a);
  }
}

function rows<T extends Float32Array | Uint8Array>(flat: T, width: number, count: number): T[] {
  return Array.from({ length: count }, (_, i) => flat.subarray(i * width, (i + 1) * width) as T);
}

/** The row of the block that step `t` of episode `e` logs (episodes of `steps` steps). */
export function stepIndex(d: WorkloadData, steps: number, e: number, t: number): number {
  return (e * steps + t) % d.block;
}

/**
 * Generates the data for `w` with at most `steps` steps per episode: a block of
 * min(w.episodes x steps, 10000) steps (see the module comment); index it with {@link stepIndex}.
 */
export function generate(w: Workload, steps: number, seed = 0): WorkloadData {
  const rand = mulberry32(seed);
  const n = w.neurons;
  const block = Math.min(w.episodes * steps, 10_000);
  // Neural state is offered every step but kept only every `sampling` steps: only the rows that
  // are kept are generated (each is offered until the next one), which keeps the benchmark's own
  // memory small on the 2000-neuron workloads; the exporter's work is the same.
  const kept = Math.ceil(block / w.sampling);
  const normals = new Float64Array(n);
  const vKept = new Float32Array(kept * n);
  for (let r = 0; r < kept; r++) {
    fillNormal(rand, normals);
    for (let k = 0; k < n; k++) vKept[r * n + k] = -65 + 10 * normals[k];
  }
  const keptRows = rows(vKept, n, kept);
  const vRows = Array.from({ length: block }, (_, i) => keptRows[Math.floor(i / w.sampling)]);
  const mask = new Uint8Array(block * n);
  for (let i = 0; i < mask.length; i++) mask[i] = rand() < w.spike_rate ? 1 : 0;
  const x = Float64Array.from({ length: block }, rand);
  const y = Float64Array.from({ length: block }, rand);
  const reward = Float64Array.from({ length: block }, () => (rand() < 0.01 ? 1.0 : 0));
  const weightChange = Uint8Array.from({ length: block }, () => (rand() < w.weight_change_rate ? 1 : 0));
  const nConn = n * 10;
  const sourceIds = Int32Array.from({ length: nConn }, () => Math.floor(rand() * n));
  const targetIds = Int32Array.from({ length: nConn }, () => Math.floor(rand() * n));
  const weights = new Float64Array(nConn);
  fillNormal(rand, weights);
  for (let i = 0; i < nConn; i++) weights[i] *= 0.1;
  return { block, neurons: n, v: vRows, spikes: rows(mask, n, block), x, y, reward, weightChange, sourceIds, targetIds, weights };
}

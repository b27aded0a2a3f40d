/**
 * The data a benchmark run logs, generated before the clock starts, the way the h5py reference
 * peer generates it: a block of min(steps, 10000) precomputed steps reused cyclically, and a
 * network of neurons*10 random connections. Seeded, so every run logs the same data.
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

/** Generates the data for `w` with at most `steps` steps per episode (a block of min(steps, 10000)). */
export function generate(w: Workload, steps: number, seed = 0): WorkloadData {
  const rand = mulberry32(seed);
  const n = w.neurons;
  const block = Math.min(steps, 10_000);
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

/**
 * Summaries the viewer's answers are made of: the network's neuron counts and weight histogram,
 * and time series downsampled to the pixel columns shown.
 */
import type { ExperimentLoader, NdArray } from "snn-export";
import { pack, type PackedArray } from "./binary.js";

/** Neuron counts per value of each string field (types, roles, ...), synapse count, weight histogram. */
export function network(l: ExperimentLoader): unknown {
  let ns: ReturnType<ExperimentLoader["getNetworkStructure"]> | null;
  try {
    ns = l.getNetworkStructure();
  } catch {
    ns = null; // a file without a readable network structure: the overview says so
  }
  if (ns === null) return null;
  const counts: Record<string, Record<string, number>> = {};
  for (const [field, v] of Object.entries(ns.neurons)) {
    if (!Array.isArray(v)) continue;
    const c: Record<string, number> = {};
    for (const s of v) c[s] = (c[s] ?? 0) + 1;
    if (Object.keys(c).length <= 50) counts[field] = c;
  }
  let histogram = null;
  if (ns.weights !== null && ns.weights.data.length > 0) {
    const d = ns.weights.data;
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (let i = 0; i < d.length; i++) {
      const x = Number(d[i]);
      if (x < min) min = x;
      if (x > max) max = x;
      sum += x;
    }
    const nb = 40;
    const bins = new Array<number>(nb).fill(0);
    const width = max > min ? (max - min) / nb : 1;
    for (let i = 0; i < d.length; i++) bins[Math.min(nb - 1, Math.floor((Number(d[i]) - min) / width))]++;
    histogram = { min, max, mean: sum / d.length, binWidth: width, counts: bins };
  }
  return {
    nNeurons: ns.nNeurons,
    fields: Object.keys(ns.neurons),
    countsBy: counts,
    synapses: ns.weights?.data.length ?? null,
    weightShape: ns.weights?.shape ?? null,
    weightHistogram: histogram,
  };
}

/** Every `stride`-th element of an array from `start`, as numbers. */
export function strided(a: NdArray, start: number, stride: number): ArrayLike<number> {
  const d = a.data;
  const n = Math.floor((d.length - start + stride - 1) / stride);
  const out = new Float64Array(Math.max(0, n));
  for (let i = 0; i < out.length; i++) out[i] = Number(d[start + i * stride]);
  return out;
}

/**
 * Time series for the page: the points themselves when there are at most 2 per pixel column, else
 * per column the minimum and the maximum of every series, at the column's start and middle.
 */
export function downsampled(meta: Record<string, unknown>, t: Float64Array, columns: ArrayLike<number>[], names: string[], width: number): Buffer {
  const n = t.length;
  const arrays: Record<string, PackedArray> = {};
  if (n <= 2 * width) {
    arrays.t = Float64Array.from(t);
    columns.forEach((c, j) => (arrays[`s${j}`] = Float32Array.from(c)));
    return pack({ ...meta, downsampled: false, points: n }, arrays);
  }
  const from = meta.from as number;
  const to = meta.to as number;
  const span = Math.max(1, to - from);
  const tt = new Float64Array(2 * width);
  for (let c = 0; c < width; c++) {
    tt[2 * c] = from + (c * span) / width;
    tt[2 * c + 1] = from + ((c + 0.5) * span) / width;
  }
  arrays.t = tt;
  columns.forEach((col, j) => {
    const lo = new Float32Array(width).fill(NaN);
    const hi = new Float32Array(width).fill(NaN);
    for (let i = 0; i < n; i++) {
      const c = Math.min(width - 1, Math.floor(((t[i] - from) * width) / span));
      const x = col[i];
      if (x !== x) continue; // NaN: a gap, not a value
      if (!(x >= lo[c])) lo[c] = x;
      if (!(x <= hi[c])) hi[c] = x;
    }
    const out = new Float32Array(2 * width);
    for (let c = 0; c < width; c++) {
      out[2 * c] = lo[c];
      out[2 * c + 1] = hi[c];
    }
    arrays[`s${j}`] = out;
  });
  return pack({ ...meta, downsampled: true, points: n, names }, arrays);
}

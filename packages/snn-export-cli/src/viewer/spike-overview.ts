/**
 * The spike overview of a finished episode: its spikes counted once per (time bin x neuron row),
 * with levels of 4 times coarser time bins, so that raster windows wider than a pixel column's
 * bin are binned from counts instead of from the spikes (src/viewer/data.ts keeps the last two).
 */
import type { EpisodeData } from "snn-export";
import { pack } from "./binary.js";

/** Time bins and neuron rows of a spike overview, at most. */
const OVERVIEW_COLS = 16_384;
const OVERVIEW_ROWS = 1_024;

/**
 * Spike counts of a whole finished episode per (time bin of `binSteps` steps x row of
 * `neuronsPerRow` neurons), made in one pass the first time a wide window of a large episode is
 * asked for: every later window at least `binSteps` steps per pixel column is binned from it
 * instead of from the spikes (a bin is counted in the pixel column of its first step).
 */
export interface SpikeOverview {
  from: number;
  to: number;
  binSteps: number;
  neuronsPerRow: number;
  cols: number;
  rows: number;
  counts: Uint8Array | Uint16Array | Uint32Array;
  total: number;
  /** The episode's counters when it was made: it is remade if they change. */
  key: string;
  /** The same counts with 4 times the steps a bin (while that leaves more than 1,024 bins), for wider windows. */
  coarser: SpikeOverview | null;
}

/**
 * The spike overview of a finished episode, in one pass over its spikes (`getSpikes` windows of
 * about `spikesPerRead` spikes), with its coarser levels.
 */
export function makeSpikeOverview(
  ep: EpisodeData,
  range: { from: number; to: number },
  nAll: number,
  density: number,
  key: string,
  spikesPerRead = 1_000_000,
): SpikeOverview {
    const span = Math.max(1, range.to - range.from);
    const binSteps = Math.max(1, Math.ceil(span / OVERVIEW_COLS));
    const neuronsPerRow = Math.max(1, Math.ceil(nAll / OVERVIEW_ROWS));
    const cols = Math.ceil(span / binSteps);
    const rows = Math.max(1, Math.ceil(nAll / neuronsPerRow));
    // a neuron spikes at most once a step: a bin holds at most binSteps x neuronsPerRow spikes
    const most = binSteps * neuronsPerRow;
    const counts = most <= 255 ? new Uint8Array(cols * rows) : most <= 65_535 ? new Uint16Array(cols * rows) : new Uint32Array(cols * rows);
    const stepsPerRead = Math.max(1_000, Math.floor(spikesPerRead / density));
    let total = 0;
    for (let lo = range.from; lo < range.to; lo += stepsPerRead) {
      const sp = ep.getSpikes({ from: lo, to: Math.min(range.to, lo + stepsPerRead) });
      const ts = sp.timesteps;
      const ns = sp.neuronIds;
      for (let i = 0; i < ns.length; i++) {
        const r = Math.min(rows - 1, Math.floor(ns[i] / neuronsPerRow));
        counts[r * cols + Math.floor((ts[i] - range.from) / binSteps)]++;
      }
      total += ns.length;
    }
    const ov: SpikeOverview = { from: range.from, to: range.to, binSteps, neuronsPerRow, cols, rows, counts, total, key, coarser: null };
    for (let level = ov; level.cols > 4 * 1_024; level = level.coarser) level.coarser = coarsen(level, 4);
    return ov;
}

/** `ov` with `k` of its time bins summed into one. */
function coarsen(ov: SpikeOverview, k: number): SpikeOverview {
  const binSteps = ov.binSteps * k;
  const cols = Math.ceil(ov.cols / k);
  const most = binSteps * ov.neuronsPerRow;
  const counts = most <= 255 ? new Uint8Array(cols * ov.rows) : most <= 65_535 ? new Uint16Array(cols * ov.rows) : new Uint32Array(cols * ov.rows);
  for (let r = 0; r < ov.rows; r++) {
    const src = r * ov.cols;
    const dst = r * cols;
    for (let c = 0; c < ov.cols; c++) counts[dst + Math.floor(c / k)] += ov.counts[src + c];
  }
  return { ...ov, binSteps, cols, counts, coarser: null };
}

/**
 * A raster answer binned from a spike overview: the overview's bins whose first step lies in
 * `[from, to)` and whose first neuron lies in `[n0, n1)`, each counted in the pixel column and
 * row of its first step and neuron (with one step and one neuron a bin: exactly the spikes' bins).
 */
export function binOverview(
  ov: SpikeOverview,
  w: { from: number; to: number; n0: number; n1: number; cols: number; rows: number },
  extra: Record<string, unknown>,
): Buffer {
  const { from, to, n0, n1, cols, rows } = w;
  const bins = new Uint32Array(cols * rows);
  const colScale = cols / Math.max(1, to - from);
  const rowScale = rows / Math.max(1, n1 - n0);
  const c0 = Math.max(0, Math.ceil((from - ov.from) / ov.binSteps));
  const c1 = Math.min(ov.cols, Math.ceil((to - ov.from) / ov.binSteps));
  const r0 = Math.max(0, Math.ceil(n0 / ov.neuronsPerRow));
  const r1 = Math.min(ov.rows, Math.ceil(n1 / ov.neuronsPerRow));
  const colOf = new Int32Array(Math.max(0, c1 - c0));
  for (let c = c0; c < c1; c++) colOf[c - c0] = Math.min(cols - 1, Math.floor((ov.from + c * ov.binSteps - from) * colScale));
  let spikes = 0;
  let maxBin = 0;
  for (let r = r0; r < r1; r++) {
    const out = Math.min(rows - 1, Math.floor((r * ov.neuronsPerRow - n0) * rowScale)) * cols;
    const at = r * ov.cols;
    for (let c = c0; c < c1; c++) {
      const k = ov.counts[at + c];
      if (k === 0) continue;
      const b = (bins[out + colOf[c - c0]] += k);
      if (b > maxBin) maxBin = b;
      spikes += k;
    }
  }
  const out = new Uint16Array(bins.length);
  for (let i = 0; i < bins.length; i++) out[i] = Math.min(65_535, bins[i]);
  return pack(
    { ...extra, from, to, n0, n1, spikes, kind: "bins", source: "overview", binSteps: ov.binSteps, neuronsPerRow: ov.neuronsPerRow, cols, rows, maxBin },
    { bins: out },
  );
}

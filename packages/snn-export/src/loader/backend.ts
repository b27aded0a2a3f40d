/**
 * What {@link EpisodeData} needs from a file format version: one backend per format major
 * (`episode-v1.ts`: a group per episode; `episode-v2.ts`: slices of experiment-wide streams), plus
 * the decoders both share, so that the two return identical values for the same logged data.
 */
import { FormatError } from "../errors.js";
import type { Source } from "./read.js";
import type { EpisodeAttributes, ExperimentEvent, Rewards, SpikeTrain, TimeSeries, WeightChanges } from "./types.js";
import { commonLength } from "./values.js";
import { parseJson } from "./read.js";

/** The per-step series streams with named variables. */
export type SeriesName = "neural_states" | "behavior";

/**
 * One episode as a format version stores it. Every method reads from the file when called.
 *
 * @example
 * ```ts
 * const backend: EpisodeBackend = catalog.backend(0);
 * const ts = backend.timesteps();
 * ```
 */
export interface EpisodeBackend {
  readonly id: number;
  /** HDF5 path that identifies the episode (1.x: its group; 2.x: the episode table). */
  readonly path: string;
  /** HDF5 group of the episode's static data (it may not exist). */
  readonly staticGroup: string;
  attrs(): EpisodeAttributes;
  timesteps(): Float64Array;
  /** Names of the variables the episode has in a series stream. */
  seriesNames(stream: SeriesName): string[];
  /** The series with the variables `names` (all of them stored). */
  series(stream: SeriesName, names: string[]): TimeSeries;
  spikes(): SpikeTrain;
  /** Spikes of the steps with timesteps in `[from, to)`, reading only their chunks (2.x; 1.x filters {@link spikes}). */
  spikesWindow?(from: number, to: number): SpikeTrain;
  /** {@link series} for the rows with timesteps in `[from, to)`, reading only their chunks (2.x). */
  seriesWindow?(stream: SeriesName, names: string[], from: number, to: number): TimeSeries;
  /** Spikes of the steps with timesteps in `[from, to)`, `steps` steps per block, each block read when asked for (2.x). */
  spikeBlocks?(steps: number, from: number, to: number): Generator<SpikeTrain>;
  /** The non-zero rewards. */
  rewards(): Rewards;
  /** The weight changes sorted by timestep (1.x: as stored, which the writer sorted at the episode's end). */
  weightChanges(): WeightChanges;
  events(): ExperimentEvent[];
  /** Parsed summary; null when none. */
  summary(): unknown;
}

/**
 * Decodes the `csr_time` spike encoding: per-spike timestep = each step's timestep repeated
 * `counts` times. With `partial` (a live or interrupted file) only the steps whose spikes are all
 * on disk are kept; otherwise a mismatch between the counts and the ids is a FormatError.
 *
 * @example
 * ```ts
 * decodeCsr(Float64Array.of(10, 11), Float64Array.of(2, 0), Uint32Array.of(3, 4), false, "/spikes");
 * // { timesteps: [10, 10], neuronIds: [3, 4] }
 * ```
 */
export function decodeCsr(steps: Float64Array, counts: ArrayLike<number>, ids: Uint32Array, partial: boolean, where: string): SpikeTrain {
  const rows = commonLength({ timesteps: steps.length, counts: counts.length }, partial, where);
  let total = 0;
  for (let i = 0; i < rows; i++) total += counts[i];
  let usable = rows;
  if (total !== ids.length) {
    commonLength({ "sum of counts": total, neuron_ids: ids.length }, partial, where);
    // keep the steps whose spikes are all on disk
    for (total = 0, usable = 0; usable < rows && total + counts[usable] <= ids.length; usable++) total += counts[usable];
  }
  const timesteps = new Float64Array(total);
  for (let i = 0, k = 0; i < usable; i++) {
    const t = steps[i];
    for (let end = k + counts[i]; k < end; k++) timesteps[k] = t;
  }
  return { timesteps, neuronIds: ids.subarray(0, total) };
}

/**
 * Decodes rows `[r0, r1)` of a dense `[T, N]` uint8 spike matrix (layout `standard`) in slices of
 * at most 4 MiB; `steps[r - r0]` is the timestep of row `r`.
 *
 * @example
 * ```ts
 * const train = decodeDense(src, "/spikes/spike_matrix", 0, steps.length, steps);
 * ```
 */
export function decodeDense(src: Source, path: string, r0: number, r1: number, steps: Float64Array): SpikeTrain {
  const n = src.info(path).shape[1] ?? 0;
  const ts: number[] = [];
  const ids: number[] = [];
  const sliceRows = Math.max(1, Math.floor((4 << 20) / Math.max(1, n)));
  for (let s0 = r0; s0 < r1; s0 += sliceRows) {
    const s1 = Math.min(r1, s0 + sliceRows);
    const block = src.readRows(path, s0, s1);
    if (block.length !== (s1 - s0) * n) throw new FormatError("INVALID_DATA", `${path}: rows ${s0}..${s1} are not all on disk`);
    for (let r = s0; r < s1; r++) {
      const base = (r - s0) * n;
      for (let k = 0; k < n; k++) if (block[base + k] !== 0) { ts.push(steps[r - r0]); ids.push(k); }
    }
  }
  return { timesteps: Float64Array.from(ts), neuronIds: Uint32Array.from(ids) };
}

/**
 * The non-zero entries of a dense reward column (layout `standard`: a reward every step), as the
 * optimized layout stores them.
 *
 * @example
 * ```ts
 * nonZeroRewards(Float64Array.of(1, 2, 3), Float64Array.of(0, 0.5, 0)); // { timesteps: [2], values: [0.5] }
 * ```
 */
export function nonZeroRewards(timesteps: Float64Array, values: Float64Array): Rewards {
  const keep: number[] = [];
  const n = Math.min(timesteps.length, values.length);
  for (let i = 0; i < n; i++) if (values[i] !== 0) keep.push(i);
  return { timesteps: Float64Array.from(keep, (i) => timesteps[i]), values: Float64Array.from(keep, (i) => values[i]) };
}

/**
 * The weight changes sorted by timestep, stable (equal timesteps keep their stored order), for 2.x
 * files, which store them in the order logged. Sorted input is returned as is.
 *
 * @example
 * ```ts
 * const sorted = sortWeightChanges(backend.weightChanges());
 * ```
 */
export function sortWeightChanges(wc: WeightChanges): WeightChanges {
  const t = wc.timesteps;
  let sorted = true;
  for (let i = 1; i < t.length && sorted; i++) if (t[i] < t[i - 1]) sorted = false;
  if (sorted) return wc;
  const order = Array.from({ length: t.length }, (_, i) => i).sort((a, b) => t[a] - t[b] || a - b);
  const out = {} as WeightChanges;
  for (const [k, col] of Object.entries(wc) as [keyof WeightChanges, Float64Array][]) {
    out[k] = Float64Array.from(order, (i) => col[i]);
  }
  return out;
}

/**
 * Builds the events from their columns (`data` null: no data column stored, every event's data is
 * null), cut to the common length of the columns. `firstRow`: the stored row of the first event
 * (for error messages).
 *
 * @example
 * ```ts
 * toEvents(Float64Array.of(3), ["reset"], ['{"why":1}'], false, "/events");
 * ```
 */
export function toEvents(
  timesteps: Float64Array, types: string[], data: string[] | null, partial: boolean, group: string, firstRow = 0,
): ExperimentEvent[] {
  const lengths: Record<string, number> = { timesteps: timesteps.length, types: types.length };
  if (data) lengths.data = data.length;
  const n = commonLength(lengths, partial, group);
  const out: ExperimentEvent[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ timestep: timesteps[i], type: types[i], data: data ? parseJson(data[i], `${group}/data[${firstRow + i}]`) : null });
  }
  return out;
}

/**
 * Row sources: the streams of one episode as a sequence of row blocks, read through the loader's
 * public API (`EpisodeData.getSpikes()`, `getNeuralStates()`, ...) and handed out in blocks of a
 * few MiB. `snn-export export` writes them as CSV, JSON Lines or .npy.
 *
 * Column dtypes are those of the file: timesteps and ids int64 (the loader gives them as float64
 * and they are converted back block by block), neural state and behaviour variables their stored
 * dtype, spike neuron ids the smallest unsigned integer that holds the neuron count (as stored).
 */
import { allocate, dtypeSize, isBig, smallestUnsigned, type Dtype, type NumericArray } from "snn-export/dtypes";
import type { EpisodeData, NdArray } from "snn-export";

export const STREAMS = ["spikes", "neural_states", "behavior", "rewards", "weight_changes", "events"] as const;
export type StreamName = (typeof STREAMS)[number];

/** One column of the output: a name, a dtype and the shape of one row's value ([] for a scalar). */
export interface Field {
  name: string;
  dtype: Dtype | "string";
  shape: number[];
}

/** A block of rows: one array per field, `rows * prod(field.shape)` elements each, row-major. */
export interface Block {
  rows: number;
  columns: Array<NumericArray | string[]>;
}

export interface RowSource {
  stream: StreamName;
  fields: Field[];
  /** Rows the source will yield, when known without reading the data (else null; see {@link countRows}). */
  rows: number | null;
  /** Counts the rows by reading less than the whole stream, when `rows` is null. */
  count?: () => number;
  blocks(): Generator<Block>;
}

/** Rows [0, rows) in blocks of `step`, each block's columns read by `read(start, end)`. */
function* sliced(rows: number, step: number, read: (start: number, end: number) => Block["columns"]): Generator<Block> {
  for (let s = 0; s < rows; s += step) {
    const e = Math.min(rows, s + step);
    yield { rows: e - s, columns: read(s, e) };
  }
}

/** Elements of one row of a field. */
export const fieldSize = (f: Field) => f.shape.reduce((a, b) => a * b, 1);

/** Bytes per block. */
const BLOCK_BYTES = 4 << 20;

/** What a row source needs to know about the experiment besides the episode. */
export interface RowSourceOptions {
  /** The neuron count, for the dtype of spike neuron ids (as in the file); null when unknown. */
  nNeurons?: number | null;
}

/** A column held in memory: its values as the loader gives them, and the dtype to write. */
interface Column {
  field: Field;
  data: NumericArray | string[];
}

/** Rows [s, e) of a column, in the field's dtype (64-bit integers converted from the loader's float64). */
function take(c: Column, s: number, e: number): NumericArray | string[] {
  const size = fieldSize(c.field);
  if (Array.isArray(c.data)) return c.data.slice(s, e);
  const part = c.data.subarray(s * size, e * size);
  const dtype = c.field.dtype as Dtype;
  if (!isBig(dtype) || part instanceof BigInt64Array || part instanceof BigUint64Array) return part;
  const out = allocate(dtype, part.length) as BigInt64Array | BigUint64Array;
  for (let i = 0; i < part.length; i++) out[i] = BigInt(part[i] as number);
  return out;
}

/** Parallel in-memory columns of `rows` rows, handed out in blocks of about {@link BLOCK_BYTES}. */
function fromColumns(stream: StreamName, rows: number, cols: Column[]): RowSource {
  const rowBytes = cols.reduce((a, c) => a + fieldSize(c.field) * (c.field.dtype === "string" ? 64 : dtypeSize(c.field.dtype)), 0);
  const step = Math.max(1, Math.floor(BLOCK_BYTES / Math.max(1, rowBytes)));
  return {
    stream,
    fields: cols.map((c) => c.field),
    rows,
    blocks: () => sliced(rows, step, (s, e) => cols.map((c) => take(c, s, e))),
  };
}

const scalar = (name: string, dtype: Dtype | "string", data: NumericArray | string[]): Column => ({ field: { name, dtype, shape: [] }, data });

/** A stored variable as a column: one row per entry of its first dimension, in its stored dtype. */
function variable(name: string, a: NdArray): Column {
  return { field: { name, dtype: a.storedDtype ?? a.dtype, shape: a.shape.slice(1) }, data: a.data };
}

/** The row source of `stream` of `episode`, read through the loader. */
export function rowSource(episode: EpisodeData, stream: StreamName, options: RowSourceOptions = {}): RowSource {
  switch (stream) {
    case "spikes": {
      const { timesteps, neuronIds } = episode.getSpikes();
      let maxId = 0;
      for (let i = 0; i < neuronIds.length; i++) if (neuronIds[i] > maxId) maxId = neuronIds[i];
      const n = options.nNeurons;
      const idDtype = n === null || n === undefined ? "uint32" : smallestUnsigned(Math.max(maxId, n - 1, 0));
      const ids = idDtype === "uint32" ? neuronIds : allocate(idDtype, neuronIds.length);
      if (ids !== neuronIds) (ids as Uint8Array | Uint16Array).set(neuronIds);
      return fromColumns("spikes", neuronIds.length, [scalar("timestep", "int64", timesteps), scalar("neuron_id", idDtype, ids)]);
    }
    case "neural_states":
    case "behavior": {
      const series = stream === "neural_states" ? episode.getNeuralStates() : episode.getBehavior();
      const names = Object.keys(series.variables).sort();
      return fromColumns(stream, series.timesteps.length, [
        scalar("timestep", "int64", series.timesteps),
        ...names.map((name) => variable(name, series.variables[name])),
      ]);
    }
    case "rewards": {
      const { timesteps, values } = episode.getRewards();
      return fromColumns("rewards", values.length, [scalar("timestep", "int64", timesteps), scalar("value", "float64", values)]);
    }
    case "weight_changes": {
      const w = episode.getWeightChanges();
      return fromColumns("weight_changes", w.timesteps.length, [
        scalar("timestep", "int64", w.timesteps),
        scalar("synapse_id", "int64", w.synapseIds),
        scalar("source_id", "int64", w.sourceIds),
        scalar("target_id", "int64", w.targetIds),
        scalar("old_weight", "float64", w.oldWeights),
        scalar("new_weight", "float64", w.newWeights),
      ]);
    }
    case "events": {
      const events = episode.getEvents();
      return fromColumns("events", events.length, [
        scalar("timestep", "int64", Float64Array.from(events, (e) => e.timestep)),
        scalar("type", "string", events.map((e) => e.type)),
        // the event's data as JSON text, as stored (`null` when none)
        scalar("data", "string", events.map((e) => JSON.stringify(e.data ?? null))),
      ]);
    }
  }
}

/** Rows of a source: `source.rows` when known, else by reading it once. */
export function countRows(source: RowSource): number {
  if (source.rows !== null) return source.rows;
  if (source.count) return source.count();
  let n = 0;
  for (const b of source.blocks()) n += b.rows;
  return n;
}

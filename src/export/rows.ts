/**
 * Row sources: the streams of one episode as a sequence of row blocks, read from the file in
 * slices (never a whole dataset at once). `snn-export export` writes them as CSV, JSON Lines or
 * .npy; `snn-export plot` filters them.
 */
import { allocate, dtypeSize, type Dtype, type NumericArray } from "../dtypes.js";
import { FormatError } from "../errors.js";
import type { H5Reader } from "../h5/reader.js";

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

/** Bytes read per slice. */
const SLICE_BYTES = 4 << 20;
/** Spikes per block of the spike stream. */
const SPIKES_PER_BLOCK = 1 << 20;

/** The row source of `stream` of the episode group `episodePath` (e.g. `/episodes/episode_0000`). */
export function rowSource(reader: H5Reader, episodePath: string, stream: StreamName): RowSource {
  const g = `${episodePath}/${stream}`;
  switch (stream) {
    case "spikes":
      return reader.kind(`${g}/spike_matrix`) === "dataset" ? denseSpikes(reader, g) : csrSpikes(reader, g);
    case "neural_states":
    case "behavior":
      return series(reader, g, stream);
    case "rewards":
      return columns(reader, g, stream, [["timesteps", "timestep"], ["values", "value"]]);
    case "weight_changes":
      return columns(reader, g, stream, [
        ["timesteps", "timestep"], ["synapse_ids", "synapse_id"], ["source_ids", "source_id"],
        ["target_ids", "target_id"], ["old_weights", "old_weight"], ["new_weights", "new_weight"],
      ]);
    case "events":
      return columns(reader, g, stream, [["timesteps", "timestep"], ["types", "type"], ["data", "data"]]);
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

function exists(reader: H5Reader, path: string): boolean {
  return reader.kind(path) === "dataset";
}

function rowsOf(reader: H5Reader, path: string): number {
  return exists(reader, path) ? reader.info(path).shape[0] ?? 0 : 0;
}

function numericDtype(reader: H5Reader, path: string, fallback: Dtype): Dtype {
  if (!exists(reader, path)) return fallback;
  const d = reader.info(path).dtype;
  if (d === "string") throw new FormatError("INVALID_DATA", `${path} holds strings where numbers were expected`);
  return d;
}

/** Rows [s, e) of a dataset (numeric or string). */
function readAny(reader: H5Reader, path: string, dtype: Dtype | "string", s: number, e: number): NumericArray | string[] {
  return dtype === "string" ? reader.readStringRows(path, s, e) : reader.readRows(path, s, e);
}

/** Parallel 1-D columns of equal length (rewards, weight changes, events). Missing group: no rows. */
function columns(reader: H5Reader, g: string, stream: StreamName, cols: Array<[string, string]>): RowSource {
  const present = cols.filter(([ds]) => exists(reader, `${g}/${ds}`));
  const fields: Field[] = cols.map(([ds, name]) => {
    const p = `${g}/${ds}`;
    const dtype: Dtype | "string" = exists(reader, p)
      ? reader.info(p).dtype
      : ds === "types" || ds === "data" ? "string" : ds.endsWith("weights") || ds === "values" ? "float64" : "int64";
    return { name, dtype, shape: [] };
  });
  // A live file may have columns of different lengths: keep the rows every column has.
  const rows = present.length === cols.length ? Math.min(...cols.map(([ds]) => rowsOf(reader, `${g}/${ds}`))) : 0;
  const rowBytes = fields.reduce((a, f) => a + (f.dtype === "string" ? 64 : dtypeSize(f.dtype)), 0);
  const step = Math.max(1, Math.floor(SLICE_BYTES / rowBytes));
  return {
    stream,
    fields,
    rows,
    blocks: () => sliced(rows, step, (s, e) => cols.map(([ds], i) => readAny(reader, `${g}/${ds}`, fields[i].dtype, s, e))),
  };
}

/** `timesteps` plus every other dataset of the group, one row per kept step (neural states, behaviour). */
function series(reader: H5Reader, g: string, stream: StreamName): RowSource {
  const names = reader.keys(g).filter((k) => k !== "timesteps" && exists(reader, `${g}/${k}`));
  const fields: Field[] = [{ name: "timestep", dtype: numericDtype(reader, `${g}/timesteps`, "int64"), shape: [] }];
  for (const n of names) {
    const info = reader.info(`${g}/${n}`);
    if (info.dtype === "string") continue;
    fields.push({ name: n, dtype: info.dtype, shape: info.shape.slice(1) });
  }
  const paths = [`${g}/timesteps`, ...fields.slice(1).map((f) => `${g}/${f.name}`)];
  const rows = exists(reader, `${g}/timesteps`) ? Math.min(...paths.map((p) => rowsOf(reader, p))) : 0;
  const rowBytes = fields.reduce((a, f) => a + fieldSize(f) * dtypeSize(f.dtype as Dtype), 0);
  const step = Math.max(1, Math.floor(SLICE_BYTES / Math.max(1, rowBytes)));
  return {
    stream,
    fields,
    rows,
    blocks: () => sliced(rows, step, (s, e) => paths.map((p) => reader.readRows(p, s, e))),
  };
}

/** The `csr_time` spikes: per-step `counts` and the `neuron_ids` of every spike; one output row per spike. */
function csrSpikes(reader: H5Reader, g: string): RowSource {
  const tsPath = `${g}/timesteps`;
  const countsPath = `${g}/counts`;
  const idsPath = `${g}/neuron_ids`;
  const tsDtype = numericDtype(reader, tsPath, "int64");
  const idDtype = numericDtype(reader, idsPath, "uint32");
  const fields: Field[] = [
    { name: "timestep", dtype: tsDtype, shape: [] },
    { name: "neuron_id", dtype: idDtype, shape: [] },
  ];
  const steps = Math.min(rowsOf(reader, tsPath), rowsOf(reader, countsPath));
  const nIds = rowsOf(reader, idsPath);
  const stepBlock = Math.max(1, Math.floor(SLICE_BYTES / 16));
  return {
    stream: "spikes",
    fields,
    rows: null,
    count() {
      // The spikes of whole steps that are on disk: what blocks() yields, from `counts` alone.
      let total = 0;
      for (let s = 0; s < steps; s += stepBlock) {
        const counts = reader.readRows(countsPath, s, Math.min(steps, s + stepBlock));
        for (let i = 0; i < counts.length; i++) {
          const c = Number(counts[i]);
          if (total + c > nIds) return total;
          total += c;
        }
      }
      return total;
    },
    *blocks() {
      let k = 0; // next neuron_ids row
      for (let s = 0; s < steps && k < nIds; s += stepBlock) {
        const e = Math.min(steps, s + stepBlock);
        const ts = reader.readRows(tsPath, s, e);
        const counts = reader.readRows(countsPath, s, e);
        let i = 0;
        while (i < e - s && k < nIds) {
          // Steps i..j whose spikes fit one block (at least one step), and are all on disk.
          let j = i;
          let n = 0;
          while (j < e - s) {
            const c = Number(counts[j]);
            if (n > 0 && n + c > SPIKES_PER_BLOCK) break;
            if (k + n + c > nIds) break;
            n += c;
            j++;
          }
          if (j === i) return; // the next step's spikes are not all on disk (live file)
          const ids = reader.readRows(idsPath, k, k + n);
          const times = allocate(tsDtype, n);
          for (let r = i, at = 0; r < j; r++) {
            const c = Number(counts[r]);
            (times as { fill(v: unknown, a: number, b: number): unknown }).fill(ts[r], at, at + c);
            at += c;
          }
          if (n > 0) yield { rows: n, columns: [times, ids] };
          k += n;
          i = j;
        }
      }
    },
  };
}

/** The `standard` layout's dense `[T, N]` spike matrix, one output row per non-zero entry. */
function denseSpikes(reader: H5Reader, g: string): RowSource {
  const tsPath = `${g}/timesteps`;
  const mPath = `${g}/spike_matrix`;
  const tsDtype = numericDtype(reader, tsPath, "int64");
  const [rowsOnDisk, n] = reader.info(mPath).shape;
  const rows = Math.min(rowsOnDisk, rowsOf(reader, tsPath));
  const step = Math.max(1, Math.floor(SLICE_BYTES / Math.max(1, n)));
  return {
    stream: "spikes",
    fields: [
      { name: "timestep", dtype: tsDtype, shape: [] },
      { name: "neuron_id", dtype: "uint32", shape: [] },
    ],
    rows: null,
    *blocks() {
      for (let s = 0; s < rows; s += step) {
        const e = Math.min(rows, s + step);
        const ts = reader.readRows(tsPath, s, e);
        const m = reader.readRows(mPath, s, e);
        let count = 0;
        for (let i = 0; i < m.length; i++) if (m[i] !== 0) count++;
        const times = allocate(tsDtype, count);
        const ids = new Uint32Array(count);
        for (let r = 0, at = 0; r < e - s; r++) {
          for (let c = 0; c < n; c++) {
            if (m[r * n + c] !== 0) {
              (times as unknown as unknown[])[at] = ts[r];
              ids[at++] = c;
            }
          }
        }
        if (count > 0) yield { rows: count, columns: [times, ids] };
      }
    },
  };
}

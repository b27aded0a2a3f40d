import type { NumericArray } from "../dtypes.js";
import type { ProvenanceOptions } from "../provenance/index.js";

/** Options of {@link DataExporter.create}. All optional; defaults in brackets. */
export interface ExporterOptions {
  /** Directory under which `<name>_<YYYYmmdd_HHMMSS>/` is created ["experiments"]. */
  outputBaseDir?: string;
  /** Keep neural state every this many logged steps, the first included [1]. */
  neuralSamplingRate?: number;
  /** Check every call's data (finite numbers, shapes, ranges) [true]. */
  validateData?: boolean;
  /** Chunk compression: "gzip", or "none" / null (no compression) ["gzip"]. */
  compression?: "gzip" | "none" | null;
  /** gzip level 1-9 [4]. */
  compressionLevel?: number;
  /** Rows per HDF5 chunk of the per-step streams [10000]. */
  chunkSize?: number;
  /**
   * Single-writer multiple-reader: the file is written with superblock 3 so that readers may open it
   * in SWMR mode (h5py `swmr=True` + `refresh()`, `ExperimentLoader.open(path, { live: true })`) and
   * see every flush while it grows [false]. Needs engine "ts".
   */
  enableSwmr?: boolean;
  /**
   * All file work (chunk compression, HDF5 structure, I/O) on a worker thread: `log()` only checks
   * and copies; chunks are copied to the thread, which the caller waits for only when more than
   * 32 MiB are queued. A failure on the thread is raised at the next call and at `close()` [false].
   */
  asyncWrite?: boolean;
  /** Allow NaN / ±Infinity in neural state when validating [false]. */
  allowNonFinite?: boolean;
  /** What provenance to capture at create time (runtime, git state, code snapshot); `false` for none [all on]. */
  provenance?: ProvenanceOptions | boolean;
  /**
   * Write engine: "ts" (pure TypeScript, shuffle + gzip via node:zlib) or "h5wasm" (the HDF5 C
   * library compiled to WebAssembly, gzip only) ["ts"]. Both write FORMAT.md files.
   */
  engine?: "ts" | "h5wasm";
  /** Flush after this many logged steps; 0 = no step-based flush [0]. */
  flushEverySteps?: number;
  /** Flush when this many milliseconds have passed since the last flush (checked every 256 steps); 0 = off [1000]. */
  flushIntervalMs?: number;
  /** Timestamp used for the directory name [now]; for reproducible paths in tests. */
  startTime?: Date;
}

/** A numeric array input: a TypedArray or plain numbers (plain numbers are stored as float64). */
export type ArrayInput = NumericArray | number[];

/** An n-dimensional array: flat row-major data plus its shape. */
export interface NdArrayInput {
  data: ArrayInput;
  shape: number[];
}

/** A neural state variable: 1-D per neuron, or n-d as nested arrays or `{ data, shape }`. */
export type VariableInput = ArrayInput | number[][] | NdArrayInput;

/** One timestep handed to `log`. */
export interface StepInput {
  /** Integer timestep; strictly increasing within an episode. */
  timestep: number;
  /** Named per-neuron arrays (e.g. `{ v }`); kept every `neuralSamplingRate` steps. */
  neuralState?: Record<string, VariableInput>;
  /** A 0/1 mask over neurons (Uint8Array, boolean[]) or the ids of the neurons that spiked (Int32Array, Uint32Array, number[]). */
  spikes?: Uint8Array | boolean[] | Int32Array | Uint32Array | Uint16Array | number[];
  /** Named numbers or small arrays, recorded every step. */
  behavior?: Record<string, number | ArrayInput>;
  /** Reward of this step; only non-zero rewards are stored. */
  reward?: number;
}

/** A weight change; give either `synapseId` or `sourceId` + `targetId`. */
export interface WeightChangeInput {
  timestep: number;
  synapseId?: number;
  sourceId?: number;
  targetId?: number;
  oldWeight: number;
  newWeight: number;
}

/** An event at a timestep with free-form JSON data. */
export interface EventInput {
  timestep: number;
  type: string;
  data?: unknown;
}

/** Dense weights: `{ data, shape: [rows, cols] }` or nested rows. */
export interface DenseWeights {
  data: ArrayInput;
  shape: [number, number] | number[];
}
/** COO weights: one entry per connection. */
export interface CooWeights {
  sourceIds: ArrayInput;
  targetIds: ArrayInput;
  values: ArrayInput;
  shape?: [number, number] | number[];
}
/** CSR weights. */
export interface CsrWeights {
  indptr: ArrayInput;
  indices: ArrayInput;
  data: ArrayInput;
  shape: [number, number] | number[];
}
export type WeightsInput = DenseWeights | CooWeights | CsrWeights | number[][];

/** A record of per-item arrays (ids, types, positions, ...). */
export type RecordOfArrays = Record<string, ArrayInput | string[] | boolean[] | number[][] | NdArrayInput>;

/** What `saveNetworkStructure` takes. */
export interface NetworkInput {
  neurons?: RecordOfArrays;
  connections?: RecordOfArrays;
  weights?: WeightsInput;
}

/** What `endEpisode` takes. */
export interface EndEpisodeInput {
  success?: boolean;
  summary?: unknown;
}

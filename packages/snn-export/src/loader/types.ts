/**
 * Output types of the loader. Every numeric result is a TypedArray; the format's 64-bit integer
 * columns (timesteps, ids, counts) come back as Float64Array because their values are below 2^53.
 */
import type { Dtype, NumericArray } from "../dtypes.js";
import type { GitInfo, GitPending } from "../provenance/types.js";

/**
 * An n-dimensional array read from the file: flat row-major `data` plus its `shape`.
 *
 * `dtype` always names the element type of `data`. 64-bit integer data (int64 / uint64) come back
 * exactly: as Float64Array (`dtype` `"float64"`, `storedDtype` the on-disk type) when every value
 * returned is below 2^53 in magnitude, else as the BigInt64Array / BigUint64Array it was stored
 * from (`dtype` `"int64"` / `"uint64"`, no `storedDtype`). The choice is made per returned array
 * (per episode slice for neural states and behaviour): check `dtype` before arithmetic.
 *
 * @example
 * ```ts
 * const { variables } = episode.getNeuralStates(["v"]);
 * const v = variables.v;                     // shape [K, N]
 * const row = v.data.subarray(k * v.shape[1], (k + 1) * v.shape[1]);
 * ```
 */
export interface NdArray {
  /** Flat row-major elements. */
  data: NumericArray;
  /** Dimensions; `[]` for a scalar dataset. */
  shape: number[];
  /** Element type of `data`. */
  dtype: Dtype;
  /** Element type on disk, when it differs from `dtype` (64-bit integers below 2^53 read as float64). */
  storedDtype?: Dtype;
}

/**
 * A compressed sparse row (CSR) matrix as stored in `initial_weights/` and checkpoint CSR groups.
 * Row `r` holds `indices[indptr[r] .. indptr[r+1]]` (columns) and the same span of `data`.
 *
 * @example
 * ```ts
 * const w = loader.getNetworkStructure().weights!;
 * for (let r = 0; r < w.shape[0]; r++)
 *   for (let k = w.indptr[r]; k < w.indptr[r + 1]; k++) console.log(r, w.indices[k], w.data[k]);
 * ```
 */
export interface CsrMatrix {
  indptr: Float64Array;
  indices: NumericArray;
  data: NumericArray;
  /** `[rows, cols]`: rows are source neurons, cols are targets. */
  shape: [number, number];
  /** What the writer was given: `dense`, `coo` or `csr` (`""` if not recorded). */
  sourceFormat: string;
}

/**
 * Per-item records (`neurons/`, `connections/`): numeric fields as {@link NdArray}, string fields
 * as string arrays.
 *
 * @example
 * ```ts
 * const types = loader.getNetworkStructure().neurons.types as string[];
 * ```
 */
export type FieldRecord = Record<string, NdArray | string[]>;

/**
 * `network_structure/` of an experiment.
 *
 * @example
 * ```ts
 * const { nNeurons, weights } = loader.getNetworkStructure();
 * if (weights) console.log(`${weights.data.length} synapses among ${nNeurons} neurons`);
 * ```
 */
export interface NetworkStructure {
  /** `n_neurons` attribute, or null when the writer did not know it. */
  nNeurons: number | null;
  neurons: FieldRecord;
  connections: FieldRecord;
  /** The initial weight matrix, or null when none was saved. */
  weights: CsrMatrix | null;
}

/**
 * Metadata of an experiment: the user's metadata plus the root attributes that describe the run.
 * Other JSON text datasets found under `metadata/` appear under their own names.
 *
 * @example
 * ```ts
 * const meta = loader.getMetadata();
 * console.log(meta.experimentName, meta.status, meta.user);
 * ```
 */
export interface ExperimentMetadata {
  /** Parsed `metadata/user`, or `{}` when absent. */
  user: unknown;
  experimentName: string | null;
  startTime: string | null;
  /** null while the exporter has not closed the file. */
  endTime: string | null;
  /** `closed`; `interrupted` when the writer did not close the file (stored: `open`); the stored value in live mode. */
  status: string | null;
  formatVersion: string | null;
  layout: string | null;
  /** Parsed `exporter_options` root attribute, or `{}` when absent. */
  exporterOptions: unknown;
  /**
   * Parsed `metadata/git`, when git provenance was recorded: the git state, `{ available: false,
   * reason }` when git could not tell, or `{ available: false, reason: "pending", detail }` when the
   * writer stopped (or, in live mode, has not yet flushed) before git answered (FORMAT.md).
   */
  git?: GitInfo | GitPending;
  [name: string]: unknown;
}

/**
 * Attributes of an episode as plain JS values: 64-bit integers become numbers and `success`
 * becomes `true`, `false` or `null` (not given). Unknown attributes are passed through.
 *
 * @example
 * ```ts
 * const { total_reward, success } = loader.getEpisode(0).attrs;
 * ```
 */
export interface EpisodeAttributes {
  episode_id?: number;
  /** `running`, `completed`, `incomplete`; `interrupted` for a `running` episode of a file its writer did not close. */
  status?: string;
  success?: boolean | null;
  total_timesteps?: number;
  total_spikes?: number;
  total_reward?: number;
  first_timestep?: number;
  last_timestep?: number;
  neural_sampling_rate?: number;
  start_time?: string;
  end_time?: string;
  [name: string]: unknown;
}

/**
 * Named per-step variables with the timesteps of their rows (neural states, behaviour).
 *
 * @example
 * ```ts
 * const { timesteps, variables } = episode.getBehavior();
 * const x = variables.x.data;  // x[i] was logged at timesteps[i]
 * ```
 */
export interface TimeSeries {
  timesteps: Float64Array;
  variables: Record<string, NdArray>;
}

/**
 * Spikes of an episode, one entry per spike, in file order (step by step, ascending ids).
 *
 * @example
 * ```ts
 * const { timesteps, neuronIds } = episode.getSpikes();
 * for (let i = 0; i < neuronIds.length; i++) console.log(timesteps[i], neuronIds[i]);
 * ```
 */
export interface SpikeTrain {
  timesteps: Float64Array;
  neuronIds: Uint32Array;
}

/**
 * Non-zero rewards of an episode (every other logged step had reward 0).
 *
 * @example
 * ```ts
 * const { values } = episode.getRewards();
 * const total = values.reduce((a, b) => a + b, 0);
 * ```
 */
export interface Rewards {
  timesteps: Float64Array;
  values: Float64Array;
}

/**
 * Weight changes of an episode, sorted by timestep. Ids are -1 where not given.
 *
 * @example
 * ```ts
 * const wc = episode.getWeightChanges();
 * const delta = wc.newWeights[0] - wc.oldWeights[0];
 * ```
 */
export interface WeightChanges {
  timesteps: Float64Array;
  synapseIds: Float64Array;
  sourceIds: Float64Array;
  targetIds: Float64Array;
  oldWeights: Float64Array;
  newWeights: Float64Array;
}

/**
 * One logged event with its parsed JSON data (`null` when none was given).
 *
 * @example
 * ```ts
 * const resets = episode.getEvents().filter((e) => e.type === "reset");
 * ```
 */
export interface ExperimentEvent {
  timestep: number;
  type: string;
  data: unknown;
}

/**
 * A value stored in a checkpoint or in an episode's `static/` group: an {@link NdArray}, a string
 * array, a {@link CsrMatrix}, or parsed JSON (any value). Narrow it with {@link isNdArray} and
 * {@link isCsrMatrix}.
 *
 * @example
 * ```ts
 * const w = checkpoint.entries.weights;
 * if (isCsrMatrix(w)) console.log(w.shape);
 * ```
 */
export type StoredValue = NdArray | string[] | CsrMatrix | unknown;

/**
 * A checkpoint: its attributes (`created_at`, `episode_count`, ...) and its entries by name.
 *
 * @example
 * ```ts
 * const cp = loader.getCheckpoint("after_training");
 * console.log(cp.attrs.created_at, Object.keys(cp.entries));
 * ```
 */
export interface Checkpoint {
  name: string;
  attrs: Record<string, unknown>;
  entries: Record<string, StoredValue>;
}

/**
 * Options of {@link ExperimentLoader.open}.
 *
 * @example
 * ```ts
 * const loader = await ExperimentLoader.open(dir, { live: true });
 * ```
 */
export interface OpenOptions {
  /**
   * Read a file that an exporter may still be writing (SWMR mode): dataset extents are re-read
   * before every read [false].
   */
  live?: boolean;
}

/**
 * The episode table as columns, one entry per episode (index i: the i-th id of
 * {@link ExperimentLoader.listEpisodes}), for learning curves without opening episodes. Counters
 * are those of the writer's last flush; NaN where a 1.x episode had no such attribute yet.
 *
 * @example
 * ```ts
 * const t = loader.episodes();
 * for (let i = 0; i < t.ids.length; i++) console.log(t.ids[i], t.status[i], t.totalReward[i]);
 * ```
 */
export interface EpisodeTable {
  ids: Float64Array;
  /** As {@link EpisodeAttributes.status}: `running`, `completed`, `incomplete` or `interrupted`. */
  status: string[];
  /** 1 success, 0 failure, -1 not given. */
  success: Int8Array;
  totalTimesteps: Float64Array;
  totalSpikes: Float64Array;
  totalReward: Float64Array;
  firstTimestep: Float64Array;
  lastTimestep: Float64Array;
  neuralSamplingRate: Float64Array;
  /** Seconds since the Unix epoch; NaN when unknown. */
  startTime: Float64Array;
  /** Seconds since the Unix epoch; NaN while the episode runs (or when unknown). */
  endTime: Float64Array;
}

/**
 * Which neurons to keep: a list of ids, or the ids `from` (inclusive) to `to` (exclusive).
 *
 * @example
 * ```ts
 * episode.getSpikes({ neurons: { from: 0, to: 50 } });
 * episode.getSpikes({ neurons: [3, 7, 11] });
 * ```
 */
export type NeuronSelection = ArrayLike<number> | { from: number; to: number };

/**
 * A window of an episode: timesteps `from` (inclusive) to `to` (exclusive), either open-ended.
 * Only the chunks holding the window are read.
 *
 * @example
 * ```ts
 * const sp = episode.getSpikes({ from: 1000, to: 2000, neurons: { from: 0, to: 100 } });
 * ```
 */
export interface TimeWindow {
  from?: number;
  to?: number;
}

/**
 * A window of spikes: time and neurons.
 *
 * @example
 * ```ts
 * episode.getSpikes({ from: 0, to: 500 });
 * ```
 */
export interface SpikeWindow extends TimeWindow {
  neurons?: NeuronSelection;
}

/**
 * A window of neural state: which variables (all by default), time, and neurons (the second
 * dimension of a variable, e.g. `[K, N]` or `[K, N, 2]`).
 *
 * @example
 * ```ts
 * episode.getNeuralStates({ variables: ["v"], from: 100, to: 200, neurons: [0, 1, 2] });
 * ```
 */
export interface StateWindow extends SpikeWindow {
  variables?: string[];
}

/**
 * Blocks of spikes for async iteration: `steps` logged steps per block [10,000], within an
 * optional window.
 *
 * @example
 * ```ts
 * for await (const block of episode.spikeBlocks({ steps: 10_000 })) count += block.neuronIds.length;
 * ```
 */
export interface SpikeBlockOptions extends SpikeWindow {
  steps?: number;
}

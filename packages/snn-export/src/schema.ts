/**
 * The file format in code: every group, dataset and attribute name that the writer and the loader
 * share, with the dtypes of the fixed datasets. FORMAT.md documents the same names; a test checks
 * that every name below appears there.
 *
 * Format 2.0 keeps each stream once for the whole experiment (appended episode after episode) and
 * an episode table with one row per episode naming the rows of every stream it owns, so an episode
 * is a slice, not a subtree. Format 1.x (one group per episode) is still read: see {@link V1}.
 *
 * Not here because it has no name: the checksum of the strings in each global heap collection
 * (FORMAT.md, "Global heap checksums"), an HDF5-level layout kept in src/h5/ts/heap.ts.
 */
import type { Dtype } from "./dtypes.js";

export const FORMAT_NAME = "snn-export";
/** The version this code writes (root attribute `format_version`). */
export const FORMAT_VERSION = "2.0";
/** Major versions the loader reads. */
export const READABLE_MAJORS = [1, 2] as const;

/** Attributes of the root group. */
export const ROOT = {
  formatName: "format_name",
  formatVersion: "format_version",
  layout: "layout",
  experimentName: "experiment_name",
  startTime: "start_time",
  endTime: "end_time",
  status: "status",
  episodeCount: "episode_count",
  exporterOptions: "exporter_options",
  creator: "creator",
} as const;

/** Groups every file has, created with the file. */
export const GROUPS = {
  config: "/config",
  metadata: "/metadata",
  network: "/network_structure",
  checkpoints: "/checkpoints",
  episodes: "/episodes",
} as const;

/** `/config/json`: the merged config as JSON text. */
export const CONFIG_JSON = "/config/json";
/** `/metadata/user`: the merged user metadata as JSON text. */
export const METADATA_USER = "/metadata/user";

/** The network structure group's parts. */
export const NETWORK = {
  group: "/network_structure",
  neurons: "/network_structure/neurons",
  connections: "/network_structure/connections",
  initialWeights: "/network_structure/initial_weights",
  /** Attribute of the group: the neuron count, when known. */
  nNeurons: "n_neurons",
} as const;

/** Attributes of a checkpoint group `/checkpoints/<name>`. */
export const CHECKPOINT_ATTRS = { createdAt: "created_at", episodeCount: "episode_count" } as const;

/**
 * The experiment-wide streams. Rows are appended in the order they are logged, episode after
 * episode; the episode table says which rows belong to which episode.
 */
export const STREAMS = {
  /** int64 `[T]`: the timestep of every logged step. Rows: the episode's `step_rows`. */
  timesteps: "/timesteps",
  spikes: {
    group: "/spikes",
    /** Smallest unsigned int holding the neuron count `[T]`: spikes at each logged step (layout `optimized`). */
    counts: "/spikes/counts",
    /** Smallest unsigned int holding the largest id `[S]`: ids of the spiking neurons, ascending within a step. Rows: `spike_rows`. */
    neuronIds: "/spikes/neuron_ids",
    /** uint8 `[T, N]` (layout `standard`). */
    matrix: "/spikes/spike_matrix",
    /**
     * int64 `[ceil(T / every)]`: the row of `neuron_ids` where step row `k * every` starts (layout
     * `optimized`), so a window of steps finds its spikes by reading one chunk of `counts`.
     */
    idOffsets: "/spikes/id_offsets",
    /** Attribute of `id_offsets`: steps between two entries. */
    every: "every",
    /** Attributes of the group. */
    encoding: "encoding",
    nNeurons: "n_neurons",
  },
  neuralStates: {
    group: "/neural_states",
    /** int64 `[K]`: the timesteps at which neural state was kept. Rows: `state_rows`. */
    timesteps: "/neural_states/timesteps",
  },
  behavior: { group: "/behavior" },
  rewards: {
    group: "/rewards",
    /** int64 `[R]`. Rows: `reward_rows` (layout `optimized`: the non-zero rewards only). */
    timesteps: "/rewards/timesteps",
    /** float64 `[R]`. */
    values: "/rewards/values",
    encoding: "encoding",
  },
  weightChanges: {
    group: "/weight_changes",
    timesteps: "/weight_changes/timesteps",
    synapseIds: "/weight_changes/synapse_ids",
    sourceIds: "/weight_changes/source_ids",
    targetIds: "/weight_changes/target_ids",
    oldWeights: "/weight_changes/old_weights",
    newWeights: "/weight_changes/new_weights",
  },
  events: {
    group: "/events",
    timesteps: "/events/timesteps",
    types: "/events/types",
    data: "/events/data",
  },
} as const;

/**
 * Attribute of a neural state variable or behaviour dataset: the first row of its stream at which
 * it was given. Rows before it are padding (NaN for floats, 0 for integers) and belong to episodes
 * that did not have the variable.
 */
export const FIRST_ROW = "first_row";

/** Spike encodings (attribute `encoding` of `/spikes`). */
export const SPIKE_ENCODING = { optimized: "csr_time", standard: "dense_matrix" } as const;
/** Reward encodings (attribute `encoding` of `/rewards`). */
export const REWARD_ENCODING = { optimized: "sparse_nonzero", standard: "dense" } as const;

/** Weight-change columns: name in the file -> dtype. */
export const WEIGHT_CHANGE_COLUMNS = [
  ["timesteps", "int64"], ["synapse_ids", "int64"], ["source_ids", "int64"],
  ["target_ids", "int64"], ["old_weights", "float64"], ["new_weights", "float64"],
] as const satisfies readonly (readonly [string, Dtype])[];

/** The episode table: `/episodes/<column>`, one row per episode (row i = episode i). */
export const EPISODES = {
  group: "/episodes",
  /** Codes of the `status` column (int8). */
  statusCodes: ["running", "completed", "incomplete"] as const,
  /** Attribute of `/episodes/status`: JSON text of the code -> name map. */
  statusCodesAttr: "codes",
  /** Attribute of `/episodes/start_time` and `end_time`. */
  timeUnitAttr: "units",
  timeUnit: "seconds since 1970-01-01T00:00:00Z",
  summary: "/episodes/summary",
} as const;

export type EpisodeStatusName = (typeof EPISODES.statusCodes)[number];

/** A numeric column of the episode table. `range: true` columns are `[N, 2]`: first row, row after the last. */
export interface EpisodeColumn {
  name: string;
  dtype: Dtype;
  range?: boolean;
}

/** The stream an episode row range refers to, by range column. */
export const RANGE_COLUMNS = {
  /** Rows of `/timesteps`, `/spikes/counts` (or `spike_matrix`), `/behavior/*`. */
  steps: "step_rows",
  /** Rows of `/spikes/neuron_ids`. */
  spikes: "spike_rows",
  /** Rows of `/neural_states/*`. */
  states: "state_rows",
  /** Rows of `/rewards/*`. */
  rewards: "reward_rows",
  /** Rows of `/weight_changes/*`. */
  weightChanges: "weight_change_rows",
  /** Rows of `/events/*`. */
  events: "event_rows",
} as const;

export type RangeName = keyof typeof RANGE_COLUMNS;

/** The numeric columns of the episode table, in file order. `summary` (JSON text) is separate. */
export const EPISODE_COLUMNS: readonly EpisodeColumn[] = [
  { name: "episode_id", dtype: "int64" },
  { name: "status", dtype: "int8" },
  { name: "success", dtype: "int8" },
  { name: "total_timesteps", dtype: "int64" },
  { name: "total_spikes", dtype: "int64" },
  { name: "total_reward", dtype: "float64" },
  { name: "first_timestep", dtype: "int64" },
  { name: "last_timestep", dtype: "int64" },
  { name: "neural_sampling_rate", dtype: "int64" },
  { name: "start_time", dtype: "float64" },
  { name: "end_time", dtype: "float64" },
  ...Object.values(RANGE_COLUMNS).map((name) => ({ name, dtype: "int64" as Dtype, range: true })),
];

/** Rows per chunk of the episode table's columns. */
export const EPISODE_CHUNK_ROWS = 4096;

/** `logStaticEpisodeData`: `/episode_static/episode_NNNN/<name>`, created on first use. */
export const STATIC = {
  group: "/episode_static",
  episode: (id: number): string => `/episode_static/${episodeName(id)}`,
} as const;

/** `episode_NNNN`: at least four digits. */
function episodeName(id: number): string {
  return `episode_${String(id).padStart(4, "0")}`;
}

/** Format 1.x: one group per episode. Read only. */
export const V1 = {
  episodeRe: /^episode_(\d{4,})$/,
  episodePath: (id: number): string => `/episodes/${episodeName(id)}`,
} as const;

/**
 * A sweep file (`snn-export collect`): many runs seen as one dataset. It holds no run data of its
 * own: per run an external link to the run's file, a runs table (one row per run), and the
 * episode table's per-episode columns across runs as virtual datasets (`[runs, max episodes]`).
 */
export const SWEEP = {
  formatName: "snn-export-sweep",
  formatVersion: "1.0",
  /** Root attributes. */
  attrs: {
    formatName: "format_name",
    formatVersion: "format_version",
    updated: "updated_time",
    runCount: "run_count",
    maxEpisodes: "max_episodes",
    /** JSON list of the config keys that have columns (those whose values differ between runs). */
    configKeys: "config_keys",
    /** JSON list of the virtual datasets written (empty when the runs do not all have an episode table). */
    virtual: "virtual_datasets",
  },
  /** `/files/<run name>`: external link to the run file's root group. */
  files: "/files",
  /** The runs table: `/runs/<column>`, one row per run, in the order runs were first collected. */
  runs: "/runs",
  columns: {
    name: "/runs/name",
    path: "/runs/path",
    status: "/runs/status",
    startTime: "/runs/start_time",
    endTime: "/runs/end_time",
    episodes: "/runs/episodes",
    totalSteps: "/runs/total_steps",
    finalReward: "/runs/final_reward",
    /** The run's whole config as JSON text (string column). */
    configJson: "/runs/config_json",
    /** The file's size and modification time when it was read (a closed run unchanged since is not read again). */
    fileSize: "/runs/file_size",
    fileMtime: "/runs/file_mtime",
    /** The run file's `format_version`. */
    formatVersion: "/runs/format_version",
  },
  /** `/runs/config/<key>`: the config keys whose values differ between runs. */
  config: "/runs/config",
  /**
   * Run status values (`status` column): `closed` by its writer; `open` while its writer runs (a
   * live process on this host, else a file written to within the last `staleAfter` seconds);
   * `interrupted` when its writer died; `missing` when a run collected before is no longer there
   * (its row is kept as it was).
   */
  statuses: ["closed", "open", "interrupted", "missing"] as const,
  /** Virtual datasets `/runs/<name>` over the episode table column `/episodes/<source>` of every run. */
  virtual: [
    { name: "episode_reward", source: "total_reward", dtype: "float64", fill: Number.NaN },
    { name: "episode_success", source: "success", dtype: "int8", fill: -2 },
    { name: "episode_steps", source: "total_timesteps", dtype: "int64", fill: -1 },
    { name: "episode_status", source: "status", dtype: "int8", fill: -1 },
  ] as const,
} as const;

export type RunStatus = (typeof SWEEP.statuses)[number];

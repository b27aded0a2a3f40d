/**
 * Format 1.x episodes: one group `episodes/episode_NNNN/` per episode, each stream in its own
 * subgroup. Streams that were never written (no group) give empty results, not errors.
 */
import { setOwn, toUint32, scalarNumber, type Source } from "./read.js";
import type {
  EpisodeAttributes, ExperimentEvent, NdArray, Rewards, SpikeTrain, TimeSeries, WeightChanges,
} from "./types.js";
import { commonLength, takeRows } from "./values.js";
import { decodeCsr, decodeDense, nonZeroRewards, toEvents, type EpisodeBackend, type SeriesName } from "./backend.js";

const NUMERIC_ATTRS = [
  "episode_id", "total_timesteps", "total_spikes", "total_reward",
  "first_timestep", "last_timestep", "neural_sampling_rate",
];

/**
 * A 1.x episode group read stream by stream.
 *
 * @example
 * ```ts
 * const backend = new V1Episode(src, 0, "/episodes/episode_0000");
 * const ts = backend.timesteps();
 * ```
 */
export class V1Episode implements EpisodeBackend {
  readonly staticGroup: string;

  constructor(private readonly src: Source, readonly id: number, readonly path: string) {
    this.staticGroup = `${path}/static`;
  }

  attrs(): EpisodeAttributes {
    return v1Attrs(this.src, this.path);
  }

  timesteps(): Float64Array {
    return this.src.float64(`${this.path}/timesteps`);
  }

  seriesNames(stream: SeriesName): string[] {
    const group = `${this.path}/${stream}`;
    return this.src.keys(group).filter((k) => k !== "timesteps" && this.src.kind(`${group}/${k}`) === "dataset");
  }

  series(stream: SeriesName, names: string[]): TimeSeries {
    const group = `${this.path}/${stream}`;
    const timesteps = this.src.float64(stream === "behavior" ? this.axis(group) : `${group}/timesteps`);
    const read: Record<string, NdArray> = {};
    for (const name of names) setOwn(read, name, this.src.numeric(`${group}/${name}`, true));
    const lengths: Record<string, number> = { timesteps: timesteps.length };
    for (const [name, a] of Object.entries(read)) setOwn(lengths, name, a.shape[0] ?? 1);
    const n = commonLength(lengths, this.src.partial, group);
    const variables: Record<string, NdArray> = {};
    for (const [name, a] of Object.entries(read)) setOwn(variables, name, takeRows(a, n));
    return { timesteps: timesteps.subarray(0, n), variables };
  }

  spikes(): SpikeTrain {
    const group = `${this.path}/spikes`;
    const steps = this.src.float64(this.axis(group));
    const matrix = `${group}/spike_matrix`;
    if (this.src.kind(matrix) === "dataset") {
      const rows = commonLength({ timesteps: steps.length, spike_matrix: this.src.length(matrix) }, this.src.partial, group);
      return decodeDense(this.src, matrix, 0, rows, steps);
    }
    const counts = this.src.float64(`${group}/counts`);
    const idsPath = `${group}/neuron_ids`;
    const ids = this.src.kind(idsPath) === "dataset" ? toUint32(this.src.numeric(idsPath).data, idsPath) : new Uint32Array(0);
    return decodeCsr(steps, counts, ids, this.src.partial, group);
  }

  /**
   * The time axis of a stream whose `timesteps` is a hard link to the episode's (spikes, behavior):
   * read through one name, so that live refreshes never see one object under two names.
   */
  private axis(group: string): string {
    const own = `${group}/timesteps`;
    if (this.src.kind(own) !== "dataset") return own; // no axis: empty
    return this.src.kind(`${this.path}/timesteps`) === "dataset" ? `${this.path}/timesteps` : own;
  }

  rewards(): Rewards {
    const group = `${this.path}/rewards`;
    const timesteps = this.src.float64(`${group}/timesteps`);
    const values = this.src.float64(`${group}/values`);
    const n = commonLength({ timesteps: timesteps.length, values: values.length }, this.src.partial, group);
    if (this.src.attrs(group).encoding !== "dense") return { timesteps: timesteps.subarray(0, n), values: values.subarray(0, n) };
    // standard layout: a reward every step; hand back the non-zero ones like the optimized layout
    return nonZeroRewards(timesteps.subarray(0, n), values.subarray(0, n));
  }

  weightChanges(): WeightChanges {
    const group = `${this.path}/weight_changes`;
    const cols: WeightChanges = {
      timesteps: this.src.float64(`${group}/timesteps`),
      synapseIds: this.src.float64(`${group}/synapse_ids`),
      sourceIds: this.src.float64(`${group}/source_ids`),
      targetIds: this.src.float64(`${group}/target_ids`),
      oldWeights: this.src.float64(`${group}/old_weights`),
      newWeights: this.src.float64(`${group}/new_weights`),
    };
    if (this.src.kind(group) !== "group") return cols;
    const lengths = Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, v.length]));
    const n = commonLength(lengths, this.src.partial, group);
    const out = {} as WeightChanges;
    for (const [k, v] of Object.entries(cols)) out[k as keyof WeightChanges] = v.subarray(0, n);
    return out;
  }

  events(): ExperimentEvent[] {
    const group = `${this.path}/events`;
    const dataPath = `${group}/data`;
    const data = this.src.kind(dataPath) === "dataset" ? this.src.strings(dataPath) : null;
    return toEvents(this.src.float64(`${group}/timesteps`), this.src.strings(`${group}/types`), data, this.src.partial, group);
  }

  summary(): unknown {
    return this.src.json(`${this.path}/summary`, null);
  }
}

/**
 * The attributes of a 1.x episode group as plain JS: 64-bit integers as numbers, `success` as
 * `true` / `false` / `null`, and `running` reported as `interrupted` in a file its writer did not
 * close (opened without `live`).
 *
 * @example
 * ```ts
 * const { status, total_reward } = v1Attrs(src, "/episodes/episode_0000");
 * ```
 */
export function v1Attrs(src: Source, path: string): EpisodeAttributes {
  const out: EpisodeAttributes = src.attrs(path);
  for (const key of NUMERIC_ATTRS) {
    const n = scalarNumber(out[key]);
    if (n !== undefined) out[key] = n;
  }
  if ("success" in out) {
    const s = scalarNumber(out.success);
    out.success = s === undefined || s < 0 ? null : s > 0;
  }
  // the writer died while this episode was open: on disk it still says "running"
  if (out.status === "running" && src.interrupted) out.status = "interrupted";
  return out;
}

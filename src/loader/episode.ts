/**
 * One episode of an experiment file (`episodes/episode_NNNN/`), read stream by stream.
 * Streams that were never written (no group) give empty results, not errors.
 */
import { ValidationError } from "../errors.js";
import { parseJson, scalarNumber, toUint32, type Source } from "./read.js";
import type {
  EpisodeAttributes, ExperimentEvent, NdArray, Rewards, SpikeTrain, StoredValue, TimeSeries, WeightChanges,
} from "./types.js";
import { commonLength, readStored, takeRows } from "./values.js";

const NUMERIC_ATTRS = [
  "episode_id", "total_timesteps", "total_spikes", "total_reward",
  "first_timestep", "last_timestep", "neural_sampling_rate",
];

/**
 * An episode of an open experiment. Get one from {@link ExperimentLoader.getEpisode}; it reads
 * from the loader's file, so use it before the loader is closed.
 *
 * @example
 * ```ts
 * const ep = loader.getEpisode(0);
 * const { timesteps, neuronIds } = ep.getSpikes();
 * console.log(ep.attrs.total_spikes === neuronIds.length);
 * ```
 */
export class EpisodeData {
  /** Episode id (the `NNNN` of `episode_NNNN`). */
  readonly id: number;
  /** HDF5 path of the episode group. */
  readonly path: string;
  private readonly src: Source;

  /** @internal Created by ExperimentLoader. */
  constructor(src: Source, id: number, path: string) {
    this.src = src;
    this.id = id;
    this.path = path;
  }

  /**
   * The episode attributes as plain JS: 64-bit integers as numbers, `success` as
   * `true` / `false` / `null` (not given). Re-read on every access. In a file whose writer did
   * not close it (opened without `live`), an episode stored as `running` has `status`
   * `"interrupted"`; its counters are those of the last flush.
   *
   * @example
   * ```ts
   * const { status, success, total_reward } = episode.attrs;
   * ```
   */
  get attrs(): EpisodeAttributes {
    const out: EpisodeAttributes = this.src.attrs(this.path);
    for (const key of NUMERIC_ATTRS) {
      const n = scalarNumber(out[key]);
      if (n !== undefined) out[key] = n;
    }
    if ("success" in out) {
      const s = scalarNumber(out.success);
      out.success = s === undefined || s < 0 ? null : s > 0;
    }
    // the writer died while this episode was open: on disk it still says "running"
    if (out.status === "running" && this.src.interrupted) out.status = "interrupted";
    return out;
  }

  /**
   * The timestep of every logged step (empty when none).
   *
   * @example
   * ```ts
   * const ts = episode.getTimesteps();
   * console.log(`steps ${ts[0]}..${ts[ts.length - 1]}`);
   * ```
   */
  getTimesteps(): Float64Array {
    return this.src.float64(`${this.path}/timesteps`);
  }

  /**
   * Neural state variables kept every `neural_sampling_rate` steps: `variables[name]` has shape
   * `[K, ...]`, one row per entry of `timesteps`. `names` selects variables (all by default); an
   * unknown name is a ValidationError `NOT_FOUND` listing the stored ones.
   *
   * @example
   * ```ts
   * const { timesteps, variables } = episode.getNeuralStates(["v"]);
   * const v = variables.v; // shape [timesteps.length, nNeurons]
   * ```
   */
  getNeuralStates(names?: string[]): TimeSeries {
    return this.readSeries("neural_states", names);
  }

  /**
   * Behaviour variables, one row per logged step (`[T]` or `[T, k]` each).
   *
   * @example
   * ```ts
   * const { timesteps, variables } = episode.getBehavior();
   * console.log(variables.position?.shape);
   * ```
   */
  getBehavior(): TimeSeries {
    return this.readSeries("behavior");
  }

  private readSeries(stream: string, names?: string[]): TimeSeries {
    const group = `${this.path}/${stream}`;
    const stored = this.src.keys(group).filter((k) => k !== "timesteps" && this.src.kind(`${group}/${k}`) === "dataset");
    const wanted = names ?? stored;
    const missing = wanted.filter((n) => !stored.includes(n));
    if (missing.length) {
      throw new ValidationError(
        "NOT_FOUND",
        `episode ${this.id} has no ${stream} variable ${missing.map((m) => JSON.stringify(m)).join(", ")}; ` +
          `stored: ${stored.length ? stored.join(", ") : "none"}`,
      );
    }
    const timesteps = this.src.float64(stream === "behavior" ? this.axis(group) : `${group}/timesteps`);
    const read: Record<string, NdArray> = {};
    for (const name of wanted) read[name] = this.src.numeric(`${group}/${name}`);
    const lengths: Record<string, number> = { timesteps: timesteps.length };
    for (const [name, a] of Object.entries(read)) lengths[name] = a.shape[0] ?? 1;
    const n = commonLength(lengths, this.src.partial, group);
    const variables: Record<string, NdArray> = {};
    for (const [name, a] of Object.entries(read)) variables[name] = takeRows(a, n);
    return { timesteps: timesteps.subarray(0, n), variables };
  }

  /**
   * Every spike with its timestep, decoded from the `csr_time` encoding
   * (per-spike timestep = each step's timestep repeated `counts` times).
   *
   * @example
   * ```ts
   * const { timesteps, neuronIds } = episode.getSpikes();
   * const firstSpikeOf7 = timesteps[neuronIds.indexOf(7)];
   * ```
   */
  getSpikes(): SpikeTrain {
    const group = `${this.path}/spikes`;
    if (this.src.kind(`${group}/spike_matrix`) === "dataset") return this.denseSpikes(group);
    const steps = this.src.float64(this.axis(group));
    const counts = this.src.float64(`${group}/counts`);
    const idsPath = `${group}/neuron_ids`;
    const ids = this.src.kind(idsPath) === "dataset" ? toUint32(this.src.numeric(idsPath).data, idsPath) : new Uint32Array(0);
    const rows = commonLength({ timesteps: steps.length, counts: counts.length }, this.src.partial, group);
    let total = 0;
    for (let i = 0; i < rows; i++) total += counts[i];
    let usable = rows;
    if (total !== ids.length) {
      commonLength({ "sum of counts": total, neuron_ids: ids.length }, this.src.partial, group);
      // Live mode: keep the steps whose spikes are all on disk.
      for (total = 0, usable = 0; usable < rows && total + counts[usable] <= ids.length; usable++) total += counts[usable];
    }
    const timesteps = new Float64Array(total);
    for (let i = 0, k = 0; i < usable; i++) {
      timesteps.fill(steps[i], k, k + counts[i]);
      k += counts[i];
    }
    return { timesteps, neuronIds: ids.subarray(0, total) };
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

  /** Standard layout: decode the dense [T, N] uint8 spike matrix slice by slice. */
  private denseSpikes(group: string): SpikeTrain {
    const path = `${group}/spike_matrix`;
    const steps = this.src.float64(this.axis(group));
    const [rowsOnDisk, n] = this.src.info(path).shape;
    const rows = commonLength({ timesteps: steps.length, spike_matrix: rowsOnDisk }, this.src.partial, group);
    const ts: number[] = [];
    const ids: number[] = [];
    const sliceRows = Math.max(1, Math.floor((4 << 20) / Math.max(1, n)));
    for (let r0 = 0; r0 < rows; r0 += sliceRows) {
      const r1 = Math.min(rows, r0 + sliceRows);
      const block = this.src.rows(path, r0, r1);
      for (let r = r0; r < r1; r++) {
        const base = (r - r0) * n;
        for (let k = 0; k < n; k++) if (block[base + k] !== 0) { ts.push(steps[r]); ids.push(k); }
      }
    }
    return { timesteps: Float64Array.from(ts), neuronIds: Uint32Array.from(ids) };
  }

  /**
   * The non-zero rewards and their timesteps.
   *
   * @example
   * ```ts
   * const { timesteps, values } = episode.getRewards();
   * ```
   */
  getRewards(): Rewards {
    const group = `${this.path}/rewards`;
    const timesteps = this.src.float64(`${group}/timesteps`);
    const values = this.src.float64(`${group}/values`);
    const n = commonLength({ timesteps: timesteps.length, values: values.length }, this.src.partial, group);
    if (this.src.attrs(group).encoding !== "dense") return { timesteps: timesteps.subarray(0, n), values: values.subarray(0, n) };
    // standard layout: a reward every step; hand back the non-zero ones like the optimized layout
    const keep: number[] = [];
    for (let i = 0; i < n; i++) if (values[i] !== 0) keep.push(i);
    return { timesteps: Float64Array.from(keep, (i) => timesteps[i]), values: Float64Array.from(keep, (i) => values[i]) };
  }

  /**
   * The weight changes, sorted by timestep; ids are -1 where not given.
   *
   * @example
   * ```ts
   * const wc = episode.getWeightChanges();
   * for (let i = 0; i < wc.timesteps.length; i++) console.log(wc.synapseIds[i], wc.newWeights[i]);
   * ```
   */
  getWeightChanges(): WeightChanges {
    const group = `${this.path}/weight_changes`;
    const cols = {
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

  /**
   * The events with their parsed JSON data (`null` when none was given).
   *
   * @example
   * ```ts
   * for (const e of episode.getEvents()) console.log(e.timestep, e.type, e.data);
   * ```
   */
  getEvents(): ExperimentEvent[] {
    const group = `${this.path}/events`;
    const timesteps = this.src.float64(`${group}/timesteps`);
    const types = this.src.strings(`${group}/types`);
    const dataPath = `${group}/data`;
    const hasData = this.src.kind(dataPath) === "dataset";
    const data = hasData ? this.src.strings(dataPath) : [];
    const lengths: Record<string, number> = { timesteps: timesteps.length, types: types.length };
    if (hasData) lengths.data = data.length;
    const n = commonLength(lengths, this.src.partial, group);
    const out: ExperimentEvent[] = [];
    for (let i = 0; i < n; i++) {
      out.push({ timestep: timesteps[i], type: types[i], data: hasData ? parseJson(data[i], `${dataPath}[${i}]`) : null });
    }
    return out;
  }

  /**
   * The summary given when the episode ended, parsed from JSON; null when none.
   *
   * @example
   * ```ts
   * const summary = episode.getSummary() as { accuracy?: number } | null;
   * ```
   */
  getSummary(): unknown {
    return this.src.json(`${this.path}/summary`, null);
  }

  /**
   * Names of the entries of the episode's `static/` group.
   *
   * @example
   * ```ts
   * for (const name of episode.listStaticData()) console.log(name, episode.getStaticData(name));
   * ```
   */
  listStaticData(): string[] {
    return this.src.keys(`${this.path}/static`);
  }

  /**
   * One static entry: an {@link NdArray} for array data, parsed JSON for anything else. An
   * unknown name is a ValidationError `NOT_FOUND` listing the stored ones.
   *
   * @example
   * ```ts
   * const layout = episode.getStaticData("arena") as { width: number };
   * ```
   */
  getStaticData(name: string): StoredValue {
    const stored = this.listStaticData();
    if (!stored.includes(name)) {
      throw new ValidationError(
        "NOT_FOUND",
        `episode ${this.id} has no static data ${JSON.stringify(name)}; stored: ${stored.length ? stored.join(", ") : "none"}`,
      );
    }
    return readStored(this.src, `${this.path}/static/${name}`);
  }
}

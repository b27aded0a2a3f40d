/**
 * One episode of an experiment file, read stream by stream through the backend of the file's
 * format version (1.x: an episode group; 2.x: slices of the experiment-wide streams). Streams
 * that were never written give empty results, not errors.
 */
import { ValidationError } from "../errors.js";
import type { EpisodeBackend, SeriesName } from "./backend.js";
import type { Source } from "./read.js";
import type {
  EpisodeAttributes, ExperimentEvent, Rewards, SpikeBlockOptions, SpikeTrain, SpikeWindow, StateWindow, StoredValue, TimeSeries, TimeWindow, WeightChanges,
} from "./types.js";
import { readStored } from "./values.js";
import { neuronFilter, selectNeurons, selectSpikes, seriesInTime, spikesInTime, windowBounds } from "./window.js";

/**
 * An episode of an open experiment. Get one from {@link ExperimentLoader.getEpisode}; it reads
 * from the loader's file, so use it before the loader is closed. Results are the same for a 1.x
 * and a 2.x file holding the same logged data.
 *
 * @example
 * ```ts
 * const ep = loader.getEpisode(0);
 * const { timesteps, neuronIds } = ep.getSpikes();
 * console.log(ep.attrs.total_spikes === neuronIds.length);
 * ```
 */
export class EpisodeData {
  /** Episode id (the `NNNN` of `episode_NNNN`; in 2.x files its row of the episode table). */
  readonly id: number;
  /**
   * HDF5 path of the episode: its group in 1.x files; in 2.x files the episode table group
   * (`/episodes`), of which the episode is row {@link EpisodeData.id}.
   */
  readonly path: string;
  private readonly src: Source;
  private readonly backend: EpisodeBackend;

  /** @internal Created by ExperimentLoader. */
  constructor(src: Source, backend: EpisodeBackend) {
    this.src = src;
    this.backend = backend;
    this.id = backend.id;
    this.path = backend.path;
  }

  /**
   * The episode attributes as plain JS: 64-bit integers as numbers, `success` as
   * `true` / `false` / `null` (not given). Re-read on every access (2.x: from the episode table
   * read when the file was opened; `end_time` is absent while the episode runs). In a file whose writer did
   * not close it (opened without `live`), an episode stored as `running` has `status`
   * `"interrupted"`; its counters are those of the last flush.
   *
   * @example
   * ```ts
   * const { status, success, total_reward } = episode.attrs;
   * ```
   */
  get attrs(): EpisodeAttributes {
    return this.backend.attrs();
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
    return this.backend.timesteps();
  }

  /**
   * Neural state variables kept every `neural_sampling_rate` steps: `variables[name]` has shape
   * `[K, ...]`, one row per entry of `timesteps`. `names` selects variables (all by default); an
   * unknown name is a ValidationError `NOT_FOUND` listing the stored ones. A {@link StateWindow}
   * selects variables, a time window (`from` inclusive, `to` exclusive) and neurons (the second
   * dimension); only the chunks of the window are read.
   *
   * @example
   * ```ts
   * const { timesteps, variables } = episode.getNeuralStates(["v"]);
   * const v = variables.v; // shape [timesteps.length, nNeurons]
   * const part = episode.getNeuralStates({ variables: ["v"], from: 1000, to: 2000, neurons: { from: 0, to: 10 } });
   * ```
   */
  getNeuralStates(names?: string[] | StateWindow): TimeSeries {
    if (names === undefined || Array.isArray(names)) return this.readSeries("neural_states", names);
    const w = names;
    if (w.variables !== undefined && !Array.isArray(w.variables)) throw new ValidationError("INVALID_DATA", "getNeuralStates({ variables }): variables must be an array of names");
    return selectNeurons(this.readSeries("neural_states", w.variables, w), w.neurons);
  }

  /**
   * Behaviour variables, one row per logged step (`[T]` or `[T, k]` each); with a window, the
   * steps with timesteps in `[from, to)` only.
   *
   * @example
   * ```ts
   * const { timesteps, variables } = episode.getBehavior();
   * const firstSecond = episode.getBehavior({ from: 0, to: 1000 });
   * console.log(variables.position?.shape);
   * ```
   */
  getBehavior(window?: TimeWindow): TimeSeries {
    return this.readSeries("behavior", undefined, window);
  }

  private readSeries(stream: SeriesName, names?: string[], window?: TimeWindow): TimeSeries {
    const stored = this.backend.seriesNames(stream);
    const wanted = names ?? stored;
    const missing = wanted.filter((n) => !stored.includes(n));
    if (missing.length) {
      throw new ValidationError(
        "NOT_FOUND",
        `episode ${this.id} has no ${stream} variable ${missing.map((m) => JSON.stringify(m)).join(", ")}; ` +
          `stored: ${stored.length ? stored.join(", ") : "none"}`,
      );
    }
    const { from, to, whole } = windowBounds(window);
    if (whole) return this.backend.series(stream, wanted);
    if (this.backend.seriesWindow) return this.backend.seriesWindow(stream, wanted, from, to);
    return seriesInTime(this.backend.series(stream, wanted), from, to);
  }

  /**
   * Every spike with its timestep, decoded from the `csr_time` encoding (per-spike timestep =
   * each step's timestep repeated `counts` times) or, layout `standard`, the dense spike matrix.
   * A {@link SpikeWindow} keeps the steps with timesteps in `[from, to)` and the selected neurons;
   * only the chunks of the window are read (format 2.x).
   *
   * @example
   * ```ts
   * const { timesteps, neuronIds } = episode.getSpikes();
   * const window = episode.getSpikes({ from: 5000, to: 6000, neurons: { from: 0, to: 100 } });
   * const firstSpikeOf7 = timesteps[neuronIds.indexOf(7)];
   * ```
   */
  getSpikes(window?: SpikeWindow): SpikeTrain {
    const { from, to, whole } = windowBounds(window);
    const keep = neuronFilter(window?.neurons);
    if (whole) return selectSpikes(this.backend.spikes(), keep);
    const sp = this.backend.spikesWindow ? this.backend.spikesWindow(from, to) : spikesInTime(this.backend.spikes(), from, to);
    return selectSpikes(sp, keep);
  }

  /**
   * The spikes in blocks of `steps` logged steps (10,000 by default), each read when the loop asks
   * for it: memory stays bounded whatever the episode's length. Takes the window of
   * {@link getSpikes} too.
   *
   * @example
   * ```ts
   * let n = 0;
   * for await (const block of episode.spikeBlocks({ steps: 10_000 })) n += block.neuronIds.length;
   * ```
   */
  async *spikeBlocks(options: SpikeBlockOptions = {}): AsyncGenerator<SpikeTrain> {
    const steps = options.steps ?? 10_000;
    if (!Number.isSafeInteger(steps) || steps < 1) throw new ValidationError("INVALID_DATA", `spikeBlocks(): steps must be a positive integer, got ${JSON.stringify(steps)}`);
    const { from, to } = windowBounds(options);
    const keep = neuronFilter(options.neurons);
    if (this.backend.spikeBlocks) {
      for (const block of this.backend.spikeBlocks(steps, from, to)) yield selectSpikes(block, keep);
      return;
    }
    // 1.x: the episode's spikes decoded once, handed out by steps
    const all = spikesInTime(this.backend.spikes(), from, to);
    const axis = this.backend.timesteps().filter((t) => t >= from && t < to);
    for (let i = 0; i < axis.length; i += steps) {
      const lo = axis[i];
      const hi = i + steps < axis.length ? axis[i + steps] : Infinity;
      yield selectSpikes(spikesInTime(all, lo, hi), keep);
    }
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
    return this.backend.rewards();
  }

  /**
   * The weight changes, sorted by timestep (stable: changes at one timestep in the order logged);
   * ids are -1 where not given. (A 1.x episode that was open when its writer died: in the order
   * logged, as stored, as before.)
   *
   * @example
   * ```ts
   * const wc = episode.getWeightChanges();
   * for (let i = 0; i < wc.timesteps.length; i++) console.log(wc.synapseIds[i], wc.newWeights[i]);
   * ```
   */
  getWeightChanges(): WeightChanges {
    return this.backend.weightChanges();
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
    return this.backend.events();
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
    return this.backend.summary();
  }

  /**
   * Names of the episode's static entries (`logStaticEpisodeData`; 1.x: its `static/` group, 2.x:
   * `/episode_static/episode_NNNN/`).
   *
   * @example
   * ```ts
   * for (const name of episode.listStaticData()) console.log(name, episode.getStaticData(name));
   * ```
   */
  listStaticData(): string[] {
    return this.src.keys(this.backend.staticGroup);
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
    return readStored(this.src, `${this.backend.staticGroup}/${name}`);
  }
}

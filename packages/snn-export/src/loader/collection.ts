/**
 * ExperimentCollection: many runs (a sweep) as one object — from a sweep file written by
 * `snn-export collect`, or straight from directories of runs.
 */
import { statSync } from "node:fs";
import { FormatError, StateError } from "../errors.js";
import { EPISODE_COLUMNS } from "../schema.js";
import { ExperimentLoader } from "./experiment.js";
import { findRunFiles, readEpisodeColumns, readRun, type ReadRunOptions } from "./runs.js";
import { readSweepTable, runFilePath, type RunRow } from "./sweep-table.js";
import type { EpisodeTable } from "./types.js";

/** A run of a collection: its row of the runs table and its file's absolute path. */
export interface RunInfo extends RunRow {
  /** Absolute path of the run's `experiment_data.h5`. */
  file: string;
  /** Position in the collection it was listed from (0-based). */
  index: number;
}

/** A numeric column of the episode table, by its name in the file (`total_reward`) or in {@link EpisodeTable} (`totalReward`). */
export type EpisodeColumnName = Exclude<keyof EpisodeTable, "status"> | (typeof EPISODE_COLUMNS)[number]["name"];

const TABLE_KEYS: Record<string, keyof EpisodeTable> = {
  episode_id: "ids", success: "success", total_timesteps: "totalTimesteps", total_spikes: "totalSpikes",
  total_reward: "totalReward", first_timestep: "firstTimestep", last_timestep: "lastTimestep",
  neural_sampling_rate: "neuralSamplingRate", start_time: "startTime", end_time: "endTime",
};

/** A filter on config values: every key must equal (or, for an array, be one of) the given value. */
export type ConfigFilter = Record<string, unknown> | ((config: Record<string, unknown>, run: RunInfo) => boolean);

function matches(config: Record<string, unknown>, where: Record<string, unknown>): boolean {
  for (const [k, want] of Object.entries(where)) {
    if (!Object.hasOwn(config, k)) return false;
    const have = JSON.stringify(config[k]);
    const options = Array.isArray(want) ? want : [want];
    if (!options.some((o) => JSON.stringify(o) === have)) return false;
  }
  return true;
}

/** Options of {@link ExperimentCollection.open}. */
export type CollectionOptions = ReadRunOptions;

/**
 * Many runs as one object: list them, filter them by config values, open one (an
 * {@link ExperimentLoader}, when asked), read one episode-table column across all of them.
 *
 * @example
 * ```ts
 * const sweep = await ExperimentCollection.open("experiments/sweep/sweep.h5");
 * const fast = sweep.filter({ learning_rate: 0.1 });
 * const { runs, values } = await fast.column("total_reward"); // values[i]: run i's reward per episode
 * await using loader = await sweep.openRun(0);
 * ```
 */
export class ExperimentCollection {
  private constructor(
    /** The sweep file it was opened from, or null when opened from directories. */
    readonly source: string | null,
    private readonly list: RunInfo[],
  ) {}

  /**
   * Opens a sweep file (`sweep.h5` of `snn-export collect`: reads only its runs table), or, given
   * directories, `.h5` run files or globs, reads each run's summary from its own file.
   */
  static async open(sweepOrRuns: string | string[], options: CollectionOptions = {}): Promise<ExperimentCollection> {
    const inputs = Array.isArray(sweepOrRuns) ? sweepOrRuns : [sweepOrRuns];
    if (inputs.length === 1 && /\.h5$/i.test(inputs[0]) && statSync(inputs[0], { throwIfNoEntry: false })?.isFile()) {
      try {
        const t = await readSweepTable(inputs[0]);
        return new ExperimentCollection(t.file, t.rows.map((r, index) => ({ ...r, file: runFilePath(t.file, r), index })));
      } catch (err) {
        // a run file given alone: a collection of one
        if (!(err instanceof FormatError && err.code === "NOT_SNN_EXPORT")) throw err;
      }
    }
    const rows: RunInfo[] = [];
    for (const file of findRunFiles(inputs)) {
      const r = await readRun(file, options);
      rows.push({ ...r, file, index: rows.length });
    }
    return new ExperimentCollection(null, rows);
  }

  /** Number of runs. */
  get size(): number {
    return this.list.length;
  }

  /** The runs, in table order. */
  runs(): RunInfo[] {
    return this.list.slice();
  }

  /** The distinct values of a config key over the runs (in first-seen order; runs without it left out). */
  configValues(key: string): unknown[] {
    const seen = new Map<string, unknown>();
    for (const r of this.list) if (Object.hasOwn(r.config, key)) seen.set(JSON.stringify(r.config[key]), r.config[key]);
    return [...seen.values()];
  }

  /**
   * The runs whose config matches: `{ lr: 0.1 }` (equal), `{ lr: [0.1, 0.2] }` (one of), or a
   * predicate. Returns a new collection (indexes renumbered from 0).
   */
  filter(where: ConfigFilter): ExperimentCollection {
    const keep = this.list.filter((r) => (typeof where === "function" ? where(r.config, r) : matches(r.config, where)));
    return new ExperimentCollection(this.source, keep.map((r, index) => ({ ...r, index })));
  }

  /** The runs grouped by the value of a config key (JSON text of the value -> runs); runs without the key under `"undefined"`. */
  groupBy(key: string): Map<string, RunInfo[]> {
    const groups = new Map<string, RunInfo[]>();
    for (const r of this.list) {
      const k = Object.hasOwn(r.config, key) ? JSON.stringify(r.config[key]) : "undefined";
      let g = groups.get(k);
      if (!g) groups.set(k, (g = []));
      g.push(r);
    }
    return groups;
  }

  private run(which: number | string): RunInfo {
    const r = typeof which === "number" ? this.list[which] : this.list.find((x) => x.name === which);
    if (!r) throw new StateError("NOT_FOUND", `no run ${JSON.stringify(which)} in this collection of ${this.list.length} runs`);
    return r;
  }

  /** Opens one run's file (by position or name): the caller closes the loader. */
  async openRun(which: number | string): Promise<ExperimentLoader> {
    return ExperimentLoader.open(this.run(which).file);
  }

  /**
   * One numeric column of the episode table (`total_reward`, `success`, `total_timesteps`, …)
   * for every run, read from the runs' own files (a missing run gives an empty array).
   */
  async column(name: EpisodeColumnName): Promise<{ runs: RunInfo[]; values: Float64Array[] }> {
    const key = (TABLE_KEYS[name] ?? name) as keyof EpisodeTable;
    if (key === "status" || !Object.values(TABLE_KEYS).includes(key)) {
      throw new StateError("INVALID_DATA", `unknown episode column ${JSON.stringify(name)}; columns: ${Object.keys(TABLE_KEYS).join(", ")}`);
    }
    const values: Float64Array[] = [];
    for (const r of this.list) {
      if (r.status === "missing") {
        values.push(new Float64Array(0));
        continue;
      }
      const fileColumn = Object.keys(TABLE_KEYS).find((k) => TABLE_KEYS[k] === key)!;
      const direct = await readEpisodeColumns(r.file, [fileColumn]);
      if (direct) {
        direct.reader.close();
        values.push(direct.columns[0]);
        continue;
      }
      const loader = await ExperimentLoader.open(r.file);
      try {
        const col = loader.episodes()[key] as ArrayLike<number>;
        values.push(col instanceof Float64Array ? col : Float64Array.from(col));
      } finally {
        loader.close();
      }
    }
    return { runs: this.runs(), values };
  }
}

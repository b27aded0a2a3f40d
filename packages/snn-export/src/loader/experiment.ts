/**
 * {@link ExperimentLoader}: opens an snn-export experiment file read-only and reads its parts.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { FormatError, StorageError, ValidationError } from "../errors.js";
import { H5Reader } from "../h5/reader.js";
import {
  CHECKPOINT_ATTRS, CONFIG_JSON, FORMAT_NAME, GROUPS, METADATA_USER, NETWORK, READABLE_MAJORS, ROOT, SWEEP,
} from "../schema.js";
import { openCatalog, type EpisodeCatalog } from "./catalog.js";
import { EpisodeData } from "./episode.js";
import { parseJson, scalarNumber, setOwn, Source } from "./read.js";
import type { Checkpoint, EpisodeTable, ExperimentMetadata, NetworkStructure, OpenOptions, StoredValue } from "./types.js";
import { readCsr, readFieldRecord, readStored } from "./values.js";
import { readCodeFile, readCodeIndex, type CodeIndexEntry } from "../provenance/index.js";

/** File name of the HDF5 file inside an experiment directory. */
export const EXPERIMENT_FILE = "experiment_data.h5";

/**
 * Reads an snn-export experiment. Open with {@link ExperimentLoader.open}; close with
 * {@link ExperimentLoader.close} or a `using` / `await using` declaration.
 *
 * @example
 * ```ts
 * await using loader = await ExperimentLoader.open("experiments/run_20240101_120000");
 * console.log(loader.getMetadata().experimentName, loader.episodeCount);
 * const rewards = loader.getEpisode(0).getRewards();
 * ```
 */
export class ExperimentLoader implements Disposable, AsyncDisposable {
  /** Path of the HDF5 file being read. */
  readonly filePath: string;
  private readonly src: Source;
  private readonly catalog: EpisodeCatalog;

  private constructor(filePath: string, src: Source, catalog: EpisodeCatalog) {
    this.filePath = filePath;
    this.src = src;
    this.catalog = catalog;
  }

  /**
   * Opens an experiment directory (holding `experiment_data.h5`) or the `.h5` file itself.
   * Errors: StorageError `NOT_FOUND` (no such path / no file in the directory), FormatError
   * `NOT_HDF5`, `NOT_SNN_EXPORT` (no `format_name` = `snn-export`), `UNSUPPORTED_VERSION`
   * (`format_version` major is not 1 or 2), `INVALID_DATA` (a 2.x episode table without some of
   * its columns). A 2.x file's episode table is read here, once, and kept; a 1.x file's episode
   * groups are listed here, once. `live: true` opens in SWMR read mode for files still being
   * written (episodes started after the open appear when the file is opened again). A file its
   * writer did not close (root `status` not `closed`, e.g. the writer was killed) opens like any
   * other and gives everything up to the writer's last flush: streams are cut to the rows present
   * (an episode's steps to those present in all its step-aligned streams), the episode that was
   * open reports `status` `"interrupted"`, and `getMetadata().status` is `"interrupted"`.
   *
   * @example
   * ```ts
   * const loader = await ExperimentLoader.open("experiments/run_20240101_120000");
   * try { console.log(loader.listEpisodes()); } finally { loader.close(); }
   * ```
   */
  static async open(dirOrFile: string, options: OpenOptions = {}): Promise<ExperimentLoader> {
    const filePath = resolveExperimentFile(dirOrFile);
    const live = options.live ?? false;
    const reader = await H5Reader.open(filePath, { swmr: live });
    try {
      const root = reader.attrs("/");
      const major = checkFormat(filePath, root);
      // not closed by its writer: killed (or still being written by a process we do not follow)
      const interrupted = !live && root[ROOT.status] !== "closed";
      // closed by its writer: it does not change any more, reads need not be checked against changes
      if (!live && root[ROOT.status] === "closed") reader.trustUnchanged();
      const src = new Source(reader, live, interrupted);
      return new ExperimentLoader(filePath, src, openCatalog(src, major));
    } catch (err) {
      reader.close();
      throw err;
    }
  }

  /**
   * The root attributes as plain JS (64-bit integers as numbers), with `exporter_options` parsed
   * from its JSON text.
   *
   * @example
   * ```ts
   * const { experiment_name, episode_count, exporter_options } = loader.rootAttributes;
   * ```
   */
  get rootAttributes(): Record<string, unknown> {
    const attrs = this.src.attrs("/");
    const options = attrs[ROOT.exporterOptions];
    if (typeof options === "string") attrs[ROOT.exporterOptions] = parseJson(options, `root attribute ${ROOT.exporterOptions}`);
    const count = scalarNumber(attrs[ROOT.episodeCount]);
    if (count !== undefined) attrs[ROOT.episodeCount] = count;
    return attrs;
  }

  /**
   * The user's metadata (`metadata/user`, `{}` when absent) with the run's root attributes, plus
   * every other text dataset under `metadata/` under its own name (parsed when it is JSON).
   * `status` is `"closed"` for a file its writer closed, `"interrupted"` for one it did not close
   * (on disk: `open`), and the stored value in live mode.
   *
   * @example
   * ```ts
   * const { user, experimentName, status, endTime } = loader.getMetadata();
   * ```
   */
  getMetadata(): ExperimentMetadata {
    const root = this.rootAttributes;
    const str = (k: string): string | null => (typeof root[k] === "string" ? (root[k] as string) : null);
    const extra: Record<string, unknown> = {};
    for (const name of this.src.keys(GROUPS.metadata)) {
      const path = `${GROUPS.metadata}/${name}`;
      if (name === "user" || this.src.kind(path) !== "dataset") continue;
      const info = this.src.info(path);
      if (info.dtype !== "string" || info.shape.length !== 0) continue;
      const text = this.src.readText(path);
      try {
        setOwn(extra, name, JSON.parse(text));
      } catch {
        setOwn(extra, name, text);
      }
    }
    return {
      ...extra,
      user: this.src.json(METADATA_USER, {}),
      experimentName: str(ROOT.experimentName),
      startTime: str(ROOT.startTime),
      endTime: str(ROOT.endTime),
      status: this.src.interrupted ? "interrupted" : str(ROOT.status),
      formatVersion: str(ROOT.formatVersion),
      layout: str(ROOT.layout),
      exporterOptions: root[ROOT.exporterOptions] ?? {},
    };
  }

  /**
   * The runtime provenance (`metadata/runtime`: node, hostname, pid, …), or null when it was not
   * recorded. Reads that one dataset only (`getMetadata()` reads every text dataset under `metadata/`).
   *
   * @example
   * ```ts
   * const { hostname, pid } = loader.getRuntime() ?? {};
   * ```
   */
  getRuntime(): Record<string, unknown> | null {
    const rt = this.src.json(`${GROUPS.metadata}/runtime`, null);
    return typeof rt === "object" && rt !== null && !Array.isArray(rt) ? (rt as Record<string, unknown>) : null;
  }

  /**
   * The configuration saved with `saveConfig` (`config/json`), or `{}` when none was saved.
   *
   * @example
   * ```ts
   * const lr = loader.getConfig().learning_rate as number;
   * ```
   */
  getConfig(): Record<string, unknown> {
    const config = this.src.json(CONFIG_JSON, {});
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
      throw new FormatError("INVALID_DATA", `${CONFIG_JSON} in ${this.filePath} is not a JSON object`);
    }
    return config as Record<string, unknown>;
  }

  /**
   * The network: neuron count, neuron and connection fields, and the initial weights as CSR
   * (null when none were saved).
   *
   * @example
   * ```ts
   * const { nNeurons, neurons, weights } = loader.getNetworkStructure();
   * ```
   */
  getNetworkStructure(): NetworkStructure {
    const n = scalarNumber(this.src.attrs(NETWORK.group)[NETWORK.nNeurons]);
    const weightsPath = NETWORK.initialWeights;
    return {
      nNeurons: n === undefined || n < 0 ? null : n,
      neurons: readFieldRecord(this.src, NETWORK.neurons),
      connections: readFieldRecord(this.src, NETWORK.connections),
      weights: this.src.kind(weightsPath) === "group" ? readCsr(this.src, weightsPath) : null,
    };
  }

  /**
   * Number of episodes in the file (2.x: rows of the episode table; 1.x: episode groups). O(1).
   *
   * @example
   * ```ts
   * for (let i = 0; i < loader.episodeCount; i++) console.log(loader.getEpisode(i).attrs.status);
   * ```
   */
  get episodeCount(): number {
    this.src.checkOpen();
    return this.catalog.count;
  }

  /**
   * Ids of the episodes in the file, ascending.
   *
   * @example
   * ```ts
   * const last = loader.getEpisode(loader.listEpisodes().at(-1)!);
   * ```
   */
  listEpisodes(): number[] {
    this.src.checkOpen();
    return this.catalog.ids();
  }

  /**
   * The episode with id `id` (the `NNNN` of `episode_NNNN`; in 2.x files, row `id` of the episode
   * table). O(1): nothing is read until one of its getters is called. A missing id is a
   * ValidationError `NOT_FOUND` naming the valid ids.
   *
   * @example
   * ```ts
   * const spikes = loader.getEpisode(0).getSpikes();
   * ```
   */
  getEpisode(id: number): EpisodeData {
    this.src.checkOpen();
    if (!this.catalog.has(id)) {
      throw new ValidationError("NOT_FOUND", `episode ${id} does not exist in ${this.filePath}: ${describeIds(this.catalog)}`);
    }
    return new EpisodeData(this.src, this.catalog.backend(id));
  }

  /**
   * Every episode's counters as columns (index i: the episode `ids[i]`), for learning curves
   * without opening episodes. 2.x: copies of the episode table read at open; 1.x: built from
   * the episode groups' attributes (one read per episode). `status` is reported as by
   * {@link EpisodeData.attrs} (`interrupted` for the open episode of a file its writer did not
   * close).
   *
   * @example
   * ```ts
   * const { ids, totalReward, success } = loader.episodes();
   * const wins = success.filter((s) => s === 1).length;
   * ```
   */
  episodes(): EpisodeTable {
    this.src.checkOpen();
    return this.catalog.table();
  }

  /**
   * Names of the saved checkpoints, sorted.
   *
   * @example
   * ```ts
   * const names = loader.listCheckpoints();
   * ```
   */
  listCheckpoints(): string[] {
    return this.src.keys(GROUPS.checkpoints).filter((k) => this.src.kind(`${GROUPS.checkpoints}/${k}`) === "group");
  }

  /**
   * The text of a file from the experiment's code snapshot (`metadata/code_snapshot/`), checked
   * against its recorded size and sha256.
   *
   * @example
   * ```ts
   * const script = loader.getCodeFile("train.ts");
   * ```
   */
  getCodeFile(path: string): string {
    return readCodeFile(this.src, path);
  }

  /**
   * The code snapshot's index: every file considered, stored or skipped with its reason.
   *
   * @example
   * ```ts
   * for (const f of loader.listCodeFiles()) console.log(f.path, f.stored ? f.sha256 : f.reason);
   * ```
   */
  listCodeFiles(): CodeIndexEntry[] {
    return readCodeIndex(this.src);
  }

  /**
   * A checkpoint's attributes and entries: CSR groups as {@link CsrMatrix}, arrays as
   * {@link NdArray}, string lists as string arrays, JSON text parsed. A missing name is a
   * ValidationError `NOT_FOUND` listing the saved ones.
   *
   * @example
   * ```ts
   * const cp = loader.getCheckpoint("final");
   * if (isCsrMatrix(cp.entries.weights)) console.log(cp.entries.weights.shape);
   * ```
   */
  getCheckpoint(name: string): Checkpoint {
    const names = this.listCheckpoints();
    if (!names.includes(name)) {
      const saved = names.length ? names.map((n) => JSON.stringify(n)).join(", ") : "none";
      throw new ValidationError("NOT_FOUND", `no checkpoint ${JSON.stringify(name)} in ${this.filePath}; saved: ${saved}`);
    }
    const path = `${GROUPS.checkpoints}/${name}`;
    const attrs = this.src.attrs(path);
    const count = scalarNumber(attrs[CHECKPOINT_ATTRS.episodeCount]);
    if (count !== undefined) attrs[CHECKPOINT_ATTRS.episodeCount] = count;
    const entries: Record<string, StoredValue> = {};
    for (const key of this.src.keys(path)) setOwn(entries, key, readStored(this.src, `${path}/${key}`));
    return { name, attrs, entries };
  }

  /**
   * What this loader has read so far: `chunksRead` counts the chunks of numeric datasets decoded
   * for episode reads (a window of an episode touches only its chunks; counted when not live).
   *
   * @example
   * ```ts
   * const before = loader.readStats().chunksRead;
   * loader.getEpisode(0).getSpikes({ from: 1000, to: 2000 });
   * console.log(loader.readStats().chunksRead - before, "chunks");
   * ```
   */
  readStats(): { chunksRead: number } {
    return { chunksRead: this.src.chunksRead };
  }

  /**
   * Closes the file; idempotent. Episodes obtained from this loader cannot read afterwards
   * (StateError `CLOSED`).
   *
   * @example
   * ```ts
   * loader.close();
   * loader.close(); // no-op
   * ```
   */
  close(): void {
    this.src.close();
  }

  /**
   * Closes the file (for `using`).
   *
   * @example
   * ```ts
   * { using loader = await ExperimentLoader.open(dir); loader.getConfig(); }
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Closes the file (for `await using`).
   *
   * @example
   * ```ts
   * { await using loader = await ExperimentLoader.open(dir); loader.getConfig(); }
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

function describeIds(catalog: EpisodeCatalog): string {
  const n = catalog.count;
  if (n === 0) return "the file has no episodes";
  const ids = catalog.ids();
  const contiguous = ids[n - 1] - ids[0] === n - 1;
  if (contiguous) return `valid ids are ${ids[0]}..${ids[n - 1]} (${n} episode${n === 1 ? "" : "s"})`;
  return `valid ids are ${ids.join(", ")}`;
}

/**
 * The HDF5 file of an experiment: `dirOrFile` itself when it is a file, else
 * `dirOrFile/experiment_data.h5`. A missing path is a StorageError `NOT_FOUND`.
 *
 * @example
 * ```ts
 * resolveExperimentFile("experiments/run_20240101_120000"); // ".../experiment_data.h5"
 * ```
 */
export function resolveExperimentFile(dirOrFile: string): string {
  let isDir: boolean;
  try {
    isDir = statSync(dirOrFile).isDirectory();
  } catch (err) {
    throw new StorageError("NOT_FOUND", `no experiment at ${dirOrFile}: no such file or directory`, { cause: err });
  }
  if (!isDir) return dirOrFile;
  const file = join(dirOrFile, EXPERIMENT_FILE);
  if (!existsSync(file)) {
    throw new StorageError("NOT_FOUND", `${dirOrFile} is a directory without ${EXPERIMENT_FILE}; pass an experiment directory or the .h5 file`);
  }
  return file;
}

/** Checks the root attributes name an snn-export file of a readable version; its major version. */
function checkFormat(filePath: string, root: Record<string, unknown>): number {
  if (root[ROOT.formatName] !== FORMAT_NAME) {
    const name = root[ROOT.formatName];
    if (name === SWEEP.formatName) {
      throw new FormatError("NOT_SNN_EXPORT", `${filePath} is a sweep file of snn-export collect, not one experiment: read it with ExperimentCollection.open() or 'snn-export compare', its runs through /files/<run>`);
    }
    if (Object.keys(root).length === 0) {
      // an exporter creates the file, then writes its root attributes at the first flush (with
      // asyncWrite on another thread): a file with a bare root is most likely being created now
      throw new FormatError("NOT_SNN_EXPORT", `${filePath} is an HDF5 file whose root group has no attributes yet (no format_name): if an exporter is creating it right now, open it again in a moment or with { live: true }; otherwise it is not an snn-export experiment`);
    }
    const found = name === undefined ? `has no ${ROOT.formatName} attribute` : `has ${ROOT.formatName} ${JSON.stringify(name)}`;
    throw new FormatError("NOT_SNN_EXPORT", `${filePath} is an HDF5 file but not an snn-export experiment: its root group ${found}`);
  }
  const version = root[ROOT.formatVersion];
  const major = typeof version === "string" ? Number(/^(\d+)(?:\.\d+)*$/.exec(version.trim())?.[1]) : NaN;
  if (!(READABLE_MAJORS as readonly number[]).includes(major)) {
    throw new FormatError(
      "UNSUPPORTED_VERSION",
      `${filePath} has format_version ${JSON.stringify(version ?? null)}; this version of snn-export reads format ` +
        `${READABLE_MAJORS.map((m) => `${m}.x`).join(" and ")}`,
    );
  }
  return major;
}

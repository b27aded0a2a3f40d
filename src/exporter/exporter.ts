/**
 * DataExporter: streams a whole SNN experiment into one HDF5 file, in whole compressed chunks.
 */
import { join } from "node:path";
import { StateError, ValidationError } from "../errors.js";
import { isPlainObject, toJsonText } from "../encoding/json.js";
import { toCsr } from "../encoding/weights.js";
import { createWriter, engineVersions, type Compression, type Writer } from "../h5/index.js";
import { VERSION } from "../version.js";
import { addCodeFiles, startProvenanceCapture, writeGitInfo, writeProvenance, GIT_PENDING, type CodeIndexEntry, type GitInfo } from "../provenance/index.js";
import { writeCsr, writeEntry, writeRecord } from "./entries.js";
import { EpisodeWriter, MaskWords, type Layout, type NetworkFacts } from "./episode.js";
import { checkExperimentName, makeExperimentDir, resolveOptions, type ResolvedOptions } from "./options.js";
import type { EndEpisodeInput, EventInput, ExporterOptions, NetworkInput, StepInput, WeightChangeInput } from "./types.js";
import { checkKey } from "./validate.js";

export const FORMAT_VERSION = "1.0";

/**
 * An episode-end flush that found compression still running waits at most `flushIntervalMs` (this
 * long when that is off), then flushes anyway: in a steady run new chunks keep the queue from ever
 * being empty, and a forced flush waits for them (measured: forcing after 20 ms cost 15 % on 50
 * short episodes).
 */
const OWED_MAX_MS = 1000;

/**
 * Streams an experiment into `<outputBaseDir>/<name>_<YYYYmmdd_HHMMSS>/experiment_data.h5`.
 * `log()` only copies into per-stream chunk buffers; whole chunks go to disk.
 *
 * @example
 * ```ts
 * await using exporter = await DataExporter.create("my_experiment", { neuralSamplingRate: 100 });
 * exporter.saveConfig({ n_neurons: 100 });
 * exporter.startEpisode();
 * for (let t = 0; t < 1000; t++) exporter.log({ timestep: t, spikes: [1, 5], reward: 0 });
 * exporter.endEpisode({ success: true });
 * ```
 */
export class DataExporter {
  /** The experiment directory. */
  readonly outputDir: string;
  /** Its `experiment_data.h5`. */
  readonly filePath: string;
  readonly experimentName: string;
  readonly options: Readonly<ResolvedOptions>;
  private readonly w: Writer;
  private readonly comp: Compression;
  private episode: EpisodeWriter | null = null;
  private episodeCount = 0;
  private closed = false;
  private config: Record<string, unknown> = {};
  private metadata: Record<string, unknown> = {};
  private readonly net: NetworkFacts = { nNeurons: null, nSynapses: null };
  private readonly masks = new MaskWords();
  private sinceFlush = 0;
  private checkAt = 256;
  private lastFlush = 0;
  /** The git capture still to be written: its answer once it has settled (see {@link DataExporter.create}). */
  private git: GitCapture | null = null;
  private closing: Promise<void> | null = null;

  /** @internal use {@link DataExporter.create}. */
  constructor(name: string, options: ResolvedOptions, dir: string, w: Writer) {
    this.experimentName = name;
    this.options = Object.freeze({ ...options });
    this.outputDir = dir;
    this.filePath = w.filePath;
    this.w = w;
    this.comp = { kind: options.compression, level: options.compressionLevel };
  }

  /** The file layout this exporter writes (root attribute `layout`). */
  protected get layout(): Layout {
    return "optimized";
  }

  /**
   * Creates the experiment directory and file. Rejects bad names and options before touching the
   * disk. Provenance: runtime and code snapshot are written now; the git commands are started now
   * (they record the state of this moment) but not waited for: `metadata/git` says `pending` until
   * the first flush after git answered, or `close()`, which waits for git.
   */
  static async create<T extends DataExporter>(this: new (name: string, o: ResolvedOptions, dir: string, w: Writer) => T, name: string, options: ExporterOptions = {}): Promise<T> {
    const n = checkExperimentName(name);
    const opts = resolveOptions(options);
    const started = options.startTime ?? new Date();
    const v = engineVersions();
    const { provenance, git } = await startProvenanceCapture({ snnExport: VERSION, h5wasm: v.h5wasm, hdf5: v.hdf5 }, options.provenance ?? {}, { startTime: started, exclude: [opts.outputBaseDir] });
    const capture = git ? trackGit(git) : null; // settles on its own even when the lines below throw
    const dir = makeExperimentDir(opts.outputBaseDir, n, started);
    const w = await createWriter(join(dir, "experiment_data.h5"), opts.engine, { swmr: opts.enableSwmr, asyncWrite: opts.asyncWrite });
    const ex = new this(n, opts, dir, w);
    ex.writeRootAttrs(started);
    writeProvenance(w, { ...provenance, git: capture ? capture.answer ?? GIT_PENDING : undefined }, ex.comp); // flushes: root attributes and provenance
    ex.paid();
    if (capture && !capture.answer) ex.git = capture;
    return ex;
  }

  /** Writes the git state once the capture has answered (at a flush, or at close); no-op before. */
  private writeGitIfAnswered(): void {
    const answer = this.git?.answer;
    if (!answer) return;
    this.git = null; // one attempt: a write error surfaces at this call, like any other
    writeGitInfo(this.w, answer);
  }

  private writeRootAttrs(started: Date): void {
    const v = engineVersions();
    this.w.setAttr("/", "format_name", "snn-export");
    this.w.setAttr("/", "format_version", FORMAT_VERSION);
    this.w.setAttr("/", "layout", this.layout);
    this.w.setAttr("/", "experiment_name", this.experimentName);
    this.w.setAttr("/", "start_time", started.toISOString());
    this.w.setAttr("/", "status", "open");
    this.w.setAttr("/", "episode_count", 0n);
    this.w.setAttr("/", "exporter_options", JSON.stringify(this.options));
    const engine = this.options.engine === "ts" ? "pure-TypeScript HDF5 writer" : `h5wasm ${v.h5wasm}, HDF5 ${v.hdf5}`;
    this.w.setAttr("/", "creator", `snn-export ${VERSION} (${engine})`);
    for (const g of ["config", "metadata", "network_structure", "episodes", "checkpoints"]) this.w.createGroup(g);
  }

  private alive(method: string): void {
    if (this.closed) throw new StateError("CLOSED", `${method}() called after close(); create a new DataExporter to write another experiment`);
  }

  /** Merges `config` into the stored configuration (JSON text in `config/json`). */
  saveConfig(config: Record<string, unknown>): void {
    this.alive("saveConfig");
    if (!isPlainObject(config)) throw new ValidationError("INVALID_DATA", "saveConfig() takes a plain object of settings");
    const merged = { ...this.config, ...config };
    const text = toJsonText(merged, "config");
    this.w.writeText("config/json", text);
    this.config = merged;
    this.w.flush();
    this.paid();
    this.configAttrs(merged);
  }

  /** Keeps the convenience attributes of `config/` equal to the merged config's scalar top-level keys (at most 256). */
  private configAttrs(merged: Record<string, unknown>): void {
    let n = 0;
    for (const [k, v] of Object.entries(merged)) {
      if (k === "" || k.includes("/")) continue;
      const scalar = typeof v === "number" || typeof v === "boolean" || (typeof v === "string" && v.length <= 1024);
      if (scalar && n < 256) {
        this.w.setAttr("config", k, v);
        n++;
      } else this.w.deleteAttr("config", k);
    }
  }

  /** Merges `metadata` into the stored user metadata (JSON text in `metadata/user`). */
  saveMetadata(metadata: Record<string, unknown>): void {
    this.alive("saveMetadata");
    if (!isPlainObject(metadata)) throw new ValidationError("INVALID_DATA", "saveMetadata() takes a plain object");
    const merged = { ...this.metadata, ...metadata };
    this.w.writeText("metadata/user", toJsonText(merged, "metadata"));
    this.metadata = merged;
    this.w.flush();
    this.paid();
  }

  /**
   * Stores more code files (paths or globs, relative to the project root) in the file's code
   * snapshot; files outside the project or over the size caps are skipped with a recorded reason.
   */
  saveCodeSnapshot(paths: string[]): CodeIndexEntry[] {
    this.alive("saveCodeSnapshot");
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === "string")) {
      throw new ValidationError("INVALID_DATA", "saveCodeSnapshot() takes an array of file paths or glob patterns");
    }
    const entries = addCodeFiles(this.w, paths, { compression: this.comp });
    this.w.flush();
    this.paid();
    return entries;
  }

  /** Saves neurons, connections and the initial weights (as CSR). Call once, before episodes. */
  saveNetworkStructure(network: NetworkInput): void {
    this.alive("saveNetworkStructure");
    if (!isPlainObject(network)) throw new ValidationError("INVALID_DATA", "saveNetworkStructure() takes { neurons, connections, weights }");
    if (this.w.exists("network_structure/initial_weights") || this.w.exists("network_structure/neurons")) {
      throw new StateError("EPISODE_OPEN", "saveNetworkStructure() was already called; the network structure is saved once per experiment");
    }
    const nFromNeurons = countOf(network.neurons);
    const csr = network.weights === undefined ? null : toCsr(network.weights, "weights", nFromNeurons ?? undefined);
    const n = nFromNeurons ?? (csr ? Math.max(csr.shape[0], csr.shape[1]) : null);
    for (const [part, rec] of [["neurons", network.neurons], ["connections", network.connections]] as const) {
      if (rec !== undefined && !isPlainObject(rec)) throw new ValidationError("INVALID_DATA", `saveNetworkStructure(): ${part} must be a record of arrays`);
      for (const k of Object.keys(rec ?? {})) checkKey(k, `${part} field`);
    }
    writeRecord(this.w, "network_structure/neurons", network.neurons, "neurons", this.comp);
    writeRecord(this.w, "network_structure/connections", network.connections, "connections", this.comp);
    if (csr) writeCsr(this.w, "network_structure/initial_weights", csr, this.comp);
    if (n !== null) {
      this.w.setAttr("network_structure", "n_neurons", BigInt(n));
      this.net.nNeurons = n;
    }
    this.net.nSynapses = csr ? csr.data.length : countOf(network.connections);
    this.w.flush();
    this.paid();
  }

  /** Opens the next episode and returns its id. */
  startEpisode(): number {
    this.alive("startEpisode");
    if (this.episode) throw new StateError("EPISODE_OPEN", `startEpisode(): episode ${this.episode.id} is still open; call endEpisode() first`);
    const id = this.episodeCount;
    const ep = new EpisodeWriter(this.w, id, this.options, this.net, this.layout, this.masks);
    this.w.createGroup(ep.path);
    for (const g of ["neural_states", "spikes", "behavior", "rewards", "weight_changes", "events"]) this.w.createGroup(`${ep.path}/${g}`);
    this.w.setAttr(ep.path, "episode_id", BigInt(id));
    this.w.setAttr(ep.path, "status", "running");
    this.w.setAttr(ep.path, "start_time", new Date().toISOString());
    this.w.setAttr(ep.path, "neural_sampling_rate", BigInt(this.options.neuralSamplingRate));
    this.w.setAttr(`${ep.path}/spikes`, "encoding", this.layout === "optimized" ? "csr_time" : "dense_matrix");
    this.w.setAttr(`${ep.path}/rewards`, "encoding", this.layout === "optimized" ? "sparse_nonzero" : "dense");
    ep.begin();
    this.episodeCount++;
    this.w.setAttr("/", "episode_count", BigInt(this.episodeCount));
    this.episode = ep;
    return id;
  }

  private open(method: string): EpisodeWriter {
    this.alive(method);
    if (!this.episode) throw new StateError("NO_EPISODE", `${method}() needs an open episode; call startEpisode() first`);
    return this.episode;
  }

  /** Logs one timestep. Synchronous and cheap: copies into chunk buffers. */
  log(step: StepInput): void {
    this.open("log").log(step);
    if (++this.sinceFlush >= this.checkAt) this.flushIfDue();
  }

  /** Flush policy: every `flushEverySteps` steps, or when `flushIntervalMs` has passed (checked every 256 steps). */
  private flushIfDue(): void {
    if (this.flushOwed) this.payOwedFlush();
    const { flushEverySteps, flushIntervalMs } = this.options;
    if (flushEverySteps > 0 && this.sinceFlush >= flushEverySteps) return this.flushNow();
    if (flushIntervalMs > 0 && performance.now() - this.lastFlush >= flushIntervalMs) return this.flushNow();
    this.checkAt = this.sinceFlush + (flushEverySteps > 0 ? Math.min(256, flushEverySteps - this.sinceFlush) : 256);
  }

  /**
   * Makes everything logged so far readable on disk: partial chunks, weight changes and events of
   * the open episode, its running totals, and HDF5's metadata. A reader opening the file after
   * `flush()` returns — or after the writer is killed — sees all of it.
   */
  flush(): void {
    this.flushNow();
    this.w.waitIdle?.(); // with asyncWrite: returns when the write thread has applied the flush
  }

  /** Flush without waiting for an asynchronous write thread (the periodic flushes). */
  private flushNow(): void {
    this.alive("flush");
    const ep = this.episode;
    if (ep) {
      ep.flush();
      this.writeCounters(ep);
    }
    this.writeGitIfAnswered();
    this.w.flush();
    this.paid();
  }

  private writeCounters(ep: EpisodeWriter): void {
    const a = (k: string, v: number | bigint) => this.w.setAttr(ep.path, k, v);
    a("total_timesteps", BigInt(ep.steps));
    a("total_spikes", BigInt(ep.totalSpikes));
    a("total_reward", ep.totalReward);
    a("first_timestep", BigInt(ep.firstTimestep));
    a("last_timestep", BigInt(ep.lastTimestep));
  }

  /** Logs a weight change; they are sorted by timestep when the episode ends. */
  logWeightChange(change: WeightChangeInput): void {
    this.open("logWeightChange").logWeightChange(change);
  }

  /** Logs an event with free-form JSON data. */
  logEvent(event: EventInput): void {
    this.open("logEvent").logEvent(event);
  }

  /** Stores per-episode data that is not a time series under `static/<name>`. */
  logStaticEpisodeData(name: string, data: unknown): void {
    this.open("logStaticEpisodeData").logStatic(name, data);
  }

  /** Ends the open episode: flushes its streams and writes its attributes and summary. */
  endEpisode(result: EndEpisodeInput = {}): void {
    const ep = this.open("endEpisode");
    if (!isPlainObject(result)) throw new ValidationError("INVALID_DATA", "endEpisode() takes { success, summary }");
    if (result.success !== undefined && typeof result.success !== "boolean") {
      throw new ValidationError("INVALID_DATA", `endEpisode(): success must be true or false, got ${JSON.stringify(result.success)}`);
    }
    const summary = result.summary === undefined ? undefined : toJsonText(result.summary, "endEpisode(): summary");
    this.finishEpisode(ep, "completed", result.success, summary);
  }

  private finishEpisode(ep: EpisodeWriter, status: string, success: boolean | undefined, summary: string | undefined): void {
    this.episode = null;
    ep.finish();
    if (summary !== undefined) this.w.writeText(`${ep.path}/summary`, summary);
    const a = (k: string, v: string | number | bigint) => this.w.setAttr(ep.path, k, v);
    this.writeCounters(ep);
    this.w.setAttr(ep.path, "success", success === undefined ? -1 : success ? 1 : 0, "int8");
    if (this.layout === "optimized") this.w.setAttr(`${ep.path}/spikes`, "n_neurons", BigInt(this.net.nNeurons ?? -1));
    a("end_time", new Date().toISOString());
    a("status", status);
    this.writeGitIfAnswered();
    this.flushSoon();
  }

  /**
   * The flush at the end of an episode does not wait for the compression of the episode's last
   * chunks: it happens at once if they are done, else when the queue is next found empty (checks
   * of `log()` every 256 steps, a 2 ms timer while the event loop is free), at any other flush or
   * `close()`, and at the latest after `flushIntervalMs`. The next episode's logging overlaps their
   * compression (medium_normal: endEpisode() was half of the run).
   */
  private flushSoon(): void {
    if (this.w.flushIfIdle ? this.w.flushIfIdle() : (this.w.flush(), true)) return this.paid();
    if (!this.flushOwed) this.owedSince = performance.now(); // owed since the first unpaid episode end
    this.flushOwed = true;
    if (this.owedTimer === null) {
      this.owedTimer = setInterval(() => {
        try {
          this.payOwedFlush();
        } catch {
          this.paid(); // the writer keeps its failure and raises it at the next call
        }
      }, 2);
      this.owedTimer.unref();
    }
  }

  /** Completes an owed episode-end flush if the compression it waits for is done, or once it is overdue ({@link OWED_MAX_MS}). */
  private payOwedFlush(): void {
    if (!this.flushOwed) return;
    if (this.w.flushIfIdle!()) return this.paid();
    if (performance.now() - this.owedSince < (this.options.flushIntervalMs || OWED_MAX_MS)) return;
    this.w.flush();
    this.paid();
  }

  /** Every flush settles an owed one, and restarts the flush policy's clocks (steps and time). */
  private paid(): void {
    this.sinceFlush = 0;
    this.checkAt = this.options.flushEverySteps > 0 ? Math.min(256, this.options.flushEverySteps) : 256;
    this.lastFlush = performance.now();
    this.flushOwed = false;
    if (this.owedTimer !== null) {
      clearInterval(this.owedTimer);
      this.owedTimer = null;
    }
  }

  private flushOwed = false;
  private owedSince = 0;
  private owedTimer: ReturnType<typeof setInterval> | null = null;

  /** Saves a named checkpoint: weight matrices as CSR, arrays as datasets, the rest as JSON. */
  saveCheckpoint(name: string, data: Record<string, unknown>): void {
    this.alive("saveCheckpoint");
    checkKey(name, "checkpoint");
    if (!isPlainObject(data)) throw new ValidationError("INVALID_DATA", "saveCheckpoint() takes a name and a plain object of entries");
    const g = `checkpoints/${name}`;
    if (this.w.exists(g)) throw new ValidationError("INVALID_DATA", `checkpoint "${name}" already exists; use a new name for each checkpoint`);
    for (const k of Object.keys(data)) checkKey(k, "checkpoint entry");
    this.w.createGroup(g);
    this.w.setAttr(g, "created_at", new Date().toISOString());
    this.w.setAttr(g, "episode_count", BigInt(this.episodeCount));
    for (const [k, v] of Object.entries(data)) if (v !== undefined) writeEntry(this.w, `${g}/${k}`, v, `checkpoint ${name}.${k}`, this.comp);
    this.w.flush();
    this.paid();
  }

  /**
   * Ends an open episode (status `incomplete`), writes the git state (waiting for git if it has
   * not answered yet) and the closing attributes, and closes the file. Idempotent; a call while
   * closing waits for it.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing.then(() => {}, () => {}); // the first call reports errors
    this.closed = true;
    this.closing = this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    let gitError: unknown = null;
    try {
      if (this.git && !this.git.answer) await this.git.done; // synchronous when git has answered
      try {
        this.writeGitIfAnswered();
      } catch (err) {
        gitError = err; // still close the episode and the file; reported after
      }
      if (this.episode) this.finishEpisode(this.episode, "incomplete", undefined, undefined);
      this.w.setAttr("/", "end_time", new Date().toISOString());
      this.w.setAttr("/", "status", "closed");
    } finally {
      this.paid(); // close() flushes
      this.w.close();
    }
    if (gitError) throw gitError;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A git capture in flight: `answer` is set when it settles (it never rejects; a rejection is recorded as `git failed`). */
interface GitCapture {
  answer: GitInfo | null;
  done: Promise<void>;
}

function trackGit(git: Promise<GitInfo>): GitCapture {
  const c: GitCapture = { answer: null, done: Promise.resolve() };
  c.done = git.then(
    (info) => void (c.answer = info),
    (err: unknown) => void (c.answer = { available: false, reason: "git failed", detail: String((err as Error)?.message ?? err) }),
  );
  return c;
}

function countOf(rec: unknown): number | null {
  if (!isPlainObject(rec)) return null;
  for (const v of Object.values(rec)) {
    if (Array.isArray(v) || ArrayBuffer.isView(v)) return (v as ArrayLike<unknown>).length;
    if (v && typeof v === "object" && "shape" in v && Array.isArray((v as { shape: unknown }).shape)) return (v as { shape: number[] }).shape[0];
  }
  return null;
}

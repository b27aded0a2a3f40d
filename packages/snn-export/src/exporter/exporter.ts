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
import { CHECKPOINT_ATTRS, CONFIG_JSON, FORMAT_NAME, FORMAT_VERSION, GROUPS, METADATA_USER, NETWORK, REWARD_ENCODING, ROOT, SPIKE_ENCODING, STATIC, STREAMS } from "../schema.js";
import { prepareEntry, prepareRecord, writeCsr, writePrepared, writeRecord } from "./entries.js";
import { FlushPolicy } from "./flush-policy.js";
import { checkExperimentName, makeExperimentDir, resolveOptions, type ResolvedOptions } from "./options.js";
import { EventStreams, WeightChangeStreams } from "./records.js";
import { StepStreams, type Layout, type StepCounters } from "./steps.js";
import { EpisodeTable, type EpisodeRecord, type StreamRows } from "./table.js";
import type { EndEpisodeInput, EventInput, ExporterOptions, NetworkInput, StepInput, WeightChangeInput } from "./types.js";
import { checkKey, checkKnownKeys, nameProblem, textProblem } from "./validate.js";

export { FORMAT_VERSION };

/** The open episode: its table row as it stands, and the counters `log()` keeps. */
interface OpenEpisode extends StepCounters {
  id: number;
  startTime: number;
  firstTimestep: number;
  start: StreamRows;
}

/**
 * Streams an experiment into `<outputBaseDir>/<name>_<YYYYmmdd_HHMMSS>/experiment_data.h5`.
 * `log()` only copies into experiment-wide chunk buffers; whole chunks go to disk. An episode is
 * a row of the episode table and a slice of every stream (FORMAT.md 2.0), so an episode costs the
 * same whether it is the first or the millionth.
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
  private readonly writer: Writer;
  private readonly compression: Compression;
  private episode: OpenEpisode | null = null;
  private episodeCount = 0;
  private closed = false;
  private config: Record<string, unknown> = {};
  private metadata: Record<string, unknown> = {};
  /** Synapses of the saved network (null: none saved, or not told); its neurons are the step streams' to know. */
  private synapses: number | null = null;
  private readonly steps: StepStreams;
  private readonly weightChanges: WeightChangeStreams;
  private readonly events: EventStreams;
  private readonly table: EpisodeTable;
  private readonly policy: FlushPolicy;
  private networkSaved = false;
  /** The git capture still to be written: its answer once it has settled (see {@link DataExporter.create}). */
  private git: GitCapture | null = null;
  private closing: Promise<void> | null = null;

  /** @internal use {@link DataExporter.create}. */
  constructor(name: string, options: ResolvedOptions, dir: string, w: Writer) {
    this.experimentName = name;
    this.options = Object.freeze({ ...options });
    this.outputDir = dir;
    this.filePath = w.filePath;
    this.writer = w;
    this.compression = { kind: options.compression, level: options.compressionLevel };
    this.steps = new StepStreams(w, this.options, this.layout);
    this.weightChanges = new WeightChangeStreams(w, options.chunkSize, this.compression);
    this.events = new EventStreams(w, options.chunkSize, this.compression);
    this.table = new EpisodeTable(w, this.compression);
    this.policy = new FlushPolicy(options, () => this.flushSoon());
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
    writeProvenance(w, { ...provenance, git: capture ? capture.answer ?? GIT_PENDING : undefined }, ex.compression); // flushes: root attributes and provenance
    ex.policy.flushed();
    if (capture && !capture.answer) ex.git = capture;
    flushAtExit(ex);
    return ex;
  }

  /**
   * @internal The process is exiting without `close()`: make everything logged durable, as a
   * flush would (the file stays `open`: the loader reports it `interrupted`, with all its data).
   */
  flushBeforeExit(): void {
    if (this.closed) return;
    try {
      this.flushNow();
      this.writer.waitIdle();
    } catch {
      // nothing to report to at exit; the file holds its last good flush
    }
  }

  /** Writes the git state once the capture has answered (at a flush, or at close); no-op before. */
  private writeGitIfAnswered(): void {
    const answer = this.git?.answer;
    if (!answer) return;
    this.git = null; // one attempt: a write error surfaces at this call, like any other
    writeGitInfo(this.writer, answer);
  }

  private writeRootAttrs(started: Date): void {
    const v = engineVersions();
    this.writer.setAttr("/", ROOT.formatName, FORMAT_NAME);
    this.writer.setAttr("/", ROOT.formatVersion, FORMAT_VERSION);
    this.writer.setAttr("/", ROOT.layout, this.layout);
    this.writer.setAttr("/", ROOT.experimentName, this.experimentName);
    this.writer.setAttr("/", ROOT.startTime, started.toISOString());
    this.writer.setAttr("/", ROOT.status, "open");
    this.writer.setAttr("/", ROOT.episodeCount, 0n);
    this.writer.setAttr("/", ROOT.exporterOptions, JSON.stringify(this.options));
    const engine = this.options.engine === "ts" ? "pure-TypeScript HDF5 writer" : `h5wasm ${v.h5wasm}, HDF5 ${v.hdf5}`;
    this.writer.setAttr("/", ROOT.creator, `snn-export ${VERSION} (${engine})`);
    for (const g of Object.values(GROUPS)) this.writer.createGroup(g);
    for (const g of [STREAMS.spikes.group, STREAMS.neuralStates.group, STREAMS.behavior.group, STREAMS.rewards.group, STREAMS.weightChanges.group, STREAMS.events.group]) this.writer.createGroup(g);
    const optimized = this.layout === "optimized";
    this.writer.setAttr(STREAMS.spikes.group, STREAMS.spikes.encoding, optimized ? SPIKE_ENCODING.optimized : SPIKE_ENCODING.standard);
    this.writer.setAttr(STREAMS.spikes.group, STREAMS.spikes.nNeurons, -1n);
    this.writer.setAttr(STREAMS.rewards.group, STREAMS.rewards.encoding, optimized ? REWARD_ENCODING.optimized : REWARD_ENCODING.standard);
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
    this.writer.writeText(CONFIG_JSON, text);
    // the values as stored (Dates as strings, BigInts as numbers), not the caller's objects: a later
    // change to an object passed here does not reach the file with the next saveConfig
    this.config = JSON.parse(text) as Record<string, unknown>;
    this.configAttrs(this.config);
    this.flushNow();
  }

  /** Keeps the convenience attributes of `config/` equal to the merged config's scalar top-level keys (at most 256). */
  private configAttrs(merged: Record<string, unknown>): void {
    let n = 0;
    for (const [k, v] of Object.entries(merged)) {
      // attribute names and string values are HDF5 strings: none with NUL or a lone surrogate (the JSON text has every key)
      if (k === "" || k.includes("/") || nameProblem(k)) continue;
      const scalar = typeof v === "number" || typeof v === "boolean" || (typeof v === "string" && v.length <= 1024 && !textProblem(v));
      if (scalar && n < 256) {
        this.writer.setAttr(GROUPS.config, k, v);
        n++;
      } else this.writer.deleteAttr(GROUPS.config, k);
    }
  }

  /** Merges `metadata` into the stored user metadata (JSON text in `metadata/user`). */
  saveMetadata(metadata: Record<string, unknown>): void {
    this.alive("saveMetadata");
    if (!isPlainObject(metadata)) throw new ValidationError("INVALID_DATA", "saveMetadata() takes a plain object");
    const text = toJsonText({ ...this.metadata, ...metadata }, "metadata");
    this.writer.writeText(METADATA_USER, text);
    this.metadata = JSON.parse(text) as Record<string, unknown>; // as stored (see saveConfig)
    this.flushNow();
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
    const entries = addCodeFiles(this.writer, paths, { compression: this.compression });
    this.flushNow();
    return entries;
  }

  /** Saves neurons, connections and the initial weights (as CSR). Call once. */
  saveNetworkStructure(network: NetworkInput): void {
    this.alive("saveNetworkStructure");
    if (!isPlainObject(network)) throw new ValidationError("INVALID_DATA", "saveNetworkStructure() takes { neurons, connections, weights }");
    checkKnownKeys(network, ["neurons", "connections", "weights"], "saveNetworkStructure()");
    if (this.networkSaved) {
      throw new StateError("ALREADY_EXISTS", "saveNetworkStructure() was already called; the network structure is saved once per experiment");
    }
    const nFromNeurons = countOf(network.neurons);
    const csr = network.weights === undefined ? null : toCsr(network.weights, "weights", nFromNeurons ?? undefined);
    const n = nFromNeurons ?? (csr ? Math.max(csr.shape[0], csr.shape[1]) : null);
    for (const [part, rec] of [["neurons", network.neurons], ["connections", network.connections]] as const) {
      if (rec !== undefined && !isPlainObject(rec)) throw new ValidationError("INVALID_DATA", `saveNetworkStructure(): ${part} must be a record of arrays`);
      for (const k of Object.keys(rec ?? {})) checkKey(k, `${part} field`);
    }
    const logged = this.steps.neuronCount;
    if (n !== null && logged !== null && n !== logged) {
      throw new ValidationError("SHAPE_MISMATCH", `saveNetworkStructure(): the network has ${n} neurons but the spike masks logged so far had ${logged} entries; save a network of ${logged} neurons`);
    }
    const maxId = this.steps.largestSpikeId;
    if (n !== null && maxId >= n) {
      throw new ValidationError("OUT_OF_RANGE", `saveNetworkStructure(): the network has ${n} neurons but spike id ${maxId} was already logged; save a network of at least ${maxId + 1} neurons`);
    }
    // everything converted and checked before anything is written: a refused call changes nothing
    const neurons = prepareRecord(network.neurons, "neurons");
    const connections = prepareRecord(network.connections, "connections");
    writeRecord(this.writer, NETWORK.neurons, neurons, this.compression);
    writeRecord(this.writer, NETWORK.connections, connections, this.compression);
    if (csr) writeCsr(this.writer, NETWORK.initialWeights, csr, this.compression);
    this.networkSaved = true;
    if (n !== null) {
      this.writer.setAttr(NETWORK.group, NETWORK.nNeurons, BigInt(n));
      this.steps.setNeuronCount(n);
    }
    this.synapses = csr ? csr.data.length : countOf(network.connections);
    this.flushNow();
  }

  /** Opens the next episode and returns its id. */
  startEpisode(): number {
    this.alive("startEpisode");
    if (this.episode) throw new StateError("EPISODE_OPEN", `startEpisode(): episode ${this.episode.id} is still open; call endEpisode() first`);
    const id = this.episodeCount;
    this.episode = {
      id, startTime: Date.now() / 1000, steps: 0, totalSpikes: 0, totalReward: 0, firstTimestep: -1, lastTimestep: -1,
      start: this.streamRows(),
    };
    this.episodeCount++;
    this.writer.setAttr("/", ROOT.episodeCount, BigInt(this.episodeCount));
    return id;
  }

  /** Where every stream stands now: the rows the next episode starts at. */
  private streamRows(): StreamRows {
    const r = this.steps.rows();
    return { steps: r.steps, spikes: r.spikes, states: r.states, rewards: r.rewards, weightChanges: this.weightChanges.length, events: this.events.length };
  }

  private open(method: string): OpenEpisode {
    this.alive(method);
    if (!this.episode) throw new StateError("NO_EPISODE", `${method}() needs an open episode; call startEpisode() first`);
    return this.episode;
  }

  /** Logs one timestep. Synchronous and cheap: copies into chunk buffers. */
  log(step: StepInput): void {
    const ep = this.open("log");
    this.steps.log(step, ep);
    if (ep.steps === 1) ep.firstTimestep = ep.lastTimestep;
    if (this.policy.stepLogged()) this.flushDue();
  }

  /** A flush the policy found due while logging: an episode-end flush still owed, else a full one. */
  private flushDue(): void {
    if (this.policy.owed) this.policy.payOwed(this.writer);
    else this.flushNow();
  }

  /**
   * Makes everything logged so far readable on disk: partial chunks of every stream, the episode
   * table with the open episode's row as it stands, and HDF5's metadata. A reader opening the file
   * after `flush()` returns — or after the writer is killed — sees all of it.
   */
  flush(): void {
    this.flushNow();
    this.writer.waitIdle(); // with asyncWrite: returns when the write thread has applied the flush
  }

  /** Flush without waiting for an asynchronous write thread (the periodic flushes). */
  private flushNow(): void {
    this.alive("flush");
    this.writeStreams();
    this.writer.flush();
    this.policy.flushed();
  }

  /** Hands every buffered row to the writer (partial chunks included); the writer's flush makes them durable. */
  private writeStreams(): void {
    this.steps.flush();
    this.weightChanges.flush();
    this.events.flush();
    this.table.flush(this.episode ? this.record(this.episode, "running", undefined, "", NaN) : null);
    this.writeGitIfAnswered();
  }

  /**
   * The episode's end makes it durable within one flush interval: at once if the last flush is
   * older than `flushIntervalMs` (or that is 0), else by a timer or the next check of `log()`. The
   * flush does not wait for the compression of the last chunks (see {@link FlushPolicy}).
   */
  private flushSoon(): void {
    if (this.closed) return;
    this.writeStreams();
    this.policy.flushWhenIdle(this.writer);
  }

  private record(ep: OpenEpisode, status: EpisodeRecord["status"], success: boolean | undefined, summary: string, endTime: number): EpisodeRecord {
    return {
      id: ep.id, status, success, steps: ep.steps, totalSpikes: ep.totalSpikes, totalReward: ep.totalReward,
      firstTimestep: ep.firstTimestep, lastTimestep: ep.lastTimestep, samplingRate: this.options.neuralSamplingRate,
      startTime: ep.startTime, endTime, start: ep.start, end: this.streamRows(), summary,
    };
  }

  /** Logs a weight change (stored in the order logged; the loader returns an episode's sorted by timestep). */
  logWeightChange(change: WeightChangeInput): void {
    this.open("logWeightChange");
    this.weightChanges.add(change, this.options.validateData, this.steps.neuronCount, this.synapses);
  }

  /** Logs an event with free-form JSON data. */
  logEvent(event: EventInput): void {
    this.open("logEvent");
    this.events.add(event);
  }

  /** Stores per-episode data that is not a time series under `/episode_static/episode_NNNN/<name>`. */
  logStaticEpisodeData(name: string, data: unknown): void {
    const ep = this.open("logStaticEpisodeData");
    checkKey(name, "static episode data");
    const path = `${STATIC.episode(ep.id)}/${name}`;
    if (this.writer.exists(path)) throw new ValidationError("ALREADY_EXISTS", `logStaticEpisodeData(): episode ${ep.id} already has "${name}"; use a new name`);
    writePrepared(this.writer, path, prepareEntry(data, `logStaticEpisodeData("${name}")`), this.compression);
  }

  /** Ends the open episode: its row goes into the episode table. */
  endEpisode(result: EndEpisodeInput = {}): void {
    const ep = this.open("endEpisode");
    if (!isPlainObject(result)) throw new ValidationError("INVALID_DATA", "endEpisode() takes { success, summary }");
    checkKnownKeys(result, ["success", "summary"], "endEpisode()");
    if (result.success !== undefined && typeof result.success !== "boolean") {
      throw new ValidationError("INVALID_DATA", `endEpisode(): success must be true or false, got ${JSON.stringify(result.success)}`);
    }
    const summary = result.summary === undefined ? "" : toJsonText(result.summary, "endEpisode(): summary");
    this.finishEpisode(ep, "completed", result.success, summary);
    this.policy.episodeEnded();
  }

  private finishEpisode(ep: OpenEpisode, status: EpisodeRecord["status"], success: boolean | undefined, summary: string): void {
    this.episode = null;
    this.table.commit(this.record(ep, status, success, summary, Date.now() / 1000));
  }

  /** Saves a named checkpoint: weight matrices as CSR, arrays as datasets, the rest as JSON. */
  saveCheckpoint(name: string, data: Record<string, unknown>): void {
    this.alive("saveCheckpoint");
    checkKey(name, "checkpoint");
    if (!isPlainObject(data)) throw new ValidationError("INVALID_DATA", "saveCheckpoint() takes a name and a plain object of entries");
    const g = `${GROUPS.checkpoints}/${name}`;
    if (this.writer.exists(g)) throw new ValidationError("ALREADY_EXISTS", `checkpoint "${name}" already exists; use a new name for each checkpoint`);
    for (const k of Object.keys(data)) checkKey(k, "checkpoint entry");
    // every entry converted and checked before the group is made: a refused call can be retried
    const entries = Object.entries(data).filter(([, v]) => v !== undefined).map(([k, v]) => [k, prepareEntry(v, `checkpoint ${name}.${k}`)] as const);
    this.writer.createGroup(g);
    this.writer.setAttr(g, CHECKPOINT_ATTRS.createdAt, new Date().toISOString());
    this.writer.setAttr(g, CHECKPOINT_ATTRS.episodeCount, BigInt(this.episodeCount));
    for (const [k, e] of entries) writePrepared(this.writer, `${g}/${k}`, e, this.compression);
    this.flushNow();
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
      if (this.episode) this.finishEpisode(this.episode, "incomplete", undefined, "");
      this.steps.finish();
      this.weightChanges.finish();
      this.events.finish();
      this.table.finish();
      this.writer.setAttr(STREAMS.spikes.group, STREAMS.spikes.nNeurons, BigInt(this.steps.neuronCount ?? -1));
      this.writer.setAttr("/", ROOT.endTime, new Date().toISOString());
      this.writer.setAttr("/", ROOT.status, "closed");
    } finally {
      this.policy.stop();
      openExporters.delete(this);
      this.writer.close();
    }
    if (gitError) throw gitError;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Exporters not closed yet: flushed when the process exits normally without `close()`. */
const openExporters = new Set<DataExporter>();
let exitListener = false;

function flushAtExit(ex: DataExporter): void {
  // one listener for the process (one per exporter created after all earlier ones were closed
  // piled up: MaxListenersExceededWarning after 10, and a leak in a process that makes many)
  if (!exitListener) {
    exitListener = true;
    process.once("exit", () => {
      for (const e of openExporters) e.flushBeforeExit();
      openExporters.clear();
    });
  }
  openExporters.add(ex);
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

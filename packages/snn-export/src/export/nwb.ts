/**
 * Export of an snn-export experiment to NWB 2.6.0 (Neurodata Without Borders), core types only.
 * Read through the public loader, written through the HDF5 layer (src/h5, the pure-TypeScript
 * engine: it writes the object references NWB needs). The layout written is listed in FORMAT.md
 * ("Export to NWB and SONATA"); the time axis is timeline.ts's.
 *
 * Spikes are stored by time; NWB's Units table wants them grouped by neuron. The conversion holds
 * no more than `bufferSpikes` spike times at once: one counting pass over the spikes (per neuron),
 * then fill passes, each over all spikes, that keep the spikes landing in the next `bufferSpikes`
 * positions of the grouped order and append them to `/units/spike_times`.
 */
import { randomUUID } from "node:crypto";
import type { Dtype, NumericArray } from "../dtypes.js";
import { allocate } from "../dtypes.js";
import { ValidationError } from "../errors.js";
import { createWriter, type Compression, type Writer } from "../h5/index.js";
import { neuronCount } from "../loader/facts.js";
import { ExperimentLoader } from "../loader/experiment.js";
import type { EpisodeData } from "../loader/episode.js";
import type { NdArray } from "../loader/types.js";
import { VERSION } from "../version.js";
import { ChunkAppender } from "./appender.js";
import { checkOutput, discardOutput, timeline, type EpisodeSpan, type Timeline } from "./timeline.js";

export const NWB_VERSION = "2.6.0";

export interface NwbExportOptions {
  /** Episode ids to export (default: all), laid one after another on the time axis. */
  episodes?: number[];
  /** `identifier` of the NWB file (default: a random UUID). */
  identifier?: string;
  /** `session_description` (default: the experiment name and the episodes exported). */
  sessionDescription?: string;
  /** Spike times held in memory at once while grouping spikes by neuron (default 16 Mi: 128 MiB). */
  bufferSpikes?: number;
  /** Compression of the numeric datasets (default gzip 4, with shuffle). */
  compression?: Compression;
}

export interface ExportSummary {
  out: string;
  episodes: number;
  spikes: number;
  units: number;
  /** Milliseconds per step and where that came from (`assumed` when the config has none). */
  dtMs: number;
  dtSource: string;
  /** Passes over the spikes (1 counting + fill passes). */
  spikePasses: number;
}

/** Rows per chunk of the long datasets (spike times: 1 MiB of float64). */
const CHUNK = 1 << 17;
/** Spikes per block read from the file (a block's steps are chosen from the episode's mean rate). */
const BLOCK_SPIKES = 1 << 20;

/** Writes NWB's typing attributes (namespace, neurodata_type, object_id) on `path`. */
function typed(w: Writer, path: string, ns: "core" | "hdmf-common", type: string): void {
  w.setAttr(path, "namespace", ns);
  w.setAttr(path, "neurodata_type", type);
  w.setAttr(path, "object_id", randomUUID());
}

function typedGroup(w: Writer, path: string, ns: "core" | "hdmf-common", type: string, attrs: Record<string, string> = {}): void {
  w.createGroup(path);
  typed(w, path, ns, type);
  for (const [k, v] of Object.entries(attrs)) w.setAttr(path, k, v);
}

/** A DynamicTable under construction: its columns in order, then `id` and `colnames`. */
class Table {
  readonly cols: string[] = [];
  constructor(readonly w: Writer, readonly path: string, ns: "core" | "hdmf-common", type: string, description: string) {
    typedGroup(w, path, ns, type, { description });
  }
  numeric(name: string, data: NumericArray, description: string, shape?: number[], compression: Compression = { kind: "gzip", level: 4 }): void {
    const p = `${this.path}/${name}`;
    this.w.writeArray(p, data, shape ?? [data.length], compression, CHUNK);
    this.column(name, description);
  }
  text(name: string, values: string[], description: string): void {
    this.w.writeStrings(`${this.path}/${name}`, values);
    this.column(name, description);
  }
  /** Registers a column written by the caller at `<table>/<name>`. */
  column(name: string, description: string): void {
    const p = `${this.path}/${name}`;
    typed(this.w, p, "hdmf-common", "VectorData");
    this.w.setAttr(p, "description", description);
    this.cols.push(name);
  }
  /** `<name>_index` for a ragged column: the end of each row's values, an object reference to the column. */
  index(name: string, ends: BigUint64Array, description: string): void {
    const p = `${this.path}/${name}_index`;
    this.w.writeArray(p, ends, [ends.length], { kind: "gzip", level: 4 }, CHUNK);
    typed(this.w, p, "hdmf-common", "VectorIndex");
    this.w.setAttr(p, "description", description);
    this.w.setRefAttr(p, "target", `${this.path}/${name}`);
  }
  finish(rows: number): void {
    const p = `${this.path}/id`;
    const ids = new BigInt64Array(rows);
    for (let i = 0; i < rows; i++) ids[i] = BigInt(i);
    this.w.writeArray(p, ids, [rows], { kind: "gzip", level: 4 }, CHUNK);
    typed(this.w, p, "hdmf-common", "ElementIdentifiers");
    this.w.setStringsAttr(this.path, "colnames", this.cols);
  }
}

/** The episode's spikes in blocks of about BLOCK_SPIKES spikes. */
async function* spikeBlocksOf(loader: ExperimentLoader, span: EpisodeSpan): AsyncGenerator<{ timesteps: Float64Array; neuronIds: Uint32Array }> {
  if (span.totalSpikes <= 0 || span.totalTimesteps <= 0) return;
  const perStep = span.totalSpikes / span.totalTimesteps;
  const steps = Math.max(1, Math.min(1 << 20, Math.floor(BLOCK_SPIKES / Math.max(perStep, 1e-9))));
  yield* loader.getEpisode(span.id).spikeBlocks({ steps });
}

/** Seconds of timestep `t` of `span` on the export's axis. */
function seconds(tl: Timeline, span: EpisodeSpan, t: number): number {
  return ((span.offsetSteps + t - span.firstTimestep) * tl.dt.ms) / 1000;
}

/** Exports the experiment at `dirOrFile` (a directory or its .h5 file) to the NWB file `out`. */
export async function exportNwb(dirOrFile: string, out: string, options: NwbExportOptions = {}): Promise<ExportSummary> {
  checkOutput(dirOrFile, out);
  const loader = await ExperimentLoader.open(dirOrFile);
  let w: Writer | null = null;
  try {
    const tl = timeline(loader, options.episodes);
    w = await createWriter(out, "ts");
    const summary = await writeNwb(w, loader, tl, out, options);
    w.close();
    w = null;
    return summary;
  } catch (err) {
    discardOutput(w, out);
    throw err;
  } finally {
    loader.close();
  }
}

async function writeNwb(w: Writer, loader: ExperimentLoader, tl: Timeline, out: string, options: NwbExportOptions): Promise<ExportSummary> {
  const compression = options.compression ?? { kind: "gzip", level: 4 };
  const meta = loader.getMetadata();
  const config = loader.getConfig();
  const name = meta.experimentName ?? "snn-export experiment";
  const startIso = meta.startTime ?? (tl.episodes.length && Number.isFinite(tl.table.startTime[tl.episodes[0].row]) ? new Date(tl.table.startTime[tl.episodes[0].row] * 1000).toISOString() : new Date(0).toISOString());
  const ids = tl.episodes.map((e) => e.id);

  // root: NWBFile
  typed(w, "/", "core", "NWBFile");
  w.setAttr("/", "nwb_version", NWB_VERSION);
  w.writeStrings("/file_create_date", [new Date().toISOString()]);
  w.writeText("/identifier", options.identifier ?? randomUUID());
  w.writeText("/session_description", options.sessionDescription ?? `snn-export experiment ${name}: ${ids.length} episode${ids.length === 1 ? "" : "s"} (${describeIds(ids)}), exported by snn-export ${VERSION}`);
  w.writeText("/session_start_time", startIso);
  w.writeText("/timestamps_reference_time", startIso);
  for (const g of ["acquisition", "analysis", "processing", "stimulus/presentation", "stimulus/templates", "general", "intervals"]) w.createGroup(`/${g}`);

  // general: the time convention, config, metadata, provenance as documented JSON text
  const dtNote = tl.dt.source === "assumed"
    ? `dt = ${tl.dt.ms} ms per step ASSUMED: the experiment's config names no dt (dt_ms, dt_s, dt_sec or dt)`
    : `dt = ${tl.dt.ms} ms per step, from ${tl.dt.source}`;
  w.writeText("/general/notes",
    `Exported by snn-export ${VERSION} from ${name}. Times are seconds on one axis: the exported episodes (${describeIds(ids)}) ` +
    `one after another without gaps, episode i starting at the sum of the earlier episodes' lengths (last - first timestep + 1 steps); ` +
    `timestep t of an episode is at (episode start in steps + t - first timestep) * dt. ${dtNote}. ` +
    `general/protocol holds the experiment's config (JSON), general/data_collection its metadata and provenance (JSON), ` +
    `analysis/ the network (neurons, initial weights) and the weight changes.`);
  w.writeText("/general/protocol", JSON.stringify(config));
  const { user, git, ...rest } = meta;
  const provenance: Record<string, unknown> = { user, git: git ?? null, root: rest };
  for (const key of ["runtime"]) if (key in meta) provenance[key] = meta[key];
  w.writeText("/general/data_collection", JSON.stringify(provenance));
  w.writeText("/general/experiment_description", `spiking neural network experiment ${name} (snn-export format ${meta.formatVersion ?? "?"})`);
  w.writeText("/general/session_id", name);
  w.writeStrings("/general/keywords", ["spiking neural network", "simulation", "snn-export"]);

  // units: spike times grouped by neuron
  const nKnown = neuronCount(loader);
  const units = await writeUnits(w, loader, tl, nKnown, options.bufferSpikes ?? 1 << 24, compression);

  // trials: one row per exported episode
  writeTrials(w, loader, tl);
  // events as a TimeIntervals table (start = stop = the event's time)
  writeEvents(w, loader, tl);
  // neural state, behaviour, rewards
  await writeSeries(w, loader, tl, compression);
  // network and weight changes
  writeNetwork(w, loader, tl, compression);

  return { out, episodes: tl.episodes.length, spikes: units.spikes, units: units.units, dtMs: tl.dt.ms, dtSource: tl.dt.source, spikePasses: units.passes };
}

function describeIds(ids: number[]): string {
  if (ids.length === 0) return "none";
  const parts: string[] = [];
  let a = ids[0], b = ids[0];
  for (let i = 1; i <= ids.length; i++) {
    if (i < ids.length && ids[i] === b + 1) { b = ids[i]; continue; }
    parts.push(a === b ? `${a}` : `${a}-${b}`);
    if (i < ids.length) a = b = ids[i];
  }
  return parts.join(",");
}

/** Adds the ids' spikes to `counts` (grown as needed); returns the counts array and the largest id. */
function countIds(ids: Uint32Array, counts: Float64Array<ArrayBufferLike>, maxId: number): [Float64Array<ArrayBufferLike>, number] {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id >= counts.length) {
      const next = new Float64Array(Math.max(id + 1, counts.length * 2));
      next.set(counts);
      counts = next;
    }
    counts[id]++;
    if (id > maxId) maxId = id;
  }
  return [counts, maxId];
}

/**
 * The fill step of one block: each spike of neurons `lo..hi` takes the next position of its
 * neuron (`cursor`); those landing in `[o0, o1)` store their time in seconds in `buf`.
 */
function fillTimes(ids: Uint32Array, ts: Float64Array, base: number, dtMs: number, cursor: Float64Array, lo: number, hi: number, o0: number, o1: number, buf: Float64Array): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id < lo || id > hi) continue;
    const pos = cursor[id - lo]++;
    if (pos >= o0 && pos < o1) buf[pos - o0] = ((base + ts[i]) * dtMs) / 1000;
  }
}

/** Appends a block's ids and times (seconds) to the in-memory arrays of the one-pass conversion. */
function keepBlock(ids: Uint32Array, ts: Float64Array, base: number, dtMs: number, allIds: Uint32Array, allT: Float64Array, at: number): void {
  allIds.set(ids, at);
  for (let i = 0; i < ids.length; i++) allT[at + i] = ((base + ts[i]) * dtMs) / 1000;
}

/** Counting sort of the spikes by neuron, stable (time order within a neuron). */
function groupByNeuron(allIds: Uint32Array, allT: Float64Array, n: number, starts: Float64Array, out: Float64Array): void {
  const cursor = starts.slice(0, n);
  for (let i = 0; i < allIds.length; i++) out[cursor[allIds[i]]++] = allT[i];
}

/**
 * `/units`: every neuron a unit, its spike times grouped. When the spikes fit the memory budget
 * (12 bytes a spike to read them, 8 to group them: total x 20 bytes <= bufferSpikes x 8) one pass
 * reads them all and a counting sort groups them; otherwise a counting pass, then fill passes.
 */
async function writeUnits(w: Writer, loader: ExperimentLoader, tl: Timeline, nKnown: number | null, bufferSpikes: number, compression: Compression): Promise<{ spikes: number; units: number; passes: number }> {
  const dtMs = tl.dt.ms;
  const col = w.createColumn("/units/spike_times", { dtype: "float64", rowShape: [], chunkRows: CHUNK, compression });
  let counts: Float64Array<ArrayBufferLike> = new Float64Array(Math.max(nKnown ?? 0, 16));
  let maxId = -1;
  let total = 0;
  let passes = 0;
  if (tl.totalSpikes * 20 <= bufferSpikes * 8) {
    // one pass: the episode table's totals size the arrays (a file whose writer died may hold
    // more spikes than its table says: then the counting and fill passes below)
    const allIds = new Uint32Array(tl.totalSpikes);
    const allT = new Float64Array(tl.totalSpikes);
    let fits = true;
    read: for (const span of tl.episodes) {
      const base = span.offsetSteps - span.firstTimestep;
      for await (const b of spikeBlocksOf(loader, span)) {
        if (total + b.neuronIds.length > allIds.length) {
          fits = false;
          break read;
        }
        keepBlock(b.neuronIds, b.timesteps, base, dtMs, allIds, allT, total);
        [counts, maxId] = countIds(b.neuronIds, counts, maxId);
        total += b.neuronIds.length;
      }
    }
    if (fits) {
      const n = Math.max(nKnown ?? 0, maxId + 1);
      const grouped = new Float64Array(total);
      groupByNeuron(allIds.subarray(0, total), allT, n, prefix(counts, n), grouped);
      col.append(grouped, total);
      return finishUnits(w, loader, tl, counts, n, total, 1);
    }
    counts = new Float64Array(Math.max(nKnown ?? 0, 16));
    maxId = -1;
    total = 0;
  }
  // pass 1: spikes per neuron
  for (const span of tl.episodes) {
    for await (const b of spikeBlocksOf(loader, span)) {
      [counts, maxId] = countIds(b.neuronIds, counts, maxId);
      total += b.neuronIds.length;
    }
  }
  passes = 1;
  const n = Math.max(nKnown ?? 0, maxId + 1);
  const starts = prefix(counts, n);
  // fill passes: positions [o0, o1) of the grouped order at a time
  const cap = Math.max(1, Math.min(total, Math.floor(bufferSpikes)));
  const buf = new Float64Array(total > 0 ? cap : 0);
  let lo = 0; // first neuron whose spikes end after o0
  for (let o0 = 0; o0 < total; o0 += cap) {
    const o1 = Math.min(total, o0 + cap);
    while (lo < n && starts[lo + 1] <= o0) lo++;
    let hi = lo; // last neuron whose spikes start before o1
    while (hi + 1 < n && starts[hi + 1] < o1) hi++;
    const cursor = starts.slice(lo, hi + 1);
    for (const span of tl.episodes) {
      const base = span.offsetSteps - span.firstTimestep;
      for await (const b of spikeBlocksOf(loader, span)) fillTimes(b.neuronIds, b.timesteps, base, dtMs, cursor, lo, hi, o0, o1, buf);
    }
    col.append(buf, o1 - o0);
    passes++;
  }
  return finishUnits(w, loader, tl, counts, n, total, passes);
}

/** starts[i] = spikes of neurons before i (n + 1 entries). */
function prefix(counts: Float64Array, n: number): Float64Array {
  const starts = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) starts[i + 1] = starts[i] + (i < counts.length ? counts[i] : 0);
  return starts;
}

function finishUnits(w: Writer, loader: ExperimentLoader, tl: Timeline, counts: Float64Array, n: number, total: number, passes: number): { spikes: number; units: number; passes: number } {
  const starts = prefix(counts, n);
  const ends = new BigUint64Array(n);
  for (let i = 0; i < n; i++) ends[i] = BigInt(starts[i + 1]);
  const table = new Table(w, "/units", "core", "Units", `every neuron of the network (unit i = neuron id i), ${total} spikes`);
  table.column("spike_times", "the spike times of each unit, in seconds on the file's time axis (general/notes)");
  w.setScalarAttr("/units/spike_times", "resolution", tl.dt.ms / 1000, "float64");
  table.index("spike_times", ends, "index into spike_times: unit i has spike_times[index[i-1]:index[i]]");
  const types = neuronTypesOf(loader, n);
  if (types) table.text("neuron_type", types, "the neuron's type (network_structure/neurons/types)");
  table.finish(n);
  return { spikes: total, units: n, passes };
}

function neuronTypesOf(loader: ExperimentLoader, n: number): string[] | null {
  const t = loader.getNetworkStructure().neurons.types;
  if (!Array.isArray(t) || !t.every((x) => typeof x === "string")) return null;
  const out = (t as string[]).slice(0, n);
  while (out.length < n) out.push("");
  return out;
}

function writeTrials(w: Writer, loader: ExperimentLoader, tl: Timeline): void {
  const t = tl.table;
  const rows = tl.episodes.length;
  const start = new Float64Array(rows), stop = new Float64Array(rows), reward = new Float64Array(rows);
  const success = new Int8Array(rows), episode = new BigInt64Array(rows), steps = new BigInt64Array(rows), spikes = new BigInt64Array(rows);
  const firstTs = new BigInt64Array(rows);
  const status: string[] = [];
  tl.episodes.forEach((e, i) => {
    start[i] = (e.offsetSteps * tl.dt.ms) / 1000;
    stop[i] = ((e.offsetSteps + e.lengthSteps) * tl.dt.ms) / 1000;
    reward[i] = t.totalReward[e.row];
    success[i] = t.success[e.row];
    episode[i] = BigInt(e.id);
    steps[i] = BigInt(e.totalTimesteps);
    spikes[i] = BigInt(e.totalSpikes);
    firstTs[i] = BigInt(e.firstTimestep);
    status.push(t.status[e.row]);
  });
  const tab = new Table(w, "/intervals/trials", "core", "TimeIntervals", "one trial per exported episode of the experiment, in episode order");
  tab.numeric("start_time", start, "start of the episode (seconds)");
  tab.numeric("stop_time", stop, "end of the episode: start + (last - first timestep + 1) * dt (seconds)");
  tab.numeric("episode_id", episode, "the snn-export episode id");
  tab.numeric("success", success, "1 success, 0 failure, -1 not given (endEpisode({ success }))");
  tab.numeric("total_reward", reward, "sum of the episode's rewards");
  tab.numeric("steps", steps, "logged steps of the episode");
  tab.numeric("spikes", spikes, "spikes of the episode");
  tab.numeric("first_timestep", firstTs, "the episode's first logged timestep (its own step counter)");
  tab.text("status", status, "completed, incomplete (open at close) or interrupted (the writer died)");
  tab.finish(rows);
  void loader;
}

function writeEvents(w: Writer, loader: ExperimentLoader, tl: Timeline): void {
  const times: number[] = [], types: string[] = [], data: string[] = [], episode: number[] = [];
  for (const span of tl.episodes) {
    for (const ev of loader.getEpisode(span.id).getEvents()) {
      times.push(seconds(tl, span, ev.timestep));
      types.push(ev.type);
      data.push(JSON.stringify(ev.data ?? null));
      episode.push(span.id);
    }
  }
  if (times.length === 0) return;
  const tab = new Table(w, "/intervals/events", "core", "TimeIntervals", "events logged with logEvent(); start_time = stop_time = the event's time");
  tab.numeric("start_time", Float64Array.from(times), "time of the event (seconds)");
  tab.numeric("stop_time", Float64Array.from(times), "time of the event (seconds)");
  tab.text("event_type", types, "the event's type");
  tab.text("data", data, "the event's data as JSON text");
  tab.numeric("episode_id", BigInt64Array.from(episode, (x) => BigInt(x)), "the snn-export episode id");
  tab.finish(times.length);
}

/** Column dtype for loader arrays: the stored dtype (64-bit integers read as float64 stay 64-bit integers). */
function diskDtype(a: NdArray): Dtype {
  return a.storedDtype ?? a.dtype;
}

function toDtype(a: NdArray, dtype: Dtype): NumericArray {
  if (a.dtype === dtype) return a.data;
  const out = allocate(dtype, a.data.length);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) for (let i = 0; i < a.data.length; i++) out[i] = BigInt(a.data[i] as number);
  else for (let i = 0; i < a.data.length; i++) out[i] = Number(a.data[i]);
  return out;
}

const BEHAVIOR_MODULE = "behaviour of the agent and its rewards (snn-export behavior, rewards)";

interface SeriesColumn { name: string; dtype: Dtype; rowShape: number[]; rowSize: number }

/**
 * Neural state (processing/neural_state/<var>: TimeSeries) and behaviour (processing/behavior/
 * Position/<key>: SpatialSeries for numbers and arrays of 1-3 values, TimeSeries in the module for
 * wider ones), read in windows of steps; rewards as processing/behavior/rewards.
 */
async function writeSeries(w: Writer, loader: ExperimentLoader, tl: Timeline, compression: Compression): Promise<void> {
  for (const stream of ["neural_state", "behavior"] as const) {
    // the variables of every exported episode (one row each), in the order first seen
    const vars = new Map<string, SeriesColumn>();
    for (const span of tl.episodes) {
      if (span.totalTimesteps <= 0) continue;
      const ep = loader.getEpisode(span.id);
      // the first logged step is always a kept neural-state sample: one row tells the variables
      const probe = stream === "neural_state"
        ? ep.getNeuralStates({ from: span.firstTimestep, to: span.firstTimestep + 1 })
        : ep.getBehavior({ from: span.firstTimestep, to: span.firstTimestep + 1 });
      for (const [name, a] of Object.entries(probe.variables)) {
        if (!vars.has(name)) vars.set(name, { name, dtype: diskDtype(a), rowShape: a.shape.slice(1), rowSize: a.shape.slice(1).reduce((x, y) => x * y, 1) });
      }
    }
    if (vars.size === 0) continue;
    const module = stream === "neural_state" ? "/processing/neural_state" : "/processing/behavior";
    if (!w.exists(module)) typedGroup(w, module, "core", "ProcessingModule", { description: stream === "neural_state" ? "neural state of the simulated network (snn-export neural_states)" : BEHAVIOR_MODULE });
    const paths = new Map<string, string>();
    for (const v of vars.values()) {
      const spatial = stream === "behavior" && v.rowShape.length <= 1 && v.rowSize <= 3;
      if (spatial && !w.exists(`${module}/Position`)) typedGroup(w, `${module}/Position`, "core", "Position");
      // a behaviour key named like the module's own children (Position, rewards) gets a suffix
      const p = spatial ? `${module}/Position/${v.name}` : free(w, `${module}/${v.name}`, ["Position", "rewards"]);
      if (v.rowShape.length > 3) continue; // TimeSeries data has at most 4 dimensions
      typedGroup(w, p, "core", spatial ? "SpatialSeries" : "TimeSeries", {
        description: stream === "neural_state" ? `neural state variable ${v.name} of every neuron, as logged` : `behaviour variable ${v.name}, as logged`,
        comments: "exported by snn-export; unit unknown to the exporter (the caller's values, unscaled)",
      });
      paths.set(v.name, p);
    }
    const cols = new Map([...paths].map(([name, p]) => {
      const v = vars.get(name)!;
      const rowBytes = v.rowSize * allocate(v.dtype, 0).BYTES_PER_ELEMENT;
      const col = new ChunkAppender(w.createColumn(`${p}/data`, { dtype: v.dtype, rowShape: v.rowShape, chunkRows: Math.max(1, Math.min(CHUNK, Math.floor((1 << 20) / Math.max(1, rowBytes)))), compression }), v.dtype);
      // each series has its own copy of the time axis (a shared, linked one trips hdmf's reader)
      const times = new ChunkAppender(w.createColumn(`${p}/timestamps`, { dtype: "float64", rowShape: [], chunkRows: CHUNK, compression, family: `${module}/timestamps` }), "float64");
      return [name, { v, col, times }];
    }));
    // rows in windows of steps (at most ~32 MiB of rows at a time)
    const rowBytes = [...vars.values()].reduce((s, v) => s + v.rowSize * 8, 8);
    for (const span of tl.episodes) {
      if (span.totalTimesteps <= 0) continue;
      const ep: EpisodeData = loader.getEpisode(span.id);
      const window = Math.max(1, Math.floor((32 << 20) / rowBytes));
      for (let from = span.firstTimestep; from <= span.lastTimestep; from += window) {
        const part = stream === "neural_state"
          ? ep.getNeuralStates({ from, to: from + window })
          : ep.getBehavior({ from, to: from + window });
        const k = part.timesteps.length;
        if (k === 0) continue;
        const t = new Float64Array(k);
        for (let i = 0; i < k; i++) t[i] = seconds(tl, span, part.timesteps[i]);
        for (const [name, { v, col, times }] of cols) {
          times.push(t, k);
          const a = part.variables[name];
          if (a) col.push(toDtype(a, v.dtype), k);
          else {
            const pad = allocate(v.dtype, k * v.rowSize);
            if (pad instanceof Float64Array || pad instanceof Float32Array) pad.fill(NaN);
            col.push(pad, k);
          }
        }
      }
    }
    for (const { col, times } of cols.values()) {
      col.finish();
      times.finish();
    }
    for (const p of paths.values()) {
      const d = `${p}/data`;
      w.setAttr(d, "unit", "a.u.");
      w.setScalarAttr(d, "conversion", 1, "float32");
      w.setScalarAttr(d, "resolution", -1, "float32");
      w.setScalarAttr(d, "offset", 0, "float32");
      typedTimestamps(w, `${p}/timestamps`);
    }
  }
  // rewards: a TimeSeries of the non-zero rewards (every other step had reward 0)
  const rt: number[] = [], rv: number[] = [];
  for (const span of tl.episodes) {
    const r = loader.getEpisode(span.id).getRewards();
    for (let i = 0; i < r.timesteps.length; i++) {
      rt.push(seconds(tl, span, r.timesteps[i]));
      rv.push(r.values[i]);
    }
  }
  const module = "/processing/behavior";
  if (!w.exists(module)) typedGroup(w, module, "core", "ProcessingModule", { description: BEHAVIOR_MODULE });
  const p = free(w, `${module}/rewards`);
  typedGroup(w, p, "core", "TimeSeries", { description: "the non-zero rewards (every other logged step had reward 0)", comments: "exported by snn-export" });
  w.writeArray(`${p}/data`, Float64Array.from(rv), [rv.length], compression, CHUNK);
  w.setAttr(`${p}/data`, "unit", "a.u.");
  w.setScalarAttr(`${p}/data`, "conversion", 1, "float32");
  w.setScalarAttr(`${p}/data`, "resolution", -1, "float32");
  w.setScalarAttr(`${p}/data`, "offset", 0, "float32");
  w.writeArray(`${p}/timestamps`, Float64Array.from(rt), [rt.length], compression, CHUNK);
  typedTimestamps(w, `${p}/timestamps`);
}

/** `path`, or `path_1`, `path_2`, … when it exists or its last part is one of `reserved`. */
function free(w: Writer, path: string, reserved: string[] = []): string {
  const taken = (p: string) => w.exists(p) || reserved.includes(p.slice(p.lastIndexOf("/") + 1));
  if (!taken(path)) return path;
  let k = 1;
  while (w.exists(`${path}_${k}`)) k++;
  return `${path}_${k}`;
}

function typedTimestamps(w: Writer, path: string): void {
  w.setScalarAttr(path, "interval", 1, "int32");
  w.setAttr(path, "unit", "seconds");
}

function writeNetwork(w: Writer, loader: ExperimentLoader, tl: Timeline, compression: Compression): void {
  const net = loader.getNetworkStructure();
  const neurons = Object.entries(net.neurons);
  if (neurons.length > 0) {
    let rows = -1;
    for (const [, f] of neurons) rows = Math.max(rows, Array.isArray(f) ? f.length : f.shape[0]);
    const tab = new Table(w, "/analysis/network_neurons", "hdmf-common", "DynamicTable", "network_structure/neurons: one row per neuron, every field as saved");
    for (const [name, f] of neurons) {
      if (Array.isArray(f)) {
        if (f.length === rows) tab.text(name, f as string[], `neuron field ${name}`);
      } else if (f.shape[0] === rows && f.shape.length <= 4) tab.numeric(name, toDtype(f, diskDtype(f)), `neuron field ${name}`, f.shape, compression);
    }
    tab.finish(Math.max(0, rows));
  }
  if (net.weights) {
    const { indptr, indices, data, shape } = net.weights;
    const nnz = indices.length;
    const src = new BigInt64Array(nnz), dst = new BigInt64Array(nnz);
    for (let r = 0; r + 1 < indptr.length; r++) for (let k = indptr[r]; k < indptr[r + 1]; k++) src[k] = BigInt(r);
    for (let k = 0; k < nnz; k++) dst[k] = BigInt(Number(indices[k]));
    const tab = new Table(w, "/analysis/initial_weights", "hdmf-common", "DynamicTable", `network_structure/initial_weights: the non-zero entries of the ${shape[0]} x ${shape[1]} weight matrix, row-major (CSR order)`);
    tab.numeric("source", src, "source neuron (row)", undefined, compression);
    tab.numeric("target", dst, "target neuron (column)", undefined, compression);
    tab.numeric("weight", data, "the weight", undefined, compression);
    tab.finish(nnz);
  }
  const t: number[] = [], syn: number[] = [], so: number[] = [], ta: number[] = [], ow: number[] = [], nw: number[] = [], epi: number[] = [];
  for (const span of tl.episodes) {
    const c = loader.getEpisode(span.id).getWeightChanges();
    for (let i = 0; i < c.timesteps.length; i++) {
      t.push(seconds(tl, span, c.timesteps[i]));
      syn.push(c.synapseIds[i]); so.push(c.sourceIds[i]); ta.push(c.targetIds[i]);
      ow.push(c.oldWeights[i]); nw.push(c.newWeights[i]); epi.push(span.id);
    }
  }
  if (t.length > 0) {
    const i64 = (a: number[]) => BigInt64Array.from(a, (x) => BigInt(x));
    const tab = new Table(w, "/analysis/weight_changes", "hdmf-common", "DynamicTable", "logged weight changes, per episode sorted by time (stable); ids -1 where not given");
    tab.numeric("time", Float64Array.from(t), "time of the change (seconds)", undefined, compression);
    tab.numeric("synapse_id", i64(syn), "synapse id, -1 when given by source and target", undefined, compression);
    tab.numeric("source_id", i64(so), "source neuron, -1 when given by synapse id", undefined, compression);
    tab.numeric("target_id", i64(ta), "target neuron, -1 when given by synapse id", undefined, compression);
    tab.numeric("old_weight", Float64Array.from(ow), "weight before", undefined, compression);
    tab.numeric("new_weight", Float64Array.from(nw), "weight after", undefined, compression);
    tab.numeric("episode_id", i64(epi), "the snn-export episode id", undefined, compression);
    tab.finish(t.length);
  }
}

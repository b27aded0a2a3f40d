/**
 * What the viewer's server sends: the experiment read through the loader's public API (lazy
 * windows, live mode), turned into small JSON answers and windowed, downsampled binary ones. Every
 * windowed answer is bounded by the pixels the page shows and by a hard byte cap, whatever the
 * window asks for.
 *
 * A file whose writer has not closed it is opened in live mode and opened again when it changes
 * on disk (size or mtime), at most every {@link REOPEN_MS}: the loader sees episodes started after
 * its open only when opened again. Reads are synchronous, so a reopen never closes a loader in the
 * middle of an answer.
 */
import { statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { ExperimentLoader, ValidationError, type EpisodeData, type NdArray } from "snn-export";
import { pack } from "./binary.js";
import { binOverview, makeSpikeOverview, type SpikeOverview } from "./spike-overview.js";
import { downsampled, network, strided } from "./summaries.js";

/** Hard cap of a windowed binary answer. */
export const MAX_RESPONSE_BYTES = 1_000_000;
/** A raster window with at most this many spikes is sent as a spike list (8 bytes a spike), else as bins. */
export const MAX_SPIKE_LIST = 60_000;
/** Spikes read per window while binning a raster (bounded memory for any window). */
const SPIKES_PER_READ = 1_000_000;
/**
 * A raster window expected to hold more spikes than this (of a finished episode) is drawn from the
 * episode's spike overview instead of read again (see {@link SpikeOverview}).
 */
export const DIRECT_SPIKES = 1_000_000;
/** Spike overviews kept (the most recently used episodes). */
const OVERVIEWS_KEPT = 2;
/** Series in one trace answer. */
export const MAX_SERIES = 32;
/** Events listed per marker answer. */
export const MAX_EVENTS = 2_000;
/** Minimum time between two opens of a file that is being written. */
export const REOPEN_MS = 250;

export interface RasterRequest {
  from?: number;
  to?: number;
  /** First neuron (inclusive) and last (exclusive). */
  n0?: number;
  n1?: number;
  /** Pixel columns (time) and rows (neurons) the page draws. */
  width: number;
  height: number;
}

export interface SeriesRequest {
  from?: number;
  to?: number;
  width: number;
}

export interface TraceRequest extends SeriesRequest {
  variables: string[];
  neurons: number[];
}

export interface ViewOptions {
  /** {@link DIRECT_SPIKES}; smaller in tests. */
  directSpikes?: number;
}

/** An answer: JSON or a packed binary body. */
export type Answer = { json: unknown } | { binary: Buffer };

const STATUS_CODES: Record<string, number> = { running: 0, completed: 1, incomplete: 2, interrupted: 3 };

export class ExperimentView {
  private loader: ExperimentLoader;
  private live: boolean;
  private seen: { size: number; mtimeMs: number };
  private openedAt: number;
  private changedAt: number;
  /** Bumped at every reopen; the page compares it to know something changed. */
  generation = 0;
  readonly filePath: string;
  private readonly overviews = new Map<number, SpikeOverview>();
  private readonly directSpikes: number;

  private constructor(loader: ExperimentLoader, live: boolean, options: ViewOptions) {
    this.directSpikes = options.directSpikes ?? DIRECT_SPIKES;
    this.loader = loader;
    this.live = live;
    this.filePath = loader.filePath;
    this.seen = fileStamp(this.filePath);
    this.openedAt = Date.now();
    this.changedAt = this.openedAt;
  }

  /** Opens `target` (an experiment directory or .h5 file); loader errors (NOT_FOUND, NOT_SNN_EXPORT, ...) pass through. */
  static async open(target: string, options: ViewOptions = {}): Promise<ExperimentView> {
    // live first: a plain open of a file that is being written waits for it to hold still
    const live = await ExperimentLoader.open(target, { live: true });
    if (live.rootAttributes.status !== "closed") return new ExperimentView(live, true, options);
    // closed by its writer: it does not change any more, read it as a closed file
    const path = live.filePath;
    live.close();
    return new ExperimentView(await ExperimentLoader.open(path), false, options);
  }

  private refreshing: Promise<void> | null = null;

  /** Opens the file again when it changed on disk since the last open (one reopen at a time). */
  refresh(): Promise<void> {
    if (this.refreshing === null) {
      this.refreshing = this.reopenIfChanged().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async reopenIfChanged(): Promise<void> {
    const now = Date.now();
    if (now - this.openedAt < REOPEN_MS) return;
    let stamp: { size: number; mtimeMs: number };
    try {
      stamp = fileStamp(this.filePath);
    } catch {
      return; // gone for a moment (moved, replaced): keep what we have
    }
    if (stamp.size === this.seen.size && stamp.mtimeMs === this.seen.mtimeMs) return;
    const next = await ExperimentLoader.open(this.filePath, { live: true });
    // once closed by its writer, the file does not change any more: read it as a closed file
    let live = true;
    let loader = next;
    if (next.rootAttributes.status === "closed") {
      next.close();
      loader = await ExperimentLoader.open(this.filePath);
      live = false;
    }
    const old = this.loader;
    this.loader = loader;
    this.live = live;
    this.seen = stamp;
    this.openedAt = now;
    this.changedAt = now;
    this.generation++;
    old.close();
  }

  close(): void {
    this.loader.close();
  }

  private statusCache: { generation: number; value: Record<string, unknown> } | null = null;

  /**
   * Root status, episode count and the last episode's counters: what the page polls every second.
   * Read once per open of the file (the root attributes and one episode's attributes, not the
   * episode table).
   */
  status(): unknown {
    if (this.statusCache?.generation !== this.generation) {
      const l = this.loader;
      const root = l.rootAttributes;
      const ids = l.listEpisodes();
      const lastId = ids[ids.length - 1];
      const a = lastId === undefined ? null : l.getEpisode(lastId).attrs;
      const fin = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : null);
      const str = (x: unknown) => (typeof x === "string" ? x : null);
      const status = str(root.status);
      this.statusCache = {
        generation: this.generation,
        value: {
          generation: this.generation,
          live: this.live,
          storedStatus: status,
          endTime: str(root.end_time),
          episodeCount: ids.length,
          last: a === null
            ? null
            : { id: lastId, status: a.status ?? null, totalTimesteps: fin(a.total_timesteps), totalSpikes: fin(a.total_spikes), totalReward: fin(a.total_reward), lastTimestep: fin(a.last_timestep) },
        },
      };
    }
    const stored = this.statusCache.value.storedStatus as string | null;
    return {
      ...this.statusCache.value,
      status: displayStatus(stored, this.live, this.seen.mtimeMs),
      secondsSinceChange: Math.round((Date.now() - this.changedAt) / 1000),
    };
  }

  /** Name, status, times, config, provenance, network: the overview. */
  overview(): unknown {
    const l = this.loader;
    const meta = l.getMetadata();
    const { git, runtime, user, experimentName, startTime, endTime, status, formatVersion, layout, exporterOptions, ...other } = meta;
    const code = safe(() => l.listCodeFiles(), []);
    return {
      name: experimentName ?? basename(dirname(this.filePath)),
      file: basename(this.filePath),
      directory: basename(dirname(this.filePath)),
      status: displayStatus(status, this.live, this.seen.mtimeMs),
      live: this.live,
      startTime,
      endTime,
      formatVersion,
      layout,
      exporterOptions,
      config: safe(() => l.getConfig(), {}),
      user,
      runtime: runtime ?? safe(() => l.getRuntime(), null),
      git: git === undefined ? null : withoutDiff(git),
      hasDiff: typeof (git as { diff?: unknown } | undefined)?.diff === "string",
      code: code.map((f, index) => ({ index, path: f.path, size: f.size, stored: f.stored, reason: f.reason ?? null, sha256: f.sha256 })),
      network: network(l),
      checkpoints: safe(() => l.listCheckpoints(), []),
      episodeCount: l.episodeCount,
      otherMetadata: Object.keys(other),
    };
  }

  /** Text of the code snapshot's file number `index` (its position in the overview's list). */
  codeFile(index: number): unknown {
    const files = this.loader.listCodeFiles();
    const f = files[index];
    if (f === undefined) throw new ValidationError("NOT_FOUND", `no code snapshot file number ${index} (the snapshot has ${files.length})`);
    if (!f.stored) throw new ValidationError("NOT_FOUND", `${f.path} was not stored in the code snapshot: ${f.reason ?? "no reason recorded"}`);
    return { path: f.path, text: this.loader.getCodeFile(f.path) };
  }

  /** The git diff recorded with the run. */
  gitDiff(): unknown {
    const git = this.loader.getMetadata().git as { diff?: unknown } | undefined;
    if (typeof git?.diff !== "string") throw new ValidationError("NOT_FOUND", "no git diff was recorded with this run");
    return { text: git.diff };
  }

  /** The episode table from row `from` on, the columns the learning curve draws (binary). */
  episodes(from: number): Answer {
    const t = this.loader.episodes();
    const n = t.ids.length;
    const lo = Math.min(from, n);
    const status = new Uint8Array(n - lo);
    for (let i = lo; i < n; i++) status[i - lo] = STATUS_CODES[t.status[i]] ?? 255;
    return {
      binary: pack(
        { from: lo, count: n - lo, total: n, generation: this.generation, statusNames: Object.keys(STATUS_CODES) },
        {
          ids: t.ids.slice(lo),
          status,
          success: t.success.slice(lo),
          totalTimesteps: t.totalTimesteps.slice(lo),
          totalSpikes: t.totalSpikes.slice(lo),
          totalReward: t.totalReward.slice(lo),
        },
      ),
    };
  }

  /** One episode's attributes, what it stores, and its event / reward / weight-change counts. */
  episode(id: number): unknown {
    const ep = this.loader.getEpisode(id);
    const attrs = ep.attrs;
    const range = timeRange(ep);
    const states = ep.getNeuralStates({ from: range.from, to: range.from + 1 });
    const behavior = ep.getBehavior({ from: range.from, to: range.from + 1 });
    const shapeOf = (v: NdArray) => v.shape.slice(1);
    return {
      id,
      attrs,
      from: range.from,
      to: range.to,
      nNeurons: neuronCount(this.loader, ep, range),
      neuralVariables: Object.entries(states.variables).map(([name, v]) => ({ name, shape: shapeOf(v) })),
      behaviorVariables: Object.entries(behavior.variables).map(([name, v]) => ({ name, shape: shapeOf(v) })),
      summary: safe(() => ep.getSummary(), null),
      staticData: safe(() => ep.listStaticData(), []),
      generation: this.generation,
    };
  }

  /**
   * Spikes of a window of an episode, for the raster: the spikes themselves when there are at most
   * {@link MAX_SPIKE_LIST}, else counts per (pixel column x neuron row) bin. Read window by window
   * through `getSpikes({ from, to, neurons })`, so memory stays bounded for any window. A window
   * of a finished episode expected to hold more than {@link DIRECT_SPIKES} spikes is binned from
   * the episode's {@link SpikeOverview} when that is fine enough for the pixel columns asked for.
   */
  raster(id: number, req: RasterRequest): Answer {
    const ep = this.loader.getEpisode(id);
    const range = timeRange(ep);
    const from = Math.max(range.from, req.from ?? range.from);
    const to = Math.max(from, Math.min(range.to, req.to ?? range.to));
    const nAll = neuronCount(this.loader, ep, range);
    const n0 = Math.max(0, req.n0 ?? 0);
    const n1 = Math.max(n0, req.n1 ?? nAll);
    const span = Math.max(1, to - from);
    const cols = Math.max(1, Math.min(req.width, span));
    let rows = Math.max(1, Math.min(req.height, n1 - n0 || 1));
    // bins as u16: the byte cap bounds columns x rows
    const maxCells = Math.floor((MAX_RESPONSE_BYTES - 4096) / 2);
    if (cols * rows > maxCells) rows = Math.max(1, Math.floor(maxCells / cols));
    const bins = new Uint32Array(cols * rows);
    const colScale = cols / span;
    const rowScale = rows / Math.max(1, n1 - n0);
    let listT: Uint32Array | null = new Uint32Array(1024) as Uint32Array;
    let listN: Uint32Array = new Uint32Array(1024);
    let count = 0;
    let maxBin = 0;
    const total = Number(ep.attrs.total_spikes);
    const density = Number.isFinite(total) && total > 0 ? total / Math.max(1, range.to - range.from) : 1;
    if (density * span > this.directSpikes && ep.attrs.status !== "running") {
      let ov = this.spikeOverview(ep, range, nAll, density);
      // the coarsest level still at most one pixel column a bin: fewer bins to go through
      while (ov.coarser && span / cols >= ov.coarser.binSteps) ov = ov.coarser;
      if (span / cols >= ov.binSteps) return { binary: binOverview(ov, { from, to, n0, n1, cols, rows }, { nNeurons: nAll, generation: this.generation }) };
    }
    const stepsPerRead = Math.max(1_000, Math.floor(SPIKES_PER_READ / density));
    const neurons = { from: n0, to: n1 };
    for (let lo = from; lo < to; lo += stepsPerRead) {
      const hi = Math.min(to, lo + stepsPerRead);
      const sp = ep.getSpikes({ from: lo, to: hi, neurons });
      const ts = sp.timesteps;
      const ns = sp.neuronIds;
      for (let i = 0; i < ns.length; i++) {
        const c = Math.min(cols - 1, Math.floor((ts[i] - from) * colScale));
        const r = Math.min(rows - 1, Math.floor((ns[i] - n0) * rowScale));
        const b = ++bins[r * cols + c];
        if (b > maxBin) maxBin = b;
        if (listT !== null) {
          if (count >= MAX_SPIKE_LIST) listT = null;
          else {
            if (count === listT.length) {
              listT = grow(listT);
              listN = grow(listN);
            }
            listT[count] = ts[i] - from;
            listN[count] = ns[i];
          }
        }
        count++;
      }
    }
    const meta = { from, to, n0, n1, nNeurons: nAll, spikes: count, generation: this.generation };
    if (listT !== null) {
      return { binary: pack({ ...meta, kind: "spikes" }, { t: listT.slice(0, count), n: listN.slice(0, count) }) };
    }
    const out = new Uint16Array(bins.length);
    for (let i = 0; i < bins.length; i++) out[i] = Math.min(65_535, bins[i]);
    return { binary: pack({ ...meta, kind: "bins", cols, rows, maxBin }, { bins: out }) };
  }

  /** The episode's spike overview: kept, or made now in one pass over its spikes. */
  private spikeOverview(ep: EpisodeData, range: { from: number; to: number }, nAll: number, density: number): SpikeOverview {
    const key = `${range.from}:${range.to}:${ep.attrs.total_spikes}:${nAll}`;
    const kept = this.overviews.get(ep.id);
    if (kept && kept.key === key) {
      this.overviews.delete(ep.id);
      this.overviews.set(ep.id, kept); // most recently used last
      return kept;
    }
    const ov = makeSpikeOverview(ep, range, nAll, density, key, SPIKES_PER_READ);
    this.overviews.set(ep.id, ov);
    while (this.overviews.size > OVERVIEWS_KEPT) this.overviews.delete(this.overviews.keys().next().value as number);
    return ov;
  }

  /** Chosen neurons' neural state variables over a window, min/max per pixel column when longer than the width. */
  traces(id: number, req: TraceRequest): Answer {
    const ep = this.loader.getEpisode(id);
    const range = timeRange(ep);
    const { from, to } = clampWindow(range, req);
    if (req.variables.length * Math.max(1, req.neurons.length) > MAX_SERIES) {
      throw new ValidationError("OUT_OF_RANGE", `at most ${MAX_SERIES} traces (variables x neurons) at once, asked for ${req.variables.length * req.neurons.length}`);
    }
    const ns = this.loader.getNetworkStructure().nNeurons;
    const bad = req.neurons.find((n) => ns !== null && n >= ns);
    if (bad !== undefined) throw new ValidationError("OUT_OF_RANGE", `neuron ${bad} does not exist: the network has ${ns} neurons (0..${(ns ?? 1) - 1})`);
    const s = ep.getNeuralStates({ variables: req.variables, from, to, neurons: req.neurons });
    const names: string[] = [];
    const columns: ArrayLike<number>[] = [];
    for (const v of req.variables) {
      const a = s.variables[v];
      const k = a.shape[1] ?? 1;
      const inner = a.shape.slice(2).reduce((x, y) => x * y, 1);
      for (let j = 0; j < k; j++) {
        names.push(`${v}[${req.neurons[j] ?? j}]`);
        columns.push(strided(a, j * inner, k * inner));
      }
    }
    return { binary: downsampled({ from, to, names, generation: this.generation }, s.timesteps, columns, names, req.width) };
  }

  /** Behaviour variables over a window (a `[T, k]` variable gives k series), min/max per pixel column. */
  behavior(id: number, req: SeriesRequest): Answer {
    const ep = this.loader.getEpisode(id);
    const { from, to } = clampWindow(timeRange(ep), req);
    const b = ep.getBehavior({ from, to });
    const names: string[] = [];
    const columns: ArrayLike<number>[] = [];
    for (const [name, a] of Object.entries(b.variables)) {
      const k = a.shape.slice(1).reduce((x, y) => x * y, 1);
      if (names.length + k > MAX_SERIES) break;
      for (let j = 0; j < k; j++) {
        names.push(k === 1 ? name : `${name}[${j}]`);
        columns.push(strided(a, j, k));
      }
    }
    return { binary: downsampled({ from, to, names, generation: this.generation }, b.timesteps, columns, names, req.width) };
  }

  /**
   * Rewards, events and weight changes of a window. Rewards: each one while there are at most 2
   * per pixel column, else summed per column. Events: the first {@link MAX_EVENTS} with their
   * data. Weight changes: per column, how many and the mean and largest |change|.
   */
  markers(id: number, req: SeriesRequest): Answer {
    const ep = this.loader.getEpisode(id);
    const { from, to } = clampWindow(timeRange(ep), req);
    const cols = Math.max(1, Math.min(req.width, to - from));
    const col = (t: number) => Math.min(cols - 1, Math.floor(((t - from) * cols) / Math.max(1, to - from)));
    const r = ep.getRewards();
    let rt: number[] = [];
    let rv: number[] = [];
    for (let i = 0; i < r.timesteps.length; i++) {
      if (r.timesteps[i] >= from && r.timesteps[i] < to) {
        rt.push(r.timesteps[i]);
        rv.push(r.values[i]);
      }
    }
    let rewardsBinned = false;
    if (rt.length > 2 * cols) {
      const sums = new Float64Array(cols);
      const used = new Uint8Array(cols);
      for (let i = 0; i < rt.length; i++) {
        sums[col(rt[i])] += rv[i];
        used[col(rt[i])] = 1;
      }
      const t2: number[] = [];
      const v2: number[] = [];
      for (let c = 0; c < cols; c++) if (used[c]) {
        t2.push(from + ((c + 0.5) * (to - from)) / cols);
        v2.push(sums[c]);
      }
      rt = t2;
      rv = v2;
      rewardsBinned = true;
    }
    const events = ep.getEvents().filter((e) => e.timestep >= from && e.timestep < to);
    // the events' data is the user's JSON: keep the listed ones within a share of the byte cap
    let listed = 0;
    let eventBytes = 0;
    while (listed < Math.min(events.length, MAX_EVENTS) && eventBytes < MAX_RESPONSE_BYTES / 4) {
      eventBytes += JSON.stringify(events[listed]).length;
      listed++;
    }
    const wc = ep.getWeightChanges();
    const wcCount = new Float64Array(cols);
    const wcMean = new Float64Array(cols);
    const wcMax = new Float64Array(cols);
    let wcTotal = 0;
    for (let i = 0; i < wc.timesteps.length; i++) {
      const t = wc.timesteps[i];
      if (t < from || t >= to) continue;
      const c = col(t);
      const d = Math.abs(wc.newWeights[i] - wc.oldWeights[i]);
      wcCount[c]++;
      wcMean[c] += d;
      if (d > wcMax[c]) wcMax[c] = d;
      wcTotal++;
    }
    const wcTime = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      wcTime[c] = from + (c * (to - from)) / cols;
      wcMean[c] = wcCount[c] > 0 ? wcMean[c] / wcCount[c] : NaN;
      if (wcCount[c] === 0) wcMax[c] = NaN;
    }
    return {
      binary: pack(
        {
          from, to, cols, rewardsBinned, rewardCount: rt.length,
          events: events.slice(0, listed), eventCount: events.length, weightChangeCount: wcTotal,
          generation: this.generation,
        },
        {
          rewardT: Float64Array.from(rt), rewardV: Float64Array.from(rv),
          wcTime, wcCount, wcMean, wcMax,
        },
      ),
    };
  }
}

function fileStamp(path: string): { size: number; mtimeMs: number } {
  const s = statSync(path);
  return { size: s.size, mtimeMs: s.mtimeMs };
}

/** open (being written), closed, or interrupted (not closed, read as a finished file). */
/** A file not closed and not written for this long is shown as interrupted (its writer is most likely gone). */
export const STALE_MS = 60_000;

/**
 * closed; open (not closed, written in the last {@link STALE_MS}); interrupted (not closed, and
 * not written for longer: a writer that was killed leaves the stored status "open"). A file that
 * grows again shows open again.
 */
function displayStatus(status: string | null, live: boolean, lastWriteMs: number): string {
  if (status === "closed") return "closed";
  if (status === "open" || status === "interrupted") return live && Date.now() - lastWriteMs <= STALE_MS ? "open" : "interrupted";
  return status ?? "unknown";
}

function withoutDiff(git: object): object {
  const { diff: _diff, ...rest } = git as { diff?: unknown };
  return rest;
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** Timesteps `[from, to)` of an episode (empty episodes: [0, 0)). */
function timeRange(ep: EpisodeData): { from: number; to: number } {
  const a = ep.attrs;
  const first = Number(a.first_timestep);
  const last = Number(a.last_timestep);
  if (Number.isFinite(first) && Number.isFinite(last) && last >= first) return { from: first, to: last + 1 };
  const ts = ep.getTimesteps();
  return ts.length ? { from: ts[0], to: ts[ts.length - 1] + 1 } : { from: 0, to: 0 };
}

function clampWindow(range: { from: number; to: number }, req: { from?: number; to?: number }): { from: number; to: number } {
  const from = Math.max(range.from, req.from ?? range.from);
  return { from, to: Math.max(from, Math.min(range.to, req.to ?? range.to)) };
}

/** Neurons of the network; without `n_neurons`, the width of a neural state variable, else 1 + the largest id spiking in the episode's start. */
function neuronCount(l: ExperimentLoader, ep: EpisodeData, range: { from: number; to: number }): number {
  const n = safe(() => l.getNetworkStructure().nNeurons, null);
  if (n !== null && n > 0) return n;
  const ids = safe(() => l.getNetworkStructure().neurons.ids, undefined);
  if (ids !== undefined && !Array.isArray(ids) && ids.shape[0] > 0) return ids.shape[0];
  const st = ep.getNeuralStates({ from: range.from, to: range.from + 1 });
  for (const v of Object.values(st.variables)) if (v.shape.length >= 2) return v.shape[1];
  const sp = ep.getSpikes({ from: range.from, to: Math.min(range.to, range.from + 10_000) });
  let max = -1;
  for (let i = 0; i < sp.neuronIds.length; i++) if (sp.neuronIds[i] > max) max = sp.neuronIds[i];
  return max + 1;
}

function grow(a: Uint32Array): Uint32Array {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}

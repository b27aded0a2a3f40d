/**
 * One episode being written: per-stream chunk buffers fed by `log`, sparse encodings of spikes
 * and rewards, weight changes and events kept until the episode ends.
 */
import { dtypeOf, isBig, isFloat, isNumericArray, smallestUnsigned, type Dtype, type NumericArray } from "../dtypes.js";
import { ValidationError } from "../errors.js";
import { describe, toNd, numbersToInt64 } from "../encoding/arrays.js";
import { toJsonText } from "../encoding/json.js";
import type { AppendColumn, Compression, Writer, StringColumn } from "../h5/index.js";
import { writeEntry } from "./entries.js";
import type { ResolvedOptions } from "./options.js";
import { ChunkedStream, streamFamily } from "./stream.js";
import type { EventInput, StepInput, WeightChangeInput } from "./types.js";
import { checkFinite, checkKey, checkTimestep } from "./validate.js";

interface VarSpec { dtype: Dtype; shape: number[]; size: number; stream: ChunkedStream }
interface BehSpec extends VarSpec { key: string; index: number }

/** Network facts the episode validates against. */
export interface NetworkFacts { nNeurons: number | null; nSynapses: number | null }

/**
 * `optimized`: whole chunks buffered, spikes as CSR over time, sparse rewards (DataExporter).
 * `standard`: every row written as it is logged, spikes as a dense [T, N] uint8 matrix, a reward
 * every step (StandardDataExporter, the naive baseline).
 */
export type Layout = "optimized" | "standard";

/** Minimum ids per chunk of `spikes/neuron_ids`. */
export const SPIKE_ID_CHUNK = 65536;

/**
 * An empty array whose V8 elements kind is already "any value". A `[]` starts as small integers
 * and changes map at its first push of an object: code V8 optimized on one episode's (grown)
 * list met the next episode's new empty list at its first step and was thrown away ("wrong map",
 * seen with --trace-deopt), to be compiled again.
 */
function objectArray<T>(): T[] {
  const a: (T | null)[] = [null];
  a.length = 0;
  return a as T[];
}

/**
 * A Uint32Array over the spike masks' buffer, for scanMask (a view per step cost an allocation).
 * One per exporter, kept from episode to episode: a view made anew at each episode's first step
 * ran code the optimized caller had not seen since the first episode, which threw that code away.
 */
export class MaskWords {
  private words: Uint32Array = new Uint32Array(0);
  private buffer: ArrayBufferLike | null = null;

  /** A view covering `mask` (reused while the buffer is the same), or null when the mask is not 4-byte aligned. */
  of(mask: Uint8Array): Uint32Array | null {
    if ((mask.byteOffset & 3) !== 0) return null;
    const end = (mask.byteOffset + mask.length) >> 2;
    // a new buffer, or one that grew (resizable) or was detached since: a new view
    if (mask.buffer !== this.buffer || end > this.words.length) {
      this.words = new Uint32Array(mask.buffer, 0, mask.buffer.byteLength >> 2);
      this.buffer = mask.buffer;
    }
    return this.words;
  }
}

export class EpisodeWriter {
  readonly path: string;
  steps = 0;
  totalSpikes = 0;
  totalReward = 0;
  firstTimestep = -1;
  lastTimestep = -1;
  private readonly comp: Compression;
  private readonly timesteps: ChunkedStream;
  private readonly nsTimesteps: ChunkedStream;
  private readonly counts: ChunkedStream | null;
  private readonly spikeIds: ChunkedStream | null;
  private spikeMatrix: ChunkedStream | null = null;
  private denseLag = 0;
  private readonly rewardT: ChunkedStream | null;
  private readonly rewardV: ChunkedStream;
  private readonly vars = new Map<string, VarSpec>();
  private readonly behavior = new Map<string, BehSpec>();
  private readonly behaviorList: BehSpec[] = objectArray<BehSpec>();
  /**
   * This step's behaviour values by key index: `behSet` 0 absent, 1 a number (in `behNum`, not
   * boxed), 2 an array (in `behArr`). Cleared by log() before each step.
   */
  private behSet = new Uint8Array(8);
  private behNum = new Float64Array(8);
  private behArr: (NumericArray | null)[] = [];
  private spikeScratch = new Uint32Array(1024);
  private readonly wc = new WeightChanges();
  private pendingNeurons: number | null = null;
  private events: { t: number; type: string; data: string }[] = [];
  private eventsWritten = 0;
  private wcWritten = 0;
  private wcCols: AppendColumn[] = [];
  private eventCols: { t: AppendColumn; types: StringColumn; data: StringColumn } | null = null;

  private readonly bufferRows: number | undefined;

  constructor(
    private readonly w: Writer, readonly id: number, private readonly opts: ResolvedOptions,
    private readonly net: NetworkFacts, readonly layout: Layout = "optimized",
    private readonly masks: MaskWords = new MaskWords(),
  ) {
    this.path = `/episodes/episode_${String(id).padStart(4, "0")}`;
    this.comp = { kind: opts.compression, level: opts.compressionLevel };
    this.bufferRows = layout === "standard" ? 1 : undefined;
    const rows = opts.chunkSize;
    const s = (name: string, bufDtype: Dtype, diskDtype: Dtype | (() => Dtype), chunkRows = rows) =>
      new ChunkedStream(w, `${this.path}/${name}`, { bufDtype, diskDtype, rowShape: [], chunkRows, bufferRows: this.bufferRows, compression: this.comp });
    this.timesteps = s("timesteps", "float64", "int64");
    this.nsTimesteps = s("neural_states/timesteps", "float64", "int64");
    const optimized = layout === "optimized";
    this.counts = optimized ? s("spikes/counts", "uint32", () => (this.net.nNeurons === null ? "uint32" : smallestUnsigned(this.net.nNeurons))) : null;
    // one id per spike, many per step: chunks of at least 65536 ids (gzip of shuffled ids: 15 % smaller and
    // faster per id than 10 000 on stress_test's spikes; FORMAT.md)
    this.spikeIds = optimized ? s("spikes/neuron_ids", "uint32", () => (this.net.nNeurons === null ? "uint32" : smallestUnsigned(Math.max(0, this.net.nNeurons - 1))), Math.max(rows, SPIKE_ID_CHUNK)) : null;
    this.rewardT = optimized ? s("rewards/timesteps", "float64", "int64") : null;
    this.rewardV = s("rewards/values", "float64", "float64");
  }

  /** Validates a whole step, then commits it; an invalid step changes nothing. */
  log(step: StepInput): void {
    if (step === null || typeof step !== "object") throw new ValidationError("INVALID_DATA", `log() takes an object { timestep, neuralState, spikes, behavior, reward }, got ${describe(step)}`);
    const t = checkTimestep(step.timestep, "log()");
    if (this.steps > 0 && t <= this.lastTimestep) {
      throw new ValidationError("TIMESTEP_ORDER", `log(): timestep ${t} is not after the previous timestep ${this.lastTimestep}; timesteps must increase within an episode`);
    }
    this.pendingNeurons = null;
    const keepState = step.neuralState !== undefined && this.steps % this.opts.neuralSamplingRate === 0;
    const state = keepState ? this.checkState(step.neuralState!) : null;
    const nSpikes = step.spikes === undefined ? 0 : this.checkSpikes(step.spikes);
    if (this.behaviorList.length > 0) this.behSet.fill(0);
    const fresh = step.behavior === undefined ? null : this.checkBehavior(step.behavior);
    const reward = step.reward === undefined || step.reward === null ? 0 : checkFinite(step.reward, "log(): reward");
    // commit
    if (this.pendingNeurons !== null) {
      this.net.nNeurons = this.pendingNeurons;
      this.pendingNeurons = null;
    }
    if (fresh) this.registerBehavior(fresh);
    this.commitBehavior();
    if (state) this.commitState(t, state);
    this.commitSpikes(nSpikes);
    if (reward !== 0 || !this.rewardT) {
      if (this.rewardT) {
        (this.rewardT.buf as Float64Array)[this.rewardT.rows] = t;
        this.rewardT.advanceOne();
      }
      (this.rewardV.buf as Float64Array)[this.rewardV.rows] = reward;
      this.rewardV.advanceOne();
      this.totalReward += reward;
    }
    (this.timesteps.buf as Float64Array)[this.timesteps.rows] = t;
    this.timesteps.advanceOne();
    if (this.steps === 0) this.firstTimestep = t;
    this.lastTimestep = t;
    this.steps++;
  }

  private checkState(ns: Record<string, unknown>): [VarSpec | null, string, NumericArray, number[]][] {
    if (ns === null || typeof ns !== "object") throw new ValidationError("INVALID_DATA", `log(): neuralState must be an object of named arrays, got ${describe(ns)}`);
    const out: [VarSpec | null, string, NumericArray, number[]][] = [];
    for (const name in ns) {
      const v = ns[name];
      const known = this.vars.get(name) ?? null;
      let data: NumericArray, shape: number[];
      if (known && isNumericArray(v) && v.length === known.size && known.shape.length === 1) { data = v; shape = known.shape; }
      else {
        checkKey(name, "neural state variable");
        ({ data, shape } = toNd(v, `neuralState.${name}`));
        if (known && (shape.length !== known.shape.length || shape.some((d, i) => d !== known.shape[i]))) {
          throw new ValidationError("SHAPE_MISMATCH", `log(): neural state variable "${name}" has shape ${JSON.stringify(shape)} but had ${JSON.stringify(known.shape)} at earlier steps; a variable's shape is fixed after its first step`);
        }
      }
      if (data.length === 0) throw new ValidationError("INVALID_DATA", `log(): neural state variable "${name}" is empty; pass one value per neuron`);
      const bigMismatch = known !== null && (data instanceof BigInt64Array || data instanceof BigUint64Array) !== (known.dtype === "int64" || known.dtype === "uint64");
      if (known && (this.opts.validateData || bigMismatch) && dtypeOf(data) !== known.dtype) {
        throw new ValidationError("INVALID_DATA", `log(): neural state variable "${name}" is ${dtypeOf(data)} but was ${known.dtype} at earlier steps; pass the same dtype every step`);
      }
      if (this.opts.validateData && !this.opts.allowNonFinite && isFloat(dtypeOf(data))) {
        for (let i = 0; i < data.length; i++) {
          if (!Number.isFinite(data[i] as number)) {
            throw new ValidationError("INVALID_DATA", `log(): neural state variable "${name}" has ${data[i]} at flat index ${i}; fix the simulation or set allowNonFinite: true`);
          }
        }
      }
      out.push([known, name, data, shape]);
    }
    return out;
  }

  private commitState(t: number, state: [VarSpec | null, string, NumericArray, number[]][]): void {
    for (const [known, name, data, shape] of state) {
      let spec = known;
      if (!spec) {
        const dtype = dtypeOf(data);
        const size = data.length;
        const rowBytes = Math.max(1, size * data.BYTES_PER_ELEMENT);
        const chunkRows = Math.max(1, Math.min(this.opts.chunkSize, Math.floor((1 << 20) / rowBytes)));
        const stream = new ChunkedStream(this.w, `${this.path}/neural_states/${name}`, { bufDtype: dtype, diskDtype: dtype, rowShape: shape, chunkRows, bufferRows: this.bufferRows, compression: this.comp });
        // a variable first seen after earlier samples starts later: it is kept only from here on
        spec = { dtype, shape, size, stream };
        this.vars.set(name, spec);
        if (this.nsTimesteps.length > 0 && stream.length === 0) this.padVariable(spec, this.nsTimesteps.length);
      }
      (spec.stream.buf as Float64Array).set(data as Float64Array, spec.stream.rows * spec.size);
      spec.stream.advanceOne();
    }
    // a variable not given at this sample (names in `state` are distinct, and all in `vars` now)
    if (state.length < this.vars.size) {
      for (const [name, spec] of this.vars) {
        if (!state.some(([, n]) => n === name)) this.padVariable(spec, 1);
      }
    }
    (this.nsTimesteps.buf as Float64Array)[this.nsTimesteps.rows] = t;
    this.nsTimesteps.advanceOne();
  }

  /** Rows for samples where a variable was absent: NaN for floats, 0 for integers. */
  private padVariable(spec: VarSpec, rows: number): void {
    for (let r = 0; r < rows; r++) {
      const s = spec.stream;
      s.buf.fill((isFloat(spec.dtype) ? NaN : spec.dtype === "int64" || spec.dtype === "uint64" ? 0n : 0) as never, s.rows * spec.size, (s.rows + 1) * spec.size);
      s.advanceOne();
    }
  }

  private checkSpikes(sp: unknown): number {
    const n = this.net.nNeurons;
    if (sp instanceof Uint8Array || (Array.isArray(sp) && sp.length > 0 && typeof sp[0] === "boolean")) {
      const mask = sp as ArrayLike<number | boolean>;
      if (n !== null && mask.length !== n) {
        throw new ValidationError("SHAPE_MISMATCH", `log(): spike mask has ${mask.length} entries but the network has ${n} neurons; pass one entry per neuron`);
      }
      if (this.spikeScratch.length < mask.length) this.spikeScratch = new Uint32Array(mask.length);
      const out = this.spikeScratch;
      let c = 0;
      if (sp instanceof Uint8Array) {
        c = scanMask(sp, out, this.masks.of(sp));
      } else {
        for (let i = 0; i < mask.length; i++) if (mask[i]) out[c++] = i;
      }
      if (n === null) this.pendingNeurons = mask.length;
      return c;
    }
    if (!(sp instanceof Int32Array || sp instanceof Uint32Array || sp instanceof Uint16Array || Array.isArray(sp))) {
      throw new ValidationError("INVALID_DATA", `log(): spikes must be a 0/1 mask (Uint8Array, boolean[]) or neuron ids (Int32Array, Uint32Array, number[]), got ${describe(sp)}`);
    }
    const ids = sp as ArrayLike<number>;
    if (this.layout === "standard" && n === null) {
      throw new ValidationError("INVALID_DATA", "log(): StandardDataExporter stores spikes as a dense [T, N] matrix and needs the neuron count: call saveNetworkStructure() with neurons first, or pass spikes as a 0/1 mask");
    }
    if (this.spikeScratch.length < ids.length) this.spikeScratch = new Uint32Array(Math.max(ids.length, this.spikeScratch.length * 2));
    const out = this.spikeScratch;
    const limit = n ?? 4294967296;
    let sorted = true;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!(Number.isInteger(id) && id >= 0 && id < limit)) {
        throw new ValidationError("OUT_OF_RANGE", `log(): spike id ${id} at index ${i} is ${Number.isInteger(id) && id >= 0 ? `not below the neuron count ${n}` : "not a non-negative integer"}; ids must be 0 <= id < ${n ?? "2^32"}`);
      }
      out[i] = id;
      if (i > 0 && id <= ids[i - 1]) sorted = false;
    }
    if (!sorted) {
      const s = out.subarray(0, ids.length).sort();
      for (let i = 1; i < s.length; i++) {
        if (s[i] === s[i - 1]) throw new ValidationError("INVALID_DATA", `log(): neuron ${s[i]} is listed twice in this step's spikes; list each spiking neuron once`);
      }
    }
    return ids.length;
  }

  private commitSpikes(c: number): void {
    this.totalSpikes += c;
    if (!this.counts || !this.spikeIds) {
      this.commitDenseSpikes(c);
      return;
    }
    (this.counts.buf as Uint32Array)[this.counts.rows] = c;
    this.counts.advanceOne();
    let i = 0;
    const ids = this.spikeIds;
    const src = this.spikeScratch;
    while (i < c) {
      const m = Math.min(ids.chunkRows - ids.rows, c - i);
      const buf = ids.buf as Uint32Array;
      // a few ids: a plain loop (a subarray per step cost more than the copy); many: set()
      if (m <= 64) for (let k = 0, at = ids.rows; k < m; k++) buf[at + k] = src[i + k];
      else buf.set(src.subarray(i, i + m), ids.rows);
      i += m;
      ids.advanceBy(m);
    }
  }

  /** Standard layout: one uint8 row of the [T, N] spike matrix per step. */
  private commitDenseSpikes(c: number): void {
    if (!this.spikeMatrix) {
      const n = this.net.nNeurons;
      if (n === null) {
        this.denseLag++; // no spikes and no neuron count yet: the zero rows are written once the width is known
        return;
      }
      this.spikeMatrix = new ChunkedStream(this.w, `${this.path}/spikes/spike_matrix`, {
        bufDtype: "uint8", diskDtype: "uint8", rowShape: [n], compression: this.comp,
        chunkRows: Math.max(1, Math.min(this.opts.chunkSize, Math.floor((1 << 20) / Math.max(1, n)))), bufferRows: 1,
      });
    }
    const m = this.spikeMatrix;
    for (; this.denseLag > 0; this.denseLag--) {
      (m.buf as Uint8Array).fill(0);
      m.advanceOne();
    }
    const row = m.buf as Uint8Array;
    row.fill(0);
    for (let i = 0; i < c; i++) row[this.spikeScratch[i]] = 1;
    m.advanceOne();
  }

  /**
   * Checks behaviour values into `behVals` (index = key order); returns new keys to register.
   * Known keys with numbers take a fast path without allocation.
   */
  private checkBehavior(b: Record<string, unknown>): [string, NumericArray | number][] | null {
    if (b === null || typeof b !== "object") throw new ValidationError("INVALID_DATA", `log(): behavior must be an object of named numbers or small arrays, got ${describe(b)}`);
    const set = this.behSet; // cleared by log() before each step
    let fresh: [string, NumericArray | number][] | null = null;
    for (const key in b) {
      const v = b[key];
      const spec = this.behavior.get(key);
      if (spec !== undefined && typeof v === "number" && spec.size === 1 && spec.shape.length === 0) {
        if (this.opts.validateData && !Number.isFinite(v)) throw new ValidationError("INVALID_DATA", `log(): behavior "${key}" is ${v}; pass finite numbers`);
        this.behNum[spec.index] = v;
        set[spec.index] = 1;
        continue;
      }
      const value = this.checkBehaviorValue(key, v, spec);
      if (spec) this.holdBehavior(spec.index, value);
      else (fresh ??= []).push([key, value]);
    }
    const list = this.behaviorList;
    for (let i = 0; i < list.length; i++) {
      if (set[i] === 0 && !isFloat(list[i].dtype)) {
        throw new ValidationError("INVALID_DATA", `log(): integer behavior "${list[i].key}" is missing at this step; give it at every step (float keys may be left out and become NaN)`);
      }
    }
    if (fresh && this.steps > 0) {
      for (const [key, v] of fresh) {
        if (typeof v !== "number" && !isFloat(dtypeOf(v))) {
          throw new ValidationError("INVALID_DATA", `log(): integer behavior "${key}" first appears after the episode's first step; integer keys must be present from the first step`);
        }
      }
    }
    return fresh;
  }

  /** Keeps this step's value of behaviour key `i`. */
  private holdBehavior(i: number, value: NumericArray | number): void {
    if (typeof value === "number") {
      this.behNum[i] = value;
      this.behSet[i] = 1;
    } else {
      this.behArr[i] = value;
      this.behSet[i] = 2;
    }
  }

  private checkBehaviorValue(key: string, v: unknown, spec: BehSpec | undefined): NumericArray | number {
    if (typeof v === "number") {
      if (spec) throw new ValidationError("SHAPE_MISMATCH", `log(): behavior "${key}" was an array of ${spec.size} values at earlier steps, now a number`);
      if (this.opts.validateData && !Number.isFinite(v)) throw new ValidationError("INVALID_DATA", `log(): behavior "${key}" is ${v}; pass finite numbers`);
      checkKey(key, "behavior");
      return v;
    }
    const nd = toNd(v, `behavior.${key}`);
    if (nd.shape.length !== 1 || nd.data.length === 0) throw new ValidationError("SHAPE_MISMATCH", `log(): behavior "${key}" must be a number or a non-empty 1-D array, got shape ${JSON.stringify(nd.shape)}`);
    if (spec && (spec.size !== nd.data.length || spec.shape.length !== 1)) {
      throw new ValidationError("SHAPE_MISMATCH", `log(): behavior "${key}" has ${nd.data.length} values but had ${spec.shape.length ? spec.size : "a single number"} at earlier steps`);
    }
    if (spec && isBig(spec.dtype) !== isBig(dtypeOf(nd.data))) {
      throw new ValidationError("INVALID_DATA", `log(): behavior "${key}" is ${dtypeOf(nd.data)} but was ${spec.dtype} at earlier steps`);
    }
    if (!spec) checkKey(key, "behavior");
    return nd.data;
  }

  private registerBehavior(fresh: [string, NumericArray | number][]): void {
    for (const [key, v] of fresh) {
      const dtype: Dtype = typeof v === "number" ? "float64" : dtypeOf(v);
      const shape = typeof v === "number" ? [] : [v.length];
      const size = typeof v === "number" ? 1 : v.length;
      const stream = new ChunkedStream(this.w, `${this.path}/behavior/${key}`, { bufDtype: dtype, diskDtype: dtype, rowShape: shape, chunkRows: this.opts.chunkSize, bufferRows: this.bufferRows, compression: this.comp });
      const spec: BehSpec = { key, index: this.behaviorList.length, dtype, shape, size, stream };
      this.behavior.set(key, spec);
      this.behaviorList.push(spec);
      if (spec.index >= this.behSet.length) {
        this.behSet = doubled(this.behSet);
        this.behNum = doubled(this.behNum);
      }
      this.behArr.push(null);
      this.holdBehavior(spec.index, v);
      this.padVariable(spec, this.steps);
    }
  }

  private commitBehavior(): void {
    const list = this.behaviorList;
    const set = this.behSet;
    for (let i = 0; i < list.length; i++) {
      const spec = list[i];
      const s = spec.stream;
      const f = set[i];
      if (f === 0) this.padVariable(spec, 1);
      else {
        if (f === 1) (s.buf as Float64Array)[s.rows] = this.behNum[i];
        else (s.buf as Float64Array).set(this.behArr[i] as Float64Array, s.rows * spec.size);
        s.advanceOne();
      }
    }
  }

  /** Records a weight change (validated against the saved network when known). */
  logWeightChange(c: WeightChangeInput): void {
    this.wc.add(c, this.net, this.opts.validateData);
  }

  /** Records an event with JSON data. */
  logEvent(e: EventInput): void {
    if (e === null || typeof e !== "object") throw new ValidationError("INVALID_DATA", "logEvent() takes { timestep, type, data }");
    const t = checkTimestep(e.timestep, "logEvent()");
    if (typeof e.type !== "string" || e.type === "") throw new ValidationError("INVALID_DATA", `logEvent(): type must be a non-empty string, got ${JSON.stringify(e.type)}`);
    this.events.push({ t, type: e.type, data: toJsonText(e.data ?? null, "logEvent(): data") });
  }

  /** Stores non-time-series data under `static/<name>`. */
  logStatic(name: string, data: unknown): void {
    checkKey(name, "static episode data");
    writeEntry(this.w, `${this.path}/static/${name}`, data, `logStaticEpisodeData("${name}")`, this.comp);
  }

  /** Creates what every episode has from its start: the time axis, its links, weight-change and event columns. */
  begin(): void {
    this.timesteps.flushPartial();
    this.w.link(`${this.path}/timesteps`, `${this.path}/spikes/timesteps`);
    this.w.link(`${this.path}/timesteps`, `${this.path}/behavior/timesteps`);
    if (!this.rewardT) this.w.link(`${this.path}/timesteps`, `${this.path}/rewards/timesteps`);
    const g = `${this.path}/weight_changes`;
    const col = (name: string, dtype: Dtype) =>
      this.w.createColumn(`${g}/${name}`, { dtype, rowShape: [], chunkRows: Math.min(this.opts.chunkSize, 4096), compression: this.comp, family: streamFamily(`${g}/${name}`) });
    this.wcCols = [col("timesteps", "int64"), col("synapse_ids", "int64"), col("source_ids", "int64"), col("target_ids", "int64"), col("old_weights", "float64"), col("new_weights", "float64")];
    const e = `${this.path}/events`;
    this.eventCols = {
      t: this.w.createColumn(`${e}/timesteps`, { dtype: "int64", rowShape: [], chunkRows: 1024, compression: this.comp, family: streamFamily(`${e}/timesteps`) }),
      types: this.w.createStringColumn(`${e}/types`),
      data: this.w.createStringColumn(`${e}/data`),
    };
  }

  /** Makes everything logged so far readable on disk (partial chunks included). */
  flush(): void {
    for (const s of this.streams()) s.flushPartial();
    this.persistWeightChanges(false);
    this.persistEvents();
  }

  /** Flushes every stream and writes the weight changes in timestep order. */
  finish(): void {
    for (const s of this.streams()) s.finish();
    this.persistWeightChanges(true);
    this.persistEvents();
  }

  private *streams(): Generator<ChunkedStream> {
    yield this.timesteps;
    yield this.nsTimesteps;
    for (const v of this.vars.values()) yield v.stream;
    if (this.counts) yield this.counts;
    if (this.spikeIds) yield this.spikeIds;
    if (this.spikeMatrix) yield this.spikeMatrix;
    for (const b of this.behavior.values()) yield b.stream;
    if (this.rewardT) yield this.rewardT;
    yield this.rewardV;
  }

  /** Appends the weight changes not yet on disk; at the end, rewrites all of them sorted if they came out of order. */
  private persistWeightChanges(final: boolean): void {
    const wc = this.wc;
    const n = wc.n;
    const rewrite = final && !wc.sorted;
    const from = rewrite ? 0 : this.wcWritten;
    if (n === from) return;
    const k = n - from;
    // in order (the usual case): the rows as they are; else all of them sorted by timestep (stable)
    let pick = (a: Float64Array): Float64Array => a.subarray(from, n);
    if (rewrite) {
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => wc.t[a] - wc.t[b] || a - b);
      pick = (a) => Float64Array.from(order, (i) => a[i]);
    }
    const [t, syn, src, dst, old, neu] = this.wcCols;
    t.writeAt(numbersToInt64(pick(wc.t), k), k, from);
    syn.writeAt(numbersToInt64(pick(wc.syn), k), k, from);
    src.writeAt(numbersToInt64(pick(wc.src), k), k, from);
    dst.writeAt(numbersToInt64(pick(wc.dst), k), k, from);
    old.writeAt(pick(wc.old), k, from);
    neu.writeAt(pick(wc.neu), k, from);
    this.wcWritten = n;
  }

  private persistEvents(): void {
    const ev = this.events.slice(this.eventsWritten);
    if (ev.length === 0) return;
    const cols = this.eventCols!;
    cols.t.append(numbersToInt64(ev.map((e) => e.t), ev.length), ev.length);
    cols.types.append(ev.map((e) => e.type));
    cols.data.append(ev.map((e) => e.data));
    this.eventsWritten = this.events.length;
  }
}

/**
 * Ids of the non-zero entries of a 0/1 mask (into `out`, at least as long as the mask); returns
 * their count. `words`: a Uint32Array over the mask's buffer from its start (covering the mask),
 * or null when the mask is not 4-byte aligned.
 */
function scanMask(mask: Uint8Array, out: Uint32Array, words: Uint32Array | null): number {
  // four mask bytes at a time; within a non-zero word branch-free: every index is written and
  // the count advances only for a non-zero byte ((b + 255) >> 8 is 1 for 1..255, 0 for 0)
  const n = mask.length;
  let c = 0;
  let i = 0;
  if (words !== null) {
    const n4 = n >> 2;
    const w0 = mask.byteOffset >> 2;
    for (let q = 0; q < n4; q++) {
      const x = words[w0 + q];
      if (x === 0) continue;
      const b = q << 2;
      out[c] = b;
      c += ((x & 255) + 255) >> 8;
      out[c] = b + 1;
      c += (((x >>> 8) & 255) + 255) >> 8;
      out[c] = b + 2;
      c += (((x >>> 16) & 255) + 255) >> 8;
      out[c] = b + 3;
      c += ((x >>> 24) + 255) >> 8;
    }
    i = n4 << 2;
  }
  for (; i < n; i++) {
    out[c] = i;
    c += (mask[i] + 255) >> 8;
  }
  return c;
}

/** Throws the error of a bad weight-change id (`limit`: the network size it must be below, when checked). */
function badId(v: number, what: string, limit: number | null): never {
  if (!Number.isSafeInteger(v) || v < 0) throw new ValidationError("OUT_OF_RANGE", `logWeightChange(): ${what} ${v} is not a non-negative integer`);
  throw new ValidationError("OUT_OF_RANGE", `logWeightChange(): ${what} ${v} is not below ${limit}, the size of the saved network`);
}

/** A copy of `a` in an array of twice its length (the rest zero). */
function doubled<T extends Uint8Array | Float64Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

/** Weight changes of an episode, column by column, in growable float64 arrays (ids are < 2^53). */
class WeightChanges {
  n = 0;
  /** Whether the timesteps so far are in order (else they are sorted when the episode ends). */
  sorted = true;
  t: Float64Array = new Float64Array(256);
  syn: Float64Array = new Float64Array(256);
  src: Float64Array = new Float64Array(256);
  dst: Float64Array = new Float64Array(256);
  old: Float64Array = new Float64Array(256);
  neu: Float64Array = new Float64Array(256);

  /**
   * Validates a weight change (ids against the saved network's sizes when known) and keeps it.
   * Validation and storing are one function with the checks written out, on purpose: V8 does not
   * inline a function of over 460 bytes of bytecode (max_inlined_bytecode_size) into its caller.
   * When this was small enough to be inlined into the caller's loop (through logWeightChange),
   * that loop compiled slower and was thrown away with it (A/B small_high_freq: 2–5 % slower).
   */
  add(c: WeightChangeInput, net: NetworkFacts, validate: boolean): void {
    if (c === null || typeof c !== "object") throw new ValidationError("INVALID_DATA", `logWeightChange() takes { timestep, synapseId | sourceId+targetId, oldWeight, newWeight }`);
    const t = checkTimestep(c.timestep, "logWeightChange()");
    const syn = c.synapseId, src = c.sourceId, dst = c.targetId;
    // a synapse id, a (source, target) pair, or both; never half a pair
    if ((src === undefined) !== (dst === undefined) || (syn === undefined && src === undefined)) {
      throw new ValidationError("INVALID_DATA", "logWeightChange(): give either synapseId, or both sourceId and targetId");
    }
    // each id absent, or a non-negative integer (below the saved network's size when validating)
    const nSyn = validate ? net.nSynapses : null, nNeu = validate ? net.nNeurons : null;
    if (syn !== undefined && !(Number.isSafeInteger(syn) && syn >= 0 && (nSyn === null || syn < nSyn))) badId(syn, "synapseId", nSyn);
    if (src !== undefined && !(Number.isSafeInteger(src) && src >= 0 && (nNeu === null || src < nNeu))) badId(src, "sourceId", nNeu);
    if (dst !== undefined && !(Number.isSafeInteger(dst) && dst >= 0 && (nNeu === null || dst < nNeu))) badId(dst, "targetId", nNeu);
    const old = validate ? checkFinite(c.oldWeight, "logWeightChange(): oldWeight") : Number(c.oldWeight);
    const neu = validate ? checkFinite(c.newWeight, "logWeightChange(): newWeight") : Number(c.newWeight);
    const i = this.n;
    if (i > 0 && t < this.t[i - 1]) this.sorted = false;
    if (i === this.t.length) this.grow();
    this.t[i] = t;
    this.syn[i] = syn ?? -1;
    this.src[i] = src ?? -1;
    this.dst[i] = dst ?? -1;
    this.old[i] = old;
    this.neu[i] = neu;
    this.n = i + 1;
  }

  private grow(): void {
    this.t = doubled(this.t);
    this.syn = doubled(this.syn);
    this.src = doubled(this.src);
    this.dst = doubled(this.dst);
    this.old = doubled(this.old);
    this.neu = doubled(this.neu);
  }
}

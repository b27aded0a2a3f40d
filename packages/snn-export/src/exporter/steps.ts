/**
 * The per-step streams of an experiment (format 2.0): the time axis, spikes, neural state,
 * behaviour and rewards, each one chunked column for the whole experiment, appended episode after
 * episode. `log()` validates a whole step, then copies it into the streams' chunk buffers.
 */
import { dtypeOf, isBig, isFloat, isNumericArray, smallestUnsigned, type Dtype, type NumericArray } from "../dtypes.js";
import { ValidationError } from "../errors.js";
import { describe, toNd } from "../encoding/arrays.js";
import { isPlainObject } from "../encoding/json.js";
import type { Compression, Writer } from "../h5/index.js";
import { FIRST_ROW, STREAMS } from "../schema.js";
import type { ResolvedOptions } from "./options.js";
import { ChunkedStream } from "./stream.js";
import type { StepInput } from "./types.js";
import { checkFinite, checkKey, checkStepKeys, checkTimestep } from "./validate.js";

interface VariableSpec { name: string; dtype: Dtype; shape: number[]; size: number; stream: ChunkedStream; sampled?: number }
/** One variable of the step being logged, checked but not committed. */
interface SampleEntry { known: VariableSpec | null; name: string; data: NumericArray; shape: number[] }
interface BehaviorSpec extends VariableSpec { index: number }

/**
 * `optimized`: whole chunks buffered, spikes as CSR over time, sparse rewards (DataExporter).
 * `standard`: every row written as it is logged, spikes as a dense [T, N] uint8 matrix, a reward
 * every step (StandardDataExporter, the naive baseline).
 */
export type Layout = "optimized" | "standard";

/** Minimum ids per chunk of `spikes/neuron_ids`. */
const SPIKE_ID_CHUNK = 65536;

/** Names the format itself uses inside a stream's group: refused as variable names. */
const RESERVED_STATE_NAMES = new Set(["timesteps"]);

/** Largest row of a neural state variable or behaviour array: 256 MiB (one row is one chunk when it is over 1 MiB). */
const MAX_ROW_BYTES = 256 * 1024 * 1024;
/** Bytes of a chunk of a neural state or behaviour stream (at least one row). */
const CHUNK_BYTES = 1 << 20;

/** Rows per chunk of a stream of `rowBytes`-byte rows: at most `chunkSize`, at most {@link CHUNK_BYTES} (at least one row). */
function chunkRowsFor(rowBytes: number, chunkSize: number): number {
  return Math.max(1, Math.min(chunkSize, Math.floor(CHUNK_BYTES / Math.max(1, rowBytes))));
}

/** Refuses a row over {@link MAX_ROW_BYTES} before anything is copied or scanned. */
function checkRowBytes(data: NumericArray, what: string): void {
  const bytes = data.length * data.BYTES_PER_ELEMENT;
  if (bytes > MAX_ROW_BYTES) {
    throw new ValidationError("OUT_OF_RANGE", `log(): ${what} has ${data.length} elements (${(bytes / 2 ** 20).toFixed(1)} MiB) at one step; a row may hold at most 256 MiB (${MAX_ROW_BYTES} bytes): log it in parts or save it with saveCheckpoint()`);
  }
}

/** Where the open episode stands: its logged steps and last timestep (the streams' rows are counted by the streams). */
export interface StepCounters {
  steps: number;
  lastTimestep: number;
  totalSpikes: number;
  totalReward: number;
}

/** Rows of each per-step stream so far (on disk and buffered). */
export interface StepRows { steps: number; spikes: number; states: number; rewards: number }

/**
 * A Uint32Array over the spike masks' buffer, for scanMask (a view per step cost an allocation).
 */
class MaskWords {
  private words: Uint32Array = new Uint32Array(0);
  private buffer: ArrayBufferLike | null = null;

  /** A view covering `mask` (reused while the buffer is the same), or null when the mask is not 4-byte aligned. */
  of(mask: Uint8Array): Uint32Array | null {
    if ((mask.byteOffset & 3) !== 0) return null;
    const end = (mask.byteOffset + mask.length) >> 2;
    if (mask.buffer !== this.buffer || end > this.words.length) {
      this.words = new Uint32Array(mask.buffer, 0, mask.buffer.byteLength >> 2);
      this.buffer = mask.buffer;
    }
    return this.words;
  }
}

export class StepStreams {
  private readonly compression: Compression;
  private readonly bufferRows: number | undefined;
  private readonly timesteps: ChunkedStream;
  private readonly stateTimesteps: ChunkedStream;
  private readonly counts: ChunkedStream | null;
  private readonly spikeIds: ChunkedStream | null;
  /** `/spikes/id_offsets`: the spike-id row at every `chunkSize`-th step row. */
  private readonly idOffsets: ChunkedStream | null;
  private spikeMatrix: ChunkedStream | null = null;
  /** Standard layout: steps logged before the neuron count was known (zero rows of the matrix, written once it is). */
  private denseLag = 0;
  private readonly rewardT: ChunkedStream | null;
  private readonly rewardV: ChunkedStream;
  private readonly vars = new Map<string, VariableSpec>();
  /** The variables of the step being logged ({@link checkState}); `samples` numbers the samples committed. */
  private readonly sample: SampleEntry[] = [];
  private samples = 0;
  private readonly behavior = new Map<string, BehaviorSpec>();
  private readonly behaviorList: BehaviorSpec[] = [];
  /** This step's behaviour values by key index: state 0 absent, 1 a number (in `behaviorNumbers`), 2 an array (in `behaviorArrays`). */
  private behaviorState = new Uint8Array(8);
  private behaviorNumbers = new Float64Array(8);
  private behaviorArrays: (NumericArray | null)[] = [];
  private spikeScratch = new Uint32Array(1024);
  private readonly masks = new MaskWords();
  /** Neurons of the network (saveNetworkStructure() or the first spike mask); null while unknown. */
  private neurons: number | null = null;
  /** The largest spike id accepted so far (-1: none). */
  private maxSpikeId = -1;
  /** A neuron count learned from this step's spike mask, committed with the step. */
  private pendingNeurons: number | null = null;
  private pendingMaxId = -1;

  constructor(private readonly writer: Writer, private readonly opts: ResolvedOptions, readonly layout: Layout) {
    this.compression = { kind: opts.compression, level: opts.compressionLevel };
    this.bufferRows = layout === "standard" ? 1 : undefined;
    const rows = opts.chunkSize;
    const s = (path: string, bufDtype: Dtype, diskDtype: Dtype, chunkRows = rows) =>
      new ChunkedStream(writer, path, { bufDtype, diskDtype, rowShape: [], chunkRows, bufferRows: this.bufferRows, compression: this.compression });
    this.timesteps = s(STREAMS.timesteps, "float64", "int64");
    this.stateTimesteps = s(STREAMS.neuralStates.timesteps, "float64", "int64");
    const optimized = layout === "optimized";
    // the spike columns' dtypes follow the neuron count (setSpikeDtypes) until their datasets are created
    this.counts = optimized ? s(STREAMS.spikes.counts, "float64", "uint32") : null;
    // one id per spike, many per step: chunks of at least 65536 ids (gzip of shuffled ids: 15 % smaller
    // and faster per id than 10 000 on stress_test's spikes)
    this.spikeIds = optimized ? s(STREAMS.spikes.neuronIds, "uint32", "uint32", Math.max(rows, SPIKE_ID_CHUNK)) : null;
    this.idOffsets = optimized
      ? new ChunkedStream(writer, STREAMS.spikes.idOffsets, { bufDtype: "float64", diskDtype: "int64", rowShape: [], chunkRows: 4096, compression: this.compression, attrs: { [STREAMS.spikes.every]: BigInt(rows) } })
      : null;
    this.rewardT = optimized ? s(STREAMS.rewards.timesteps, "float64", "int64") : null;
    this.rewardV = s(STREAMS.rewards.values, "float64", "float64");
  }

  /** The network's neuron count: from saveNetworkStructure() or the first spike mask; null while unknown. */
  get neuronCount(): number | null {
    return this.neurons;
  }

  /** The largest spike id logged so far (-1: none). */
  get largestSpikeId(): number {
    return this.maxSpikeId;
  }

  /** The neuron count saveNetworkStructure() found (the exporter has checked it against what was logged). */
  setNeuronCount(n: number): void {
    this.neurons = n;
    this.setSpikeDtypes();
  }

  /**
   * The spike columns store counts and ids in the smallest unsigned type for the neuron count
   * (ids are below it), uint32 while it is unknown: decided when each dataset is created.
   */
  private setSpikeDtypes(): void {
    const n = this.neurons;
    this.counts?.setDiskDtype(n === null ? "uint32" : smallestUnsigned(n));
    this.spikeIds?.setDiskDtype(n === null ? "uint32" : smallestUnsigned(Math.max(0, n - 1)));
  }

  /** Rows of every per-step stream so far: where the next episode's rows start. */
  rows(): StepRows {
    return {
      steps: this.timesteps.length,
      spikes: this.spikeIds ? this.spikeIds.length : 0,
      states: this.stateTimesteps.length,
      rewards: this.rewardV.length,
    };
  }

  /** Validates a whole step of the open episode, then commits it; an invalid step changes nothing. */
  log(step: StepInput, ep: StepCounters): void {
    if (step === null || typeof step !== "object") throw new ValidationError("INVALID_DATA", `log() takes an object { timestep, neuralState, spikes, behavior, reward }, got ${describe(step)}`);
    checkStepKeys(step);
    const t = checkTimestep(step.timestep, "log()");
    if (ep.steps > 0 && t <= ep.lastTimestep) {
      throw new ValidationError("TIMESTEP_ORDER", `log(): timestep ${t} is not after the previous timestep ${ep.lastTimestep}; timesteps must increase within an episode`);
    }
    this.pendingNeurons = null;
    this.pendingMaxId = -1;
    const keepState = step.neuralState !== undefined && ep.steps % this.opts.neuralSamplingRate === 0;
    const stateCount = keepState ? this.checkState(step.neuralState!) : -1;
    const nSpikes = step.spikes === undefined ? 0 : this.checkSpikes(step.spikes);
    if (this.behaviorList.length > 0) this.behaviorState.fill(0);
    const fresh = this.checkBehavior(step.behavior, ep.steps);
    const reward = step.reward === undefined || step.reward === null ? 0 : checkFinite(step.reward, "log(): reward");
    // commit
    if (this.pendingNeurons !== null) this.setNeuronCount(this.pendingNeurons);
    if (this.pendingMaxId > this.maxSpikeId) this.maxSpikeId = this.pendingMaxId;
    if (fresh) this.registerBehavior(fresh);
    this.commitBehavior();
    if (stateCount >= 0) this.commitState(t, stateCount);
    this.commitSpikes(nSpikes);
    ep.totalSpikes += nSpikes;
    if (reward !== 0 || !this.rewardT) {
      this.rewardT?.push(t);
      this.rewardV.push(reward);
      ep.totalReward += reward;
    }
    this.timesteps.push(t);
    ep.lastTimestep = t;
    ep.steps++;
  }

  /**
   * Checks the variables of a sampled step into `sample` (reused from step to step: no allocation
   * on the logging path); new variables are registered at commit.
   */
  private checkState(ns: Record<string, unknown>): number {
    if (!isPlainObject(ns)) throw new ValidationError("INVALID_DATA", `log(): neuralState must be a plain object of named arrays ({ v: Float32Array, ... }), got ${describe(ns)}`);
    const sample = this.sample;
    let n = 0;
    for (const name in ns) {
      const known = this.vars.get(name) ?? null;
      const [data, shape] = known ? this.checkKnownVariable(known, ns[name]) : this.checkNewVariable(name, ns[name]);
      if (this.opts.validateData && !this.opts.allowNonFinite && isFloat(dtypeOf(data))) {
        for (let i = 0; i < data.length; i++) {
          if (!Number.isFinite(data[i] as number)) {
            throw new ValidationError("INVALID_DATA", `log(): neural state variable "${name}" has ${data[i]} at flat index ${i}; fix the simulation or set allowNonFinite: true`);
          }
        }
      }
      if (n === sample.length) sample.push({ known: null, name: "", data: new Float64Array(0), shape: [] });
      const entry = sample[n++];
      entry.known = known;
      entry.name = name;
      entry.data = data;
      entry.shape = shape;
    }
    return n;
  }

  private checkNewVariable(name: string, v: unknown): [NumericArray, number[]] {
    checkKey(name, "neural state variable");
    if (RESERVED_STATE_NAMES.has(name)) {
      throw new ValidationError("INVALID_DATA", `log(): neural state variable name "${name}" is reserved by the file format (${STREAMS.neuralStates.timesteps}); rename the variable`);
    }
    const { data, shape } = toNd(v, `neuralState.${name}`);
    if (data.length === 0) throw new ValidationError("INVALID_DATA", `log(): neural state variable "${name}" is empty; pass one value per neuron`);
    checkRowBytes(data, `neural state variable "${name}"`);
    return [data, shape];
  }

  private checkKnownVariable(known: VariableSpec, v: unknown): [NumericArray, number[]] {
    const name = known.name;
    let data: NumericArray, shape: number[];
    if (isNumericArray(v) && v.length === known.size && known.shape.length === 1) {
      data = v;
      shape = known.shape;
    } else {
      ({ data, shape } = toNd(v, `neuralState.${name}`));
      if (shape.length !== known.shape.length || shape.some((d, i) => d !== known.shape[i])) {
        throw new ValidationError("SHAPE_MISMATCH", `log(): neural state variable "${name}" has shape ${JSON.stringify(shape)} but had ${JSON.stringify(known.shape)} at earlier steps; a variable's shape is fixed for the experiment after its first step`);
      }
    }
    const bigMismatch = isBig(dtypeOf(data)) !== isBig(known.dtype);
    if ((this.opts.validateData || bigMismatch) && dtypeOf(data) !== known.dtype) {
      throw new ValidationError("INVALID_DATA", `log(): neural state variable "${name}" is ${dtypeOf(data)} but was ${known.dtype} at earlier steps; pass the same dtype every step`);
    }
    return [data, shape];
  }

  private commitState(t: number, count: number): void {
    const stamp = ++this.samples;
    for (let i = 0; i < count; i++) {
      const { known, name, data, shape } = this.sample[i];
      const spec = known ?? this.registerVariable(name, data, shape);
      spec.stream.pushRow(data);
      spec.sampled = stamp;
    }
    // a variable not given at this sample
    if (count < this.vars.size) {
      for (const spec of this.vars.values()) if (spec.sampled !== stamp) pad(spec, 1);
    }
    this.stateTimesteps.push(t);
  }

  /** A variable first seen now: its stream starts with padding for every earlier sample (FIRST_ROW says where it starts). */
  private registerVariable(name: string, data: NumericArray, shape: number[]): VariableSpec {
    const dtype = dtypeOf(data);
    const size = data.length;
    const chunkRows = chunkRowsFor(size * data.BYTES_PER_ELEMENT, this.opts.chunkSize);
    const first = this.stateTimesteps.length;
    const stream = new ChunkedStream(this.writer, `${STREAMS.neuralStates.group}/${name}`, {
      bufDtype: dtype, diskDtype: dtype, rowShape: shape, chunkRows, bufferRows: this.bufferRows, compression: this.compression,
      attrs: { [FIRST_ROW]: BigInt(first) },
    });
    const spec: VariableSpec = { name, dtype, shape, size, stream };
    this.vars.set(name, spec);
    pad(spec, first);
    return spec;
  }

  private checkSpikes(sp: unknown): number {
    const n = this.neurons;
    if (sp instanceof Uint8Array || (Array.isArray(sp) && sp.length > 0 && typeof sp[0] === "boolean")) {
      const mask = sp as ArrayLike<number | boolean>;
      if (!(sp instanceof Uint8Array)) {
        for (let i = 0; i < mask.length; i++) {
          if (typeof mask[i] !== "boolean") throw new ValidationError("INVALID_DATA", `log(): spike mask entry ${i} is ${describe(mask[i])}; a boolean[] mask holds only true and false (ids: pass numbers only)`);
        }
      }
      if (n !== null && mask.length !== n) {
        throw new ValidationError("SHAPE_MISMATCH", `log(): spike mask has ${mask.length} entries but the network has ${n} neurons; pass one entry per neuron`);
      }
      if (n === null && this.maxSpikeId >= mask.length) {
        throw new ValidationError("SHAPE_MISMATCH", `log(): spike mask has ${mask.length} entries but spike id ${this.maxSpikeId} was logged before; pass one entry per neuron (at least ${this.maxSpikeId + 1})`);
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
      throw new ValidationError("INVALID_DATA", `log(): spikes must be a 0/1 mask (Uint8Array, boolean[]) or neuron ids (Int32Array, Uint32Array, Uint16Array, number[]), got ${describe(sp)}`);
    }
    return this.checkSpikeIds(sp as ArrayLike<number>, n);
  }

  private checkSpikeIds(ids: ArrayLike<number>, n: number | null): number {
    if (this.layout === "standard" && n === null) {
      throw new ValidationError("INVALID_DATA", "log(): StandardDataExporter stores spikes as a dense [T, N] matrix and needs the neuron count: call saveNetworkStructure() with neurons first, or pass spikes as a 0/1 mask");
    }
    if (this.spikeScratch.length < ids.length) this.spikeScratch = new Uint32Array(Math.max(ids.length, this.spikeScratch.length * 2));
    const out = this.spikeScratch;
    const limit = n ?? 4294967296;
    let sorted = true;
    let max = -1;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!(Number.isInteger(id) && id >= 0 && id < limit)) spikeIdError(id, i, n);
      out[i] = id;
      if (id > max) max = id;
      if (i > 0 && id <= ids[i - 1]) sorted = false;
    }
    if (!sorted) {
      const s = out.subarray(0, ids.length).sort();
      for (let i = 1; i < s.length; i++) {
        if (s[i] === s[i - 1]) throw new ValidationError("INVALID_DATA", `log(): neuron ${s[i]} is listed twice in this step's spikes; list each spiking neuron once`);
      }
    }
    this.pendingMaxId = max;
    return ids.length;
  }

  private commitSpikes(c: number): void {
    if (!this.counts || !this.spikeIds) {
      this.commitDenseSpikes(c);
      return;
    }
    if (this.timesteps.length % this.opts.chunkSize === 0) this.idOffsets!.push(this.spikeIds.length);
    this.counts.push(c);
    this.spikeIds.pushMany(this.spikeScratch, c);
  }

  /** Standard layout: one uint8 row of the [T, N] spike matrix per step. */
  private commitDenseSpikes(c: number): void {
    if (!this.spikeMatrix) {
      const n = this.neurons;
      if (n === null) {
        this.denseLag++; // no spikes and no neuron count yet: the zero rows are written once the width is known
        return;
      }
      this.spikeMatrix = new ChunkedStream(this.writer, STREAMS.spikes.matrix, {
        bufDtype: "uint8", diskDtype: "uint8", rowShape: [n], compression: this.compression,
        chunkRows: Math.max(1, Math.min(this.opts.chunkSize, Math.floor((1 << 20) / Math.max(1, n)))), bufferRows: 1,
      });
    }
    this.spikeMatrix.pushFill(0, this.denseLag);
    this.denseLag = 0;
    this.spikeMatrix.pushOnes(this.spikeScratch, c);
  }

  /**
   * Checks this step's behaviour values (into `behaviorState`/`behaviorNumbers`/`behaviorArrays`, by key
   * index); returns the keys seen for the first time. Known keys with numbers take a fast path
   * without allocation. `episodeStep`: steps of the open episode before this one.
   */
  private checkBehavior(b: Record<string, unknown> | undefined, episodeStep: number): [string, NumericArray | number][] | null {
    let fresh: [string, NumericArray | number][] | null = null;
    if (b !== undefined) {
      if (!isPlainObject(b)) throw new ValidationError("INVALID_DATA", `log(): behavior must be a plain object of named numbers or small arrays, got ${describe(b)}`);
      for (const key in b) {
        const v = b[key];
        const spec = this.behavior.get(key);
        if (spec !== undefined && typeof v === "number" && spec.size === 1 && spec.shape.length === 0) {
          if (this.opts.validateData && !Number.isFinite(v)) throw new ValidationError("INVALID_DATA", `log(): behavior "${key}" is ${v}; pass finite numbers`);
          this.behaviorNumbers[spec.index] = v;
          this.behaviorState[spec.index] = 1;
          continue;
        }
        const value = this.checkBehaviorValue(key, v, spec);
        if (spec) this.holdBehavior(spec.index, value);
        else (fresh ??= []).push([key, value]);
      }
    }
    const list = this.behaviorList;
    for (let i = 0; i < list.length; i++) {
      if (this.behaviorState[i] === 0 && !isFloat(list[i].dtype)) {
        throw new ValidationError("INVALID_DATA", `log(): integer behavior "${list[i].name}" is missing at this step; once logged, an integer key must be given at every step (float keys may be left out and become NaN)`);
      }
    }
    if (fresh && episodeStep > 0) {
      for (const [key, v] of fresh) {
        if (typeof v !== "number" && !isFloat(dtypeOf(v))) {
          throw new ValidationError("INVALID_DATA", `log(): integer behavior "${key}" first appears after the episode's first step; integer keys must be present from an episode's first step`);
        }
      }
    }
    return fresh;
  }

  /** Keeps this step's value of behaviour key `i`. */
  private holdBehavior(i: number, value: NumericArray | number): void {
    if (typeof value === "number") {
      this.behaviorNumbers[i] = value;
      this.behaviorState[i] = 1;
    } else {
      this.behaviorArrays[i] = value;
      this.behaviorState[i] = 2;
    }
  }

  private checkBehaviorValue(key: string, v: unknown, spec: BehaviorSpec | undefined): NumericArray | number {
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
    if (spec && dtypeOf(nd.data) !== spec.dtype && (this.opts.validateData || isBig(spec.dtype) !== isBig(dtypeOf(nd.data)))) {
      throw new ValidationError("INVALID_DATA", `log(): behavior "${key}" is ${dtypeOf(nd.data)} but was ${spec.dtype} at earlier steps; pass the same dtype every step`);
    }
    if (!spec) {
      checkKey(key, "behavior");
      checkRowBytes(nd.data, `behavior "${key}"`);
    }
    if (this.opts.validateData && isFloat(dtypeOf(nd.data))) {
      const a = nd.data as Float64Array;
      for (let i = 0; i < a.length; i++) {
        // NaN marks a step without the key: a logged value must be finite, as a logged number must
        if (!Number.isFinite(a[i])) throw new ValidationError("INVALID_DATA", `log(): behavior "${key}" has ${a[i]} at index ${i}; pass finite numbers`);
      }
    }
    return nd.data;
  }

  private registerBehavior(fresh: [string, NumericArray | number][]): void {
    for (const [key, v] of fresh) {
      const dtype: Dtype = typeof v === "number" ? "float64" : dtypeOf(v);
      const shape = typeof v === "number" ? [] : [v.length];
      const size = typeof v === "number" ? 1 : v.length;
      const first = this.timesteps.length;
      const stream = new ChunkedStream(this.writer, `${STREAMS.behavior.group}/${key}`, {
        bufDtype: dtype, diskDtype: dtype, rowShape: shape, chunkRows: chunkRowsFor(size * (typeof v === "number" ? 8 : v.BYTES_PER_ELEMENT), this.opts.chunkSize),
        bufferRows: this.bufferRows, compression: this.compression,
        attrs: { [FIRST_ROW]: BigInt(first) },
      });
      const spec: BehaviorSpec = { name: key, index: this.behaviorList.length, dtype, shape, size, stream };
      this.behavior.set(key, spec);
      this.behaviorList.push(spec);
      if (spec.index >= this.behaviorState.length) {
        this.behaviorState = doubled(this.behaviorState);
        this.behaviorNumbers = doubled(this.behaviorNumbers);
      }
      this.behaviorArrays.push(null);
      this.holdBehavior(spec.index, v);
      pad(spec, first);
    }
  }

  private commitBehavior(): void {
    const list = this.behaviorList;
    for (let i = 0; i < list.length; i++) {
      const spec = list[i];
      const f = this.behaviorState[i];
      if (f === 0) pad(spec, 1);
      else if (f === 1) spec.stream.push(this.behaviorNumbers[i]);
      else spec.stream.pushRow(this.behaviorArrays[i]!);
    }
  }

  /** Makes every row logged so far readable on disk (partial chunks included). */
  flush(): void {
    for (const s of this.streams()) s.flushPartial();
  }

  /** Writes every buffered row and creates the datasets of streams that got none (at close). */
  finish(): void {
    // the neuron count and largest id are final: the spike columns' dtypes can be decided
    for (const s of this.streams()) s.finish();
  }

  private *streams(): Generator<ChunkedStream> {
    yield this.timesteps;
    yield this.stateTimesteps;
    for (const v of this.vars.values()) yield v.stream;
    if (this.counts) yield this.counts;
    if (this.spikeIds) yield this.spikeIds;
    if (this.idOffsets) yield this.idOffsets;
    if (this.spikeMatrix) yield this.spikeMatrix;
    for (const b of this.behavior.values()) yield b.stream;
    if (this.rewardT) yield this.rewardT;
    yield this.rewardV;
  }
}

/** The error of a spike id that is not an integer in `[0, n)` (`[0, 2^32)` while the neuron count is unknown). */
function spikeIdError(id: unknown, i: number, n: number | null): never {
  const shown = typeof id === "number" ? String(id) : describe(id);
  if (typeof id !== "number" || !Number.isInteger(id)) {
    throw new ValidationError("INVALID_DATA", `log(): spike id ${shown} at index ${i} is not an integer; spike ids are integers 0 <= id < ${n ?? "2^32"}`);
  }
  const why = id < 0 ? "not a non-negative integer" : n === null ? "not below 2^32 (the neuron count is not known yet)" : `not below the neuron count ${n}`;
  throw new ValidationError("OUT_OF_RANGE", `log(): spike id ${shown} at index ${i} is ${why}; spike ids are integers 0 <= id < ${n ?? "2^32"}`);
}

/** Rows for steps where a variable was absent: NaN for floats, 0 for integers. */
function pad(spec: VariableSpec, rows: number): void {
  spec.stream.pushFill(isFloat(spec.dtype) ? NaN : isBig(spec.dtype) ? 0n : 0, rows);
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

/** A copy of `a` in an array of twice its length (the rest zero). */
function doubled<T extends Uint8Array | Float64Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

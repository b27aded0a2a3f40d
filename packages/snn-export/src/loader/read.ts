/**
 * Low-level reading helpers of the loader: sliced numeric reads, 64-bit integer conversion,
 * attribute normalisation, JSON text, and {@link Source}, the guarded view of an open file that
 * the loader classes share.
 */
import { allocate, dtypeSize, isBig, type Dtype, type NumericArray } from "../dtypes.js";
import { FormatError, StateError, StorageError } from "../errors.js";
import type { H5Reader } from "../h5/reader.js";
import type { DatasetInfo } from "../h5/types.js";
import type { NdArray } from "./types.js";
import { ChunkCache } from "./cache.js";

/** Default upper bound on the bytes of one `readRows` call: 4 MiB. */
export const DEFAULT_SLICE_BYTES = 4 * 1024 * 1024;

/** A numeric TypedArray that holds `number`s (every NumericArray except the BigInt ones). */
export type NumberArray = Exclude<NumericArray, BigInt64Array | BigUint64Array>;

/**
 * What {@link readNumeric} needs from a reader: dataset info and row-slice reads.
 *
 * @example
 * ```ts
 * const src: SliceSource = reader;   // an H5Reader is a SliceSource
 * ```
 */
export type SliceSource = Pick<H5Reader, "info" | "readRows">;

/**
 * Options of {@link readNumeric}.
 *
 * @example
 * ```ts
 * readNumeric(reader, "/episodes/episode_0000/timesteps", { maxSliceBytes: 1 << 20 });
 * ```
 */
export interface SliceOptions {
  /** Largest number of bytes read by one `readRows` call (at least one row is read) [4 MiB]. */
  maxSliceBytes?: number;
  /**
   * 64-bit integers whose values do not all fit a JavaScript number exactly (|v| ≥ 2^53) come back
   * as BigInt64Array / BigUint64Array with `dtype` `int64` / `uint64`, instead of a FormatError
   * `OUT_OF_RANGE` [false]. The loader reads the caller's data (neural states, behaviour, network
   * fields, checkpoint and static entries) this way; the format's own columns stay numbers.
   */
  exactInt64?: boolean;
}

/**
 * Reads a whole numeric dataset in row slices of at most `maxSliceBytes` each, into one output
 * array. 64-bit integer datasets come back as Float64Array (values must be below 2^53 in
 * magnitude, else a FormatError `OUT_OF_RANGE`).
 *
 * @example
 * ```ts
 * const reader = await H5Reader.open("experiment_data.h5");
 * const v = readNumeric(reader, "/episodes/episode_0000/neural_states/v");
 * console.log(v.shape, v.dtype, v.data.length);
 * ```
 */
export function readNumeric(src: SliceSource, path: string, options: SliceOptions = {}): NdArray {
  return readNumericRows(src, path, 0, Number.MAX_SAFE_INTEGER, options);
}

/**
 * Rows `[start, end)` of a numeric dataset (clamped to the rows it has), read like
 * {@link readNumeric}: in slices of at most `maxSliceBytes`, 64-bit integers as Float64Array. The
 * shape's first dimension is the number of rows read. A scalar dataset is read whole.
 *
 * @example
 * ```ts
 * const v = readNumericRows(reader, "/neural_states/v", 100, 200); // v.shape [100, N]
 * ```
 */
export function readNumericRows(src: SliceSource, path: string, start: number, end: number, options: SliceOptions = {}): NdArray {
  const info = src.info(path);
  if (info.dtype === "string") throw new FormatError("INVALID_DATA", `${path} holds strings where numbers were expected`);
  const stored = info.dtype;
  const big = isBig(stored);
  const dtype: Dtype = big ? "float64" : stored;
  const meta = big ? { dtype, storedDtype: stored } : { dtype };
  if (big && options.exactInt64) return exactInt64Rows(src, path, info.shape, stored, start, end, options);
  if (info.shape.length === 0) {
    const raw = src.readRows(path, 0, 1);
    return { data: big ? bigToFloat64(raw as BigInt64Array, path) : raw, shape: [], ...meta };
  }
  const s = Math.max(0, Math.min(start, info.shape[0]));
  const e = Math.max(s, Math.min(end, info.shape[0]));
  const rowShape = info.shape.slice(1);
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  const maxBytes = options.maxSliceBytes ?? DEFAULT_SLICE_BYTES;
  if (rowSize > 0 && (e - s) * rowSize * dtypeSize(stored) <= maxBytes) {
    // one slice: the reader's array is already the caller's own, no copy; 64-bit integers become
    // numbers in the same buffer (both 8 bytes per element)
    const part = src.readRows(path, s, e);
    checkSlice(path, part, s, e, rowSize);
    if (!big) return { data: part, shape: [e - s, ...rowShape], ...meta };
    const raw = part as BigInt64Array | BigUint64Array;
    const numbers = new Float64Array(raw.buffer, raw.byteOffset, raw.length);
    bigInto(raw, numbers, 0, path);
    return { data: numbers, shape: [e - s, ...rowShape], ...meta };
  }
  const out = allocate(dtype, (e - s) * rowSize) as NumberArray;
  readSlices(src, path, stored, out, s, e, rowSize, maxBytes);
  return { data: out, shape: [e - s, ...rowShape], ...meta };
}

function checkSlice(path: string, part: NumericArray, r: number, e: number, rowSize: number): void {
  if (part.length !== (e - r) * rowSize) {
    throw new FormatError("INVALID_DATA", `${path}: read ${part.length} elements for rows ${r}..${e}, expected ${(e - r) * rowSize}`);
  }
}

/**
 * {@link readNumericRows} of a 64-bit integer dataset with `exactInt64`: numbers when every value
 * read is below 2^53 in magnitude (as without the option), else the BigInt array as stored.
 */
function exactInt64Rows(src: SliceSource, path: string, fullShape: number[], stored: Dtype, start: number, end: number, options: SliceOptions): NdArray {
  let raw: BigInt64Array | BigUint64Array;
  let shape: number[];
  if (fullShape.length === 0) {
    raw = (src.readRows(path, 0, 1) as BigInt64Array | BigUint64Array).slice(0, 1);
    shape = [];
  } else {
    const s = Math.max(0, Math.min(start, fullShape[0]));
    const e = Math.max(s, Math.min(end, fullShape[0]));
    const rowShape = fullShape.slice(1);
    const rowSize = rowShape.reduce((a, b) => a * b, 1);
    raw = allocate(stored, (e - s) * rowSize) as BigInt64Array | BigUint64Array;
    const step = Math.max(1, Math.floor((options.maxSliceBytes ?? DEFAULT_SLICE_BYTES) / Math.max(1, rowSize * 8)));
    for (let r = s; r < e && rowSize > 0; r += step) {
      const b = Math.min(e, r + step);
      const part = src.readRows(path, r, b);
      if (part.length !== (b - r) * rowSize) throw new FormatError("INVALID_DATA", `${path}: read ${part.length} elements for rows ${r}..${b}, expected ${(b - r) * rowSize}`);
      raw.set(part as BigInt64Array, (r - s) * rowSize);
    }
    shape = [e - s, ...rowShape];
  }
  const numbers = new Float64Array(raw.length);
  if (bigInto(raw, numbers, 0, path, false)) return { data: numbers, shape, dtype: "float64", storedDtype: stored };
  return { data: raw, shape, dtype: stored };
}

function readSlices(
  src: SliceSource, path: string, stored: Dtype, out: NumberArray, start: number, end: number, rowSize: number, maxBytes: number,
): void {
  if (rowSize === 0) return;
  const rowBytes = rowSize * dtypeSize(stored);
  const step = Math.max(1, Math.floor(maxBytes / rowBytes));
  for (let r = start; r < end; r += step) {
    const e = Math.min(end, r + step);
    const part = src.readRows(path, r, e);
    checkSlice(path, part, r, e, rowSize);
    const at = (r - start) * rowSize;
    if (part instanceof BigInt64Array || part instanceof BigUint64Array) bigInto(part, out as Float64Array, at, path);
    else (out as Float64Array).set(part as Float64Array, at);
  }
}

/**
 * 64-bit integers to numbers through two 32-bit halves (little-endian): no BigInt per element
 * (Number(bigint) made the episode table's 1.7 M values cost ~260 ms at open). A value of 2^53 or
 * more in magnitude is an error, not a rounded number (with `strict`; else false, `out` partly
 * written). `out` may be `src`'s own buffer (element i is read before it is written).
 */
function bigInto(src: BigInt64Array | BigUint64Array, out: Float64Array, offset: number, path: string, strict = true): boolean {
  const words = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
  const signed = src instanceof BigInt64Array;
  for (let i = 0; i < src.length; i++) {
    const lo = words[2 * i] >>> 0;
    const hi = words[2 * i + 1];
    // |v| < 2^53: the high word lies in [-2^21, 2^21) (signed) or [0, 2^21) (unsigned)
    const ok = signed ? hi >= -0x200000 && hi < 0x200000 && !(hi === -0x200000 && lo === 0) : hi >= 0 && hi < 0x200000;
    if (!ok) {
      if (!strict) return false;
      throw new FormatError("OUT_OF_RANGE", `${path}: value ${src[i]} does not fit a JavaScript number exactly (|v| ≥ 2^53)`);
    }
    out[offset + i] = (signed ? hi : hi >>> 0) * 4294967296 + lo;
  }
  return true;
}

/**
 * Converts a BigInt64Array / BigUint64Array to Float64Array, checking every value is below 2^53.
 *
 * @example
 * ```ts
 * bigToFloat64(new BigInt64Array([1n, 2n]), "example"); // Float64Array [1, 2]
 * ```
 */
export function bigToFloat64(src: BigInt64Array | BigUint64Array, where: string): Float64Array {
  const out = new Float64Array(src.length);
  bigInto(src, out, 0, where);
  return out;
}

/**
 * Any numeric array as Float64Array (returned as is when it already is one).
 *
 * @example
 * ```ts
 * toFloat64(new Int32Array([1, -1]), "example"); // Float64Array [1, -1]
 * ```
 */
export function toFloat64(a: NumericArray, where: string): Float64Array {
  if (a instanceof Float64Array) return a;
  if (a instanceof BigInt64Array || a instanceof BigUint64Array) return bigToFloat64(a, where);
  const out = new Float64Array(a.length);
  out.set(a); // converts natively (Float64Array.from iterates element by element)
  return out;
}

/**
 * Any numeric array of non-negative integers below 2^32 as Uint32Array.
 *
 * @example
 * ```ts
 * toUint32(new Uint16Array([3, 7]), "example"); // Uint32Array [3, 7]
 * ```
 */
export function toUint32(a: NumericArray, where: string): Uint32Array {
  if (a instanceof Uint32Array) return a;
  if (a instanceof Uint8Array || a instanceof Uint16Array) {
    const out = new Uint32Array(a.length);
    out.set(a); // every value fits
    return out;
  }
  const f = toFloat64(a, where);
  const out = new Uint32Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = f[i];
    if (!(v >= 0 && v <= 0xffffffff && Number.isInteger(v))) {
      throw new FormatError("OUT_OF_RANGE", `${where}: value ${v} is not a neuron id (an integer in [0, 2^32))`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * Sets `obj[key] = value` as an own property, also for the key `__proto__` (which an assignment
 * would take as the object's prototype): names in the file are the caller's names.
 *
 * @example
 * ```ts
 * const vars: Record<string, number> = {};
 * setOwn(vars, "__proto__", 1); // Object.keys(vars) is ["__proto__"]
 * ```
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Attribute values as plain JS: bigints become numbers, numeric arrays become number arrays.
 *
 * @example
 * ```ts
 * plainAttrs({ n: 3n, shape: new BigInt64Array([2n, 2n]) }); // { n: 3, shape: [2, 2] }
 * ```
 */
export function plainAttrs(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) setOwn(out, k, plainValue(v));
  return out;
}

function plainValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => Number(x));
  }
  return v;
}

/**
 * A scalar number attribute, also accepting a one-element array (how some writers store scalars);
 * undefined when absent or not numeric.
 *
 * @example
 * ```ts
 * scalarNumber([5]); // 5
 * ```
 */
export function scalarNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v) && v.length === 1) return scalarNumber(v[0]);
  if (ArrayBuffer.isView(v) && (v as unknown as ArrayLike<unknown>).length === 1) return scalarNumber((v as unknown as ArrayLike<unknown>)[0]);
  return undefined;
}

/**
 * Parses JSON text read from `where`; invalid JSON is a FormatError `INVALID_DATA`.
 *
 * @example
 * ```ts
 * parseJson('{"lr": 0.1}', "/config/json"); // { lr: 0.1 }
 * ```
 */
export function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FormatError("INVALID_DATA", `${where} is not valid JSON text: ${(err as Error).message}`);
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Live mode: a read can meet metadata the writer is updating at that very moment (a chunk entry
 * being replaced); such a read fails cleanly and is tried again a few times.
 */
function retryLive<T>(read: () => T, attempts = 5): T {
  for (let i = 1; ; i++) {
    try {
      return read();
    } catch (err) {
      if (i >= attempts || !(err instanceof StorageError)) throw err;
      Atomics.wait(pause, 0, 0, 5 * i);
    }
  }
}

/**
 * The open file as the loader classes see it: every call checks the loader is still open; in
 * live mode dataset extents are refreshed before each numeric read.
 *
 * @example
 * ```ts
 * const src = new Source(await H5Reader.open(file), false);
 * const ts = src.float64("/episodes/episode_0000/timesteps");
 * ```
 */
export class Source {
  private closed = false;
  /**
   * Row-range reads of a file that does not change while open (closed by its writer) go through
   * decoded chunks: this cache with the h5wasm reader, the TypeScript reader's own otherwise.
   */
  private cache: ChunkCache | null;

  /**
   * `interrupted`: the file was not closed by its writer (root `status` is not `closed`) and is
   * not opened live: its writer died, so streams may end at different rows.
   */
  constructor(private readonly reader: H5Reader, readonly live: boolean, readonly interrupted = false) {
    // the TypeScript reader keeps decoded chunks itself: a second cache would hold them twice. A
    // file not closed by its writer may still grow: a chunk kept from before would miss rows written
    // since (the reader checks each read against changes, not what a cache above it holds)
    this.cache = live || interrupted || reader.cachesChunks ? null : new ChunkCache({ info: (p) => this.info(p), read: (p, s, e) => readNumericRows(this.h5, p, s, e) });
  }

  /** Columns may have different lengths (a live or interrupted file): use their common length. */
  get partial(): boolean {
    return this.live || this.interrupted;
  }

  /** The file path. */
  get filePath(): string {
    return this.reader.filePath;
  }

  private get h5(): H5Reader {
    if (this.closed) throw new StateError("CLOSED", `the experiment file ${this.reader.filePath} was closed; open it again to read`);
    return this.reader;
  }

  /** A StateError `CLOSED` once the loader is closed (for answers kept in memory). */
  checkOpen(): void {
    void this.h5;
  }

  /** Runs `fn`, whose reads then see a file being written as of one moment ({@link H5Reader.together}); `fn` must only read. */
  together<T>(fn: () => T): T {
    return this.h5.together(fn);
  }

  /** "group", "dataset" or null. */
  kind(path: string): "group" | "dataset" | null {
    return this.h5.kind(path);
  }

  /** Sorted member names of a group ([] when absent). */
  keys(path: string): string[] {
    return this.h5.keys(path);
  }

  /** Attributes as plain JS ({} when the object is absent). */
  attrs(path: string): Record<string, unknown> {
    const h5 = this.h5;
    return h5.kind(path) === null ? {} : plainAttrs(h5.attrs(path));
  }

  /** Dataset info. */
  info(path: string): DatasetInfo {
    return this.h5.info(path);
  }

  /** A numeric dataset, read in slices; `exact`: 64-bit integers beyond 2^53 as BigInt arrays ({@link SliceOptions.exactInt64}). */
  numeric(path: string, exact = false): NdArray {
    const o = { exactInt64: exact };
    if (!this.live) return readNumeric(this.h5, path, o);
    return retryLive(() => readNumeric(this.h5, path, o));
  }

  /**
   * Rows `[start, end)` of a numeric dataset (one slice; callers keep slices small), clamped to the
   * rows present; live reads that meet a half-written chunk entry are tried again.
   */
  readRows(path: string, start: number, end: number): NumericArray {
    if (!this.live) return this.h5.readRows(path, start, end);
    return retryLive(() => this.h5.readRows(path, start, end));
  }

  /** Rows `[start, end)` of a 1-D string dataset, clamped to the rows present; [] when absent. */
  stringRows(path: string, start: number, end: number): string[] {
    if (this.kind(path) !== "dataset") return [];
    if (!this.live) return this.h5.readStringRows(path, start, end);
    return retryLive(() => this.h5.readStringRows(path, start, end));
  }

  /**
   * Rows `[start, end)` of a numeric dataset (clamped to the rows present), read in slices; the
   * caller's own copy. Not live: through a cache of decoded chunks.
   */
  slice(path: string, start: number, end: number, exact = false): NdArray {
    const h5 = this.h5; // closed: StateError, also for cached rows
    if (exact && isBig(this.info(path).dtype as Dtype)) {
      // the caller's 64-bit data: exact values, decided per slice (the chunk cache holds numbers)
      if (!this.live) return readNumericRows(h5, path, start, end, { exactInt64: true });
      return retryLive(() => readNumericRows(h5, path, start, end, { exactInt64: true }));
    }
    if (this.cache) return this.cache.rows(path, start, end);
    return retryLive(() => readNumericRows(h5, path, start, end));
  }

  /**
   * Chunks decoded so far: through {@link slice} (h5wasm reader), or every chunk the TypeScript
   * reader read from the file (its cache misses); not counted in live mode.
   */
  get chunksRead(): number {
    return this.cache?.chunksRead ?? (this.live ? 0 : this.reader.chunksRead ?? 0);
  }

  /** Rows of a dataset (its first dimension; 1 for a scalar); 0 when absent. */
  length(path: string): number {
    if (this.kind(path) !== "dataset") return 0;
    const shape = this.info(path).shape;
    return shape.length ? shape[0] : 1;
  }

  /** A numeric dataset as Float64Array; empty when absent. */
  float64(path: string): Float64Array {
    if (this.kind(path) !== "dataset") return new Float64Array(0);
    return toFloat64(this.numeric(path).data, path);
  }

  /** A scalar text dataset. */
  readText(path: string): string {
    return this.h5.readText(path);
  }

  /** A 1-D string dataset; [] when absent. */
  strings(path: string): string[] {
    if (this.kind(path) !== "dataset") return [];
    return this.h5.readStrings(path);
  }

  /** Parsed JSON text, or `fallback` when the dataset is absent. */
  json(path: string, fallback: unknown): unknown {
    if (this.kind(path) !== "dataset") return fallback;
    return parseJson(this.readText(path), path);
  }

  /** Closes the file; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cache = null;
    this.reader.close();
  }
}

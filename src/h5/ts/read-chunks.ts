/**
 * Raw data of datasets as bytes: rows `[start, end)` copied out of a compact layout, a contiguous
 * block, or the chunks that overlap them (found in the chunk B-tree, read, inflated with
 * node:zlib, unshuffled, and kept in a small cache of decoded chunks). A decoded chunk must have
 * exactly its chunk's size; a chunk missing from the index inside the dataset's extent is CORRUPT
 * (snn-export's writers never leave holes).
 */
import { inflateInto } from "./inflate.js";
import { ChunkTrees, type ChunkRef } from "./read-btree.js";
import { corrupt, UNDEF, type FileSource } from "./read-io.js";
import type { Filter, Layout } from "./read-messages.js";

/** What the chunk reader needs to know of a dataset. */
export interface DataDesc {
  /** Identity (the object header address), for the cache. */
  id: number;
  where: string;
  dims: number[];
  elemSize: number;
  layout: Layout;
  filters: Filter[];
}

/** Bytes of decoded chunks kept by default (what the loader's own cache held). */
export const DECODED_CACHE_BYTES = 32 << 20;

/** Reads dataset rows; counts the chunks it read from the file. */
export class ChunkReader {
  /** Chunks read from the file and decoded (cache misses), for tests and measurements. */
  chunksRead = 0;
  private readonly trees: ChunkTrees;
  private readonly cache = new Map<string, Uint8Array>();
  private cached = 0;

  constructor(private readonly src: FileSource, private readonly budget = DECODED_CACHE_BYTES) {
    this.trees = new ChunkTrees(src);
  }

  /** Forgets all cached chunks and B-tree nodes. */
  clear(): void {
    this.cache.clear();
    this.cached = 0;
    this.trees.clear();
  }

  /** Bytes of one row (all dimensions after the first; the whole element for a scalar). */
  static rowBytes(d: DataDesc): number {
    return d.dims.slice(1).reduce((a, b) => a * b, 1) * d.elemSize;
  }

  /** Rows `[s, e)` (already clamped to the extent) as bytes, into `out` when given; a scalar is rows `[0, 1)`. */
  rows(d: DataDesc, s: number, e: number, out: Uint8Array = new Uint8Array((e - s) * ChunkReader.rowBytes(d))): Uint8Array {
    const rb = ChunkReader.rowBytes(d);
    if (e <= s || rb === 0) return out;
    const L = d.layout;
    if (L.kind === "compact") {
      const total = (d.dims[0] ?? 1) * rb;
      if (L.data.length !== total) throw corrupt(d.where, `compact data of ${L.data.length} bytes, expected ${total}`);
      out.set(L.data.subarray(s * rb, e * rb));
    } else if (L.kind === "contiguous") {
      const total = (d.dims[0] ?? 1) * rb;
      if (L.addr === UNDEF || L.size !== total) throw corrupt(d.where, `contiguous data of ${L.size} bytes at ${L.addr}, expected ${total}`);
      out.set(this.src.read(L.addr + s * rb, (e - s) * rb, d.where, "raw data"));
    } else {
      this.chunked(d, L, s, e, rb, out);
    }
    return out;
  }

  private chunked(d: DataDesc, L: Extract<Layout, { kind: "chunked" }>, s: number, e: number, rb: number, out: Uint8Array): void {
    const R = L.chunk[0];
    const refs = this.trees.find({ root: L.btree, rank: d.dims.length, chunkRows: R, where: d.where }, s, e);
    const first = Math.floor(s / R);
    const last = Math.floor((e - 1) / R);
    if (refs.length !== last - first + 1 || refs.some((r, i) => r.row !== (first + i) * R)) {
      const have = refs.map((r) => r.row / R).join(", ") || "none";
      throw corrupt(d.where, `chunks ${first}..${last} hold rows ${s}..${e - 1}, but the chunk index has ${have}`);
    }
    for (const ref of refs) {
      const from = Math.max(s, ref.row);
      const to = Math.min(e, ref.row + R);
      const whole = refs.length > 8 && from === ref.row && to === ref.row + R;
      if (whole && this.direct(d, ref, R * rb, out.subarray((from - s) * rb, (to - s) * rb))) continue;
      const chunk = this.chunk(d, ref, R * rb);
      out.set(chunk.subarray((from - ref.row) * rb, (to - ref.row) * rb), (from - s) * rb);
    }
  }

  private chunk(d: DataDesc, ref: ChunkRef, bytes: number): Uint8Array {
    const key = `${d.id}:${ref.row}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const where = `${d.where}: chunk at row ${ref.row}`;
    if (ref.mask !== 0) throw corrupt(where, `filter mask ${ref.mask} (snn-export never skips a filter)`);
    const stored = this.src.read(ref.addr, ref.size, where, "chunk");
    this.chunksRead++;
    const data = decode(stored, d, bytes, where);
    if (bytes <= this.budget / 4) this.remember(key, data);
    return data;
  }

  /**
   * A long read (more than eight chunks) decodes its whole chunks straight into the output, without
   * caching them, when the pipeline is shuffle + deflate; false when the chunk goes the usual way.
   */
  private direct(d: DataDesc, ref: ChunkRef, bytes: number, into: Uint8Array): boolean {
    if (d.filters.length !== 2 || this.cache.has(`${d.id}:${ref.row}`)) return false;
    const where = `${d.where}: chunk at row ${ref.row}`;
    if (ref.mask !== 0) throw corrupt(where, `filter mask ${ref.mask} (snn-export never skips a filter)`);
    const stored = this.src.read(ref.addr, ref.size, where, "chunk");
    this.chunksRead++;
    decode(stored, d, bytes, where, into);
    return true;
  }

  private remember(key: string, data: Uint8Array): void {
    this.cache.set(key, data);
    this.cached += data.length;
    for (const [k, v] of this.cache) {
      if (this.cached <= this.budget || k === key) break;
      this.cache.delete(k);
      this.cached -= v.length;
    }
  }
}

let scratch = new Uint8Array(0);

/**
 * Undoes the filter pipeline: deflate (inflated into a scratch buffer when a shuffle follows) then
 * shuffle; no filters: the stored bytes. The result must be exactly `bytes` long.
 */
function decode(stored: Uint8Array, d: DataDesc, bytes: number, where: string, into?: Uint8Array): Uint8Array {
  const ids = d.filters.map((f) => f.id).join(",");
  if (ids === "") {
    if (stored.length !== bytes) throw corrupt(where, `chunk of ${stored.length} bytes, expected ${bytes}`);
    return stored;
  }
  const shuffle = d.filters.find((f) => f.id === 2);
  if (shuffle && (shuffle.cd[0] ?? d.elemSize) !== d.elemSize) throw corrupt(where, `shuffle of ${shuffle.cd[0]}-byte elements on ${d.elemSize}-byte data`);
  if (ids === "1") return inflate(stored, new Uint8Array(bytes + 1), bytes, where).subarray(0, bytes);
  if (ids === "2,1") {
    if (scratch.length < bytes + 1) scratch = new Uint8Array(bytes + 1);
    return unshuffle(inflate(stored, scratch, bytes, where).subarray(0, bytes), d.elemSize, into);
  }
  if (ids === "2") {
    if (stored.length !== bytes) throw corrupt(where, `chunk of ${stored.length} bytes, expected ${bytes}`);
    return unshuffle(stored, d.elemSize, into);
  }
  throw corrupt(where, `filter pipeline ${ids} (snn-export writes shuffle then deflate)`);
}

function inflate(data: Uint8Array, out: Uint8Array, bytes: number, where: string): Uint8Array {
  let n: number;
  try {
    n = inflateInto(data, out, bytes);
  } catch (err) {
    throw corrupt(where, `the compressed chunk does not inflate (${(err as Error).message})`);
  }
  if (n !== bytes) throw corrupt(where, `the compressed chunk inflates to ${n > bytes ? "more than " : ""}${n} bytes, expected ${bytes}`);
  return out;
}

/** Element `k` (0-3) of the four little-endian words of four byte planes, as one 32-bit word. */
function gather(a: number, b: number, c: number, d: number, k: number): number {
  const s = 8 * k;
  return ((a >>> s) & 0xff) | (((b >>> s) & 0xff) << 8) | (((c >>> s) & 0xff) << 16) | ((d >>> s) << 24);
}

/** Unshuffles 4-byte (or, as two halves, 8-byte) elements four at a time, reading planes a word at a time. */
function unshuffleWords(src: Uint8Array, size: number, n: number, out: Uint8Array): void {
  const planes = new Uint32Array(src.buffer, src.byteOffset, (size * n) >> 2);
  const w = new Uint32Array(out.buffer, out.byteOffset, (size * n) >> 2);
  const q = n >> 2; // words per plane
  const halves = size >> 2;
  for (let i = 0; i < q; i++) {
    for (let h = 0; h < halves; h++) {
      const base = 4 * h * q + i;
      const a = planes[base], b = planes[base + q], c = planes[base + 2 * q], d = planes[base + 3 * q];
      for (let k = 0; k < 4; k++) w[(4 * i + k) * halves + h] = gather(a, b, c, d, k);
    }
  }
}

/**
 * Inverse of HDF5's shuffle filter: byte j of element i comes from position j * n + i. Writes
 * into `out` when given (same length as `src`).
 */
export function unshuffle(src: Uint8Array, size: number, out: Uint8Array = new Uint8Array(src.length)): Uint8Array {
  if (size <= 1) {
    if (out !== src) out.set(src);
    return out;
  }
  const n = Math.floor(src.length / size);
  const words = (size === 4 || size === 8) && n % 4 === 0 && src.byteOffset % 4 === 0 && out.byteOffset % 4 === 0;
  if (words) unshuffleWords(src, size, n, out);
  else {
    for (let j = 0; j < size; j++) {
      const base = j * n;
      for (let i = 0, t = j; i < n; i++, t += size) out[t] = src[base + i];
    }
  }
  out.set(src.subarray(n * size), n * size); // a partial element stays as it is
  return out;
}

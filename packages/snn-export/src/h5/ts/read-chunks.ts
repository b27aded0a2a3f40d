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
    const data = decode(stored, d, bytes, where, undefined, inExtent(d, ref));
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

/** Elements of the chunk at `ref` that lie inside the dataset's extent (the rest of an edge chunk is never read). */
function inExtent(d: DataDesc, ref: ChunkRef): number {
  const rows = d.dims.length ? d.dims[0] : 1;
  const R = d.layout.kind === "chunked" ? d.layout.chunk[0] : rows;
  return Math.max(0, Math.min(R, rows - ref.row)) * (ChunkReader.rowBytes(d) / d.elemSize);
}

let scratch = new Uint8Array(0);

/**
 * Undoes the filter pipeline: deflate (inflated into a scratch buffer when a shuffle follows) then
 * shuffle; no filters: the stored bytes. The result must be exactly `bytes` long.
 */
function decode(stored: Uint8Array, d: DataDesc, bytes: number, where: string, into?: Uint8Array, count?: number): Uint8Array {
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
    return unshuffle(inflate(stored, scratch, bytes, where).subarray(0, bytes), d.elemSize, into, count);
  }
  if (ids === "2") {
    if (stored.length !== bytes) throw corrupt(where, `chunk of ${stored.length} bytes, expected ${bytes}`);
    return unshuffle(stored, d.elemSize, into, count);
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
  if (n !== bytes) throw corrupt(where, `the compressed chunk inflates to ${n > bytes ? `more than ${bytes}` : n} bytes, expected ${bytes}`);
  return out;
}

/**
 * Inverse of HDF5's shuffle filter: byte j of element i comes from position j * n + i. Writes
 * into `out` when given (same length as `src`). `count`: only the first `count` elements are
 * produced (an edge chunk's rows past the dataset's extent are not needed); the rest of `out` is
 * left as it is. 2-, 4- and 8-byte elements are assembled into 16- and 32-bit words, one element
 * per iteration (plain loops are also what runs fastest before the JIT has compiled them).
 */
export function unshuffle(src: Uint8Array, size: number, out: Uint8Array = new Uint8Array(src.length), count?: number): Uint8Array {
  if (size <= 1) {
    if (out !== src) out.set(src);
    return out;
  }
  const n = Math.floor(src.length / size);
  const m = count === undefined ? n : Math.max(0, Math.min(n, count));
  if (size === 2 && out.byteOffset % 2 === 0) {
    const w = new Uint16Array(out.buffer, out.byteOffset, m);
    for (let i = 0; i < m; i++) w[i] = src[i] | (src[n + i] << 8);
  } else if (size === 4 && out.byteOffset % 4 === 0) {
    const w = new Uint32Array(out.buffer, out.byteOffset, m);
    for (let i = 0; i < m; i++) w[i] = src[i] | (src[n + i] << 8) | (src[2 * n + i] << 16) | (src[3 * n + i] << 24);
  } else if (size === 8 && out.byteOffset % 4 === 0) {
    const w = new Uint32Array(out.buffer, out.byteOffset, 2 * m);
    for (let i = 0; i < m; i++) {
      w[2 * i] = src[i] | (src[n + i] << 8) | (src[2 * n + i] << 16) | (src[3 * n + i] << 24);
      w[2 * i + 1] = src[4 * n + i] | (src[5 * n + i] << 8) | (src[6 * n + i] << 16) | (src[7 * n + i] << 24);
    }
  } else {
    for (let j = 0; j < size; j++) {
      const base = j * n;
      for (let i = 0, t = j; i < m; i++, t += size) out[t] = src[base + i];
    }
  }
  if (m === n) out.set(src.subarray(n * size), n * size); // a partial element stays as it is
  return out;
}

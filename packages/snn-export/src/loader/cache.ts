/**
 * {@link ChunkCache}: decoded chunks of the experiment-wide streams of a 2.x file, so that reading
 * many short episodes one after the other decompresses each chunk once, not once per episode.
 */
import type { DatasetInfo } from "../h5/types.js";
import type { NumberArray } from "./read.js";
import type { NdArray } from "./types.js";

/** Bytes of decoded chunks kept [32 MiB]. */
export const CHUNK_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * Row-range reads through a cache of whole decoded chunks (least recently used dropped first).
 * HDF5 decompresses a whole chunk for any slice of it anyway; keeping it makes the next episode's
 * slice of the same chunk free. Only for files that do not change while open (not `live`).
 * Slices over more than two chunks, and chunks larger than a quarter of the budget, are read
 * directly.
 *
 * @example
 * ```ts
 * const cache = new ChunkCache({ info: (p) => reader.info(p), read: (p, s, e) => readNumericRows(reader, p, s, e) });
 * const ts = cache.rows("/timesteps", 100, 150);
 * ```
 */
export class ChunkCache {
  private readonly blocks = new Map<string, NdArray>();
  private readonly infos = new Map<string, DatasetInfo>();
  private bytes = 0;
  /** Chunks decoded from the file so far (a cache miss, or a read past the cache). */
  chunksRead = 0;

  /** `info` and `read` (rows `[start, end)`, clamped, as {@link readNumericRows} reads them) go to the file. */
  constructor(
    private readonly file: { info(path: string): DatasetInfo; read(path: string, start: number, end: number): NdArray },
    private readonly budget = CHUNK_CACHE_BYTES,
  ) {}

  private info(path: string): DatasetInfo {
    let info = this.infos.get(path);
    if (!info) this.infos.set(path, (info = this.file.info(path)));
    return info;
  }

  /** Rows `[start, end)` of a numeric dataset, clamped to its rows; the result is the caller's own copy. */
  rows(path: string, start: number, end: number): NdArray {
    const info = this.info(path);
    const rows = info.shape[0] ?? 0;
    const chunk = info.chunks?.[0] ?? 0;
    const s = Math.max(0, Math.min(start, rows));
    const e = Math.max(s, Math.min(end, rows));
    const rowSize = info.shape.slice(1).reduce((a, b) => a * b, 1);
    const k0 = Math.floor(s / chunk);
    const k1 = Math.floor((e - 1) / chunk);
    const chunkBytes = chunk * rowSize * 8;
    if (info.shape.length === 0 || e <= s || !(chunk > 0) || k1 - k0 > 1 || chunkBytes > this.budget / 4) {
      if (e > s) this.chunksRead += chunk > 0 ? k1 - k0 + 1 : 1;
      return this.file.read(path, start, end);
    }
    const parts = [this.block(path, k0, chunk, rows)];
    if (k1 > k0) parts.push(this.block(path, k1, chunk, rows));
    const first = parts[0];
    const data = first.data.constructor as new (n: number) => NumberArray;
    const out = new data((e - s) * rowSize);
    let at = 0;
    for (const [i, part] of parts.entries()) {
      const base = (k0 + i) * chunk;
      const from = Math.max(s, base) - base;
      const to = Math.min(e, base + part.shape[0]) - base;
      out.set((part.data as NumberArray).subarray(from * rowSize, to * rowSize), at);
      at += (to - from) * rowSize;
    }
    return { ...first, data: out, shape: [e - s, ...info.shape.slice(1)] };
  }

  /** Chunk `k` of `path`, decoded (from the cache when it is there). */
  private block(path: string, k: number, chunk: number, rows: number): NdArray {
    const key = `${path}\u0000${k}`;
    const hit = this.blocks.get(key);
    if (hit) {
      this.blocks.delete(key); // most recently used last
      this.blocks.set(key, hit);
      return hit;
    }
    const block = this.file.read(path, k * chunk, Math.min(rows, (k + 1) * chunk));
    this.chunksRead++;
    this.blocks.set(key, block);
    this.bytes += block.data.byteLength;
    for (const [old, b] of this.blocks) {
      if (this.bytes <= this.budget || old === key) break;
      this.blocks.delete(old);
      this.bytes -= b.data.byteLength;
    }
    return block;
  }
}

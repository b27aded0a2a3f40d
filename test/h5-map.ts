/**
 * Test helper: where the structures of a file written by the TypeScript writer lie (object
 * headers, chunk B-tree nodes, global heap collection and object headers, compressed and
 * uncompressed chunks), found through the reader's own parsers, for the corruption tests.
 */
import { readFileSync } from "node:fs";
import { H5Reader } from "#lib/h5/reader.js";
import { ChunkTrees } from "#lib/h5/ts/read-btree.js";
import { FileSource } from "#lib/h5/ts/read-io.js";
import { buildObject } from "#lib/h5/ts/read-object.js";
import { readObjectHeader } from "#lib/h5/ts/read-object-header.js";
import { allPaths } from "./reader-diff.js";

/** [start, length] ranges of each kind of structure. */
export interface FileMap {
  superblock: [number, number][];
  headers: [number, number][];
  btree: [number, number][];
  heap: [number, number][];
  /** Chunks with deflate (zlib's adler32 guards them). */
  compressed: [number, number][];
  /** Chunks without filters (no checksum in HDF5: not detectable). */
  raw: [number, number][];
  /**
   * The chunk addresses in leaf nodes of datasets without filters: a changed address reads other
   * bytes of the file as the chunk, which nothing in HDF5 can tell from the chunk (not detectable).
   */
  rawAddresses: [number, number][];
  /** Chunk address fields in B-tree leaves of compressed datasets, with their chunk's stored size. */
  leafFields: { at: number; size: number }[];
}

/** Ranges of a B-tree node without its leaf chunk addresses (those of `raw` datasets go to `unguarded`). */
function nodeRanges(b: Uint8Array, addr: number, n: number, rank: number, raw: boolean, map: FileMap): void {
  if (b[addr + 5] !== 0) {
    map.btree.push([addr, n]);
    return;
  }
  const keySize = 8 + 8 * (rank + 1);
  map.btree.push([addr, 24]);
  for (let at = addr + 24; at < addr + n; at += keySize + 8) {
    map.btree.push([at, Math.min(keySize, addr + n - at)]);
    if (at + keySize >= addr + n) break;
    if (raw) map.rawAddresses.push([at + keySize, 8]);
    else {
      map.btree.push([at + keySize, 8]);
      map.leafFields.push({ at: at + keySize, size: b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24) });
    }
  }
}

/** Length of the version-2 object header at `addr` (signature to checksum). */
function headerLength(b: Uint8Array, addr: number): number {
  const flags = b[addr + 5];
  let at = addr + 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
  const n = 1 << (flags & 3);
  let size = 0;
  for (let i = n - 1; i >= 0; i--) size = size * 256 + b[at + i];
  at += n;
  return at - addr + size + 4;
}

/** Collection headers and object headers of every global heap collection. */
function heapRanges(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (let at = b.indexOf(0x47); at >= 0 && at + 16 <= b.length; at = b.indexOf(0x47, at + 1)) {
    if (b[at + 1] !== 0x43 || b[at + 2] !== 0x4f || b[at + 3] !== 0x4c || b[at + 4] !== 1) continue;
    const size = Number(Buffer.from(b.buffer, b.byteOffset + at + 8, 8).readBigUInt64LE());
    if (size < 16 || at + size > b.length) continue;
    out.push([at, 16]);
    for (let p = at + 16; p + 16 <= at + size; ) {
      out.push([p, 16]);
      const index = b[p] | (b[p + 1] << 8);
      const osize = Number(Buffer.from(b.buffer, b.byteOffset + p + 8, 8).readBigUInt64LE());
      if (index === 0) break;
      p += 16 + Math.ceil(osize / 8) * 8;
    }
  }
  return out;
}

/** Maps the structures of `file` (a file the TypeScript reader reads). */
export async function mapFile(file: string): Promise<FileMap> {
  const bytes = new Uint8Array(readFileSync(file));
  const map: FileMap = { superblock: [[0, 48]], headers: [], btree: [], heap: heapRanges(bytes), compressed: [], raw: [], rawAddresses: [], leafFields: [] };
  const r = await H5Reader.open(file, { engine: "ts" });
  const src = new FileSource(file);
  let current = { rank: 1, raw: false };
  const trees = new ChunkTrees(src, (addr, n) => nodeRanges(bytes, addr, n, current.rank, current.raw, map));
  try {
    for (const p of allPaths(r)) {
      const addr = Number(r.objectAddress(p));
      map.headers.push([addr, headerLength(bytes, addr)]);
      const obj = buildObject(addr, readObjectHeader(src, addr, p), p);
      const m = obj.dataset;
      if (!m || m.layout.kind !== "chunked") continue;
      current = { rank: m.dims.length, raw: m.filters.length === 0 };
      const refs = trees.find({ root: m.layout.btree, rank: m.dims.length, chunkRows: m.layout.chunk[0], where: p }, 0, m.dims[0]);
      for (const c of refs) (m.filters.length ? map.compressed : map.raw).push([c.addr, c.size]);
    }
  } finally {
    r.close();
    src.close();
  }
  const uniq = (l: [number, number][]) => [...new Map(l.map((x) => [x[0], x])).values()];
  for (const k of ["superblock", "headers", "btree", "heap", "compressed", "raw", "rawAddresses"] as const) map[k] = uniq(map[k]);
  return map;
}

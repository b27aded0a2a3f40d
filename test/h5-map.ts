/**
 * Test helper: where the structures of a file written by the TypeScript writer lie (object
 * headers, chunk B-tree nodes, global heap collection and object headers, compressed and
 * uncompressed chunks), found through the reader's own parsers, for the corruption tests.
 */
import { readFileSync } from "node:fs";
import { H5Reader } from "../src/h5/reader.js";
import { ChunkTrees } from "../src/h5/ts/read-btree.js";
import { FileSource } from "../src/h5/ts/read-io.js";
import { buildObject } from "../src/h5/ts/read-object.js";
import { readObjectHeader } from "../src/h5/ts/read-object-header.js";
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
  const map: FileMap = { superblock: [[0, 48]], headers: [], btree: [], heap: heapRanges(bytes), compressed: [], raw: [] };
  const r = await H5Reader.open(file, { engine: "ts" });
  const src = new FileSource(file);
  const trees = new ChunkTrees(src, (addr, n) => map.btree.push([addr, n]));
  try {
    for (const p of allPaths(r)) {
      const addr = Number(r.objectAddress(p));
      map.headers.push([addr, headerLength(bytes, addr)]);
      const obj = buildObject(addr, readObjectHeader(src, addr, p), p);
      const m = obj.dataset;
      if (!m || m.layout.kind !== "chunked") continue;
      const refs = trees.find({ root: m.layout.btree, rank: m.dims.length, chunkRows: m.layout.chunk[0], where: p }, 0, m.dims[0]);
      for (const c of refs) (m.filters.length ? map.compressed : map.raw).push([c.addr, c.size]);
    }
  } finally {
    r.close();
    src.close();
  }
  const uniq = (l: [number, number][]) => [...new Map(l.map((x) => [x[0], x])).values()];
  for (const k of Object.keys(map) as (keyof FileMap)[]) map[k] = uniq(map[k]);
  return map;
}

/**
 * Variable-length strings: the 16-byte references a string element holds (length, global heap
 * collection address, object index) resolved in global heap collections ("GCOL"). A collection is
 * read whole once and its objects indexed; every object must lie inside it, indexes are unique,
 * and a reference's length must equal its object's size. A collection our writer marked as
 * checksummed (heap.ts) must hold its checksum object, and the hash must match: HDF5 keeps no
 * checksum there, so without it a changed byte of a string would read as a different string.
 * Collections without the mark (files written before it, or by HDF5) are read as they are.
 */
import { CHECKSUM_MAGIC, CHECKSUM_MARK } from "./heap.js";
import { lookup3 } from "./lookup3.js";
import { corrupt, Cursor, hasSignature, type FileSource } from "./read-io.js";

/** Largest collection accepted (HDF5 grows one collection at most to hold one object). */
const MAX_COLLECTION = 1 << 30;
/** Bytes of collections kept. */
const CACHE_BYTES = 16 << 20;

/** Fatal: bytes that are not UTF-8 (as every string of the profile is declared) are damage, not U+FFFD. */
const decoder = new TextDecoder("utf-8", { fatal: true });

interface Collection {
  bytes: number;
  objects: Map<number, Uint8Array>;
}

/** Global heap collections of one file, read on first use and kept (up to {@link CACHE_BYTES}). */
export class GlobalHeaps {
  private readonly cache = new Map<number, Collection>();
  private bytes = 0;

  constructor(private readonly src: FileSource) {}

  /** Forgets every collection read (the file may have changed). */
  clear(): void {
    this.cache.clear();
    this.bytes = 0;
  }

  /** The string referenced by the 16 bytes of `refs` at `at` (`where`: file and object, for errors). */
  text(refs: Uint8Array, at: number, where: string): string {
    const c = new Cursor(refs.subarray(at, at + 16), where, "variable-length string reference");
    const length = c.u32();
    const addr = c.u64();
    const index = c.u32();
    if (length === 0) return "";
    const obj = this.collection(addr, where).objects.get(index);
    if (!obj) throw corrupt(where, `global heap collection at ${addr} has no object ${index}`);
    if (obj.length !== length) throw corrupt(where, `string of ${length} bytes refers to a heap object of ${obj.length} bytes`);
    try {
      return decoder.decode(obj);
    } catch {
      throw corrupt(where, `string in heap object ${index} at ${addr} is not valid UTF-8`);
    }
  }

  private collection(addr: number, where: string): Collection {
    const hit = this.cache.get(addr);
    if (hit) return hit;
    const head = this.src.read(addr, 16, where, "global heap collection");
    if (!hasSignature(head, 0, "GCOL")) throw corrupt(where, `no global heap collection ("GCOL") at ${addr}`);
    const h = new Cursor(head, where, "global heap collection header");
    h.skip(4);
    if (h.u8() !== 1) throw corrupt(where, `global heap collection at ${addr} has version ${head[4]}`);
    h.skip(3);
    const size = h.u64();
    if (size < 16 || size > MAX_COLLECTION) throw corrupt(where, `global heap collection at ${addr} claims ${size} bytes`);
    const what = `${where}: global heap collection at ${addr}`;
    let col: Collection;
    try {
      col = parseObjects(this.src.read(addr, size, where, "global heap collection"), what);
    } catch (err) {
      if (!(err instanceof ChecksumMismatch)) throw err;
      // a file being written rewrites a growing collection in place: read it once more before
      // calling the difference damage
      try {
        col = parseObjects(this.src.read(addr, size, where, "global heap collection"), what);
      } catch (again) {
        throw again instanceof ChecksumMismatch ? corrupt(what, again.message) : again;
      }
    }
    this.remember(addr, col);
    return col;
  }

  private remember(addr: number, col: Collection): void {
    this.cache.set(addr, col);
    this.bytes += col.bytes;
    for (const [a, c] of this.cache) {
      if (this.bytes <= CACHE_BYTES || a === addr) break;
      this.cache.delete(a);
      this.bytes -= c.bytes;
    }
  }
}

/** A checksummed collection whose bytes do not match its checksum (read again before it is CORRUPT). */
class ChecksumMismatch extends Error {}

/** "marked", "plain" (all zero, as HDF5 writes them) or null (anything else: damage). */
function reservedBytes(b: Uint8Array): "marked" | "plain" | null {
  const r = [b[5], b[6], b[7]];
  if (r.every((x, i) => x === CHECKSUM_MARK[i])) return "marked";
  if (r.every((x) => x === 0)) return "plain";
  return null;
}

function isChecksumObject(data: Uint8Array): boolean {
  return data.length === 8 && CHECKSUM_MAGIC.every((x, i) => data[i] === x);
}

/**
 * Indexes the objects of a collection; the free-space object (index 0) ends the walk. In a
 * checksummed collection, the last object is the checksum object and the hash is checked.
 */
function parseObjects(b: Uint8Array, where: string): Collection {
  const objects = new Map<number, Uint8Array>();
  const c = new Cursor(b, where, "global heap collection");
  const reserved = reservedBytes(b);
  if (reserved === null) throw corrupt(where, `reserved bytes of the collection header are ${b[5]}, ${b[6]}, ${b[7]}`);
  c.skip(16);
  /** Where the checksum object's header starts, once it is found. */
  let checksumAt = -1;
  let checksum = 0;
  while (c.left >= 16) {
    const start = c.pos;
    const index = c.u16();
    c.skip(6); // reference count, reserved
    const size = c.u64();
    if (index === 0) break;
    if (!Number.isSafeInteger(size) || size > c.left) throw corrupt(where, `heap object ${index} of ${size} bytes runs past the collection`);
    if (objects.has(index)) throw corrupt(where, `heap object index ${index} appears twice`);
    const data = c.bytes(size);
    c.skip(Math.min(c.left, ((size + 7) & ~7) - size));
    if (reserved === "marked" && isChecksumObject(data)) {
      if (checksumAt >= 0) throw corrupt(where, "two checksum objects");
      checksumAt = start;
      checksum = (data[4] | (data[5] << 8) | (data[6] << 16) | (data[7] << 24)) >>> 0;
      continue;
    }
    if (checksumAt >= 0) throw corrupt(where, `heap object ${index} follows the checksum object`);
    objects.set(index, data);
  }
  if (reserved === "marked") {
    if (checksumAt < 0) throw corrupt(where, "the collection is marked as checksummed but has no checksum object");
    if (lookup3(b.subarray(16, checksumAt)) >>> 0 !== checksum) throw new ChecksumMismatch("the strings of the collection do not match its checksum");
  }
  return { bytes: b.length, objects };
}

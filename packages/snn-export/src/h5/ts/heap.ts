/**
 * Global heap collections ("GCOL") holding variable-length strings.
 *
 * HDF5 keeps no checksum in a collection. Ours carry one (FORMAT.md, "Global heap checksums"):
 * the collection header's three reserved bytes are {@link CHECKSUM_MARK}, and the last object
 * before the free space is a checksum object (no reference points at it) of 8 bytes: 0xFF "SNC"
 * (never the start of a UTF-8 string nor of a virtual-dataset mapping) and the lookup3 hash of
 * the collection's bytes from the end of its header to the start of the checksum object (every
 * other object's header, data and padding). HDF5 skips reserved bytes and unreferenced objects.
 */
import { Bytes, SIG_GCOL } from "./bytes.js";
import { lookup3 } from "./lookup3.js";

const HDR = 16; // collection header: signature, version, reserved, size
const OBJ = 16; // object header: index, refcount, reserved, size
/** The collection header's reserved bytes (5–7) of a collection with a checksum object. */
export const CHECKSUM_MARK = [0x53, 0x4e, 0x43]; // "SNC"
/** The first 4 bytes of the checksum object's data. */
export const CHECKSUM_MAGIC = [0xff, 0x53, 0x4e, 0x43];
/** The checksum object: header and 8 bytes of data (magic, lookup3). */
const CHK = OBJ + 8;

interface Collection {
  addr: number;
  size: number;
  /** Its objects; emptied once it is full and written (it never changes again). */
  objects: Uint8Array[];
  used: number;
  written: boolean;
}

const align8 = (n: number) => (n + 7) & ~7;

/** A reference to a heap object: what a vlen element stores (length, collection address, index). */
export interface HeapRef {
  length: number;
  addr: number;
  index: number;
}

/**
 * The collections being filled. Only the current collection (the one objects are added to) and
 * the collections changed since the last flush are kept: a full collection, once written, is
 * forgotten, so memory does not grow with the number of strings written.
 */
export class GlobalHeap {
  private current: Collection | null = null;
  /** Collections with objects added since the last flush. */
  private readonly dirty = new Set<Collection>();

  constructor(private readonly alloc: (n: number) => number) {}

  /** Stores `bytes` and returns its reference; space is reserved now, written at the next flush. */
  add(bytes: Uint8Array): HeapRef {
    const need = OBJ + align8(bytes.length);
    let c = this.current;
    // keep room for the checksum object and the free-space object (or none at all) at the end; a
    // full collection stays in `dirty` until it is written
    if (!c || c.used + need + CHK + OBJ > c.size || c.objects.length >= 65534) {
      const size = Math.max(4096, align8(HDR + need + CHK + OBJ));
      c = { addr: this.alloc(size), size, objects: [], used: HDR, written: false };
      this.current = c;
    }
    c.objects.push(bytes);
    c.used += need;
    this.dirty.add(c);
    return { length: bytes.length, addr: c.addr, index: c.objects.length };
  }

  /** Heap objects held in memory (the current collection's and those of collections not yet written). */
  get retained(): number {
    let n = 0;
    for (const c of this.dirty) n += c.objects.length;
    if (this.current && !this.dirty.has(this.current)) n += this.current.objects.length;
    return n;
  }

  /** Encoded dirty collections: `fresh` (never written) and `inPlace` (grown since last written). */
  flush(): { fresh: [number, Uint8Array][]; inPlace: [number, Uint8Array][] } {
    const fresh: [number, Uint8Array][] = [];
    const inPlace: [number, Uint8Array][] = [];
    for (const c of this.dirty) {
      (c.written ? inPlace : fresh).push([c.addr, encode(c)]);
      c.written = true;
      if (c !== this.current) c.objects = []; // full: it is never written again
    }
    this.dirty.clear();
    return { fresh, inPlace };
  }
}

function encode(c: Collection): Uint8Array {
  const b = new Bytes().bytes(SIG_GCOL).u8(1).bytes(Uint8Array.from(CHECKSUM_MARK)).u64(c.size);
  c.objects.forEach((data, i) => {
    b.u16(i + 1).u16(1).u32(0).u64(data.length).bytes(data).zeros(align8(data.length) - data.length);
  });
  const sum = lookup3(b.view().subarray(HDR));
  b.u16(c.objects.length + 1).u16(0).u32(0).u64(8).bytes(Uint8Array.from(CHECKSUM_MAGIC)).u32(sum);
  const free = c.size - b.length;
  if (free >= OBJ) b.u16(0).u16(0).u32(0).u64(free).zeros(free - OBJ);
  else b.zeros(free);
  return b.done();
}

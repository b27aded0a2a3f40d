/** Global heap collections ("GCOL") holding variable-length strings. */
import { Bytes, SIG_GCOL } from "./bytes.js";

const HDR = 16; // collection header: signature, version, reserved, size
const OBJ = 16; // object header: index, refcount, reserved, size

interface Collection {
  addr: number;
  size: number;
  objects: Uint8Array[];
  used: number;
  written: boolean;
  dirty: boolean;
}

const align8 = (n: number) => (n + 7) & ~7;

/** A reference to a heap object: what a vlen element stores (length, collection address, index). */
export interface HeapRef {
  length: number;
  addr: number;
  index: number;
}

export class GlobalHeap {
  private readonly collections: Collection[] = [];
  private current: Collection | null = null;

  constructor(private readonly alloc: (n: number) => number) {}

  /** Stores `bytes` and returns its reference; space is reserved now, written at the next flush. */
  add(bytes: Uint8Array): HeapRef {
    const need = OBJ + align8(bytes.length);
    let c = this.current;
    // keep room for the free-space object (or none at all) at the end
    if (!c || c.used + need + OBJ > c.size) {
      const size = Math.max(4096, align8(HDR + need + OBJ));
      c = { addr: this.alloc(size), size, objects: [], used: HDR, written: false, dirty: true };
      this.collections.push(c);
      this.current = c;
    }
    if (c.objects.length >= 65535) {
      this.current = null;
      return this.add(bytes);
    }
    c.objects.push(bytes);
    c.used += need;
    c.dirty = true;
    return { length: bytes.length, addr: c.addr, index: c.objects.length };
  }

  /** Encoded dirty collections: `fresh` (never written) and `inPlace` (grown since last written). */
  flush(): { fresh: [number, Uint8Array][]; inPlace: [number, Uint8Array][] } {
    const fresh: [number, Uint8Array][] = [];
    const inPlace: [number, Uint8Array][] = [];
    for (const c of this.collections) {
      if (!c.dirty) continue;
      c.dirty = false;
      (c.written ? inPlace : fresh).push([c.addr, encode(c)]);
      c.written = true;
    }
    return { fresh, inPlace };
  }
}

function encode(c: Collection): Uint8Array {
  const b = new Bytes().bytes(SIG_GCOL).u8(1).zeros(3).u64(c.size);
  c.objects.forEach((data, i) => {
    b.u16(i + 1).u16(1).u32(0).u64(data.length).bytes(data).zeros(align8(data.length) - data.length);
  });
  const free = c.size - b.length;
  if (free >= OBJ) b.u16(0).u16(0).u32(0).u64(free).zeros(free - OBJ);
  else b.zeros(free);
  return b.done();
}

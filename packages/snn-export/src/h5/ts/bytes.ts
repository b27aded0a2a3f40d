/** A growable little-endian byte builder for HDF5 metadata. */
export const UNDEF = -1; // written as 0xffffffffffffffff ("undefined address")

/** One UTF-8 encoder for all metadata (a new one per string showed in profiles). */
export const utf8 = new TextEncoder();
export const SIG_TREE = utf8.encode("TREE");
export const SIG_GCOL = utf8.encode("GCOL");
export const SIG_OHDR = utf8.encode("OHDR");

/**
 * Buffers of finished builders, for the next ones: a flush encodes hundreds of small pieces of
 * metadata, and a fresh ArrayBuffer (plus DataView) for each was a third of the flush's time.
 */
const spare: Uint8Array[] = [];
const SPARE_MAX = 64;
const SPARE_BYTES = 4096;
const EMPTY = new Uint8Array(0);

export class Bytes {
  private buf: Uint8Array = spare.pop() ?? new Uint8Array(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = Math.max(256, this.buf.length * 2);
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.length++] = v;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    const b = this.buf, i = this.length;
    b[i] = v;
    b[i + 1] = v >> 8;
    this.length = i + 2;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.put32(this.length, v >>> 0);
    this.length += 4;
    return this;
  }

  /** An unsigned 64-bit value from a JS number (< 2^53), or UNDEF for all ones. */
  u64(v: number): this {
    this.room(8);
    if (v === UNDEF) {
      this.put32(this.length, 0xffffffff);
      this.put32(this.length + 4, 0xffffffff);
    } else {
      this.put32(this.length, v % 4294967296);
      this.put32(this.length + 4, Math.floor(v / 4294967296));
    }
    this.length += 8;
    return this;
  }

  bytes(b: Uint8Array): this { this.room(b.length); this.buf.set(b, this.length); this.length += b.length; return this; }
  zeros(n: number): this { this.room(n); this.buf.fill(0, this.length, this.length + n); this.length += n; return this; }
  /** The bytes written so far: a view, valid until the next write. */
  view(): Uint8Array { return this.buf.subarray(0, this.length); }
  /** Patches a u32 at `at`. */
  setU32(at: number, v: number): void { this.put32(at, v >>> 0); }

  /** The bytes written; the builder's buffer goes to the next builder (this one is not used after). */
  done(): Uint8Array {
    const out = this.buf.slice(0, this.length);
    if (this.buf.length <= SPARE_BYTES && spare.length < SPARE_MAX) spare.push(this.buf);
    this.buf = EMPTY;
    this.length = 0;
    return out;
  }

  private put32(at: number, v: number): void {
    const b = this.buf;
    b[at] = v;
    b[at + 1] = v >>> 8;
    b[at + 2] = v >>> 16;
    b[at + 3] = v >>> 24;
  }
}


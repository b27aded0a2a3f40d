/** A growable little-endian byte builder for HDF5 metadata. */
export const UNDEF = -1; // written as 0xffffffffffffffff ("undefined address")

/** One UTF-8 encoder for all metadata (a new one per string showed in profiles). */
export const utf8 = new TextEncoder();
export const SIG_TREE = utf8.encode("TREE");
export const SIG_GCOL = utf8.encode("GCOL");
export const SIG_OHDR = utf8.encode("OHDR");

export class Bytes {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this { this.room(1); this.view.setUint8(this.length, v); this.length += 1; return this; }
  u16(v: number): this { this.room(2); this.view.setUint16(this.length, v, true); this.length += 2; return this; }
  u32(v: number): this { this.room(4); this.view.setUint32(this.length, v >>> 0, true); this.length += 4; return this; }
  /** An unsigned 64-bit value from a JS number (< 2^53), or UNDEF for all ones. */
  u64(v: number): this {
    this.room(8);
    if (v === UNDEF) {
      this.view.setUint32(this.length, 0xffffffff, true);
      this.view.setUint32(this.length + 4, 0xffffffff, true);
    } else {
      this.view.setUint32(this.length, v % 4294967296, true);
      this.view.setUint32(this.length + 4, Math.floor(v / 4294967296), true);
    }
    this.length += 8;
    return this;
  }
  bytes(b: Uint8Array): this { this.room(b.length); this.buf.set(b, this.length); this.length += b.length; return this; }
  zeros(n: number): this { this.room(n); this.buf.fill(0, this.length, this.length + n); this.length += n; return this; }
  /** Patches a u32 at `at`. */
  setU32(at: number, v: number): void { this.view.setUint32(at, v >>> 0, true); }
  done(): Uint8Array { return this.buf.slice(0, this.length); }
}

/** Little-endian u64 into `out` at `at`. */
export function putU64(view: DataView, at: number, v: number): void {
  if (v === UNDEF) {
    view.setUint32(at, 0xffffffff, true);
    view.setUint32(at + 4, 0xffffffff, true);
  } else {
    view.setUint32(at, v % 4294967296, true);
    view.setUint32(at + 4, Math.floor(v / 4294967296), true);
  }
}

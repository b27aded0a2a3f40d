/**
 * Bytes a dataset occupies in the file ("stored size", what HDF5's `H5Dget_storage_size` returns),
 * read from the file's own structures because the HDF5 engine (h5wasm) does not expose that call.
 *
 * Given the address of a dataset's object header (from an HDF5 object reference, see
 * `H5Reader.objectAddress`), this follows the HDF5 File Format Specification, version 3:
 * - the superblock (versions 0-3) for the sizes of offsets and lengths and the base address;
 * - the object header (version 1, or version 2 "OHDR" with "OCHK" continuation blocks) for the
 *   Data Layout message (type 8);
 * - for compact and contiguous layouts, the size recorded in that message;
 * - for chunked layouts of message versions 1-3, the version 1 B-tree of raw-data chunks ("TREE",
 *   node type 1), summing the chunk sizes of its leaf keys (the size after filters, as stored);
 * - for version 4 layouts, the "single chunk" index; the other version 4 chunk indexes (fixed and
 *   extensible arrays, version 2 B-trees, implicit) are not read and give `null` ("n/a").
 *
 * Checksums are not verified; structures that do not look as expected give `null` with a reason,
 * never a guess.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

export interface StorageSize {
  /** "compact", "contiguous", "chunked", "virtual" or "unknown". */
  layout: string;
  /** Bytes stored for the dataset's raw data (after filters), or null when it could not be read. */
  storedBytes: number | null;
  /** Chunks allocated (chunked layouts whose index was read). */
  chunks?: number;
  /** Why `storedBytes` is null. */
  reason?: string;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
const MSG_LAYOUT = 0x0008;
const MSG_CONTINUATION = 0x0010;
const MAX_BLOCKS = 10_000;

class Unreadable extends Error {}

/** Reads HDF5 on-disk structures of one file; keep it open for many datasets, then close it. */
export class StorageReader implements Disposable {
  private fd: number;
  private readonly fileSize: number;
  private offsetSize = 8;
  private lengthSize = 8;
  private base = 0n;

  constructor(readonly filePath: string) {
    this.fd = openSync(filePath, "r");
    try {
      this.fileSize = fstatSync(this.fd).size;
      this.readSuperblock();
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }

  /** Stored size of the dataset whose object header is at `address` (a file address, as in an object reference). */
  datasetStorage(address: bigint): StorageSize {
    let layout: Buffer | undefined;
    try {
      layout = this.findMessage(address, MSG_LAYOUT);
    } catch (err) {
      return { layout: "unknown", storedBytes: null, reason: (err as Error).message };
    }
    if (!layout) return { layout: "unknown", storedBytes: null, reason: "no data layout message in the object header" };
    try {
      return this.fromLayout(layout);
    } catch (err) {
      return { layout: "unknown", storedBytes: null, reason: (err as Error).message };
    }
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // ---- low-level reads ----

  private read(at: bigint | number, length: number): Buffer {
    const pos = Number(at);
    if (!Number.isSafeInteger(pos) || pos < 0 || pos + length > this.fileSize) {
      throw new Unreadable(`structure at ${pos} (+${length} bytes) lies outside the file (${this.fileSize} bytes)`);
    }
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, pos + done);
      if (n <= 0) throw new Unreadable(`short read at ${pos + done}`);
      done += n;
    }
    return buf;
  }

  private uint(buf: Buffer, at: number, size: number): bigint {
    switch (size) {
      case 1: return BigInt(buf.readUInt8(at));
      case 2: return BigInt(buf.readUInt16LE(at));
      case 4: return BigInt(buf.readUInt32LE(at));
      case 8: return buf.readBigUInt64LE(at);
      default: throw new Unreadable(`unsupported field size ${size}`);
    }
  }

  private isUndefined(buf: Buffer, at: number, size: number): boolean {
    for (let i = 0; i < size; i++) if (buf[at + i] !== 0xff) return false;
    return true;
  }

  /** An address field: absolute file position, or null for the "undefined address". */
  private addr(buf: Buffer, at: number): bigint | null {
    if (this.isUndefined(buf, at, this.offsetSize)) return null;
    return this.base + this.uint(buf, at, this.offsetSize);
  }

  private len(buf: Buffer, at: number): bigint {
    return this.uint(buf, at, this.lengthSize);
  }

  // ---- superblock ----

  private readSuperblock(): void {
    for (let off = 0; off + 16 <= this.fileSize; off = off === 0 ? 512 : off * 2) {
      const head = this.read(off, 16);
      if (!head.subarray(0, 8).equals(HDF5_SIGNATURE)) continue;
      const version = head[8];
      if (version === 0 || version === 1) {
        this.offsetSize = head[13];
        this.lengthSize = head[14];
        const baseAt = version === 0 ? 24 : 28;
        const b = this.read(off + baseAt, this.offsetSize);
        this.base = this.uint(b, 0, this.offsetSize);
      } else if (version === 2 || version === 3) {
        this.offsetSize = head[9];
        this.lengthSize = head[10];
        const b = this.read(off + 12, this.offsetSize);
        this.base = this.uint(b, 0, this.offsetSize);
      } else {
        throw new Unreadable(`unsupported superblock version ${version}`);
      }
      return;
    }
    throw new Unreadable("no HDF5 superblock found");
  }

  // ---- object headers ----

  /** The body of the first message of `type` in the object header at `address` (following continuations). */
  private findMessage(address: bigint, type: number): Buffer | undefined {
    const first = this.read(address, 4);
    if (first.toString("latin1", 0, 4) === "OHDR") return this.findMessageV2(address, type);
    if (first[0] === 1) return this.findMessageV1(address, type);
    throw new Unreadable(`no object header at address ${address} (version byte ${first[0]})`);
  }

  private findMessageV1(address: bigint, type: number): Buffer | undefined {
    const prefix = this.read(address, 16);
    const total = prefix.readUInt16LE(2);
    const headerSize = prefix.readUInt32LE(8);
    const blocks: Array<[bigint, number]> = [[address + 16n, headerSize]];
    let seen = 0;
    for (let b = 0; b < blocks.length && b < MAX_BLOCKS && seen < total; b++) {
      const [at, size] = blocks[b];
      const block = this.read(at, size);
      let p = 0;
      while (p + 8 <= size && seen < total) {
        const mtype = block.readUInt16LE(p);
        const msize = block.readUInt16LE(p + 2);
        const body = block.subarray(p + 8, p + 8 + msize);
        seen++;
        if (mtype === type) return Buffer.from(body);
        if (mtype === MSG_CONTINUATION) {
          const cAt = this.addr(body, 0);
          if (cAt !== null) blocks.push([cAt, Number(this.len(body, this.offsetSize))]);
        }
        p += 8 + msize;
      }
    }
    return undefined;
  }

  private findMessageV2(address: bigint, type: number): Buffer | undefined {
    const head = this.read(address, 6 + 16 + 4 + 8);
    const flags = head[5];
    let p = 6;
    if (flags & 0x20) p += 16; // access, modification, change, birth times
    if (flags & 0x10) p += 4; // max compact / min dense attribute counts
    const sizeBytes = 1 << (flags & 0x03);
    const chunk0 = Number(this.uint(head, p, sizeBytes));
    p += sizeBytes;
    const creationOrder = (flags & 0x04) !== 0;
    const blocks: Array<[bigint, number]> = [[address + BigInt(p), chunk0]];
    for (let b = 0; b < blocks.length && b < MAX_BLOCKS; b++) {
      const [at, size] = blocks[b];
      const block = this.read(at, size);
      const msgHeader = 4 + (creationOrder ? 2 : 0);
      let q = 0;
      while (q + msgHeader <= size) {
        const mtype = block[q];
        const msize = block.readUInt16LE(q + 1);
        const body = block.subarray(q + msgHeader, q + msgHeader + msize);
        if (mtype === type) return Buffer.from(body);
        if (mtype === MSG_CONTINUATION) {
          const cAt = this.addr(body, 0);
          const cLen = Number(this.len(body, this.offsetSize));
          if (cAt !== null) {
            const sig = this.read(cAt, 4).toString("latin1");
            if (sig !== "OCHK") throw new Unreadable(`object header continuation at ${cAt} has no OCHK signature`);
            blocks.push([cAt + 4n, cLen - 8]); // minus signature and checksum
          }
        }
        q += msgHeader + msize;
      }
    }
    return undefined;
  }

  // ---- data layout ----

  private fromLayout(m: Buffer): StorageSize {
    const version = m[0];
    if (version === 1 || version === 2) return this.layoutV1(m);
    if (version !== 3 && version !== 4) throw new Unreadable(`unsupported data layout message version ${version}`);
    const cls = m[1];
    if (cls === 0) return { layout: "compact", storedBytes: m.readUInt16LE(2) };
    if (cls === 1) {
      const at = this.addr(m, 2);
      const size = this.len(m, 2 + this.offsetSize);
      return { layout: "contiguous", storedBytes: at === null ? 0 : Number(size) };
    }
    if (cls === 3) return { layout: "virtual", storedBytes: null, reason: "virtual dataset: its data lives in other datasets" };
    if (cls !== 2) throw new Unreadable(`unknown layout class ${cls}`);
    if (version === 3) {
      const rank = m[2] - 1; // the last "dimension" is the element size
      const btree = this.addr(m, 3);
      return this.chunkedBtree(btree, rank);
    }
    // version 4 chunked
    const flags = m[2];
    const dims = m[3];
    const dimBytes = m[4];
    let p = 5 + dims * dimBytes;
    const index = m[p++];
    if (index === 1) {
      let filtered: bigint | undefined;
      if (flags & 0x02) {
        filtered = this.len(m, p);
        p += this.lengthSize + 4;
      }
      const at = this.addr(m, p);
      if (at === null) return { layout: "chunked", storedBytes: 0, chunks: 0 };
      let bytes: bigint;
      if (filtered !== undefined) bytes = filtered;
      else {
        bytes = 1n;
        for (let i = 0; i < dims; i++) bytes *= this.uint(m, 5 + i * dimBytes, dimBytes);
      }
      return { layout: "chunked", storedBytes: Number(bytes), chunks: 1 };
    }
    const names: Record<number, string> = { 2: "implicit", 3: "fixed array", 4: "extensible array", 5: "version 2 B-tree" };
    return { layout: "chunked", storedBytes: null, reason: `${names[index] ?? `type ${index}`} chunk index is not read by snn-export` };
  }

  private layoutV1(m: Buffer): StorageSize {
    const dims = m[1];
    const cls = m[2];
    let p = 8;
    if (cls === 0) {
      p += dims * 4;
      return { layout: "compact", storedBytes: m.readUInt32LE(p) };
    }
    const at = this.addr(m, p);
    p += this.offsetSize;
    if (cls === 1) {
      if (at === null) return { layout: "contiguous", storedBytes: 0 };
      let bytes = 1n;
      for (let i = 0; i < dims; i++) bytes *= BigInt(m.readUInt32LE(p + i * 4));
      return { layout: "contiguous", storedBytes: Number(bytes) };
    }
    if (cls === 2) return this.chunkedBtree(at, dims - 1);
    throw new Unreadable(`unknown layout class ${cls}`);
  }

  /** Sums the chunk sizes of a version 1 B-tree of raw data chunks. */
  private chunkedBtree(root: bigint | null, rank: number): StorageSize {
    if (root === null) return { layout: "chunked", storedBytes: 0, chunks: 0 };
    const keySize = 8 + (rank + 1) * 8;
    let bytes = 0;
    let chunks = 0;
    const stack: bigint[] = [root];
    let nodes = 0;
    while (stack.length) {
      if (++nodes > 1_000_000) throw new Unreadable("chunk B-tree has too many nodes");
      const at = stack.pop() as bigint;
      const head = this.read(at, 8 + 2 * this.offsetSize);
      if (head.toString("latin1", 0, 4) !== "TREE" || head[4] !== 1) {
        throw new Unreadable(`no raw-data chunk B-tree node at ${at}`);
      }
      const level = head[5];
      const entries = head.readUInt16LE(6);
      const body = this.read(at + BigInt(head.length), entries * (keySize + this.offsetSize) + keySize);
      for (let i = 0; i < entries; i++) {
        const k = i * (keySize + this.offsetSize);
        const child = this.addr(body, k + keySize);
        if (level === 0) {
          bytes += body.readUInt32LE(k);
          chunks++;
        } else if (child !== null) {
          stack.push(child);
        }
      }
    }
    return { layout: "chunked", storedBytes: bytes, chunks };
  }
}

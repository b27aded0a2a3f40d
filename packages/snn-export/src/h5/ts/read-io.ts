/**
 * Byte access for the pure-TypeScript HDF5 reader: bounds-checked reads from the file
 * ({@link FileSource}), a bounds-checked little-endian cursor over bytes read ({@link Cursor}), and
 * the two ways a structure can fail: {@link corrupt} (a `FormatError` `CORRUPT`) and
 * {@link Unsupported} (valid HDF5 outside the profile the reader reads; the h5wasm reader takes it).
 */
import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { FormatError, StorageError } from "../../errors.js";

/** The "undefined address" (all bits set), as a number. */
export const UNDEF = -1;

/** Valid HDF5 that the TypeScript reader does not read (v1 object headers, dense links, ...). */
export class Unsupported extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Unsupported";
  }
}

/** A FormatError `CORRUPT` saying what is wrong where (`where`: file and object path or structure). */
export function corrupt(where: string, what: string): FormatError {
  return new FormatError("CORRUPT", `${where}: ${what} (the file is damaged)`);
}

/** What a file is when it is not a regular file, or null for a regular file. */
export function nonRegularKind(st: { isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string | null {
  if (st.isFile()) return null;
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** The typed error for a path that is not a regular file (read before anything else is done). */
export function notRegular(filePath: string, kind: string): FormatError {
  return new FormatError("NOT_HDF5", `${filePath} is ${kind}, not a regular file: it is not read`);
}

/** Fills `buf` from `fd` at `addr`, in as many reads as it takes; fewer bytes (returned) where the file ends. */
function readFully(fd: number, buf: Uint8Array, addr: number): number {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, addr + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/** Reads above this size are remembered by a digest rather than a copy (headers and index nodes are copied; most chunks digested). */
const COPY_LIMIT = 4096;

function digest(bytes: Uint8Array): Buffer {
  return createHash("sha1").update(bytes).digest();
}

/**
 * What a series of reads of a file saw: every range read and its bytes (a SHA-1 digest of large
 * ranges). {@link unchanged} reads the ranges again: when every one still holds what was read,
 * then at the moment between the last read and the first check the file held all of them at once,
 * so the reads together saw the file as it was at that one moment, although it may have been
 * written meanwhile elsewhere. (A writer that wrote a range and then wrote back the same bytes
 * goes unseen; snn-export's writer does not.)
 */
export class ReadJournal {
  private readonly ranges: { addr: number; len: number; bytes: Buffer }[] = [];

  record(addr: number, bytes: Uint8Array): void {
    this.ranges.push({ addr, len: bytes.length, bytes: bytes.length > COPY_LIMIT ? digest(bytes) : Buffer.from(bytes) });
  }

  /** Ranges recorded. */
  get size(): number {
    return this.ranges.length;
  }

  /**
   * True when every recorded range still holds the bytes recorded, read through `file` (a file
   * descriptor, or a path opened for the check); false when they cannot be read.
   */
  unchanged(file: string | number): boolean {
    let fd: number;
    try {
      fd = typeof file === "number" ? file : openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return false;
    }
    try {
      for (const r of this.ranges) {
        const now = Buffer.allocUnsafe(r.len);
        if (readFully(fd, now, r.addr) < r.len) return false;
        if (!(r.len > COPY_LIMIT ? digest(now) : now).equals(r.bytes)) return false;
      }
      return true;
    } catch {
      return false;
    } finally {
      if (typeof file !== "number") closeSync(fd);
    }
  }
}

/**
 * A file open read-only, read with positioned reads that never go past `limit` (the end of file
 * the superblock states). Opened non-blocking and checked to be a regular file before any read.
 */
export class FileSource {
  readonly fd: number;
  size: number;
  /** Reads must end at or before this offset (set from the superblock). */
  limit: number;
  /** When set, every read is recorded in it. */
  journal: ReadJournal | null = null;

  constructor(readonly filePath: string) {
    let fd: number;
    try {
      fd = openSync(filePath, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      throw new StorageError("NOT_FOUND", `cannot read ${filePath}: ${(err as Error).message}`, { cause: err });
    }
    const st = fstatSync(fd);
    const kind = nonRegularKind(st);
    if (kind) {
      closeSync(fd);
      throw notRegular(filePath, kind);
    }
    this.fd = fd;
    this.size = st.size;
    this.limit = st.size;
  }

  /** Takes the file's size again (it may have grown); reads may go up to it until `limit` is set. */
  restat(): void {
    this.size = fstatSync(this.fd).size;
    this.limit = this.size;
  }

  /** True when `[addr, addr + len)` lies inside the readable part of the file. */
  inside(addr: number, len: number): boolean {
    return Number.isSafeInteger(addr) && addr >= 0 && len >= 0 && addr + len <= this.limit;
  }

  /** `len` bytes at `addr`; a range outside the file is CORRUPT (`what` names the structure). */
  read(addr: number, len: number, where: string, what: string): Uint8Array {
    if (!this.inside(addr, len)) {
      throw corrupt(where, `${what} at ${addr} (+${len} bytes) lies outside the file (${this.limit} bytes)`);
    }
    const buf = Buffer.allocUnsafe(len);
    let done: number;
    try {
      done = readFully(this.fd, buf, addr);
    } catch (err) {
      throw new StorageError("IO_ERROR", `reading ${this.filePath} failed: ${(err as Error).message}`, { cause: err });
    }
    if (done < len) throw new StorageError("IO_ERROR", `${this.filePath} ended at ${addr + done} while reading ${what} (was it truncated while open?)`);
    this.journal?.record(addr, buf);
    return new Uint8Array(buf.buffer, buf.byteOffset, len);
  }

  /** Up to `len` bytes at `addr`, fewer where the file ends first, none outside it (speculative reads of headers). */
  readUpTo(addr: number, len: number, where: string, what: string): Uint8Array {
    if (!this.inside(addr, 1)) return new Uint8Array(0);
    return this.read(addr, Math.min(len, this.limit - addr), where, what);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** A little-endian reader over `buf` whose reads past its end are CORRUPT, never out of range. */
export class Cursor {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly where: string, readonly what: string) {}

  /** Bytes left. */
  get left(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): number {
    if (this.pos + n > this.buf.length) throw corrupt(this.where, `${this.what} ends early (${n} more bytes needed at ${this.pos} of ${this.buf.length})`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    return this.buf[this.need(1)];
  }

  u16(): number {
    const i = this.need(2);
    return this.buf[i] | (this.buf[i + 1] << 8);
  }

  u32(): number {
    const i = this.need(4);
    const b = this.buf;
    return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16)) + b[i + 3] * 0x1000000;
  }

  /** An unsigned 64-bit value as a number (inexact above 2^53); all bits set gives {@link UNDEF}. */
  u64(): number {
    const lo = this.u32();
    const hi = this.u32();
    if (lo === 0xffffffff && hi === 0xffffffff) return UNDEF;
    return hi * 4294967296 + lo;
  }

  /** An unsigned integer of `size` bytes (1, 2, 4 or 8). */
  uint(size: number): number {
    if (size === 1) return this.u8();
    if (size === 2) return this.u16();
    if (size === 4) return this.u32();
    return this.u64();
  }

  bytes(n: number): Uint8Array {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  skip(n: number): void {
    this.need(n);
  }
}

/** Little-endian u32 of `b` at `i` (the caller has checked the bounds). */
export function u32At(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16)) + b[i + 3] * 0x1000000;
}

/** True when `b` starts at `at` with the ASCII signature `sig`. */
export function hasSignature(b: Uint8Array, at: number, sig: string): boolean {
  if (at + sig.length > b.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig.charCodeAt(i)) return false;
  return true;
}

/**
 * Reading side of the HDF5 layer: open a file read-only, walk groups, read attributes, read
 * datasets in row slices, read strings. Two readers stand behind {@link H5Reader}: the
 * pure-TypeScript reader (src/h5/ts/reader.ts) for files of the profile snn-export's TypeScript
 * writer produces, and h5wasm (the HDF5 C library) for every other HDF5 file and for live (SWMR)
 * reads. The choice is made per file at open.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { SnnExportError } from "../errors.js";
import type { NumericArray } from "../dtypes.js";
import { FormatError, StorageError } from "../errors.js";
import { nonRegularKind, notRegular, Unsupported } from "./ts/read-io.js";
import { TsReader } from "./ts/reader.js";
import type { DatasetInfo } from "./types.js";
import { WasmProxy } from "./wasm/proxy.js";

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Which reader reads a file: `auto` (the TypeScript reader when the file is in its profile), `ts` or `h5wasm`. */
export type ReaderEngine = "auto" | "ts" | "h5wasm";

/** Options of {@link H5Reader.open}. */
export interface ReaderOptions {
  /**
   * Open for reading while another process writes: files of the TypeScript reader's profile are
   * read by it as every file being written is (see {@link H5Reader.trustUnchanged}); other files
   * through h5wasm in SWMR mode.
   */
  swmr?: boolean;
  /** Which reader [`auto`, or the environment variable `SNN_EXPORT_READER`]. */
  engine?: ReaderEngine;
}

/** True if the file carries the HDF5 signature at offset 0, 512, 1024, ... (as HDF5 looks for it). */
export function hasHdf5Signature(filePath: string): boolean {
  const st = statSync(filePath);
  const kind = nonRegularKind(st);
  if (kind) throw notRegular(filePath, kind);
  const fd = openSync(filePath, "r");
  try {
    const buf = Buffer.alloc(8);
    for (let off = 0; off + 8 <= st.size; off = off === 0 ? 512 : off * 2) {
      readSync(fd, buf, 0, 8, off);
      if (SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

type Backend = Pick<TsReader, "kind" | "keys" | "attrs" | "info" | "readRows" | "readText" | "readStrings" | "readStringRows" | "objectAddress" | "close">;

function chooseEngine(options: ReaderOptions): ReaderEngine {
  const env = process.env.SNN_EXPORT_READER;
  const e = options.engine ?? (env === "ts" || env === "h5wasm" ? env : "auto");
  return e;
}

/** The TypeScript reader for `filePath`, or null when the file is outside its profile (`auto`). */
function openTs(filePath: string, engine: ReaderEngine): TsReader | null {
  let r: TsReader;
  try {
    r = new TsReader(filePath);
  } catch (err) {
    if (!(err instanceof Unsupported)) throw err;
    if (engine === "ts") throw outsideProfile(filePath, err);
    return null;
  }
  if (engine === "ts") return r;
  try {
    // the h5wasm engine writes HDF5's own structures (dense groups, ...): read its files with HDF5
    const creator = r.kind("/") === "group" ? r.attrs("/").creator : undefined;
    if (typeof creator === "string" && creator.includes("h5wasm")) throw new Unsupported("written by the h5wasm engine");
    return r;
  } catch (err) {
    r.close();
    if (err instanceof Unsupported) return null;
    throw err;
  }
}

function outsideProfile(filePath: string, err: Unsupported): FormatError {
  return new FormatError("NOT_SNN_EXPORT", `${filePath} uses HDF5 features the TypeScript reader does not read (${err.message}); open it with { engine: "h5wasm" }`);
}

/** What identifies a version of the file's bytes: size and change times (ns), and when they were taken. */
interface Stamp { size: bigint; mtimeNs: bigint; ctimeNs: bigint; takenNs: bigint }

function stamp(filePath: string): Stamp {
  const st = statSync(filePath, { bigint: true });
  return { size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, takenNs: BigInt(Date.now()) * 1_000_000n };
}

function sameStamp(a: Stamp, b: Stamp): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/**
 * File times come from a clock that ticks coarsely (1–10 ms): a write in the same tick as the last
 * one may leave them unchanged. A stamp taken this long after the file's last change is "settled":
 * any later write shows as a new time.
 */
const SETTLE_NS = 20_000_000n;
/** Longest a call waits for a file being written to hold still before it gives up (ms). */
const MAX_WAIT_MS = 3000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** The hint every error of a file that may still be being written carries. */
/** Below this size a file without a signature may be one a writer has only just created. */
const NEW_FILE_BYTES = 4096;

export const LIVE_HINT = "the file has not been closed by its writer: if it is still being written, open it with { live: true } (and open it again to see newer data)";

function withHint(err: unknown): unknown {
  if (!(err instanceof SnnExportError) || err.message.includes("{ live: true }")) return err;
  const e = new (err.constructor as new (code: string, message: string) => SnnExportError)(err.code, `${err.message}; ${LIVE_HINT}`);
  return e;
}

/** An HDF5 file open read-only. */
export class H5Reader {
  readonly filePath: string;
  /** Which reader reads this file. */
  readonly engine: "ts" | "h5wasm";
  private impl: Backend | null;
  /** The version of the file the reader's view belongs to; null once the file is trusted not to change. */
  private snap: Stamp | null;

  private constructor(filePath: string, impl: TsReader | WasmProxy, snap: Stamp) {
    this.filePath = filePath;
    this.impl = impl;
    this.engine = impl instanceof TsReader ? "ts" : "h5wasm";
    this.snap = snap;
  }

  /** A settled stamp of the file (waits until its last change is {@link SETTLE_NS} old), or null after {@link MAX_WAIT_MS}. */
  private static settled(filePath: string, deadline: number): Stamp | null {
    for (;;) {
      const s = stamp(filePath);
      const age = s.takenNs - (s.mtimeNs > s.ctimeNs ? s.mtimeNs : s.ctimeNs);
      if (age >= SETTLE_NS) return s;
      const wait = Math.max(1, Math.ceil(Number(SETTLE_NS - age) / 1e6));
      if (Date.now() + wait > deadline) return null;
      Atomics.wait(pause, 0, 0, wait);
    }
  }

  /**
   * The file is not going to change (its writer closed it): reads are no longer checked against
   * changes. Until this is called every read is: see {@link call}.
   */
  trustUnchanged(): void {
    this.snap = null;
  }

  /**
   * Opens `filePath` read-only. A missing file is a StorageError `NOT_FOUND`; a directory, FIFO or
   * device a FormatError `NOT_HDF5` (refused before any read); a file without the HDF5 signature
   * `NOT_HDF5`; a damaged file in the TypeScript reader's profile a FormatError `CORRUPT`.
   */
  static async open(filePath: string, options: ReaderOptions = {}): Promise<H5Reader> {
    let st;
    try {
      st = statSync(filePath);
    } catch (err) {
      throw new StorageError("NOT_FOUND", `cannot read ${filePath}: ${(err as Error).message}`, { cause: err });
    }
    const kind = nonRegularKind(st);
    if (kind) throw notRegular(filePath, kind);
    const engine = chooseEngine(options);
    const deadline = Date.now() + MAX_WAIT_MS;
    for (;;) {
      const snap = H5Reader.settled(filePath, deadline);
      if (!snap) throw new StorageError("IO_ERROR", `${filePath} kept changing for ${MAX_WAIT_MS} ms while it was opened; ${LIVE_HINT}`);
      let r: H5Reader;
      try {
        const ts = engine === "h5wasm" ? null : openTs(filePath, engine);
        if (ts) r = new H5Reader(filePath, ts, snap);
        else {
          if (!hasHdf5Signature(filePath)) {
            // a writer that is creating the file has not written its superblock yet
            const young = st.size < NEW_FILE_BYTES ? `; if a writer is creating it right now, open it again in a moment or with { live: true }` : "";
            throw new FormatError("NOT_HDF5", `${filePath} is not an HDF5 file (no HDF5 signature found)${young}`);
          }
          r = new H5Reader(filePath, await WasmProxy.open(filePath, options.swmr ?? false), snap);
        }
      } catch (err) {
        const changed = !sameStamp(stamp(filePath), snap);
        if (changed && Date.now() < deadline) continue; // it changed meanwhile: again
        throw changed ? withHint(err) : err; // still changing: it is being written
      }
      if (sameStamp(stamp(filePath), snap)) return r;
      r.close();
      if (Date.now() >= deadline) throw new StorageError("IO_ERROR", `${filePath} kept changing for ${MAX_WAIT_MS} ms while it was opened; ${LIVE_HINT}`);
    }
  }

  /** Reads the file again from its superblock (the TypeScript reader) or reopens it (h5wasm). */
  private reload(): void {
    const r = this.impl!;
    if (r instanceof TsReader) r.refresh();
    else (r as WasmProxy).reopen();
  }

  /** Chunks the TypeScript reader has read from the file (decoded cache misses); null with h5wasm. */
  get chunksRead(): number | null {
    return this.impl instanceof TsReader ? this.impl.chunksRead : null;
  }

  /**
   * True when the reader keeps decoded chunks itself (the TypeScript reader, 32 MiB): a cache of
   * decoded chunks above it would hold them twice.
   */
  get cachesChunks(): boolean {
    return this.impl instanceof TsReader;
  }

  private once<T>(fn: (r: Backend) => T): T {
    if (!this.impl) throw new StorageError("IO_ERROR", `HDF5 file ${this.filePath} is already closed`);
    try {
      return fn(this.impl);
    } catch (err) {
      if (err instanceof Unsupported) throw outsideProfile(this.filePath, err);
      throw err;
    }
  }

  /**
   * One read. Until {@link trustUnchanged}, a read counts only when the file did not change from
   * the settled stamp the reader's view was taken at to the end of the read: a file being written
   * changes under a reader (space is reused, metadata is updated in place), so a read that saw a
   * change could mix versions. Then the view is taken again (superblock and root read afresh) and
   * the read repeated: what was flushed stays where the rows say (streams only grow), so the answer
   * is the one of the state the loader opened. A file that does not hold still within
   * {@link MAX_WAIT_MS} gives a StorageError `IO_ERROR` that says to open it with `{ live: true }`.
   */
  private call<T>(fn: (r: Backend) => T): T {
    if (!this.snap) return this.once(fn);
    const deadline = Date.now() + MAX_WAIT_MS;
    for (;;) {
      let value: T | undefined;
      let error: unknown;
      try {
        value = this.once(fn);
      } catch (err) {
        error = err;
        if (!(err instanceof SnnExportError)) throw err;
        if (err.code === "CLOSED" || (err.code === "IO_ERROR" && err.message.includes("already closed"))) throw err;
      }
      if (sameStamp(stamp(this.filePath), this.snap)) {
        if (error !== undefined) throw withHint(error);
        return value as T;
      }
      const snap = Date.now() < deadline ? H5Reader.settled(this.filePath, deadline) : null;
      if (!snap) {
        throw new StorageError("IO_ERROR", `${this.filePath} kept changing for ${MAX_WAIT_MS} ms while it was read (it is being written); ${LIVE_HINT}`);
      }
      this.snap = snap;
      try {
        this.reload();
      } catch (err) {
        if (!sameStamp(stamp(this.filePath), snap)) continue;
        throw withHint(err);
      }
    }
  }

  /** "group", "dataset" or null when nothing is at `path`. */
  kind(path: string): "group" | "dataset" | null {
    return this.call((r) => r.kind(path));
  }

  /** Names of the members of the group at `path`, sorted. */
  keys(path: string): string[] {
    return this.call((r) => r.keys(path));
  }

  /** All attributes of the object at `path` as plain values (scalars unwrapped, 64-bit integers as bigint). */
  attrs(path: string): Record<string, unknown> {
    return this.call((r) => r.attrs(path));
  }

  /** Shape, dtype, chunking and filters of the dataset at `path`. */
  info(path: string): DatasetInfo {
    return this.call((r) => r.info(path));
  }

  /** Rows `[start, end)` of a numeric dataset, all other dimensions whole, as a flat row-major array (BigInt arrays for 64-bit integers). */
  readRows(path: string, start: number, end: number): NumericArray {
    return this.call((r) => r.readRows(path, start, end));
  }

  /** A scalar string dataset's text. */
  readText(path: string): string {
    return this.call((r) => r.readText(path));
  }

  /** A 1-D string dataset's values. */
  readStrings(path: string): string[] {
    return this.call((r) => r.readStrings(path));
  }

  /** Rows `[start, end)` of a 1-D string dataset (clamped to its length), without reading the rest. */
  readStringRows(path: string, start: number, end: number): string[] {
    return this.call((r) => r.readStringRows(path, start, end));
  }

  /**
   * The file address of the object header at `path` (what an HDF5 object reference holds), or
   * null when nothing is there. Two paths with the same address are hard links to one object.
   */
  objectAddress(path: string): bigint | null {
    return this.call((r) => r.objectAddress(path));
  }

  /** Re-reads the extent of a dataset written by another process (SWMR readers; the TypeScript reader re-reads everything). */
  refresh(path: string): void {
    this.once((r) => (r instanceof TsReader ? r.refresh() : (r as WasmProxy).refresh(path)));
  }

  /** Closes the file; idempotent. */
  close(): void {
    if (!this.impl) return;
    const r = this.impl;
    this.impl = null;
    r.close();
  }
}

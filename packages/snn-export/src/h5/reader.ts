/**
 * Reading side of the HDF5 layer: open a file read-only, walk groups, read attributes, read
 * datasets in row slices, read strings. Two readers stand behind {@link H5Reader}: the
 * pure-TypeScript reader (src/h5/ts/reader.ts) for files of the profile snn-export's TypeScript
 * writer produces, and h5wasm (the HDF5 C library) for every other HDF5 file and for live (SWMR)
 * reads. The choice is made per file at open.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { SnnExportError } from "../errors.js";
import type { NumericArray } from "../dtypes.js";
import { FormatError, StorageError } from "../errors.js";
import { nonRegularKind, notRegular, ReadJournal, Unsupported } from "./ts/read-io.js";
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
function openTs(filePath: string, engine: ReaderEngine, journal: ReadJournal): TsReader | null {
  let r: TsReader;
  try {
    r = new TsReader(filePath, journal);
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

/** The file's stamp now, taken through `fd` when given (the file a reader reads, even if renamed over). */
function stamp(filePath: string, fd?: number): Stamp {
  let st;
  try {
    st = fd === undefined ? statSync(filePath, { bigint: true }) : fstatSync(fd, { bigint: true });
  } catch (err) {
    throw new StorageError("NOT_FOUND", `cannot read ${filePath} any more: ${(err as Error).message}`, { cause: err });
  }
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

/** How long before the stamp was taken the file last changed (ns). */
function ageNs(s: Stamp): bigint {
  return s.takenNs - (s.mtimeNs > s.ctimeNs ? s.mtimeNs : s.ctimeNs);
}

/** True when no write can follow the stamp unseen: its file's last change was {@link SETTLE_NS} before it. */
function isSettled(s: Stamp): boolean {
  return ageNs(s) >= SETTLE_NS;
}

/** The error of a read of a reader (or engine) that is closed: not a sign of the file changing. */
function isClosed(err: SnnExportError): boolean {
  return err.code === "CLOSED" || (err.code === "IO_ERROR" && err.message.includes("already closed"));
}

/** A file that kept changing under every attempt to read it until the deadline (an `IO_ERROR`). */
class KeptChanging extends StorageError {}

function keptChanging(filePath: string, what: string, ms = MAX_WAIT_MS): StorageError {
  return new KeptChanging("IO_ERROR", `${filePath} kept changing for ${ms} ms while it was ${what}; ${LIVE_HINT}`);
}

/** How long {@link H5Reader.together} tries its reads as one before it makes them one by one. */
const TOGETHER_MS = 250;
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
  /** The TypeScript reader's view must be read again from the superblock before it is used. */
  private stale = false;
  /** Inside {@link together}: reads are checked by the enclosing one. */
  private batch = false;
  /** The settled stamp the TypeScript reader's last read ended with, unchanged from its start (the next read's start). */
  private last: Stamp | null = null;

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
      if (isSettled(s)) return s;
      const wait = Math.max(1, Math.ceil(Number(SETTLE_NS - ageNs(s)) / 1e6));
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
    if (engine !== "h5wasm") {
      const ts = H5Reader.openSteady(filePath, engine, deadline);
      if (ts) return ts;
    }
    for (;;) {
      const snap = H5Reader.settled(filePath, deadline);
      if (!snap) throw keptChanging(filePath, "opened");
      let r: H5Reader;
      try {
        if (!hasHdf5Signature(filePath)) {
          // a writer that is creating the file has not written its superblock yet
          const young = st.size < NEW_FILE_BYTES ? `; if a writer is creating it right now, open it again in a moment or with { live: true }` : "";
          throw new FormatError("NOT_HDF5", `${filePath} is not an HDF5 file (no HDF5 signature found)${young}`);
        }
        r = new H5Reader(filePath, await WasmProxy.open(filePath, options.swmr ?? false), snap);
      } catch (err) {
        const changed = !sameStamp(stamp(filePath), snap);
        if (changed && Date.now() < deadline) continue; // it changed meanwhile: again
        throw changed ? withHint(err) : err; // still changing: it is being written
      }
      if (sameStamp(stamp(filePath), snap)) return r;
      r.close();
      if (Date.now() >= deadline) throw keptChanging(filePath, "opened");
    }
  }

  /**
   * The TypeScript reader's view of the file as it was at one moment (its reads checked with a
   * {@link ReadJournal}; tried again while the file changes under them, up to `deadline`), or null
   * when the file is outside the reader's profile and `engine` is `auto`.
   */
  private static openSteady(filePath: string, engine: ReaderEngine, deadline: number): H5Reader | null {
    for (;;) {
      const before = stamp(filePath);
      const journal = new ReadJournal();
      let ts: TsReader | null = null;
      let error: unknown;
      try {
        ts = openTs(filePath, engine, journal);
      } catch (err) {
        error = err;
      }
      ts?.setJournal(null);
      // checked on the path (the reader may be closed already): a file renamed over it meanwhile counts as a change
      const steady = journal.unchanged(filePath);
      const still = sameStamp(stamp(filePath), before);
      // the bytes used held still, or the whole file did (from a settled stamp: no write unseen)
      if ((steady || (still && isSettled(before))) && error === undefined) return ts ? new H5Reader(filePath, ts, before) : null;
      ts?.close();
      if (still && (steady || isSettled(before))) throw error; // the error of a file that held still through the open
      if (Date.now() >= deadline) throw steady ? withHint(error) : keptChanging(filePath, "opened");
      Atomics.wait(pause, 0, 0, 1);
    }
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
   * One read. Until {@link trustUnchanged} the file may be being written: see {@link callSteady}
   * (the TypeScript reader) and {@link callStamped} (h5wasm).
   */
  private call<T>(fn: (r: Backend) => T): T {
    if (!this.snap || this.batch) return this.once(fn);
    return this.impl instanceof TsReader ? this.callSteady(this.impl, fn) : this.callStamped(fn);
  }

  /**
   * A read by the TypeScript reader of a file that may be being written. A file that has held
   * still for {@link SETTLE_NS} is read plainly, and the read counts when the file's stamp did not
   * change through it. Otherwise the read is recorded ({@link ReadJournal}) and counts when every
   * byte it read still holds at its end: then it saw
   * the file as it was at one moment, and the default writer leaves a file that opens at every
   * moment (a writer killed at any moment leaves a file that opens with everything up to its last
   * flush; FORMAT.md says what a moment in the middle of a flush holds). Otherwise it is repeated,
   * from the superblock on. So a writer that flushes without pause does not keep readers out:
   * what they read is written to new space at each flush, or only grows. What the reader keeps
   * from earlier reads (the root, headers, chunk indexes) is used only while the file has not
   * changed since (a settled stamp, unchanged) — and such a read counts only when the file did not
   * change through it either, as the reads of kept state are not recorded. An error counts only
   * when the file held still through the read that met it. A file that keeps changing under the
   * read for {@link MAX_WAIT_MS} gives a StorageError `IO_ERROR` that says to open it with
   * `{ live: true }`.
   */
  private callSteady<T>(r: TsReader, fn: (r: Backend) => T, waitMs = MAX_WAIT_MS): T {
    const deadline = Date.now() + waitMs;
    for (;;) {
      // the stamp the last read ended with, when settled: no write since it was taken goes unseen
      const before = this.last ?? stamp(this.filePath, r.fd);
      this.last = null;
      const settled = isSettled(before);
      const keep = !this.stale && isSettled(this.snap!) && sameStamp(before, this.snap!);
      // a file that holds still (one whose writer died, most often) is read unrecorded: its stamp
      // unchanged at the end proves the read; the ranges are recorded once it has changed lately
      const journal = settled ? null : new ReadJournal();
      r.setJournal(journal);
      let value: T | undefined;
      let error: unknown;
      try {
        value = this.once((impl) => {
          if (!keep) (impl as TsReader).refresh();
          return fn(impl);
        });
      } catch (err) {
        error = err;
      } finally {
        r.setJournal(null);
      }
      if (error !== undefined && (!(error instanceof SnnExportError) || isClosed(error))) throw error;
      const steady = journal !== null && r.unchanged(journal);
      const after = stamp(this.filePath, r.fd);
      const still = sameStamp(after, before);
      // the file did not change at all through the read (from a settled stamp: no write unseen), or
      // the bytes the read used held still and it used nothing kept from before
      if ((still && settled) || (steady && (still || (!keep && error === undefined)))) {
        this.snap = before;
        if (still && settled) this.last = after; // one stamp a read while the file holds still
        // a refresh that failed leaves the reader's view half read: read it afresh next time
        this.stale = error !== undefined;
        if (error !== undefined) throw withHint(error);
        return value as T;
      }
      this.stale = true;
      if (Date.now() >= deadline) throw steady && error !== undefined ? withHint(error) : keptChanging(this.filePath, "read (it is being written)", waitMs);
      Atomics.wait(pause, 0, 0, 1);
    }
  }

  /**
   * Runs `fn`, whose reads through this reader then count together: with a file that may be being
   * written they are checked as one read (see {@link callSteady}), so they see the file as it was
   * at one moment, and `fn` is run again when the file changed under them. `fn` must only read.
   * Used for what should agree across datasets (the columns of the episode table). A writer that
   * flushes more often than `fn` takes may change the file under every attempt: after
   * {@link TOGETHER_MS} of that, `fn` runs with each of its reads checked on its own.
   */
  together<T>(fn: () => T): T {
    if (this.batch || !this.snap) return fn();
    const all = (): T => {
      this.batch = true;
      try {
        return fn();
      } finally {
        this.batch = false;
      }
    };
    try {
      return this.impl instanceof TsReader ? this.callSteady(this.impl, all, TOGETHER_MS) : this.callStamped(all);
    } catch (err) {
      if (!(err instanceof KeptChanging)) throw err;
      return fn();
    }
  }

  /**
   * A read by h5wasm of a file that may be being written: it counts only when the file did not
   * change from the settled stamp the reader's view was taken at to the end of the read: a file
   * being written changes under a reader (space is reused, metadata is updated in place), so a read
   * that saw a change could mix versions. Then the file is opened again and the read repeated: what
   * was flushed stays where the rows say (streams only grow), so the answer is the one of the
   * state the loader opened. A file that does not hold still within {@link MAX_WAIT_MS} gives a
   * StorageError `IO_ERROR` that says to open it with `{ live: true }`.
   */
  private callStamped<T>(fn: (r: Backend) => T): T {
    const deadline = Date.now() + MAX_WAIT_MS;
    for (;;) {
      let value: T | undefined;
      let error: unknown;
      try {
        value = this.once(fn);
      } catch (err) {
        error = err;
        if (!(err instanceof SnnExportError) || isClosed(err)) throw err;
      }
      if (sameStamp(stamp(this.filePath), this.snap!)) {
        if (error !== undefined) throw withHint(error);
        return value as T;
      }
      const snap = Date.now() < deadline ? H5Reader.settled(this.filePath, deadline) : null;
      if (!snap) throw keptChanging(this.filePath, "read (it is being written)");
      this.snap = snap;
      try {
        (this.impl as WasmProxy).reopen();
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
    if (this.impl instanceof TsReader && this.snap) this.stale = true; // the next read starts from the superblock
    else this.once((r) => (r instanceof TsReader ? r.refresh() : (r as WasmProxy).refresh(path)));
  }

  /** Closes the file; idempotent. */
  close(): void {
    if (!this.impl) return;
    const r = this.impl;
    this.impl = null;
    r.close();
  }
}

/**
 * Reading side of the HDF5 layer: open a file read-only, walk groups, read attributes, read
 * datasets in row slices, read strings. Two readers stand behind {@link H5Reader}: the
 * pure-TypeScript reader (src/h5/ts/reader.ts) for files of the profile snn-export's TypeScript
 * writer produces, and h5wasm (the HDF5 C library) for every other HDF5 file and for live (SWMR)
 * reads. The choice is made per file at open.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { NumericArray } from "../dtypes.js";
import { FormatError, StorageError } from "../errors.js";
import { nonRegularKind, notRegular, Unsupported } from "./ts/read-io.js";
import { TsReader } from "./ts/reader.js";
import type { DatasetInfo } from "./types.js";
import { WasmProxy } from "./wasm-proxy.js";

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Which reader reads a file: `auto` (the TypeScript reader when the file is in its profile), `ts` or `h5wasm`. */
export type ReaderEngine = "auto" | "ts" | "h5wasm";

/** Options of {@link H5Reader.open}. */
export interface ReaderOptions {
  /** Open for reading while another process writes (SWMR); always read through h5wasm. */
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
  if (options.swmr) return "h5wasm";
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

/** An HDF5 file open read-only. */
export class H5Reader {
  readonly filePath: string;
  /** Which reader reads this file. */
  readonly engine: "ts" | "h5wasm";
  private impl: Backend | null;

  private constructor(filePath: string, impl: TsReader | WasmProxy) {
    this.filePath = filePath;
    this.impl = impl;
    this.engine = impl instanceof TsReader ? "ts" : "h5wasm";
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
    const ts = engine === "h5wasm" ? null : openTs(filePath, engine);
    if (ts) return new H5Reader(filePath, ts);
    if (!hasHdf5Signature(filePath)) throw new FormatError("NOT_HDF5", `${filePath} is not an HDF5 file (no HDF5 signature found)`);
    return new H5Reader(filePath, await WasmProxy.open(filePath, options.swmr ?? false));
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

  private call<T>(fn: (r: Backend) => T): T {
    if (!this.impl) throw new StorageError("IO_ERROR", `HDF5 file ${this.filePath} is already closed`);
    try {
      return fn(this.impl);
    } catch (err) {
      if (err instanceof Unsupported) throw outsideProfile(this.filePath, err);
      throw err;
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
    this.call((r) => (r instanceof TsReader ? r.refresh() : (r as WasmProxy).refresh(path)));
  }

  /** Closes the file; idempotent. */
  close(): void {
    if (!this.impl) return;
    const r = this.impl;
    this.impl = null;
    r.close();
  }
}

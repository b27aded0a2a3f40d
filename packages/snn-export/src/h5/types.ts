import type { Dtype, NumericArray } from "../dtypes.js";

/** How chunks of a column are compressed. Only HDF5 built-in filters: any h5py reads them. */
export interface Compression {
  kind: "gzip" | "none";
  /** gzip level 1-9 (ignored for "none"). */
  level: number;
}

/** Shape of an appendable, chunked column: rows of `rowShape` elements of one dtype. */
export interface ColumnSpec {
  dtype: Dtype;
  /** Shape of one row; [] for a 1-D column. */
  rowShape: number[];
  /** Rows per HDF5 chunk. */
  chunkRows: number;
  compression: Compression;
  /**
   * Every write starts at a chunk boundary (a partial chunk is always rewritten whole): the engine
   * need not keep a partial chunk's rows in memory for appends that start inside it.
   */
  fromChunkStart?: boolean;
  /**
   * The column's changes become visible to readers (and to a reader of a killed writer's file)
   * all at once with every other atomic column's, at the end of a flush: a row spread over
   * several atomic columns is never seen half-updated. The TS engine writes such a column's index
   * and header copy-on-write (not in SWMR files, whose readers refresh objects in place).
   */
  atomic?: boolean;
  /**
   * Columns with data of one kind (the same stream in every episode) share a family: engines that
   * choose how to compress by trial (the TypeScript engine's deflate strategy) decide once for
   * the family. Default: the column's path.
   */
  family?: string;
}

/** An appendable chunked dataset. The caller hands it whole chunks where it can. */
export interface AppendColumn {
  readonly path: string;
  readonly spec: ColumnSpec;
  /** Rows on disk. */
  readonly length: number;
  /** Appends `rows` rows taken from the start of `block` (row-major, `rows * rowSize` elements). */
  append(block: NumericArray, rows: number): void;
  /** Writes `rows` rows at row `offset` (overwriting, and growing the column if it ends later). */
  writeAt(block: NumericArray, rows: number, offset: number): void;
}

/** An appendable 1-D column of variable-length UTF-8 strings (not compressed). */
export interface StringColumn {
  readonly path: string;
  readonly length: number;
  append(values: string[]): void;
}

/** Values an attribute can hold. */
export type AttrValue = string | number | bigint | boolean | NumericArray;

/** What a dataset is, as the reader sees it. */
export interface DatasetInfo {
  shape: number[];
  /** Numeric dtype, or "string" for variable-length strings. */
  dtype: Dtype | "string";
  chunks: number[] | null;
  filters: string[];
}

/**
 * A write engine: everything snn-export writes into an HDF5 file. Three classes implement it: the
 * pure-TypeScript engine (`ts/writer.ts`, default: shuffle + deflate on node:zlib), the same
 * engine on a worker thread (`async/proxy.ts`, `asyncWrite`) and h5wasm (`wasm/writer.ts`: the
 * HDF5 C library). Every method is there in every engine; one an engine cannot do throws a
 * StorageError saying which engine can.
 */
export interface Writer {
  readonly filePath: string;
  readonly isOpen: boolean;
  exists(path: string): boolean;
  createGroup(path: string): void;
  setAttr(path: string, name: string, value: AttrValue, numberDtype?: "float64" | "int8"): void;
  /** A scalar numeric attribute of the given dtype (64-bit integers from a number below 2^53 or a bigint). */
  setScalarAttr(path: string, name: string, value: number | bigint, dtype: Dtype): void;
  /** A 1-D attribute of variable-length UTF-8 strings. */
  setStringsAttr(path: string, name: string, values: string[]): void;
  /** A scalar HDF5 object reference attribute pointing at the object `target`. */
  setRefAttr(path: string, name: string, target: string): void;
  /** A scalar enumeration attribute (uint8 base) holding `value`. Not in h5wasm. */
  setEnumAttr(path: string, name: string, members: [string, number][], value: number): void;
  deleteAttr(path: string, name: string): void;
  createColumn(path: string, spec: ColumnSpec): AppendColumn;
  createStringColumn(path: string, chunkRows?: number, options?: { atomic?: boolean }): StringColumn;
  writeArray(path: string, data: NumericArray, shape: number[], compression: Compression, chunkRows?: number): void;
  writeText(path: string, text: string): void;
  writeStrings(path: string, list: string[]): void;
  link(target: string, name: string): void;
  /** An external link at `path` to `objPath` in `file` (relative to this file's directory). */
  externalLink(path: string, file: string, objPath?: string): void;
  /** A virtual dataset (HDF5 1.10 VDS) of fixed `dims` over blocks of other datasets; `fill` where none maps. Not in h5wasm. */
  createVirtualDataset(path: string, dtype: Dtype, dims: number[], fill: number, maps: VirtualMapping[]): void;
  flush(): void;
  /**
   * Flushes unless chunks are still being compressed on other threads (then leaves everything as
   * it is, finished chunks written to new space); true if it flushed. Engines that compress on
   * the calling thread always flush.
   */
  flushIfIdle(): boolean;
  /** Returns when every earlier call is applied (at once for engines that apply calls as they come). */
  waitIdle(): void;
  close(): void;
}

/** A block of a dataspace: `start` and `count` per dimension. */
export interface Block {
  start: number[];
  count: number[];
}

/** One mapping of a virtual dataset: a block of `dataset` in `file` (relative to the virtual dataset's file, "." for itself) shown at `target`. */
export interface VirtualMapping {
  file: string;
  dataset: string;
  /**
   * The block of the source dataset, or "all" of it: HDF5 (1.10) decodes an "all" selection far
   * faster (an open of a virtual dataset of 1,000 hyperslab sources took 0.2 s), but takes the
   * source's extent when it reads it, so "all" is only for sources that no longer change.
   */
  source: Block | "all";
  target: Block;
}

/** The write engines. */
export type EngineName = "ts" | "h5wasm";

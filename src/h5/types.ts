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

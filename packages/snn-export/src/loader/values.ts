/**
 * Structured values of the format: CSR groups, per-item field records, checkpoint / static
 * entries, and the column-length checks shared by the per-episode streams.
 */
import { isNumericArray, type NumericArray } from "../dtypes.js";
import { FormatError } from "../errors.js";
import { parseJson, setOwn, type Source } from "./read.js";
import type { CsrMatrix, FieldRecord, NdArray, StoredValue } from "./types.js";

/**
 * True when `x` is an {@link NdArray} (as returned for numeric datasets).
 *
 * @example
 * ```ts
 * const v = checkpoint.entries.thresholds;
 * if (isNdArray(v)) console.log(v.shape);
 * ```
 */
export function isNdArray(x: unknown): x is NdArray {
  if (typeof x !== "object" || x === null) return false;
  const o = x as Partial<NdArray>;
  return isNumericArray(o.data) && Array.isArray(o.shape) && typeof o.dtype === "string";
}

/**
 * True when `x` is a {@link CsrMatrix} (as returned for CSR groups).
 *
 * @example
 * ```ts
 * const w = checkpoint.entries.weights;
 * if (isCsrMatrix(w)) console.log(`${w.data.length} non-zero weights`);
 * ```
 */
export function isCsrMatrix(x: unknown): x is CsrMatrix {
  if (typeof x !== "object" || x === null) return false;
  const o = x as Partial<CsrMatrix>;
  return o.indptr instanceof Float64Array && isNumericArray(o.indices) && isNumericArray(o.data) &&
    Array.isArray(o.shape) && o.shape.length === 2;
}

/**
 * Reads a CSR group (`indptr`, `indices`, `data`, attributes `shape` and `source_format`) and
 * checks that its parts agree.
 *
 * @example
 * ```ts
 * const w = readCsr(src, "/network_structure/initial_weights");
 * ```
 */
export function readCsr(src: Source, path: string): CsrMatrix {
  for (const part of ["indptr", "indices", "data"]) {
    if (src.kind(`${path}/${part}`) !== "dataset") throw new FormatError("INVALID_DATA", `CSR group ${path} has no dataset ${part}`);
  }
  const attrs = src.attrs(path);
  const indptr = src.float64(`${path}/indptr`);
  const indices = src.numeric(`${path}/indices`).data;
  const data = src.numeric(`${path}/data`, true).data;
  const shape = csrShape(attrs.shape, indptr, indices, path);
  const nnz = indptr.length ? indptr[indptr.length - 1] : 0;
  if (indptr.length !== shape[0] + 1 || (indptr.length > 0 && indptr[0] !== 0) || nnz !== indices.length || indices.length !== data.length) {
    throw new FormatError(
      "INVALID_DATA",
      `CSR group ${path} is inconsistent: shape ${JSON.stringify(shape)}, ${indptr.length} indptr entries ending at ${nnz}, ` +
        `${indices.length} indices, ${data.length} values`,
    );
  }
  const sourceFormat = typeof attrs.source_format === "string" ? attrs.source_format : "";
  return { indptr, indices, data, shape, sourceFormat };
}

function csrShape(attr: unknown, indptr: Float64Array, indices: NumericArray, path: string): [number, number] {
  if (Array.isArray(attr) && attr.length === 2) return [Number(attr[0]), Number(attr[1])];
  if (attr !== undefined) throw new FormatError("INVALID_DATA", `CSR group ${path}: attribute shape is ${JSON.stringify(attr)}, expected [rows, cols]`);
  let cols = 0;
  for (let i = 0; i < indices.length; i++) cols = Math.max(cols, Number(indices[i]) + 1);
  return [Math.max(0, indptr.length - 1), cols];
}

/**
 * Reads every dataset of a group of per-item fields (`neurons/`, `connections/`): numeric fields
 * as {@link NdArray}, string fields as string arrays. An absent group gives `{}`.
 *
 * @example
 * ```ts
 * const neurons = readFieldRecord(src, "/network_structure/neurons");
 * ```
 */
export function readFieldRecord(src: Source, group: string): FieldRecord {
  const out: FieldRecord = {};
  for (const name of src.keys(group)) {
    const path = `${group}/${name}`;
    if (src.kind(path) !== "dataset") continue;
    const info = src.info(path);
    setOwn(out, name, info.dtype !== "string" ? src.numeric(path, true) : info.shape.length === 0 ? [src.readText(path)] : src.strings(path));
  }
  return out;
}

/**
 * Reads a checkpoint or static entry: a CSR group, a numeric dataset, a string array, JSON text
 * (attribute `encoding` = `json`), plain text, or a group of such entries (as an object).
 *
 * @example
 * ```ts
 * const weights = readStored(src, "/checkpoints/final/weights");
 * ```
 */
export function readStored(src: Source, path: string): StoredValue {
  const kind = src.kind(path);
  if (kind === "group") {
    if (src.attrs(path).format === "csr") return readCsr(src, path);
    const out: Record<string, StoredValue> = {};
    for (const name of src.keys(path)) setOwn(out, name, readStored(src, `${path}/${name}`));
    return out;
  }
  if (kind !== "dataset") throw new FormatError("NOT_FOUND", `nothing at ${path} in ${src.filePath}`);
  const info = src.info(path);
  if (info.dtype !== "string") return src.numeric(path, true);
  if (info.shape.length > 0) return src.strings(path);
  const text = src.readText(path);
  return src.attrs(path).encoding === "json" ? parseJson(text, path) : text;
}

/**
 * The common row count of columns that must be equally long. Unequal lengths are a FormatError
 * `INVALID_DATA`, except in live mode, where a writer may be between two appends: there the
 * shortest length is used.
 *
 * @example
 * ```ts
 * const n = commonLength({ timesteps: 10, values: 10 }, false, "/episodes/episode_0000/rewards");
 * ```
 */
export function commonLength(lengths: Record<string, number>, live: boolean, where: string): number {
  const values = Object.values(lengths);
  const n = values.length ? Math.min(...values) : 0;
  if (!live && values.some((v) => v !== n)) {
    const list = Object.entries(lengths).map(([k, v]) => `${k}: ${v}`).join(", ");
    throw new FormatError("INVALID_DATA", `${where}: columns have different lengths (${list})`);
  }
  return n;
}

/**
 * The first `rows` rows of an {@link NdArray} (a view, no copy); the array itself when it has
 * exactly that many rows.
 *
 * @example
 * ```ts
 * const firstTen = takeRows(v, 10);
 * ```
 */
export function takeRows(a: NdArray, rows: number): NdArray {
  if (a.shape.length === 0 || a.shape[0] === rows) return a;
  const rowSize = a.shape.slice(1).reduce((x, y) => x * y, 1);
  return { ...a, data: a.data.subarray(0, rows * rowSize) as NumericArray, shape: [rows, ...a.shape.slice(1)] };
}

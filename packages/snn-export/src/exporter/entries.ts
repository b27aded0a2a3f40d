/** Writing free-form entries: records of arrays, weight matrices, JSON values. */
import { isNumericArray, type NumericArray } from "../dtypes.js";
import { describe, toNd } from "../encoding/arrays.js";
import { ValidationError } from "../errors.js";
import { isPlainObject, toJsonText } from "../encoding/json.js";
import { isSparseWeights, toCsr, type Csr } from "../encoding/weights.js";
import type { Compression, Writer } from "../h5/index.js";
import { checkText } from "./validate.js";

/** Writes a CSR matrix group (indptr, indices, data; attributes shape, format, source_format). */
export function writeCsr(w: Writer, path: string, csr: Csr, compression: Compression): void {
  w.createGroup(path);
  w.writeArray(`${path}/indptr`, csr.indptr, [csr.indptr.length], compression);
  w.writeArray(`${path}/indices`, csr.indices, [csr.indices.length], compression);
  w.writeArray(`${path}/data`, csr.data, [csr.data.length], compression);
  w.setAttr(path, "shape", new BigInt64Array([BigInt(csr.shape[0]), BigInt(csr.shape[1])]));
  w.setAttr(path, "format", "csr");
  w.setAttr(path, "source_format", csr.sourceFormat);
}

function isArrayLike(v: unknown): boolean {
  if (isNumericArray(v)) return true;
  if (Array.isArray(v)) {
    let x: unknown = v;
    while (Array.isArray(x) && x.length > 0) x = x[0];
    return Array.isArray(x) || typeof x === "number" || typeof x === "boolean";
  }
  return v !== null && typeof v === "object" && "data" in v && "shape" in v && Object.keys(v).length === 2;
}

/** A value converted and checked, ready to be written ({@link prepareEntry}). */
export type PreparedEntry =
  | { kind: "strings"; list: string[] }
  | { kind: "csr"; csr: Csr }
  | { kind: "array"; data: NumericArray; shape: number[]; logicalBool: boolean }
  | { kind: "json"; text: string };

/**
 * Converts and checks one value for {@link writePrepared}, writing nothing: string lists, sparse
 * weight matrices (to CSR), numeric arrays of any rank, anything else as JSON text. Throws the
 * value's ValidationError here, so a caller can check every entry before it writes any.
 */
export function prepareEntry(value: unknown, what: string): PreparedEntry {
  if (isStringList(value)) {
    value.forEach((x, i) => checkText(x, `${what}[${i}]`));
    return { kind: "strings", list: value };
  }
  if (isSparseWeights(value)) return { kind: "csr", csr: toCsr(value, what) };
  if (isArrayLike(value)) {
    const nd = toNd(value, what);
    if (nd.shape.length === 0) {
      throw new ValidationError("INVALID_DATA", `${what}: shape [] (a 0-d array) is not stored as an array; give it shape [1], or pass the number itself (stored as JSON)`);
    }
    if (nd.shape.slice(1).some((d) => d === 0)) {
      throw new ValidationError("INVALID_DATA", `${what} has shape ${JSON.stringify(nd.shape)}: only the first dimension may be 0 (an HDF5 chunked dataset needs rows of at least one element)`);
    }
    return { kind: "array", data: nd.data, shape: nd.shape, logicalBool: Array.isArray(value) && typeof value.flat(Infinity)[0] === "boolean" };
  }
  return { kind: "json", text: toJsonText(value, what) };
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === "string");
}

/**
 * Writes a prepared value under `path`: string lists as string datasets, numeric arrays as
 * datasets, sparse weight matrices as CSR groups, JSON text with attribute `encoding` = `json`.
 */
export function writePrepared(w: Writer, path: string, e: PreparedEntry, compression: Compression): void {
  if (e.kind === "strings") w.writeStrings(path, e.list);
  else if (e.kind === "csr") writeCsr(w, path, e.csr, compression);
  else if (e.kind === "array") {
    w.writeArray(path, e.data, e.shape, compression);
    if (e.logicalBool) w.setAttr(path, "logical_dtype", "bool");
  } else {
    w.writeText(path, e.text);
    w.setAttr(path, "encoding", "json");
  }
}

/**
 * The fields of a record of per-item arrays (`neurons`, `connections`), each prepared
 * ({@link prepareEntry}): every field is a numeric array (any rank) or a list of strings, and all
 * have the same first dimension (one entry per item). Anything else is refused: a field that is
 * not an array would read back as something else.
 */
export function prepareRecord(rec: unknown, what: string): [string, PreparedEntry][] {
  if (rec === undefined || rec === null) return [];
  if (!isPlainObject(rec)) throw new ValidationError("INVALID_DATA", `${what} must be a plain object of per-item arrays`);
  const out: [string, PreparedEntry][] = [];
  let first: [string, number] | null = null;
  for (const [k, v] of Object.entries(rec)) {
    if (v === undefined) continue;
    if (!isStringList(v) && (isSparseWeights(v) || !isArrayLike(v))) {
      throw new ValidationError("INVALID_DATA", `${what}.${k} must be an array with one entry per item (a TypedArray, numbers, booleans, nested rows, { data, shape } or strings), got ${describe(v)}`);
    }
    const e = prepareEntry(v, `${what}.${k}`);
    const rows = e.kind === "strings" ? e.list.length : e.kind === "array" ? e.shape[0] : 0;
    if (first && rows !== first[1]) {
      throw new ValidationError("SHAPE_MISMATCH", `${what}.${k} has ${rows} entries but ${what}.${first[0]} has ${first[1]}; every field holds one entry per item`);
    }
    first ??= [k, rows];
    out.push([k, e]);
  }
  return out;
}

/** Writes the prepared fields of a record under `group` (created even when empty). */
export function writeRecord(w: Writer, group: string, fields: [string, PreparedEntry][], compression: Compression): void {
  w.createGroup(group);
  for (const [k, e] of fields) writePrepared(w, `${group}/${k}`, e, compression);
}

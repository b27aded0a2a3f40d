/** Writing free-form entries: records of arrays, weight matrices, JSON values. */
import { isNumericArray, type NumericArray } from "../dtypes.js";
import { toNd } from "../encoding/arrays.js";
import { isPlainObject, toJsonText } from "../encoding/json.js";
import { isSparseWeights, toCsr, type Csr } from "../encoding/weights.js";
import type { Compression, Writer } from "../h5/index.js";

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
  if (Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === "string")) return { kind: "strings", list: value as string[] };
  if (isSparseWeights(value)) return { kind: "csr", csr: toCsr(value, what) };
  if (isArrayLike(value)) {
    const nd = toNd(value, what);
    return { kind: "array", data: nd.data, shape: nd.shape, logicalBool: Array.isArray(value) && typeof value.flat(Infinity)[0] === "boolean" };
  }
  return { kind: "json", text: toJsonText(value, what) };
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

/** Converts and writes one value under `path` ({@link prepareEntry}, then {@link writePrepared}). */
export function writeEntry(w: Writer, path: string, value: unknown, what: string, compression: Compression): void {
  writePrepared(w, path, prepareEntry(value, what), compression);
}

/** The fields of a record, each prepared ({@link prepareEntry}); a non-object record is one field `values`. */
export function prepareRecord(rec: unknown, what: string): [string, PreparedEntry][] {
  if (rec === undefined || rec === null) return [];
  if (!isPlainObject(rec)) return [["values", prepareEntry(rec, what)]];
  const out: [string, PreparedEntry][] = [];
  for (const [k, v] of Object.entries(rec)) if (v !== undefined) out.push([k, prepareEntry(v, `${what}.${k}`)]);
  return out;
}

/** Writes the prepared fields of a record under `group` (created even when empty). */
export function writeRecord(w: Writer, group: string, fields: [string, PreparedEntry][], compression: Compression): void {
  w.createGroup(group);
  for (const [k, e] of fields) writePrepared(w, `${group}/${k}`, e, compression);
}

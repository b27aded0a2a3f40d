/** Writing free-form entries: records of arrays, weight matrices, JSON values. */
import { isNumericArray } from "../dtypes.js";
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

/**
 * Writes one value under `path`: string lists as string datasets, numeric arrays (any rank) as
 * datasets, sparse weight matrices as CSR groups, anything else as JSON text (attribute
 * `encoding` = `json`).
 */
export function writeEntry(w: Writer, path: string, value: unknown, what: string, compression: Compression): void {
  if (Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === "string")) {
    w.writeStrings(path, value as string[]);
  } else if (isSparseWeights(value)) {
    writeCsr(w, path, toCsr(value, what), compression);
  } else if (isArrayLike(value)) {
    const nd = toNd(value, what);
    w.writeArray(path, nd.data, nd.shape, compression);
    if (Array.isArray(value) && typeof value.flat(Infinity)[0] === "boolean") w.setAttr(path, "logical_dtype", "bool");
  } else {
    w.writeText(path, toJsonText(value, what));
    w.setAttr(path, "encoding", "json");
  }
}

/** Writes every field of a record under `group`. */
export function writeRecord(w: Writer, group: string, rec: unknown, what: string, compression: Compression): void {
  w.createGroup(group);
  if (rec === undefined || rec === null) return;
  if (!isPlainObject(rec)) {
    writeEntry(w, `${group}/values`, rec, what, compression);
    return;
  }
  for (const [k, v] of Object.entries(rec)) {
    if (v === undefined) continue;
    writeEntry(w, `${group}/${k}`, v, `${what}.${k}`, compression);
  }
}

/** JSON encoding of free-form values (config, metadata, summaries, event data). Pure. */
import { ValidationError } from "../errors.js";

/**
 * Serialises any JSON-compatible value; TypedArrays become arrays, Maps objects, Dates ISO
 * strings. Rejects what JSON cannot hold faithfully (functions, symbols, BigInt, cycles).
 *
 * @example
 * ```ts
 * toJsonText({ lr: 0.01, w: new Float32Array([1, 2]) }); // '{"lr":0.01,"w":[1,2]}'
 * ```
 */
export function toJsonText(value: unknown, what: string): string {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string): unknown => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return v;
    if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
    if (v === undefined) return null;
    if (typeof v === "bigint") {
      if (Number.isSafeInteger(Number(v))) return Number(v);
      throw new ValidationError("INVALID_DATA", `${what}${path}: BigInt ${v} does not fit a JSON number; convert it to a string`);
    }
    if (typeof v === "function" || typeof v === "symbol") {
      throw new ValidationError("INVALID_DATA", `${what}${path} is a ${typeof v}, which JSON cannot store; pass plain data`);
    }
    if (v instanceof Date) return v.toISOString();
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === "bigint" ? Number(x) : Number.isFinite(x) ? x : String(x)));
    }
    const obj = v as object;
    if (seen.has(obj)) throw new ValidationError("INVALID_DATA", `${what}${path} refers back to itself (a cycle); JSON cannot store cycles`);
    seen.add(obj);
    let out: unknown;
    if (Array.isArray(obj)) out = obj.map((x, i) => walk(x, `${path}[${i}]`));
    else if (obj instanceof Map) out = Object.fromEntries([...obj].map(([k, x]) => [String(k), walk(x, `${path}.${String(k)}`)]));
    else if (obj instanceof Set) out = [...obj].map((x, i) => walk(x, `${path}[${i}]`));
    else {
      const rec: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(obj)) if (x !== undefined) rec[k] = walk(x, `${path}.${k}`);
      out = rec;
    }
    seen.delete(obj);
    return out;
  };
  return JSON.stringify(walk(value, ""));
}

/** True for a plain object (not an array, TypedArray, Map, Date ...). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

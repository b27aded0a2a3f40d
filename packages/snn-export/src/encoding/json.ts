/** JSON encoding of free-form values (config, metadata, summaries, event data). Pure. */
import { ValidationError } from "../errors.js";

/** A token for -0 in the text JSON.stringify makes, replaced by `-0.0` afterwards (JSON.stringify writes -0 as `0`). */
const NEG_ZERO = `\u0000snn-export:-0:${Math.random().toString(36).slice(2)}\u0000`;
const NEG_ZERO_QUOTED = JSON.stringify(NEG_ZERO);

/** Where a value sits, for error messages: `config.lr`, `config.layers[2]`. */
function at(what: string, path: string): string {
  return path === "" ? what : `${what}${path}`;
}

/**
 * Serialises any JSON-compatible value so that it reads back exactly; TypedArrays become arrays,
 * Maps objects, Sets arrays, Dates ISO strings, `undefined` values are left out of objects (`null`
 * in arrays). -0 is written as `-0.0` (JSON.parse and Python's json read it back as -0). Refuses
 * with a ValidationError `INVALID_DATA` naming the place what JSON cannot hold exactly: NaN and
 * ±Infinity, BigInts (and BigInt64Array elements) of 2^53 or more in magnitude, functions,
 * symbols, cycles.
 *
 * @example
 * ```ts
 * toJsonText({ lr: 0.01, w: new Float32Array([1, 2]) }, "config"); // '{"lr":0.01,"w":[1,2]}'
 * ```
 */
export function toJsonText(value: unknown, what: string): string {
  const seen = new Set<object>();
  let negZero = false;
  const num = (x: number, path: string): number | string => {
    if (!Number.isFinite(x)) {
      throw new ValidationError("INVALID_DATA", `${at(what, path)} is ${x}, which JSON text cannot hold; pass a finite number (or a string such as "${x}")`);
    }
    if (Object.is(x, -0)) {
      negZero = true;
      return NEG_ZERO;
    }
    return x;
  };
  const big = (x: bigint, path: string): number => {
    if (x > -(2n ** 53n) && x < 2n ** 53n) return Number(x);
    throw new ValidationError("INVALID_DATA", `${at(what, path)}: BigInt ${x} is 2^53 or more in magnitude and does not fit a JSON number exactly; convert it to a string`);
  };
  const walk = (v: unknown, path: string): unknown => {
    if (v === null || typeof v === "boolean") return v;
    if (typeof v === "string") {
      if (v === NEG_ZERO) throw new ValidationError("INVALID_DATA", `${at(what, path)} is a reserved string`);
      return v;
    }
    if (typeof v === "number") return num(v, path);
    if (v === undefined) return null;
    if (typeof v === "bigint") return big(v, path);
    if (typeof v === "function" || typeof v === "symbol") {
      throw new ValidationError("INVALID_DATA", `${at(what, path)} is a ${typeof v}, which JSON cannot store; pass plain data`);
    }
    if (v instanceof Date) {
      if (Number.isNaN(v.getTime())) throw new ValidationError("INVALID_DATA", `${at(what, path)} is an invalid Date`);
      return v.toISOString();
    }
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      return Array.from(v as unknown as ArrayLike<number | bigint>, (x, i) => (typeof x === "bigint" ? big(x, `${path}[${i}]`) : num(x, `${path}[${i}]`)));
    }
    const obj = v as object;
    if (seen.has(obj)) throw new ValidationError("INVALID_DATA", `${at(what, path)} refers back to itself (a cycle); JSON cannot store cycles`);
    seen.add(obj);
    let out: unknown;
    if (Array.isArray(obj)) out = obj.map((x, i) => walk(x, `${path}[${i}]`));
    else if (obj instanceof Map) out = record([...obj].map(([k, x]) => [String(k), x]), path);
    else if (obj instanceof Set) out = [...obj].map((x, i) => walk(x, `${path}[${i}]`));
    else out = record(Object.entries(obj), path);
    seen.delete(obj);
    return out;
  };
  // own properties defined, not assigned: a key "__proto__" stays a key
  const record = (entries: [string, unknown][], path: string): Record<string, unknown> => {
    const rec: Record<string, unknown> = {};
    for (const [k, x] of entries) {
      if (x !== undefined) Object.defineProperty(rec, k, { value: walk(x, `${path}.${k}`), enumerable: true, writable: true, configurable: true });
    }
    return rec;
  };
  const text = JSON.stringify(walk(value, ""));
  return negZero ? text.split(NEG_ZERO_QUOTED).join("-0.0") : text;
}

/** True for a plain object (not an array, TypedArray, Map, Date ...). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

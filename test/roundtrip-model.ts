/**
 * The model of the property-based round-trip test (test/roundtrip-property.test.ts): random
 * material for every public call of DataExporter, the rules that say whether a call is accepted
 * (and with which error code it is refused), and the experiment a file must hold after the
 * accepted calls — as the loader must return it and as h5py must read it (test/py/check_roundtrip.py).
 *
 * The rules here are the input rules of FORMAT.md ("Input rules"); the model is written from them,
 * not from the exporter's code.
 */
import { mulberry32 } from "../bench/data.js";
import type { NumericArray } from "#lib/index.js";

// ------------------------------------------------------------------ random material

/** A deterministic source of choices (each op carries its own seed, so fast-check can shrink ops). */
export class Rand {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

/** Input kinds of numeric arrays: every TypedArray, plain numbers. */
export const KINDS = ["int8", "uint8", "uint8c", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64", "numbers"] as const;
export type Kind = (typeof KINDS)[number];

const CTOR: Record<Exclude<Kind, "numbers">, new (n: number) => NumericArray> = {
  int8: Int8Array, uint8: Uint8Array, uint8c: Uint8ClampedArray as never, int16: Int16Array, uint16: Uint16Array, int32: Int32Array,
  uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, float32: Float32Array, float64: Float64Array,
};

/** The dtype a kind is stored as. */
export function dtypeOfKind(k: Kind): string {
  return k === "uint8c" ? "uint8" : k === "numbers" ? "float64" : k;
}

export const isFloatKind = (k: Kind): boolean => k === "float32" || k === "float64" || k === "numbers";
export const isBigKind = (k: Kind): boolean => k === "int64" || k === "uint64";

const F64_EDGES = [0, -0, 1, -1, 0.5, 0.1, -2.5, 1e-300, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308, 2 ** 53, 2 ** 53 + 2, -(2 ** 53) - 2, 123456.789, 1e21];
const F32_EDGES = [0, -0, 1, -1, 0.5, 1.401298464324817e-45, -1.401298464324817e-45, 3.4028234663852886e38, -3.4028234663852886e38, 1.1754943508222875e-38, 16777217];
const NON_FINITE = [NaN, Infinity, -Infinity];
const INT_RANGE: Record<string, [number, number]> = {
  int8: [-128, 127], uint8: [0, 255], uint8c: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
};
const I64_EDGES = [0n, 1n, -1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) + 1n, -(2n ** 53n), -(2n ** 53n) - 1n, -(2n ** 63n), 2n ** 63n - 1n];
const U64_EDGES = [0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];
const I64_SAFE = [0n, 1n, -1n, 2n ** 53n - 1n, -(2n ** 53n) + 1n, 42n];

/** One element of `kind`: mostly edges. `nonFinite`: NaN/±Inf allowed in floats; `safe`: 64-bit values below 2^53. */
export function element(r: Rand, kind: Kind, o: { nonFinite?: boolean; safe?: boolean } = {}): number | bigint {
  if (kind === "int64") return o.safe ? r.pick(I64_SAFE) : r.chance(0.6) ? r.pick(I64_EDGES) : BigInt(r.int(-1000, 1000));
  if (kind === "uint64") return o.safe ? r.pick(I64_SAFE.filter((x) => x >= 0n)) : r.chance(0.6) ? r.pick(U64_EDGES) : BigInt(r.int(0, 1000));
  if (kind === "float32") return o.nonFinite && r.chance(0.15) ? r.pick(NON_FINITE) : r.chance(0.5) ? r.pick(F32_EDGES) : Math.fround((r.float() - 0.5) * 200);
  if (kind === "float64" || kind === "numbers") return o.nonFinite && r.chance(0.15) ? r.pick(NON_FINITE) : r.chance(0.5) ? r.pick(F64_EDGES) : (r.float() - 0.5) * 200;
  const [lo, hi] = INT_RANGE[kind];
  return r.chance(0.4) ? r.pick([lo, hi, 0, Math.min(hi, 1), Math.max(lo, -1)]) : r.int(lo, hi);
}

/** An array input of `kind` with `n` elements, and the TypedArray it is stored as. */
export function numericArray(r: Rand, kind: Kind, n: number, o: { nonFinite?: boolean; safe?: boolean } = {}): { input: NumericArray | number[]; stored: NumericArray } {
  const values = Array.from({ length: n }, () => element(r, kind, o));
  return fromValues(kind, values);
}

export function fromValues(kind: Kind, values: (number | bigint)[]): { input: NumericArray | number[]; stored: NumericArray } {
  if (kind === "numbers") return { input: values as number[], stored: Float64Array.from(values as number[]) };
  const a = new CTOR[kind](values.length);
  for (let i = 0; i < values.length; i++) (a as unknown as (number | bigint)[])[i] = values[i];
  const stored = kind === "uint8c" ? new Uint8Array(a.buffer.slice(0)) : a.slice();
  return { input: a, stored };
}

/** A TypedArray of another dtype than `kind` (for dtype-change errors). */
export function otherKind(r: Rand, kind: Kind): Kind {
  const d = dtypeOfKind(kind);
  return r.pick(KINDS.filter((k) => dtypeOfKind(k) !== d));
}

const STRINGS = ["", "a", "exc", "inh", "ψ", "日本語", "emoji 🧠", "tab\there", "line\nbreak", "quote\"'", "back\\slash", "é".repeat(300), " lead", "trail ", "%s{}"];
export const randomString = (r: Rand): string => (r.chance(0.8) ? r.pick(STRINGS) : `s${r.int(0, 1e6)}`);

/** Names usable as HDF5 names (dataset, group, attribute): unicode, dots, spaces. */
const NAMES = ["v", "u", "I_syn", "ψ", "变量", "a b", "x.y", "émoji😀", "w-1", "..x", "-", "1", "__proto__", "constructor", "long_" + "n".repeat(100)];
export const randomName = (r: Rand): string => (r.chance(0.85) ? r.pick(NAMES) : `n${r.int(0, 999)}`);
/** Names refused as HDF5 names (INVALID_DATA). */
export const BAD_NAMES = ["", "a/b", "/", ".", "..", "nul\u0000x", "lone\ud800"];

const KEYS = ["lr", "n_neurons", "ψ", "日本", "a b", "", "x/y", "__proto__", "1", "0", "nested", "emoji 🧠", "dt", "nul\u0000key"];

/** A JSON-compatible value (what JSON text stores exactly: -0 included). */
export function jsonValue(r: Rand, depth = 0): unknown {
  const c = r.int(0, depth > 2 ? 4 : 7);
  if (c === 0) return null;
  if (c === 1) return r.chance(0.5);
  if (c === 2) return r.pick([0, -0, 1, -1, 0.1, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 2 ** 53 + 2, 2 ** 60, -(2 ** 63), 123.456]);
  if (c === 3) return r.int(-1e6, 1e6);
  if (c === 4) return randomString(r);
  if (c === 5) return Array.from({ length: r.int(0, 4) }, () => jsonValue(r, depth + 1));
  return jsonObject(r, depth + 1);
}

/** An object of JSON values with unicode keys ("__proto__" as an own key). */
export function jsonObject(r: Rand, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = r.int(0, 4); i > 0; i--) Object.defineProperty(o, r.chance(0.7) ? r.pick(KEYS) : randomString(r), { value: jsonValue(r, depth + 1), enumerable: true, writable: true, configurable: true });
  return o;
}

/** A JSON value with something JSON cannot hold exactly somewhere inside (INVALID_DATA). */
export function badJson(r: Rand): unknown {
  const bad = r.pick([NaN, Infinity, -Infinity, () => 1, Symbol("s"), 2n ** 60n, new Float64Array([1, NaN]), new BigInt64Array([2n ** 60n]), "cycle"]);
  const holder: Record<string, unknown> = { ok: 1 };
  if (bad === "cycle") holder.self = holder;
  else holder[r.pick(["lr", "ψ", "deep"])] = r.chance(0.5) ? bad : { inner: [1, bad] };
  return holder;
}

// ------------------------------------------------------------------ expected values

/** A numeric array as the loader returns it and h5py must read it. */
export interface NdExp {
  dtype: string;
  shape: number[];
  data: NumericArray;
  /** Set when the loader returns 64-bit integers as Float64Array (every value below 2^53). */
  storedDtype?: string;
  /** Attribute `logical_dtype` = `bool` (boolean input). */
  bool?: boolean;
}

/** A stored value (checkpoint entry, static episode data) as the loader returns it. */
export type StoredExp =
  | { kind: "nd"; nd: NdExp }
  | { kind: "strings"; list: string[] }
  | { kind: "csr"; csr: CsrExp }
  | { kind: "json"; value: unknown };

export interface CsrExp {
  indptr: number[];
  indices: NumericArray;
  data: NumericArray;
  shape: [number, number];
  sourceFormat: string;
}

/** The value the loader returns for a stored 64-bit integer array: Float64Array when every value is below 2^53, else the BigInt array. */
export function loaded(nd: NdExp): NdExp {
  if (!(nd.data instanceof BigInt64Array || nd.data instanceof BigUint64Array)) return nd;
  const safe = Array.from(nd.data as ArrayLike<bigint>).every((v) => v > -(2n ** 53n) && v < 2n ** 53n);
  if (!safe) return nd;
  return { ...nd, dtype: "float64", storedDtype: nd.dtype, data: Float64Array.from(nd.data as ArrayLike<bigint>, Number) };
}

export function dtypeOfArray(a: NumericArray): string {
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return "uint8";
  if (a instanceof Int16Array) return "int16";
  if (a instanceof Uint16Array) return "uint16";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint32Array) return "uint32";
  if (a instanceof BigInt64Array) return "int64";
  return "uint64";
}

/** Rows `[a, b)` of a row-major array with `rowSize` elements per row. */
export function rowsOf(data: NumericArray, rowSize: number, a: number, b: number): NumericArray {
  return data.slice(a * rowSize, b * rowSize) as NumericArray;
}

/** A sparse matrix given as (row, col, value) entries in input order, to CSR: rows ascending, columns ascending within a row, equal pairs in input order. */
export function toCsrExp(rows: number, cols: number, entries: { r: number; c: number; v: number | bigint }[], dataDtype: string, sourceFormat: string): CsrExp {
  const order = entries.map((e, i) => ({ ...e, i })).sort((x, y) => x.r - y.r || x.c - y.c || x.i - y.i);
  const indptr = new Array(rows + 1).fill(0);
  for (const e of order) indptr[e.r + 1]++;
  for (let i = 0; i < rows; i++) indptr[i + 1] += indptr[i];
  const Data = ({ int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, float32: Float32Array, float64: Float64Array } as Record<string, new (n: number) => NumericArray>)[dataDtype];
  const data = new Data(order.length);
  order.forEach((e, i) => ((data as unknown as (number | bigint)[])[i] = e.v));
  const indices = cols - 1 > 0xffffffff ? BigInt64Array.from(order, (e) => BigInt(e.c)) : Uint32Array.from(order, (e) => e.c);
  return { indptr, indices, data, shape: [rows, cols], sourceFormat };
}

// ------------------------------------------------------------------ comparing

/** Same element type, shape and elements (bitwise for floats but any NaN equals any NaN; -0 is not 0). */
export function sameNd(actual: unknown, exp: NdExp, where: string): void {
  const a = actual as { data: NumericArray; shape: number[]; dtype: string; storedDtype?: string };
  if (!a || typeof a !== "object") throw new Error(`${where}: expected an array, got ${String(actual)}`);
  if (a.dtype !== exp.dtype) throw new Error(`${where}: dtype ${a.dtype}, expected ${exp.dtype}`);
  if ((a.storedDtype ?? null) !== (exp.storedDtype ?? null)) throw new Error(`${where}: storedDtype ${a.storedDtype}, expected ${exp.storedDtype}`);
  if (JSON.stringify(a.shape) !== JSON.stringify(exp.shape)) throw new Error(`${where}: shape ${JSON.stringify(a.shape)}, expected ${JSON.stringify(exp.shape)}`);
  sameArray(a.data, exp.data, where);
}

export function sameArray(a: ArrayLike<number | bigint>, e: ArrayLike<number | bigint>, where: string): void {
  if (!a || a.constructor !== e.constructor) throw new Error(`${where}: ${a?.constructor?.name}, expected ${e.constructor.name}`);
  if (a.length !== e.length) throw new Error(`${where}: ${a.length} elements, expected ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = e[i];
    if (Object.is(x, y)) continue;
    if (typeof x === "number" && typeof y === "number" && Number.isNaN(x) && Number.isNaN(y)) continue;
    throw new Error(`${where}[${i}]: ${String(x)}, expected ${String(y)}`);
  }
}

/** Deep equality of JSON values with -0 distinct from 0 and key order ignored. */
export function sameJson(a: unknown, e: unknown, where: string): void {
  if (typeof e === "number" || typeof a === "number") {
    if (!Object.is(a, e)) throw new Error(`${where}: ${String(a)}${Object.is(a, -0) ? " (-0)" : ""}, expected ${String(e)}${Object.is(e, -0) ? " (-0)" : ""}`);
    return;
  }
  if (e === null || typeof e !== "object") {
    if (a !== e) throw new Error(`${where}: ${JSON.stringify(a)}, expected ${JSON.stringify(e)}`);
    return;
  }
  if (Array.isArray(e)) {
    if (!Array.isArray(a) || a.length !== e.length) throw new Error(`${where}: ${JSON.stringify(a)}, expected ${JSON.stringify(e)}`);
    e.forEach((x, i) => sameJson(a[i], x, `${where}[${i}]`));
    return;
  }
  if (a === null || typeof a !== "object" || Array.isArray(a)) throw new Error(`${where}: ${JSON.stringify(a)}, expected an object`);
  const ka = Object.keys(a).sort(), ke = Object.keys(e).sort();
  if (JSON.stringify(ka) !== JSON.stringify(ke)) throw new Error(`${where}: keys ${JSON.stringify(ka)}, expected ${JSON.stringify(ke)}`);
  for (const k of ke) sameJson((a as Record<string, unknown>)[k], (e as Record<string, unknown>)[k], `${where}.${k}`);
}

/** The JSON value a value reads back as (what JSON text can hold: TypedArrays become arrays, undefined keys are dropped, undefined in arrays is null). */
export function asJson(v: unknown): unknown {
  if (v === undefined) return null;
  if (v === null || typeof v !== "object") return v;
  if (v instanceof Date) return v.toISOString();
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === "bigint" ? Number(x) : x));
  if (Array.isArray(v)) return v.map(asJson);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) Object.defineProperty(out, k, { value: asJson(x), enumerable: true, writable: true, configurable: true });
  return out;
}

// ------------------------------------------------------------------ to JSON for h5py

/** Encodes expected values for check_roundtrip.py: arrays as base64 bytes, -0 tagged. */
export function forPy(v: unknown): unknown {
  if (typeof v === "number") return Object.is(v, -0) ? { "\u0001": "-0" } : v;
  if (typeof v === "bigint") return { "\u0001": "int", v: v.toString() };
  if (v === null || typeof v !== "object") return v;
  if (ArrayBuffer.isView(v)) {
    const a = v as unknown as NumericArray;
    return { "\u0001": "array", dtype: dtypeOfArray(a), b64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64") };
  }
  if (Array.isArray(v)) return v.map(forPy);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: forPy(x), enumerable: true, writable: true, configurable: true });
  return out;
}

/** Normalising array inputs (TypedArray, number[], nested arrays, { data, shape }). Pure. */
import { dtypeOf, isNumericArray, type NumericArray } from "../dtypes.js";
import { ValidationError } from "../errors.js";

/** A flat row-major array with its shape. */
export interface Nd {
  data: NumericArray;
  shape: number[];
}

/**
 * Normalises an array input. Plain numbers become float64; booleans int8 (all elements booleans
 * or all numbers, as the first one); nested arrays must be rectangular; `{ data, shape }` must have `product(shape)` elements.
 *
 * @example
 * ```ts
 * toNd([[1, 2], [3, 4]], "positions"); // { data: Float64Array [1,2,3,4], shape: [2, 2] }
 * ```
 */
export function toNd(input: unknown, what: string): Nd {
  if (isNumericArray(input)) {
    const data = input instanceof Uint8ClampedArray ? new Uint8Array(input.buffer, input.byteOffset, input.length) : input;
    return { data, shape: [input.length] };
  }
  if (Array.isArray(input)) return fromNested(input, what);
  if (input !== null && typeof input === "object" && "data" in input && "shape" in input) {
    const { data, shape } = input as { data: unknown; shape: unknown };
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ValidationError("INVALID_DATA", `${what}.shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const flat = toNd(data, `${what}.data`).data;
    const n = shape.reduce((a: number, b: number) => a * b, 1);
    if (flat.length !== n) {
      throw new ValidationError("SHAPE_MISMATCH", `${what}: data has ${flat.length} elements but shape ${JSON.stringify(shape)} needs ${n}`);
    }
    return { data: flat, shape: [...shape] };
  }
  throw new ValidationError("INVALID_DATA", `${what} must be a TypedArray, an array of numbers, nested arrays or { data, shape }; got ${describe(input)}`);
}

function fromNested(input: unknown[], what: string): Nd {
  const shape: number[] = [];
  let level: unknown = input;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  const isBool = typeof level === "boolean";
  const n = shape.reduce((a, b) => a * b, 1);
  const data = isBool ? new Int8Array(n) : new Float64Array(n);
  let k = 0;
  const fill = (a: unknown, depth: number, path: string): void => {
    if (!Array.isArray(a) || a.length !== shape[depth]) {
      throw new ValidationError("SHAPE_MISMATCH", `${what}${path} is not rectangular: expected ${shape[depth]} elements at depth ${depth}`);
    }
    if (depth === shape.length - 1) {
      for (let i = 0; i < a.length; i++) {
        const x = a[i];
        // one kind of element: booleans (stored as int8) or numbers (float64), never both
        if (typeof x === "number" && !isBool) data[k++] = x;
        else if (typeof x === "boolean" && isBool) data[k++] = x ? 1 : 0;
        else throw new ValidationError("INVALID_DATA", `${what}${path}[${i}] is ${describe(x)}, expected ${isBool ? "a boolean (the array's first element is one)" : "a number"}`);
      }
    } else for (let i = 0; i < a.length; i++) fill(a[i], depth + 1, `${path}[${i}]`);
  };
  fill(input, 0, "");
  return { data, shape };
}

/** Short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (isNumericArray(x)) return `a ${dtypeOf(x)} TypedArray`;
  if (typeof x === "object") return "an object";
  return `${typeof x} ${String(x).slice(0, 40)}`;
}

/** Converts int64/uint64/other arrays to a plain Float64Array of numbers. */
export function toFloat64(a: NumericArray): Float64Array {
  if (a instanceof Float64Array) return a;
  const out = new Float64Array(a.length);
  if (a instanceof BigInt64Array || a instanceof BigUint64Array) for (let i = 0; i < a.length; i++) out[i] = Number(a[i]);
  else out.set(a as Exclude<NumericArray, BigInt64Array | BigUint64Array>);
  return out;
}

/** Writes JS numbers (integers below 2^53 in magnitude) into a BigInt64Array without BigInt arithmetic per element. */
export function numbersToInt64(src: ArrayLike<number>, n: number, out: BigInt64Array = new BigInt64Array(n)): BigInt64Array {
  const words = new Int32Array(out.buffer, out.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    const lo = v % 4294967296;
    const hi = Math.floor(v / 4294967296);
    words[2 * i] = lo;
    words[2 * i + 1] = hi;
  }
  return out;
}

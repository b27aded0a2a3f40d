/** Numeric element types snn-export stores, named like numpy's. */
export type Dtype =
  | "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32"
  | "int64" | "uint64" | "float32" | "float64";

/** The TypedArray that holds elements of dtype `D`. */
export type TypedArrayOf<D extends Dtype> =
  D extends "int8" ? Int8Array :
  D extends "uint8" ? Uint8Array :
  D extends "int16" ? Int16Array :
  D extends "uint16" ? Uint16Array :
  D extends "int32" ? Int32Array :
  D extends "uint32" ? Uint32Array :
  D extends "int64" ? BigInt64Array :
  D extends "uint64" ? BigUint64Array :
  D extends "float32" ? Float32Array :
  Float64Array;

/** Any numeric TypedArray. */
export type NumericArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

type Ctor = { new (n: number): NumericArray; new (b: ArrayBufferLike, o?: number, n?: number): NumericArray; BYTES_PER_ELEMENT: number };

const DTYPE_CTORS: Record<Dtype, Ctor> = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
  float32: Float32Array, float64: Float64Array,
};

/** Bytes per element. */
export function dtypeSize(dtype: Dtype): number {
  return DTYPE_CTORS[dtype].BYTES_PER_ELEMENT;
}

/** Allocates a zeroed TypedArray of `dtype` with `n` elements. */
export function allocate<D extends Dtype>(dtype: D, n: number): TypedArrayOf<D> {
  return new DTYPE_CTORS[dtype](n) as TypedArrayOf<D>;
}

/** The dtype of a TypedArray (Uint8ClampedArray counts as uint8). */
export function dtypeOf(a: NumericArray): Dtype {
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint32Array) return "uint32";
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return "uint8";
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Int16Array) return "int16";
  if (a instanceof Uint16Array) return "uint16";
  if (a instanceof BigInt64Array) return "int64";
  return "uint64";
}

/** True for every numeric TypedArray (not DataView). */
export function isNumericArray(x: unknown): x is NumericArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/** Is `dtype` a floating point type? */
export function isFloat(dtype: Dtype): boolean {
  return dtype === "float32" || dtype === "float64";
}

/** Is `dtype` a 64-bit integer (held in BigInt arrays)? */
export function isBig(dtype: Dtype): boolean {
  return dtype === "int64" || dtype === "uint64";
}

/** The smallest unsigned dtype that holds every value in `[0, maxValue]`. */
export function smallestUnsigned(maxValue: number): "uint8" | "uint16" | "uint32" | "uint64" {
  if (maxValue <= 0xff) return "uint8";
  if (maxValue <= 0xffff) return "uint16";
  if (maxValue <= 0xffffffff) return "uint32";
  return "uint64";
}

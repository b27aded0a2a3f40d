/**
 * src/encoding/: array inputs to flat arrays with shapes, free-form values to JSON text, weight
 * matrices to CSR. Pure functions, checked against values worked out by hand from the inputs and
 * FORMAT.md (fast: part of `npm run mutate`'s encoding target).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { describe, numbersToInt64, toFloat64, toNd } from "#lib/encoding/arrays.js";
import { isPlainObject, toJsonText } from "#lib/encoding/json.js";
import { isSparseWeights, MAX_ROWS, toCsr } from "#lib/encoding/weights.js";
import { isSnnExportError } from "#lib/errors.js";

const code = (c: Parameters<typeof isSnnExportError>[1], re: RegExp) => (e: unknown) => isSnnExportError(e, c) && re.test((e as Error).message);

test("toNd: typed arrays as they are, nested numbers as float64, booleans as int8, { data, shape } checked", () => {
  const i16 = Int16Array.from([1, -2, 3]);
  assert.deepEqual(toNd(i16, "x"), { data: i16, shape: [3] });
  assert.equal(toNd(i16, "x").data, i16, "no copy");
  const clamped = Uint8ClampedArray.from([1, 255]);
  const c = toNd(clamped, "x");
  assert.ok(c.data instanceof Uint8Array && !(c.data instanceof Uint8ClampedArray), "clamped bytes become uint8");
  assert.equal(c.data.buffer, clamped.buffer, "over the same memory");
  assert.deepEqual([...c.data, ...c.shape], [1, 255, 2]);
  const sub = new Uint8ClampedArray(new ArrayBuffer(8), 2, 3);
  assert.equal((toNd(sub, "x").data as Uint8Array).byteOffset, 2);

  const n = toNd([[1, 2, 3], [4, 5, 6]], "pos");
  assert.ok(n.data instanceof Float64Array);
  assert.deepEqual([[...n.data], n.shape], [[1, 2, 3, 4, 5, 6], [2, 3]]);
  const b = toNd([[true, false], [false, true]], "mask");
  assert.ok(b.data instanceof Int8Array);
  assert.deepEqual([[...b.data], b.shape], [[1, 0, 0, 1], [2, 2]]);
  // one kind of element, as the first one
  assert.throws(() => toNd([true, 2], "m"), code("INVALID_DATA", /^m\[1\] is number 2, expected a boolean \(the array's first element is one\)$/));
  assert.throws(() => toNd([[1], [false]], "m"), code("INVALID_DATA", /^m\[1\]\[0\] is boolean false, expected a number$/));
  const three = toNd([[[1], [2]], [[3], [4]]], "t");
  assert.deepEqual([[...three.data], three.shape], [[1, 2, 3, 4], [2, 2, 1]]);
  const empty = toNd([], "e");
  assert.deepEqual([[...empty.data], empty.shape], [[], [0]]);
  const emptyRows = toNd([[], []], "e");
  assert.deepEqual(emptyRows.shape, [2, 0]);
  assert.throws(() => toNd([[1, 2], [3]], "pos"), code("SHAPE_MISMATCH", /^pos\[1\] is not rectangular: expected 2 elements at depth 1$/));
  assert.throws(() => toNd([[1, 2], 3], "pos"), code("SHAPE_MISMATCH", /pos\[1\] is not rectangular/));
  assert.throws(() => toNd([[1, 2], [3, "x"]], "pos"), code("INVALID_DATA", /^pos\[1\]\[1\] is string x, expected a number$/));
  assert.throws(() => toNd([1, null], "v"), code("INVALID_DATA", /^v\[1\] is null, expected a number$/));

  const d = toNd({ data: [1, 2, 3, 4, 5, 6], shape: [3, 2] }, "w");
  assert.deepEqual([[...d.data], d.shape], [[1, 2, 3, 4, 5, 6], [3, 2]]);
  const shape = [2, 2];
  const typed = toNd({ data: Float32Array.from([1, 2, 3, 4]), shape }, "w");
  assert.ok(typed.data instanceof Float32Array);
  assert.notEqual(typed.shape, shape, "the shape is copied");
  assert.deepEqual(toNd({ data: [], shape: [0, 5] }, "w").shape, [0, 5]);
  assert.throws(() => toNd({ data: [1, 2, 3], shape: [2, 2] }, "w"), code("SHAPE_MISMATCH", /^w: data has 3 elements but shape \[2,2\] needs 4$/));
  assert.throws(() => toNd({ data: [1], shape: [-1] }, "w"), code("INVALID_DATA", /^w\.shape must be an array of non-negative integers, got \[-1\]$/));
  assert.throws(() => toNd({ data: [1], shape: [1.5] }, "w"), code("INVALID_DATA", /w\.shape/));
  assert.throws(() => toNd({ data: [1, 2], shape: [2, -1] }, "w"), code("INVALID_DATA", /^w\.shape must be an array of non-negative integers, got \[2,-1\]$/), "every dimension checked, not only the first");
  assert.throws(() => toNd({ data: [1], shape: "1" }, "w"), code("INVALID_DATA", /w\.shape/));
  assert.throws(() => toNd({ data: "ab", shape: [2] }, "w"), code("INVALID_DATA", /^w\.data must be a TypedArray/));
  assert.throws(() => toNd({ shape: [2] }, "w"), code("INVALID_DATA", /^w must be a TypedArray, an array of numbers, nested arrays or \{ data, shape \}; got an object$/));
  assert.throws(() => toNd(null, "w"), code("INVALID_DATA", /got null$/));
  assert.throws(() => toNd(5, "w"), code("INVALID_DATA", /got number 5$/));
});

test("describe, toFloat64, numbersToInt64", () => {
  assert.equal(describe(null), "null");
  assert.equal(describe([1, 2]), "an array of length 2");
  assert.equal(describe(Uint16Array.from([1])), "a uint16 TypedArray");
  assert.equal(describe({ a: 1 }), "an object");
  assert.equal(describe(undefined), "undefined undefined");
  assert.equal(describe("x".repeat(50)), `string ${"x".repeat(40)}`);
  assert.equal(describe(true), "boolean true");

  const f = Float64Array.from([1.5]);
  assert.equal(toFloat64(f), f, "float64 as it is");
  assert.deepEqual([...toFloat64(Int8Array.from([-3, 4]))], [-3, 4]);
  assert.deepEqual([...toFloat64(BigInt64Array.from([-(2n ** 40n), 7n]))], [-(2 ** 40), 7]);
  assert.deepEqual([...toFloat64(BigUint64Array.from([2n ** 50n]))], [2 ** 50]);
  assert.ok(toFloat64(Float32Array.from([0.5])) instanceof Float64Array);

  const src = [0, 1, -1, 2 ** 32, 2 ** 32 + 5, -(2 ** 32) - 1, 2 ** 52 + 3, -(2 ** 53) + 1, 4294967295];
  assert.deepEqual([...numbersToInt64(src, src.length)], src.map(BigInt));
  const out = new BigInt64Array(4).fill(9n);
  assert.equal(numbersToInt64([7, -7], 2, out), out);
  assert.deepEqual([...out], [7n, -7n, 9n, 9n], "only the first n written");
  const view = new BigInt64Array(new ArrayBuffer(32), 8, 2);
  numbersToInt64([3, -4], 2, view);
  assert.deepEqual([...new BigInt64Array(view.buffer)], [0n, 3n, -4n, 0n], "at the view's offset");
});

test("toJsonText: JSON of plain data; typed arrays, Maps, Sets, Dates converted; non-finite numbers as strings; what JSON cannot hold refused", () => {
  assert.equal(toJsonText({ lr: 0.01, w: new Float32Array([1, 2]), name: "x", ok: true, none: null }, "c"), '{"lr":0.01,"w":[1,2],"name":"x","ok":true,"none":null}');
  assert.equal(toJsonText([1, undefined, "a"], "c"), '[1,null,"a"]', "undefined in an array: null");
  assert.equal(toJsonText({ a: undefined, b: 1 }, "c"), '{"b":1}', "undefined members left out");
  assert.equal(toJsonText(undefined, "c"), "null");
  // what JSON text cannot hold exactly is refused, naming the place
  assert.throws(() => toJsonText({ a: [1, NaN] }, "cfg"), code("INVALID_DATA", /^cfg\.a\[1\] is NaN, which JSON text cannot hold; pass a finite number \(or a string such as "NaN"\)$/));
  assert.throws(() => toJsonText(Infinity, "cfg"), code("INVALID_DATA", /^cfg is Infinity, which/));
  assert.throws(() => toJsonText({ v: Float64Array.from([1, -Infinity]) }, "cfg"), code("INVALID_DATA", /^cfg\.v\[1\] is -Infinity/));
  assert.equal(toJsonText(BigInt64Array.from([5n, -(2n ** 53n) + 1n]), "c"), `[5,${-(2 ** 53) + 1}]`);
  assert.throws(() => toJsonText({ ids: BigUint64Array.from([1n, 2n ** 53n]) }, "cfg"), code("INVALID_DATA", /^cfg\.ids\[1\]: BigInt 9007199254740992 is 2\^53 or more in magnitude/));
  assert.equal(toJsonText(12n, "c"), "12");
  assert.equal(toJsonText(-(2n ** 53n) + 1n, "c"), String(-(2 ** 53) + 1));
  assert.throws(() => toJsonText({ big: 2n ** 60n }, "cfg"), code("INVALID_DATA", /^cfg\.big: BigInt 1152921504606846976 is 2\^53 or more in magnitude and does not fit a JSON number exactly; convert it to a string$/));
  assert.throws(() => toJsonText(-(2n ** 53n), "cfg"), code("INVALID_DATA", /^cfg: BigInt -9007199254740992/));
  // -0 reads back as -0 (JSON.stringify would write 0)
  assert.equal(toJsonText({ z: -0, a: [0, -0], t: Float32Array.from([-0]) }, "c"), '{"z":-0.0,"a":[0,-0.0],"t":[-0.0]}');
  assert.ok(Object.is((JSON.parse(toJsonText([-0], "c")) as number[])[0], -0));
  assert.equal(toJsonText("-0", "c"), '"-0"');
  // empty strings are strings, next to -0 too (the -0 placeholder is not one of them)
  assert.equal(toJsonText({ "": "", a: ["", -0, ""] }, "c"), '{"":"","a":["",-0.0,""]}');
  // a key named __proto__ stays a key
  assert.equal(toJsonText(JSON.parse('{"__proto__": 1, "b": 2}'), "c"), '{"__proto__":1,"b":2}');
  assert.equal(toJsonText(new Map([["__proto__", 3]]), "c"), '{"__proto__":3}');
  assert.equal(toJsonText(new Date(Date.UTC(2024, 2, 1, 14, 5, 9, 123)), "c"), '"2024-03-01T14:05:09.123Z"');
  assert.throws(() => toJsonText({ when: new Date(NaN) }, "cfg"), code("INVALID_DATA", /^cfg\.when is an invalid Date$/));
  assert.equal(toJsonText(new Map<unknown, unknown>([["a", 1], [2, [3]]]), "c"), '{"2":[3],"a":1}', "keys as strings (JSON puts integer-like keys first)");
  assert.equal(toJsonText(new Set([1, "b"]), "c"), '[1,"b"]');
  assert.throws(() => toJsonText({ f: () => 1 }, "cfg"), code("INVALID_DATA", /^cfg\.f is a function, which JSON cannot store; pass plain data$/));
  assert.throws(() => toJsonText([Symbol("s")], "cfg"), code("INVALID_DATA", /^cfg\[0\] is a symbol/));
  assert.throws(() => toJsonText(new Map([["k", () => 1]]), "cfg"), code("INVALID_DATA", /^cfg\.k is a function/));
  assert.throws(() => toJsonText(new Set([Symbol("s")]), "cfg"), code("INVALID_DATA", /^cfg\[0\] is a symbol/));
  const cyc: Record<string, unknown> = { a: { b: 1 } };
  (cyc.a as Record<string, unknown>).back = cyc;
  assert.throws(() => toJsonText(cyc, "cfg"), code("INVALID_DATA", /^cfg\.a\.back refers back to itself \(a cycle\)/));
  const list: unknown[] = [1];
  list.push([list]);
  assert.throws(() => toJsonText(list, "cfg"), code("INVALID_DATA", /^cfg\[1\]\[0\] refers back to itself/));
  // the same object twice (not a cycle) is fine
  const shared = { x: 1 };
  assert.equal(toJsonText({ a: shared, b: shared, c: [shared, shared] }, "c"), '{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":1}]}');
  assert.equal(toJsonText(new DataView(new ArrayBuffer(2)), "c"), "{}", "a DataView is not an array of numbers");

  assert.equal(isPlainObject({}), true);
  assert.equal(isPlainObject(Object.create(null)), true);
  for (const x of [null, undefined, 1, "s", [], new Map(), new Date(), Float32Array.from([1]), new (class A {})()]) assert.equal(isPlainObject(x), false, String(x));
});

test("toCsr: dense, COO and CSR weights give the CSR matrix FORMAT.md describes, indices uint32 below 2^32 columns", () => {
  const big = (xs: ArrayLike<bigint>) => Array.from(xs, Number);
  // dense, nested: the non-zero entries row by row
  const d = toCsr([[0, 0.5, 0], [0.25, 0, 0], [0, 0, -1], [0, 0, 0]], "w");
  assert.deepEqual([big(d.indptr), [...d.indices], [...d.data], d.shape, d.sourceFormat], [[0, 1, 2, 3, 3], [1, 0, 2], [0.5, 0.25, -1], [4, 3], "dense"]);
  assert.ok(d.indptr instanceof BigInt64Array && d.indices instanceof Uint32Array && d.data instanceof Float64Array);
  const df = toCsr({ data: Float32Array.from([0, 2, 3, 0]), shape: [2, 2] }, "w");
  assert.ok(df.data instanceof Float32Array, "the weight dtype is kept");
  assert.deepEqual([big(df.indptr), [...df.indices], [...df.data]], [[0, 1, 2], [1, 0], [2, 3]]);
  const di = toCsr({ data: BigInt64Array.from([0n, 5n]), shape: [1, 2] }, "w");
  assert.deepEqual([...di.data], [5n]);
  assert.throws(() => toCsr({ data: [1, 2], shape: [2] }, "w"), code("SHAPE_MISMATCH", /^w: dense weights must be 2-D \[rows, cols\], got shape \[2\]$/));
  assert.throws(() => toCsr(Float64Array.from([1]), "w"), code("SHAPE_MISMATCH", /2-D/));

  // COO: rows then columns; repeated pairs kept in input order; shape from the ids or the neuron count
  const coo = toCsr({ sourceIds: [2, 0, 2, 0, 2], targetIds: [1, 3, 0, 3, 1], values: Float32Array.from([1, 2, 3, 4, 5]) }, "w");
  assert.deepEqual([big(coo.indptr), [...coo.indices], [...coo.data], coo.shape, coo.sourceFormat], [[0, 2, 2, 5], [3, 3, 0, 1, 1], [2, 4, 3, 1, 5], [3, 4], "coo"]);
  assert.ok(coo.data instanceof Float32Array);
  assert.deepEqual(toCsr({ sourceIds: [0], targetIds: [1], values: [1] }, "w", 5).shape, [5, 5], "COO without shape: the neuron count");
  assert.deepEqual(toCsr({ sourceIds: [6], targetIds: [1], values: [1] }, "w", 5).shape, [7, 5], "ids beyond the neuron count widen it");
  assert.deepEqual(toCsr({ sourceIds: [], targetIds: [], values: [] }, "w").shape, [0, 0]);
  const shaped = toCsr({ sourceIds: [1], targetIds: [0], values: [2], shape: [3, 2] }, "w");
  assert.deepEqual([big(shaped.indptr), shaped.shape], [[0, 0, 1, 1], [3, 2]]);
  assert.throws(() => toCsr({ sourceIds: [3], targetIds: [0], values: [1], shape: [3, 3] }, "w"), code("OUT_OF_RANGE", /^w: ids reach \(3, 0\) but the shape is \[3,3\]$/));
  assert.throws(() => toCsr({ sourceIds: [0], targetIds: [3], values: [1], shape: [3, 3] }, "w"), code("OUT_OF_RANGE", /ids reach \(0, 3\)/));
  assert.throws(() => toCsr({ sourceIds: [0, 1], targetIds: [0], values: [1, 2] }, "w"), code("SHAPE_MISMATCH", /^w: sourceIds \(2\), targetIds \(1\) and values \(2\) must have equal length$/));
  assert.throws(() => toCsr({ sourceIds: [0], targetIds: [0], values: [1, 2] }, "w"), code("SHAPE_MISMATCH", /values \(2\)/));
  assert.throws(() => toCsr({ sourceIds: [-1], targetIds: [0], values: [1] }, "w"), code("INVALID_DATA", /^w\.sourceIds\[0\] = -1 is not a non-negative integer index$/));
  assert.throws(() => toCsr({ sourceIds: [0], targetIds: [0.5], values: [1] }, "w"), code("INVALID_DATA", /^w\.targetIds\[0\] = 0\.5 is not/));
  assert.throws(() => toCsr({ sourceIds: [0], targetIds: [0], values: [1], shape: [1] }, "w"), code("INVALID_DATA", /^w\.shape must be \[rows, cols\] of non-negative integers, got \[1\]$/));
  assert.throws(() => toCsr({ sourceIds: [0], targetIds: [0], values: [1], shape: [1, -1] }, "w"), code("INVALID_DATA", /w\.shape must be/));
  // a long row (> 32 entries: sorted, not by insertion) and a short one, ties in input order
  const n = 40;
  const src = [...Array(n).fill(1), 0, 0, 0];
  const dst = [...Array.from({ length: n }, (_, i) => (i * 7) % 10), 2, 1, 2];
  const long = toCsr({ sourceIds: src, targetIds: dst, values: src.map((_, i) => i) }, "w");
  const order = src.map((_, i) => i).sort((a, b) => src[a] - src[b] || dst[a] - dst[b] || a - b);
  assert.deepEqual([...long.indices], order.map((i) => dst[i]));
  assert.deepEqual([...long.data], order);
  assert.deepEqual(big(long.indptr), [0, 3, 43]);

  // CSR: validated and kept; columns sorted within rows (stable) when they are not (FORMAT.md)
  const csr = toCsr({ indptr: [0, 1, 1, 3], indices: [2, 0, 1], data: [0.5, 0.25, -1], shape: [3, 3] }, "w");
  assert.deepEqual([big(csr.indptr), [...csr.indices], [...csr.data], csr.shape, csr.sourceFormat], [[0, 1, 1, 3], [2, 0, 1], [0.5, 0.25, -1], [3, 3], "csr"]);
  const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
  assert.equal(toCsr({ indptr: [0, 2, 6], indices: [0, 1, 0, 1, 2, 3], data, shape: [2, 4] }, "w").data, data, "sorted already: the same array");
  const unsorted = toCsr({ indptr: [0, 2, 6], indices: [1, 0, 3, 1, 3, 0], data, shape: [2, 4] }, "w");
  assert.deepEqual([[...unsorted.indices], [...unsorted.data]], [[0, 1, 0, 1, 3, 3], [2, 1, 6, 4, 3, 5]], "each row sorted by column, equal columns in their order");
  assert.ok(unsorted.data instanceof Float32Array && unsorted.data !== data);
  const unsortedWide = toCsr({ indptr: [0, 2], indices: [2 ** 32 + 1, 5], data: [1, 2], shape: [1, 2 ** 33] }, "w");
  assert.deepEqual([[...unsortedWide.indices], [...unsortedWide.data]], [[5n, 2n ** 32n + 1n], [2, 1]]);
  assert.throws(() => toCsr({ indptr: [0], indices: [], data: [], shape: [MAX_ROWS + 1, 1] }, "w"), code("OUT_OF_RANGE", new RegExp(`^w\\.shape has ${MAX_ROWS + 1} rows; a weight matrix may have at most ${MAX_ROWS} rows`)));
  assert.throws(() => toCsr({ sourceIds: [MAX_ROWS], targetIds: [0], values: [1] }, "w"), code("OUT_OF_RANGE", /w\.shape has 268435456 rows/), "a shape from the ids is checked too");
  assert.throws(() => toCsr({ indptr: [0, 0], indices: [], data: [], shape: [1, 2 ** 53] }, "w"), code("INVALID_DATA", /w\.shape must be/), "beyond safe integers");
  assert.throws(() => toCsr({ indptr: [0, 1], indices: [0], data: [1], shape: [2, 2] }, "w"), code("SHAPE_MISMATCH", /^w\.indptr has 2 entries; a 2-row matrix needs 3$/));
  assert.throws(() => toCsr({ indptr: [1, 1], indices: [0], data: [1], shape: [1, 2] }, "w"), code("SHAPE_MISMATCH", /^w: indptr must start at 0 and end at nnz .*got indptr end 1, 1 indices, 1 values$/));
  assert.throws(() => toCsr({ indptr: [0, 2], indices: [0], data: [1, 2], shape: [1, 2] }, "w"), code("SHAPE_MISMATCH", /2, 1 indices, 2 values/));
  assert.throws(() => toCsr({ indptr: [0, 1], indices: [0], data: [1, 2], shape: [1, 2] }, "w"), code("SHAPE_MISMATCH", /1 indices, 2 values/));
  assert.throws(() => toCsr({ indptr: [0, 2, 1], indices: [0], data: [1], shape: [2, 2] }, "w"), code("INVALID_DATA", /^w\.indptr decreases at row 1$/));
  assert.throws(() => toCsr({ indptr: [0, 1], indices: [2], data: [1], shape: [1, 2] }, "w"), code("OUT_OF_RANGE", /^w\.indices\[0\] = 2 is outside 2 columns$/));
  assert.throws(() => toCsr({ indptr: [0, 1], indices: [1], data: [1], shape: "1x2" }, "w"), code("INVALID_DATA", /w\.shape/));
  // MAX_ROWS rows are allowed (the shape passes; here the row pointers then do not match it)
  assert.throws(() => toCsr({ indptr: [0], indices: [], data: [], shape: [MAX_ROWS, 1] }, "w"), code("SHAPE_MISMATCH", new RegExp(`^w\\.indptr has 1 entries; a ${MAX_ROWS}-row matrix needs ${MAX_ROWS + 1}$`)));
  // each part named in errors
  assert.throws(() => toCsr({ indptr: [0, -1], indices: [], data: [], shape: [1, 1] }, "w"), code("INVALID_DATA", /^w\.indptr\[1\] = -1 is not a non-negative integer index$/));
  assert.throws(() => toCsr({ indptr: [0, 1], indices: [1.5], data: [1], shape: [1, 2] }, "w"), code("INVALID_DATA", /^w\.indices\[0\] = 1\.5 is not/));
  assert.throws(() => toCsr({ indptr: [0, 1], indices: [0], data: "x", shape: [1, 2] }, "w"), code("INVALID_DATA", /^w\.data must be a TypedArray/));
  assert.throws(() => toCsr({ sourceIds: [0], targetIds: [0], values: { v: 1 } }, "w"), code("INVALID_DATA", /^w\.values must be a TypedArray/));
  // neither CSR nor COO nor an array: refused as dense weights, typed
  for (const [x, got] of [[null, "null"], ["w", "string w"], [5, "number 5"], [undefined, "undefined undefined"]] as const) {
    assert.throws(() => toCsr(x, "w"), code("INVALID_DATA", new RegExp(`^w must be a TypedArray, .*got ${got}$`)), String(x));
  }
  // a matrix too large for the conversion's arrays: OUT_OF_RANGE, not a RangeError
  assert.throws(() => toCsr({ data: [], shape: [2 ** 40, 0] }, "w"), code("OUT_OF_RANGE", /^w is too large to convert to CSR in memory \(.+\)$/));
  // equal columns within a row are sorted: the data array is kept as it is
  const dup = Float64Array.from([1, 2, 3]);
  assert.equal(toCsr({ indptr: [0, 3], indices: [1, 1, 2], data: dup, shape: [1, 3] }, "w").data, dup, "equal columns are in order");
  // 2^32 or more columns: int64 indices (FORMAT.md)
  const wide = toCsr({ indptr: [0, 1], indices: [2 ** 32 + 1], data: [1], shape: [1, 2 ** 32 + 2] }, "w");
  assert.ok(wide.indices instanceof BigInt64Array);
  assert.deepEqual([...wide.indices], [2n ** 32n + 1n]);
  const wideCoo = toCsr({ sourceIds: [0, 0], targetIds: [2 ** 32, 3], values: [1, 2] }, "w");
  assert.ok(wideCoo.indices instanceof BigInt64Array);
  assert.deepEqual([...wideCoo.indices], [3n, 2n ** 32n]);
  const wideDense = toCsr({ data: [0, 1], shape: [1, 2] }, "w");
  assert.ok(wideDense.indices instanceof Uint32Array);
  assert.ok(toCsr({ indptr: [0, 1], indices: [0], data: [1], shape: [1, 2 ** 32] }, "w").indices instanceof Uint32Array, "2^32 columns: ids up to 2^32 - 1 fit uint32");

  for (const [w, yes] of [[{ sourceIds: [], targetIds: [], values: [] }, true], [{ indptr: [], indices: [], data: [] }, true], [{ sourceIds: [], targetIds: [] }, false],
    [{ sourceIds: [], values: [] }, false], [{ targetIds: [], values: [] }, false], [{ indptr: [], indices: [] }, false], [{ indices: [], data: [] }, false],
    [{ indptr: [], data: [] }, false], [[[1]], false], [Float32Array.from([1]), false], [null, false], ["w", false], [{ data: [1], shape: [1, 1] }, false]] as const) {
    assert.equal(isSparseWeights(w), yes, JSON.stringify(w));
  }
});

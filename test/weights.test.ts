/**
 * COO weights to CSR: entries ordered by (row, column), equal pairs in their input order, for
 * short rows and long (hub) rows alike — checked against a plain comparison sort.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toCsr } from "#lib/encoding/weights.js";
import { rng } from "./helpers.js";

function reference(src: number[], dst: number[], values: number[], rows: number) {
  const order = src.map((_, i) => i).sort((a, b) => src[a] - src[b] || dst[a] - dst[b] || a - b);
  const indptr = new Array(rows + 1).fill(0);
  for (const s of src) indptr[s + 1]++;
  for (let r = 0; r < rows; r++) indptr[r + 1] += indptr[r];
  return { indptr, indices: order.map((k) => dst[k]), data: order.map((k) => values[k]) };
}

test("COO to CSR: rows then columns, duplicates kept in input order, hub rows included", () => {
  const rand = rng(11);
  for (const [n, rows, cols, hub] of [[0, 3, 3, false], [1, 1, 1, false], [500, 20, 5, false], [3000, 50, 400, true], [20_000, 2000, 2000, true]] as const) {
    const src: number[] = [], dst: number[] = [], values: number[] = [];
    for (let i = 0; i < n; i++) {
      // with `hub`, a third of the entries come from row 0: a row far longer than the insertion-sorted ones
      src.push(hub && i % 3 === 0 ? 0 : Math.floor(rand() * rows));
      dst.push(Math.floor(rand() * cols)); // few columns: many duplicate (row, column) pairs
      values.push(i); // the value is the input position: shows the order of duplicates
    }
    const got = toCsr({ sourceIds: Int32Array.from(src), targetIds: Int32Array.from(dst), values: Float64Array.from(values), shape: [rows, cols] }, "weights");
    const want = reference(src, dst, values, rows);
    assert.deepEqual(Array.from(got.indptr, Number), want.indptr, `indptr, n=${n}`);
    assert.deepEqual(Array.from(got.indices as ArrayLike<number>), want.indices, `indices, n=${n}`);
    assert.deepEqual(Array.from(got.data as Float64Array), want.data, `data, n=${n}`);
    assert.deepEqual(got.shape, [rows, cols]);
  }
});

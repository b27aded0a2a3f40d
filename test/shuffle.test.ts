/** The byte shuffle (HDF5 filter 2) against its definition, for every element size and alignment the writer uses. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { shuffle } from "../src/h5/ts/shuffle.js";

function reference(raw: Uint8Array, size: number): Uint8Array {
  const n = raw.length / size;
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < size; j++) out[j * n + i] = raw[i * size + j];
  return out;
}

test("shuffle matches the HDF5 definition for sizes 1, 2, 3, 4, 8 and 16, aligned or not", () => {
  let x = 12345;
  const rand = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  for (const size of [1, 2, 3, 4, 8, 16]) {
    for (const offset of [0, 1, 2, 4]) {
      for (const n of [0, 1, 7, 1000]) {
        const backing = new Uint8Array(offset + n * size);
        for (let i = 0; i < backing.length; i++) backing[i] = rand();
        const raw = backing.subarray(offset);
        assert.deepEqual(shuffle(raw, size), size <= 1 ? raw : reference(raw, size), `size ${size}, offset ${offset}, n ${n}`);
      }
    }
  }
});

test("shuffle of a chunk whose tail is zero: only the used prefix is shuffled, into a dirty buffer the tail comes out zero", () => {
  for (const size of [2, 4, 8, 3]) {
    const n = 500;
    const raw = new Uint8Array(n * size);
    const used = 123 * size - 1; // not a whole element: the partial element is shuffled too
    for (let i = 0; i < used; i++) raw[i] = (i * 7 + 1) & 255 || 1;
    const dirty = new Uint8Array(raw.length).fill(0xee);
    assert.deepEqual(shuffle(raw, size, dirty, used), reference(raw, size), `size ${size}`);
  }
});

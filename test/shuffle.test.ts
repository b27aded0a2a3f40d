/** The byte shuffle (HDF5 filter 2) against its definition, for every element size and alignment the writer uses. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { shuffle } from "#lib/h5/ts/shuffle.js";

function reference(raw: Uint8Array, size: number): Uint8Array {
  if (size <= 1) return raw;
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
        assert.deepEqual(shuffle(raw, size), reference(raw, size), `size ${size}, offset ${offset}, n ${n}`);
      }
    }
  }
});

test("shuffle of a partial chunk: given only its data, the output is that of the zero-padded chunk, also into a dirty buffer", () => {
  for (const size of [1, 2, 3, 4, 8]) {
    for (const used of [0, 123 * size, 123 * size - 1]) { // the last: not a whole element
      const n = 500;
      const padded = new Uint8Array(n * size);
      for (let i = 0; i < used; i++) padded[i] = (i * 7 + 1) & 255 || 1;
      const data = padded.slice(0, used);
      const want = reference(padded, size);
      assert.deepEqual(shuffle(data, size, padded.length), want, `size ${size}, used ${used}`);
      const dirty = new Uint8Array(padded.length).fill(0xee);
      assert.deepEqual(shuffle(data, size, padded.length, dirty), want, `size ${size}, used ${used}, into a dirty buffer`);
    }
  }
});

/**
 * deflate.ts and inflate.ts drive zlib through the handle Node's own deflateSync/inflateSync use;
 * where a Node release lacks it they fall back to deflateSync/inflateSync. This file makes that
 * happen (createDeflate/createInflate replaced by functions returning streams without the handle,
 * through node:module's public syncBuiltinESMExports, before the library is loaded) and checks that
 * the fallback gives the same bytes and the same answers, errors included. Its own process (node
 * --test runs each file in one), so no other test sees the replaced functions.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { syncBuiltinESMExports } from "node:module";
import zlib from "node:zlib";

const realDeflate = zlib.deflateSync;
const realInflate = zlib.inflateSync;
const calls = { deflateSync: 0, inflateSync: 0, createDeflate: 0, createInflate: 0 };
// (zlib's exports are read-only but configurable)
const replace = (name: string, value: unknown) => Object.defineProperty(zlib, name, { value, configurable: true, enumerable: true, writable: true });
replace("createDeflate", () => (calls.createDeflate++, {}));
replace("createInflate", () => (calls.createInflate++, { _handle: { writeSync: 1 } }));
replace("deflateSync", (...args: Parameters<typeof zlib.deflateSync>) => (calls.deflateSync++, realDeflate(...args)));
replace("inflateSync", (...args: Parameters<typeof zlib.inflateSync>) => (calls.inflateSync++, realInflate(...args)));
syncBuiltinESMExports();

const { deflate, deflateChunk, MODE_DEFAULT, MODE_RLE, MODE_TRIAL } = await import("#lib/h5/ts/deflate.js");
const { inflateInto } = await import("#lib/h5/ts/inflate.js");

/** Shuffled-float-like bytes: runs in some byte planes, noise in others. */
function sampleData(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i < n / 2 ? (i >> 6) & 0xff : x >>> 24;
  }
  return out;
}

test("deflate without zlib's handle: deflateSync's bytes, for both strategies and every mode, on inputs large and small", () => {
  for (const n of [0, 1, 100, 70_000, 300_000]) {
    const data = sampleData(n, n + 1);
    for (const level of [1, 4, 9]) {
      const before = calls.deflateSync;
      const plain = deflate(data, level);
      assert.deepEqual(Buffer.from(plain), realDeflate(data, { level }), `n ${n}, level ${level}`);
      const rle = deflate(data, level, true);
      assert.deepEqual(Buffer.from(rle), realDeflate(data, { level, strategy: zlib.constants.Z_RLE }), `n ${n}, level ${level}, Z_RLE`);
      assert.equal(calls.deflateSync - before, 2, "through deflateSync");
      assert.deepEqual(deflateChunk(data, level, MODE_DEFAULT), { bytes: plain, rle: false });
      assert.deepEqual(deflateChunk(data, level, MODE_RLE), { bytes: rle, rle: true });
      const trial = deflateChunk(data, level, MODE_TRIAL);
      assert.equal(trial.rle, rle.length <= plain.length * 1.03);
      assert.deepEqual(trial.bytes, trial.rle ? rle : plain);
    }
  }
  assert.ok(calls.createDeflate >= 1, "the handle was looked for");
  assert.ok(calls.createDeflate <= 1, "and not again once it was missing");
});

test("deflate without zlib's handle: many megabytes in a row stay bounded in memory (a collection every 8 MiB)", () => {
  const chunk = sampleData(1 << 20, 7);
  const rss0 = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 40; i++) assert.ok(deflate(chunk, 1).length > 0);
  assert.ok(process.memoryUsage().arrayBuffers - rss0 < 512 << 20, "no runaway growth");
});

test("inflate without zlib's handle: the same counts and errors as with it", () => {
  const data = sampleData(5000, 3);
  const stream = realDeflate(data);
  const out = new Uint8Array(5001);
  const before = calls.inflateSync;
  assert.equal(inflateInto(stream, out, 5000), 5000);
  assert.deepEqual(out.subarray(0, 5000), data);
  assert.equal(calls.inflateSync - before, 1, "through inflateSync");
  // too long: the extra byte shows it; longer still, inflateSync stops at its output limit
  assert.equal(inflateInto(realDeflate(sampleData(5001, 3)), new Uint8Array(5001), 5000), 5001);
  assert.throws(() => inflateInto(realDeflate(sampleData(5002, 3)), new Uint8Array(5001), 5000), /larger than 5001 bytes/);
  // too short
  assert.equal(inflateInto(realDeflate(data.subarray(0, 4000)), new Uint8Array(5001), 5000), 4000);
  // damaged
  const bad = Buffer.from(stream);
  bad[bad.length - 1] ^= 1;
  assert.throws(() => inflateInto(bad, new Uint8Array(5001), 5000), /incorrect data check|invalid/);
  assert.ok(calls.createInflate >= 1 && calls.createInflate <= 1, "the handle was looked for once");
});

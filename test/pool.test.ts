/**
 * The compression queue of the TypeScript engine: chunks come back in submission order and
 * byte-exact, whether a worker thread or the writing thread (work stealing while it waits)
 * compressed them, and partial chunks (zero tail) shuffle as whole ones.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { CompressionQueue, startPool } from "../src/h5/ts/pool.js";

function unshuffle(s: Uint8Array, size: number): Uint8Array {
  const n = s.length / size;
  const out = new Uint8Array(s.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < size; j++) out[i * size + j] = s[j * n + i];
  return out;
}

test("compression queue: 400 chunks of mixed sizes come back in order and exact, stealing included", async () => {
  startPool();
  await new Promise((r) => setTimeout(r, 300)); // let the worker boot, so that jobs go to it
  const got: [number, Uint8Array][] = [];
  const q = new CompressionQueue<number>((stored, tag) => got.push([tag, stored.slice()]), true, 1 << 20); // stored is valid only during the call
  const sent: Uint8Array[] = [];
  let x = 7;
  for (let k = 0; k < 400; k++) {
    const size = [1, 2, 4, 8][k % 4];
    const rows = 1 + ((k * 977) % 20_000);
    const raw = new Uint8Array(rows * size);
    const used = k % 3 === 0 ? Math.floor(raw.length / 3) : raw.length; // k % 3 === 0: a partial chunk, zero tail
    for (let i = 0; i < used; i++) raw[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    sent.push(raw.slice());
    q.submit(raw.subarray(0, used), size, 1 + (k % 6), k, raw.length); // a partial chunk: just its data
    raw.fill(0xff); // submit copied it
    if (k % 50 === 49) q.drain(true);
  }
  q.drain(true);
  assert.equal(q.pending, 0);
  assert.deepEqual(got.map(([t]) => t), sent.map((_, i) => i));
  for (const [k, stored] of got) {
    const size = [1, 2, 4, 8][k % 4];
    const plain = inflateSync(stored);
    assert.deepEqual(size === 1 ? new Uint8Array(plain) : unshuffle(new Uint8Array(plain), size), sent[k], `chunk ${k}`);
  }
});

test("compression queue: while a worker is busy, the waiting thread compresses queued chunks itself", async () => {
  startPool();
  await new Promise((r) => setTimeout(r, 300));
  const chunks = Array.from({ length: 40 }, (_, k) => {
    const f = new Float64Array(100_000); // 800 kB each: tens of ms of deflate in all
    for (let i = 0; i < f.length; i++) f[i] = Math.sin(i * 0.001 * (k + 1)) * 1e3;
    return new Uint8Array(f.buffer);
  });
  const got: number[] = [];
  const q = new CompressionQueue<number>((_, tag) => got.push(tag), true, 64 << 20);
  for (let k = 0; k < chunks.length; k++) q.submit(chunks[k], 8, 6, k);
  q.drain(true);
  assert.deepEqual(got, chunks.map((_, k) => k));
  assert.ok(q.stolen > 0, "the waiting thread compressed nothing itself");
});

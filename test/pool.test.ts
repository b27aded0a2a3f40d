/**
 * The compression queue of the TypeScript engine: chunks come back in submission order and
 * byte-exact, whether a worker thread or the writing thread (work stealing while it waits)
 * compressed them, and partial chunks (zero tail) shuffle as whole ones.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { constants, deflateSync, inflateSync } from "node:zlib";
import { spawnSync } from "node:child_process";
import { CompressionQueue, poolBooted, startPool } from "#lib/h5/ts/pool.js";
import { deflate, deflateChunk, MODE_DEFAULT, MODE_RLE, MODE_TRIAL, RLE_SLACK } from "#lib/h5/ts/deflate.js";
import { shuffle } from "#lib/h5/ts/shuffle.js";
import { rng } from "./helpers.js";

/** Starts the compression threads and waits (at most 60 s) until they run, so that jobs go to them. */
async function threadsRunning(): Promise<void> {
  const n = startPool().length;
  const until = Date.now() + 60_000;
  while (poolBooted() < n && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  assert.equal(poolBooted(), n, "the compression threads did not start within 60 s");
}

function unshuffle(s: Uint8Array, size: number): Uint8Array {
  const n = s.length / size;
  const out = new Uint8Array(s.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < size; j++) out[i * size + j] = s[j * n + i];
  return out;
}

test("compression queue: 400 chunks of mixed sizes come back in order and exact, stealing included", async () => {
  await threadsRunning(); // jobs go to a thread
  const got: [number, Uint8Array][] = [];
  const rle: boolean[] = [];
  const q = new CompressionQueue<number>((stored, tag, r) => { got.push([tag, stored.slice()]); rle[tag] = r; }, true, 1 << 20); // stored is valid only during the call
  const sent: Uint8Array[] = [];
  let x = 7;
  for (let k = 0; k < 400; k++) {
    const size = [1, 2, 4, 8][k % 4];
    const rows = 1 + ((k * 977) % 20_000);
    const raw = new Uint8Array(rows * size);
    const used = k % 3 === 0 ? Math.floor(raw.length / 3) : raw.length; // k % 3 === 0: a partial chunk, zero tail
    for (let i = 0; i < used; i++) raw[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    sent.push(raw.slice());
    q.submit(raw.subarray(0, used), size, 1 + (k % 6), k, raw.length, k % 3); // a partial chunk: just its data; every deflate mode
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
    if (k % 3 !== MODE_TRIAL) assert.equal(rle[k], k % 3 === MODE_RLE, `chunk ${k}: the strategy asked for`);
  }
});

test("deflate strategy by trial: Z_RLE for shuffled noisy floats, the default for timesteps; both inflate to the input", () => {
  const rand = rng(1);
  const noise = new Float64Array(10_000).map(() => rand());
  const steps = new BigInt64Array(10_000).map((_, i) => BigInt(i));
  const asBytes = (a: Float64Array | BigInt64Array) => shuffle(new Uint8Array(a.buffer), 8, a.byteLength);
  // the bytes are a view of a buffer the next deflate reuses: kept as copies here
  const own = (d: { bytes: Uint8Array; rle: boolean }) => ({ bytes: d.bytes.slice(), rle: d.rle });
  const floats = own(deflateChunk(asBytes(noise), 4, MODE_TRIAL));
  const ts = own(deflateChunk(asBytes(steps), 4, MODE_TRIAL));
  assert.equal(floats.rle, true, "shuffled random floats: runs are all deflate finds, Z_RLE should win");
  assert.equal(ts.rle, false, "timesteps: long repeats, the default strategy should win");
  for (const [input, d] of [[asBytes(noise), floats], [asBytes(steps), ts]] as const) {
    assert.deepEqual(new Uint8Array(inflateSync(d.bytes)), input);
    const other = deflateChunk(input, 4, d.rle ? MODE_DEFAULT : MODE_RLE);
    assert.deepEqual(new Uint8Array(inflateSync(other.bytes)), input);
    // the trial keeps Z_RLE only when it is at most RLE_SLACK times the default's size
    if (d.rle) assert.ok(d.bytes.length <= other.bytes.length * RLE_SLACK);
    else assert.ok(other.bytes.length > d.bytes.length * RLE_SLACK);
  }
});

test("deflate through the kept zlib stream: the same bytes as deflateSync, chunk after chunk, every level and strategy", () => {
  const rand = rng(5);
  const inputs: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array(1),
    new Uint8Array(100_000), // zeros: long runs
    Uint8Array.from({ length: 70_000 }, () => Math.floor(rand() * 256)), // noise: stored blocks
    Uint8Array.from({ length: 65_536 }, () => Math.floor(rand() * 100)), // spike-id-like bytes
    Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff), // larger than any earlier output buffer
    new Uint8Array(new Float64Array(20_000).map((_, i) => i * 0.5).buffer),
  ];
  for (let round = 0; round < 2; round++) {
    for (const level of [1, 4, 6, 9]) {
      for (const rle of [false, true]) {
        for (const input of inputs) {
          const got = deflate(input, level, rle).slice();
          const want = deflateSync(input, { level, strategy: rle ? constants.Z_RLE : constants.Z_DEFAULT_STRATEGY });
          assert.deepEqual(got, new Uint8Array(want), `level ${level}${rle ? " Z_RLE" : ""}, ${input.length} bytes, round ${round}`);
        }
      }
    }
  }
  // a view of a reused buffer: the next call with the same settings overwrites it. This fails when
  // deflate.ts falls back to deflateSync (a Node release without the zlib handle it drives): the
  // fallback cost +7.5 % CPU on quickstart and +6 % on medium_normal (paired runs, README's bench)
  const a = deflate(inputs[4], 4);
  const copy = a.slice();
  deflate(inputs[2], 4);
  assert.notDeepEqual(a.subarray(0, copy.length), copy, "deflate no longer reuses its zlib stream (Node's zlib handle changed?): see src/h5/ts/deflate.ts");
});

test("compression threads start only once enough was compressed inline (a short run never pays for them)", { timeout: 60_000 }, () => {
  const pool = new URL(import.meta.resolve("#lib/h5/ts/pool.js")).href;
  const script = `
    import { CompressionQueue, poolStarted, THREADS_AFTER_MS } from ${JSON.stringify(pool)};
    let x = 3;
    const chunk = new Uint8Array(1 << 20).map(() => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
    let n = 0;
    const q = new CompressionQueue((stored, tag) => { if (tag !== n++) throw new Error("out of order"); }, true);
    // the span measured here holds every inline compression the pool times (the same clock), so
    // it is at least the pool's total when the threads start, however loaded the machine is
    const t0 = performance.now();
    q.submit(chunk, 4, 4, 0);
    const afterOne = poolStarted();
    let k = 1;
    while (!poolStarted() && k < 1000) q.submit(chunk, 4, 4, k++);
    const inlineMs = performance.now() - t0;
    for (let i = 0; i < 20; i++) q.submit(chunk, 4, 4, k++);
    q.drain(true);
    console.log(JSON.stringify({ afterOne, started: poolStarted(), inlineMs, threshold: THREADS_AFTER_MS, done: n, sent: k }));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 300_000, env: { ...process.env, SNN_EXPORT_COMPRESS_THREADS: "" } });
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.equal(o.afterOne, false, "one chunk started the threads");
  assert.equal(o.started, true, "the threads never started");
  assert.ok(o.inlineMs >= o.threshold, `threads started after ${o.inlineMs} ms of inline compression, before the ${o.threshold} ms threshold`);
  assert.equal(o.done, o.sent);
});

test("compression queue: while a worker is busy, the waiting thread compresses queued chunks itself", async () => {
  await threadsRunning();
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

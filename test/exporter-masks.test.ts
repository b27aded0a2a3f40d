/**
 * Spike masks (Uint8Array) as the exporter scans them: four bytes at a time when the view is
 * 4-byte aligned, byte by byte otherwise and for the tail; any non-zero byte is a spike. Masks are
 * views at every offset into buffers that are reused and grown between steps, as a simulation's
 * arrays are. Expected values: the indexes of the non-zero bytes of each input; read back through
 * the loader (itself checked against h5py elsewhere). Also: steps that leave out a neural state
 * variable or a float behaviour key, which are padded (NaN) rather than shifted. Fast: part of the
 * exporter's mutation-testing command as well as of `npm test`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DataExporter, ExperimentLoader } from "#lib/index.js";
import { tempDir } from "./helpers.js";

const OPTS = { provenance: false, flushIntervalMs: 0 } as const;

test("spike masks: views at every offset and length into reused buffers, any non-zero byte a spike", async (t) => {
  const ex = await DataExporter.create("masks", { ...OPTS, outputBaseDir: tempDir(t) });
  const N = 13;
  const small = new Uint8Array(64);
  const big = new Uint8Array(4096);
  const expected: number[][] = [];
  ex.startEpisode();
  let step = 0;
  for (const buffer of [small, big, small]) {
    for (let offset = 0; offset < 4; offset++) {
      for (const pattern of [0, 1, 2, 3]) {
        const mask = buffer.subarray(offset + pattern * 16, offset + pattern * 16 + N);
        buffer.fill(0xee); // bytes around the view are non-zero: they must not be read
        for (let i = 0; i < N; i++) mask[i] = [i % 3 === 0 ? 1 : 0, i % 2 ? 255 : 0, i >= 9 ? 2 + i : 0, 0][pattern];
        expected.push(Array.from(mask.keys()).filter((i) => mask[i] !== 0));
        ex.log({ timestep: step++, spikes: mask });
      }
    }
  }
  // a resizable buffer that grows between steps: a view into the new part
  const growing = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(16, { maxByteLength: 4096 });
  const first = new Uint8Array(growing, 0, N);
  first[3] = 1;
  expected.push([3]);
  ex.log({ timestep: step++, spikes: first });
  growing.resize(4096);
  const later = new Uint8Array(growing, 2000, N);
  later[0] = 1;
  later[5] = 1;
  expected.push([0, 5]);
  ex.log({ timestep: step++, spikes: later });
  // a mask whose words are all zero but the tail, and one all set
  const tail = new Uint8Array(N);
  tail[12] = 7;
  expected.push([12]);
  ex.log({ timestep: step++, spikes: tail });
  const all = new Uint8Array(N).fill(9);
  expected.push(Array.from({ length: N }, (_, i) => i));
  ex.log({ timestep: step++, spikes: all });
  ex.endEpisode();
  await ex.close();
  const l = await ExperimentLoader.open(ex.filePath);
  try {
    const { timesteps, neuronIds } = l.getEpisode(0).getSpikes();
    const got: number[][] = Array.from({ length: step }, () => []);
    for (let i = 0; i < neuronIds.length; i++) got[timesteps[i]].push(neuronIds[i]);
    assert.deepEqual(got, expected);
  } finally {
    l.close();
  }
});

test("steps without a neural state variable or a float behaviour key: padded with NaN at those steps, not shifted", async (t) => {
  const ex = await DataExporter.create("gaps", { ...OPTS, outputBaseDir: tempDir(t) });
  ex.startEpisode();
  ex.log({ timestep: 0, neuralState: { v: Float32Array.from([1, 2]), u: Float32Array.from([5, 6]) }, behavior: { x: 0.5, pos: [1, 2] } });
  ex.log({ timestep: 1, neuralState: { v: Float32Array.from([3, 4]) }, behavior: { pos: [3, 4] } });
  ex.log({ timestep: 2, neuralState: { u: Float32Array.from([7, 8]) }, behavior: { x: 1.5 } });
  ex.log({ timestep: 3, neuralState: { v: Float32Array.from([9, 10]), u: Float32Array.from([11, 12]) }, behavior: { x: 2.5, pos: [5, 6] } });
  ex.endEpisode();
  await ex.close();
  const l = await ExperimentLoader.open(ex.filePath);
  try {
    const ep = l.getEpisode(0);
    const states = ep.getNeuralStates();
    assert.deepEqual(Array.from(states.timesteps), [0, 1, 2, 3]);
    assert.deepEqual(Array.from(states.variables.v.data as Float32Array), [1, 2, 3, 4, NaN, NaN, 9, 10]);
    assert.deepEqual(Array.from(states.variables.u.data as Float32Array), [5, 6, NaN, NaN, 7, 8, 11, 12]);
    const b = ep.getBehavior();
    assert.deepEqual(Array.from(b.timesteps), [0, 1, 2, 3]);
    assert.deepEqual(Array.from(b.variables.x.data as Float64Array), [0.5, NaN, 1.5, 2.5]);
    assert.deepEqual(Array.from(b.variables.pos.data as Float64Array), [1, 2, 3, 4, NaN, NaN, 5, 6]);
  } finally {
    l.close();
  }
});

test("more behaviour keys than the first capacity (8): each key's values, with keys left out at some steps", async (t) => {
  const ex = await DataExporter.create("many-keys", { ...OPTS, outputBaseDir: tempDir(t) });
  ex.startEpisode();
  const keys = Array.from({ length: 12 }, (_, k) => `k${k}`);
  for (let step = 0; step < 4; step++) {
    const behavior: Record<string, number> = {};
    for (const [k, name] of keys.entries()) if ((k + step) % 3 !== 0 || step === 0) behavior[name] = step * 100 + k;
    ex.log({ timestep: step, behavior });
  }
  ex.endEpisode();
  await ex.close();
  const l = await ExperimentLoader.open(ex.filePath);
  try {
    const b = l.getEpisode(0).getBehavior();
    for (const [k, name] of keys.entries()) {
      const want = [0, 1, 2, 3].map((step) => ((k + step) % 3 !== 0 || step === 0 ? step * 100 + k : NaN));
      assert.deepEqual(Array.from(b.variables[name].data as Float64Array), want, name);
    }
  } finally {
    l.close();
  }
});

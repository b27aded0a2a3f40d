/**
 * Lazy windows over an episode: getSpikes / getNeuralStates / getBehavior with a time window and a
 * neuron selection, and spikeBlocks; values from the inputs, and a window of a long episode reads
 * O(1) chunks (loader.readStats()).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DataExporter, ExperimentLoader, isSnnExportError } from "#lib/index.js";
import { checkAndRemove } from "./helpers.js";

const N = 16;
const LONG = 200_000;
const RATE = 4;
const spikesAt = (t: number): number[] => [...Array(N).keys()].filter((i) => (t * 7 + i * 13) % 50 === 0);
const vAt = (t: number, i: number): number => t * 0.5 + i;

let dir = "";
let file = "";

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "snn-windows-"));
  const ex = await DataExporter.create("windows", { outputBaseDir: dir, provenance: false, chunkSize: 1000, neuralSamplingRate: RATE });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: N }, (_, i) => i) } });
  const v = new Float32Array(N);
  const step = (t: number) => {
    for (let i = 0; i < N; i++) v[i] = vAt(t, i);
    ex.log({ timestep: t, spikes: Int32Array.from(spikesAt(t)), neuralState: { v }, behavior: { x: t * 2 } });
  };
  // episode 0: short; 1: long and contiguous; 2: timesteps with gaps (every third)
  ex.startEpisode();
  for (let t = 0; t < 30; t++) step(t);
  ex.endEpisode();
  ex.startEpisode();
  for (let t = 0; t < LONG; t++) step(t);
  ex.endEpisode();
  ex.startEpisode();
  for (let t = 5; t < 3000; t += 3) step(t);
  ex.endEpisode();
  await ex.close();
  file = ex.filePath;
});

after(() => checkAndRemove(dir));

function expectedSpikes(steps: number[], keep: (i: number) => boolean = () => true): { timesteps: number[]; neuronIds: number[] } {
  const timesteps: number[] = [];
  const neuronIds: number[] = [];
  for (const t of steps) for (const i of spikesAt(t)) if (keep(i)) { timesteps.push(t); neuronIds.push(i); }
  return { timesteps, neuronIds };
}

const range = (a: number, b: number, by = 1): number[] => Array.from({ length: Math.max(0, Math.ceil((b - a) / by)) }, (_, k) => a + k * by);

test("getSpikes with a time window and a neuron selection equals the logged spikes of those steps and neurons", async (t) => {
  const l = await ExperimentLoader.open(file);
  t.after(() => l.close());
  const ep = l.getEpisode(1);
  for (const [from, to] of [[0, 10], [123_456, 124_456], [LONG - 5, LONG + 100], [-50, 3], [7.5, 12], [500, 500]]) {
    const got = ep.getSpikes({ from, to });
    const want = expectedSpikes(range(Math.max(0, Math.ceil(from)), Math.min(LONG, to)));
    assert.deepEqual(Array.from(got.timesteps), want.timesteps, `timesteps of [${from}, ${to})`);
    assert.deepEqual(Array.from(got.neuronIds), want.neuronIds, `ids of [${from}, ${to})`);
  }
  const sel = ep.getSpikes({ from: 1000, to: 3000, neurons: { from: 4, to: 9 } });
  const want = expectedSpikes(range(1000, 3000), (i) => i >= 4 && i < 9);
  assert.deepEqual(Array.from(sel.neuronIds), want.neuronIds);
  assert.deepEqual(Array.from(sel.timesteps), want.timesteps);
  const list = ep.getSpikes({ to: 400, neurons: [3, 11] });
  assert.deepEqual(Array.from(list.neuronIds), expectedSpikes(range(0, 400), (i) => i === 3 || i === 11).neuronIds);
});

test("a window of 1,000 steps of a 200,000-step episode decodes O(1) chunks", async (t) => {
  const l = await ExperimentLoader.open(file);
  t.after(() => l.close());
  const ep = l.getEpisode(1);
  const before = l.readStats().chunksRead;
  const sp = ep.getSpikes({ from: 150_250, to: 151_250 });
  const spikeChunks = l.readStats().chunksRead - before;
  assert.equal(sp.timesteps[0] >= 150_250 && sp.timesteps[sp.timesteps.length - 1] < 151_250, true);
  // timesteps: first, last and window chunks (<= 4); counts: <= 2; id_offsets: 1; neuron ids: <= 2
  assert.ok(spikeChunks <= 9, `decoded ${spikeChunks} chunks for 1,000 steps`);
  const b0 = l.readStats().chunksRead;
  const ns = ep.getNeuralStates({ variables: ["v"], from: 150_250, to: 151_250 });
  assert.equal(ns.timesteps.length, 250);
  assert.ok(l.readStats().chunksRead - b0 <= 8, `neural state window decoded ${l.readStats().chunksRead - b0} chunks`);
  t.diagnostic(`chunks decoded: spikes ${spikeChunks}, neural state ${l.readStats().chunksRead - b0}`);
});

test("getNeuralStates and getBehavior windows: rows of the steps in [from, to), neurons cut", async (t) => {
  const l = await ExperimentLoader.open(file);
  t.after(() => l.close());
  for (const [id, steps] of [[1, range(0, LONG)], [2, range(5, 3000, 3)]] as const) {
    const ep = l.getEpisode(id);
    const from = id === 1 ? 10_001 : 100;
    const to = id === 1 ? 10_050 : 200;
    const inWindow = (steps as number[]).filter((s) => s >= from && s < to);
    const beh = ep.getBehavior({ from, to });
    assert.deepEqual(Array.from(beh.timesteps), inWindow);
    assert.deepEqual(Array.from(beh.variables.x.data as Float64Array), inWindow.map((s) => s * 2));
    const sampled = (steps as number[]).filter((_, k) => k % RATE === 0).filter((s) => s >= from && s < to);
    const ns = ep.getNeuralStates({ from, to, neurons: [2, 5] });
    assert.deepEqual(Array.from(ns.timesteps), sampled);
    assert.deepEqual(ns.variables.v.shape, [sampled.length, 2]);
    assert.deepEqual(Array.from(ns.variables.v.data as Float32Array), sampled.flatMap((s) => [vAt(s, 2), vAt(s, 5)]).map((x) => Math.fround(x)));
  }
  // names as before still work
  assert.deepEqual(l.getEpisode(0).getNeuralStates(["v"]).variables.v.shape, [Math.ceil(30 / RATE), N]);
});

test("spikeBlocks: blocks of steps that together are the episode's spikes (and its windows)", async (t) => {
  const l = await ExperimentLoader.open(file);
  t.after(() => l.close());
  const ep = l.getEpisode(2);
  const all = ep.getSpikes();
  const ts: number[] = [];
  const ids: number[] = [];
  let blocks = 0;
  for await (const block of ep.spikeBlocks({ steps: 97 })) {
    blocks++;
    ts.push(...block.timesteps);
    ids.push(...block.neuronIds);
  }
  assert.equal(blocks, Math.ceil(998 / 97));
  assert.deepEqual(ts, Array.from(all.timesteps));
  assert.deepEqual(ids, Array.from(all.neuronIds));
  const part: number[] = [];
  for await (const block of l.getEpisode(1).spikeBlocks({ steps: 1000, from: 5000, to: 9000, neurons: { from: 0, to: 8 } })) part.push(...block.neuronIds);
  assert.deepEqual(part, expectedSpikes(range(5000, 9000), (i) => i < 8).neuronIds);
});

test("bad windows are typed errors", async (t) => {
  const l = await ExperimentLoader.open(file);
  t.after(() => l.close());
  const ep = l.getEpisode(0);
  const code = (fn: () => unknown) => assert.throws(fn, (e: unknown) => isSnnExportError(e, "INVALID_DATA"));
  code(() => ep.getSpikes({ from: 10, to: 5 }));
  code(() => ep.getSpikes({ from: NaN }));
  code(() => ep.getSpikes({ neurons: 5 as never }));
  await assert.rejects(async () => { for await (const _ of ep.spikeBlocks({ steps: 0 })) void _; }, (e: unknown) => isSnnExportError(e, "INVALID_DATA"));
});

test("windows on a format 1.0 file (golden optimized.h5) give the same as filtering the whole episode", async (t) => {
  const golden = fileURLToPath(new URL("../../test/fixtures/golden/v1.0/optimized.h5", import.meta.url));
  assert.ok(readdirSync(join(golden, "..")).includes("optimized.h5"));
  const l = await ExperimentLoader.open(golden);
  t.after(() => l.close());
  const ep = l.getEpisode(1);
  const all = ep.getSpikes();
  const ts = Array.from(all.timesteps);
  const from = ts[Math.floor(ts.length / 3)];
  const to = ts[Math.floor((2 * ts.length) / 3)];
  const w = ep.getSpikes({ from, to, neurons: { from: 0, to: 6 } });
  const keep = ts.map((x, i) => [x, all.neuronIds[i]] as const).filter(([x, id]) => x >= from && x < to && id < 6);
  assert.deepEqual(Array.from(w.timesteps), keep.map(([x]) => x));
  assert.deepEqual(Array.from(w.neuronIds), keep.map(([, id]) => id));
});

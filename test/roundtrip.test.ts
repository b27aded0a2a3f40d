/** Write with DataExporter, read with ExperimentLoader: everything comes back equal. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DataExporter, ExperimentLoader, quickLoad } from "#lib/index.js";
import { spawnSync } from "node:child_process";
import type { CsrMatrix, NdArray } from "#lib/loader/types.js";
import { rng, skipOrFail, tempDir } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The checkpoint group with h5py alone, as FORMAT.md describes it. */
const CHECKPOINT_PY = `
import h5py, json, re, sys
with h5py.File(sys.argv[1], "r") as f:
    g = f["checkpoints/final_weights"]
    w = g["weights"]
    s = lambda v: v.decode() if isinstance(v, bytes) else v
    e = g["epoch"]
    print(json.dumps({
        "attrs": {"episode_count": int(g.attrs["episode_count"]), "iso": re.match(r"^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$", s(g.attrs["created_at"])) is not None},
        "weights": {"attrs": {"format": s(w.attrs["format"]), "source_format": s(w.attrs["source_format"]), "shape": w.attrs["shape"].tolist()},
                    **{k: [str(w[k].dtype), w[k][()].tolist()] for k in ("indptr", "indices", "data")}},
        "dense": [str(g["dense"].dtype), list(g["dense"].shape), g["dense"][()].ravel().tolist()],
        "epoch": {"value": json.loads(s(e[()])), "encoding": s(e.attrs["encoding"])},
    }))
`;

const N = 20;

interface Expected {
  timesteps: number[];
  v: number[][];
  vSampled: number[];
  pos: number[][];
  spikeT: number[];
  spikeIds: number[];
  x: number[];
  vel: number[][];
  rewardT: number[];
  rewardV: number[];
}

/** Logs one episode with every stream; mask or index spike input alternating by episode. */
function logEpisode(ex: DataExporter, e: number, steps: number, rand: () => number): Expected {
  const exp: Expected = { timesteps: [], v: [], vSampled: [], pos: [], spikeT: [], spikeIds: [], x: [], vel: [], rewardT: [], rewardV: [] };
  ex.startEpisode();
  for (let i = 0; i < steps; i++) {
    const t = 10 + i * 2; // non-contiguous timesteps
    const v = Float32Array.from({ length: N }, () => Math.fround(-70 + 20 * rand()));
    const pos = Array.from({ length: N }, (_, k) => [k + i, -k - i]);
    const ids = [...Array(N).keys()].filter(() => rand() < 0.2);
    const spikes = e % 2 === 0 ? Uint8Array.from({ length: N }, (_, k) => (ids.includes(k) ? 1 : 0)) : Int32Array.from([...ids].reverse());
    const reward = rand() < 0.1 ? Math.round(rand() * 100) / 10 - 5 : 0;
    const x = rand();
    const vel = Float32Array.from([rand(), rand()]);
    ex.log({ timestep: t, neuralState: { v, pos }, spikes, behavior: { x, vel }, reward });
    exp.timesteps.push(t);
    if (i % 3 === 0) { exp.v.push([...v]); exp.pos.push(pos.flat()); exp.vSampled.push(t); }
    for (const id of ids) { exp.spikeT.push(t); exp.spikeIds.push(id); }
    exp.x.push(x);
    exp.vel.push([...vel]);
    if (reward !== 0) { exp.rewardT.push(t); exp.rewardV.push(reward); }
  }
  return exp;
}

test("every stream of a multi-episode experiment round-trips", async (t) => {
  const dir = tempDir(t);
  const rand = rng(42);
  const ex = await DataExporter.create("roundtrip", { outputBaseDir: dir, neuralSamplingRate: 3, chunkSize: 7 });
  const bigConfig = { n_neurons: N, learning_rate: 0.01, name: "lif", blob: "x".repeat(1_100_000), nested: { a: [1, 2, { b: null }] } };
  ex.saveConfig(bigConfig);
  ex.saveConfig({ extra: true });
  ex.saveMetadata({ description: "round trip", author: "test" });
  ex.saveNetworkStructure({
    neurons: { ids: Int32Array.from({ length: N }, (_, i) => i), types: Array.from({ length: N }, (_, i) => (i < 16 ? "exc" : "inh")), positions: { data: Float32Array.from({ length: 2 * N }, (_, i) => i / 2), shape: [N, 2] } },
    connections: { source_ids: Int32Array.from([0, 1, 2]), target_ids: Int32Array.from([1, 2, 0]) },
    weights: { sourceIds: [2, 0, 1], targetIds: [0, 1, 2], values: Float32Array.from([0.3, 0.1, 0.2]), shape: [N, N] },
  });
  const expected: Expected[] = [];
  for (let e = 0; e < 3; e++) {
    expected.push(logEpisode(ex, e, 40 + e * 5, rand));
    ex.logWeightChange({ timestep: 30, synapseId: 2, oldWeight: 0.2, newWeight: 0.25 });
    ex.logWeightChange({ timestep: 12, sourceId: 0, targetId: 1, oldWeight: 0.1, newWeight: 0.12 });
    ex.logEvent({ timestep: 20, type: "midpoint_analysis", data: { meanV: -63.2, e } });
    ex.logEvent({ timestep: 22, type: "no_data" });
    ex.logStaticEpisodeData("world", { walls: [[0, 0], [1, 1]], goal: [0.5, 0.5] });
    ex.logStaticEpisodeData("rates", Float64Array.from([1, 2, 3]));
    ex.endEpisode({ success: e !== 1, summary: { finalPosition: [0.4, 0.6], e } });
  }
  ex.saveCheckpoint("final_weights", {
    weights: { indptr: [0, 1, 2], indices: [1, 0], data: [0.5, -0.5], shape: [2, 2] },
    dense: { data: Float32Array.from([1, 0, 0, 2]), shape: [2, 2] },
    epoch: 3,
  });
  await ex.close();
  await ex.close(); // idempotent

  await using loader = await ExperimentLoader.open(ex.outputDir);
  assert.deepEqual(loader.getConfig(), { ...bigConfig, extra: true });
  const meta = loader.getMetadata();
  assert.deepEqual(meta.user, { description: "round trip", author: "test" });
  assert.equal(meta.experimentName, "roundtrip");
  assert.equal(meta.status, "closed");

  const net = loader.getNetworkStructure();
  assert.equal(net.nNeurons, N);
  assert.deepEqual(net.neurons.types, Array.from({ length: N }, (_, i) => (i < 16 ? "exc" : "inh")));
  const positions = net.neurons.positions as { data: Float32Array; shape: number[]; dtype: string };
  assert.deepEqual(positions.shape, [N, 2]);
  assert.equal(positions.dtype, "float32");
  assert.deepEqual([...net.weights!.indptr.subarray(0, 4)], [0, 1, 2, 3]);
  assert.deepEqual([...net.weights!.indices], [1, 2, 0]);
  assert.deepEqual([...net.weights!.data], [0.1, 0.2, 0.3].map(Math.fround));
  assert.deepEqual(net.weights!.shape, [N, N]);
  assert.equal(net.weights!.sourceFormat, "coo");

  assert.equal(loader.episodeCount, 3);
  for (let e = 0; e < 3; e++) {
    const x = expected[e];
    const ep = loader.getEpisode(e);
    assert.equal(ep.attrs.status, "completed");
    assert.equal(ep.attrs.success, e !== 1);
    assert.equal(ep.attrs.total_timesteps, x.timesteps.length);
    assert.equal(ep.attrs.total_spikes, x.spikeIds.length);
    assert.ok(Math.abs((ep.attrs.total_reward as number) - x.rewardV.reduce((a, b) => a + b, 0)) < 1e-9);
    assert.deepEqual([...ep.getTimesteps()], x.timesteps);
    const ns = ep.getNeuralStates();
    assert.deepEqual([...ns.timesteps], x.vSampled);
    assert.equal(ns.variables.v.dtype, "float32");
    assert.deepEqual(ns.variables.v.shape, [x.v.length, N]);
    assert.deepEqual([...ns.variables.v.data], x.v.flat());
    assert.deepEqual(ns.variables.pos.shape, [x.pos.length, N, 2]);
    assert.equal(ns.variables.pos.dtype, "float64");
    assert.deepEqual([...ns.variables.pos.data], x.pos.flat());
    assert.deepEqual(Object.keys(ep.getNeuralStates(["v"]).variables), ["v"]);
    const sp = ep.getSpikes();
    assert.deepEqual([...sp.timesteps], x.spikeT);
    assert.deepEqual([...sp.neuronIds], x.spikeIds);
    const beh = ep.getBehavior();
    assert.deepEqual([...beh.timesteps], x.timesteps);
    assert.deepEqual([...beh.variables.x.data], x.x);
    assert.deepEqual(beh.variables.vel.shape, [x.timesteps.length, 2]);
    assert.equal(beh.variables.vel.dtype, "float32");
    assert.deepEqual([...beh.variables.vel.data], x.vel.flat());
    const rw = ep.getRewards();
    assert.deepEqual([...rw.timesteps], x.rewardT);
    assert.deepEqual([...rw.values], x.rewardV);
    const wc = ep.getWeightChanges();
    assert.deepEqual([...wc.timesteps], [12, 30]);
    assert.deepEqual([...wc.synapseIds], [-1, 2]);
    assert.deepEqual([...wc.sourceIds], [0, -1]);
    assert.deepEqual([...wc.targetIds], [1, -1]);
    assert.deepEqual([...wc.oldWeights], [0.1, 0.2]);
    assert.deepEqual([...wc.newWeights], [0.12, 0.25]);
    assert.deepEqual(ep.getEvents(), [
      { timestep: 20, type: "midpoint_analysis", data: { meanV: -63.2, e } },
      { timestep: 22, type: "no_data", data: null },
    ]);
    assert.deepEqual(ep.getSummary(), { finalPosition: [0.4, 0.6], e });
    assert.deepEqual(ep.listStaticData().sort(), ["rates", "world"]);
    assert.deepEqual(ep.getStaticData("world"), { walls: [[0, 0], [1, 1]], goal: [0.5, 0.5] });
  }
  assert.deepEqual(loader.listCheckpoints(), ["final_weights"]);
  // the checkpoint, against what was given to saveCheckpoint (FORMAT.md "checkpoints/<name>/")
  const cp = loader.getCheckpoint("final_weights");
  assert.equal(cp.name, "final_weights");
  assert.equal(cp.attrs.episode_count, 3, "episodes started when it was saved");
  assert.match(String(cp.attrs.created_at), ISO_UTC);
  assert.deepEqual(Object.keys(cp.entries).sort(), ["dense", "epoch", "weights"]);
  const w = cp.entries.weights as CsrMatrix;
  assert.deepEqual([...w.indptr], [0, 1, 2]);
  assert.deepEqual([...w.indices], [1, 0]);
  assert.deepEqual([...w.data], [0.5, -0.5]);
  assert.deepEqual(w.shape, [2, 2]);
  assert.equal(w.sourceFormat, "csr");
  const dense = cp.entries.dense as NdArray;
  assert.equal(dense.dtype, "float32");
  assert.deepEqual(dense.shape, [2, 2]);
  assert.deepEqual([...dense.data], [1, 0, 0, 2]);
  assert.equal(cp.entries.epoch, 3);

  // and as h5py sees it, against the same inputs: the loader is not its own oracle
  await t.test("h5py reads the checkpoint as saved", (t2) => {
    if (spawnSync(PYTHON, ["-c", "import h5py, numpy"]).status !== 0) return skipOrFail(t2, `${PYTHON} cannot import h5py/numpy (apt-get install python3-h5py)`);
    const r = spawnSync(PYTHON, ["-c", CHECKPOINT_PY, ex.filePath], { encoding: "utf8", timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      attrs: { episode_count: 3, iso: true },
      weights: {
        attrs: { format: "csr", source_format: "csr", shape: [2, 2] },
        indptr: ["int64", [0, 1, 2]], indices: ["uint32", [1, 0]], data: ["float64", [0.5, -0.5]],
      },
      dense: ["float32", [2, 2], [1, 0, 0, 2]],
      epoch: { value: 3, encoding: "json" },
    });
  });
  const q = await quickLoad(ex.filePath, { episodeId: 2 });
  assert.deepEqual([...q.episode.spikes.neuronIds], expected[2].spikeIds);
});

test("dense and CSR weight inputs give the same CSR matrix", async (t) => {
  const dir = tempDir(t);
  const dense = [[0, 0.5, 0], [0.25, 0, 0], [0, 0, -1]];
  const csr = { indptr: [0, 1, 2, 3], indices: [1, 0, 2], data: [0.5, 0.25, -1], shape: [3, 3] };
  const results = [];
  for (const weights of [dense, { data: dense.flat(), shape: [3, 3] }, csr]) {
    const ex = await DataExporter.create("w", { outputBaseDir: dir });
    ex.saveNetworkStructure({ weights });
    await ex.close();
    await using loader = await ExperimentLoader.open(ex.filePath);
    const w = loader.getNetworkStructure().weights!;
    results.push({ indptr: [...w.indptr], indices: [...w.indices], data: [...w.data], shape: w.shape });
  }
  assert.deepEqual(results[0], results[1]);
  assert.deepEqual(results[0], results[2]);
  assert.deepEqual(results[0], { indptr: [0, 1, 2, 3], indices: [1, 0, 2], data: [0.5, 0.25, -1], shape: [3, 3] });
});

test("many chunks: a long episode with a tiny chunk size reads back exactly", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("chunks", { outputBaseDir: dir, chunkSize: 64, neuralSamplingRate: 1 });
  ex.startEpisode();
  const steps = 5000;
  for (let i = 0; i < steps; i++) ex.log({ timestep: i, neuralState: { v: Float64Array.from([i, -i]) }, spikes: [i % 7, 7 + (i % 3)], reward: i % 100 === 0 ? 1 : 0 });
  ex.endEpisode();
  await ex.close();
  await using loader = await ExperimentLoader.open(ex.outputDir);
  const ep = loader.getEpisode(0);
  const v = ep.getNeuralStates().variables.v;
  assert.equal(v.data.length, 2 * steps);
  assert.equal(v.data[2 * 4321], 4321);
  assert.equal(v.data[2 * 4321 + 1], -4321);
  const sp = ep.getSpikes();
  assert.equal(sp.neuronIds.length, 2 * steps);
  assert.equal(sp.neuronIds[2 * 4999], 4999 % 7);
  assert.equal(ep.attrs.success, null);
  assert.equal(ep.getRewards().values.length, 50);
});

test("an episode left open at close() is ended with status incomplete and keeps its data", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("open", { outputBaseDir: dir });
  ex.startEpisode();
  for (let i = 0; i < 10; i++) ex.log({ timestep: i, spikes: [1] });
  await ex.close();
  await using loader = await ExperimentLoader.open(ex.outputDir);
  const ep = loader.getEpisode(0);
  assert.equal(ep.attrs.status, "incomplete");
  assert.equal(ep.getSpikes().neuronIds.length, 10);
});

test("await using closes the exporter", async (t) => {
  const dir = tempDir(t);
  let path = "";
  {
    await using ex = await DataExporter.create("disposable", { outputBaseDir: dir });
    path = ex.filePath;
    ex.saveConfig({ a: 1 });
  }
  await using loader = await ExperimentLoader.open(path);
  assert.equal(loader.getMetadata().status, "closed");
});

test("weight changes: thousands, out of order across a flush, come back complete and sorted by timestep (stable)", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("wc", { outputBaseDir: dir, provenance: false, chunkSize: 512 });
  ex.startEpisode();
  const expected: [number, number, number, number][] = []; // timestep, synapse, old, new
  const rand = rng(5);
  for (let i = 0; i < 3000; i++) {
    const ts = i === 1500 ? 7 : i; // one change logged late, for an early timestep
    const row: [number, number, number, number] = [ts, i % 97, rand(), rand()];
    expected.push(row);
    ex.logWeightChange({ timestep: ts, synapseId: row[1], oldWeight: row[2], newWeight: row[3] });
    if (i === 1000) ex.flush(); // the first 1001 are on disk in order before the late one comes
  }
  ex.endEpisode();
  await ex.close();
  const sorted = expected.map((r, i) => [r, i] as const).sort((a, b) => a[0][0] - b[0][0] || a[1] - b[1]).map(([r]) => r);
  const l = await ExperimentLoader.open(ex.filePath);
  try {
    const wc = l.getEpisode(0).getWeightChanges();
    assert.equal(wc.timesteps.length, 3000);
    assert.deepEqual(Array.from(wc.timesteps), sorted.map((r) => r[0]));
    assert.deepEqual(Array.from(wc.synapseIds), sorted.map((r) => r[1]));
    assert.deepEqual(Array.from(wc.oldWeights), sorted.map((r) => r[2]));
    assert.deepEqual(Array.from(wc.newWeights), sorted.map((r) => r[3]));
    assert.deepEqual(Array.from(wc.sourceIds), sorted.map(() => -1));
  } finally {
    l.close();
  }
});

test("spike masks from one buffer that grows and shrinks (resizable ArrayBuffer) are scanned where they are now", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("rz", { outputBaseDir: dir, provenance: false });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: 8 }, (_, i) => i) } });
  ex.startEpisode();
  const ab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(16, { maxByteLength: 64 });
  const m0 = new Uint8Array(ab, 8, 8);
  m0[3] = 1;
  ex.log({ timestep: 0, spikes: m0 });
  ab.resize(64); // the mask now lies past the end the first view of the buffer covered
  const m1 = new Uint8Array(ab, 48, 8);
  m1[5] = 1;
  m1[7] = 1;
  ex.log({ timestep: 1, spikes: m1 });
  ab.resize(16);
  const m2 = new Uint8Array(ab, 0, 8);
  m2[0] = 1;
  ex.log({ timestep: 2, spikes: m2 });
  ex.endEpisode();
  await ex.close();
  const l = await ExperimentLoader.open(ex.filePath);
  try {
    const s = l.getEpisode(0).getSpikes();
    assert.deepEqual(Array.from(s.timesteps), [0, 1, 1, 2]);
    assert.deepEqual(Array.from(s.neuronIds), [3, 5, 7, 0]);
  } finally {
    l.close();
  }
});

test("neural state variables left out at a sample are NaN there; one first given later is NaN before", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("gaps", { outputBaseDir: dir });
  ex.startEpisode();
  const f = (x: number) => Float32Array.from([x, x + 0.5]);
  ex.log({ timestep: 0, neuralState: { v: f(0), w: f(10) } });
  ex.log({ timestep: 1, neuralState: { v: f(1) } }); // w left out
  ex.log({ timestep: 2, neuralState: { w: f(12) } }); // v left out
  ex.log({ timestep: 3, neuralState: { v: f(3), w: f(13), u: f(23) } }); // u new
  ex.log({ timestep: 4, neuralState: { u: f(24), v: f(4), w: f(14) } }); // all, in another order
  ex.endEpisode();
  await ex.close();
  await using loader = await ExperimentLoader.open(ex.outputDir);
  const ns = loader.getEpisode(0).getNeuralStates();
  assert.deepEqual([...ns.timesteps], [0, 1, 2, 3, 4]);
  const rows = (name: string) => Array.from({ length: 5 }, (_, i) => Array.from(ns.variables[name].data.subarray(2 * i, 2 * i + 2) as Float32Array));
  assert.deepEqual(rows("v"), [[0, 0.5], [1, 1.5], [NaN, NaN], [3, 3.5], [4, 4.5]]);
  assert.deepEqual(rows("w"), [[10, 10.5], [NaN, NaN], [12, 12.5], [13, 13.5], [14, 14.5]]);
  assert.deepEqual(rows("u"), [[NaN, NaN], [NaN, NaN], [NaN, NaN], [23, 23.5], [24, 24.5]]);
});

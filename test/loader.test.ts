/**
 * Loader tests. The fixture files are built with the low-level H5Writer exactly as FORMAT.md
 * describes, so these tests check the loader against the format document, not against the exporter.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NumericArray } from "#lib/dtypes.js";
import { FormatError, StateError, StorageError, ValidationError } from "#lib/errors.js";
import { H5Reader } from "#lib/h5/reader.js";
import { H5Writer } from "#lib/h5/wasm/writer.js";
import type { Compression } from "#lib/h5/types.js";
import {
  ExperimentLoader, isCsrMatrix, isNdArray, quickLoad, readNumeric, type CsrMatrix, type SliceSource,
} from "#lib/loader/index.js";

import { skipStructureCheck, tempDir } from "./helpers.js";

const GZ: Compression = { kind: "gzip", level: 4 };
const i64 = (xs: number[]): BigInt64Array => BigInt64Array.from(xs.map(BigInt));
const f64 = (xs: number[]): Float64Array => Float64Array.from(xs);

function tmpDir(t: TestContext): string {
  const dir = tempDir(t, "snn-loader-");
  return dir;
}

function arr(w: H5Writer, path: string, data: NumericArray, shape: number[] = [data.length]): void {
  w.writeArray(path, data, shape, GZ, 4);
}

function writeRoot(w: H5Writer, overrides: Record<string, string> = {}): void {
  const attrs: Record<string, string> = {
    format_name: "snn-export", format_version: "1.0", layout: "optimized", experiment_name: "fixture",
    start_time: "2024-01-01T12:00:00.000Z", end_time: "2024-01-01T12:05:00.000Z", status: "closed",
    exporter_options: JSON.stringify({ compression: "gzip", neuralSamplingRate: 2 }), creator: "test",
    ...overrides,
  };
  for (const [k, v] of Object.entries(attrs)) w.setAttr("/", k, v);
  w.setAttr("/", "episode_count", 2n);
  w.writeText("config/json", JSON.stringify({ learning_rate: 0.01, layers: [10, 5] }));
  w.setAttr("config", "learning_rate", 0.01);
  w.writeText("metadata/user", JSON.stringify({ author: "ada", tags: ["a", "b"] }));
  w.writeText("metadata/notes", JSON.stringify({ extra: true }));
}

function writeCsr(w: H5Writer, path: string, sourceFormat: string): void {
  arr(w, `${path}/indptr`, i64([0, 2, 3, 3, 4]));
  arr(w, `${path}/indices`, Uint32Array.from([1, 3, 2, 0]));
  arr(w, `${path}/data`, f64([0.5, -0.25, 1, 2]));
  w.setAttr(path, "shape", i64([4, 4]));
  w.setAttr(path, "format", "csr");
  w.setAttr(path, "source_format", sourceFormat);
}

function writeNetwork(w: H5Writer): void {
  const base = "network_structure";
  w.createGroup(base);
  w.setAttr(base, "n_neurons", 4n);
  arr(w, `${base}/neurons/ids`, Uint32Array.from([0, 1, 2, 3]));
  w.writeStrings(`${base}/neurons/types`, ["exc", "exc", "inh", "inh"]);
  arr(w, `${base}/neurons/positions`, f64([0, 0, 1, 0, 0, 1, 1, 1]), [4, 2]);
  arr(w, `${base}/neurons/layer`, i64([0, 0, 1, 1]));
  arr(w, `${base}/connections/delays`, Float32Array.from([1.5, 2.5]));
  writeCsr(w, `${base}/initial_weights`, "dense");
}

function writeEpisodeAttrs(w: H5Writer, g: string, id: number, done: boolean): void {
  w.createGroup(g);
  w.setAttr(g, "episode_id", BigInt(id));
  w.setAttr(g, "status", done ? "completed" : "running");
  if (done) w.setAttr(g, "success", true);
  else w.setAttr(g, "success", Int8Array.from([-1]));
  w.setAttr(g, "total_timesteps", done ? 5n : 2n);
  w.setAttr(g, "total_spikes", done ? 6n : 0n);
  w.setAttr(g, "total_reward", done ? 1.5 : 0);
  w.setAttr(g, "first_timestep", done ? 10n : 0n);
  w.setAttr(g, "last_timestep", done ? 14n : 1n);
  w.setAttr(g, "neural_sampling_rate", 2n);
  w.setAttr(g, "start_time", "2024-01-01T12:00:01.000Z");
  if (done) w.setAttr(g, "end_time", "2024-01-01T12:00:02.000Z");
}

function writeFullEpisode(w: H5Writer): void {
  const g = "episodes/episode_0000";
  writeEpisodeAttrs(w, g, 0, true);
  arr(w, `${g}/timesteps`, i64([10, 11, 12, 13, 14]));
  arr(w, `${g}/neural_states/timesteps`, i64([10, 12, 14]));
  arr(w, `${g}/neural_states/v`, Float32Array.from({ length: 12 }, (_, i) => i / 4), [3, 4]);
  arr(w, `${g}/neural_states/pos`, f64(Array.from({ length: 24 }, (_, i) => i)), [3, 4, 2]);
  w.link(`${g}/timesteps`, `${g}/spikes/timesteps`);
  arr(w, `${g}/spikes/counts`, Uint8Array.from([2, 0, 1, 3, 0]));
  arr(w, `${g}/spikes/neuron_ids`, Uint8Array.from([0, 3, 1, 0, 1, 2]));
  w.setAttr(`${g}/spikes`, "encoding", "csr_time");
  w.setAttr(`${g}/spikes`, "n_neurons", 4n);
  w.link(`${g}/timesteps`, `${g}/behavior/timesteps`);
  arr(w, `${g}/behavior/x`, f64([0, 0.5, NaN, 1.5, 2]));
  arr(w, `${g}/behavior/xy`, f64([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), [5, 2]);
  arr(w, `${g}/rewards/timesteps`, i64([11, 14]));
  arr(w, `${g}/rewards/values`, f64([0.5, 1]));
  w.setAttr(`${g}/rewards`, "encoding", "sparse_nonzero");
  const wc = `${g}/weight_changes`;
  arr(w, `${wc}/timesteps`, i64([11, 11, 13]));
  arr(w, `${wc}/synapse_ids`, i64([5, -1, -1]));
  arr(w, `${wc}/source_ids`, i64([-1, 0, 2]));
  arr(w, `${wc}/target_ids`, i64([-1, 3, 1]));
  arr(w, `${wc}/old_weights`, f64([0.1, 0.2, 0.3]));
  arr(w, `${wc}/new_weights`, f64([0.15, 0.25, 0.35]));
  arr(w, `${g}/events/timesteps`, i64([10, 13]));
  w.writeStrings(`${g}/events/types`, ["start", "note"]);
  w.writeStrings(`${g}/events/data`, [JSON.stringify({ k: 1 }), "null"]);
  w.writeText(`${g}/summary`, JSON.stringify({ accuracy: 0.9 }));
  w.writeText(`${g}/static/arena`, JSON.stringify({ width: 3 }));
  w.setAttr(`${g}/static/arena`, "encoding", "json");
  arr(w, `${g}/static/mask`, Int8Array.from([1, 0, 0, 1]), [2, 2]);
}

function writeMinimalEpisode(w: H5Writer): void {
  const g = "episodes/episode_0001";
  writeEpisodeAttrs(w, g, 1, false);
  arr(w, `${g}/timesteps`, i64([0, 1]));
  w.link(`${g}/timesteps`, `${g}/spikes/timesteps`);
  arr(w, `${g}/spikes/counts`, Uint8Array.from([0, 0]));
  arr(w, `${g}/spikes/neuron_ids`, new Uint32Array(0));
  w.setAttr(`${g}/spikes`, "encoding", "csr_time");
  w.setAttr(`${g}/spikes`, "n_neurons", -1n);
}

function writeCheckpoint(w: H5Writer): void {
  const g = "checkpoints/final";
  w.createGroup(g);
  w.setAttr(g, "created_at", "2024-01-01T12:04:00.000Z");
  w.setAttr(g, "episode_count", 2n);
  writeCsr(w, `${g}/weights`, "coo");
  arr(w, `${g}/thresholds`, Float32Array.from([1, 2, 3, 4]));
  arr(w, `${g}/dense`, f64([1, 2, 3, 4, 5, 6]), [2, 3]);
  w.writeText(`${g}/info`, JSON.stringify({ epoch: 7, tags: ["x"] }));
  w.setAttr(`${g}/info`, "encoding", "json");
  w.writeStrings(`${g}/labels`, ["a", "b"]);
}

/** Writes the 2-episode fixture into `<dir>/exp/experiment_data.h5`; returns the experiment directory. */
async function writeFixture(dir: string): Promise<string> {
  const expDir = join(dir, "exp");
  mkdirSync(expDir);
  const w = await H5Writer.create(join(expDir, "experiment_data.h5"));
  try {
    writeRoot(w);
    writeNetwork(w);
    writeFullEpisode(w);
    writeMinimalEpisode(w);
    writeCheckpoint(w);
  } finally {
    w.close();
  }
  return expDir;
}

const EXPECTED_CSR = (sourceFormat: string): CsrMatrix => ({
  indptr: f64([0, 2, 3, 3, 4]), indices: Uint32Array.from([1, 3, 2, 0]), data: f64([0.5, -0.25, 1, 2]),
  shape: [4, 4], sourceFormat,
});

test("metadata, config, root attributes and network structure", async (t) => {
  const dir = await writeFixture(tmpDir(t));
  const loader = await ExperimentLoader.open(dir);
  t.after(() => loader.close());
  assert.equal(loader.filePath, join(dir, "experiment_data.h5"));
  const root = loader.rootAttributes;
  assert.deepEqual(root.exporter_options, { compression: "gzip", neuralSamplingRate: 2 });
  assert.equal(root.episode_count, 2);
  assert.deepEqual(loader.getMetadata(), {
    notes: { extra: true },
    user: { author: "ada", tags: ["a", "b"] },
    experimentName: "fixture", startTime: "2024-01-01T12:00:00.000Z", endTime: "2024-01-01T12:05:00.000Z",
    status: "closed", formatVersion: "1.0", layout: "optimized",
    exporterOptions: { compression: "gzip", neuralSamplingRate: 2 },
  });
  assert.deepEqual(loader.getConfig(), { learning_rate: 0.01, layers: [10, 5] });
  const net = loader.getNetworkStructure();
  assert.equal(net.nNeurons, 4);
  assert.deepEqual(net.neurons, {
    ids: { data: Uint32Array.from([0, 1, 2, 3]), shape: [4], dtype: "uint32" },
    types: ["exc", "exc", "inh", "inh"],
    positions: { data: f64([0, 0, 1, 0, 0, 1, 1, 1]), shape: [4, 2], dtype: "float64" },
    layer: { data: f64([0, 0, 1, 1]), shape: [4], dtype: "float64", storedDtype: "int64" },
  });
  assert.deepEqual(net.connections, { delays: { data: Float32Array.from([1.5, 2.5]), shape: [2], dtype: "float32" } });
  assert.deepEqual(net.weights, EXPECTED_CSR("dense"));
});

test("episode 0: every stream comes back as written", async (t) => {
  const dir = await writeFixture(tmpDir(t));
  await using loader = await ExperimentLoader.open(join(dir, "experiment_data.h5"));
  assert.equal(loader.episodeCount, 2);
  assert.deepEqual(loader.listEpisodes(), [0, 1]);
  const ep = loader.getEpisode(0);
  assert.equal(ep.id, 0);
  assert.deepEqual(ep.attrs, {
    episode_id: 0, status: "completed", success: true, total_timesteps: 5, total_spikes: 6, total_reward: 1.5,
    first_timestep: 10, last_timestep: 14, neural_sampling_rate: 2,
    start_time: "2024-01-01T12:00:01.000Z", end_time: "2024-01-01T12:00:02.000Z",
  });
  assert.deepEqual(ep.getTimesteps(), f64([10, 11, 12, 13, 14]));
  const ns = ep.getNeuralStates();
  assert.deepEqual(ns.timesteps, f64([10, 12, 14]));
  assert.deepEqual(Object.keys(ns.variables).sort(), ["pos", "v"]);
  assert.deepEqual(ns.variables.v, { data: Float32Array.from({ length: 12 }, (_, i) => i / 4), shape: [3, 4], dtype: "float32" });
  assert.deepEqual(ns.variables.pos.shape, [3, 4, 2]);
  assert.deepEqual(ns.variables.pos.data, f64(Array.from({ length: 24 }, (_, i) => i)));
  assert.deepEqual(Object.keys(ep.getNeuralStates(["v"]).variables), ["v"]);
  assert.deepEqual(ep.getSpikes(), { timesteps: f64([10, 10, 12, 13, 13, 13]), neuronIds: Uint32Array.from([0, 3, 1, 0, 1, 2]) });
  const beh = ep.getBehavior();
  assert.deepEqual(beh.timesteps, f64([10, 11, 12, 13, 14]));
  assert.deepEqual(beh.variables.x, { data: f64([0, 0.5, NaN, 1.5, 2]), shape: [5], dtype: "float64" });
  assert.deepEqual(beh.variables.xy, { data: f64([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), shape: [5, 2], dtype: "float64" });
  assert.deepEqual(ep.getRewards(), { timesteps: f64([11, 14]), values: f64([0.5, 1]) });
  assert.deepEqual(ep.getWeightChanges(), {
    timesteps: f64([11, 11, 13]), synapseIds: f64([5, -1, -1]), sourceIds: f64([-1, 0, 2]), targetIds: f64([-1, 3, 1]),
    oldWeights: f64([0.1, 0.2, 0.3]), newWeights: f64([0.15, 0.25, 0.35]),
  });
  assert.deepEqual(ep.getEvents(), [{ timestep: 10, type: "start", data: { k: 1 } }, { timestep: 13, type: "note", data: null }]);
  assert.deepEqual(ep.getSummary(), { accuracy: 0.9 });
  assert.deepEqual(ep.listStaticData(), ["arena", "mask"]);
  assert.deepEqual(ep.getStaticData("arena"), { width: 3 });
  assert.deepEqual(ep.getStaticData("mask"), { data: Int8Array.from([1, 0, 0, 1]), shape: [2, 2], dtype: "int8" });
});

test("episode 1: missing streams are empty, success -1 is null", async (t) => {
  const dir = await writeFixture(tmpDir(t));
  using loader = await ExperimentLoader.open(dir);
  const ep = loader.getEpisode(1);
  assert.equal(ep.attrs.success, null);
  assert.equal(ep.attrs.status, "running");
  assert.equal(ep.attrs.end_time, undefined);
  assert.deepEqual(ep.getTimesteps(), f64([0, 1]));
  assert.deepEqual(ep.getNeuralStates(), { timesteps: f64([]), variables: {} });
  assert.deepEqual(ep.getSpikes(), { timesteps: f64([]), neuronIds: new Uint32Array(0) });
  assert.deepEqual(ep.getBehavior(), { timesteps: f64([]), variables: {} });
  assert.deepEqual(ep.getRewards(), { timesteps: f64([]), values: f64([]) });
  const wc = ep.getWeightChanges();
  for (const col of Object.values(wc)) assert.deepEqual(col, f64([]));
  assert.deepEqual(ep.getEvents(), []);
  assert.equal(ep.getSummary(), null);
  assert.deepEqual(ep.listStaticData(), []);
  assert.throws(() => ep.getStaticData("nope"), (e) => e instanceof ValidationError && e.code === "NOT_FOUND");
  assert.throws(() => ep.getNeuralStates(["v"]), (e) => e instanceof ValidationError && /no neural_states variable "v"/.test(e.message));
});

test("checkpoints", async (t) => {
  const dir = await writeFixture(tmpDir(t));
  using loader = await ExperimentLoader.open(dir);
  assert.deepEqual(loader.listCheckpoints(), ["final"]);
  const cp = loader.getCheckpoint("final");
  assert.deepEqual(cp.attrs, { created_at: "2024-01-01T12:04:00.000Z", episode_count: 2 });
  assert.deepEqual(Object.keys(cp.entries).sort(), ["dense", "info", "labels", "thresholds", "weights"]);
  assert.ok(isCsrMatrix(cp.entries.weights));
  assert.deepEqual(cp.entries.weights, EXPECTED_CSR("coo"));
  assert.ok(isNdArray(cp.entries.thresholds));
  assert.deepEqual(cp.entries.thresholds, { data: Float32Array.from([1, 2, 3, 4]), shape: [4], dtype: "float32" });
  assert.deepEqual(cp.entries.dense, { data: f64([1, 2, 3, 4, 5, 6]), shape: [2, 3], dtype: "float64" });
  assert.deepEqual(cp.entries.info, { epoch: 7, tags: ["x"] });
  assert.deepEqual(cp.entries.labels, ["a", "b"]);
  assert.throws(() => loader.getCheckpoint("nope"), (e) => e instanceof ValidationError && /saved: "final"/.test(e.message));
});

test("quickLoad reads one episode and closes the file", async (t) => {
  const dir = await writeFixture(tmpDir(t));
  const q = await quickLoad(dir);
  assert.equal(q.metadata.experimentName, "fixture");
  assert.deepEqual(q.config, { learning_rate: 0.01, layers: [10, 5] });
  assert.equal(q.network.nNeurons, 4);
  assert.equal(q.episode.id, 0);
  assert.deepEqual(q.episode.spikes.neuronIds, Uint32Array.from([0, 3, 1, 0, 1, 2]));
  assert.deepEqual(q.episode.rewards.values, f64([0.5, 1]));
  assert.equal(q.episode.events.length, 2);
  assert.deepEqual(q.episode.summary, { accuracy: 0.9 });
  const q1 = await quickLoad(join(dir, "experiment_data.h5"), { episodeId: 1 });
  assert.equal(q1.episode.attrs.success, null);
  await assert.rejects(quickLoad(dir, { episodeId: 9 }), (e) => e instanceof ValidationError && e.code === "NOT_FOUND");
  // HDF5 refuses to truncate a file this process still has open: recreating it proves quickLoad closed it.
  (await H5Writer.create(join(dir, "experiment_data.h5"))).close();
});

test("live mode opens and reads the same values", async (t) => {
  const dir = await writeFixture(tmpDir(t));
  using loader = await ExperimentLoader.open(dir, { live: true });
  assert.deepEqual(loader.getEpisode(0).getSpikes().timesteps, f64([10, 10, 12, 13, 13, 13]));
});

test("typed errors when opening", async (t) => {
  const dir = tmpDir(t);
  await assert.rejects(ExperimentLoader.open(join(dir, "missing")), (e) =>
    e instanceof StorageError && e.code === "NOT_FOUND" && e.message.includes("missing"));
  await assert.rejects(ExperimentLoader.open(dir), (e) =>
    e instanceof StorageError && e.code === "NOT_FOUND" && e.message.includes("experiment_data.h5"));
  writeFileSync(join(dir, "text.h5"), "not hdf5 at all");
  skipStructureCheck(join(dir, "text.h5"), "not an HDF5 file, on purpose");
  await assert.rejects(ExperimentLoader.open(join(dir, "text.h5")), (e) => e instanceof FormatError && e.code === "NOT_HDF5");
  const plain = await H5Writer.create(join(dir, "plain.h5"));
  plain.writeText("hello", "world");
  plain.close();
  await assert.rejects(ExperimentLoader.open(join(dir, "plain.h5")), (e) =>
    e instanceof FormatError && e.code === "NOT_SNN_EXPORT" && e.message.includes("no format_name")
    && e.message.includes("{ live: true }")); // a bare root is what a file being created looks like before its first flush
  const v3 = await H5Writer.create(join(dir, "v3.h5"));
  writeRoot(v3, { format_version: "3.0" });
  v3.close();
  await assert.rejects(ExperimentLoader.open(join(dir, "v3.h5")), (e) =>
    e instanceof FormatError && e.code === "UNSUPPORTED_VERSION" && e.message.includes("reads format 1.x and 2.x"));
  // 2.0 is read: a file whose writer never wrote the episode table has no episodes
  const v2 = await H5Writer.create(join(dir, "v2.h5"));
  writeRoot(v2, { format_version: "2.0" });
  v2.close();
  using empty = await ExperimentLoader.open(join(dir, "v2.h5"));
  assert.deepEqual([empty.episodeCount, empty.listEpisodes(), empty.episodes().ids], [0, [], new Float64Array(0)]);
});

test("bad episode index, closed loader, idempotent close", async (t) => {
  const dir = await writeFixture(tmpDir(t));
  const loader = await ExperimentLoader.open(dir);
  for (const bad of [2, -1, 0.5]) {
    assert.throws(() => loader.getEpisode(bad), (e) =>
      e instanceof ValidationError && e.code === "NOT_FOUND" && e.message.includes("valid ids are 0..1 (2 episodes)"));
  }
  const ep = loader.getEpisode(0);
  loader.close();
  loader.close();
  loader[Symbol.dispose]();
  assert.throws(() => ep.getRewards(), (e) => e instanceof StateError && e.code === "CLOSED");
  assert.throws(() => loader.getMetadata(), (e) => e instanceof StateError && e.code === "CLOSED");
});

test("readNumeric reads large datasets in slices of at most 4 MiB", async (t) => {
  const file = join(tmpDir(t), "big.h5");
  const w = await H5Writer.create(file);
  const n = 600_000; // 4.8 MB of float64: more than one 4 MiB slice
  const big = Float64Array.from({ length: n }, (_, i) => i * 0.5);
  w.writeArray("big", big, [n], GZ);
  const rows = 1000;
  w.writeArray("ids", BigInt64Array.from({ length: rows * 3 }, (_, i) => BigInt(i - 5)), [rows, 3], GZ);
  w.writeArray("huge", BigInt64Array.from([2n ** 60n]), [1], GZ);
  w.close();
  const reader = await H5Reader.open(file);
  t.after(() => reader.close());
  const calls: number[] = [];
  const spy: SliceSource = {
    info: (p) => reader.info(p),
    readRows: (p, s, e) => (calls.push(e - s), reader.readRows(p, s, e)),
  };
  const a = readNumeric(spy, "big");
  assert.deepEqual(calls, [524_288, n - 524_288]);
  assert.deepEqual(a.shape, [n]);
  assert.deepEqual(a.data, big);
  calls.length = 0;
  const b = readNumeric(spy, "ids", { maxSliceBytes: 1000 }); // 41 rows of 24 bytes per slice
  assert.equal(calls.length, Math.ceil(rows / 41));
  assert.ok(calls.every((c) => c <= 41));
  assert.deepEqual(b, { data: Float64Array.from({ length: rows * 3 }, (_, i) => i - 5), shape: [rows, 3], dtype: "float64", storedDtype: "int64" });
  assert.throws(() => readNumeric(reader, "huge"), (e) => e instanceof FormatError && e.code === "OUT_OF_RANGE");
});

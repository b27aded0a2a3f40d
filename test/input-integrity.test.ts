/**
 * Input-integrity regressions: each test is one defect found by the property-based round trip
 * (test/roundtrip-property.test.ts) or while writing its input rules (FORMAT.md "Input rules"):
 * the input, and that it now either reads back exactly or is refused up front with a typed error
 * that changes nothing.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test, type TestContext } from "node:test";
import { DataExporter, ExperimentLoader, SnnExportError, isSnnExportError, type ErrorCode, type ExporterOptions } from "#lib/index.js";
import { tempDir } from "./helpers.js";

function throwsCode(fn: () => unknown, code: ErrorCode, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SnnExportError, `expected an SnnExportError, got ${(err as Error)?.stack ?? String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

async function exporter(t: TestContext, options: ExporterOptions = {}): Promise<DataExporter> {
  const ex = await DataExporter.create("integrity", { outputBaseDir: tempDir(t), provenance: false, ...options });
  t.after(() => ex.close());
  return ex;
}

async function reopen(ex: DataExporter): Promise<ExperimentLoader> {
  await ex.close();
  return ExperimentLoader.open(ex.outputDir);
}

/** An object with an own key "__proto__" (what JSON.parse gives). */
const withProto = (v: unknown): Record<string, unknown> => JSON.parse(`{"__proto__": ${JSON.stringify(v)}, "a": 1}`);

test("JSON values: NaN and ±Infinity are refused naming the key (they were stored as the strings \"NaN\", \"Infinity\")", async (t) => {
  const ex = await exporter(t);
  throwsCode(() => ex.saveConfig({ lr: NaN }), "INVALID_DATA", /config\.lr is NaN/);
  throwsCode(() => ex.saveConfig({ layers: [{ tau: Infinity }] }), "INVALID_DATA", /config\.layers\[0\]\.tau is Infinity/);
  throwsCode(() => ex.saveMetadata({ w: new Float32Array([1, -Infinity]) }), "INVALID_DATA", /metadata\.w\[1\] is -Infinity/);
  ex.startEpisode();
  throwsCode(() => ex.logEvent({ timestep: 0, type: "x", data: { v: NaN } }), "INVALID_DATA", /logEvent\(\): data\.v is NaN/);
  throwsCode(() => ex.logStaticEpisodeData("s", { v: NaN }), "INVALID_DATA", /\.v is NaN/);
  throwsCode(() => ex.saveCheckpoint("c", { meta: { v: Infinity } }), "INVALID_DATA", /\.v is Infinity/);
  throwsCode(() => ex.endEpisode({ summary: { acc: NaN } }), "INVALID_DATA", /summary\.acc is NaN/);
  ex.saveConfig({ lr: 0.1 });
  ex.endEpisode({ summary: { acc: 1 } });
  const l = await reopen(ex);
  assert.deepEqual(l.getConfig(), { lr: 0.1 });
  assert.deepEqual(l.getMetadata().user, {});
  assert.deepEqual(l.getEpisode(0).getEvents(), []);
  assert.deepEqual(l.listCheckpoints(), []);
  l.close();
});

test("JSON values: BigInt64Array elements of 2^53 or more are refused (they were rounded)", async (t) => {
  const ex = await exporter(t);
  throwsCode(() => ex.saveConfig({ ids: new BigInt64Array([1n, 2n ** 53n + 1n]) }), "INVALID_DATA", /config\.ids\[1\]: BigInt 9007199254740993/);
  ex.saveConfig({ ids: new BigInt64Array([1n, -(2n ** 53n) + 1n]) });
  const l = await reopen(ex);
  assert.deepEqual(l.getConfig(), { ids: [1, -(2 ** 53) + 1] });
  l.close();
});

test("JSON values: -0 reads back as -0 (it was 0), a key \"__proto__\" is kept (it was dropped)", async (t) => {
  const ex = await exporter(t);
  ex.saveConfig({ zero: -0, list: [-0, 0], nested: withProto({ b: 2 }) });
  ex.saveMetadata(withProto(5));
  ex.startEpisode();
  ex.logEvent({ timestep: 0, type: "x", data: withProto([1]) });
  ex.endEpisode({ summary: -0 });
  const l = await reopen(ex);
  const c = l.getConfig();
  assert.ok(Object.is(c.zero, -0));
  assert.ok(Object.is((c.list as number[])[0], -0) && Object.is((c.list as number[])[1], 0));
  assert.deepEqual(Object.keys(c.nested as object), ["__proto__", "a"]);
  assert.deepEqual(Object.getOwnPropertyDescriptor(c.nested, "__proto__")?.value, { b: 2 });
  assert.deepEqual(Object.keys(l.getMetadata().user as object), ["__proto__", "a"]);
  assert.deepEqual(Object.keys(l.getEpisode(0).getEvents()[0].data as object), ["__proto__", "a"]);
  assert.ok(Object.is(l.getEpisode(0).getSummary(), -0));
  l.close();
});

test("config and metadata keep the values as saved: an object changed after saveConfig() is not written by the next save", async (t) => {
  const ex = await exporter(t);
  const layers = [1, 2];
  ex.saveConfig({ layers });
  layers.push(3);
  ex.saveConfig({ lr: 1 });
  const l = await reopen(ex);
  assert.deepEqual(l.getConfig(), { layers: [1, 2], lr: 1 });
  l.close();
});

test("names: lone surrogates, NUL and more than 4096 UTF-8 bytes are refused (a 70 000-byte name made the file unreadable)", async (t) => {
  const ex = await exporter(t);
  ex.startEpisode();
  for (const name of ["v".repeat(70_000), "é".repeat(2049), "lone\ud800", "\udc00x", "nul\u0000"]) {
    throwsCode(() => ex.log({ timestep: 0, neuralState: { [name]: new Float32Array(2) } }), "INVALID_DATA", /not usable as an HDF5 name/);
    throwsCode(() => ex.log({ timestep: 0, behavior: { [name]: 1 } }), "INVALID_DATA", /not usable as an HDF5 name/);
    throwsCode(() => ex.logStaticEpisodeData(name, 1), "INVALID_DATA", /not usable as an HDF5 name/);
    throwsCode(() => ex.saveCheckpoint(name, {}), "INVALID_DATA", /not usable as an HDF5 name/);
  }
  const ok = "é".repeat(2048); // 4096 bytes
  ex.log({ timestep: 0, neuralState: { [ok]: new Float32Array(2) } });
  // config keys that are no attribute names: in the JSON text, not as attributes
  ex.saveConfig({ ["k".repeat(70_000)]: 1, "lone\ud800": 2, "nul\u0000": 3, text: "nul\u0000x", fine: 4 });
  ex.endEpisode();
  const l = await reopen(ex);
  assert.deepEqual(Object.keys(l.getEpisode(0).getNeuralStates().variables), [ok]);
  assert.equal(Object.keys(l.getConfig()).length, 5);
  const attrs = Object.keys(l.rootAttributes); // the file opens
  assert.ok(attrs.includes("format_version"));
  l.close();
});

test("non-string names are a typed error (saveCheckpoint(5, …) threw a TypeError)", async (t) => {
  const ex = await exporter(t);
  throwsCode(() => ex.saveCheckpoint(5 as never, {}), "INVALID_DATA", /checkpoint name 5/);
  ex.startEpisode();
  throwsCode(() => ex.logStaticEpisodeData(null as never, 1), "INVALID_DATA", /static episode data name null/);
});

test("strings stored as HDF5 strings: NUL and lone surrogates in event types and string lists are refused", async (t) => {
  const ex = await exporter(t);
  ex.startEpisode();
  throwsCode(() => ex.logEvent({ timestep: 0, type: "a\u0000b" }), "INVALID_DATA", /NUL/);
  throwsCode(() => ex.logEvent({ timestep: 0, type: "x\udc00" }), "INVALID_DATA", /lone surrogate/);
  throwsCode(() => ex.logStaticEpisodeData("types", ["exc", "in\u0000h"]), "INVALID_DATA", /types"\)\[1\] .*NUL/);
  throwsCode(() => ex.saveNetworkStructure({ neurons: { types: ["a", "\ud800"] } }), "INVALID_DATA", /lone surrogate/);
  ex.logEvent({ timestep: 0, type: "tab\tand\nnewline ψ" });
  ex.saveNetworkStructure({ neurons: { types: ["a", "ψ"] } }); // the refused call wrote nothing: a retry works
  ex.endEpisode();
  const l = await reopen(ex);
  assert.equal(l.getEpisode(0).getEvents()[0].type, "tab\tand\nnewline ψ");
  assert.deepEqual(l.getNetworkStructure().neurons.types, ["a", "ψ"]);
  l.close();
});

test("spike ids: a non-integer is INVALID_DATA (it was OUT_OF_RANGE, printed without quotes), a boolean[] mask holds only booleans", async (t) => {
  const ex = await exporter(t);
  ex.startEpisode();
  throwsCode(() => ex.log({ timestep: 0, spikes: [1.5] }), "INVALID_DATA", /spike id 1\.5 at index 0 is not an integer/);
  throwsCode(() => ex.log({ timestep: 0, spikes: ["3" as never] }), "INVALID_DATA", /spike id string 3 at index 0 is not an integer/);
  throwsCode(() => ex.log({ timestep: 0, spikes: [NaN] }), "INVALID_DATA", /not an integer/);
  throwsCode(() => ex.log({ timestep: 0, spikes: [-1] }), "OUT_OF_RANGE", /spike id -1/);
  throwsCode(() => ex.log({ timestep: 0, spikes: [2 ** 32] }), "OUT_OF_RANGE", /not below 2\^32 \(the neuron count is not known yet\)/);
  throwsCode(() => ex.log({ timestep: 0, spikes: [true, 2, false] as never }), "INVALID_DATA", /spike mask entry 1/);
  ex.log({ timestep: 0, spikes: [true, false, true] });
  throwsCode(() => ex.log({ timestep: 1, spikes: [3] }), "OUT_OF_RANGE", /not below the neuron count 3/);
  ex.endEpisode();
  const l = await reopen(ex);
  assert.deepEqual([...l.getEpisode(0).getSpikes().neuronIds], [0, 2]);
  l.close();
});

test("weight-change ids: a non-integer is INVALID_DATA (it was OUT_OF_RANGE)", async (t) => {
  const ex = await exporter(t);
  ex.startEpisode();
  throwsCode(() => ex.logWeightChange({ timestep: 0, synapseId: 1.5, oldWeight: 0, newWeight: 1 }), "INVALID_DATA", /synapseId 1\.5 is not an integer/);
  throwsCode(() => ex.logWeightChange({ timestep: 0, sourceId: "1" as never, targetId: 0, oldWeight: 0, newWeight: 1 }), "INVALID_DATA", /sourceId "1" is not an integer/);
  throwsCode(() => ex.logWeightChange({ timestep: 0, synapseId: 2 ** 53, oldWeight: 0, newWeight: 1 }), "OUT_OF_RANGE", /not below 2\^53/);
});

test("neuralState and behavior must be plain objects (an array made variables \"0\", \"1\"; a Map stored nothing)", async (t) => {
  const ex = await exporter(t);
  ex.startEpisode();
  throwsCode(() => ex.log({ timestep: 0, neuralState: [new Float32Array(2)] as never }), "INVALID_DATA", /neuralState must be a plain object/);
  throwsCode(() => ex.log({ timestep: 0, neuralState: new Map([["v", new Float32Array(2)]]) as never }), "INVALID_DATA", /neuralState must be a plain object/);
  throwsCode(() => ex.log({ timestep: 0, behavior: [1, 2] as never }), "INVALID_DATA", /behavior must be a plain object/);
  ex.log({ timestep: 0, neuralState: { v: new Float32Array(2) }, behavior: { x: 1 } });
  ex.endEpisode();
  const l = await reopen(ex);
  assert.deepEqual(Object.keys(l.getEpisode(0).getNeuralStates().variables), ["v"]);
  l.close();
});

test("behaviour float arrays with NaN or ±Infinity are refused, as numbers are (NaN marks a step without the key)", async (t) => {
  const ex = await exporter(t);
  ex.startEpisode();
  throwsCode(() => ex.log({ timestep: 0, behavior: { pos: new Float64Array([0, NaN]) } }), "INVALID_DATA", /behavior "pos" has NaN at index 1/);
  ex.log({ timestep: 0, behavior: { pos: new Float64Array([0, 1]) } });
  throwsCode(() => ex.log({ timestep: 1, behavior: { pos: [Infinity, 1] } }), "INVALID_DATA", /behavior "pos" has Infinity/);
  ex.log({ timestep: 1 });
  ex.endEpisode();
  const l = await reopen(ex);
  const pos = l.getEpisode(0).getBehavior().variables.pos;
  assert.deepEqual(pos.shape, [2, 2]);
  assert.deepEqual([...pos.data].slice(0, 2), [0, 1]);
  assert.ok(Number.isNaN(pos.data[2] as number)); // the step without the key
  l.close();
});

test("a neural state row over 256 MiB is refused up front stating the limit (2 GiB was written as one chunk the loader could not read)", async (t) => {
  const ex = await exporter(t);
  ex.startEpisode();
  // zero-filled buffers: pages untouched, so these cost address space, not memory
  const huge = new Uint8Array(2 ** 31);
  throwsCode(() => ex.log({ timestep: 0, neuralState: { v: huge } }), "OUT_OF_RANGE", /2048\.0 MiB\) at one step; a row may hold at most 256 MiB/);
  throwsCode(() => ex.log({ timestep: 0, neuralState: { v: new Float32Array(2 ** 26 + 1) } }), "OUT_OF_RANGE", /at most 256 MiB/);
  throwsCode(() => ex.log({ timestep: 0, behavior: { big: new Float64Array(2 ** 25 + 1) } }), "OUT_OF_RANGE", /behavior "big".*at most 256 MiB/);
  ex.log({ timestep: 0, neuralState: { v: new Float32Array(3) } });
  ex.endEpisode();
  await ex.close(); // closes normally: nothing was left half-done
  const l = await ExperimentLoader.open(ex.outputDir);
  assert.equal(l.getMetadata().status, "closed");
  assert.deepEqual(l.getEpisode(0).getNeuralStates().variables.v.shape, [1, 3]);
  l.close();
});

test("behaviour arrays are chunked at 1 MiB like neural state (a 10^6-element array with chunkSize 10000 threw an untyped RangeError: an 80 GB buffer)", async (t) => {
  const ex = await exporter(t, { chunkSize: 10_000 });
  ex.startEpisode();
  const a = Float64Array.from({ length: 1_000_000 }, (_, i) => i);
  ex.log({ timestep: 0, behavior: { wide: a } });
  ex.log({ timestep: 1, behavior: { wide: a } });
  ex.endEpisode();
  const l = await reopen(ex);
  const wide = l.getEpisode(0).getBehavior().variables.wide;
  assert.deepEqual(wide.shape, [2, 1_000_000]);
  assert.equal(wide.data[1_000_000 + 999_999], 999_999);
  l.close();
});

test("stored values: 0-d arrays and zero-size inner dimensions are refused before anything is written (the checkpoint was left half-made)", async (t) => {
  const ex = await exporter(t);
  throwsCode(() => ex.saveCheckpoint("cp", { a: [1, 2], b: [[]] }), "INVALID_DATA", /only the first dimension may be 0/);
  throwsCode(() => ex.saveCheckpoint("cp", { a: [1, 2], b: { data: [], shape: [2, 0] } }), "INVALID_DATA", /only the first dimension may be 0/);
  throwsCode(() => ex.saveCheckpoint("cp", { a: [1, 2], b: { data: [1], shape: [] } }), "INVALID_DATA", /0-d/);
  ex.startEpisode();
  throwsCode(() => ex.logStaticEpisodeData("s", { data: [], shape: [0, 0] }), "INVALID_DATA", /only the first dimension may be 0/);
  ex.saveCheckpoint("cp", { a: [1, 2], b: { data: [], shape: [0, 2] } });
  ex.endEpisode();
  const l = await reopen(ex);
  assert.deepEqual(l.getCheckpoint("cp").entries.b, { data: new Float64Array(0), shape: [0, 2], dtype: "float64" });
  assert.deepEqual(l.getEpisode(0).listStaticData(), []);
  l.close();
});

test("nested arrays hold booleans or numbers, not both ([false, 300] was stored as int8 44)", async (t) => {
  const ex = await exporter(t);
  throwsCode(() => ex.saveCheckpoint("cp", { flags: [false, 300] }), "INVALID_DATA", /flags\[1\] is number 300, expected a boolean/);
  throwsCode(() => ex.saveCheckpoint("cp", { xs: [[1, 2], [true, 3]] }), "INVALID_DATA", /xs\[1\]\[0\] is boolean true, expected a number/);
  throwsCode(() => ex.saveNetworkStructure({ neurons: { exc: [true, 1] as never } }), "INVALID_DATA", /expected a boolean/);
  ex.saveCheckpoint("cp", { flags: [false, true] });
  const l = await reopen(ex);
  assert.deepEqual(l.getCheckpoint("cp").entries.flags, { data: Int8Array.from([0, 1]), shape: [2], dtype: "int8" });
  l.close();
});

test("neurons and connections: every field is an array with one entry per item (an object field read back as JSON text in a string list)", async (t) => {
  const ex = await exporter(t);
  throwsCode(() => ex.saveNetworkStructure({ neurons: { ids: [0, 1, 2], info: { a: 1 } as never } }), "INVALID_DATA", /neurons\.info must be an array/);
  throwsCode(() => ex.saveNetworkStructure({ neurons: { ids: [0, 1, 2], w: { sourceIds: [0], targetIds: [1], values: [1] } as never } }), "INVALID_DATA", /neurons\.w must be an array/);
  throwsCode(() => ex.saveNetworkStructure({ neurons: { ids: [0, 1, 2], tau: [1, 2] } }), "SHAPE_MISMATCH", /neurons\.tau has 2 entries but neurons\.ids has 3/);
  throwsCode(() => ex.saveNetworkStructure({ neurons: { ids: [0, 1] }, connections: { pre: [0, 1], post: [1] } }), "SHAPE_MISMATCH", /connections\.post has 1 entries/);
  ex.saveNetworkStructure({ neurons: { ids: [0, 1, 2], pos: { data: new Float32Array(6), shape: [3, 2] }, types: ["a", "b", "c"] } });
  const l = await reopen(ex);
  const n = l.getNetworkStructure();
  assert.equal(n.nNeurons, 3);
  assert.deepEqual(Object.keys(n.neurons).sort(), ["ids", "pos", "types"]);
  l.close();
});

test("CSR input with unsorted columns is stored sorted within each row, equal columns in input order (it was stored as given)", async (t) => {
  const ex = await exporter(t);
  const w = { indptr: [0, 3, 3, 5], indices: [2, 0, 2, 1, 0], data: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5]), shape: [3, 3] };
  ex.saveNetworkStructure({ weights: w });
  ex.saveCheckpoint("cp", { w });
  const l = await reopen(ex);
  for (const m of [l.getNetworkStructure().weights!, l.getCheckpoint("cp").entries.w as typeof w]) {
    assert.deepEqual([...m.indptr], [0, 3, 3, 5]);
    assert.deepEqual([...m.indices], [0, 2, 2, 0, 1]);
    assert.deepEqual(m.data, Float32Array.from([0.2, 0.1, 0.3, 0.5, 0.4]));
  }
  l.close();
});

test("weight matrices too large to convert are a typed OUT_OF_RANGE (a COO shape of 10^12 rows threw a RangeError)", async (t) => {
  const ex = await exporter(t);
  throwsCode(() => ex.saveNetworkStructure({ weights: { sourceIds: [0], targetIds: [0], values: [1], shape: [1e12, 2] } }), "OUT_OF_RANGE", /at most 268435455 rows/);
  throwsCode(() => ex.saveNetworkStructure({ weights: { sourceIds: [2 ** 40], targetIds: [0], values: [1] } }), "OUT_OF_RANGE", /rows/);
  throwsCode(() => ex.saveCheckpoint("cp", { w: { indptr: [0], indices: [], data: [], shape: [2 ** 53, 1] } }), "INVALID_DATA", /shape must be/);
  ex.saveNetworkStructure({ weights: { sourceIds: [0], targetIds: [1], values: [1], shape: [2, 2] } });
});

test("loader: int64 state beyond 2^53 reads back exactly as BigInt64Array (every variable threw OUT_OF_RANGE); below 2^53 as numbers", async (t) => {
  const ex = await exporter(t);
  ex.startEpisode();
  ex.log({ timestep: 0, neuralState: { big: BigInt64Array.from([2n ** 53n + 1n, -(2n ** 63n)]), v: new Float32Array([1, 2]) }, behavior: { u: BigUint64Array.from([2n ** 64n - 1n]) } });
  ex.endEpisode();
  ex.startEpisode();
  ex.log({ timestep: 0, neuralState: { big: BigInt64Array.from([1n, -1n]), v: new Float32Array([3, 4]) }, behavior: { u: BigUint64Array.from([5n]) } });
  ex.endEpisode();
  ex.saveCheckpoint("cp", { ids: BigInt64Array.from([2n ** 60n + 1n]) });
  ex.saveNetworkStructure({ neurons: { uid: BigUint64Array.from([2n ** 63n, 1n]) } });
  const l = await reopen(ex);
  const s0 = l.getEpisode(0).getNeuralStates().variables;
  assert.deepEqual(s0.big, { data: BigInt64Array.from([2n ** 53n + 1n, -(2n ** 63n)]), shape: [1, 2], dtype: "int64" });
  assert.deepEqual(s0.v.data, new Float32Array([1, 2]));
  assert.deepEqual(l.getEpisode(0).getBehavior().variables.u, { data: BigUint64Array.from([2n ** 64n - 1n]), shape: [1, 1], dtype: "uint64" });
  // the next episode's slice is below 2^53: numbers, as before
  assert.deepEqual(l.getEpisode(1).getNeuralStates().variables.big, { data: Float64Array.from([1, -1]), shape: [1, 2], dtype: "float64", storedDtype: "int64" });
  assert.deepEqual((l.getCheckpoint("cp").entries.ids as { data: unknown }).data, BigInt64Array.from([2n ** 60n + 1n]));
  assert.deepEqual((l.getNetworkStructure().neurons.uid as { data: unknown }).data, BigUint64Array.from([2n ** 63n, 1n]));
  l.close();
});

test("loader: the caller's names \"__proto__\" and (behaviour) \"timesteps\" read back (they were missing)", async (t) => {
  const ex = await exporter(t);
  const ns = JSON.parse('{"__proto__": [1, 2]}');
  const beh = JSON.parse('{"__proto__": 1, "timesteps": 2}');
  ex.saveNetworkStructure({ neurons: JSON.parse('{"__proto__": [0, 1]}') });
  ex.startEpisode();
  ex.log({ timestep: 0, neuralState: ns, behavior: beh });
  ex.logStaticEpisodeData("__proto__", [1]);
  ex.endEpisode();
  ex.saveCheckpoint("cp", JSON.parse('{"__proto__": [3]}'));
  const l = await reopen(ex);
  const e = l.getEpisode(0);
  assert.deepEqual(Object.keys(e.getNeuralStates().variables), ["__proto__"]);
  assert.deepEqual(Object.keys(e.getNeuralStates({ from: 0, to: 1, neurons: [1] }).variables), ["__proto__"]);
  assert.deepEqual(Object.keys(e.getBehavior({ from: 0, to: 1 }).variables).sort(), ["__proto__", "timesteps"]);
  assert.deepEqual(Object.keys(e.getBehavior().variables).sort(), ["__proto__", "timesteps"]);
  assert.deepEqual([...e.getBehavior().variables.timesteps.data], [2]);
  assert.deepEqual(Object.keys(l.getNetworkStructure().neurons), ["__proto__"]);
  assert.deepEqual(Object.keys(l.getCheckpoint("cp").entries), ["__proto__"]);
  assert.deepEqual(e.listStaticData(), ["__proto__"]);
  l.close();
});

test("create: an invalid startTime or null options are INVALID_OPTION and leave nothing on disk (a RangeError left a directory)", async (t) => {
  const dir = tempDir(t);
  for (const o of [{ startTime: new Date("x") }, { startTime: "2024-01-01" as never }]) {
    await assert.rejects(DataExporter.create("x", { outputBaseDir: dir, provenance: false, ...o }), (e: unknown) => isSnnExportError(e, "INVALID_OPTION") && /startTime/.test((e as Error).message));
  }
  await assert.rejects(DataExporter.create("x", null as never), (e: unknown) => isSnnExportError(e, "INVALID_OPTION"));
  assert.deepEqual(readdirSync(dir), []);
});

test("misspelt keys of every call (log, logWeightChange, saveNetworkStructure, endEpisode, logEvent) are refused (a `weight:` typo saved no weights)", async (t) => {
  const ex = await exporter(t);
  throwsCode(() => ex.saveNetworkStructure({ neurons: { ids: [0, 1] }, weight: [[0, 1], [1, 0]] } as never), "INVALID_DATA", /saveNetworkStructure\(\): unknown key "weight"; the keys are neurons, connections, weights/);
  ex.startEpisode();
  throwsCode(() => ex.logEvent({ timestep: 0, type: "x", dat: 1 } as never), "INVALID_DATA", /logEvent\(\): unknown key "dat"/);
  throwsCode(() => ex.endEpisode({ succes: true } as never), "INVALID_DATA", /endEpisode\(\): unknown key "succes"/);
  // the per-step calls too: a refused step or change writes nothing, the corrected call is taken
  throwsCode(() => ex.log({ timestep: 0, neural_state: { v: [1, 2] } } as never), "INVALID_DATA", /log\(\): unknown key "neural_state"; the keys are timestep, neuralState, spikes, behavior, reward/);
  throwsCode(() => ex.log({ timestep: 0, behaviour: { x: 1 } } as never), "INVALID_DATA", /log\(\): unknown key "behaviour"/);
  throwsCode(() => ex.log({ timestep: 0, rewards: 1 } as never), "INVALID_DATA", /log\(\): unknown key "rewards"/);
  throwsCode(() => ex.logWeightChange({ timestep: 0, synapseId: 0, oldWeight: 0, newWeight: 1, weight: 1 } as never), "INVALID_DATA", /logWeightChange\(\): unknown key "weight"/);
  throwsCode(() => ex.logWeightChange({ timestep: 0, synapse: 0, oldWeight: 0, newWeight: 1 } as never), "INVALID_DATA", /logWeightChange\(\): unknown key "synapse"/);
  ex.log({ timestep: 0, neuralState: { v: [1, 2] }, reward: 1 });
  ex.logWeightChange({ timestep: 0, synapseId: 0, oldWeight: 0, newWeight: 1 });
  ex.saveNetworkStructure({ neurons: { ids: [0, 1] }, weights: [[0, 1], [1, 0]] });
  ex.endEpisode({ success: true });
  const l = await reopen(ex);
  assert.equal(l.getNetworkStructure().weights?.data.length, 2);
  assert.equal(l.episodes().success[0], 1);
  const ep = l.getEpisode(0);
  assert.deepEqual([...ep.getTimesteps()], [0]);
  assert.deepEqual([...ep.getRewards().values], [1]);
  assert.equal(ep.getWeightChanges().timesteps.length, 1);
  l.close();
});

test("exporters made one after another add one exit listener in all (each added one: MaxListenersExceededWarning after 10)", async (t) => {
  const dir = tempDir(t);
  const before = process.listenerCount("exit");
  for (let i = 0; i < 12; i++) {
    const ex = await DataExporter.create(`seq${i}`, { outputBaseDir: dir, provenance: false });
    await ex.close();
  }
  assert.ok(process.listenerCount("exit") <= before + 1, `${process.listenerCount("exit") - before} exit listeners added`);
});

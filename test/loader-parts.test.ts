/**
 * Loader parts the commands use, checked against their inputs: the step length and neuron facts
 * (src/loader/facts.ts), a collection's filters, groups, config values, runs by name and columns
 * across runs (collection.ts), and whether an unclosed run is still being written (runs.ts
 * openStatus). Runs are written in-process by the exporter from known inputs. Fast: part of the
 * loader's mutation-testing command (stryker.config.mjs) as well as of `npm test`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { test } from "node:test";
import { DataExporter, ExperimentCollection, ExperimentLoader, StandardDataExporter, isSnnExportError } from "#lib/index.js";
import { neuronCount, neuronTypes, timeStep } from "#lib/loader/facts.js";
import { openStatus } from "#lib/loader/runs.js";
import { seriesInTime } from "#lib/loader/window.js";
import { createWriter } from "#lib/h5/index.js";
import { ChunkCache } from "#lib/loader/cache.js";
import { readNumeric, readNumericRows } from "#lib/loader/read.js";
import { H5Reader } from "#lib/h5/reader.js";
import { tempDir } from "./helpers.js";

const START = new Date(Date.UTC(2026, 1, 3, 4, 5, 6));

test("time step: dt_ms, dt_s, dt_sec, dt at the top level first, then one level down; 1 ms assumed otherwise", () => {
  assert.deepEqual(timeStep({ dt_ms: 0.5 }), { ms: 0.5, source: "config.dt_ms" });
  assert.deepEqual(timeStep({ dt_s: 0.002 }), { ms: 2, source: "config.dt_s" });
  assert.deepEqual(timeStep({ dt_sec: 0.25 }), { ms: 250, source: "config.dt_sec" });
  assert.deepEqual(timeStep({ dt: 0.1 }), { ms: 0.1, source: "config.dt" });
  assert.deepEqual(timeStep({ dt: 3, dt_ms: 2 }), { ms: 2, source: "config.dt_ms" }, "dt_ms before dt");
  assert.deepEqual(timeStep({ dt_sec: 1, dt_s: 2 }), { ms: 2000, source: "config.dt_s" }, "dt_s before dt_sec");
  assert.deepEqual(timeStep({ network: { dt: 0.2 }, sim: { dt_ms: 9 } }), { ms: 0.2, source: "config.network.dt" }, "first group that has one");
  assert.deepEqual(timeStep({ network: { dt: 0.2 }, dt_s: 1 }), { ms: 1000, source: "config.dt_s" }, "top level first");
  assert.deepEqual(timeStep({ a: [{ dt: 5 }], b: null, c: { d: { dt: 7 } }, e: { dt: 0.3 } }), { ms: 0.3, source: "config.e.dt" }, "arrays, null and two levels down are not searched");
  for (const bad of [0, -1, Infinity, NaN, "1", null]) {
    assert.deepEqual(timeStep({ dt: bad, net: { dt_ms: bad } }), { ms: 1, source: "assumed" }, String(bad));
  }
  assert.deepEqual(timeStep({}), { ms: 1, source: "assumed" });
});

async function experiment(dir: string, name: string, fill: (ex: DataExporter) => void): Promise<ExperimentLoader> {
  const ex = await DataExporter.create(name, { outputBaseDir: dir, provenance: false, startTime: START });
  fill(ex);
  await ex.close();
  return ExperimentLoader.open(ex.filePath);
}

test("neuron count and types: from the network structure, else config.n_neurons; null when neither says", async (t) => {
  const dir = tempDir(t);
  const cases: [string, (ex: DataExporter) => void, number | null, string[] | null][] = [
    ["network", (ex) => ex.saveNetworkStructure({ neurons: { types: ["exc", "exc", "inh"] } }), 3, ["exc", "exc", "inh"]],
    ["both", (ex) => (ex.saveConfig({ n_neurons: 10 }), ex.saveNetworkStructure({ neurons: { id: [0, 1] } })), 2, null],
    ["config", (ex) => ex.saveConfig({ n_neurons: 7 }), 7, null],
    ["config-float", (ex) => ex.saveConfig({ n_neurons: 7.5 }), null, null],
    ["config-zero", (ex) => ex.saveConfig({ n_neurons: 0 }), null, null],
    ["config-text", (ex) => ex.saveConfig({ n_neurons: "7" }), null, null],
    ["nothing", () => {}, null, null],
    ["numeric-types", (ex) => ex.saveNetworkStructure({ neurons: { types: [1, 2] } }), 2, null],
  ];
  for (const [name, fill, n, types] of cases) {
    const l = await experiment(dir, name, fill);
    try {
      assert.equal(neuronCount(l), n, name);
      assert.deepEqual(neuronTypes(l), types, name);
    } finally {
      l.close();
    }
  }
});

/** A closed run with `config`, one episode a reward list. */
async function run(base: string, name: string, config: Record<string, unknown>, episodes: number[][]): Promise<string> {
  const ex = await DataExporter.create(name, { outputBaseDir: base, provenance: false, flushIntervalMs: 0, startTime: START });
  ex.saveConfig(config);
  let t = 0;
  for (const rewards of episodes) {
    ex.startEpisode();
    for (const r of rewards) ex.log({ timestep: t++, reward: r });
    ex.endEpisode({ success: rewards.length > 1 });
  }
  await ex.close();
  return ex.filePath;
}

test("collection: config values, filters (equal, one of, predicate), groups, runs by position or name, columns across runs", async (t) => {
  const dir = tempDir(t);
  await run(dir, "a", { lr: 0.1, seed: 1, net: { size: 10 } }, [[1, 2], [3]]);
  await run(dir, "b", { lr: 0.2, seed: 1, net: { size: 10 } }, [[5]]);
  await run(dir, "c", { lr: 0.1, seed: 2, net: { size: 20 } }, [[0.5, 0.5, 0.5]]);
  await run(dir, "d", { seed: 3 }, []);
  const all = await ExperimentCollection.open([dir]);
  assert.equal(all.size, 4);
  const names = (c: ExperimentCollection) => c.runs().map((r) => r.name.split("_")[0]);
  assert.deepEqual(names(all), ["a", "b", "c", "d"]);
  assert.deepEqual(all.configValues("lr"), [0.1, 0.2], "first-seen order, distinct, runs without it left out");
  assert.deepEqual(all.configValues("net"), [{ size: 10 }, { size: 20 }], "objects compared by value");
  assert.deepEqual(all.configValues("none"), []);

  assert.deepEqual(names(all.filter({ lr: 0.1 })), ["a", "c"]);
  assert.deepEqual(names(all.filter({ lr: [0.2, 0.1] })), ["a", "b", "c"], "one of");
  assert.deepEqual(names(all.filter({ lr: 0.1, seed: 2 })), ["c"], "every key");
  assert.deepEqual(names(all.filter({ net: { size: 10 } })), ["a", "b"], "an object value");
  assert.deepEqual(names(all.filter({ lr: [] })), [], "one of none");
  assert.deepEqual(names(all.filter({ missing: undefined })), [], "a key no run has");
  assert.deepEqual(names(all.filter({})), ["a", "b", "c", "d"]);
  assert.deepEqual(names(all.filter((config, r) => r.episodes === 1 || config.seed === 3)), ["b", "c", "d"], "a predicate");
  const picked = all.filter({ seed: [2, 3] });
  assert.deepEqual(picked.runs().map((r) => r.index), [0, 1], "indexes renumbered");
  assert.equal(picked.source, null);

  const groups = all.groupBy("lr");
  assert.deepEqual([...groups.keys()], ["0.1", "0.2", "undefined"]);
  assert.deepEqual(groups.get("0.1")!.map((r) => r.name.split("_")[0]), ["a", "c"]);
  assert.deepEqual(groups.get("undefined")!.map((r) => r.name.split("_")[0]), ["d"]);
  assert.deepEqual([...all.groupBy("net").keys()], ['{"size":10}', '{"size":20}', "undefined"]);

  const b = await all.openRun(1);
  try {
    assert.deepEqual(b.getConfig(), { lr: 0.2, seed: 1, net: { size: 10 } });
  } finally {
    b.close();
  }
  const cName = all.runs()[2].name;
  const c = await all.openRun(cName);
  try {
    assert.equal(c.getConfig().seed, 2);
  } finally {
    c.close();
  }
  await assert.rejects(all.openRun(4), (e: unknown) => isSnnExportError(e, "NOT_FOUND") && (e as Error).message === "no run 4 in this collection of 4 runs");
  await assert.rejects(all.openRun("zz"), (e: unknown) => isSnnExportError(e, "NOT_FOUND") && (e as Error).message === 'no run "zz" in this collection of 4 runs');

  const reward = await all.column("total_reward");
  assert.deepEqual(reward.values.map((v) => Array.from(v)), [[3, 3], [5], [1.5], []]);
  assert.deepEqual(reward.runs.map((r) => r.name), all.runs().map((r) => r.name));
  const steps = await all.column("totalTimesteps");
  assert.deepEqual(steps.values.map((v) => Array.from(v)), [[2, 1], [1], [3], []], "by its name in the episode table too");
  const success = await all.column("success");
  assert.deepEqual(success.values.map((v) => Array.from(v)), [[1, 0], [0], [1], []]);
  const ids = await all.column("episode_id");
  assert.deepEqual(ids.values.map((v) => Array.from(v)), [[0, 1], [0], [0], []]);
  for (const bad of ["status", "reward", "ids_x"]) {
    await assert.rejects(all.column(bad as never), (e: unknown) => isSnnExportError(e, "INVALID_DATA") && (e as Error).message === `unknown episode column ${JSON.stringify(bad)}; columns: episode_id, success, total_timesteps, total_spikes, total_reward, first_timestep, last_timestep, neural_sampling_rate, start_time, end_time`);
  }
});

test("open runs: the writer's process decides on this host (alive: open, gone: interrupted); elsewhere the file's age", () => {
  const here = hostname();
  assert.equal(openStatus({ hostname: here, pid: process.pid }, 0), "open", "this process is alive, however old the file");
  const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  const deadPid = Number(gone.stdout);
  assert.ok(deadPid > 0);
  assert.equal(openStatus({ hostname: here, pid: deadPid }, Date.now()), "interrupted", "a finished process, even for a fresh file");
  const now = 1_000_000_000;
  for (const runtime of [null, { hostname: "elsewhere", pid: process.pid }, { hostname: here, pid: 0 }, { hostname: here, pid: "1" }, { hostname: here }]) {
    const what = JSON.stringify(runtime);
    assert.equal(openStatus(runtime, now - 120_000, { now }), "open", `${what}: changed 120 s ago`);
    assert.equal(openStatus(runtime, now - 120_001, { now }), "interrupted", `${what}: changed just over 120 s ago`);
    assert.equal(openStatus(runtime, now - 10_000, { now, staleAfter: 10 }), "open", what);
    assert.equal(openStatus(runtime, now - 10_001, { now, staleAfter: 10 }), "interrupted", what);
  }
  const recent = openStatus(null, Date.now() - 1000);
  assert.equal(recent, "open", "now defaults to the clock");
});

test("opening a file that is not an experiment: a sweep file, another HDF5 file, a format version this reader does not read", async (t) => {
  const dir = tempDir(t);
  const make = async (name: string, attrs: Record<string, string>) => {
    const file = join(dir, `${name}.h5`);
    const w = await createWriter(file, "ts");
    for (const [k, v] of Object.entries(attrs)) w.setAttr("/", k, v);
    w.createGroup("/g");
    w.close();
    return file;
  };
  const refused = async (file: string, code: string, message: string) =>
    assert.rejects(ExperimentLoader.open(file), (e: unknown) => {
      assert.ok(isSnnExportError(e, code as never), String(e));
      assert.equal((e as Error).message, message);
      return true;
    });
  const sweep = await make("sweep", { format_name: "snn-export-sweep", format_version: "1.0" });
  await refused(sweep, "NOT_SNN_EXPORT", `${sweep} is a sweep file of snn-export collect, not one experiment: read it with ExperimentCollection.open() or 'snn-export compare', its runs through /files/<run>`);
  const other = await make("other", { format_name: "nwb" });
  await refused(other, "NOT_SNN_EXPORT", `${other} is an HDF5 file but not an snn-export experiment: its root group has format_name "nwb"`);
  const unnamed = await make("unnamed", { title: "x" });
  await refused(unnamed, "NOT_SNN_EXPORT", `${unnamed} is an HDF5 file but not an snn-export experiment: its root group has no format_name attribute`);
  const bare = await make("bare", {});
  await refused(bare, "NOT_SNN_EXPORT", `${bare} is an HDF5 file whose root group has no attributes yet (no format_name): if an exporter is creating it right now, open it again in a moment or with { live: true }; otherwise it is not an snn-export experiment`);
  for (const version of ["3.0", "0.9", "x2.0", "2.0.", ""]) {
    const file = await make(`v-${version}`, { format_name: "snn-export", format_version: version });
    await refused(file, "UNSUPPORTED_VERSION", `${file} has format_version ${JSON.stringify(version)}; this version of snn-export reads format 1.x and 2.x`);
  }
  const none = await make("v-none", { format_name: "snn-export" });
  await refused(none, "UNSUPPORTED_VERSION", `${none} has format_version null; this version of snn-export reads format 1.x and 2.x`);
});

test("a series cut to [from, to) by timestep: every variable's rows, whatever its row shape", () => {
  const series = {
    timesteps: Float64Array.from([0, 2, 4, 6, 8]),
    variables: {
      v: { data: Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), shape: [5, 2], dtype: "float32" },
      w: { data: Float64Array.from([0, 1, 2, 3, 4]), shape: [5], dtype: "float64" },
    },
  };
  const cut = (from: number, to: number) => {
    const s = seriesInTime(series as never, from, to) as unknown as typeof series;
    return { t: Array.from(s.timesteps), v: Array.from(s.variables.v.data), vShape: s.variables.v.shape, w: Array.from(s.variables.w.data), wShape: s.variables.w.shape };
  };
  assert.deepEqual(cut(2, 6), { t: [2, 4], v: [2, 3, 4, 5], vShape: [2, 2], w: [1, 2], wShape: [2] });
  assert.deepEqual(cut(1, 7), { t: [2, 4, 6], v: [2, 3, 4, 5, 6, 7], vShape: [3, 2], w: [1, 2, 3], wShape: [3] });
  assert.deepEqual(cut(-5, 100), { t: [0, 2, 4, 6, 8], v: Array.from(series.variables.v.data), vShape: [5, 2], w: [0, 1, 2, 3, 4], wShape: [5] });
  assert.deepEqual(cut(5, 5), { t: [], v: [], vShape: [0, 2], w: [], wShape: [0] });
  assert.deepEqual(cut(8, 9), { t: [8], v: [8, 9], vShape: [1, 2], w: [4], wShape: [1] });
});

test("weights (CSR groups): parts checked against each other, the shape from the attribute or the indices, each damage named", async (t) => {
  const dir = tempDir(t);
  const W = "/network_structure/initial_weights";
  const file = async (name: string, parts: { indptr?: number[]; indices?: number[]; data?: number[]; shape?: unknown; format?: string }) => {
    const f = join(dir, `${name}.h5`);
    const w = await createWriter(f, "ts");
    w.setAttr("/", "format_name", "snn-export");
    w.setAttr("/", "format_version", "2.0");
    w.createGroup("/network_structure");
    w.createGroup(W);
    const none = { kind: "none", level: 0 } as const;
    if (parts.indptr) w.writeArray(`${W}/indptr`, BigInt64Array.from(parts.indptr.map(BigInt)), [parts.indptr.length], none);
    if (parts.indices) w.writeArray(`${W}/indices`, Int32Array.from(parts.indices), [parts.indices.length], none);
    if (parts.data) w.writeArray(`${W}/data`, Float64Array.from(parts.data), [parts.data.length], none);
    if (parts.shape !== undefined) w.setAttr(W, "shape", parts.shape as never);
    if (parts.format) w.setAttr(W, "source_format", parts.format);
    w.close();
    return f;
  };
  const weights = async (f: string) => {
    const l = await ExperimentLoader.open(f);
    try {
      const m = l.getNetworkStructure().weights!;
      return { indptr: Array.from(m.indptr), indices: Array.from(m.indices as Int32Array), data: Array.from(m.data as Float64Array), shape: m.shape, sourceFormat: m.sourceFormat };
    } finally {
      l.close();
    }
  };
  const good = { indptr: [0, 1, 3], indices: [2, 0, 1], data: [0.5, -1, 2] };
  assert.deepEqual(await weights(await file("good", { ...good, shape: new BigInt64Array([2n, 4n]), format: "coo" })), { ...good, shape: [2, 4], sourceFormat: "coo" });
  assert.deepEqual(await weights(await file("no-shape", good)), { ...good, shape: [2, 3], sourceFormat: "" }, "rows from indptr, columns from the largest index");
  assert.deepEqual(await weights(await file("empty", { indptr: [0], indices: [], data: [] })), { indptr: [0], indices: [], data: [], shape: [0, 0], sourceFormat: "" });
  const refused = async (name: string, parts: Parameters<typeof file>[1], message: string) => {
    const f = await file(name, parts);
    await assert.rejects(weights(f), (e: unknown) => {
      assert.ok(isSnnExportError(e, "INVALID_DATA"), String(e));
      assert.equal((e as Error).message, message);
      return true;
    }, name);
  };
  for (const part of ["indptr", "indices", "data"] as const) {
    await refused(`no-${part}`, { ...good, [part]: undefined }, `CSR group ${W} has no dataset ${part}`);
  }
  await refused("nnz", { ...good, indptr: [0, 1, 2] }, `CSR group ${W} is inconsistent: shape [2,3], 3 indptr entries ending at 2, 3 indices, 3 values`);
  await refused("start", { ...good, indptr: [1, 2, 3] }, `CSR group ${W} is inconsistent: shape [2,3], 3 indptr entries ending at 3, 3 indices, 3 values`);
  await refused("values", { ...good, data: [1, 2] }, `CSR group ${W} is inconsistent: shape [2,3], 3 indptr entries ending at 3, 3 indices, 2 values`);
  await refused("rows", { ...good, shape: new BigInt64Array([3n, 3n]) }, `CSR group ${W} is inconsistent: shape [3,3], 3 indptr entries ending at 3, 3 indices, 3 values`);
  await refused("shape-attr", { ...good, shape: "2x3" }, `CSR group ${W}: attribute shape is "2x3", expected [rows, cols]`);
  await refused("shape-3", { ...good, shape: new BigInt64Array([2n, 3n, 1n]) }, `CSR group ${W}: attribute shape is [2,3,1], expected [rows, cols]`);
});

test("episode table of 1.x files: every column from the episode groups' attributes (the golden files' h5py-checked views)", async () => {
  const dir = fileURLToPath(new URL("../../test/fixtures/golden/v1.0/", import.meta.url));
  for (const name of ["standard", "optimized", "interrupted", "empty"]) {
    const view = JSON.parse(readFileSync(join(dir, `${name}.expected.json`), "utf8")).view as { episodes: { id: number; attrs: Record<string, unknown> }[] };
    const l = await ExperimentLoader.open(join(dir, `${name}.h5`));
    try {
      const t = l.episodes();
      const num = (v: unknown) => (typeof v === "number" ? v : NaN);
      const iso = (v: unknown) => (typeof v === "string" ? Date.parse(v) / 1000 : NaN);
      const eps = view.episodes;
      assert.deepEqual(Array.from(t.ids), eps.map((e) => e.id), name);
      assert.deepEqual(t.status, eps.map((e) => (typeof e.attrs.status === "string" ? e.attrs.status : "")), name);
      assert.deepEqual(Array.from(t.success), eps.map((e) => (typeof e.attrs.success === "boolean" ? (e.attrs.success ? 1 : 0) : -1)), name);
      const cols: [keyof typeof t, string][] = [["totalTimesteps", "total_timesteps"], ["totalSpikes", "total_spikes"], ["totalReward", "total_reward"], ["firstTimestep", "first_timestep"], ["lastTimestep", "last_timestep"], ["neuralSamplingRate", "neural_sampling_rate"]];
      for (const [col, attr] of cols) assert.deepEqual(Array.from(t[col] as Float64Array), eps.map((e) => num(e.attrs[attr])), `${name} ${col}`);
      assert.deepEqual(Array.from(t.startTime), eps.map((e) => iso(e.attrs.start_time)), `${name} startTime`);
      assert.deepEqual(Array.from(t.endTime), eps.map((e) => iso(e.attrs.end_time)), `${name} endTime`);
    } finally {
      l.close();
    }
  }
});

test("chunk cache: slices over one or two chunks from whole cached chunks, longer or larger ones read directly, least recently used out first", () => {
  const ROWS = 95;
  const CH = 10;
  const value = (r: number, c: number) => r * 3 + c;
  const reads: [string, number, number][] = [];
  const file = {
    info: (p: string) => (p === "/s" ? { shape: [], dtype: "float64" as const, chunks: null, filters: [] } : p === "/u" ? { shape: [ROWS, 2], dtype: "float64" as const, chunks: null, filters: [] } : { shape: [ROWS, 2], dtype: "float64" as const, chunks: [CH, 2], filters: ["deflate"] }),
    read: (p: string, s: number, e: number) => {
      reads.push([p, s, e]);
      if (p === "/s") return { data: Float64Array.from([42]), shape: [], dtype: "float64" as const };
      const a = Math.max(0, Math.min(s, ROWS));
      const b = Math.max(a, Math.min(e, ROWS));
      return { data: Float64Array.from({ length: (b - a) * 2 }, (_, i) => value(a + Math.floor(i / 2), i % 2)), shape: [b - a, 2], dtype: "float64" as const };
    },
  };
  const want = (s: number, e: number) => Array.from({ length: (e - s) * 2 }, (_, i) => value(s + Math.floor(i / 2), i % 2));
  const cache = new ChunkCache(file, 4 * CH * 2 * 8); // four 160-byte chunks; a chunk of at most a quarter of it is kept
  const rows = (p: string, s: number, e: number) => {
    const r = cache.rows(p, s, e);
    return { data: Array.from(r.data as Float64Array), shape: r.shape };
  };
  assert.deepEqual(rows("/d", 3, 7), { data: want(3, 7), shape: [4, 2] });
  assert.deepEqual(reads, [["/d", 0, 10]], "the whole chunk is read");
  assert.deepEqual(rows("/d", 5, 15), { data: want(5, 15), shape: [10, 2] }, "two chunks");
  assert.deepEqual(reads.slice(1), [["/d", 10, 20]], "only the chunk not yet cached");
  assert.equal(cache.chunksRead, 2);
  assert.deepEqual(rows("/d", 0, 20), { data: want(0, 20), shape: [20, 2] });
  assert.equal(cache.chunksRead, 2, "both cached");
  assert.deepEqual(rows("/d", 85, 200), { data: want(85, 95), shape: [10, 2] }, "the last, short chunk, clamped");
  assert.deepEqual(reads.slice(-2), [["/d", 80, 90], ["/d", 90, 95]]);
  assert.deepEqual(rows("/d", 5, 35), { data: want(5, 35), shape: [30, 2] }, "over three chunks: read directly");
  assert.deepEqual(reads.at(-1), ["/d", 5, 35]);
  assert.equal(cache.chunksRead, 4 + 4, "a direct read counts the chunks it spans");
  assert.deepEqual(rows("/d", 5, 25), { data: want(5, 25), shape: [20, 2] }, "over exactly three chunks: read directly too");
  assert.deepEqual(reads.at(-1), ["/d", 5, 25]);
  assert.equal(cache.chunksRead, 8 + 3);
  assert.deepEqual(rows("/d", 7, 7), { data: [], shape: [0, 2] });
  assert.deepEqual(rows("/u", 2, 4), { data: want(2, 4), shape: [2, 2] }, "not chunked: read directly");
  assert.deepEqual(reads.at(-1), ["/u", 2, 4]);
  assert.deepEqual(rows("/s", 0, 1), { data: [42], shape: [] }, "a scalar");
  // least recently used out: chunks 0, 1, 8, 9 cached (560 of 640 bytes); using 0, then reading 2
  // and 3 pushes out 1, then 8
  const before = cache.chunksRead;
  rows("/d", 0, 1); // 0 used
  rows("/d", 25, 26);
  rows("/d", 35, 36);
  const n = reads.length;
  rows("/d", 2, 3); // chunk 0: still there
  assert.equal(reads.length, n, "chunk 0 kept");
  rows("/d", 12, 13); // chunk 1: pushed out
  assert.deepEqual(reads.at(-1), ["/d", 10, 20]);
  assert.equal(cache.chunksRead, before + 3);
  // exactly full: four 160-byte chunks in 640 bytes all stay
  const full = new ChunkCache(file, 640);
  for (const k of [0, 1, 2, 3, 0, 1, 2, 3]) full.rows("/d", k * 10, k * 10 + 1);
  assert.equal(full.chunksRead, 4);
  const tiny = new ChunkCache(file, 4 * 160 - 1); // a 160-byte chunk is over a quarter of it: never kept
  tiny.rows("/d", 0, 1);
  tiny.rows("/d", 0, 1);
  assert.equal(tiny.chunksRead, 2);
});

test("spike blocks of 1.x files: the recorded spikes handed out a few steps at a time, inside a time window too", async () => {
  const dir = fileURLToPath(new URL("../../test/fixtures/golden/v1.0/", import.meta.url));
  for (const name of ["standard", "optimized"]) {
    const view = JSON.parse(readFileSync(join(dir, `${name}.expected.json`), "utf8")).view as { episodes: { timesteps: { values: number[] }; spikes: { timesteps: { values: number[] }; neuronIds: { values: number[] } } }[] };
    const l = await ExperimentLoader.open(join(dir, `${name}.h5`));
    try {
      for (const [e, ep] of view.episodes.entries()) {
        const axis = ep.timesteps.values;
        const ts = ep.spikes.timesteps.values;
        const ids = ep.spikes.neuronIds.values;
        for (const [steps, from, to] of [[7, -Infinity, Infinity], [1, -Infinity, Infinity], [1000, -Infinity, Infinity], [3, 10, 40]] as const) {
          const blocks: { t: number[]; n: number[] }[] = [];
          for await (const b of l.getEpisode(l.listEpisodes()[e]).spikeBlocks({ steps, ...(Number.isFinite(from) ? { from, to } : {}) })) blocks.push({ t: Array.from(b.timesteps), n: Array.from(b.neuronIds) });
          const inWindow = axis.filter((t) => t >= from && t < to);
          const want: { t: number[]; n: number[] }[] = [];
          for (let i = 0; i < inWindow.length; i += steps) {
            const lo = inWindow[i];
            const hi = i + steps < inWindow.length ? inWindow[i + steps] : Infinity;
            const pick = ts.map((t, k) => [t, ids[k]] as const).filter(([t]) => t >= lo && t < hi && t >= from && t < to);
            want.push({ t: pick.map(([t]) => t), n: pick.map(([, n]) => n) });
          }
          assert.deepEqual(blocks, want, `${name} episode ${e}, ${steps} steps, [${from}, ${to})`);
        }
      }
    } finally {
      l.close();
    }
  }
});

test("rows read in slices of at most maxSliceBytes, 64-bit integers exact below 2^53 in magnitude and refused from there", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "slices.h5");
  const w = await createWriter(file, "ts");
  const none = { kind: "none", level: 0 } as const;
  w.writeArray("/f", Float64Array.from({ length: 40 }, (_, i) => i * 1.5), [20, 2], none);
  const edge = [0n, 1n, -1n, 2n ** 53n - 1n, -(2n ** 53n - 1n), 12345678901n, -(2n ** 52n)];
  w.writeArray("/i", BigInt64Array.from(edge), [edge.length], none);
  w.writeArray("/big", BigInt64Array.from([1n, 2n ** 53n]), [2], none);
  w.writeArray("/small", BigInt64Array.from([-(2n ** 53n)]), [1], none);
  w.writeArray("/u", BigUint64Array.from([5n, 2n ** 53n]), [2], none);
  w.writeArray("/umax", BigUint64Array.from([2n ** 64n - 1n]), [1], none);
  w.writeArray("/uok", BigUint64Array.from([2n ** 53n - 1n, 0n]), [2], none);
  w.close();
  const r = await H5Reader.open(file, { engine: "ts" });
  try {
    for (const maxSliceBytes of [1, 16, 17, 48, 1 << 20]) {
      const all = readNumeric(r, "/f", { maxSliceBytes });
      assert.deepEqual(all.shape, [20, 2]);
      assert.deepEqual(Array.from(all.data as Float64Array), Array.from({ length: 40 }, (_, i) => i * 1.5), `slices of ${maxSliceBytes} bytes`);
      const part = readNumericRows(r, "/f", 3, 11, { maxSliceBytes });
      assert.deepEqual(part.shape, [8, 2]);
      assert.deepEqual(Array.from(part.data as Float64Array), Array.from({ length: 16 }, (_, i) => (i + 6) * 1.5));
      const ints = readNumeric(r, "/i", { maxSliceBytes });
      assert.deepEqual(Array.from(ints.data as Float64Array), edge.map(Number), `int64 as numbers, slices of ${maxSliceBytes} bytes`);
      assert.equal(ints.dtype, "float64");
    }
    assert.deepEqual(readNumericRows(r, "/f", -5, 2).shape, [2, 2], "clamped at the start");
    assert.deepEqual(readNumericRows(r, "/f", 18, 99).shape, [2, 2], "clamped at the end");
    assert.deepEqual(readNumericRows(r, "/f", 9, 4).shape, [0, 2], "an empty range");
    assert.deepEqual(Array.from(readNumeric(r, "/uok").data as Float64Array), [2 ** 53 - 1, 0]);
    for (const [path, shownValue] of [["/big", "9007199254740992"], ["/small", "-9007199254740992"], ["/u", "9007199254740992"], ["/umax", "18446744073709551615"]] as const) {
      assert.throws(() => readNumeric(r, path), (e: unknown) => isSnnExportError(e, "OUT_OF_RANGE") && (e as Error).message.includes(path) && (e as Error).message.includes(shownValue) || assert.fail(String(e)));
    }
  } finally {
    r.close();
  }
});

test("spikes of episodes past the first id_offsets entry (chunkSize 4): whole, in time windows and in blocks, as logged", async (t) => {
  const dir = tempDir(t);
  for (const layout of ["optimized", "standard"] as const) {
    const make = layout === "standard" ? StandardDataExporter.create.bind(StandardDataExporter) : DataExporter.create.bind(DataExporter);
    const ex = await make(`ids-${layout}`, { outputBaseDir: dir, provenance: false, chunkSize: 4, flushIntervalMs: 0 });
    if (layout === "standard") ex.saveNetworkStructure({ neurons: { id: Array.from({ length: 9 }, (_, i) => i) } });
    const logged: [number, number][][] = [];
    let t0 = 0;
    for (let e = 0; e < 4; e++) {
      ex.startEpisode();
      const spikes: [number, number][] = [];
      for (let s = 0; s < 7 + e * 3; s++) {
        const ids = [(s + e) % 9, (s * 2 + 1) % 9].filter((v, i, a) => a.indexOf(v) === i && (s + e) % 4 !== 0).sort((a, b) => a - b);
        ex.log({ timestep: t0 + s * 2, spikes: ids });
        for (const id of ids) spikes.push([t0 + s * 2, id]);
      }
      t0 += 1000;
      ex.endEpisode();
      logged.push(spikes);
    }
    await ex.close();
    const l = await ExperimentLoader.open(ex.filePath);
    try {
      for (const [e, spikes] of logged.entries()) {
        const ep = l.getEpisode(e);
        const pairs = (s: { timesteps: Float64Array; neuronIds: Uint32Array }) => Array.from(s.timesteps, (t, i) => [t, s.neuronIds[i]]);
        assert.deepEqual(pairs(ep.getSpikes()), spikes, `${layout} episode ${e}`);
        const base = e * 1000;
        for (const [from, to] of [[base + 3, base + 9], [base + 8, base + 30], [base - 5, base + 1], [base + 12, base + 13]]) {
          assert.deepEqual(pairs(ep.getSpikes({ from, to })), spikes.filter(([t]) => t >= from && t < to), `${layout} episode ${e} [${from}, ${to})`);
        }
        const blocks: number[][] = [];
        for await (const b of ep.spikeBlocks({ steps: 3 })) blocks.push(...pairs(b));
        assert.deepEqual(blocks, spikes, `${layout} episode ${e} in blocks`);
      }
    } finally {
      l.close();
    }
  }
});

/**
 * The pure-TypeScript reader against h5wasm (the HDF5 C library) on files written by the exporter:
 * every object of every file gives the same keys, kinds, attributes (values and types), info,
 * rows, row slices and strings through both (a differential test); golden 1.0 files likewise;
 * files outside the profile go to h5wasm; row reads touch O(1) chunks; non-regular files are refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DataExporter, ExperimentLoader, StandardDataExporter, isSnnExportError } from "#lib/index.js";
import { H5Reader } from "#lib/h5/reader.js";
import { TsWriter } from "#lib/h5/ts/writer.js";
import type { AttrValue } from "#lib/h5/types.js";
import { writeExperiment } from "./fixtures.js";
import { rng, tempDir } from "./helpers.js";
import { dumpFile } from "./reader-diff.js";

const GOLDEN = fileURLToPath(new URL("../../test/fixtures/golden/v1.0/", import.meta.url));
const CLI = fileURLToPath(new URL(import.meta.resolve("#cli/cli/main.js")));
const INDEX = fileURLToPath(new URL(import.meta.resolve("#lib/index.js")));

function h5In(dir: string): string {
  for (const e of readdirSync(dir, { recursive: true }) as string[]) if (e.endsWith(".h5")) return join(dir, e);
  throw new Error(`no .h5 file under ${dir}`);
}

/** Both readers give the same answers for every object of `file`. */
async function sameThroughBoth(file: string): Promise<number> {
  const ts = await H5Reader.open(file, { engine: "ts" });
  const wasm = await H5Reader.open(file, { engine: "h5wasm" });
  try {
    assert.equal(ts.engine, "ts");
    const a = dumpFile(ts);
    const b = dumpFile(wasm);
    assert.deepEqual(a.map((d) => d.path), b.map((d) => d.path), `${file}: object lists`);
    for (let i = 0; i < a.length; i++) assert.deepStrictEqual(a[i], b[i], `${file}: ${a[i].path}`);
    return a.length;
  } finally {
    ts.close();
    wasm.close();
  }
}

async function manyShort(dir: string): Promise<string> {
  const rand = rng(5);
  const ex = await DataExporter.create("many", { outputBaseDir: dir, provenance: false, chunkSize: 16, neuralSamplingRate: 2, flushEverySteps: 50 });
  for (let e = 0; e < 300; e++) {
    ex.startEpisode();
    for (let t = 0; t < e % 6; t++) {
      ex.log({ timestep: t, spikes: Uint8Array.from({ length: 8 }, () => (rand() < 0.2 ? 1 : 0)), neuralState: { v: Float32Array.from({ length: 8 }, rand) }, behavior: { x: rand() } });
      if (t === 2) ex.logEvent({ timestep: t, type: e % 2 ? "a" : "bé", data: { e } });
    }
    ex.endEpisode({ success: e % 3 === 0, summary: e % 4 ? { e } : undefined });
  }
  await ex.close();
  return join(ex.outputDir, "experiment_data.h5");
}

/** Every element type, attribute kind and layout the writer layer has, empty strings included. */
async function writerLayer(file: string): Promise<string> {
  const w = await TsWriter.create(file);
  w.createGroup("/g/h");
  const attrs: [string, AttrValue][] = [["s", ""], ["u", "ünï"], ["f", 1.5], ["b", true], ["big", -(2n ** 40n)], ["f32", Float32Array.from([1, NaN, -0])],
    ["i64", BigInt64Array.from([1n, -2n])], ["u64", BigUint64Array.from([2n ** 63n])], ["u8", Uint8Array.from([1])], ["i16", Int16Array.from([-3, 4])]];
  for (const [k, v] of attrs) w.setAttr("/g", k, v);
  w.setAttr("/g/h", "n", 3, "int8");
  w.writeText("/g/empty", "");
  w.writeText("/g/text", "x".repeat(5000));
  w.writeStrings("/g/list", ["", "é", "", "abc"]);
  const arrays = [Int8Array.from([-1, 2]), Uint16Array.from([65535, 1]), Int32Array.from([-5, 6]), Uint32Array.from([2 ** 32 - 1, 0]), BigInt64Array.from([-1n, 2n ** 62n]),
    BigUint64Array.from([2n ** 64n - 1n, 0n]), Float32Array.from([0.5, -1]), Float64Array.from([Math.PI, -Infinity])];
  for (const a of arrays) w.writeArray(`/g/a_${a.constructor.name}`, a, [a.length], { kind: "gzip", level: 4 });
  w.writeArray("/g/m", Float64Array.from({ length: 60 }, (_, i) => i), [20, 3], { kind: "gzip", level: 1 }, 7);
  w.writeArray("/g/raw", Int16Array.from({ length: 30 }, (_, i) => i), [10, 3], { kind: "none", level: 0 }, 4);
  w.createColumn("/g/empty_col", { dtype: "float32", rowShape: [2], chunkRows: 8, compression: { kind: "gzip", level: 4 } });
  w.link("/g/m", "/g/h/m_again");
  w.close();
  return file;
}

/** A writer killed with SIGKILL after a flush, while it goes on logging. */
async function killedWriter(dir: string): Promise<string> {
  const code = `
    import { DataExporter } from ${JSON.stringify(INDEX)};
    const ex = await DataExporter.create("killed", { outputBaseDir: ${JSON.stringify(dir)}, provenance: false, chunkSize: 32 });
    ex.startEpisode();
    let t = 0;
    const step = () => ex.log({ timestep: t++, spikes: Int32Array.from([t % 7, 9]), neuralState: { v: Float64Array.from([t, -t]) }, behavior: { x: t / 3 } });
    for (; t < 1000;) step();
    ex.flush();
    console.log("flushed");
    setInterval(() => { for (let i = 0; i < 50; i++) step(); }, 1);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => { if (d.toString().includes("flushed")) setTimeout(resolve, 30); });
    child.on("exit", (c) => reject(new Error(`writer exited early (${c})`)));
  });
  child.removeAllListeners("exit");
  const gone = new Promise((r) => child.on("exit", r));
  child.kill("SIGKILL");
  await gone;
  return h5In(dir);
}

test("differential: TS reader and h5wasm give identical answers on exporter files", { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const demoDir = join(dir, "demo");
  execFileSync(process.execPath, [CLI, "demo", "--episodes", "2", "--steps", "300", "--out", demoDir, "--json"], { stdio: "ignore" });
  const files: [string, string][] = [
    ["demo", h5In(demoDir)],
    ["writeExperiment", h5In(await writeExperiment(DataExporter, join(dir, "a"), 1))],
    ["uncompressed", h5In(await writeExperiment(DataExporter, join(dir, "b"), 2, { compression: null }))],
    ["standard layout", h5In(await writeExperiment(StandardDataExporter, join(dir, "c"), 3))],
    ["swmr superblock 3", h5In(await writeExperiment(DataExporter, join(dir, "d"), 4, { enableSwmr: true }))],
    ["many short episodes", await manyShort(join(dir, "e"))],
    ["killed writer", await killedWriter(join(dir, "f"))],
    ["writer layer", await writerLayer(join(dir, "w.h5"))],
  ];
  for (const [name, file] of files) t.diagnostic(`${name}: ${await sameThroughBoth(file)} objects identical`);
});

test("golden 1.0 files read identically through both readers, and through the loader", async () => {
  for (const name of ["empty", "interrupted", "optimized", "standard"]) {
    const file = join(GOLDEN, `${name}.h5`);
    await sameThroughBoth(file);
    const ts = await ExperimentLoader.open(file);
    assert.ok(ts.listEpisodes().length >= 0);
    ts.close();
  }
});

test("files outside the profile (h5wasm engine, h5py) are read through h5wasm", async (t) => {
  const dir = tempDir(t);
  const file = h5In(await writeExperiment(DataExporter, join(dir, "w"), 6, { engine: "h5wasm" }));
  const auto = await H5Reader.open(file);
  assert.equal(auto.engine, "h5wasm");
  auto.close();
  // forced through the TS reader: the same answers, or a typed error naming what it does not read
  try {
    await sameThroughBoth(file);
  } catch (err) {
    assert.ok(isSnnExportError(err, "NOT_SNN_EXPORT"), String(err));
    assert.match((err as Error).message, /engine: "h5wasm"/);
  }
  const py = join(dir, "py.h5");
  const r = spawnSync("/usr/bin/python3", ["-c", `import h5py, numpy as np\nwith h5py.File(${JSON.stringify(py)}, "w") as f:\n  f["x"] = np.arange(10)\n  f.attrs["a"] = 1`]);
  if (r.status !== 0) return t.skip("h5py is not available");
  const h = await H5Reader.open(py);
  assert.equal(h.engine, "h5wasm");
  assert.deepEqual(Array.from(h.readRows("/x", 2, 4) as BigInt64Array), [2n, 3n]);
  h.close();
  await assert.rejects(H5Reader.open(py, { engine: "ts" }), (e) => isSnnExportError(e, "NOT_SNN_EXPORT"));
});

test("readRows of 1,000 rows from a long dataset reads O(1) chunks", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("long", { outputBaseDir: dir, provenance: false, chunkSize: 500 });
  ex.startEpisode();
  const rand = rng(9);
  for (let s = 0; s < 200_000; s++) ex.log({ timestep: s, behavior: { x: rand() } });
  ex.endEpisode();
  await ex.close();
  const file = join(ex.outputDir, "experiment_data.h5");
  const r = await H5Reader.open(file);
  const path = r.kind("/behavior/x") === "dataset" ? "/behavior/x" : "/episodes/episode_0000/behavior/x";
  assert.equal(r.info(path).shape[0], 200_000);
  const wasm = await H5Reader.open(file, { engine: "h5wasm" });
  for (const start of [0, 123_456, 199_000, 57_250]) {
    const before = r.chunksRead!;
    const rows = r.readRows(path, start, start + 1000);
    const read = r.chunksRead! - before;
    assert.ok(read >= 1 && read <= Math.ceil(1000 / 500) + 1, `${read} chunks read for 1,000 rows at ${start}`);
    assert.deepStrictEqual(rows, wasm.readRows(path, start, start + 1000));
  }
  const again = r.chunksRead!;
  r.readRows(path, 123_500, 124_000); // cached
  assert.equal(r.chunksRead, again);
  r.close();
  wasm.close();
});

test("a FIFO, a directory or a device is refused before any read, with a typed error", async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, "experiment_data.h5");
  execFileSync("mkfifo", [fifo]);
  assert.ok(statSync(fifo).isFIFO());
  for (const p of [fifo, dir, "/dev/null"]) {
    await assert.rejects(H5Reader.open(p), (e) => isSnnExportError(e, "NOT_HDF5"), p);
  }
  await assert.rejects(ExperimentLoader.open(fifo), (e) => isSnnExportError(e) && /FIFO/.test((e as Error).message));
  await assert.rejects(ExperimentLoader.open(dir), (e) => isSnnExportError(e));
});

test("unshuffle inverts the writer's shuffle for every element size and length", async () => {
  const { unshuffle } = await import("#lib/h5/ts/read-chunks.js");
  const { shuffle } = await import("#lib/h5/ts/shuffle.js");
  for (const size of [1, 2, 3, 4, 8]) {
    for (const n of [0, 1, 4, 7, 16, 1000, 1003]) {
      const src = Uint8Array.from({ length: n * size }, (_, i) => (i * 37 + 11) & 255);
      assert.deepEqual(unshuffle(shuffle(src, size), size), src, `size ${size}, ${n} elements`);
    }
  }
});

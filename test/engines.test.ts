/** The two write engines (pure TypeScript and h5wasm) produce files that load to identical data. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DataExporter, ExperimentLoader, isSnnExportError } from "#lib/index.js";
import { createWriter, H5Reader, type Writer } from "#lib/h5/index.js";
import { engineVersions } from "#lib/h5/wasm/engine.js";
import { assertSameFiles, episodeView, writeExperimentLogged } from "./fixtures.js";
import { PYTHON, skipOrFail, structureCheckerProblem, tempDir } from "./helpers.js";

test("engines ts and h5wasm write files that load identically", async (t) => {
  const dir = tempDir(t);
  const tsRun = await writeExperimentLogged(DataExporter, dir, 11, { engine: "ts" });
  const wasmRun = await writeExperimentLogged(DataExporter, dir, 11, { engine: "h5wasm" });
  const [ts, wasm] = [tsRun.dir, wasmRun.dir];
  await using a = await ExperimentLoader.open(ts);
  await using b = await ExperimentLoader.open(wasm);
  assert.deepEqual(a.getConfig(), b.getConfig());
  assert.deepEqual(a.getNetworkStructure(), b.getNetworkStructure());
  assert.equal(a.episodeCount, 3);
  for (let e = 0; e < 3; e++) assert.deepEqual(episodeView(a.getEpisode(e)), episodeView(b.getEpisode(e)));
  assert.deepEqual(a.getCheckpoint("cp").entries, b.getCheckpoint("cp").entries);
  // the ts engine shuffles before deflate; h5wasm can only deflate (a stream and a column of the episode table)
  const ra = await H5Reader.open(`${ts}/experiment_data.h5`);
  const rb = await H5Reader.open(`${wasm}/experiment_data.h5`);
  for (const path of ["/behavior/x", "/episodes/step_rows"]) {
    assert.deepEqual(ra.info(path).filters, ["shuffle", "deflate"], `ts: ${path}`);
    assert.deepEqual(rb.info(path).filters, ["deflate"], `h5wasm: ${path}`);
  }
  ra.close();
  rb.close();
  assert.ok(statSync(`${ts}/experiment_data.h5`).size > 0);
  // and as h5py reads them (not our loader): the same content, and the inputs that were logged
  assertSameFiles(t, tsRun.file, wasmRun.file, tsRun.episodes);
});

test("an unknown engine is rejected", async (t) => {
  const dir = tempDir(t);
  await assert.rejects(DataExporter.create("x", { outputBaseDir: dir, engine: "fast" as "ts" }), /engine must be "ts" or "h5wasm"/);
});

test("the engine versions recorded in provenance are those installed", () => {
  const installed = JSON.parse(readFileSync(new URL("../../node_modules/h5wasm/package.json", import.meta.url), "utf8")) as { version: string };
  assert.equal(engineVersions().h5wasm, installed.version, "engineVersions() names another h5wasm than the one in node_modules: update src/h5/wasm/engine.ts");
});

test("every engine implements every Writer call: the same attributes and links read back in h5py; h5wasm refuses enum attributes and virtual datasets with a typed error", async (t) => {
  const problem = structureCheckerProblem();
  if (problem) return skipOrFail(t, problem);
  const dir = mkdtempSync(join(tmpdir(), "snn-writers-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const made: [string, Writer][] = [
    ["ts", await createWriter(join(dir, "ts.h5"), "ts")],
    ["async", await createWriter(join(dir, "async.h5"), "ts", { asyncWrite: true })],
    ["h5wasm", await createWriter(join(dir, "h5wasm.h5"), "h5wasm")],
  ];
  for (const [name, w] of made) {
    w.createGroup("/a");
    w.writeArray("/a/d", Float64Array.of(1, 2, 3), [3], { kind: "gzip", level: 4 });
    w.setScalarAttr("/a", "magic", 0x0a7a, "uint32");
    w.setScalarAttr("/a", "half", 0.5, "float32");
    w.setStringsAttr("/a", "names", ["x", "yy", ""]);
    w.setRefAttr("/", "target", "/a/d");
    w.externalLink("/ext", "other.h5", "/g");
    if (name === "h5wasm") {
      assert.throws(() => w.setEnumAttr("/a", "e", [["no", 0], ["yes", 1]], 1), (e: unknown) => isSnnExportError(e, "HDF5_ERROR"));
      assert.throws(() => w.createVirtualDataset("/v", "float64", [3], 0, []), (e: unknown) => isSnnExportError(e, "HDF5_ERROR"));
    } else w.setEnumAttr("/a", "e", [["no", 0], ["yes", 1]], 1);
    w.flush(); // waits for compression threads (other tests of this process may have started them)
    assert.equal(w.flushIfIdle(), true, `${name}: nothing is being compressed on other threads`);
    w.waitIdle();
    w.close();
  }
  const script = [
    "import h5py, json, sys",
    "out = {}",
    "for p in sys.argv[1:]:",
    "    f = h5py.File(p, 'r'); a = f['a'].attrs; link = f.get('ext', getlink=True)",
    "    out[p] = [int(a['magic']), str(a['magic'].dtype), float(a['half']), str(a['half'].dtype), [s.decode() if isinstance(s, bytes) else s for s in a['names']],",
    "              f[f.attrs['target']].name, link.filename, link.path, int(a['e']) if 'e' in a else None]",
    "print(json.dumps(out))",
  ].join("\n");
  const files = made.map(([name]) => join(dir, `${name}.h5`));
  const r = spawnSync(PYTHON, ["-c", script, ...files], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as Record<string, unknown[]>;
  const expected = [2682, "uint32", 0.5, "float32", ["x", "yy", ""], "/a/d", "other.h5", "/g"];
  assert.deepEqual(got[files[0]], [...expected, 1]);
  assert.deepEqual(got[files[1]], [...expected, 1]);
  assert.deepEqual(got[files[2]], [...expected, null]);
});

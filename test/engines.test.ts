/** The two write engines (pure TypeScript and h5wasm) produce files that load to identical data. */
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { test } from "node:test";
import { DataExporter, ExperimentLoader } from "#lib/index.js";
import { H5Reader } from "#lib/h5/index.js";
import { engineVersions } from "#lib/h5/engine.js";
import { assertSameFiles, episodeView, writeExperimentLogged } from "./fixtures.js";
import { tempDir } from "./helpers.js";

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
  assert.equal(engineVersions().h5wasm, installed.version, "engineVersions() names another h5wasm than the one in node_modules: update src/h5/engine.ts");
});

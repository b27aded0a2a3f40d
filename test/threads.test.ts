/**
 * The library's worker threads (compression, asyncWrite) start whatever the process was started
 * with: `node --input-type=module -e "…"` used to crash the process (ERR_INPUT_TYPE_NOT_ALLOWED
 * from the compression thread).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { workerExecArgv } from "../src/h5/threads.js";
import { ExperimentLoader } from "../src/index.js";

test("workerExecArgv drops the flags of a script given on the command line and keeps the rest", () => {
  assert.deepEqual(workerExecArgv(["--input-type=module", "--no-warnings", "-e", "code()", "--max-old-space-size=512"]), ["--no-warnings", "--max-old-space-size=512"]);
  assert.deepEqual(workerExecArgv(["--input-type", "module", "--eval", "x", "-p", "y", "--print", "z", "--enable-source-maps"]), ["--enable-source-maps"]);
  assert.deepEqual(workerExecArgv([]), []);
});

test("an experiment written from `node --input-type=module -e` (threads and asyncWrite) is complete", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "snn-eval-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mod = new URL("../src/index.js", import.meta.url).href;
  const script = `
    import { DataExporter } from ${JSON.stringify(mod)};
    for (const asyncWrite of [false, true]) {
      const ex = await DataExporter.create("eval", { outputBaseDir: ${JSON.stringify(dir)}, provenance: false, asyncWrite, chunkSize: 1000 });
      ex.startEpisode();
      const v = new Float32Array(500);
      const mask = new Uint8Array(500);
      for (let t = 0; t < 20000; t++) {
        v.fill(t % 7);
        mask.fill(0); mask[t % 500] = 1;
        ex.log({ timestep: t, neuralState: { v }, spikes: mask, reward: t % 100 === 0 ? 1 : 0 });
      }
      ex.endEpisode();
      await ex.close();
      console.log(ex.filePath);
    }`;
  const r = spawnSync(process.execPath, ["--input-type=module", "--no-warnings", "-e", script], { encoding: "utf8", env: { ...process.env, SNN_EXPORT_COMPRESS_THREADS: "" } });
  assert.equal(r.status, 0, r.stderr);
  const files = r.stdout.trim().split("\n");
  assert.equal(files.length, 2, r.stdout);
  for (const f of files) {
    const l = await ExperimentLoader.open(f);
    try {
      const ep = l.getEpisode(0);
      assert.equal(ep.getTimesteps().length, 20000, f);
      const { timesteps, neuronIds } = ep.getSpikes();
      assert.equal(neuronIds.length, 20000, f);
      assert.equal(timesteps[19999], 19999);
      assert.equal(neuronIds[19999], 19999 % 500);
    } finally {
      l.close();
    }
  }
});

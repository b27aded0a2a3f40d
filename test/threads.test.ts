/**
 * The library's worker threads (compression, asyncWrite) start whatever the process was started
 * with: `node --input-type=module -e "…"` used to crash the process (ERR_INPUT_TYPE_NOT_ALLOWED
 * from the compression thread), and so did V8 options such as `--max-old-space-size`
 * (ERR_WORKER_INVALID_EXEC_ARGV when passed on to a worker).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ExperimentLoader } from "#lib/index.js";
import { tempDir } from "./helpers.js";

test("an experiment written from `node --max-old-space-size=… --stack-size=… --expose-gc --input-type=module -e` (threads and asyncWrite) is complete", { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t, "snn-eval-");
  const mod = new URL(import.meta.resolve("#lib/index.js")).href;
  const pool = new URL(import.meta.resolve("#lib/h5/ts/pool.js")).href;
  const script = `
    import { DataExporter } from ${JSON.stringify(mod)};
    import { poolFailures, startPool } from ${JSON.stringify(pool)};
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
    }
    const { failed, lastError } = poolFailures();
    console.error(JSON.stringify({ threads: startPool().length, failed, lastError: lastError ? String(lastError) : null }));`;
  const r = spawnSync(process.execPath, ["--max-old-space-size=3000", "--stack-size=2000", "--expose-gc", "--input-type=module", "--no-warnings", "-e", script], { encoding: "utf8", timeout: 300_000, env: { ...process.env, SNN_EXPORT_COMPRESS_THREADS: "now" } }); // threads from the first chunk
  assert.equal(r.status, 0, r.stderr);
  // the chunks were compressed on the compression thread, not inline after it failed to start
  const threads = JSON.parse(r.stderr.trim().split("\n").at(-1)!);
  assert.ok(threads.threads >= 1, r.stderr);
  assert.deepEqual({ failed: threads.failed, lastError: threads.lastError }, { failed: 0, lastError: null }, r.stderr);
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

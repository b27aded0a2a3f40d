/**
 * The flush at the end of an episode does not wait for the compression of the episode's last
 * chunks (the next episode's logging overlaps it); the episode's end still reaches the file on its
 * own once they are done, and a reader of a file whose writer is still open sees it complete.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DataExporter, ExperimentLoader } from "#lib/index.js";
import { poolBooted, startPool } from "#lib/h5/ts/pool.js";
import { tempDir } from "./helpers.js";

test("endEpisode(): the episode's end reaches the file by itself soon after, without another call", { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  // chunks go to the compression threads from the first one (not after 150 ms of inline compression)
  const before = process.env.SNN_EXPORT_COMPRESS_THREADS;
  process.env.SNN_EXPORT_COMPRESS_THREADS = "now";
  t.after(() => void (before === undefined ? delete process.env.SNN_EXPORT_COMPRESS_THREADS : (process.env.SNN_EXPORT_COMPRESS_THREADS = before)));
  const threads = startPool().length;
  for (const until = Date.now() + 60_000; poolBooted() < threads && Date.now() < until;) await new Promise((r) => setTimeout(r, 5));
  assert.equal(poolBooted(), threads, "the compression threads did not start within 60 s");
  const ex = await DataExporter.create("end", { outputBaseDir: dir, provenance: false, chunkSize: 20_000, flushIntervalMs: 0 });
  t.after(() => ex.close());
  const n = 400;
  const v = new Float32Array(n);
  const mask = new Uint8Array(n);
  ex.startEpisode();
  for (let t = 0; t < 20_000; t++) {
    for (let i = 0; i < n; i += 37) v[i] = Math.sin(t * 0.01 + i); // a few MB of floats to compress at the end
    mask.fill(0);
    mask[(t * 7) % n] = 1;
    ex.log({ timestep: t, neuralState: { v }, spikes: mask, behavior: { x: Math.cos(t) }, reward: t % 50 === 0 ? 1 : 0 });
  }
  ex.endEpisode({ success: true });
  t.diagnostic(`the episode-end flush was ${(ex as unknown as { policy: { owed: boolean } }).policy.owed ? "owed (chunks still compressing)" : "done at once"}`);
  // nothing else is called on the exporter: the owed flush comes from a timer once the chunks are
  // done; polled until it is there (at most 60 s: a timeout, not a claim about how soon)
  let status: unknown = null;
  for (const until = Date.now() + 60_000; status !== "completed" && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 50));
    const l = await ExperimentLoader.open(ex.filePath);
    try {
      // the episode's row reaches the table with that flush: until then the file has no episode
      // (a reader that opens at once, like the TypeScript one, looks before the flush)
      status = l.episodeCount > 0 ? l.getEpisode(0).attrs.status : null;
      if (status === "completed") {
        const ep = l.getEpisode(0);
        assert.equal(ep.getTimesteps().length, 20_000);
        assert.equal(ep.getSpikes().neuronIds.length, 20_000);
        assert.equal(ep.getBehavior().variables.x.data.length, 20_000);
      }
    } finally {
      l.close();
    }
  }
  assert.equal(status, "completed", "the end of the episode never reached the file");
});

test("the time-based flush keeps working in every episode, not only the first", async (t) => {
  const dir = tempDir(t);
  // the flush policy's clock (performance.now) is driven by the test: 0.2 ms per step of the slow episode
  let clock = performance.now();
  t.mock.method(performance, "now", () => clock);
  const ex = await DataExporter.create("policy", { outputBaseDir: dir, provenance: false, flushIntervalMs: 300 });
  t.after(() => ex.close());
  // a first episode of fast steps (no time passes: no time-based flush due, the next check moves
  // ever later), then a slow one, left open: its rows must reach the file through the periodic
  // flush alone, within 900 ms of its clock
  ex.startEpisode();
  for (let s = 0; s < 6000; s++) ex.log({ timestep: s, reward: 1, behavior: { x: s } });
  ex.endEpisode();
  ex.startEpisode();
  const steps = 900 / 0.2;
  for (let s = 0; s < steps; s++) {
    ex.log({ timestep: s, reward: 1, behavior: { x: s } });
    clock += 0.2;
  }
  const l = await ExperimentLoader.open(ex.filePath);
  try {
    const seen = l.getEpisode(1).getTimesteps().length;
    // a flush once 300 ms of the clock have passed, checked every 256 steps: the second one comes
    // at step 1500 + 1536 or later, before step 3600
    assert.ok(seen >= 3000, `only ${seen} of ${steps} steps of the open second episode reached the file in 900 ms of its clock`);
  } finally {
    l.close();
  }
});

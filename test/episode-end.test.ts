/**
 * The flush at the end of an episode does not wait for the compression of the episode's last
 * chunks (the next episode's logging overlaps it); the episode's end still reaches the file on its
 * own once they are done, and a reader of a file whose writer is still open sees it complete.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DataExporter, ExperimentLoader } from "../src/index.js";
import { tempDir } from "./helpers.js";

test("endEpisode(): the episode's end reaches the file by itself soon after, without another call", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("end", { outputBaseDir: dir, provenance: false, chunkSize: 20_000, flushIntervalMs: 0 });
  t.after(() => ex.close());
  await new Promise((r) => setTimeout(r, 300)); // the compression thread has booted: chunks go to it
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
  // nothing else is called on the exporter: the owed flush comes from a timer once the chunks are done
  let status: unknown = null;
  for (let i = 0; i < 100 && status !== "completed"; i++) {
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
  const ex = await DataExporter.create("policy", { outputBaseDir: dir, provenance: false, flushIntervalMs: 300 });
  t.after(() => ex.close());
  // a first episode of fast steps (no time-based flush due: the next check moves ever later),
  // then a slow one, left open: its rows must reach the file through the periodic flush alone
  ex.startEpisode();
  for (let s = 0; s < 6000; s++) ex.log({ timestep: s, reward: 1, behavior: { x: s } });
  ex.endEpisode();
  ex.startEpisode();
  const until = performance.now() + 900;
  let s = 0;
  while (performance.now() < until) {
    ex.log({ timestep: s++, reward: 1, behavior: { x: s } });
    const spin = performance.now() + 0.2;
    while (performance.now() < spin);
  }
  const l = await ExperimentLoader.open(ex.filePath);
  try {
    const seen = l.getEpisode(1).getTimesteps().length;
    assert.ok(seen >= 256, `only ${seen} of ${s} steps of the open second episode reached the file in 900 ms`);
  } finally {
    l.close();
  }
});

/**
 * When short episodes become durable (src/exporter/flush-policy.ts): not at every episode end, but
 * within one flush interval; at every end with flushIntervalMs 0; at a normal exit without close().
 * Observed from outside, by reading the file while it is written.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DataExporter, ExperimentLoader } from "#lib/index.js";
import { FreeSpace } from "#lib/h5/ts/space.js";
import { sizeClass } from "#lib/h5/ts/writer.js";
import { tempDir } from "./helpers.js";

/** Episodes of the file as a reader opening it now sees them. */
async function episodesOnDisk(file: string): Promise<number> {
  const l = await ExperimentLoader.open(file);
  try {
    return l.episodeCount;
  } finally {
    l.close();
  }
}

function shortEpisodes(ex: DataExporter, n: number): void {
  for (let e = 0; e < n; e++) {
    ex.startEpisode();
    for (let t = 0; t < 5; t++) ex.log({ timestep: t, spikes: [t % 3], reward: 1 });
    ex.endEpisode({ success: true });
  }
}

test("short episodes within the flush interval are not flushed one by one; flush() makes them all durable", async (t) => {
  const ex = await DataExporter.create("policy", { outputBaseDir: tempDir(t), provenance: false, flushIntervalMs: 600_000 });
  shortEpisodes(ex, 300);
  assert.equal(await episodesOnDisk(ex.filePath), 0, "no episode end should have flushed within the interval");
  ex.flush();
  assert.equal(await episodesOnDisk(ex.filePath), 300);
  await ex.close();
});

test("flushIntervalMs 0: every episode end flushes", async (t) => {
  const ex = await DataExporter.create("every_end", { outputBaseDir: tempDir(t), provenance: false, flushIntervalMs: 0 });
  for (let k = 1; k <= 3; k++) {
    shortEpisodes(ex, 1);
    // compression may still run on another thread: the flush is then owed for at most 1 s
    let seen = 0;
    for (let tries = 0; tries < 100 && seen < k; tries++) {
      seen = await episodesOnDisk(ex.filePath);
      if (seen < k) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(seen, k);
  }
  await ex.close();
});

test("an ended episode becomes durable within the interval while the process waits (timer)", async (t) => {
  const ex = await DataExporter.create("timer", { outputBaseDir: tempDir(t), provenance: false, flushIntervalMs: 300 });
  ex.flush();
  shortEpisodes(ex, 2); // right after a flush: not due yet
  let seen = await episodesOnDisk(ex.filePath);
  for (let tries = 0; tries < 100 && seen < 2; tries++) {
    await new Promise((r) => setTimeout(r, 50));
    seen = await episodesOnDisk(ex.filePath);
  }
  assert.equal(seen, 2, "the timer should have flushed the two episodes");
  await ex.close();
});

for (const asyncWrite of [false, true]) {
  test(`a script that exits without close() keeps every ended episode and the open one's steps (asyncWrite ${asyncWrite})`, async (t) => {
    const dir = tempDir(t);
    const index = fileURLToPath(new URL(import.meta.resolve("#lib/index.js")));
    const script = join(dir, "child.mjs");
    writeFileSync(script, `
      import { DataExporter } from ${JSON.stringify(index)};
      const ex = await DataExporter.create("exit", { outputBaseDir: ${JSON.stringify(dir)}, provenance: false, asyncWrite: ${asyncWrite}, flushIntervalMs: 600000 });
      for (let e = 0; e < 3; e++) { ex.startEpisode(); for (let t = 0; t < 10; t++) ex.log({ timestep: t, spikes: [1], reward: 1 }); ex.endEpisode(); }
      ex.startEpisode(); ex.log({ timestep: 0, spikes: [2] });
      console.log(ex.filePath);
    `);
    const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const file = r.stdout.trim();
    const l = await ExperimentLoader.open(file);
    t.after(() => l.close());
    assert.equal(l.getMetadata().status, "interrupted");
    assert.deepEqual(l.listEpisodes(), [0, 1, 2, 3]);
    assert.deepEqual(l.episodes().totalTimesteps, Float64Array.from([10, 10, 10, 1]));
    assert.equal(l.getEpisode(3).attrs.status, "interrupted");
    assert.deepEqual(Array.from(l.getEpisode(3).getSpikes().neuronIds), [2]);
  });
}

test("free space: neighbours merge, best fit, and a block at the end of the file is found", () => {
  const s = new FreeSpace();
  s.give(100, 50);
  s.give(200, 50);
  s.give(150, 50); // joins both
  assert.equal(s.count, 1);
  assert.equal(s.total, 150);
  s.give(400, 10);
  s.give(500, 40);
  assert.equal(s.take(30), 500, "best fit: the 40-byte block, not the 150-byte one");
  assert.equal(s.take(200), -1);
  assert.equal(s.take(150), 100);
  assert.equal(s.takeEndingAt(410), 0, "only the last block can end at the end of the file");
  assert.equal(s.takeEndingAt(540), 10);
  assert.equal(s.takeEndingAt(410), 10);
  assert.equal(s.count, 0);
  s.give(530, 20);
  assert.throws(() => s.give(535, 5), /overlaps/);
});

test("size classes: at most a quarter more than asked, and few distinct sizes", () => {
  const seen = new Set<number>();
  for (let n = 1; n < 1 << 20; n += 997) {
    const c = sizeClass(n);
    assert.ok(c >= n && (n <= 256 || c <= n * 1.25 + 1), `${n} -> ${c}`);
    seen.add(c);
  }
  assert.ok(seen.size < 60, `${seen.size} classes`);
});

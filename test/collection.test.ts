/**
 * Finding run files and reading a run's one-row summary (src/loader/runs.ts, collection.ts,
 * sweep-table.ts) without the CLI or child processes: runs written by the exporter from known
 * inputs, the expected rows worked out from those inputs (FORMAT.md: `totalSteps` is the sum of
 * the episodes' steps, `finalReward` the total reward of the last completed episode). Fast: part
 * of the loader's mutation-testing command (stryker.config.mjs) as well as of `npm test`.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DataExporter, ExperimentCollection, collect, isSnnExportError } from "#lib/index.js";
import { findRunFiles, readEpisodeColumns, readRun, runName } from "#lib/loader/runs.js";
import { readSweepTable } from "#lib/loader/sweep-table.js";
import { skipStructureCheck, tempDir } from "./helpers.js";

const START = new Date(Date.UTC(2026, 1, 3, 4, 5, 6));

/** A run of `episodes` (rewards per step); the last one left open when `open`. */
async function run(base: string, name: string, config: Record<string, unknown>, episodes: number[][], open = false): Promise<string> {
  const ex = await DataExporter.create(name, { outputBaseDir: base, provenance: false, flushIntervalMs: 0, startTime: START });
  ex.saveConfig(config);
  let t = 0;
  episodes.forEach((rewards, e) => {
    ex.startEpisode();
    for (const r of rewards) ex.log({ timestep: t++, reward: r });
    if (!(open && e === episodes.length - 1)) ex.endEpisode();
  });
  await ex.close();
  return ex.filePath;
}

test("runs: found under a directory (not in hidden or node_modules ones, at most three levels down), by glob, or named; summaries from the inputs", async (t) => {
  const dir = tempDir(t);
  const a = await run(join(dir, "sweep"), "a", { lr: 0.1, tag: "x" }, [[1, 1, 1], [2, 0]]);
  const b = await run(join(dir, "sweep"), "b", { lr: 0.2 }, [[0.5, 0.5, 0.5, 0.5], [3]], true);
  const c = await run(join(dir, "sweep", "deeper", "more"), "c", { lr: 0.3 }, [[]]);
  // the same file where the search must not look
  for (const skip of [".hidden/r", "node_modules/r", "sweep/x/y/z/r"]) {
    mkdirSync(join(dir, skip), { recursive: true });
    copyFileSync(a, join(dir, skip, "experiment_data.h5"));
  }
  assert.deepEqual(findRunFiles([dir]), [a, b].sort(), "c's directory is four levels below dir");
  assert.deepEqual(findRunFiles(["sweep"], dir), [a, b, c].sort(), "relative to cwd; c three levels below sweep/");
  assert.deepEqual(findRunFiles([join(dir, "sweep", "a_*")]), [a]);
  assert.deepEqual(findRunFiles([join(dir, "sweep", "*", "experiment_data.h5")]), [a, b].sort(), "a glob of files");
  assert.deepEqual(findRunFiles([join(dir, "sweep", "b_*"), a]), [a, b], "a glob and a file, sorted");
  assert.deepEqual(findRunFiles([join(dir, "sweep", "a_*"), a, join(dir, "sweep", "a_*")]), [a], "a run named by a glob, its file and the glob again: listed once, no error");
  assert.deepEqual(findRunFiles(["sweep", "sweep"], dir), [a, b, c].sort(), "a directory twice");
  assert.throws(() => findRunFiles([join(dir, "sweep", "zz*")]), (e: unknown) => isSnnExportError(e, "NOT_FOUND") && (e as Error).message === `the pattern ${join(dir, "sweep", "zz*")} matches no experiment`);
  assert.throws(() => findRunFiles([join(dir, "nothing")]), (e: unknown) => isSnnExportError(e, "NOT_FOUND") && (e as Error).message.startsWith(`no run at ${join(dir, "nothing")}: `));
  assert.equal(runName(a), a.split("/").at(-2));
  assert.equal(runName(join(dir, "x.h5")), "x");

  const ra = await readRun(a);
  assert.deepEqual({ ...ra, fileSize: 0, fileMtime: 0 }, {
    name: a.split("/").at(-2), path: a, status: "closed", startTime: START.toISOString(), endTime: ra.endTime,
    episodes: 2, totalSteps: 5, finalReward: 2, config: { lr: 0.1, tag: "x" }, fileSize: 0, fileMtime: 0, formatVersion: "2.0",
  });
  assert.match(ra.endTime, /^\d{4}-\d{2}-\d{2}T/);
  assert.ok(ra.fileSize > 0 && ra.fileMtime > 0);
  const rb = await readRun(b);
  assert.deepEqual([rb.episodes, rb.totalSteps, rb.finalReward, rb.config], [2, 5, 2, { lr: 0.2 }], "the open episode is not the last completed one");
  const rc = await readRun(c);
  assert.deepEqual([rc.episodes, rc.totalSteps, rc.finalReward], [1, 0, 0]);

  const all = await ExperimentCollection.open([join(dir, "sweep")]); // three levels down: c too
  assert.equal(all.size, 3);
  assert.equal(all.source, null);
  assert.deepEqual(all.runs().map((r) => [r.file, r.index, r.totalSteps]), [a, b, c].sort().map((f, i) => [f, i, f === c ? 0 : 5]));
  const one = await ExperimentCollection.open(a);
  assert.deepEqual(one.runs().map((r) => r.file), [a], "a run file given alone: a collection of one");
});

test("runs: a file that is not a 2.x experiment has no episode columns; a run file is not a sweep file", async (t) => {
  const dir = tempDir(t);
  const a = await run(dir, "a", { k: 1 }, [[1]]);
  const cols = await readEpisodeColumns(a, ["total_timesteps", "total_reward"]);
  assert.ok(cols);
  assert.deepEqual(cols.columns.map((c) => Array.from(c)), [[1], [1]]);
  cols.reader.close();
  const notH5 = join(dir, "notes.h5");
  writeFileSync(notH5, "not hdf5");
  skipStructureCheck(notH5, "not an HDF5 file, on purpose");
  await assert.rejects(readEpisodeColumns(notH5, ["total_reward"]), (e: unknown) => isSnnExportError(e));
  await assert.rejects(readSweepTable(a), (e: unknown) => isSnnExportError(e, "NOT_SNN_EXPORT") && (e as Error).message === `${a} is not a sweep file of snn-export collect (root attribute format_name is "snn-export")`);
});

test("a sweep file written by collect() opens as the collection of its runs, read from its runs table", async (t) => {
  const dir = tempDir(t);
  const a = await run(join(dir, "runs"), "a", { lr: 0.1 }, [[1, 2]]);
  const b = await run(join(dir, "runs"), "b", { lr: 0.2 }, [[3], [4, 5]]);
  const out = join(dir, "sweep.h5");
  await collect([join(dir, "runs")], { out });
  const table = await readSweepTable(out);
  assert.deepEqual(table.rows.map((r) => [r.episodes, r.totalSteps, r.finalReward, r.config]), [[1, 2, 3, { lr: 0.1 }], [2, 3, 9, { lr: 0.2 }]]);
  const sweep = await ExperimentCollection.open(out);
  assert.equal(sweep.source, table.file);
  assert.deepEqual(sweep.runs().map((r) => r.file), [a, b]);
});

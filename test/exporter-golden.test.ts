/**
 * Files the exporter writes from fixed inputs, checked with h5py against those inputs
 * (test/py/canonical.py: FORMAT.md read with h5py alone, no code of our loader) and with
 * check_structure.py (tempDir). The clock is fixed (the `startTime` option, and `Date` mocked
 * for the episode times, the checkpoint's `created_at` and the root's `end_time`), provenance is
 * off and the experiment directory is named relative to the current directory, so the files are
 * byte for byte the same on every run with the same zlib: for mutation testing
 * (stryker.config.mjs, target `exporter`) they are compared with golden SHA-256 digests
 * (test/fixtures/digests/exporter.json, SNN_GOLDEN) recorded in a run where the h5py checks
 * below passed (SNN_GOLDEN_RECORD=1) — no Python start-up per mutant. Record again after an
 * intended change of what the exporter writes (or of the package version, which `creator` names):
 *   npm run build && SNN_GOLDEN=test/fixtures/digests/exporter.json SNN_GOLDEN_RECORD=1 node --test dist/test/exporter-golden.test.js
 */
import assert from "node:assert/strict";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { mock, test, type TestContext } from "node:test";
import { DataExporter, StandardDataExporter, type ExporterOptions } from "#lib/index.js";
import { canonical, writeExperimentLogged, type Canonical } from "./fixtures.js";
import { checkAsKilled, GOLDEN, tempDir } from "./helpers.js";

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
/** h5py checks only when not comparing digests (the digests were recorded where they passed). */
const checkWithPython = !GOLDEN || GOLDEN.record;

/**
 * Runs `body` with the clock fixed at T0, the current directory in `dir` and compression inline
 * (all restored): with compression threads an episode end's flush waits for them and is paid by
 * a timer, so when it lands — and the bytes written — would depend on the machine's load.
 */
async function fixed<T>(dir: string, body: () => Promise<T>): Promise<T> {
  const cwd = process.cwd();
  const tz = process.env.TZ;
  const threads = process.env.SNN_EXPORT_COMPRESS_THREADS;
  process.env.TZ = "UTC"; // the directory's date stamp is local time
  process.env.SNN_EXPORT_COMPRESS_THREADS = "0";
  mock.timers.enable({ apis: ["Date"], now: T0 });
  process.chdir(dir);
  try {
    return await body();
  } finally {
    process.chdir(cwd);
    mock.timers.reset();
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
    if (threads === undefined) delete process.env.SNN_EXPORT_COMPRESS_THREADS;
    else process.env.SNN_EXPORT_COMPRESS_THREADS = threads;
  }
}

const BASE: ExporterOptions = { outputBaseDir: "out", startTime: new Date(T0), provenance: false, flushIntervalMs: 0 };

function pick(e: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, e[k]]));
}

/** The episode table as h5py reads it, against what the test logged (from the inputs alone). */
function assertTable(doc: Canonical, expected: Record<string, unknown>[]): void {
  assert.equal(doc.episodes.length, expected.length, "episode rows");
  doc.episodes.forEach((e, i) => assert.deepEqual(pick(e, Object.keys(expected[i])), expected[i], `episode ${i}'s table row`));
}

async function loggedExperiment(t: TestContext, Cls: typeof DataExporter, layout: string): Promise<Canonical | null> {
  const dir = tempDir(t);
  const { file, episodes } = await fixed(dir, () => writeExperimentLogged(Cls, "out", 7, BASE));
  assert.match(file, /out\/same_20260102_030405\/experiment_data\.h5$/);
  if (!checkWithPython) return null;
  const doc = canonical(t, file);
  if (!doc) return null;
  const root = doc.root as Record<string, unknown>;
  assert.equal(root.format_version, "2.0");
  assert.equal(root.status, "closed");
  assert.equal(root.episode_count, 3);
  assert.equal(root.experiment_name, "same");
  assert.deepEqual(doc.config, { seed: 7 });
  assert.deepEqual(doc.config_attrs, { seed: 7 });
  episodes.forEach((log, i) => {
    const { timesteps, spikes, rewards, events, summary } = doc.episodes[i];
    assert.deepEqual({ timesteps, spikes, rewards, events, summary }, log, `${layout}: episode ${i} as h5py reads it, against the inputs`);
  });
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  assertTable(doc, episodes.map((log, i) => ({
    episode_id: i, status: 1, // FORMAT.md: 1 completed
    success: i % 2 === 0 ? 1 : 0, total_timesteps: 60,
    total_spikes: log.spikes.length, total_reward: sum(log.rewards.map(([, v]) => v)),
    first_timestep: 100 * i, last_timestep: 100 * i + 59,
  })));
  // neural state at the episode's steps 0, 4, 8, … (neuralSamplingRate 4): 15 rows of each variable
  doc.episodes.forEach((e, i) => {
    const ns = e.neural_states as Record<string, { rows: unknown[]; row_shape: number[]; dtype: string }>;
    assert.deepEqual(Object.keys(ns).sort(), ["timesteps", "v", "w"]);
    assert.deepEqual(ns.timesteps.rows, Array.from({ length: 15 }, (_, k) => 100 * i + 4 * k));
    assert.equal(ns.v.rows.length, 15);
    assert.deepEqual([ns.v.dtype, ns.v.row_shape, ns.w.dtype, ns.w.row_shape], ["float32", [12], "float64", [12, 2]]);
    const beh = e.behavior as Record<string, { rows: unknown[]; row_shape: number[] }>;
    assert.deepEqual([beh.x.rows.length, beh.dir.row_shape], [60, [3]]);
  });
  return doc;
}

test("golden: the optimized layout of a three-episode experiment, as h5py reads it, holds the inputs", async (t) => {
  const opt = await loggedExperiment(t, DataExporter, "optimized");
  await t.test("the standard layout of the same inputs reads the same with h5py", async (t2) => {
    const std = await loggedExperiment(t2, StandardDataExporter, "standard");
    if (opt && std) assert.deepEqual(std, opt);
  });
});

test("golden: no compression, 3-row chunks, every step sampled, flushes every 5 steps, an episode left open at close", async (t) => {
  const dir = tempDir(t);
  const ids = [0, 1, 2, 3, 4];
  const steps: { t: number; spikes: number[]; reward: number; u: number[]; y: number }[] = [];
  const events: [number, string, unknown][] = [];
  const file = await fixed(dir, async () => {
    const ex = await DataExporter.create("opts", { ...BASE, compression: null, chunkSize: 3, neuralSamplingRate: 1, flushEverySteps: 5 });
    ex.saveConfig({ lr: 0.5, name: "a" });
    ex.saveConfig({ lr: 0.25, deep: { k: [1, 2] } });
    ex.saveMetadata({ who: "test", n: 3 });
    ex.saveNetworkStructure({ neurons: { ids: Int32Array.from(ids) }, connections: { sourceIds: [0, 1, 4], targetIds: [1, 2, 0] } });
    for (let e = 0; e < 2; e++) {
      ex.startEpisode();
      const n = e === 0 ? 11 : 7;
      for (let i = 0; i < n; i++) {
        const s = { t: 1000 * e + 3 * i, spikes: ids.filter((k) => (k + i + e) % 3 === 0), reward: i % 4 === 1 ? i / 2 : 0, u: ids.map((k) => k * 0.5 + i), y: i - 2.5 };
        ex.log({ timestep: s.t, spikes: s.spikes, reward: s.reward, neuralState: { u: Float64Array.from(s.u) }, behavior: { y: s.y } });
        steps.push(s);
        if (i % 4 === 2) {
          ex.logEvent({ timestep: s.t, type: `ev${e}`, data: { i, list: [i, "x"] } });
          events.push([s.t, `ev${e}`, { i, list: [i, "x"] }]);
        }
        if (i === 3) ex.logWeightChange({ timestep: s.t, sourceId: 1, targetId: 2, oldWeight: 0.5, newWeight: 0.75 + e });
      }
      if (e === 0) ex.endEpisode({ success: false, summary: { score: 1.5 } });
    }
    ex.saveCheckpoint("mid", { epoch: 3, w: Float32Array.from([1, 2, 3, 4]) });
    await ex.close();
    return ex.filePath;
  });
  if (!checkWithPython) return;
  const doc = canonical(t, file);
  if (!doc) return;
  assert.deepEqual(doc.config, { lr: 0.25, name: "a", deep: { k: [1, 2] } });
  assert.deepEqual(doc.config_attrs, { lr: 0.25, name: "a" });
  assert.deepEqual(doc.metadata, { who: "test", n: 3 });
  assert.equal((doc.root as Record<string, unknown>).status, "closed");
  const byEp = [steps.slice(0, 11), steps.slice(11)];
  assertTable(doc, byEp.map((ss, e) => ({
    episode_id: e, status: e === 0 ? 1 : 2, // FORMAT.md: 1 completed, 2 incomplete
    success: e === 0 ? 0 : -1, total_timesteps: ss.length,
    total_spikes: ss.reduce((a, s) => a + s.spikes.length, 0), total_reward: ss.reduce((a, s) => a + s.reward, 0),
    first_timestep: ss[0].t, last_timestep: ss[ss.length - 1].t,
  })));
  doc.episodes.forEach((e, k) => {
    const ss = byEp[k];
    assert.deepEqual(e.timesteps, ss.map((s) => s.t));
    assert.deepEqual(e.spikes, ss.flatMap((s) => s.spikes.map((id) => [s.t, id])));
    assert.deepEqual(e.rewards, ss.filter((s) => s.reward !== 0).map((s) => [s.t, s.reward]));
    assert.deepEqual(e.events, events.filter(([et]) => (k === 0 ? et < 1000 : et >= 1000)));
    assert.deepEqual(e.summary, k === 0 ? { score: 1.5 } : null);
    const ns = e.neural_states as Record<string, { rows: number[][] }>;
    assert.deepEqual(ns.u.rows, ss.map((s) => s.u));
    const beh = e.behavior as Record<string, { rows: number[] }>;
    assert.deepEqual(beh.y.rows, ss.map((s) => s.y));
    const wc = e.weight_changes as Record<string, number[]>;
    assert.deepEqual([wc.timesteps, wc.source_ids, wc.target_ids, wc.old_weights, wc.new_weights], [[ss[3].t], [1], [2], [0.5], [0.75 + k]]);
  });
  const cp = (doc.checkpoints as Record<string, Record<string, { value: unknown; dtype: string }>>).mid;
  assert.deepEqual([cp.w.dtype, cp.w.value], ["float32", [1, 2, 3, 4]]);
});

test("golden: flush() makes the steps so far durable; the standard layout takes the neuron count from the first mask; 3,000 spike ids in a step", async (t) => {
  const dir = tempDir(t);
  const N = 3000;
  const mask = Uint8Array.from({ length: N }, (_, k) => (k % 7 === 3 ? 1 : 0));
  const many = Array.from({ length: N }, (_, k) => N - 1 - k); // every neuron, descending
  const snapshot = join(dir, "after-flush.h5");
  const file = await fixed(dir, async () => {
    const ex = await StandardDataExporter.create("std", { ...BASE, chunkSize: 4 });
    ex.startEpisode();
    ex.log({ timestep: 0, reward: 0.5 }); // no spikes and no neuron count yet
    ex.log({ timestep: 1, reward: 0 });
    ex.log({ timestep: 2, spikes: mask, reward: 0 });
    ex.log({ timestep: 3, spikes: many, reward: -1 });
    ex.flush();
    copyFileSync(ex.filePath, snapshot);
    ex.log({ timestep: 4, spikes: [5], reward: 2 });
    ex.endEpisode({ success: true });
    await ex.close();
    return ex.filePath;
  });
  // the optimized layout stores the ids themselves (through a scratch buffer of 1,024 that must grow)
  const ids = await fixed(dir, async () => {
    const ex = await DataExporter.create("ids", { ...BASE, chunkSize: 4 });
    ex.startEpisode();
    ex.log({ timestep: 0, spikes: many });
    ex.log({ timestep: 1, spikes: [7, 2999] });
    ex.endEpisode();
    await ex.close();
    return ex.filePath;
  });
  checkAsKilled(snapshot); // a copy taken while the writer runs: checked as a killed writer leaves a file
  if (!checkWithPython) return;
  const maskIds = [...mask.keys()].filter((k) => mask[k] === 1);
  const spikes = [...maskIds.map((k) => [2, k]), ...many.slice().reverse().map((k) => [3, k])];
  const doc = canonical(t, file);
  if (!doc) return;
  assert.deepEqual(doc.episodes[0].timesteps, [0, 1, 2, 3, 4]);
  assert.deepEqual(doc.episodes[0].spikes, [...spikes, [4, 5]]);
  assert.deepEqual(doc.episodes[0].rewards, [[0, 0.5], [3, -1], [4, 2]]);
  assertTable(doc, [{ episode_id: 0, status: 1, success: 1, total_timesteps: 5, total_spikes: spikes.length + 1, total_reward: 1.5 }]);
  const opt = canonical(t, ids)!;
  assert.deepEqual(opt.episodes[0].spikes, [...many.slice().reverse().map((k) => [0, k]), [1, 7], [1, 2999]]);
  const early = canonical(t, snapshot)!;
  assert.equal((early.root as Record<string, unknown>).status, "open");
  assert.deepEqual(early.episodes[0].timesteps, [0, 1, 2, 3]);
  assert.deepEqual(early.episodes[0].spikes, spikes);
  assertTable(early, [{ episode_id: 0, status: 0, total_timesteps: 4, total_spikes: spikes.length, total_reward: -0.5 }]); // 0: running
});

/** StandardDataExporter (naive baseline) and DataExporter give equal loader output for the same input. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DataExporter, ExperimentLoader, StandardDataExporter, isSnnExportError, type EpisodeData } from "../src/index.js";
import { H5Reader } from "../src/h5/index.js";
import { rng, tempDir } from "./helpers.js";

const N = 12;

async function writeExperiment(Cls: typeof DataExporter, dir: string, seed: number): Promise<string> {
  const rand = rng(seed);
  const ex = await Cls.create("same", { outputBaseDir: dir, neuralSamplingRate: 4, chunkSize: 16 });
  ex.saveConfig({ seed });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: N }, (_, i) => i) }, weights: { sourceIds: [0, 1], targetIds: [1, 2], values: [0.5, 0.25] } });
  for (let e = 0; e < 3; e++) {
    ex.startEpisode();
    for (let t = 0; t < 60; t++) {
      const ids = [...Array(N).keys()].filter(() => rand() < 0.25);
      const spikes = t % 2 ? Uint8Array.from({ length: N }, (_, k) => (ids.includes(k) ? 1 : 0)) : Int32Array.from(ids);
      ex.log({
        timestep: 100 * e + t,
        neuralState: { v: Float32Array.from({ length: N }, () => rand()), w: { data: Float64Array.from({ length: 2 * N }, () => rand()), shape: [N, 2] } },
        spikes,
        behavior: { x: rand(), dir: Float32Array.from([rand(), rand(), rand()]) },
        reward: rand() < 0.2 ? rand() : 0,
      });
      if (t % 17 === 3) ex.logWeightChange({ timestep: 100 * e + t, synapseId: 1, oldWeight: rand(), newWeight: rand() });
      if (t % 29 === 5) ex.logEvent({ timestep: 100 * e + t, type: "tick", data: { t } });
    }
    ex.logStaticEpisodeData("layout", { e });
    ex.endEpisode({ success: e % 2 === 0, summary: { e } });
  }
  ex.saveCheckpoint("cp", { weights: { sourceIds: [1], targetIds: [0], values: [2] } });
  await ex.close();
  return ex.outputDir;
}

function episodeView(ep: EpisodeData): unknown {
  const arr = (a: ArrayLike<number>) => Array.from(a);
  const ns = ep.getNeuralStates();
  const beh = ep.getBehavior();
  const { status, success, total_timesteps, total_spikes, total_reward, first_timestep, last_timestep } = ep.attrs;
  return {
    attrs: { status, success, total_timesteps, total_spikes, total_reward, first_timestep, last_timestep },
    timesteps: arr(ep.getTimesteps()),
    neural: { t: arr(ns.timesteps), vars: Object.fromEntries(Object.entries(ns.variables).map(([k, v]) => [k, { shape: v.shape, dtype: v.dtype, data: arr(v.data as Float64Array) }])) },
    spikes: { t: arr(ep.getSpikes().timesteps), ids: arr(ep.getSpikes().neuronIds) },
    behavior: { t: arr(beh.timesteps), vars: Object.fromEntries(Object.entries(beh.variables).map(([k, v]) => [k, { shape: v.shape, dtype: v.dtype, data: arr(v.data as Float64Array) }])) },
    rewards: { t: arr(ep.getRewards().timesteps), v: arr(ep.getRewards().values) },
    weightChanges: Object.fromEntries(Object.entries(ep.getWeightChanges()).map(([k, v]) => [k, arr(v)])),
    events: ep.getEvents(),
    summary: ep.getSummary(),
    static: ep.getStaticData("layout"),
  };
}

test("standard and optimized layouts load to identical data on every stream", async (t) => {
  const dir = tempDir(t);
  const optimized = await writeExperiment(DataExporter, dir, 7);
  const standard = await writeExperiment(StandardDataExporter, dir, 7);
  await using a = await ExperimentLoader.open(optimized);
  await using b = await ExperimentLoader.open(standard);
  assert.equal(a.rootAttributes.layout, "optimized");
  assert.equal(b.rootAttributes.layout, "standard");
  assert.deepEqual(b.getConfig(), a.getConfig());
  assert.deepEqual(b.getNetworkStructure(), a.getNetworkStructure());
  assert.equal(b.episodeCount, 3);
  for (let e = 0; e < 3; e++) {
    const va = episodeView(a.getEpisode(e));
    assert.deepEqual(episodeView(b.getEpisode(e)), va);
    assert.ok((va as { spikes: { ids: number[] } }).spikes.ids.length > 0);
  }
  assert.deepEqual(b.getCheckpoint("cp").entries, a.getCheckpoint("cp").entries);
});

test("the standard layout stores spikes as a dense [T, N] uint8 matrix and a reward every step", async (t) => {
  const dir = tempDir(t);
  const ex = await StandardDataExporter.create("dense", { outputBaseDir: dir });
  ex.startEpisode();
  assert.throws(() => ex.log({ timestep: 0, spikes: [1] }), (err: unknown) => isSnnExportError(err, "INVALID_DATA") && /neuron count/.test((err as Error).message));
  ex.log({ timestep: 0 });
  ex.log({ timestep: 1, spikes: Uint8Array.from([0, 1, 1]), reward: 2 });
  ex.log({ timestep: 2, spikes: [0] });
  ex.endEpisode();
  await ex.close();
  const raw = await H5Reader.open(ex.filePath);
  const info = raw.info("/episodes/episode_0000/spikes/spike_matrix");
  assert.deepEqual([info.shape, info.dtype, info.chunks], [[3, 3], "uint8", [10000, 3]]);
  assert.ok(info.filters.includes("deflate"));
  assert.deepEqual([...raw.readRows("/episodes/episode_0000/spikes/spike_matrix", 0, 3)], [0, 0, 0, 0, 1, 1, 1, 0, 0]);
  assert.deepEqual([...raw.readRows("/episodes/episode_0000/rewards/values", 0, 3)], [0, 2, 0]);
  raw.close();
  await using loader = await ExperimentLoader.open(ex.filePath);
  const ep = loader.getEpisode(0);
  assert.deepEqual([...ep.getSpikes().timesteps], [1, 1, 2]);
  assert.deepEqual([...ep.getSpikes().neuronIds], [1, 2, 0]);
  assert.deepEqual([...ep.getRewards().timesteps], [1]);
  assert.deepEqual([...ep.getRewards().values], [2]);
});

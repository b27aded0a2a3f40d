/** StandardDataExporter (naive baseline) and DataExporter give equal loader output for the same input. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DataExporter, ExperimentLoader, StandardDataExporter, isSnnExportError } from "#lib/index.js";
import { assertSameFiles, episodeView, writeExperimentLogged } from "./fixtures.js";
import { H5Reader } from "#lib/h5/index.js";
import { tempDir } from "./helpers.js";

test("standard and optimized layouts load to identical data on every stream", async (t) => {
  const dir = tempDir(t);
  const optimizedRun = await writeExperimentLogged(DataExporter, dir, 7);
  const standardRun = await writeExperimentLogged(StandardDataExporter, dir, 7);
  const [optimized, standard] = [optimizedRun.dir, standardRun.dir];
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
  // h5py reads the dense matrix and dense rewards of one, the CSR spikes and sparse rewards of the
  // other, as FORMAT.md describes them: the same content, and the inputs that were logged
  assertSameFiles(t, optimizedRun.file, standardRun.file, optimizedRun.episodes);
});

/** int64 columns read as bigint: as numbers. */
const ints = (a: ArrayLike<number | bigint>): number[] => Array.from(a, Number);

test("the standard layout stores spikes as a dense [T, N] uint8 matrix and a reward every step", async (t) => {
  const dir = tempDir(t);
  const ex = await StandardDataExporter.create("dense", { outputBaseDir: dir });
  ex.startEpisode();
  assert.throws(() => ex.log({ timestep: 0, spikes: [1] }), (err: unknown) => isSnnExportError(err, "INVALID_DATA") && /neuron count/.test((err as Error).message));
  ex.log({ timestep: 0 });
  ex.log({ timestep: 1, spikes: Uint8Array.from([0, 1, 1]), reward: 2 });
  ex.log({ timestep: 2, spikes: [0] });
  ex.endEpisode();
  ex.startEpisode(); // a second episode: its rows follow the first's in the same datasets
  ex.log({ timestep: 5, spikes: [2], reward: -1 });
  ex.log({ timestep: 6 });
  ex.endEpisode();
  await ex.close();
  const raw = await H5Reader.open(ex.filePath);
  const info = raw.info("/spikes/spike_matrix");
  assert.deepEqual([info.shape, info.dtype, info.chunks], [[5, 3], "uint8", [10000, 3]]);
  assert.ok(info.filters.includes("deflate"));
  assert.equal(raw.attrs("/spikes").encoding, "dense_matrix");
  assert.equal(raw.attrs("/rewards").encoding, "dense");
  assert.deepEqual(raw.keys("/spikes").sort(), ["spike_matrix"], "no counts / neuron_ids in the standard layout");
  assert.deepEqual(raw.keys("/rewards").sort(), ["values"], "a reward every step: no timesteps");
  // FORMAT.md: spike_matrix and rewards/values rows are the episode's step_rows; spike_rows is [0, 0]
  assert.deepEqual(ints(raw.readRows("/episodes/step_rows", 0, 2)), [0, 3, 3, 5]);
  assert.deepEqual(ints(raw.readRows("/episodes/spike_rows", 0, 2)), [0, 0, 0, 0]);
  assert.deepEqual(ints(raw.readRows("/timesteps", 0, 5)), [0, 1, 2, 5, 6]);
  assert.deepEqual([...raw.readRows("/spikes/spike_matrix", 0, 5)], [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0]);
  assert.deepEqual([...raw.readRows("/rewards/values", 0, 5)], [0, 2, 0, -1, 0]);
  raw.close();
  await using loader = await ExperimentLoader.open(ex.filePath);
  const ep = loader.getEpisode(0);
  assert.deepEqual([...ep.getSpikes().timesteps], [1, 1, 2]);
  assert.deepEqual([...ep.getSpikes().neuronIds], [1, 2, 0]);
  assert.deepEqual([...ep.getRewards().timesteps], [1]);
  assert.deepEqual([...ep.getRewards().values], [2]);
  const ep1 = loader.getEpisode(1);
  assert.deepEqual([...ep1.getSpikes().timesteps], [5]);
  assert.deepEqual([...ep1.getSpikes().neuronIds], [2]);
  assert.deepEqual([...ep1.getRewards().timesteps], [5]);
  assert.deepEqual([...ep1.getRewards().values], [-1]);
});

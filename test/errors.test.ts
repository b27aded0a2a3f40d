/** Bad input gives a typed error with an actionable message; the file stays valid and earlier data intact. */
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { DataExporter, ExperimentLoader, isSnnExportError, SnnExportError, type ErrorCode } from "#lib/index.js";
import { tempDir } from "./helpers.js";

function throwsCode(fn: () => unknown, code: ErrorCode, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SnnExportError, `expected an SnnExportError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

test("experiment names with path separators or .. are rejected before anything is created", async (t) => {
  const dir = tempDir(t);
  for (const name of ["../escape", "a/b", "a\\b", "..", "", "x..y"]) {
    await assert.rejects(DataExporter.create(name, { outputBaseDir: dir }), (err: unknown) => isSnnExportError(err, "INVALID_NAME"));
  }
  assert.deepEqual(readdirSync(dir), []);
});

test("bad options are rejected with the option named", async (t) => {
  const dir = tempDir(t);
  writeFileSync(`${dir}/a-file`, "x");
  await assert.rejects(DataExporter.create("x", { outputBaseDir: `${dir}/a-file` }), (err: unknown) => isSnnExportError(err, "INVALID_OPTION") && /not a directory/.test((err as Error).message));
  await assert.rejects(DataExporter.create("x", { outputBaseDir: dir, compressionLevel: 12 }), /compressionLevel/);
  await assert.rejects(DataExporter.create("x", { outputBaseDir: dir, chunkSize: 0 }), /chunkSize/);
  await assert.rejects(DataExporter.create("x", { outputBaseDir: dir, compression: "lzf" as "gzip" }), /compression/);
  await assert.rejects(DataExporter.create("x", { outputBaseDir: dir, neuralSampling: 3 } as never), /unknown option neuralSampling/);
});

test("every bad call is a typed error and leaves earlier data intact", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("errors", { outputBaseDir: dir });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from([0, 1, 2, 3]) } });
  throwsCode(() => ex.log({ timestep: 0 }), "NO_EPISODE", /startEpisode\(\) first/);
  throwsCode(() => ex.endEpisode(), "NO_EPISODE", /startEpisode/);
  ex.startEpisode();
  throwsCode(() => ex.startEpisode(), "EPISODE_OPEN", /endEpisode\(\) first/);
  const v = (x: number) => Float32Array.from([x, x, x, x]);
  ex.log({ timestep: 0, neuralState: { v: v(0) }, spikes: [1, 3], behavior: { x: 0.5 }, reward: 1 });
  ex.log({ timestep: 1, neuralState: { v: v(1) }, spikes: Uint8Array.from([1, 0, 0, 0]), behavior: { x: 0.25 } });
  throwsCode(() => ex.log({ timestep: 2, neuralState: { v: Float32Array.from([1, 2, 3]) }, spikes: [0] }), "SHAPE_MISMATCH", /"v" has shape \[3\] but had \[4\]/);
  throwsCode(() => ex.log({ timestep: 2, spikes: [4] }), "OUT_OF_RANGE", /spike id 4 .* neuron count 4/);
  throwsCode(() => ex.log({ timestep: 2, spikes: [-1] }), "OUT_OF_RANGE", /not a non-negative integer/);
  throwsCode(() => ex.log({ timestep: 2, spikes: Uint8Array.from([1, 0, 0]) }), "SHAPE_MISMATCH", /3 entries but the network has 4 neurons/);
  throwsCode(() => ex.log({ timestep: 2.5 }), "INVALID_DATA", /must be an integer/);
  throwsCode(() => ex.log({ timestep: 1 }), "TIMESTEP_ORDER", /not after the previous timestep 1/);
  throwsCode(() => ex.log({ timestep: 0 }), "TIMESTEP_ORDER", /increase within an episode/);
  throwsCode(() => ex.log({ timestep: 2, neuralState: { v: Float32Array.from([NaN, 0, 0, 0]) } }), "INVALID_DATA", /NaN at flat index 0.*allowNonFinite/);
  throwsCode(() => ex.log({ timestep: 2, reward: Infinity }), "INVALID_DATA", /reward must be a finite number/);
  throwsCode(() => ex.log({ timestep: 2, behavior: { x: [1, 2] } }), "SHAPE_MISMATCH", /behavior "x"/);
  throwsCode(() => ex.log({ timestep: 2, spikes: "1,2" as never }), "INVALID_DATA", /spikes must be a 0\/1 mask/);
  throwsCode(() => ex.logWeightChange({ timestep: 2, sourceId: 9, targetId: 0, oldWeight: 0, newWeight: 1 }), "OUT_OF_RANGE", /sourceId 9 is not below 4/);
  throwsCode(() => ex.logWeightChange({ timestep: 2, oldWeight: 0, newWeight: 1 }), "INVALID_DATA", /either synapseId, or both sourceId and targetId/);
  throwsCode(() => ex.logEvent({ timestep: 2, type: "" }), "INVALID_DATA", /type must be a non-empty string/);
  throwsCode(() => ex.logEvent({ timestep: 2, type: "x", data: { f: () => 1 } }), "INVALID_DATA", /function/);
  // after all the rejected calls, logging goes on where it was
  ex.log({ timestep: 2, neuralState: { v: v(2) }, spikes: [2], behavior: { x: 0.125 } });
  ex.endEpisode({ success: true });
  throwsCode(() => ex.endEpisode(), "NO_EPISODE", /startEpisode/);
  throwsCode(() => ex.saveCheckpoint("a/b", {}), "INVALID_DATA", /not usable as an HDF5 name/);
  await ex.close();
  throwsCode(() => ex.startEpisode(), "CLOSED", /after close\(\)/);
  throwsCode(() => ex.log({ timestep: 3 }), "CLOSED", /after close\(\)/);
  throwsCode(() => ex.saveConfig({ a: 1 }), "CLOSED", /after close\(\)/);
  throwsCode(() => ex.saveCheckpoint("late", {}), "CLOSED", /after close\(\)/);

  await using loader = await ExperimentLoader.open(ex.outputDir);
  assert.equal(loader.episodeCount, 1);
  const ep = loader.getEpisode(0);
  assert.deepEqual([...ep.getTimesteps()], [0, 1, 2]);
  assert.deepEqual([...ep.getNeuralStates().variables.v.data], [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  assert.deepEqual([...ep.getSpikes().neuronIds], [1, 3, 0, 2]);
  assert.deepEqual([...ep.getSpikes().timesteps], [0, 0, 1, 2]);
  assert.deepEqual([...ep.getBehavior().variables.x.data], [0.5, 0.25, 0.125]);
  assert.deepEqual([...ep.getRewards().values], [1]);
  assert.equal(ep.getWeightChanges().timesteps.length, 0);
  assert.equal(ep.getEvents().length, 0);
  assert.equal(ep.attrs.status, "completed");
});

test("the neuron count comes from the first mask when no network was saved", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("mask", { outputBaseDir: dir });
  ex.startEpisode();
  ex.log({ timestep: 0, spikes: [true, false, true] });
  throwsCode(() => ex.log({ timestep: 1, spikes: [3] }), "OUT_OF_RANGE", /neuron count 3/);
  throwsCode(() => ex.log({ timestep: 1, spikes: [1, 1] }), "INVALID_DATA", /listed twice/);
  ex.log({ timestep: 1, spikes: [2, 0] });
  await ex.close();
  await using loader = await ExperimentLoader.open(ex.filePath);
  assert.deepEqual([...loader.getEpisode(0).getSpikes().neuronIds], [0, 2, 0, 2]);
});

test("the loader gives typed errors for missing and foreign files", async (t) => {
  const dir = tempDir(t);
  await assert.rejects(ExperimentLoader.open(`${dir}/nope`), (err: unknown) => isSnnExportError(err, "NOT_FOUND"));
  const ex = await DataExporter.create("one", { outputBaseDir: dir });
  await ex.close();
  await using loader = await ExperimentLoader.open(ex.outputDir);
  assert.throws(() => loader.getEpisode(0), (err: unknown) => isSnnExportError(err, "NOT_FOUND"));
  assert.ok(existsSync(ex.filePath));
});

test("weight changes: each bad id, weight or shape is a typed error naming it; the accepted ones are all stored", async (t) => {
  const dir = tempDir(t);
  for (const validateData of [true, false]) {
    const ex = await DataExporter.create(`wc_${validateData}`, { outputBaseDir: dir, validateData });
    // 3 neurons, 4 synapses
    ex.saveNetworkStructure({ weights: { sourceIds: [0, 0, 1, 2], targetIds: [1, 2, 2, 0], values: [0.1, 0.2, 0.3, 0.4], shape: [3, 3] } });
    ex.startEpisode();
    ex.logWeightChange({ timestep: 5, synapseId: 3, oldWeight: 0.4, newWeight: 0.5 });
    const bad: [Parameters<typeof ex.logWeightChange>[0], ErrorCode, RegExp][] = [
      [null as never, "INVALID_DATA", /logWeightChange\(\) takes \{ timestep/],
      [{ timestep: 6, oldWeight: 0, newWeight: 1 }, "INVALID_DATA", /either synapseId, or both sourceId and targetId/],
      [{ timestep: 6, synapseId: 1, sourceId: 0, oldWeight: 0, newWeight: 1 }, "INVALID_DATA", /either synapseId, or both/],
      [{ timestep: 6, sourceId: 0, oldWeight: 0, newWeight: 1 }, "INVALID_DATA", /either synapseId, or both/],
      [{ timestep: 6, synapseId: -1, oldWeight: 0, newWeight: 1 }, "OUT_OF_RANGE", /synapseId -1 is not a non-negative integer/],
      [{ timestep: 6, synapseId: 1.5, oldWeight: 0, newWeight: 1 }, "INVALID_DATA", /synapseId 1.5 is not an integer/],
      [{ timestep: 6, sourceId: 0, targetId: -2, oldWeight: 0, newWeight: 1 }, "OUT_OF_RANGE", /targetId -2 is not a non-negative integer/],
      [{ timestep: 6, synapseId: 0, targetId: 1, oldWeight: 0, newWeight: 1 }, "INVALID_DATA", /either synapseId, or both/],
      [{ timestep: 6.5, synapseId: 0, oldWeight: 0, newWeight: 1 }, "INVALID_DATA", /timestep must be an integer/],
    ];
    if (validateData) {
      bad.push(
        [{ timestep: 6, synapseId: 4, oldWeight: 0, newWeight: 1 }, "OUT_OF_RANGE", /synapseId 4 is not below 4, the size of the saved network/],
        [{ timestep: 6, sourceId: 3, targetId: 0, oldWeight: 0, newWeight: 1 }, "OUT_OF_RANGE", /sourceId 3 is not below 3/],
        [{ timestep: 6, sourceId: 0, targetId: 7, oldWeight: 0, newWeight: 1 }, "OUT_OF_RANGE", /targetId 7 is not below 3/],
        [{ timestep: 6, synapseId: 0, oldWeight: NaN, newWeight: 1 }, "INVALID_DATA", /oldWeight/],
        [{ timestep: 6, synapseId: 0, oldWeight: 0, newWeight: Infinity }, "INVALID_DATA", /newWeight/],
      );
    }
    for (const [c, code, pattern] of bad) throwsCode(() => ex.logWeightChange(c), code, pattern);
    // without validation the network sizes are not checked: an id past them is kept as given
    if (!validateData) ex.logWeightChange({ timestep: 6, synapseId: 40, oldWeight: 0, newWeight: 1 });
    ex.logWeightChange({ timestep: 2, sourceId: 2, targetId: 0, oldWeight: 0.4, newWeight: 0.45 }); // out of order: sorted at the end
    ex.endEpisode();
    await ex.close();
    await using loader = await ExperimentLoader.open(ex.outputDir);
    const wc = loader.getEpisode(0).getWeightChanges();
    const rows = Array.from(wc.timesteps, (ts, i) => [ts, wc.synapseIds[i], wc.sourceIds[i], wc.targetIds[i], wc.oldWeights[i], wc.newWeights[i]]);
    const want = [[2, -1, 2, 0, 0.4, 0.45], [5, 3, -1, -1, 0.4, 0.5]];
    if (!validateData) want.push([6, 40, -1, -1, 0, 1]);
    assert.deepEqual(rows, want, `validateData ${validateData}`);
  }
});

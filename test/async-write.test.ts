/** asyncWrite: the file work runs on a worker thread; same files, same errors, worker failures surface. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DataExporter, ExperimentLoader, isSnnExportError } from "#lib/index.js";
import { WorkerWriter } from "#lib/h5/async/proxy.js";
import { assertSameFiles, episodeView, writeExperimentLogged } from "./fixtures.js";
import { checkAsKilled, tempDir } from "./helpers.js";

test("asyncWrite writes the same data as the synchronous writer", async (t) => {
  const dir = tempDir(t);
  const syncRun = await writeExperimentLogged(DataExporter, dir, 5);
  const asyncRun = await writeExperimentLogged(DataExporter, dir, 5, { asyncWrite: true });
  const [sync, async_] = [syncRun.dir, asyncRun.dir];
  await using a = await ExperimentLoader.open(sync);
  await using b = await ExperimentLoader.open(async_);
  assert.equal(b.getMetadata().status, "closed");
  assert.deepEqual(b.getConfig(), a.getConfig());
  assert.deepEqual(b.getNetworkStructure(), a.getNetworkStructure());
  for (let e = 0; e < 3; e++) assert.deepEqual(episodeView(b.getEpisode(e)), episodeView(a.getEpisode(e)));
  // and as h5py reads them (not our loader): the same content, and the inputs that were logged
  assertSameFiles(t, syncRun.file, asyncRun.file, syncRun.episodes);
});

test("asyncWrite: bad input gives the same typed errors, and flush() waits for the thread", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("async_errors", { outputBaseDir: dir, asyncWrite: true, provenance: false });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from([0, 1, 2]) } });
  assert.throws(() => ex.log({ timestep: 0 }), (e: unknown) => isSnnExportError(e, "NO_EPISODE"));
  ex.startEpisode();
  ex.log({ timestep: 0, spikes: [1], behavior: { x: 1 } });
  assert.throws(() => ex.log({ timestep: 0 }), (e: unknown) => isSnnExportError(e, "TIMESTEP_ORDER"));
  assert.throws(() => ex.log({ timestep: 1, spikes: [3] }), (e: unknown) => isSnnExportError(e, "OUT_OF_RANGE"));
  ex.log({ timestep: 1, spikes: [2], behavior: { x: 2 } });
  ex.flush();
  // after flush() returns, a reader sees both steps
  {
    await using loader = await ExperimentLoader.open(ex.filePath);
    assert.deepEqual([...loader.getEpisode(0).getSpikes().neuronIds], [1, 2]);
  }
  ex.endEpisode();
  await ex.close();
  assert.throws(() => ex.log({ timestep: 2 }), (e: unknown) => isSnnExportError(e, "CLOSED"));
});

test("an error on the write thread is raised at the next call and at close, with its message", async (t) => {
  const dir = tempDir(t);
  const w = await WorkerWriter.create(`${dir}/x.h5`);
  // the failed writer stops writing (fail-stop): its file is as a killed writer leaves it, not truncated at close
  checkAsKilled(`${dir}/x.h5`);
  w.createGroup("a");
  w.link("/does/not/exist", "/a/b"); // fails on the thread
  w.waitIdle = w.waitIdle.bind(w);
  assert.throws(() => {
    w.waitIdle();
  }, (e: unknown) => isSnnExportError(e) && /write thread failed.*does not exist/.test((e as Error).message));
  assert.throws(() => w.createGroup("c"), /does not exist/);
  assert.throws(() => w.close(), /does not exist/);
  assert.equal(w.isOpen, false);
});

/**
 * Loader details that the larger loader tests leave open, each against values worked out from
 * the inputs or FORMAT.md: the valid ids a NOT_FOUND names (none, one, a run not starting at 0,
 * gaps), an episode table missing a column, the kinds of dataset a network record may hold, and
 * the neuron selections of windows. Files are written through the writer layer or the exporter,
 * never read back by anything but the code under test. Fast (no Python): part of the loader's
 * mutation-testing command (stryker.config.mjs) as well as of `npm test`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { DataExporter, ExperimentLoader, isSnnExportError } from "#lib/index.js";
import { createWriter } from "#lib/h5/index.js";
import { EPISODE_COLUMNS, EPISODES, FORMAT_NAME, ROOT } from "#lib/schema.js";
import { tempDir } from "./helpers.js";
import { writeV2 } from "./v2-fixture.js";

const GOLDEN_EMPTY = fileURLToPath(new URL("../../test/fixtures/golden/v1.0/empty.h5", import.meta.url));
const NONE = { compression: "none" } as never;

function notFound(loader: ExperimentLoader, id: number, text: string): void {
  assert.throws(() => loader.getEpisode(id), (e: unknown) => {
    assert.ok(isSnnExportError(e, "NOT_FOUND"), String(e));
    assert.ok((e as Error).message.endsWith(text), `${(e as Error).message} should end with ${text}`);
    return true;
  });
}

/** A format 1.0 file whose episodes are the groups `episode_NNNN` of `ids`, and a network record of every kind of dataset. */
async function v1File(file: string, ids: number[]): Promise<void> {
  const w = await createWriter(file, "ts");
  const root: Record<string, string> = {
    format_name: FORMAT_NAME, format_version: "1.0", layout: "optimized", experiment_name: "ids", start_time: "2024-01-01T12:00:00.000Z",
    end_time: "2024-01-01T12:05:00.000Z", status: "closed", exporter_options: "{}", creator: "test",
  };
  for (const [k, v] of Object.entries(root)) w.setAttr("/", k, v);
  w.createGroup("/episodes");
  for (const id of ids) {
    const g = `/episodes/episode_${String(id).padStart(4, "0")}`;
    w.createGroup(g);
    w.setAttr(g, "status", "completed");
  }
  w.createGroup("/network_structure");
  w.createGroup("/network_structure/neurons");
  w.writeArray("/network_structure/neurons/big", BigInt64Array.from([2n ** 60n + 1n, 3n]), [2], NONE);
  w.writeArray("/network_structure/neurons/x", Float64Array.from([0.5, 1.5]), [2], NONE);
  w.writeText("/network_structure/neurons/label", "one text");
  w.writeStrings("/network_structure/neurons/names", ["a", "b"]);
  w.createGroup("/network_structure/neurons/sub"); // not a dataset: not a field
  w.close();
}

test("NOT_FOUND names the valid ids: none, one, a run not starting at 0, ids with gaps", async (t) => {
  const dir = tempDir(t);
  {
    using empty = await ExperimentLoader.open(GOLDEN_EMPTY);
    notFound(empty, 0, "the file has no episodes");
  }
  const one = join(dir, "one.h5");
  await writeV2(one, [{ steps: [{ timestep: 0 }], startTime: 1_704_110_400 }]);
  {
    using loader = await ExperimentLoader.open(one);
    notFound(loader, 1, "valid ids are 0..0 (1 episode)");
  }
  const run = join(dir, "run.h5");
  await v1File(run, [2, 3, 4]);
  {
    using loader = await ExperimentLoader.open(run);
    assert.deepEqual(loader.listEpisodes(), [2, 3, 4]);
    notFound(loader, 0, "valid ids are 2..4 (3 episodes)");
  }
  const gaps = join(dir, "gaps.h5");
  await v1File(gaps, [3, 5, 9]);
  {
    using loader = await ExperimentLoader.open(gaps);
    notFound(loader, 4, "valid ids are 3, 5, 9");
  }
});

test("a network record: numbers, int64 beyond 2^53 exactly, a text as a one-element list, a string list; a subgroup is not a field", async (t) => {
  const file = join(tempDir(t), "net.h5");
  await v1File(file, [0]);
  using loader = await ExperimentLoader.open(file);
  const neurons = loader.getNetworkStructure().neurons as Record<string, unknown>;
  assert.deepEqual(Object.keys(neurons).sort(), ["big", "label", "names", "x"]);
  assert.deepEqual((neurons.big as { data: unknown }).data, BigInt64Array.from([2n ** 60n + 1n, 3n]));
  assert.deepEqual((neurons.x as { data: unknown }).data, Float64Array.from([0.5, 1.5]));
  assert.deepEqual(neurons.label, ["one text"]);
  assert.deepEqual(neurons.names, ["a", "b"]);
});

test("an episode table missing a column is a FormatError naming it", async (t) => {
  const file = join(tempDir(t), "table.h5");
  const w = await createWriter(file, "ts");
  for (const [k, v] of Object.entries({ [ROOT.formatName]: FORMAT_NAME, [ROOT.formatVersion]: "2.0", [ROOT.layout]: "optimized", [ROOT.status]: "closed" })) w.setAttr("/", k, v);
  w.setAttr("/", ROOT.episodeCount, 1n);
  w.createGroup(EPISODES.group);
  for (const c of EPISODE_COLUMNS) {
    if (c.name === "total_reward" || c.name === "event_rows") continue;
    w.writeArray(`${EPISODES.group}/${c.name}`, c.range ? new Float64Array(2) : new Float64Array(1), c.range ? [1, 2] : [1], NONE);
  }
  w.close();
  await assert.rejects(ExperimentLoader.open(file), (e: unknown) => {
    assert.ok(isSnnExportError(e, "INVALID_DATA"), String(e));
    assert.equal((e as Error).message, `the episode table ${EPISODES.group} of ${file} has no column total_reward, event_rows`);
    return true;
  });
});

test("windows: neuron selections by range and by list, refused ones typed; [T, N, k] state rows cut by neuron", async (t) => {
  const dir = tempDir(t);
  const N = 5;
  const ex = await DataExporter.create("win", { outputBaseDir: dir, provenance: false, flushIntervalMs: 0 });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from([0, 1, 2, 3, 4]) } });
  ex.startEpisode();
  const rows: number[][] = [];
  for (let s = 0; s < 4; s++) {
    const w = Float64Array.from({ length: N * 2 }, (_, k) => 100 * s + k); // neuron i: [100s + 2i, 100s + 2i + 1]
    rows.push([...w]);
    ex.log({ timestep: s, spikes: [s % N, (s + 2) % N], neuralState: { w: { data: w, shape: [N, 2] } } });
  }
  ex.endEpisode();
  await ex.close();
  using loader = await ExperimentLoader.open(ex.filePath);
  const ep = loader.getEpisode(0);
  const st = ep.getNeuralStates({ neurons: [1, 3] });
  assert.deepEqual(st.variables.w.shape, [4, 2, 2]);
  assert.deepEqual(Array.from(st.variables.w.data as Float64Array), rows.flatMap((r) => [r[2], r[3], r[6], r[7]]));
  const byRange = ep.getSpikes({ neurons: { from: 1, to: 3 } });
  const all = [0, 1, 2, 3].flatMap((s) => [s % N, (s + 2) % N].sort((a, b) => a - b).map((id) => [s, id]));
  assert.deepEqual([...byRange.neuronIds].map((id, i) => [byRange.timesteps[i], id]), all.filter(([, id]) => id >= 1 && id < 3));
  const byList = ep.getSpikes({ neurons: { 0: 4, length: 1, from: 0, to: 5 } as never }); // has a length: a list of ids, [4]
  assert.deepEqual([...byList.neuronIds], all.filter(([, id]) => id === 4).map(([, id]) => id));
  for (const [sel, msg] of [
    [{ from: Number.NaN, to: 3 }, 'neurons { from, to } must be numbers, got {"from":null,"to":3}'],
    [{ from: 0, to: Number.POSITIVE_INFINITY }, 'neurons { from, to } must be numbers, got {"from":0,"to":null}'],
    [null, "neurons must be a list of ids or { from, to }, got null"],
  ] as const) {
    assert.throws(() => ep.getSpikes({ neurons: sel as never }), (e: unknown) => isSnnExportError(e, "INVALID_DATA") && (e as Error).message === msg, JSON.stringify(sel));
  }
});

test("a summary that is not JSON is a FormatError naming its row", async (t) => {
  const file = join(tempDir(t), "summary.h5");
  const w = await createWriter(file, "ts");
  for (const [k, v] of Object.entries({ [ROOT.formatName]: FORMAT_NAME, [ROOT.formatVersion]: "2.0", [ROOT.layout]: "optimized", [ROOT.status]: "closed" })) w.setAttr("/", k, v);
  w.setAttr("/", ROOT.episodeCount, 2n);
  w.createGroup(EPISODES.group);
  for (const c of EPISODE_COLUMNS) {
    const v = c.name === "episode_id" ? Float64Array.from([0, 1]) : new Float64Array(c.range ? 4 : 2);
    w.writeArray(`${EPISODES.group}/${c.name}`, v, c.range ? [2, 2] : [2], NONE);
  }
  w.writeStrings(EPISODES.summary, ['{"ok": 1}', "{bad"]);
  w.close();
  using loader = await ExperimentLoader.open(file);
  assert.deepEqual(loader.getEpisode(0).getSummary(), { ok: 1 });
  assert.throws(() => loader.getEpisode(1).getSummary(), (e: unknown) => {
    assert.ok(isSnnExportError(e), String(e));
    assert.ok((e as Error).message.includes(`${EPISODES.summary}[1]`), (e as Error).message);
    return true;
  });
});

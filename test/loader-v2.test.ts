/**
 * Loader tests for format 2.0 files, built by test/v2-fixture.ts straight through the writer layer.
 * Expected values come from the fixture's inputs (what was logged), never from the loader.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { FormatError, StateError, ValidationError } from "#lib/errors.js";
import { DataExporter } from "#lib/exporter/exporter.js";
import { createWriter } from "#lib/h5/index.js";
import { H5Reader } from "#lib/h5/reader.js";
import { FORMAT_NAME, GROUPS, ROOT, V1 } from "#lib/schema.js";
import { ExperimentLoader, quickLoad, type EpisodeData } from "#lib/loader/index.js";
import { tempDir } from "./helpers.js";
import { CHUNK, keptSteps, totalReward, writeV2, type FixtureEpisode, type FixtureStep } from "./v2-fixture.js";

const f64 = (xs: number[]): Float64Array => Float64Array.from(xs);
const T0 = 1_704_110_400; // 2024-01-01T12:00:00Z

const v4 = (x: number) => [x, x, x, x];

/**
 * Four episodes: 0 full with unsorted weight changes; 1 brings the neural variable `u` and the
 * behaviour key `y` at its third step; 2 has no steps; 3 has all of them from its first step and
 * is `running` (the writer's last episode) or ended `incomplete` (closed at `close()`).
 */
export function fixtureEpisodes(running: boolean): FixtureEpisode[] {
  const ep0: FixtureStep[] = [
    { timestep: 10, spikes: [0, 3], behavior: { x: 0 }, neuralState: { v: [0, 1, 2, 3] } },
    { timestep: 11, spikes: [], behavior: { x: 0.5 }, reward: 0.5 },
    { timestep: 12, spikes: [1], behavior: { x: 1 }, neuralState: { v: [4, 5, 6, 7] } },
    { timestep: 13, spikes: [0, 1, 2], behavior: { x: 1.5 } },
    { timestep: 14, behavior: { x: 2 }, neuralState: { v: [8, 9, 10, 11] }, reward: 1 },
  ];
  const ep1: FixtureStep[] = [
    { timestep: 20, spikes: [4], behavior: { x: 3 }, neuralState: { v: v4(1) }, reward: -1 },
    { timestep: 21, behavior: { x: 3.5 }, neuralState: { v: v4(2) } },
    { timestep: 22, spikes: [5, 6], behavior: { x: 4, y: [1, 2] }, neuralState: { v: v4(3), u: [9, 8] } },
    { timestep: 23, spikes: [7], behavior: { x: 4.5, y: [3, 4] }, neuralState: { v: v4(4), u: [7, 6] } },
  ];
  const ep3: FixtureStep[] = [30, 31, 32, 33, 34].map((t, i) => ({
    timestep: t,
    spikes: [[0], [1, 2], [], [3], [4, 5]][i],
    behavior: { x: 5 + i / 2, y: [5 + i, 5 + i] },
    neuralState: { v: v4(5 + i), u: [5 + i, 5 + i] },
    reward: [2, 0, 0, 3, 0][i],
  }));
  return [
    {
      steps: ep0, neuralSamplingRate: 2, startTime: T0 + 1, endTime: T0 + 2.25,
      weightChanges: [
        { timestep: 13, synapseId: 5, oldWeight: 0.1, newWeight: 0.15 },
        { timestep: 11, sourceId: 0, targetId: 3, oldWeight: 0.2, newWeight: 0.25 },
        { timestep: 11, synapseId: 7, oldWeight: 0.3, newWeight: 0.35 },
        { timestep: 12, synapseId: 1, oldWeight: 0.4, newWeight: 0.45 },
      ],
      events: [{ timestep: 10, type: "start", data: { k: 1 } }, { timestep: 13, type: "note" }],
      static: { arena: { width: 3 } },
      end: { success: true, summary: { accuracy: 0.5 } },
    },
    {
      steps: ep1, neuralSamplingRate: 2, startTime: T0 + 3, endTime: T0 + 4,
      weightChanges: [{ timestep: 23, synapseId: 2, oldWeight: 1, newWeight: 2 }, { timestep: 20, synapseId: 3, oldWeight: 3, newWeight: 4 }],
      events: [{ timestep: 21, type: "lr", data: { lr: 0.1 } }],
      end: { success: false },
    },
    { steps: [], neuralSamplingRate: 2, startTime: T0 + 5, endTime: T0 + 5.5, end: { success: false, summary: { empty: true } } },
    {
      steps: ep3, neuralSamplingRate: 2, startTime: T0 + 6,
      weightChanges: [
        { timestep: 34, synapseId: 9, oldWeight: 0, newWeight: 1 },
        { timestep: 31, synapseId: 8, oldWeight: 0, newWeight: 1 },
        { timestep: 31, sourceId: 1, targetId: 2, oldWeight: 0, newWeight: 1 },
      ],
      events: [{ timestep: 30, type: "a", data: { i: 0 } }, { timestep: 32, type: "b", data: { i: 1 } }, { timestep: 34, type: "c", data: { i: 2 } }],
      ...(running ? {} : { endTime: T0 + 7, end: { status: "incomplete" as const } }),
    },
  ];
}

/** A series as the loader returns it, computed from the logged steps: keys seen in the episode, NaN where left out. */
function expectedSeries(steps: FixtureStep[], pick: (s: FixtureStep) => Record<string, number | number[]> | undefined) {
  const keys = [...new Set(steps.flatMap((s) => Object.keys(pick(s) ?? {})))].sort();
  const variables: Record<string, { data: Float64Array; shape: number[]; dtype: string }> = {};
  for (const k of keys) {
    const width = steps.map((s) => pick(s)?.[k]).find((v) => v !== undefined);
    const size = typeof width === "number" ? 1 : (width as number[]).length;
    const data = steps.flatMap((s) => {
      const v = pick(s)?.[k];
      return v === undefined ? new Array(size).fill(NaN) : typeof v === "number" ? [v] : v;
    });
    variables[k] = { data: f64(data), shape: typeof width === "number" ? [steps.length] : [steps.length, size], dtype: "float64" };
  }
  return { timesteps: f64(steps.map((s) => s.timestep)), variables };
}

/** Everything the loader returns for an episode, computed from what was logged (its first `nSteps` steps). */
export function expected(ep: FixtureEpisode, id: number, status: string) {
  const steps = ep.steps;
  const wc = (ep.weightChanges ?? []).map((c, i) => ({ c, i })).sort((a, b) => a.c.timestep - b.c.timestep || a.i - b.i).map((x) => x.c);
  const kept = keptSteps(ep).map((i) => steps[i]);
  return {
    attrs: {
      episode_id: id, status, success: ep.end?.success ?? null, total_timesteps: steps.length,
      total_spikes: steps.reduce((n, s) => n + (s.spikes?.length ?? 0), 0), total_reward: totalReward(ep),
      first_timestep: steps[0]?.timestep ?? -1, last_timestep: steps.at(-1)?.timestep ?? -1, neural_sampling_rate: ep.neuralSamplingRate ?? 1,
      start_time: new Date(ep.startTime * 1000).toISOString(),
      ...(ep.endTime === undefined ? {} : { end_time: new Date(ep.endTime * 1000).toISOString() }),
    },
    timesteps: f64(steps.map((s) => s.timestep)),
    neural: steps.length ? expectedSeries(kept, (s) => s.neuralState) : { timesteps: f64([]), variables: {} },
    behavior: expectedSeries(steps, (s) => s.behavior),
    spikes: { timesteps: f64(steps.flatMap((s) => (s.spikes ?? []).map(() => s.timestep))), neuronIds: Uint32Array.from(steps.flatMap((s) => s.spikes ?? [])) },
    rewards: { timesteps: f64(steps.filter((s) => s.reward).map((s) => s.timestep)), values: f64(steps.filter((s) => s.reward).map((s) => s.reward!)) },
    weightChanges: {
      timesteps: f64(wc.map((c) => c.timestep)), synapseIds: f64(wc.map((c) => c.synapseId ?? -1)),
      sourceIds: f64(wc.map((c) => c.sourceId ?? -1)), targetIds: f64(wc.map((c) => c.targetId ?? -1)),
      oldWeights: f64(wc.map((c) => c.oldWeight)), newWeights: f64(wc.map((c) => c.newWeight)),
    },
    events: (ep.events ?? []).map((e) => ({ timestep: e.timestep, type: e.type, data: e.data ?? null })),
    summary: ep.end?.summary ?? null,
    static: ep.static ?? {},
  };
}

/** Everything the loader returns for an episode, in the shape of {@link expected}. */
export function actual(ep: EpisodeData) {
  return {
    attrs: ep.attrs,
    timesteps: ep.getTimesteps(),
    neural: ep.getNeuralStates(),
    behavior: ep.getBehavior(),
    spikes: ep.getSpikes(),
    rewards: ep.getRewards(),
    weightChanges: ep.getWeightChanges(),
    events: ep.getEvents(),
    summary: ep.getSummary(),
    static: Object.fromEntries(ep.listStaticData().map((n) => [n, ep.getStaticData(n)])),
  };
}

test("2.0: every episode comes back as logged (late variables padded, zero-step episode, weight changes sorted)", async (t) => {
  const file = join(tempDir(t), "v2.h5");
  const eps = fixtureEpisodes(false);
  await writeV2(file, eps);
  using loader = await ExperimentLoader.open(file);
  assert.equal(loader.getMetadata().formatVersion, "2.0");
  assert.deepEqual(loader.listEpisodes(), [0, 1, 2, 3]);
  assert.equal(loader.episodeCount, 4);
  const status = ["completed", "completed", "completed", "incomplete"];
  for (const id of loader.listEpisodes()) {
    assert.deepEqual(actual(loader.getEpisode(id)), expected(eps[id], id, status[id]), `episode ${id}`);
  }
  // the late variables, spelled out: padding rows before their first value in episode 1, absent in episode 0
  const ep1 = loader.getEpisode(1);
  assert.deepEqual(ep1.getBehavior().variables.y.data, f64([NaN, NaN, NaN, NaN, 1, 2, 3, 4]));
  assert.deepEqual(ep1.getNeuralStates(["u"]).variables.u, { data: f64([NaN, NaN, 9, 8]), shape: [2, 2], dtype: "float64" });
  assert.deepEqual(Object.keys(loader.getEpisode(0).getBehavior().variables), ["x"]);
  assert.throws(() => loader.getEpisode(0).getNeuralStates(["u"]), (e) =>
    e instanceof ValidationError && e.code === "NOT_FOUND" && /no neural_states variable "u"; stored: v/.test(e.message));
  assert.deepEqual(loader.getEpisode(0).getWeightChanges().synapseIds, f64([-1, 7, 1, 5]));
  assert.throws(() => loader.getEpisode(2).getStaticData("arena"), (e) => e instanceof ValidationError && e.code === "NOT_FOUND");
});

test("2.0: episodes() gives the table as columns", async (t) => {
  const file = join(tempDir(t), "v2.h5");
  const eps = fixtureEpisodes(false);
  await writeV2(file, eps);
  using loader = await ExperimentLoader.open(file);
  const table = loader.episodes();
  assert.deepEqual(table, {
    ids: f64([0, 1, 2, 3]),
    status: ["completed", "completed", "completed", "incomplete"],
    success: Int8Array.from([1, 0, 0, -1]),
    totalTimesteps: f64(eps.map((e) => e.steps.length)),
    totalSpikes: f64([6, 4, 0, 6]),
    totalReward: f64([1.5, -1, 0, 5]),
    firstTimestep: f64([10, 20, -1, 30]),
    lastTimestep: f64([14, 23, -1, 34]),
    neuralSamplingRate: f64([2, 2, 2, 2]),
    startTime: f64(eps.map((e) => e.startTime)),
    endTime: f64(eps.map((e) => e.endTime ?? NaN)),
  });
  table.ids[0] = 99; // a copy: the loader's table is unchanged
  assert.equal(loader.episodes().ids[0], 0);
});

test("2.0: a missing id is NOT_FOUND naming the valid ids; the table, not episode_count, says which exist", async (t) => {
  const file = join(tempDir(t), "v2.h5");
  // the writer died between startEpisode() and the next flush: episode_count is one ahead of the table
  await writeV2(file, fixtureEpisodes(true), { rootStatus: "open", episodeCount: 5 });
  using loader = await ExperimentLoader.open(file);
  assert.equal(loader.rootAttributes.episode_count, 5);
  assert.deepEqual([loader.episodeCount, loader.listEpisodes()], [4, [0, 1, 2, 3]]);
  for (const bad of [4, -1, 0.5, NaN]) {
    assert.throws(() => loader.getEpisode(bad), (e) =>
      e instanceof ValidationError && e.code === "NOT_FOUND" && e.message.includes("valid ids are 0..3 (4 episodes)"));
  }
  await assert.rejects(quickLoad(file, { episodeId: 4 }), (e) => e instanceof ValidationError && e.code === "NOT_FOUND");
  const q = await quickLoad(file, { episodeId: 1 });
  assert.deepEqual(q.episode.spikes.neuronIds, Uint32Array.from([4, 5, 6, 7]));
  // closed: even rows read before (and kept as decoded chunks) are not handed out
  const ep = loader.getEpisode(1);
  ep.getTimesteps();
  loader.close();
  assert.throws(() => ep.getTimesteps(), (e) => e instanceof StateError && e.code === "CLOSED");
  assert.throws(() => ep.attrs, (e) => e instanceof StateError && e.code === "CLOSED");
  for (const f of [() => loader.listEpisodes(), () => loader.episodeCount, () => loader.episodes(), () => loader.getEpisode(0)]) {
    assert.throws(f, (e) => e instanceof StateError && e.code === "CLOSED");
  }
});

/** A writer killed during episode 3: streams cut short by different amounts after its last flush. */
const KILL_CUTS = {
  "/spikes/counts": 1, // 4 of episode 3's 5 steps
  "/spikes/neuron_ids": 1, // 5 of its 6 spikes
  "/behavior/y": 2, // 3 of its 5 steps: the steps present in every step-aligned stream
  "/neural_states/u": 1, // 2 of its 3 samples
  "/rewards/values": 1, // 1 of its 2 rewards
  "/weight_changes/new_weights": 1, // 2 of its 3 weight changes
  "/events/data": 1, // 2 of its 3 events
};

test("2.0 interrupted: the running episode is `interrupted`, every stream cut to the rows present", async (t) => {
  const file = join(tempDir(t), "killed.h5");
  const eps = fixtureEpisodes(true);
  await writeV2(file, eps, { rootStatus: "open", cut: KILL_CUTS });
  using loader = await ExperimentLoader.open(file);
  assert.equal(loader.getMetadata().status, "interrupted");
  assert.deepEqual(loader.episodes().status, ["completed", "completed", "completed", "interrupted"]);
  for (const id of [0, 1, 2]) assert.deepEqual(actual(loader.getEpisode(id)), expected(eps[id], id, "completed"), `episode ${id}`);
  const ep = loader.getEpisode(3);
  const full = expected(eps[3], 3, "interrupted");
  assert.deepEqual(ep.attrs, full.attrs); // counters of the last flush; no end_time
  assert.equal(ep.attrs.end_time, undefined);
  assert.deepEqual(ep.getTimesteps(), f64([30, 31, 32]));
  assert.deepEqual(ep.getSpikes(), { timesteps: f64([30, 31, 31]), neuronIds: Uint32Array.from([0, 1, 2]) });
  const beh = ep.getBehavior();
  assert.deepEqual(beh.timesteps, f64([30, 31, 32]));
  assert.deepEqual(beh.variables.x.data, f64([5, 5.5, 6]));
  assert.deepEqual(beh.variables.y, { data: f64([5, 5, 6, 6, 7, 7]), shape: [3, 2], dtype: "float64" });
  const ns = ep.getNeuralStates();
  assert.deepEqual(ns.timesteps, f64([30, 32]));
  assert.deepEqual(ns.variables.u.data, f64([5, 5, 7, 7]));
  assert.deepEqual(ns.variables.v.shape, [2, 4]);
  assert.deepEqual(ep.getRewards(), { timesteps: f64([30]), values: f64([2]) });
  // the first two logged, then sorted by timestep
  assert.deepEqual(ep.getWeightChanges().synapseIds, f64([8, 9]));
  assert.deepEqual(ep.getEvents(), [{ timestep: 30, type: "a", data: { i: 0 } }, { timestep: 32, type: "b", data: { i: 1 } }]);
  assert.equal(ep.getSummary(), null); // the running episode has no summary entry yet

  // live: the stored status, the same cut (HDF5 opens a file once per process: close the other first)
  loader.close();
  using live = await ExperimentLoader.open(file, { live: true });
  assert.equal(live.getEpisode(3).attrs.status, "running");
  assert.deepEqual(live.getEpisode(3).getTimesteps(), f64([30, 31, 32]));
});

test("2.0 closed file: a range beyond its stream is a FormatError, not silently short data", async (t) => {
  const file = join(tempDir(t), "broken.h5");
  await writeV2(file, fixtureEpisodes(false), { cut: { "/timesteps": 1, "/events/types": 1 } });
  using loader = await ExperimentLoader.open(file);
  assert.deepEqual(loader.getEpisode(0).getTimesteps(), f64([10, 11, 12, 13, 14]));
  assert.throws(() => loader.getEpisode(3).getTimesteps(), (e) =>
    e instanceof FormatError && e.code === "INVALID_DATA" && /\/timesteps .* has 4 of the rows 9\.\.14 that episode 3 owns/.test(e.message));
  assert.throws(() => loader.getEpisode(3).getEvents(), (e) => e instanceof FormatError && e.code === "INVALID_DATA");
});

test("2.0 standard layout: dense spike matrix and dense rewards give the same values", async (t) => {
  const file = join(tempDir(t), "standard.h5");
  const eps = fixtureEpisodes(false);
  await writeV2(file, eps, { layout: "standard" });
  using loader = await ExperimentLoader.open(file);
  assert.equal(loader.getMetadata().layout, "standard");
  for (const id of loader.listEpisodes()) {
    const ep = loader.getEpisode(id);
    const want = expected(eps[id], id, id === 3 ? "incomplete" : "completed");
    assert.deepEqual([ep.getSpikes(), ep.getRewards()], [want.spikes, want.rewards], `episode ${id}`);
  }
});

/** Logs the fixture's episodes through today's exporter (1.0 on this branch); returns the experiment directory. */
async function logWithExporter(dir: string, eps: FixtureEpisode[]): Promise<string> {
  const ex = await DataExporter.create("same", { outputBaseDir: dir, neuralSamplingRate: 2, provenance: false, chunkSize: 4 });
  for (const ep of eps) {
    ex.startEpisode();
    for (const s of ep.steps) {
      ex.log({ timestep: s.timestep, spikes: Int32Array.from(s.spikes ?? []), behavior: s.behavior, neuralState: s.neuralState, reward: s.reward });
    }
    for (const c of ep.weightChanges ?? []) ex.logWeightChange(c);
    for (const e of ep.events ?? []) ex.logEvent(e);
    for (const [k, v] of Object.entries(ep.static ?? {})) ex.logStaticEpisodeData(k, v);
    if (ep.end?.status !== "incomplete") ex.endEpisode({ success: ep.end?.success, summary: ep.end?.summary });
  }
  await ex.close(); // the open episode ends `incomplete`
  return ex.outputDir;
}

test("the same logged data reads back identically from the exporter's file and from a 2.0 file", async (t) => {
  const dir = tempDir(t);
  const eps = fixtureEpisodes(false);
  const file = join(dir, "v2.h5");
  await writeV2(file, eps);
  const exported = await logWithExporter(dir, eps);
  using a = await ExperimentLoader.open(exported);
  using b = await ExperimentLoader.open(file);
  t.diagnostic(`exporter file: format ${a.getMetadata().formatVersion}`);
  assert.deepEqual(a.listEpisodes(), b.listEpisodes());
  const times = ["start_time", "end_time"];
  for (const id of a.listEpisodes()) {
    const [x, y] = [actual(a.getEpisode(id)), actual(b.getEpisode(id))];
    assert.deepEqual(Object.keys(x.attrs).sort(), Object.keys(y.attrs).sort(), `episode ${id} attribute names`);
    for (const k of times) delete x.attrs[k], delete y.attrs[k];
    assert.deepEqual(x, y, `episode ${id} (${a.getMetadata().formatVersion} vs 2.0)`);
  }
  const [ta, tb] = [a.episodes(), b.episodes()];
  for (const k of ["startTime", "endTime"] as const) ta[k] = tb[k] = new Float64Array(0);
  assert.deepEqual(ta, tb);
});

test("2.0: the table is read once at open; an episode reads only the chunks of its rows, each chunk once", async (t) => {
  const file = join(tempDir(t), "v2.h5");
  const eps = fixtureEpisodes(false);
  const ranges = await writeV2(file, eps);
  const calls: string[] = [];
  const proto = H5Reader.prototype;
  const saved = { readRows: proto.readRows, readStringRows: proto.readStringRows, keys: proto.keys, readStrings: proto.readStrings };
  proto.readRows = function (this: H5Reader, p: string, s: number, e: number) { calls.push(`rows ${p} ${s} ${e}`); return saved.readRows.call(this, p, s, e); };
  proto.readStringRows = function (this: H5Reader, p: string, s: number, e: number) { calls.push(`strings ${p} ${s} ${e}`); return saved.readStringRows.call(this, p, s, e); };
  proto.keys = function (this: H5Reader, p: string) { calls.push(`keys ${p}`); return saved.keys.call(this, p); };
  proto.readStrings = function (this: H5Reader, p: string) { calls.push(`all strings ${p}`); return saved.readStrings.call(this, p); };
  t.after(() => Object.assign(proto, saved));
  using loader = await ExperimentLoader.open(file);
  const atOpen = calls.splice(0);
  // every numeric column of the table in one read; no summary text; no /episodes listing
  assert.equal(atOpen.filter((c) => c.startsWith("rows /episodes/")).length, 17);
  assert.ok(!atOpen.some((c) => c.includes("/episodes/summary") || c === "keys /episodes"), atOpen.join("\n"));
  for (let round = 0; round < 2; round++) {
    assert.equal(loader.episodeCount, 4);
    loader.listEpisodes();
    loader.getEpisode(3).attrs;
  }
  assert.deepEqual(calls.splice(0), []);
  actual(loader.getEpisode(3));
  assert.ok(calls.includes("strings /episodes/summary 3 4") && calls.some((c) => c.startsWith("rows /spikes/neuron_ids ")), calls.join("\n"));
  const r = ranges[3];
  const own: Record<string, [number, number]> = {
    "/timesteps": r.steps, "/spikes/counts": r.steps, "/behavior/": r.steps, "/spikes/neuron_ids": r.spikes,
    "/neural_states/": r.states, "/rewards/": r.rewards, "/weight_changes/": r.weightChanges, "/events/": r.events,
    "/episodes/summary": [3, 4],
  };
  for (const c of calls) {
    const [kind, p, s, e] = c.split(" ");
    if (kind === "keys") continue; // static data: its own group
    assert.ok(kind === "rows" || kind === "strings", c);
    const [a, b] = Object.entries(own).find(([prefix]) => p.startsWith(prefix))?.[1] ?? [NaN, NaN];
    const chunk = kind === "rows" ? CHUNK : 1; // whole chunks of numbers are read (and kept); strings are read by row
    assert.ok(Number(s) >= Math.floor(a / chunk) * chunk && Number(e) <= Math.ceil(b / chunk) * chunk, `${c} is outside the chunks of the episode's rows ${a}..${b}`);
  }
  assert.ok(calls.every((c) => !c.startsWith("keys") || c === "keys /episode_static/episode_0003"), calls.join("\n"));
  // reading every episode after another decompresses each chunk of /timesteps once: whole chunks
  // through the loader's cache (h5wasm reader), or each episode's rows through the TypeScript
  // reader's own cache of decoded chunks
  const decoded = loader.readStats().chunksRead;
  for (const id of loader.listEpisodes()) loader.getEpisode(id).getTimesteps();
  const steps = ranges[3].steps[1];
  const probe = await H5Reader.open(file);
  const engine = probe.engine;
  probe.close();
  if (engine === "h5wasm") assert.equal(calls.filter((c) => c.startsWith("rows /timesteps ")).length, Math.ceil(steps / CHUNK));
  else assert.ok(loader.readStats().chunksRead - decoded <= Math.ceil(steps / CHUNK), `${loader.readStats().chunksRead - decoded} chunks decoded`);
  // results are the caller's own: changing one does not change the next read
  loader.getEpisode(0).getTimesteps()[0] = 99;
  assert.equal(loader.getEpisode(0).getTimesteps()[0], 10);
});

test("1.x: the episode groups are listed once, at open", async (t) => {
  const file = join(tempDir(t), "v1.h5");
  const w = await createWriter(file, "ts");
  for (const [k, v] of [[ROOT.formatName, FORMAT_NAME], [ROOT.formatVersion, "1.0"], [ROOT.status, "closed"]]) w.setAttr("/", k, v);
  for (let id = 0; id < 4; id++) {
    w.createGroup(V1.episodePath(id));
    w.setAttr(V1.episodePath(id), "episode_id", BigInt(id));
  }
  w.close();
  const proto = H5Reader.prototype;
  const keys = proto.keys;
  let listings = 0;
  proto.keys = function (this: H5Reader, p: string) { if (p === GROUPS.episodes) listings++; return keys.call(this, p); };
  t.after(() => (proto.keys = keys));
  using loader = await ExperimentLoader.open(file);
  for (let i = 0; i < 3; i++) for (const id of loader.listEpisodes()) assert.equal(loader.getEpisode(id).attrs.episode_id, id);
  assert.equal(loader.episodeCount, 4);
  assert.throws(() => loader.getEpisode(4), (e) => e instanceof ValidationError && e.message.includes("valid ids are 0..3 (4 episodes)"));
  assert.equal(listings, 1);
});

/**
 * Export to NWB 2.6.0 and SONATA: an experiment made from known inputs is exported (API and CLI),
 * then read by the NWB schema validator (hdmf, /work/shared/nwb/validate_nwb.py), by our own h5py
 * check of every required dataset and attribute and of every value (test/py/check_nwb.py), and by
 * bmtk + h5py (test/py/check_sonata.py). Expected values are computed here from the inputs, with
 * the time axis FORMAT.md documents, never read back through our loader.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DataExporter } from "#lib/index.js";
import { exportNwb } from "#lib/export/nwb.js";
import { exportSonata } from "#lib/export/sonata.js";
import { parseEpisodeList } from "#lib/export/timeline.js";
import { PYTHON, skipOrFail, tempDir } from "./helpers.js";

/** ../shared/nwb/validate_nwb.py beside the checkout (the issue's path), or SNN_NWB_VALIDATOR. */
const VALIDATOR = process.env.SNN_NWB_VALIDATOR ?? fileURLToPath(new URL("../../../shared/nwb/validate_nwb.py", import.meta.url));
const CHECK_NWB = fileURLToPath(new URL("../../test/py/check_nwb.py", import.meta.url));
const CHECK_SONATA = fileURLToPath(new URL("../../test/py/check_sonata.py", import.meta.url));
const CLI = fileURLToPath(new URL(import.meta.resolve("#cli/cli/main.js")));

const N = 24;
const DT_MS = 0.5;

interface EpisodePlan { steps: number[]; success?: boolean }
/** Episode 0: 0..119; 1: 5..94 (starts at 5); 2: every other step 0..78; 3: no steps at all. */
const PLAN: EpisodePlan[] = [
  { steps: Array.from({ length: 120 }, (_, i) => i), success: true },
  { steps: Array.from({ length: 90 }, (_, i) => i + 5), success: false },
  { steps: Array.from({ length: 40 }, (_, i) => 2 * i) },
  { steps: [] },
];
const RATE = 2;
const types = Array.from({ length: N }, (_, i) => (i % 4 === 3 ? "inh" : "exc"));
const spikesAt = (e: number, t: number): number[] => [...Array(N).keys()].filter((i) => (t * 7 + i * 13 + e * 5) % 17 === 0);
const vAt = (e: number, t: number, i: number): number => Math.fround(-65 + e + t * 0.25 + i * 0.125);
const rewardAt = (e: number, t: number): number => (t % 25 === 0 ? 0.5 * (e + 1) : 0);

type Json = Record<string, unknown>;

/** Writes the experiment and returns the expected content of its NWB and SONATA exports of `ids`. */
async function makeExperiment(dir: string, opts: { dt?: boolean } = {}): Promise<string> {
  const ex = await DataExporter.create("nwbtest", { outputBaseDir: dir, provenance: false, chunkSize: 32, neuralSamplingRate: RATE });
  ex.saveConfig(opts.dt === false ? { n_neurons: N } : { n_neurons: N, dt_ms: DT_MS, learning_rate: 0.01 });
  ex.saveMetadata({ description: "nwb export test" });
  ex.saveNetworkStructure({
    neurons: { ids: Int32Array.from({ length: N }, (_, i) => i), types, tau: Float64Array.from({ length: N }, (_, i) => 10 + i) },
    weights: { sourceIds: [0, 0, 3, 7], targetIds: [1, 5, 2, 0], values: [0.5, -0.25, 1.5, 0.125], shape: [N, N] },
  });
  PLAN.forEach((plan, e) => {
    ex.startEpisode();
    plan.steps.forEach((t, k) => {
      const v = Float32Array.from({ length: N }, (_, i) => vAt(e, t, i));
      const neuralState: Record<string, Float32Array> = { v };
      if (e >= 1) neuralState.u = Float32Array.from({ length: N }, (_, i) => Math.fround(i - t));
      ex.log({
        timestep: t, spikes: Int32Array.from(spikesAt(e, t)), neuralState,
        behavior: { x: t / 10, y: e - t / 100, pos3: Float64Array.of(t, e, -t), sensor: Float32Array.from({ length: 5 }, (_, j) => j * t) },
        reward: rewardAt(e, t),
      });
      if (k === 3) ex.logEvent({ timestep: t, type: "probe", data: { e, t } });
    });
    if (plan.steps.length > 0) {
      ex.logWeightChange({ timestep: plan.steps[plan.steps.length - 1], synapseId: 1, oldWeight: -0.25, newWeight: -0.5 });
      ex.logWeightChange({ timestep: plan.steps[0], sourceId: 0, targetId: 1, oldWeight: 0.5, newWeight: 0.75 + e });
    }
    ex.endEpisode(plan.success === undefined ? {} : { success: plan.success });
  });
  await ex.close();
  return ex.outputDir;
}

/** The expected export of episodes `ids` (FORMAT.md "Export to NWB and SONATA": the time axis). */
function expected(ids: number[], dtMs = DT_MS): Json {
  const sec = (o: number, first: number, t: number) => ((o + t - first) * dtMs) / 1000;
  const ms = (o: number, first: number, t: number) => (o + t - first) * dtMs;
  const unitTimes: number[][] = Array.from({ length: N }, () => []);
  const sonata: { t: number[]; id: number[]; rows: number[][]; start: number[]; stop: number[] } = { t: [], id: [], rows: [], start: [], stop: [] };
  const trials: Json[] = [];
  const series: Record<string, { t: number[]; data: (number | null)[][] }> = {};
  const add = (name: string, t: number, row: (number | null)[]) => {
    const s = (series[name] ??= { t: [], data: [] });
    s.t.push(t);
    s.data.push(row);
  };
  const rewards = { t: [] as number[], v: [] as number[] };
  const events = { t: [] as number[], type: [] as string[], data: [] as string[], episode: [] as number[] };
  const wc = { t: [] as number[], syn: [] as number[], src: [] as number[], dst: [] as number[], old: [] as number[], new: [] as number[], episode: [] as number[] };
  let offset = 0;
  for (const e of ids) {
    const steps = PLAN[e].steps;
    const first = steps[0] ?? -1;
    const length = steps.length ? steps[steps.length - 1] - first + 1 : 0;
    const row0 = sonata.t.length;
    let spikes = 0;
    let reward = 0;
    steps.forEach((t, k) => {
      for (const i of spikesAt(e, t)) {
        unitTimes[i].push(sec(offset, first, t));
        sonata.t.push(ms(offset, first, t));
        sonata.id.push(i);
        spikes++;
      }
      if (k % RATE === 0) {
        add("neural_state/v", sec(offset, first, t), Array.from({ length: N }, (_, i) => vAt(e, t, i)));
        // u first logged in episode 1: NaN (null here) in the rows of earlier episodes
        add("neural_state/u", sec(offset, first, t), Array.from({ length: N }, (_, i) => (e >= 1 ? Math.fround(i - t) : null)));
      }
      add("behavior/Position/x", sec(offset, first, t), [t / 10]);
      add("behavior/Position/y", sec(offset, first, t), [e - t / 100]);
      add("behavior/Position/pos3", sec(offset, first, t), [t, e, -t]);
      add("behavior/sensor", sec(offset, first, t), Array.from({ length: 5 }, (_, j) => Math.fround(j * t)));
      const r = rewardAt(e, t);
      if (r !== 0) {
        rewards.t.push(sec(offset, first, t));
        rewards.v.push(r);
        reward += r;
      }
      if (k === 3) {
        events.t.push(sec(offset, first, t));
        events.type.push("probe");
        events.data.push(JSON.stringify({ e, t }));
        events.episode.push(e);
      }
    });
    if (steps.length > 0) {
      // the loader (and the export) give an episode's weight changes sorted by timestep
      wc.t.push(sec(offset, first, steps[0]), sec(offset, first, steps[steps.length - 1]));
      wc.syn.push(-1, 1); wc.src.push(0, -1); wc.dst.push(1, -1);
      wc.old.push(0.5, -0.25); wc.new.push(0.75 + e, -0.5); wc.episode.push(e, e);
    }
    trials.push({
      start_time: (offset * dtMs) / 1000, stop_time: ((offset + length) * dtMs) / 1000, episode_id: e,
      success: PLAN[e].success === undefined ? -1 : PLAN[e].success ? 1 : 0, total_reward: reward, steps: steps.length, spikes, first_timestep: first,
      status: "completed",
    });
    sonata.rows.push([row0, sonata.t.length]);
    sonata.start.push(offset * dtMs);
    sonata.stop.push((offset + length) * dtMs);
    offset += length;
  }
  return {
    n_units: N, unit_times: unitTimes, neuron_types: types, trials, series, rewards, events, weight_changes: wc,
    network_neurons: { ids: Array.from({ length: N }, (_, i) => i), types, tau: Array.from({ length: N }, (_, i) => 10 + i) },
    initial_weights: { source: [0, 0, 3, 7], target: [1, 5, 2, 0], weight: [0.5, -0.25, 1.5, 0.125] },
    sonata,
  };
}

function python(t: { diagnostic(s: string): void }, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(PYTHON, args, { encoding: "utf8", timeout: 600_000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  const out = `${r.stdout}${r.stderr}`;
  t.diagnostic(`${args.map((a) => a.split("/").pop()).join(" ")}:\n${out.trim()}`);
  return { status: r.status, out };
}

/** Why the Python side cannot run here, or null. */
function pythonProblem(mods: string[], files: string[] = []): string | null {
  for (const f of files) if (!existsSync(f)) return `${f} not found`;
  const r = spawnSync(PYTHON, ["-c", `import ${mods.join(", ")}`], { encoding: "utf8", timeout: 120_000 });
  if (r.error) return `${PYTHON} not runnable (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} cannot import ${mods.join(", ")} (apt-get install ${mods.map((m) => `python3-${m}`).join(" ")})`;
  return null;
}

function validateAndCheck(t: { diagnostic(s: string): void }, file: string, exp: Json, dir: string): void {
  const v = python(t, [VALIDATOR, file]);
  assert.match(v.out, /^0 errors$/m, `validate_nwb.py reported errors:\n${v.out}`);
  assert.equal(v.status, 0);
  const expFile = join(dir, `${Math.random().toString(36).slice(2)}.expected.json`);
  writeFileSync(expFile, JSON.stringify(exp));
  const c = python(t, [CHECK_NWB, file, expFile]);
  assert.equal(c.status, 0, `check_nwb.py failed:\n${c.out}`);
  assert.match(c.out, /^OK /m);
}

test("parseEpisodeList", () => {
  assert.deepEqual(parseEpisodeList("0-3"), [0, 1, 2, 3]);
  assert.deepEqual(parseEpisodeList("5,0-1, 3"), [0, 1, 3, 5]);
  assert.throws(() => parseEpisodeList("3-1"), /ends before/);
  assert.throws(() => parseEpisodeList("a"), /not an episode id/);
});

test("NWB export of every episode: 0 validation errors, every required field and value as the inputs say", async (t) => {
  const problem = pythonProblem(["h5py", "hdmf"], [VALIDATOR]);
  if (problem) return skipOrFail(t, problem);
  const dir = tempDir(t);
  const exp = await makeExperiment(dir);
  const out = join(dir, "run.nwb");
  const s = await exportNwb(exp, out);
  assert.equal(s.units, N);
  assert.equal(s.dtSource, "config.dt_ms");
  validateAndCheck(t, out, expected([0, 1, 2, 3]), dir);
});

test("NWB export with a tiny spike buffer (many fill passes) gives the same file content", async (t) => {
  const problem = pythonProblem(["h5py", "hdmf"], [VALIDATOR]);
  if (problem) return skipOrFail(t, problem);
  const dir = tempDir(t);
  const exp = await makeExperiment(dir);
  const out = join(dir, "small-buffer.nwb");
  const s = await exportNwb(exp, out, { bufferSpikes: 7, episodes: [1, 2] });
  const e = expected([1, 2]);
  const total = (e.unit_times as number[][]).reduce((a, x) => a + x.length, 0);
  assert.equal(s.spikePasses, 1 + Math.ceil(total / 7));
  validateAndCheck(t, out, e, dir);
});

test("CLI: export --format nwb --episodes and --format sonata, read by bmtk and h5py", async (t) => {
  const problem = pythonProblem(["h5py", "hdmf", "bmtk"], [VALIDATOR]);
  if (problem) return skipOrFail(t, problem);
  const dir = tempDir(t);
  const exp = await makeExperiment(dir);
  const nwb = join(dir, "cli.nwb");
  const r = spawnSync(process.execPath, [CLI, "export", exp, "--format", "nwb", "--out", nwb, "--episodes", "0-1"], { encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /wrote NWB 2\.6\.0 .*2 episodes, 24 units/);
  validateAndCheck(t, nwb, expected([0, 1]), dir);

  const son = join(dir, "spikes.h5");
  const r2 = spawnSync(process.execPath, [CLI, "export", exp, "--format", "sonata", "--out", son, "--episodes", "0,2-3", "--population", "net"], { encoding: "utf8", timeout: 300_000 });
  assert.equal(r2.status, 0, r2.stderr);
  const expFile = join(dir, "sonata.expected.json");
  writeFileSync(expFile, JSON.stringify({ population: "net", ...(expected([0, 2, 3]).sonata as Json), episodes: [0, 2, 3] }));
  const c = python(t, [CHECK_SONATA, son, expFile]);
  assert.equal(c.status, 0, `check_sonata.py failed:\n${c.out}`);
  assert.match(c.out, /^OK /m);

  const bad = spawnSync(process.execPath, [CLI, "export", exp, "--format", "nwb", "--out", join(dir, "x.nwb"), "--episodes", "9"], { encoding: "utf8", timeout: 120_000 });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /episode 9 is not in this experiment/);
  assert.ok(!readdirSync(dir).includes("x.nwb"), "no file is left behind");
});

test("SONATA export via the API; an experiment without dt says it assumed 1 ms", async (t) => {
  const problem = pythonProblem(["h5py", "bmtk"]);
  if (problem) return skipOrFail(t, problem);
  const dir = tempDir(t);
  const exp = await makeExperiment(dir, { dt: false });
  const son = join(dir, "api.h5");
  const s = await exportSonata(exp, son);
  assert.equal(s.dtSource, "assumed");
  assert.equal(s.dtMs, 1);
  const expFile = join(dir, "sonata.expected.json");
  writeFileSync(expFile, JSON.stringify({ population: "snn", ...(expected([0, 1, 2, 3], 1).sonata as Json), episodes: [0, 1, 2, 3] }));
  const c = python(t, [CHECK_SONATA, son, expFile]);
  assert.equal(c.status, 0, `check_sonata.py failed:\n${c.out}`);
  const nwb = join(dir, "nodt.nwb");
  const n = await exportNwb(exp, nwb);
  assert.equal(n.dtSource, "assumed");
  if (!pythonProblem(["hdmf"], [VALIDATOR])) validateAndCheck(t, nwb, expected([0, 1, 2, 3], 1), dir);
});

test("an experiment without spikes, behaviour or network exports to a valid NWB file", async (t) => {
  const problem = pythonProblem(["h5py", "hdmf"], [VALIDATOR]);
  if (problem) return skipOrFail(t, problem);
  const dir = tempDir(t);
  const ex = await DataExporter.create("empty", { outputBaseDir: dir, provenance: false });
  ex.startEpisode();
  ex.log({ timestep: 0 });
  ex.endEpisode();
  await ex.close();
  const out = join(dir, "empty.nwb");
  const s = await exportNwb(ex.outputDir, out);
  assert.equal(s.spikes, 0);
  const v = python(t, [VALIDATOR, out]);
  assert.match(v.out, /^0 errors$/m);
});

test("README: the Python lines that read the NWB file run on an export and print what the inputs say", async (t) => {
  const problem = pythonProblem(["h5py"]);
  if (problem) return skipOrFail(t, problem);
  const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
  const m = /<!--\s*nwb-snippet:start\s*-->\s*```python\n([\s\S]*?)```\s*<!--\s*nwb-snippet:end\s*-->/.exec(readme);
  assert.ok(m, "README.md has no nwb-snippet block");
  const dir = tempDir(t);
  const exp = await makeExperiment(dir);
  const out = join(dir, "run.nwb");
  await exportNwb(exp, out);
  const code = m[1].replaceAll(`"run.nwb"`, JSON.stringify(out));
  const r = spawnSync(PYTHON, ["-c", code], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const e = expected([0, 1, 2, 3]);
  const n0 = (e.unit_times as number[][])[0].length;
  assert.match(r.stdout, new RegExp(`^${n0} spikes of neuron 0; rewards per trial:`));
});

test("ts writer: an object reference follows its target when the target's header moves, enum and string-list attributes read in h5py", async (t) => {
  const problem = pythonProblem(["h5py"]);
  if (problem) return skipOrFail(t, problem);
  const { createWriter } = await import("#lib/h5/index.js");
  const dir = tempDir(t);
  const file = join(dir, "refs.h5");
  const w = await createWriter(file, "ts");
  w.writeArray("/a/data", Float64Array.of(1, 2, 3), [3], { kind: "gzip", level: 4 });
  w.writeArray("/b", Int32Array.of(7), [1], { kind: "none", level: 0 });
  w.setRefAttr("/b", "target", "/a/data");
  w.setRefAttr("/", "root_ref", "/a");
  w.setEnumAttr("/a", "sorting", [["none", 0], ["by_id", 1], ["by_time", 2]], 1);
  w.setStringsAttr!("/a", "colnames", ["x", "ünï", ""]);
  w.flush();
  // the target's header outgrows its space and moves: the references must follow
  for (let i = 0; i < 40; i++) w.setAttr("/a/data", `pad_${i}`, "x".repeat(50));
  w.flush();
  w.setRefAttr("/b", "target2", "/a/data");
  w.close();
  const code = `
import h5py, sys
f = h5py.File(sys.argv[1], "r")
assert f[f["b"].attrs["target"]].name == "/a/data", f[f["b"].attrs["target"]].name
assert f[f["b"].attrs["target2"]].name == "/a/data"
assert f[f.attrs["root_ref"]].name == "/a"
assert list(f[f["b"].attrs["target"]][()]) == [1, 2, 3]
assert h5py.check_enum_dtype(f["a"].attrs.get_id("sorting").dtype) == {"none": 0, "by_id": 1, "by_time": 2}
assert f["a"].attrs["sorting"] == 1
assert [x.decode() if isinstance(x, bytes) else x for x in f["a"].attrs["colnames"]] == ["x", "ünï", ""]
print("refs ok")
`;
  const r = spawnSync(PYTHON, ["-c", code, file], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /refs ok/);
});

test("the output may not be the experiment's own file (it would be truncated before it is read)", async (t) => {
  const dir = tempDir(t);
  const exp = await makeExperiment(dir);
  const own = join(exp, "experiment_data.h5");
  const before = readFileSync(own);
  await assert.rejects(exportNwb(exp, own), /is the experiment's own file/);
  await assert.rejects(exportSonata(own, own), /is the experiment's own file/);
  assert.ok(readFileSync(own).equals(before), "the experiment is untouched");
});

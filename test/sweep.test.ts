/**
 * Sweeps: runs written by parallel processes — a few killed mid-run, one still at
 * work — collected into one sweep file; h5py (test/py/check_sweep.py, which knows only FORMAT.md)
 * follows every external link and reads the virtual datasets; values equal each run's own and
 * the writer's inputs; h5dump reads the file; collect again adds runs and refreshes statuses;
 * the folder moved as a whole still reads.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { ExperimentCollection, collect } from "../src/index.js";
import { main as cli } from "../src/cli/main.js";
import { STEPS_PER_EPISODE, episodeReward, episodeSuccess, runConfig, runEpisodes } from "../bench/sweep-data.js";
import { PYTHON, checkAsKilled, skipOrFail, structureCheckerProblem, tempDir } from "./helpers.js";

const WRITER = fileURLToPath(new URL("../bench/sweep-writer.js", import.meta.url));
const CHECK_SWEEP = fileURLToPath(new URL("../../test/py/check_sweep.py", import.meta.url));

function writer(spec: object): ChildProcess {
  return spawn(process.execPath, [WRITER, JSON.stringify(spec)], { stdio: ["ignore", "pipe", "inherit"] });
}

function exited(child: ChildProcess, ms = 120_000): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error(`writer ${child.pid} did not end within ${ms} ms`)), ms);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function ready(child: ChildProcess, ms = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`writer ${child.pid} not ready within ${ms} ms`)), ms);
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /ready (.*)\n/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`writer ${child.pid} exited (${code}) before it was ready`)));
  });
}

interface PyRun { name: string; status: string; episodes: number; own?: Record<string, (number | null)[]> }
interface PyOut { runs: PyRun[]; problems: string[]; virtual: Record<string, { shape: number[]; sources: number }> }

function checkSweep(file: string): PyOut {
  const r = spawnSync(PYTHON, [CHECK_SWEEP, file], { encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 });
  assert.equal(r.error, undefined, `check_sweep.py did not run: ${r.error?.message}`);
  const out = JSON.parse(r.stdout) as PyOut;
  assert.deepEqual(out.problems, [], `check_sweep.py found problems (exit ${r.status}):\n${out.problems.join("\n")}\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

/** Run k's number from its config (the link name is its directory's name). */
const runOf = (name: string) => Number(/^run(\d{4})_/.exec(name)![1]);

/** The values a run's episode table must hold: `completed` episodes as written, then (killed runs) the open one. */
function expectRun(k: number, run: PyRun, open: boolean): void {
  const n = runEpisodes(k);
  assert.equal(run.episodes, n + (open ? 1 : 0), `${run.name}: episodes`);
  const own = run.own!;
  for (let e = 0; e < n; e++) {
    assert.equal(own.total_reward[e], episodeReward(k, e), `${run.name} episode ${e} reward`);
    const s = episodeSuccess(k, e);
    assert.equal(own.success[e], s === undefined ? -1 : s ? 1 : 0, `${run.name} episode ${e} success`);
    assert.equal(own.total_timesteps[e], STEPS_PER_EPISODE);
    assert.equal(own.status[e], 1);
  }
  if (open) {
    assert.equal(own.status[n], 0, `${run.name}: the open episode is running`);
    assert.equal(own.total_timesteps[n], 5);
  }
}

test("sweep: 100 runs by parallel processes (4 killed mid-run, 1 still writing) collected; h5py follows every link and reads the virtual datasets; collect again adds runs", { timeout: 600_000 }, async (t) => {
  const problem = structureCheckerProblem();
  if (problem) return skipOrFail(t, `h5py needed: ${problem}`);
  const dir = tempDir(t, "snn-sweep-test-");
  const runs = join(dir, "sweep");
  mkdirSync(runs);
  // 4 processes write 24 runs each (runs 0-95) while 5 more write one run each and stop mid-run
  const closedWriters = [0, 1, 2, 3].map((p) => writer({ dir: runs, first: p * 24, count: 24 }));
  const hanging = [96, 97, 98, 99, 100].map((k) => writer({ dir: runs, first: k, count: 1, hang: true }));
  const hangDirs = await Promise.all(hanging.map((c) => ready(c)));
  for (const d of hangDirs) checkAsKilled(d);
  for (const c of hanging.slice(0, 4)) c.kill("SIGKILL");
  await Promise.all(hanging.slice(0, 4).map((c) => exited(c)));
  const codes = await Promise.all(closedWriters.map((c) => exited(c)));
  assert.deepEqual(codes, [0, 0, 0, 0]);
  const live = hanging[4];
  try {
    const out = join(runs, "sweep.h5");
    const r1 = await collect([runs], { out });
    assert.equal(r1.runs.length, 101);
    assert.deepEqual(r1.warnings, []);
    const status = (k: number) => r1.runs.find((r) => runOf(r.name) === k)!.status;
    for (let k = 0; k < 96; k++) assert.equal(status(k), "closed", `run ${k}`);
    for (const k of [96, 97, 98, 99]) assert.equal(status(k), "interrupted", `run ${k} was killed`);
    assert.equal(status(100), "open", "run 100's writer is still alive");
    assert.deepEqual(r1.configKeys, ["learning_rate", "run", "seed"], "the keys that differ; model and dt_ms are the same everywhere");
    assert.deepEqual(r1.virtual, ["episode_reward", "episode_success", "episode_steps", "episode_status"]);
    assert.equal(r1.maxEpisodes, 12);

    // h5py: every link, every virtual dataset row against the run's own column
    const py = checkSweep(out);
    assert.equal(py.runs.length, 101);
    assert.deepEqual(py.virtual.episode_reward.shape, [101, 12]);
    assert.equal(py.virtual.episode_reward.sources, 101);
    for (const run of py.runs) {
      const k = runOf(run.name);
      expectRun(k, run, k >= 96);
    }

    // the loader: the collection from the sweep file and from the directory agree with h5py
    const fromSweep = await ExperimentCollection.open(out);
    assert.equal(fromSweep.size, 101);
    const lr = fromSweep.filter({ learning_rate: 0.01 });
    assert.equal(lr.size, Array.from({ length: 101 }, (_, k) => k).filter((k) => runConfig(k).learning_rate === 0.01).length);
    assert.ok(lr.runs().every((r) => r.config.learning_rate === 0.01));
    assert.equal(fromSweep.filter({ learning_rate: [0.001, 0.1] }).size + lr.size, 101);
    const { runs: colRuns, values } = await fromSweep.column("total_reward");
    colRuns.forEach((r, i) => assert.deepEqual(Array.from(values[i]), py.runs[i].own!.total_reward, r.name));
    const one = await fromSweep.openRun(3);
    try {
      assert.equal(one.getConfig().run, runOf(fromSweep.runs()[3].name));
    } finally {
      one.close();
    }
    const fromDirs = await ExperimentCollection.open([runs]);
    assert.equal(fromDirs.size, 101);

    // h5dump reads the whole file, following the links and the virtual datasets
    const dump = spawnSync("h5dump", [out], { encoding: "utf8", timeout: 120_000, maxBuffer: 256 << 20 });
    if (dump.error) skipOrFail(t, `h5dump not runnable: ${dump.error.message}`);
    else {
      assert.equal(dump.status, 0, dump.stderr.slice(0, 2000));
      assert.match(dump.stdout, /EXTERNAL_LINK "run0000_/);
      assert.match(dump.stdout, /DATASET "episode_reward"/);
    }

    // collect again: the live writer died meanwhile, 5 new runs came
    live.kill("SIGKILL");
    await exited(live);
    assert.equal(await exited(writer({ dir: runs, first: 101, count: 5 })), 0);
    const r2 = await collect([runs], { out });
    assert.equal(r2.runs.length, 106);
    assert.deepEqual(r2.runs.slice(0, 101).map((r) => r.name), r1.runs.map((r) => r.name), "earlier runs keep their rows");
    assert.deepEqual(r2.added.map(runOf), [101, 102, 103, 104, 105]);
    assert.equal(r2.read, 5 + 5, "the new runs and the runs not closed are read again, the closed ones are not");
    assert.equal(r2.runs.find((r) => runOf(r.name) === 100)!.status, "interrupted");
    const py2 = checkSweep(out);
    for (const run of py2.runs) expectRun(runOf(run.name), run, runOf(run.name) >= 96 && runOf(run.name) <= 100);

    // compare draws the curves from the sweep file
    const chart = join(dir, "curves.svg");
    const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {} } as never;
    assert.equal(await cli(["compare", out, "--by", "learning_rate", "--out", chart], io), 0);

    // the folder moves as a whole: relative links and sources still resolve
    const moved = join(dir, "moved");
    renameSync(runs, moved);
    for (const d of hangDirs) checkAsKilled(d.replace(runs, moved));
    const py3 = checkSweep(join(moved, "sweep.h5"));
    assert.equal(py3.runs.length, 106);
    assert.ok(readdirSync(moved).includes("sweep.h5"));
  } finally {
    live.kill("SIGKILL");
  }
});

test("TS writer: external links and virtual datasets (hyperslab and 'all' sources, this file and others) read by h5py", async (t) => {
  const problem = structureCheckerProblem();
  if (problem) return skipOrFail(t, `h5py needed: ${problem}`);
  const dir = tempDir(t, "snn-vds-test-");
  const { TsWriter } = await import("../src/h5/ts/writer.js");
  const a = await TsWriter.create(join(dir, "a.h5"));
  a.writeArray("/x", Float64Array.from({ length: 10 }, (_, i) => i + 0.5), [10], { kind: "gzip", level: 4 }, 4);
  a.close();
  const w = await TsWriter.create(join(dir, "v.h5"));
  w.writeArray("/local", Int32Array.from({ length: 6 }, (_, i) => 100 + i), [6], { kind: "none", level: 0 });
  w.externalLink("/links/a", "a.h5", "/x");
  w.externalLink("/links/ünïcode %name", "a.h5", "/");
  w.createVirtualDataset("/v", "float64", [3, 10], Number.NaN, [
    { file: "a.h5", dataset: "/x", source: { start: [2], count: [5] }, target: { start: [0, 1], count: [1, 5] } },
    { file: "a.h5", dataset: "/x", source: "all", target: { start: [1, 0], count: [1, 10] } },
  ]);
  w.createVirtualDataset("/vi", "int32", [2, 6], -7, [{ file: ".", dataset: "/local", source: "all", target: { start: [1, 0], count: [1, 6] } }]);
  w.close();
  const py = `
import h5py, json, numpy as np
f = h5py.File(${JSON.stringify(join(dir, "v.h5"))}, "r")
print(json.dumps({
  "v": [[None if np.isnan(x) else x for x in r] for r in f["v"][:].tolist()],
  "vi": f["vi"][:].tolist(),
  "a": f["links/a"][:].tolist(),
  "u": sorted(f["links/ünïcode %name"].keys()),
  "link": [f["links"].get("a", getlink=True).filename, f["links"].get("a", getlink=True).path],
}))`;
  const r = spawnSync(PYTHON, ["-c", py], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const nan = null;
  assert.deepEqual(out.v, [
    [nan, 2.5, 3.5, 4.5, 5.5, 6.5, nan, nan, nan, nan],
    [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5],
    [nan, nan, nan, nan, nan, nan, nan, nan, nan, nan],
  ]);
  assert.deepEqual(out.vi, [[-7, -7, -7, -7, -7, -7], [100, 101, 102, 103, 104, 105]]);
  assert.deepEqual(out.a, [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5]);
  assert.deepEqual(out.u, ["x"]);
  assert.deepEqual(out.link, ["a.h5", "/x"]);
});

test("snn-export collect: --json, usage errors, and it never overwrites a file that is not a sweep file", async (t) => {
  const dir = tempDir(t, "snn-collect-cli-");
  const runs = join(dir, "runs");
  mkdirSync(runs);
  assert.equal(await exited(writer({ dir: runs, first: 0, count: 3 })), 0);
  const lines: string[] = [];
  const err: string[] = [];
  const io = { stdout: { write: (s: string) => lines.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: {} } as never;
  const out = join(runs, "sweep.h5");
  assert.equal(await cli(["collect", runs, "--out", out, "--json"], io), 0);
  const j = JSON.parse(lines.pop()!);
  assert.equal(j.runs, 3);
  assert.deepEqual(j.statuses, { closed: 3 });
  assert.deepEqual(j.virtual, ["episode_reward", "episode_success", "episode_steps", "episode_status"]);
  assert.equal(await cli(["collect", runs], io), 2, "--out is required");
  assert.equal(await cli(["collect", "--out", out], io), 2, "runs are required");
  assert.equal(await cli(["collect", join(dir, "nothing-here"), "--out", out], io), 1);
  const runFile = join(runs, readdirSync(runs).find((d) => d.startsWith("run0000"))!, "experiment_data.h5");
  assert.equal(await cli(["collect", runs, "--out", runFile], io), 1, "a run file is not replaced by a sweep file");
  assert.match(err.join(""), /not a sweep file/);
  assert.equal(await cli(["compare", out, "--by", "no_such_key", "--out", join(dir, "c.svg")], io), 2);
  assert.match(err.join(""), /no run has the config key 'no_such_key'; keys: dt_ms, learning_rate, model, run, seed/);
});

test("openStatus: the writer's process on this host decides; from another host (or without a pid) the file's last change", async () => {
  const { openStatus } = await import("../src/loader/runs.js");
  const { hostname } = await import("node:os");
  const now = 1_000_000_000;
  assert.equal(openStatus({ hostname: hostname(), pid: process.pid }, 0, { now }), "open", "a live writer, however old its file");
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  assert.equal(openStatus({ hostname: hostname(), pid: Number(dead.stdout) }, now, { now }), "interrupted", "a dead writer, however new its file");
  assert.equal(openStatus({ hostname: "elsewhere.cluster", pid: 1 }, now - 10_000, { now }), "open");
  assert.equal(openStatus({ hostname: "elsewhere.cluster", pid: 1 }, now - 200_000, { now }), "interrupted");
  assert.equal(openStatus(null, now - 200_000, { now, staleAfter: 300 }), "open");
  assert.equal(openStatus(null, now - 200_000, { now, staleAfter: 100 }), "interrupted");
});

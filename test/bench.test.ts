/** The benchmark suite's plumbing: workloads copy, the child's JSON line, the parent's argument checks. Never its speed. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { parseBenchArgs, UsageError } from "../bench/options.js";
import { DEFAULT_WORKLOADS, WORKLOADS } from "../bench/workloads.js";
import { tempDir } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CONTENDER = fileURLToPath(new URL("../bench/contender.js", import.meta.url));
const RUN = fileURLToPath(new URL("../bench/run.js", import.meta.url));
const SCALE = fileURLToPath(new URL("../bench/scale-episodes.js", import.meta.url));
const SHARED = join(ROOT, "..", "shared", "bench", "workloads.json");

test("bench/workloads.json is a byte-identical copy of ../shared/bench/workloads.json", (t) => {
  if (!existsSync(SHARED)) {
    t.skip(`${SHARED} is not here`);
    return;
  }
  assert.ok(readFileSync(join(ROOT, "bench", "workloads.json")).equals(readFileSync(SHARED)));
});

test("workloads: the json's seven by default, long only by name (quickstart with 10x the steps)", () => {
  assert.deepEqual(DEFAULT_WORKLOADS, ["quickstart", "small_high_freq", "medium_normal", "large_sparse", "stress_test", "fullrate", "many_episodes"]);
  assert.deepEqual(WORKLOADS.many_episodes, { episodes: 2000, steps: 50, neurons: 100, spike_rate: 0.02, sampling: 10, weight_change_rate: 0.02 });
  assert.deepEqual(WORKLOADS.long, { ...WORKLOADS.quickstart, steps: WORKLOADS.quickstart.steps * 10 });
});

test("contender: a capped quickstart prints one JSON line and leaves an HDF5 file at --out", (t) => {
  const dir = tempDir(t, "snn-export-bench-test-");
  const out = join(dir, "q.h5");
  const r = spawnSync(process.execPath, [CONTENDER, "--contender", "snn-export", "--workload", "quickstart", "--max-steps", "2000", "--out", out], { encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1, r.stdout);
  const j = JSON.parse(lines[0]) as Record<string, unknown>;
  assert.equal(j.contender, "snn-export");
  assert.equal(j.workload, "quickstart");
  assert.equal(j.capped, true);
  assert.equal(j.steps_run, WORKLOADS.quickstart.episodes * 2000);
  assert.equal(j.steps_per_episode, 2000);
  for (const k of ["seconds", "timesteps_per_s", "file_bytes", "create_seconds", "peak_rss_mb"]) {
    assert.equal(typeof j[k], "number", k);
    assert.ok((j[k] as number) >= 0, k);
  }
  assert.ok(existsSync(out));
  assert.equal(statSync(out).size, j.file_bytes);
  const sig = Buffer.alloc(8);
  const fd = openSync(out, "r");
  readSync(fd, sig, 0, 8, 0);
  closeSync(fd);
  assert.ok(sig.equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])), "HDF5 signature");
  assert.deepEqual(readdirSync(dir), ["q.h5"], "the exporter's directory is removed");
});

test("contender: --max-episodes runs only the first episodes of many_episodes, flagged capped", (t) => {
  const dir = tempDir(t, "snn-export-bench-test-");
  const out = join(dir, "m.h5");
  const r = spawnSync(process.execPath, [CONTENDER, "--contender", "snn-export", "--workload", "many_episodes", "--max-episodes", "30", "--out", out], { encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
  assert.equal(j.capped, true);
  assert.equal(j.episodes_run, 30);
  assert.equal(j.steps_per_episode, 50);
  assert.equal(j.steps_run, 30 * 50);
  const bad = spawnSync(process.execPath, [CONTENDER, "--workload", "many_episodes", "--max-episodes", "0", "--out", out], { encoding: "utf8", timeout: 300_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--max-episodes must be a positive integer/);
});

test("run: an unknown workload is rejected with a clear message and exit code 2", () => {
  const r = spawnSync(process.execPath, [RUN, "--workload", "quickstart,no_such_workload", "--json"], { encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown workload "no_such_workload"; known workloads: quickstart, .*long/);
  assert.equal(r.stdout, "");
});

test("run: argument parsing (lists, defaults, h5py only when available)", () => {
  const no = () => false, yes = () => true;
  const d = parseBenchArgs([], no);
  assert.ok(d !== "help");
  assert.deepEqual(d.workloads, [...DEFAULT_WORKLOADS]);
  assert.equal(d.repeat, 3);
  assert.deepEqual(d.contenders, ["snn-export", "standard"]);
  assert.equal(d.maxEpisodes, undefined);
  const e = parseBenchArgs(["--workload", "many_episodes", "--max-episodes", "40", "--max-steps", "10"], no);
  assert.ok(e !== "help");
  assert.equal(e.maxEpisodes, 40);
  assert.equal(e.maxSteps, 10);
  assert.throws(() => parseBenchArgs(["--max-episodes", "-1"], no), UsageError);
  const o = parseBenchArgs(["--workload", "long,quickstart", "--workload", "fullrate", "--contender", "h5py", "--contender", "snn-export", "--repeat", "5"], yes);
  assert.ok(o !== "help");
  assert.deepEqual(o.workloads, ["long", "quickstart", "fullrate"]);
  assert.deepEqual(o.contenders, ["h5py", "snn-export"]);
  assert.equal(o.repeat, 5);
  assert.throws(() => parseBenchArgs(["--contender", "h5py"], no), (e: unknown) => e instanceof UsageError && /not available/.test(e.message));
  assert.throws(() => parseBenchArgs(["--repeat", "0"], no), UsageError);
  assert.throws(() => parseBenchArgs(["--contender", "nope"], no), /unknown contender "nope"/);
  assert.throws(() => parseBenchArgs(["--frobnicate"], no), UsageError);
});

test("scale-episodes: a tiny run writes segments, the one-episode baseline and the JSON report", (t) => {
  const dir = tempDir(t, "snn-export-scale-test-");
  const out = join(dir, "scale.json");
  const r = spawnSync(process.execPath, [SCALE, "--episodes", "300", "--segment", "100", "--no-read", "--out", out, "--dir", join(dir, "files")], { encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /file overhead per episode/);
  const j = JSON.parse(readFileSync(out, "utf8")) as {
    many: { segments: { episodes: number; seconds: number; rss_mb: number }[]; file_bytes: number; events: number; weight_changes: number };
    one: { file_bytes: number; segments: unknown[] }; last_over_second: number; overhead_bytes_per_episode: number; read: unknown;
  };
  assert.deepEqual(j.many.segments.map((s) => s.episodes), [100, 200, 300]);
  for (const s of j.many.segments) assert.ok(s.seconds > 0 && s.rss_mb > 0);
  assert.equal(j.many.events, 300);
  assert.ok(j.many.weight_changes > 0, "the 2 % weight-change steps are there");
  assert.ok(j.one.file_bytes > 0 && j.many.file_bytes > 0);
  assert.equal(j.overhead_bytes_per_episode, Math.round(((j.many.file_bytes - j.one.file_bytes) / 300) * 10) / 10);
  assert.equal(typeof j.last_over_second, "number");
  assert.equal(j.read, null);
  assert.deepEqual(readdirSync(join(dir, "files")), [], "the files are removed without --keep");
  const bad = spawnSync(process.execPath, [SCALE, "--episodes", "0"], { encoding: "utf8", timeout: 300_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--episodes must be a positive integer/);
});

test("read: a one-repeat --read on a tiny file runs every mode and writes the JSON and markdown report", (t) => {
  const dir = tempDir(t, "snn-export-read-bench-test-");
  const r = spawnSync(process.execPath, [RUN, "--read", "--workload", "many_episodes", "--max-episodes", "3", "--repeat", "1", "--json", "--out-dir", dir], { encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    kind: string; runs: { mode: string; contender: string; ok: boolean; seconds: number; first_data_ms?: number; peak_rss_mb: number }[];
    summaries: { mode: string; contender: string; runs: number; paired_vs_h5py: number | null }[];
  };
  assert.equal(j.kind, "read");
  const ours = j.runs.filter((x) => x.contender === "snn-export");
  assert.deepEqual(ours.map((x) => x.mode), ["warm", "cold", "first"]);
  for (const x of j.runs) {
    assert.ok(x.ok, JSON.stringify(x));
    assert.ok(x.seconds > 0 && x.peak_rss_mb > 0, JSON.stringify(x));
    if (x.mode === "first") assert.ok(x.first_data_ms! > 0, JSON.stringify(x));
  }
  const h5py = j.runs.some((x) => x.contender === "h5py");
  for (const s of j.summaries.filter((x) => x.contender === "snn-export")) {
    assert.equal(s.runs, 1);
    assert.equal(s.paired_vs_h5py === null, !h5py, JSON.stringify(s));
  }
  const files = readdirSync(dir).sort();
  assert.equal(files.length, 2, files.join(", "));
  assert.match(files[0], /^read_.*\.json$/);
  assert.match(readFileSync(join(dir, files[1]), "utf8"), /\| many_episodes \| warm \| snn-export \| 1 \|/);
  const bad = spawnSync(process.execPath, [RUN, "--read", "--modes", "hot"], { encoding: "utf8", timeout: 300_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown mode "hot"/);
});

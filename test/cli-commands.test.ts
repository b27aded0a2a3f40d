/**
 * The inspect, plot, export, tail and bench commands, run as child processes on an experiment
 * that `snn-export demo` writes into a temporary directory, checked against the loader (and
 * against h5py / numpy when Debian's python3 has them).
 */
import { after, before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { ExperimentLoader } from "#lib/loader/index.js";
import { DataExporter, StandardDataExporter } from "#lib/index.js";
import { checkAndRemove, resealGlobalHeaps, skipOrFail, skipStructureCheck } from "./helpers.js";
import { canonical, type Canonical } from "./fixtures.js";

const MAIN = fileURLToPath(new URL(import.meta.resolve("#cli/cli/main.js")));
const PYTHON = "/usr/bin/python3";

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "", ...env },
    timeout: 180_000,
    maxBuffer: 256 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Running {
  child: ReturnType<typeof spawn>;
  /** What it printed so far. */
  out: { stdout: string; stderr: string };
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** The CLI as a child process whose output is collected while it runs. */
function startCli(args: string[]): Running {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, NO_COLOR: "" } });
  const out = { stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out.stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out.stderr += d));
  const done = new Promise<Awaited<Running["done"]>>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, ...out }));
  });
  return { child, out, done };
}

/** Waits until `cond()` holds, up to `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const lines = (s: string) => s.split("\n").filter((l) => l !== "");
const hasStack = (s: string) => /^\s+at /m.test(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pythonHas(modules: string): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ["-c", `import ${modules}`], { stdio: "ignore" }).status === 0;
}

function python(script: string, args: string[]): string {
  const r = spawnSync(PYTHON, ["-c", script, ...args], { encoding: "utf8", timeout: 300_000, maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

let root: string;
let dir: string; // the experiment directory
let h5: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), "snn-export-cmds-"));
  const r = cli(["demo", "--episodes", "2", "--steps", "300", "--out", root, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { outputDir: string; filePath: string };
  dir = result.outputDir;
  h5 = result.filePath;
});

after(() => checkAndRemove(root));

// ---------------------------------------------------------------- help, version, conventions

test("every command has --help with examples; the top help lists them all", () => {
  const top = cli(["--help"]);
  for (const c of ["demo", "inspect", "plot", "export", "tail", "bench"]) assert.match(top.stdout, new RegExp(`^\\s+${c}\\s`, "m"), c);
  for (const c of ["inspect", "plot", "export", "tail", "bench"]) {
    const r = cli([c, "--help"]);
    assert.equal(r.code, 0, c);
    assert.equal(r.stderr, "", c);
    assert.match(r.stdout, new RegExp(`^Usage:\\n\\s+snn-export ${c}`), c);
    assert.match(r.stdout, new RegExp(`Examples:\\n\\s+snn-export ${c}`), c);
    assert.equal(cli(["help", c]).stdout, r.stdout, `help ${c}`);
    assert.equal(cli([c, "-h"]).stdout, r.stdout, `${c} -h`);
  }
  assert.match(cli(["plot", "--help"]).stdout, /raster.*\n(.*\n)*.*traces(.*\n)*.*rates(.*\n)*.*reward(.*\n)*.*weights/);
  assert.match(cli(["export", "--help"]).stdout, /JSON Lines/);
});

test("bad command lines: one line on stderr, exit 2", () => {
  const cases: Array<[string[], RegExp]> = [
    [["inspect"], /inspect: missing the experiment directory/],
    [["inspect", dir, "extra"], /inspect: unexpected argument 'extra'/],
    [["plot", dir], /plot: --out <file.svg\|file.png> is required/],
    [["plot", dir, "--out", "x.pdf"], /--out must end in \.svg or \.png/],
    [["plot", dir, "--kind", "rastr", "--out", "x.svg"], /--kind must be one of raster, traces, rates, reward, weights, got 'rastr' \(did you mean raster\?\)/],
    [["plot", dir, "--neurons", "5-2", "--out", "x.svg"], /range 5-2 goes backwards/],
    [["plot", dir, "--from", "10", "--to", "5", "--out", "x.svg"], /--to \(5\) is before --from \(10\)/],
    [["plot", dir, "--kind", "reward", "--window", "0", "--out", "x.svg"], /--window must be a whole number from 1/],
    [["plot", dir, "--window", "5", "--out", "x.svg"], /--window is for --kind reward/],
    [["export", dir], /--stream is required/],
    [["export", dir, "--stream", "spikes", "--format", "xml"], /--format must be one of csv, json, npy/],
    [["export", dir, "--stream", "events", "--format", "npy"], /events hold text/],
    [["tail", dir, "--interval", "0"], /--interval must be a number from 0.05/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: exit code; ${r.stderr}`);
    assert.equal(r.stdout, "", args.join(" "));
    assert.equal(lines(r.stderr).length, 1, `${args.join(" ")}: ${JSON.stringify(r.stderr)}`);
    assert.match(r.stderr, re, args.join(" "));
  }
});

test("a missing file, a non-HDF5 file and a wrong episode: one-line errors, exit 1, no stack trace", () => {
  const missing = join(root, "no-such-experiment");
  const text = join(root, "not-hdf5.h5");
  writeFileSync(text, "this is not an HDF5 file\n".repeat(50));
  skipStructureCheck(text, "not an HDF5 file, on purpose");
  const out = join(root, "err.svg");
  const cases: Array<[string[], RegExp]> = [
    [["inspect", missing], /^snn-export: error: no experiment at .*no-such-experiment: no such file or directory \[NOT_FOUND\]$/],
    [["inspect", text], /^snn-export: error: .*not-hdf5\.h5 is not an HDF5 file .*\[NOT_HDF5\]$/],
    [["plot", missing, "--out", out], /\[NOT_FOUND\]$/],
    [["plot", text, "--out", out], /\[NOT_HDF5\]$/],
    [["plot", dir, "--episode", "7", "--out", out], /^snn-export: error: episode 7 does not exist in .*: valid ids are 0\.\.1 \(2 episodes\) \[NOT_FOUND\]$/],
    [["export", missing, "--stream", "spikes"], /\[NOT_FOUND\]$/],
    [["export", text, "--stream", "spikes"], /\[NOT_HDF5\]$/],
    [["export", dir, "--episode", "2", "--stream", "spikes"], /episode 2 does not exist .*valid ids are 0\.\.1/],
    [["tail", text, "--interval", "0.05", "--retries", "2"], /^snn-export: error: tail: gave up after 2 failed attempts in a row .*not an HDF5 file/],
    [["tail", missing, "--interval", "0.05", "--retries", "3", "--json"], /^snn-export: error: tail: gave up after 3 failed attempts .*no such file or directory$/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.equal(r.code, 1, `${args.join(" ")}: exit code; ${r.stderr}`);
    const errLines = lines(r.stderr).filter((l) => !l.startsWith("waiting for"));
    assert.equal(errLines.length, 1, `${args.join(" ")}: ${JSON.stringify(r.stderr)}`);
    assert.match(errLines[0], re, args.join(" "));
    assert.ok(!hasStack(r.stderr), args.join(" "));
  }
  assert.ok(!existsSync(out), "no output file after an error");
  const debug = cli(["inspect", missing, "--debug"]);
  assert.equal(debug.code, 1);
  assert.ok(hasStack(debug.stderr), "--debug shows the stack");
});

// ---------------------------------------------------------------- inspect

/** The demo file as h5py reads it (test/py/canonical.py): an oracle independent of the loader. */
let demoH5py: Canonical | null | undefined;
function h5pyView(t: TestContext): Canonical | null {
  if (demoH5py === undefined) demoH5py = canonical(t, h5);
  else if (demoH5py === null) canonical(t, h5); // skips (or fails on CI) this test too
  return demoH5py;
}

test("inspect: the demo's summary, both episodes and the dataset tree with sizes; --json agrees with the loader and h5py", async (t) => {
  const human = cli(["inspect", dir]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /Episodes \(2\)/);
  assert.match(human.stdout, /^\s+status\s+2 completed$/m);
  assert.match(human.stdout, /^\s+steps\s+600; per episode 300 to 300, mean 300$/m);
  assert.match(human.stdout, /^\s+episode\s+status\s+steps\s+spikes\s+rate \(Hz\)\s+reward\s+success$/m);
  assert.match(human.stdout, /^\s+0\s+completed\s+300\s/m);
  assert.match(human.stdout, /^\s+1\s+completed\s+300\s/m);
  assert.ok(!/hidden/.test(human.stdout), "two episodes: none hidden");
  assert.match(human.stdout, /time step\s+1 ms \(config\.dt_ms\)/);
  assert.match(human.stdout, /neural_states\/\n\s+timesteps .*\n\s+v\s+60 × 200\s+float32\s+\S+.*deflate/);
  assert.match(human.stdout, /^\s+episodes\/\n(\s+\S+ .*\n)*\s+total_reward\s+2\s+float64/m);
  assert.match(human.stdout, /^Events \(\d[\d,]*\)\n\s+type\s+count\n/m);
  assert.ok(!/\x1b\[/.test(human.stdout), "no colour when not a TTY");
  assert.equal(cli(["inspect", dir, "--all"]).stdout, human.stdout, "--all: nothing more to show");

  const r = cli(["inspect", h5, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  await using loader = await ExperimentLoader.open(dir);
  assert.equal(report.episodes.count, loader.episodeCount);
  assert.equal(report.episodes.hidden, 0);
  assert.deepEqual(report.episodes.last, []);
  assert.deepEqual(report.episodes.byStatus, { completed: 2 });
  assert.equal(report.status, "closed");
  assert.equal(report.nNeurons, 200);
  assert.deepEqual(report.timeStep, { ms: 1, source: "config.dt_ms" });
  let spikes = 0;
  let reward = 0;
  for (const e of report.episodes.first) {
    const ep = loader.getEpisode(e.id);
    assert.equal(e.steps, ep.getTimesteps().length);
    assert.equal(e.steps, 300);
    assert.equal(e.spikes, ep.getSpikes().neuronIds.length);
    assert.ok(e.spikes > 0);
    assert.equal(e.totalReward, ep.getRewards().values.reduce((a, b) => a + b, 0));
    assert.ok(Math.abs(e.meanRateHz - e.spikes / 200 / 0.3) < 1e-9);
    assert.equal(e.status, "completed");
    spikes += e.spikes;
    reward += e.totalReward;
  }
  assert.deepEqual(report.episodes.totals, { steps: 600, spikes, reward });
  // the same figures from h5py alone (FORMAT.md), not from the loader
  const view = h5pyView(t);
  if (view) {
    assert.deepEqual(report.episodes.first.map((e: { id: number; steps: number; spikes: number }) => [e.id, e.steps, e.spikes]),
      view.episodes.map((e, i) => [i, e.timesteps.length, e.spikes.length]));
    report.episodes.first.forEach((e: { totalReward: number }, i: number) => assert.equal(e.totalReward, view.episodes[i].rewards.reduce((a, [, r]) => a + r, 0)));
    assert.equal(report.events.total, view.episodes.reduce((a, e) => a + e.events.length, 0));
  }
  const events = loader.listEpisodes().flatMap((id) => loader.getEpisode(id).getEvents());
  assert.equal(report.events.total, events.length);
  for (const { type, count } of report.events.types) assert.equal(count, events.filter((e) => e.type === type).length, type);
  const byPath = new Map<string, { shape: number[]; dtype: string; rawBytes: number | null; storedBytes: number | null; linkTo?: string; filters: string[] }>(
    report.datasets.map((d: { path: string }) => [d.path, d]),
  );
  const v = byPath.get("/neural_states/v")!;
  assert.deepEqual(v.shape, [60, 200]);
  assert.equal(v.dtype, "float32");
  assert.equal(v.rawBytes, 60 * 200 * 4);
  assert.ok(v.storedBytes! > 0 && v.storedBytes! < v.rawBytes!, "compressed");
  assert.ok(v.filters.includes("deflate"));
  assert.deepEqual(byPath.get("/episodes/total_reward")!.shape, [2]);
  assert.deepEqual(report.collapsed, []);
  assert.ok(report.totals.storedBytes > 0 && report.totals.storedBytes < report.fileBytes);
});

/** What the many-episodes file below holds, episode by episode (the expected values of the tests). */
const MANY = 3000;
const MANY_NEURONS = 8;
const many = {
  steps: (e: number) => 2 + (e % 4),
  spikes: (e: number) => 2 + (e % 4) + 1, // one spike per step, two at the first
  reward: (e: number) => ((e % 7) - 3) / 2 + (e % 5 === 0 ? 0.25 : 0),
  /** 1, 0, or -1 (not given); the last episode is left open. */
  success: (e: number) => (e === MANY - 1 ? -1 : e % 3 === 0 ? 1 : e % 3 === 1 ? 0 : -1),
  status: (e: number) => (e === MANY - 1 ? "incomplete" : "completed"),
  /** dt 2 ms: spikes / neurons / seconds. */
  rate: (e: number) => many.spikes(e) / MANY_NEURONS / ((many.steps(e) * 2) / 1000),
};
let manyDir: string;

/** 3,000 short episodes, the last one not ended before close(); static data in the first five. */
async function writeMany(): Promise<string> {
  const ex = await DataExporter.create("many", { outputBaseDir: root, provenance: false, neuralSamplingRate: 1 });
  ex.saveConfig({ dt_ms: 2, n_neurons: MANY_NEURONS });
  for (let e = 0; e < MANY; e++) {
    ex.startEpisode();
    const T = many.steps(e);
    for (let t = 0; t < T; t++) {
      const ids = t === 0 ? [e % MANY_NEURONS, (e + 1) % MANY_NEURONS].sort((a, b) => a - b) : [e % MANY_NEURONS];
      const r = t === T - 1 ? ((e % 7) - 3) / 2 : t === 0 && e % 5 === 0 ? 0.25 : 0;
      ex.log({ timestep: t, spikes: Int32Array.from(ids), reward: r, neuralState: { v: new Float32Array(MANY_NEURONS).fill(e) } });
    }
    if (e % 100 === 0) ex.logEvent({ timestep: 0, type: "hundred", data: { e } });
    if (e < 5) ex.logStaticEpisodeData("layout", { e });
    if (e === MANY - 1) break; // left open: "incomplete" after close()
    ex.endEpisode(many.success(e) < 0 ? {} : { success: many.success(e) === 1 });
  }
  await ex.close();
  return ex.outputDir;
}

const fmtN = (n: number) => n.toLocaleString("en-US");
const rewardText = (x: number) => String(Number(x.toFixed(6)));
const successText = (s: number) => (s < 0 ? "-" : s ? "yes" : "no");
/** The line `inspect` prints for episode e. */
const rowRe = (e: number) =>
  new RegExp(
    `^\\s+${fmtN(e)}\\s+${many.status(e)}\\s+${many.steps(e)}\\s+${many.spikes(e)}\\s+${many.rate(e).toFixed(2)}\\s+${rewardText(many.reward(e)).replace(".", "\\.")}\\s+${successText(many.success(e))}$`,
  );

test("inspect: 3,000 short episodes: summary, the first and last 10 rows, and how many are hidden", async () => {
  manyDir ??= await writeMany();
  const r = cli(["inspect", manyDir]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  const all = [...Array(MANY).keys()];
  const sum = (f: (e: number) => number) => all.reduce((a, e) => a + f(e), 0);
  const yes = all.filter((e) => many.success(e) === 1).length;
  const no = all.filter((e) => many.success(e) === 0).length;
  assert.match(out, /^Episodes \(3,000\)$/m);
  assert.match(out, /^\s+status\s+2,999 completed, 1 incomplete$/m);
  assert.match(out, new RegExp(`^\\s+success\\s+${fmtN(yes)} yes, ${fmtN(no)} no: ${((100 * yes) / (yes + no)).toFixed(1)}% of ${fmtN(yes + no)} with an outcome; ${fmtN(MANY - yes - no)} not given$`, "m"));
  assert.match(out, new RegExp(`^\\s+steps\\s+${fmtN(sum(many.steps))}; per episode 2 to 5, mean `, "m"));
  assert.match(out, new RegExp(`^\\s+spikes\\s+${fmtN(sum(many.spikes))}, mean rate `, "m"));
  assert.match(out, new RegExp(`^\\s+reward\\s+${rewardText(sum(many.reward)).replace(".", "\\.")}; per episode -1\\.5 to 1\\.75, `, "m"));
  assert.match(out, /^\s+trend\s+first 300: mean reward .* → {2}last 300: mean reward /m);

  const lines = out.split("\n");
  const header = lines.findIndex((l) => /^\s+episode\s+status\s+steps\s+spikes\s+rate \(Hz\)\s+reward\s+success$/.test(l));
  assert.ok(header > 0, out);
  for (let k = 0; k < 10; k++) assert.match(lines[header + 1 + k], rowRe(k), `row ${k}`);
  assert.equal(lines[header + 11], "  … 2,980 more episodes hidden (10 to 2,989); --all lists every episode, --json --all as JSON");
  for (let k = 0; k < 10; k++) assert.match(lines[header + 12 + k], rowRe(MANY - 10 + k), `row ${MANY - 10 + k}`);
  assert.match(lines[header + 22], /^\s+rate = spikes \/ 8 neurons \/ \(steps × 2 ms\)$/);

  assert.match(out, /^Events \(30\)\n\s+type\s+count\n\s+hundred\s+30$/m);
  // /episode_static has a group for each of the first five episodes: the first listed, four summarised
  assert.match(out, /^\s+episode_static\/\n\s+episode_0000\/\n\s+layout\s+scalar\s+string.*\n\s+episode_0001\/ … episode_0004\/\s+4 more episode groups: 4 datasets, raw 0 bytes, stored \d+ bytes; --all lists them$/m);

  const j = cli(["inspect", manyDir, "--json"]);
  assert.equal(j.code, 0, j.stderr);
  const ep = JSON.parse(j.stdout).episodes;
  assert.equal(ep.count, MANY);
  assert.deepEqual(ep.byStatus, { completed: MANY - 1, incomplete: 1 });
  assert.deepEqual(ep.success, { yes, no, notGiven: MANY - yes - no, rate: yes / (yes + no) });
  assert.equal(ep.totals.steps, sum(many.steps));
  assert.equal(ep.totals.spikes, sum(many.spikes));
  assert.ok(Math.abs(ep.totals.reward - sum(many.reward)) < 1e-9);
  assert.equal(ep.hidden, MANY - 20);
  assert.equal(ep.rows, undefined, "rows only with --all");
  const expectRow = (e: number) => ({
    id: e, status: many.status(e), steps: many.steps(e), spikes: many.spikes(e), meanRateHz: many.rate(e),
    totalReward: many.reward(e), success: many.success(e) < 0 ? null : many.success(e) === 1,
  });
  const near = (got: ReturnType<typeof expectRow>, want: ReturnType<typeof expectRow>) => {
    assert.ok(Math.abs(got.meanRateHz - want.meanRateHz) < 1e-9 && Math.abs(got.totalReward - want.totalReward) < 1e-12, JSON.stringify([got, want]));
    assert.deepEqual({ ...got, meanRateHz: 0, totalReward: 0 }, { ...want, meanRateHz: 0, totalReward: 0 });
  };
  ep.first.forEach((row: ReturnType<typeof expectRow>, k: number) => near(row, expectRow(k)));
  ep.last.forEach((row: ReturnType<typeof expectRow>, k: number) => near(row, expectRow(MANY - 10 + k)));

  // --all: every episode row, in order, and the other episode groups' datasets
  const a = cli(["inspect", manyDir, "--all"]);
  assert.equal(a.code, 0, a.stderr);
  const rows = a.stdout.split("\n").filter((l) => /^\s+[\d,]+\s+(completed|incomplete)\s/.test(l));
  assert.equal(rows.length, MANY);
  rows.forEach((l, e) => assert.match(l, rowRe(e), `row ${e}`));
  assert.ok(!/hidden/.test(a.stdout));
  assert.match(a.stdout, /^\s+episode_0004\/\n\s+layout\s+scalar/m);

  const aj = cli(["inspect", manyDir, "--all", "--json"]);
  assert.equal(aj.code, 0, aj.stderr);
  const full = JSON.parse(aj.stdout);
  assert.equal(full.episodes.rows.length, MANY);
  full.episodes.rows.forEach((row: ReturnType<typeof expectRow>, e: number) => near(row, expectRow(e)));
  assert.equal(full.episodes.first, undefined);
  assert.deepEqual(full.collapsed, []);

  // a reader that stops early (| head) ends the paging quietly
  const head = spawnSync("bash", ["-c", `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} inspect ${JSON.stringify(manyDir)} --all | head -c 2000 > /dev/null; echo "exit=\${PIPESTATUS[0]}"`], { encoding: "utf8", timeout: 300_000 });
  assert.match(head.stdout, /exit=0/, head.stderr);
  assert.ok(!hasStack(head.stderr), head.stderr);
});

/** Replaces every occurrence of `from` in a file by `to`, of the same length in bytes; returns how many. */
function patchFile(file: string, from: string, to: string): number {
  const a = Buffer.from(from, "utf8");
  const b = Buffer.from(to, "utf8");
  assert.equal(a.length, b.length, "a patch keeps the length");
  const bytes = readFileSync(file);
  let n = 0;
  for (let at = bytes.indexOf(a); at >= 0; at = bytes.indexOf(a, at + a.length)) {
    b.copy(bytes, at);
    n++;
  }
  resealGlobalHeaps(bytes); // the text changed on purpose: its collection's checksum with it
  writeFileSync(file, bytes);
  return n;
}

test("inspect: control characters in the experiment name, event types and config keys are escaped", async () => {
  // The exporter refuses control characters in names, but a file can hold any text: the name is
  // written with a placeholder of the same length in bytes, then replaced in the file (variable-
  // length strings live in global heap collections; their checksum is computed again).
  const name = "evil\x1b[31mred\x07\u202e";
  const placeholder = "evilPLACEHOLDER1";
  assert.equal(Buffer.byteLength(placeholder), Buffer.byteLength(name));
  const ex = await DataExporter.create(placeholder, { outputBaseDir: root, provenance: false });
  ex.saveConfig({ "net\x1b]0;title\x07": { dt: 0.5 } });
  ex.startEpisode();
  ex.log({ timestep: 0, reward: 1 });
  ex.logEvent({ timestep: 0, type: "\x1b]0;pwned\x07" });
  ex.logEvent({ timestep: 0, type: "\u009b2J\r\n" });
  ex.endEpisode({ success: true });
  await ex.close();
  assert.ok(patchFile(ex.filePath, placeholder, name) >= 1, "the name was found in the file");
  await using loader = await ExperimentLoader.open(ex.outputDir);
  assert.equal(loader.getMetadata().experimentName, name, "the file now holds the name");

  const r = cli(["inspect", ex.outputDir]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(r.stdout), JSON.stringify(r.stdout));
  assert.match(r.stdout, /^\s+experiment\s+evil\\x1b\[31mred\\x07\\u202e {2}\(format 2\.0/m);
  assert.match(r.stdout, /^\s+\\x1b\]0;pwned\\x07\s+1$/m);
  assert.match(r.stdout, /^\s+\\x9b2J\\r\\n\s+1$/m);
  assert.match(r.stdout, /time step\s+0\.5 ms \(config\.net\\x1b\]0;title\\x07\.dt\)/);

  const j = cli(["inspect", ex.outputDir, "--json"]);
  assert.equal(j.code, 0, j.stderr);
  assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(j.stdout), JSON.stringify(j.stdout));
  const report = JSON.parse(j.stdout);
  assert.equal(report.experimentName, name, "JSON keeps the exact text, escaped the JSON way");
  assert.deepEqual(report.events.types.map((t: { type: string }) => t.type).sort(), ["\x1b]0;pwned\x07", "\u009b2J\r\n"].sort());

  // the name drawn into a chart: the SVG is valid XML text, without the control characters
  const svg = join(root, "evil.svg");
  const p = cli(["plot", ex.outputDir, "--kind", "reward", "--out", svg]);
  assert.equal(p.code, 0, p.stderr);
  const text = readFileSync(svg, "utf8");
  assert.ok(!/[\x00-\x08\x0b\x0c\x0e-\x1f\u202e]/.test(text));
  assert.ok(text.includes("evil\\x1b[31mred\\x07\\u202e"), "the name, escaped");
});

test("inspect: a format 1.0 file (golden optimized.h5): its episodes, the first episode group listed, the others summarised", () => {
  const golden = fileURLToPath(new URL("../../test/fixtures/golden/v1.0/optimized.h5", import.meta.url));
  const expected = JSON.parse(readFileSync(golden.replace(/\.h5$/, ".expected.json"), "utf8")).view as {
    episodes: Array<{ id: number; attrs: { status: string; success?: boolean | null; total_timesteps: number; total_spikes: number; total_reward: number } }>;
  };
  const r = cli(["inspect", golden]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\(format 1\.0, optimized layout\)/);
  assert.match(r.stdout, new RegExp(`^Episodes \\(${expected.episodes.length}\\)$`, "m"));
  for (const e of expected.episodes) {
    const a = e.attrs;
    const success = a.success === null || a.success === undefined ? "-" : a.success ? "yes" : "no";
    const re = new RegExp(`^\\s+${e.id}\\s+${a.status}\\s+${a.total_timesteps}\\s+${a.total_spikes}\\s+[\\d.]+\\s+${String(Number(a.total_reward.toFixed(6))).replace(".", "\\.")}\\s+${success}$`, "m");
    assert.match(r.stdout, re, `episode ${e.id}`);
  }
  const rest = expected.episodes.length - 1;
  assert.match(r.stdout, new RegExp(`^\\s+episodes/\\n\\s+episode_0000/\\n`, "m"));
  assert.match(r.stdout, new RegExp(`^\\s+episode_0001/ … episode_000${rest}/\\s+${rest} more episode groups: \\d+ datasets, raw .*; --all lists them$`, "m"));
  assert.ok(!r.stdout.includes(`episode_000${rest}/\n`), "the last group is not listed");
  const all = cli(["inspect", golden, "--all"]);
  assert.match(all.stdout, new RegExp(`^\\s+episode_000${rest}/\\n`, "m"));
  const json = JSON.parse(cli(["inspect", golden, "--json"]).stdout);
  assert.equal(json.collapsed.length, 1);
  assert.deepEqual({ ...json.collapsed[0], datasets: 0, rawBytes: 0, storedBytes: 0 }, { parent: "/episodes", first: "episode_0001", last: `episode_000${rest}`, groups: rest, datasets: 0, rawBytes: 0, storedBytes: 0 });
  assert.ok(json.collapsed[0].datasets > 0);
  assert.equal(json.totals.partial, false);
});

test("inspect: stored sizes equal h5py's get_storage_size() for every dataset (demo file and a standard, uncompressed file)", async (t) => {
  if (!pythonHas("h5py")) {
    skipOrFail(t, "Debian's python3-h5py is not installed (apt-get install python3-h5py)");
    return;
  }
  const exporter = await StandardDataExporter.create("plain", { outputBaseDir: root, compression: "none", chunkSize: 64 });
  exporter.startEpisode();
  for (let s = 0; s < 200; s++) exporter.log({ timestep: s, neuralState: { v: new Float32Array(10).fill(s) }, spikes: new Uint8Array(10).fill(s % 2), reward: s % 50 === 0 ? 1 : 0 });
  await exporter.endEpisode({ success: true });
  await exporter.close();
  for (const file of [h5, exporter.filePath]) {
    const report = JSON.parse(cli(["inspect", file, "--json"]).stdout);
    const ours: Record<string, number | null> = {};
    for (const d of report.datasets) ours[d.path] = d.storedBytes;
    const theirs = JSON.parse(
      python(
        `import h5py, json, sys
out = {}
with h5py.File(sys.argv[1], "r") as f:
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset): out["/" + name] = obj.id.get_storage_size()
    f.visititems(visit)
print(json.dumps(out))`,
        [file],
      ),
    ) as Record<string, number>;
    assert.ok(Object.keys(theirs).length > 10);
    for (const [path, size] of Object.entries(theirs)) assert.equal(ours[path], size, `${file}: ${path}`);
  }
});

// ---------------------------------------------------------------- plot

function checkSvg(file: string, texts: string[]): void {
  const svg = readFileSync(file, "utf8");
  assert.ok(svg.startsWith("<svg"), `${file} starts with <svg`);
  assert.ok(svg.trimEnd().endsWith("</svg>"), `${file} ends with </svg>`);
  assert.match(svg, /xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  for (const text of texts) assert.ok(svg.includes(`>${text}<`), `${file} has the text "${text}"`);
}

/** Decodes the PNG and checks it is a real picture: plausible size, many colours, much non-white. */
function checkPng(file: string): { width: number; height: number; colours: number; inked: number } {
  const bytes = readFileSync(file);
  assert.ok(bytes.length > 10_000 && bytes.length < 5_000_000, `${file}: ${bytes.length} bytes`);
  const png = PNG.sync.read(bytes);
  assert.ok(png.width >= 800 && png.width <= 5000, `width ${png.width}`);
  assert.ok(png.height >= 400 && png.height <= 5000, `height ${png.height}`);
  const colours = new Set<number>();
  let inked = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
    colours.add((r << 16) | (g << 8) | b);
    if (r < 200 || g < 200 || b < 200) inked++;
  }
  const pixels = png.width * png.height;
  assert.ok(colours.size >= 50, `${file}: ${colours.size} distinct colours`);
  assert.ok(inked / pixels > 0.01, `${file}: ${(inked / pixels) * 100}% of the pixels are not near-white`);
  return { width: png.width, height: png.height, colours: colours.size, inked: inked / pixels };
}

test("plot: every kind writes a valid SVG with its axis titles, and a PNG that is not blank", () => {
  const out = join(root, "plots");
  mkdirSync(out, { recursive: true });
  const kinds: Array<[string, string[], string[]]> = [
    ["raster", ["--episode", "1"], ["time (ms)", "neuron id", "neuron type", "excitatory", "inhibitory"]],
    ["traces", ["--neurons", "0,5,9"], ["time (ms)", "v (mV)", "neuron 5"]],
    ["rates", ["--bin", "10"], ["time (ms)", "rate per neuron (Hz)", "excitatory (160)"]],
    ["reward", [], ["episode", "total reward"]],
    ["weights", ["--neurons", "0-99"], ["target neuron (post)", "source neuron (pre)", "weight"]],
  ];
  for (const [kind, extra, texts] of kinds) {
    const svg = join(out, `${kind}.svg`);
    const r = cli(["plot", dir, "--kind", kind, ...extra, "--out", svg]);
    assert.equal(r.code, 0, `${kind}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^wrote .*${kind}\\.svg \\(`), kind);
    checkSvg(svg, texts);
    const png = join(out, `${kind}.png`);
    const p = cli(["plot", dir, "--kind", kind, ...extra, "--out", png, "--json"]);
    assert.equal(p.code, 0, `${kind}: ${p.stderr}`);
    const info = JSON.parse(p.stdout);
    assert.equal(info.bytes, statSync(png).size);
    const seen = checkPng(png);
    assert.equal(info.pixels.width, seen.width);
    assert.ok(info.points > 0, `${kind}: ${info.points} marks`);
  }
});

test("plot: --neurons and --from/--to select what is drawn", async () => {
  await using loader = await ExperimentLoader.open(dir);
  const { timesteps, neuronIds } = loader.getEpisode(0).getSpikes();
  let expected = 0;
  for (let i = 0; i < neuronIds.length; i++) if (neuronIds[i] >= 10 && neuronIds[i] <= 59 && timesteps[i] >= 100 && timesteps[i] <= 199) expected++;
  const svg = join(root, "window.svg");
  const r = cli(["plot", dir, "--kind", "raster", "--neurons", "10-59", "--from", "100", "--to", "199", "--out", svg, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).points, expected);
  checkSvg(svg, [`${expected.toLocaleString("en-US")} spikes from 50 selected neurons, steps 100–199, coloured by neuron type`]);
  const bad = cli(["plot", dir, "--kind", "raster", "--neurons", "0-500", "--out", svg]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--neurons goes up to 500, but the network has 200 neurons/);
});

test("plot --kind weights: an episode with 300,000 weight changes draws their histogram (counts from the inputs)", async () => {
  const out = join(root, "many-changes");
  const ex = await DataExporter.create("changes", { outputBaseDir: out, provenance: false });
  const N = 300_000;
  const dw = (i: number) => ((i * 7919) % 1000) / 1000 - 0.49975; // -0.49975 .. 0.49925, off the bin edges
  ex.startEpisode();
  ex.log({ timestep: 0, spikes: new Uint8Array(4) });
  for (let i = 0; i < N; i++) ex.logWeightChange({ timestep: 0, sourceId: i % 4, targetId: (i + 1) % 4, oldWeight: 0.5, newWeight: 0.5 + dw(i) });
  ex.endEpisode();
  await ex.close();
  const svg = join(out, "weights.svg");
  const r = cli(["plot", ex.outputDir, "--kind", "weights", "--out", svg, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  checkSvg(svg, [`Weight changes in episode 0 (${fmtN(N)})`, "Δw = new − old weight"]);
  // the chart's bins count the changes written: built from the loader's episode, checked against the inputs
  const { buildChart } = await import("#cli/plot/charts.js");
  await using loader = await ExperimentLoader.open(ex.outputDir);
  const chart = buildChart("weights", {
    experimentName: "changes", episode: 0, data: loader.getEpisode(0), dt: { ms: 1, source: "default" }, nNeurons: 4, types: null,
    table: null, weights: null, units: {}, width: 1200, height: 500,
  });
  const layers = JSON.stringify(chart.spec);
  const bins = [...layers.matchAll(/\{"x0":(-?[\d.e-]+),"x1":(-?[\d.e-]+),"count":(\d+)\}/g)].map((m) => ({ x0: Number(m[1]), x1: Number(m[2]), count: Number(m[3]) }));
  assert.ok(bins.length >= 10 && bins.length <= 60, `${bins.length} bins`);
  assert.equal(bins.reduce((a, b) => a + b.count, 0), N);
  const first = bins[0];
  let inFirst = 0;
  for (let i = 0; i < N; i++) {
    const d = 0.5 + dw(i) - 0.5;
    if (d >= first.x0 && d < first.x1) inFirst++;
  }
  assert.equal(first.count, inFirst);
});

test("plot --kind reward: the learning curve of 3,000 episodes is drawn from the rewards written", async () => {
  manyDir ??= await writeMany();
  const all = [...Array(MANY).keys()];
  const svg = join(root, "learning.svg");
  const r = cli(["plot", manyDir, "--kind", "reward", "--window", "50", "--out", svg, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  // 3,000 > 1,000 episodes: binned, 800 bins at most (the default width), so bins of 4 episodes
  assert.equal(info.points, MANY / 4);
  assert.match(info.summary, /^3,000 episodes \(750 bins of 4\), moving average over 50 episodes$/);
  const total = all.reduce((a, e) => a + many.reward(e), 0);
  const yes = all.filter((e) => many.success(e) === 1).length;
  const given = all.filter((e) => many.success(e) >= 0).length;
  checkSvg(svg, [
    "Learning curve — many", "total reward", "success rate", "episode",
    `3,000 episodes, total reward ${Number(total.toFixed(6))}, ${fmtN(yes)} of ${fmtN(given)} successful (${((100 * yes) / given).toFixed(1)}%)`,
    "black: moving average over 50 episodes",
  ]);
  const text = readFileSync(svg, "utf8");
  assert.ok(text.length < 400_000, `${text.length} bytes of SVG`);

  // The chart's data, built from the loader's episode table, equals the curve of the rewards written.
  const { buildChart } = await import("#cli/plot/charts.js");
  const { rewardCurve } = await import("#cli/plot/curve.js");
  await using loader = await ExperimentLoader.open(manyDir);
  const written = {
    ids: Float64Array.from(all),
    success: Int8Array.from(all, many.success),
    totalReward: Float64Array.from(all, many.reward),
  };
  const chart = buildChart("reward", {
    experimentName: "many", episode: 0, data: null, dt: { ms: 2, source: "config.dt_ms" }, nNeurons: MANY_NEURONS, types: null,
    table: loader.episodes(), window: 50, weights: null, units: {}, width: 800, height: 400,
  });
  const drawn = (chart.spec as unknown as { data: { values: Array<Record<string, number | null>> } }).data.values;
  const expected = rewardCurve(written, { window: 50, bins: 800 }).points;
  assert.equal(drawn.length, expected.length);
  drawn.forEach((p, k) => {
    for (const key of Object.keys(expected[k]) as Array<keyof (typeof expected)[number]>) {
      const want = expected[k][key] as number | null;
      const got = p[key] as number | null;
      if (typeof want === "number" && typeof got === "number") assert.ok(Math.abs(got - want) < 1e-9, `bin ${k} ${key}: ${got} vs ${want}`);
      else assert.equal(got, want, `bin ${k} ${key}`);
    }
  });
  // spot check against the inputs themselves: bin 10 holds episodes 40-43
  const bin = expected[10];
  assert.equal(bin.episode, 40);
  assert.equal(bin.lastEpisode, 43);
  assert.ok(Math.abs(bin.reward! - [40, 41, 42, 43].reduce((a, e) => a + many.reward(e), 0) / 4) < 1e-12);

  // a few episodes: one point (an SVG symbol) per episode
  const few = join(root, "few.svg");
  const f = cli(["plot", dir, "--kind", "reward", "--out", few, "--json"]);
  assert.equal(f.code, 0, f.stderr);
  assert.equal(JSON.parse(f.stdout).points, 2);
  const symbols = /<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/s.exec(readFileSync(few, "utf8"));
  assert.ok(symbols, "a symbol mark group");
  assert.equal((symbols[1].match(/<path /g) ?? []).length, 2);
});

// ---------------------------------------------------------------- export

function parseCsv(text: string): string[][] {
  // Enough for our output: quoted cells may hold commas and doubled quotes, not newlines.
  return lines(text).map((line) => {
    const cells: string[] = [];
    let i = 0;
    while (i <= line.length) {
      if (line[i] === '"') {
        let s = "";
        i++;
        while (i < line.length) {
          if (line[i] === '"' && line[i + 1] === '"') {
            s += '"';
            i += 2;
          } else if (line[i] === '"') {
            i++;
            break;
          } else s += line[i++];
        }
        cells.push(s);
        i++;
      } else {
        const j = line.indexOf(",", i);
        const end = j < 0 ? line.length : j;
        cells.push(line.slice(i, end));
        i = end + 1;
      }
      if (i > line.length) break;
    }
    return cells;
  });
}

test("export csv and json: every stream equals what the loader and h5py read", async (t) => {
  await using loader = await ExperimentLoader.open(dir);
  const ep = loader.getEpisode(1);

  const spikes = ep.getSpikes();
  const csv = cli(["export", dir, "--episode", "1", "--stream", "spikes", "--format", "csv"]);
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(csv.stderr, "", "stdout output: nothing on stderr");
  const rows = parseCsv(csv.stdout);
  assert.deepEqual(rows[0], ["timestep", "neuron_id"]);
  assert.equal(rows.length - 1, spikes.neuronIds.length);
  rows.slice(1).forEach(([t, n], i) => {
    assert.equal(Number(t), spikes.timesteps[i]);
    assert.equal(Number(n), spikes.neuronIds[i]);
  });
  const view = h5pyView(t);
  if (view) assert.deepEqual(rows.slice(1).map(([ts, n]) => [Number(ts), Number(n)]), view.episodes[1].spikes, "the CSV holds the spikes h5py reads");
  const jl = cli(["export", dir, "-e", "1", "-s", "spikes", "-f", "json"]);
  const objs = lines(jl.stdout).map((l) => JSON.parse(l));
  assert.equal(objs.length, spikes.neuronIds.length);
  assert.deepEqual(objs[0], { timestep: spikes.timesteps[0], neuron_id: spikes.neuronIds[0] });

  const states = ep.getNeuralStates();
  const v = states.variables.v;
  const sc = parseCsv(cli(["export", dir, "-e", "1", "-s", "neural_states"]).stdout);
  assert.equal(sc[0].length, 1 + 200);
  assert.deepEqual(sc[0].slice(0, 3), ["timestep", "v_0", "v_1"]);
  assert.equal(sc.length - 1, states.timesteps.length);
  for (let r = 0; r < states.timesteps.length; r++) {
    assert.equal(Number(sc[r + 1][0]), states.timesteps[r]);
    for (let c = 0; c < 200; c++) assert.equal(Math.fround(Number(sc[r + 1][1 + c])), v.data[r * 200 + c], `v[${r}, ${c}]`);
  }
  const sj = lines(cli(["export", dir, "-e", "1", "-s", "neural_states", "-f", "json"]).stdout).map((l) => JSON.parse(l));
  assert.equal(sj[2].timestep, states.timesteps[2]);
  assert.deepEqual(sj[2].v.map(Math.fround), Array.from((v.data as Float32Array).subarray(400, 600)));

  const behavior = ep.getBehavior();
  const bj = lines(cli(["export", dir, "-e", "1", "-s", "behavior", "-f", "json"]).stdout).map((l) => JSON.parse(l));
  assert.equal(bj.length, behavior.timesteps.length);
  assert.deepEqual(Object.keys(bj[0]).sort(), ["goal_x", "goal_y", "timestep", "x", "y"]);
  for (let i = 0; i < bj.length; i += 37) for (const k of ["x", "y", "goal_x", "goal_y"]) assert.equal(bj[i][k], behavior.variables[k].data[i]);

  const events = ep.getEvents();
  assert.ok(events.length > 0);
  const ec = parseCsv(cli(["export", dir, "-e", "1", "-s", "events"]).stdout);
  assert.deepEqual(ec[0], ["timestep", "type", "data"]);
  events.forEach((e, i) => {
    assert.equal(Number(ec[i + 1][0]), e.timestep);
    assert.equal(ec[i + 1][1], e.type);
    assert.deepEqual(JSON.parse(ec[i + 1][2]), e.data);
  });

  for (const stream of ["rewards", "weight_changes"]) {
    const r = cli(["export", dir, "-e", "1", "-s", stream]);
    assert.equal(r.code, 0, r.stderr);
    const header = lines(r.stdout)[0];
    assert.equal(header, stream === "rewards" ? "timestep,value" : "timestep,synapse_id,source_id,target_id,old_weight,new_weight");
  }

  // --out: a file, a one-line report on stderr, the same bytes as stdout.
  const file = join(root, "spikes.csv");
  const toFile = cli(["export", dir, "-e", "1", "-s", "spikes", "--out", file]);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.match(toFile.stderr, /^wrote [\d,]+ rows of spikes \(episode 1\) as csv to .*spikes\.csv/);
  assert.equal(readFileSync(file, "utf8"), csv.stdout);
});

test("export npy: a valid .npy (header checked here, values read back with numpy)", async (t) => {
  await using loader = await ExperimentLoader.open(dir);
  const ep = loader.getEpisode(0);
  const spikesFile = join(root, "spikes.npy");
  const statesFile = join(root, "states.npy");
  const behaviorFile = join(root, "behavior.npy");
  for (const [stream, file] of [["spikes", spikesFile], ["neural_states", statesFile], ["behavior", behaviorFile]]) {
    const r = cli(["export", dir, "--stream", stream, "--out", file]);
    assert.equal(r.code, 0, r.stderr);
  }
  const bytes = readFileSync(spikesFile);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const headerLen = bytes.readUInt16LE(8);
  assert.equal((10 + headerLen) % 64, 0, "header padded to 64 bytes");
  const header = bytes.toString("latin1", 10, 10 + headerLen);
  const spikes = ep.getSpikes();
  assert.match(header, new RegExp(`^\\{'descr': \\[\\('timestep', '<i8'\\), \\('neuron_id', '\\|u1'\\)\\], 'fortran_order': False, 'shape': \\(${spikes.neuronIds.length},\\), \\} *\\n$`));
  assert.equal(bytes.length, 10 + headerLen + spikes.neuronIds.length * 9, "packed records of 8 + 1 bytes");
  const body = bytes.subarray(10 + headerLen);
  for (let i = 0; i < spikes.neuronIds.length; i++) {
    assert.equal(Number(body.readBigInt64LE(i * 9)), spikes.timesteps[i]);
    assert.equal(body[i * 9 + 8], spikes.neuronIds[i]);
  }

  if (!pythonHas("numpy")) {
    skipOrFail(t, "numpy is not installed for /usr/bin/python3 (apt-get install python3-numpy); header and bytes were checked without it");
    return;
  }
  const got = JSON.parse(
    python(
      `import json, sys, numpy as np
s, v, b = (np.load(p) for p in sys.argv[1:4])
print(json.dumps({
  "spikes": {"names": list(s.dtype.names), "t": s["timestep"].tolist(), "n": s["neuron_id"].tolist()},
  "states": {"names": list(v.dtype.names), "vshape": list(v["v"].shape), "vdtype": str(v["v"].dtype), "t": v["timestep"].tolist(), "v": v["v"].ravel().tolist()},
  "behavior": {"names": list(b.dtype.names), "x": b["x"].tolist()},
}))`,
      [spikesFile, statesFile, behaviorFile],
    ),
  );
  assert.deepEqual(got.spikes.names, ["timestep", "neuron_id"]);
  assert.deepEqual(got.spikes.t, Array.from(spikes.timesteps));
  assert.deepEqual(got.spikes.n, Array.from(spikes.neuronIds));
  const states = ep.getNeuralStates();
  assert.deepEqual(got.states.names, ["timestep", "v"]);
  assert.deepEqual(got.states.vshape, [states.timesteps.length, 200]);
  assert.equal(got.states.vdtype, "float32");
  assert.deepEqual(got.states.t, Array.from(states.timesteps));
  assert.deepEqual(got.states.v, Array.from(states.variables.v.data as Float32Array));
  assert.deepEqual(got.behavior.names, ["timestep", "goal_x", "goal_y", "x", "y"]);
  assert.deepEqual(got.behavior.x, Array.from(ep.getBehavior().variables.x.data as Float64Array));
});

test("export to a closed pipe stops quietly", () => {
  const r = spawnSync("bash", ["-c", `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} export ${JSON.stringify(dir)} -s neural_states | head -c 100 > /dev/null; echo "exit=\${PIPESTATUS[0]}"`], { encoding: "utf8", timeout: 300_000 });
  assert.match(r.stdout, /exit=0/, r.stderr);
  assert.ok(!hasStack(r.stderr), r.stderr);
});

// ---------------------------------------------------------------- tail

test("tail: a finished experiment prints its totals and exits 0; --json gives JSON lines", async () => {
  await using loader = await ExperimentLoader.open(dir);
  const spikes = loader.listEpisodes().reduce((a, id) => a + loader.getEpisode(id).getSpikes().neuronIds.length, 0);
  const r = cli(["tail", dir, "--interval", "0.1"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`experiment closed: 2 episodes, 600 steps, ${spikes.toLocaleString("en-US")} spikes, total reward`));
  const j = cli(["tail", dir, "--interval", "0.1", "--json"]);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.stderr, "");
  const objs = lines(j.stdout).map((l) => JSON.parse(l));
  assert.equal(objs.at(-1).end, "closed");
  assert.deepEqual(objs.at(-1).totals, { episodes: 2, steps: 600, spikes, reward: objs.at(-1).totals.reward });
});

test("tail: waits for a file that appears later, follows it, stops when it is closed", async () => {
  const later = join(root, "later", "experiment_data.h5");
  const run = startCli(["tail", later, "--interval", "0.1", "--retries", "600"]);
  await until(() => run.out.stderr.includes("waiting for"), 30_000, "tail to say it waits");
  mkdirSync(join(root, "later"), { recursive: true });
  copyFileSync(h5, later);
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^waiting for .*later.*no such file or directory/m);
  assert.match(r.stdout, /experiment closed: 2 episodes, 600 steps/);
});

test("tail: follows a running demo, sees the episode while it runs, stops when the demo closes the file", async () => {
  const out = join(root, "live");
  mkdirSync(out);
  // Long enough that tail sees it running at any machine speed; Ctrl-C ends it (the demo then closes the file).
  const demo = startCli(["demo", "--episodes", "2", "--steps", "5000000", "--out", out, "--json"]);
  let expDir: string | undefined;
  await until(() => {
    const found = readdirSync(out);
    if (found.length) expDir = join(out, found[0]);
    return expDir !== undefined;
  }, 60_000, "the demo to create its directory").catch((err) => {
    demo.child.kill("SIGKILL");
    throw err;
  });
  const tail = startCli(["tail", expDir!, "--interval", "0.1", "--json", "--retries", "100"]);
  try {
    await until(() => /"episode_status":"running".*"steps_per_second":[1-9]/.test(tail.out.stdout), 120_000, "tail to report the running episode");
  } catch (err) {
    demo.child.kill("SIGKILL");
    tail.child.kill("SIGKILL");
    throw err;
  }
  demo.child.kill("SIGINT");
  const d = await demo.done;
  assert.equal(d.code, 130, d.stderr);
  const t = await tail.done;
  assert.equal(t.code, 0, t.stderr);
  const objs = lines(t.stdout).map((l) => JSON.parse(l));
  const end = objs.at(-1);
  assert.equal(end.end, "closed");
  await using loader = await ExperimentLoader.open(expDir!);
  const eps = loader.listEpisodes().map((id) => loader.getEpisode(id).attrs);
  const sum = (k: "total_timesteps" | "total_spikes") => eps.reduce((a, e) => a + (e[k] as number), 0);
  assert.deepEqual(end.totals, {
    episodes: eps.length,
    steps: sum("total_timesteps"),
    spikes: sum("total_spikes"),
    reward: Number(eps.reduce((a, e) => a + (e.total_reward as number), 0).toFixed(6)),
  });
  assert.ok(end.totals.steps > 0);
});

test("tail: Ctrl-C stops it with exit code 130", async () => {
  const run = startCli(["tail", join(root, "never"), "--interval", "0.1", "--retries", "100000"]);
  await until(() => run.out.stderr.includes("waiting for"), 30_000, "tail to start polling");
  run.child.kill("SIGINT");
  const r = await run.done;
  assert.equal(r.code, 130, r.stderr);
  assert.ok(!hasStack(r.stderr));
});

// ---------------------------------------------------------------- bench

test("bench: runs dist/bench/run.js when built, else says it is not available", () => {
  const built = existsSync(fileURLToPath(new URL("../bench/run.js", import.meta.url)));
  const r = cli(["bench", "--", "--repeat", "zero"]);
  if (built) {
    // The suite's own argument check answers: proof that the arguments reached it.
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /repeat/);
  } else {
    assert.equal(r.code, 1);
    assert.match(r.stderr, /benchmark suite is not available/);
  }
});

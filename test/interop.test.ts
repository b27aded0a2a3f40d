/**
 * Interop: files written by DataExporter are read by Python's h5py (test/py/read_with_h5py.py,
 * which knows only FORMAT.md) and by h5dump. Needs /usr/bin/python3 with h5py + numpy and h5dump
 * (Debian: python3-h5py, hdf5-tools); skipped without them, except on CI (CI=true) where it fails.
 */
import { test, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DataExporter, type StepInput, type VariableInput } from "#lib/index.js";
import { checkAndRemove, rng, tempDir } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
/** The compiled test runs from dist/test/; the script lives in the source tree. */
const READER = fileURLToPath(new URL("../../test/py/read_with_h5py.py", import.meta.url));

// ------------------------------------------------------------------ tools

type Tool = "h5py" | "h5dump";
const toolCache = new Map<Tool, string | null>();

/** Why `tool` is unusable, or null when it works. */
function toolProblem(tool: Tool): string | null {
  if (!toolCache.has(tool)) {
    const r = tool === "h5py"
      ? spawnSync(PYTHON, ["-c", "import h5py, numpy"], { encoding: "utf8" })
      : spawnSync("h5dump", ["--version"], { encoding: "utf8" });
    const why = r.error ? r.error.message : r.status !== 0 ? (r.stderr.trim().split("\n").pop() ?? `exit ${r.status}`) : null;
    toolCache.set(tool, why === null ? null : tool === "h5py" ? `${PYTHON} cannot import h5py/numpy (${why})` : `h5dump is not runnable (${why})`);
  }
  return toolCache.get(tool)!;
}

/** True when every tool works. Otherwise skips the test, or fails it on CI (CI=true). */
function requireTools(t: TestContext, ...tools: Tool[]): boolean {
  const problems = tools.map(toolProblem).filter((p): p is string => p !== null);
  if (problems.length === 0) return true;
  const reason = `${problems.join("; ")}: install python3-h5py / hdf5-tools (apt-get install python3-h5py hdf5-tools)`;
  if (process.env.CI === "true") assert.fail(`interop tools missing on CI: ${reason}`);
  t.skip(reason);
  return false;
}

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs read_with_h5py.py on `file` against `expected`; asserts it prints OK. */
function readWithH5py(dir: string, file: string, expected: Expected): void {
  const json = join(dir, "EXPECTED.json");
  writeFileSync(json, JSON.stringify(expected, null, 1));
  const keep = process.env.INTEROP_KEEP; // a directory: keep every checked file and its EXPECTED.json to rerun the .py by hand
  if (keep) {
    const to = join(keep, `${basename(dirname(file))}`);
    mkdirSync(to, { recursive: true });
    copyFileSync(file, join(to, "experiment_data.h5"));
    copyFileSync(json, join(to, "EXPECTED.json"));
  }
  const r = run(PYTHON, [READER, file, json]);
  assert.equal(r.status, 0, `read_with_h5py.py ${file} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^OK \d+ checks$/m, `read_with_h5py.py printed:\n${r.stdout}${r.stderr}`);
}

// ------------------------------------------------------------------ EXPECTED.json (read by the .py)

/** A dataset: dtype, shape and flat row-major data (null = NaN). */
interface NdExp { dtype: string; shape: number[]; data: (number | null)[] }
interface WeightsExp {
  source_format: "dense" | "coo" | "csr";
  dtype: string;
  shape: number[];
  dense?: number[][];
  coo?: { rows: number[]; cols: number[]; values: number[] };
  csr?: { indptr: number[]; indices: number[]; data: number[] };
}
type EntryExp =
  | ({ kind: "dataset" } & NdExp)
  | { kind: "strings"; values: string[] }
  | { kind: "json"; value: unknown }
  | { kind: "csr"; weights: WeightsExp };
interface WeightChangeExp { timestep: number; synapseId?: number; sourceId?: number; targetId?: number; oldWeight: number; newWeight: number }
/**
 * One neural state variable (one row per kept sample) or behaviour key (one row per logged step) in
 * one episode, as given: each row flat row-major, null where the variable / key was not given. The
 * .py derives `first_row` and the padding from these.
 */
interface KeyedExp { dtype: string; row_shape: number[]; rows: ((number | null)[] | null)[] }
interface EpisodeExp {
  id: number;
  /** `completed` (endEpisode) or `incomplete` (still open at close()). */
  status: "completed" | "incomplete";
  success: number;
  neural_sampling_rate: number;
  timesteps: number[];
  summary?: unknown;
  /** Kept samples; `every_step`: neural state was given at every step. */
  neural: { timesteps: number[]; variables: Record<string, KeyedExp>; every_step: boolean };
  /** The spiking neurons of every logged step, in the order given (the .py sorts). */
  spikes_per_step: number[][];
  behavior: Record<string, KeyedExp>;
  /** Reward of every logged step, zeros included (the .py keeps the non-zero ones). */
  rewards_per_step: number[];
  /** In the order logged (the .py sorts by timestep, stable). */
  weight_changes: WeightChangeExp[];
  events: { timestep: number; type: string; data: unknown }[];
  static: Record<string, EntryExp>;
}
interface Expected {
  compression: "gzip" | "none";
  root: { experiment_name: string; exporter_options: Record<string, unknown> };
  config: Record<string, unknown>;
  metadata: Record<string, unknown>;
  network: { n_neurons: number | null; neurons: Record<string, EntryExp>; connections: Record<string, EntryExp>; weights: WeightsExp | null };
  /** The spike columns' dtypes the test expects for its neuron count. */
  spikes: { n_neurons: number | null; counts_dtype: string; ids_dtype: string };
  episodes: EpisodeExp[];
  checkpoints: Record<string, { episode_count: number; entries: Record<string, EntryExp> }>;
  /** Run FORMAT.md's "One episode in h5py" block on the file (needs a neural state variable `v`). */
  format_recipe: boolean;
}

const ds = (dtype: string, shape: number[], data: ArrayLike<number> | (number | null)[]): EntryExp & NdExp =>
  ({ kind: "dataset", dtype, shape, data: Array.from(data as ArrayLike<number>) });

function newEpisode(id: number, rate: number): EpisodeExp {
  return {
    id, status: "completed", success: -1, neural_sampling_rate: rate, timesteps: [],
    neural: { timesteps: [], variables: {}, every_step: true },
    spikes_per_step: [], behavior: {}, rewards_per_step: [], weight_changes: [], events: [], static: {},
  };
}

const DTYPE_OF = new Map<unknown, string>([
  [Float64Array, "float64"], [Float32Array, "float32"], [Int32Array, "int32"], [Int16Array, "int16"], [Int8Array, "int8"],
  [Uint32Array, "uint32"], [Uint16Array, "uint16"], [Uint8Array, "uint8"],
]);

/** dtype, shape and flat values of a value as the test gave it: a number, a typed array, nested number arrays or `{ data, shape }`. */
function ndOf(v: unknown): { dtype: string; shape: number[]; flat: number[] } {
  if (typeof v === "number") return { dtype: "float64", shape: [], flat: [v] };
  if (ArrayBuffer.isView(v)) {
    const a = v as unknown as ArrayLike<number>;
    return { dtype: DTYPE_OF.get(v.constructor)!, shape: [a.length], flat: Array.from(a) };
  }
  if (Array.isArray(v)) {
    if (v.length > 0 && Array.isArray(v[0])) {
      const rows = v.map(ndOf);
      return { dtype: "float64", shape: [v.length, ...rows[0].shape], flat: rows.flatMap((r) => r.flat) };
    }
    return { dtype: "float64", shape: [v.length], flat: v as number[] };
  }
  const { data, shape } = v as { data: ArrayLike<number>; shape: number[] };
  return { dtype: ArrayBuffer.isView(data) ? DTYPE_OF.get(data.constructor)! : "float64", shape, flat: Array.from(data) };
}

/** Adds this row (or null) to the episode's record of a variable / key, with null rows for the rows before it appeared in the episode. */
function pushKeyed(table: Record<string, KeyedExp>, given: Record<string, unknown> | undefined, rowsBefore: number): void {
  for (const [name, v] of Object.entries(given ?? {})) {
    if (table[name]) continue;
    const nd = ndOf(v); // a variable's row is its value (shape [N], [N, 2] ...); a behaviour number's row is a scalar
    table[name] = { dtype: nd.dtype, row_shape: nd.shape, rows: Array(rowsBefore).fill(null) };
  }
  for (const [name, k] of Object.entries(table)) k.rows.push(given && name in given ? ndOf(given[name]).flat : null);
}

/** Logs one step into the exporter and records, from the same input, what the file must hold for it. */
function logStep(ex: DataExporter, x: EpisodeExp, step: StepInput): void {
  ex.log(step);
  const i = x.timesteps.length; // steps of this episode before this one
  x.timesteps.push(step.timestep);
  if (step.neuralState === undefined) x.neural.every_step = false;
  else if (i % x.neural_sampling_rate === 0) {
    // FORMAT.md: kept at the 1st, (1+r)th, (1+2r)th ... logged step
    x.neural.timesteps.push(step.timestep);
    pushKeyed(x.neural.variables, step.neuralState, x.neural.timesteps.length - 1);
  }
  const sp = step.spikes;
  x.spikes_per_step.push(sp === undefined ? [] : sp instanceof Uint8Array || typeof sp[0] === "boolean"
    ? Array.from(sp as ArrayLike<number | boolean>).flatMap((on, k) => (on ? [k] : []))
    : Array.from(sp as ArrayLike<number>));
  x.rewards_per_step.push(step.reward ?? 0);
  pushKeyed(x.behavior, step.behavior, i);
}

/** Logs an event and records it. */
function logEvent(ex: DataExporter, x: EpisodeExp, ev: { timestep: number; type: string; data: unknown }): void {
  if (ev.data === null) ex.logEvent({ timestep: ev.timestep, type: ev.type });
  else ex.logEvent(ev);
  x.events.push(ev);
}

/** Logs a weight change and records it. */
function logWeightChange(ex: DataExporter, x: EpisodeExp, c: WeightChangeExp): void {
  ex.logWeightChange(c);
  x.weight_changes.push(c);
}

/** Ends the episode (success / summary as given) and records it. */
function endEpisode(ex: DataExporter, x: EpisodeExp, result: { success?: boolean; summary?: unknown } = {}): void {
  ex.endEpisode(result);
  x.status = "completed";
  if (result.success !== undefined) x.success = result.success ? 1 : 0;
  if (result.summary !== undefined) x.summary = result.summary;
}

// ------------------------------------------------------------------ the main experiment

const N = 20;
/** Episode 2 has no steps; episode 3 is still open at close() (status incomplete). */
const STEPS = [30, 25, 0, 12];
const RATE = 3;

interface Written { dir: string; file: string; expected: Expected }
let mainExperiment: Promise<Written> | null = null;
const sharedDirs: string[] = [];
after(() => {
  for (const d of sharedDirs) checkAndRemove(d);
});

/** Writes (once) an experiment with every stream, and the EXPECTED.json describing it. */
function writeMainExperiment(): Promise<Written> {
  mainExperiment ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "snn-export-interop-"));
    sharedDirs.push(dir);
    const rand = rng(7);
    const name = "interop_µs";
    const ex = await DataExporter.create(name, { outputBaseDir: dir, neuralSamplingRate: RATE, chunkSize: 7 });

    const config1 = {
      n_neurons: N, learning_rate: 0.01, model: "lif", use_stdp: true, schedule: "constant", unit: "µs ✓",
      nested: { stdp: { a_plus: 0.01, taus: [20, 20.5] }, layers: [{ n: 16, type: "exc" }, { n: 4, type: "inh", extra: null }] },
      long_note: "n".repeat(1500), nothing: null,
    };
    const config2 = { learning_rate: 0.005, schedule: { kind: "cosine", period: 100 } };
    ex.saveConfig(config1);
    ex.saveConfig(config2); // merge: later keys win
    ex.saveMetadata({ description: "interop", tags: ["h5py", "h5dump"] });
    ex.saveMetadata({ description: "interop test ✓", author: "test" });

    const positions = Float32Array.from({ length: 2 * N }, (_, i) => i / 3);
    const threshold = Array.from({ length: N }, (_, i) => -50 - i / 10);
    const excitatory = Array.from({ length: N }, (_, i) => i < 16);
    const types = excitatory.map((e) => (e ? "exc" : "inh_ß"));
    const coo = { sourceIds: [5, 2, 0, 5, 19], targetIds: [3, 7, 1, 3, 0], values: Float32Array.from([0.25, -0.5, 0.125, 0.3, 1.1]) };
    ex.saveNetworkStructure({
      neurons: { ids: Int32Array.from({ length: N }, (_, i) => i), types, positions: { data: positions, shape: [N, 2] }, threshold, excitatory },
      connections: { source_ids: Int32Array.from([0, 1, 2]), target_ids: Int32Array.from([1, 2, 0]), delay: [1.5, 2, 0.5] },
      weights: { ...coo, shape: [N, N] },
    });

    const expected: Expected = {
      compression: "gzip",
      root: { experiment_name: name, exporter_options: { neuralSamplingRate: RATE, chunkSize: 7, compression: "gzip" } },
      config: { ...config1, ...config2 },
      metadata: { description: "interop test ✓", tags: ["h5py", "h5dump"], author: "test" },
      network: {
        n_neurons: N,
        neurons: {
          ids: ds("int32", [N], Array.from({ length: N }, (_, i) => i)),
          types: { kind: "strings", values: types },
          positions: ds("float32", [N, 2], positions),
          threshold: ds("float64", [N], threshold),
          excitatory: ds("int8", [N], excitatory.map(Number)),
        },
        connections: {
          source_ids: ds("int32", [3], [0, 1, 2]),
          target_ids: ds("int32", [3], [1, 2, 0]),
          delay: ds("float64", [3], [1.5, 2, 0.5]),
        },
        weights: { source_format: "coo", dtype: "float32", shape: [N, N], coo: { rows: coo.sourceIds, cols: coo.targetIds, values: [...coo.values] } },
      },
      spikes: { n_neurons: N, counts_dtype: "uint8", ids_dtype: "uint8" },
      episodes: [],
      checkpoints: {},
      format_recipe: true,
    };

    for (let e = 0; e < STEPS.length; e++) {
      const x = newEpisode(e, RATE);
      expected.episodes.push(x);
      assert.equal(ex.startEpisode(), e);
      for (let i = 0; i < STEPS[e]; i++) {
        const t = 100 * e + 3 * i - 7; // negative, non-contiguous timesteps
        const neuralState: Record<string, VariableInput> = {
          v: Float32Array.from({ length: N }, () => -70 + 20 * rand()),
          i_syn: Float64Array.from({ length: N }, () => rand() - 0.5),
          refractory: Int16Array.from({ length: N }, () => Math.floor(rand() * 5) - 2),
          pos: Array.from({ length: N }, (_, k) => [k + i / 4, -k - i]),
        };
        // first given in episode 1 at its 3rd sample (rows before: NaN padding), left out at some
        // later samples (NaN) and in all of episode 3 (NaN rows)
        if (e === 1 && i >= 6 && i % 4 !== 1) neuralState.adapt = Float32Array.from({ length: N }, () => rand());
        // an integer variable first given in episode 3, left out at its 2nd sample (0)
        if (e === 3 && i !== 3) neuralState.gate = Uint8Array.from({ length: N }, (_, k) => (k + i) % 3);
        const ids = [...Array(N).keys()].filter(() => rand() < 0.25);
        const spikes = e === 0 ? Uint8Array.from({ length: N }, (_, k) => (ids.includes(k) ? 1 : 0))
          : e === 1 ? Int32Array.from([...ids].reverse()) // unsorted ids: stored ascending
          : ids;
        const reward = rand() < 0.2 ? Math.round(rand() * 100) / 10 - 5 : 0;
        const behavior: Record<string, number | Float32Array | Int32Array> = { x: rand(), vel: Float32Array.from([rand(), -rand()]), zone: Int32Array.from([i % 4]) };
        if (i % 5 !== 4) behavior.y = i * 0.5; // float key left out: NaN
        if ((e === 1 && i >= 7 && i % 3 !== 0) || e === 3) behavior.speed = rand() * 2; // a float key that appears mid-run
        if (e === 3) behavior.lane = Int32Array.from([e, -i]); // an integer key from an episode's first step on
        logStep(ex, x, { timestep: t, neuralState, spikes, behavior, reward });
      }
      if (e < 2) {
        for (const c of [
          { timestep: 30, synapseId: 2, oldWeight: 0.2, newWeight: 0.25 },
          { timestep: 12, sourceId: 0, targetId: 1, oldWeight: 0.1, newWeight: 0.12 },
          { timestep: 12, synapseId: 4, oldWeight: -0.5, newWeight: -0.45 }, // same timestep: stays after the one above
          { timestep: -3, sourceId: 5, targetId: 3, oldWeight: 0.3, newWeight: 0.35 + e },
        ]) logWeightChange(ex, x, c);
        for (const ev of [
          { timestep: 5, type: "early", data: [1, 2.5, "three"] },
          { timestep: 20, type: "midpoint_analysis", data: { meanV: -63.2, e, nested: { list: [1, "two", null], ok: true } } },
          { timestep: 22, type: "no_data", data: null },
          { timestep: 24, type: "note_✓", data: "plain string ünïcode" },
        ]) logEvent(ex, x, ev);
        const world = { walls: [[0, 0], [1, 1]], goal: [0.5, 0.5], name: `world ${e}` };
        ex.logStaticEpisodeData("world", world);
        x.static.world = { kind: "json", value: world };
      }
      if (e === 0) {
        const rates = Float64Array.from([1, 2.5, 3]);
        const grid = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
        ex.logStaticEpisodeData("rates", rates);
        ex.logStaticEpisodeData("grid", { data: grid, shape: [2, 3] });
        ex.logStaticEpisodeData("label", "maze-3");
        ex.logStaticEpisodeData("seed", 42);
        x.static.rates = ds("float64", [3], rates);
        x.static.grid = ds("float32", [2, 3], grid);
        x.static.label = { kind: "json", value: "maze-3" };
        x.static.seed = { kind: "json", value: 42 };
      }
      if (e === 2) {
        // no steps, yet a weight change, an event and static data
        logWeightChange(ex, x, { timestep: 7, sourceId: 19, targetId: 0, oldWeight: 1.1, newWeight: 1 });
        logEvent(ex, x, { timestep: 0, type: "skipped", data: { why: "no steps" } });
        ex.logStaticEpisodeData("names", ["a", "b ✓"]);
        x.static.names = { kind: "strings", values: ["a", "b ✓"] };
        endEpisode(ex, x); // no success, no summary
      } else if (e < 2) {
        endEpisode(ex, x, { success: e === 0, summary: { finalPosition: [0.4, 0.6], e, note: "✓" } });
      } else {
        x.status = "incomplete"; // still open at close()
      }
      if (e === 0) {
        const csr = { indptr: [0, 1, 1, 3], indices: [2, 0, 1], data: [0.5, -0.25, 2], shape: [3, 3] };
        ex.saveCheckpoint("after_episode_0", { weights: csr, step: 30 });
        expected.checkpoints.after_episode_0 = {
          episode_count: 1,
          entries: { weights: { kind: "csr", weights: { source_format: "csr", dtype: "float64", shape: [3, 3], csr } }, step: { kind: "json", value: 30 } },
        };
      }
    }

    const cpCoo = { sourceIds: [1, 0, 1], targetIds: [0, 3, 0], values: Float32Array.from([0.5, 0.75, -1]), shape: [N, N] };
    const dense = Float32Array.from([1, 0, 0, 2]);
    const params = { lr: 0.005, history: [1, 2], deep: { a: { b: [null, true] } } };
    ex.saveCheckpoint("final", { weights: cpCoo, dense: { data: dense, shape: [2, 2] }, nested: [[1, 2, 3], [4, 5, 6]], params, epoch: 3 });
    expected.checkpoints.final = {
      episode_count: STEPS.length,
      entries: {
        weights: { kind: "csr", weights: { source_format: "coo", dtype: "float32", shape: [N, N], coo: { rows: cpCoo.sourceIds, cols: cpCoo.targetIds, values: [...cpCoo.values] } } },
        dense: ds("float32", [2, 2], dense), // a dense matrix stays dense
        nested: ds("float64", [2, 3], [1, 2, 3, 4, 5, 6]),
        params: { kind: "json", value: params },
        epoch: { kind: "json", value: 3 },
      },
    };
    await ex.close();
    assert.match(ex.filePath, /[/\\]interop_µs_\d{8}_\d{6}(_\d+)?[/\\]experiment_data\.h5$/);
    return { dir, file: ex.filePath, expected };
  })();
  return mainExperiment;
}

// ------------------------------------------------------------------ tests

test("h5py reads every part of an experiment as FORMAT.md describes", async (t) => {
  if (!requireTools(t, "h5py")) return;
  const { dir, file, expected } = await writeMainExperiment();
  readWithH5py(dir, file, expected);
});

test("h5dump reads the file: -H lists the groups, a full dump succeeds", async (t) => {
  if (!requireTools(t, "h5dump")) return;
  const { file } = await writeMainExperiment();
  const header = run("h5dump", ["-H", file]);
  assert.equal(header.status, 0, `h5dump -H failed:\n${header.stderr}`);
  for (const g of ["/", "config", "metadata", "network_structure", "initial_weights", "neurons", "episodes", "neural_states", "spikes",
    "behavior", "rewards", "weight_changes", "events", "episode_static", "episode_0000", "episode_0001", "episode_0002", "checkpoints",
    "after_episode_0", "final"]) {
    assert.ok(header.stdout.includes(`GROUP "${g}"`), `h5dump -H does not list GROUP "${g}":\n${header.stdout.slice(0, 2000)}`);
  }
  assert.ok(!header.stdout.includes(`GROUP "episode_0003"`), "episode 3 stored no static data: no group");
  for (const d of ["json", "user", "timesteps", "counts", "neuron_ids", "indptr", "types", "v", "adapt", "speed", "lane", "episode_id", "status",
    "step_rows", "spike_rows", "state_rows", "reward_rows", "weight_change_rows", "event_rows", "summary"]) {
    assert.ok(header.stdout.includes(`DATASET "${d}"`), `h5dump -H does not list DATASET "${d}"`);
  }
  for (const a of ["first_row", "codes", "units", "encoding", "n_neurons"]) {
    assert.ok(header.stdout.includes(`ATTRIBUTE "${a}"`), `h5dump -H does not list ATTRIBUTE "${a}"`);
  }
  const full = run("h5dump", [file]);
  assert.equal(full.status, 0, `h5dump (all data) failed:\n${full.stderr}`);
  assert.equal(full.stderr, "", "h5dump printed errors");
});

/** The numbers of the DATA block of `h5dump -d` output, in order (indices like `(30,1):` removed). */
function dumpValues(out: string): number[] {
  const block = /DATA\s*\{([\s\S]*?)\}/.exec(out);
  assert.ok(block, `no DATA block in:\n${out}`);
  return block[1].replace(/\(\d+(,\d+)*\):/g, " ").split(/[\s,]+/).filter(Boolean).map(Number);
}

test("h5dump -d prints the episode table's step_rows and, with -s/-c, one episode's slice of /spikes/counts", async (t) => {
  if (!requireTools(t, "h5dump")) return;
  const { file, expected } = await writeMainExperiment();
  // step rows from the test's inputs: episode after episode
  const starts = STEPS.map((_, e) => STEPS.slice(0, e).reduce((a, b) => a + b, 0));
  const rows = run("h5dump", ["-d", "/episodes/step_rows", file]);
  assert.equal(rows.status, 0, `h5dump -d failed:\n${rows.stderr}`);
  assert.match(rows.stdout, /H5T_STD_I64LE/);
  assert.match(rows.stdout, new RegExp(`DATASPACE\\s+SIMPLE \\{ \\( ${STEPS.length}, 2 \\)`));
  assert.deepEqual(dumpValues(rows.stdout), starts.flatMap((a, e) => [a, a + STEPS[e]]));

  const e = 1;
  const r = run("h5dump", ["-d", "/spikes/counts", "-s", String(starts[e]), "-c", String(STEPS[e]), file]);
  assert.equal(r.status, 0, `h5dump -d -s -c failed:\n${r.stderr}`);
  assert.match(r.stdout, /H5T_STD_U8LE/, "counts of a 20-neuron network should be uint8");
  const want = expected.episodes[e].spikes_per_step.map((ids) => ids.length);
  assert.ok(want.some((c) => c > 0), "the episode should have spikes");
  assert.deepEqual(dumpValues(r.stdout), want);
});

test("neuron id dtypes follow the neuron count: 256 -> uint8, 1000 -> uint16, unknown -> uint32", async (t) => {
  if (!requireTools(t, "h5py")) return;
  const cases = [
    { n: 256, ids: "uint8", counts: "uint16", input: "mask", compression: "none" as const },
    { n: 1000, ids: "uint16", counts: "uint16", input: "ids", compression: "gzip" as const },
    { n: null, ids: "uint32", counts: "uint32", input: "ids", compression: "gzip" as const },
  ];
  for (const c of cases) {
    await t.test(`${c.n ?? "unknown"} neurons: ids ${c.ids}, counts ${c.counts}`, async (st) => {
      const dir = tempDir(st);
      const rand = rng(c.n ?? 3);
      const name = `dtypes_${c.n ?? "unknown"}`;
      const ex = await DataExporter.create(name, { outputBaseDir: dir, chunkSize: 16, compression: c.compression });
      ex.saveConfig({ n: c.n });
      ex.saveMetadata({ case: name });
      const expected: Expected = {
        compression: c.compression,
        root: { experiment_name: name, exporter_options: { chunkSize: 16, compression: c.compression } },
        config: { n: c.n },
        metadata: { case: name },
        network: { n_neurons: c.n, neurons: {}, connections: {}, weights: null },
        spikes: { n_neurons: c.n, counts_dtype: c.counts, ids_dtype: c.ids },
        episodes: [],
        checkpoints: {},
        format_recipe: false, // no neural state
      };
      if (c.n !== null) {
        ex.saveNetworkStructure({ neurons: { ids: Uint16Array.from({ length: c.n }, (_, i) => i) } });
        expected.network.neurons.ids = ds("uint16", [c.n], Array.from({ length: c.n }, (_, i) => i));
      }
      const top = c.n ?? 70_000; // unknown count: ids above 65535 still fit uint32
      for (let e = 0; e < 2; e++) {
        const x = newEpisode(e, 1);
        expected.episodes.push(x);
        ex.startEpisode();
        for (let i = 0; i < 40 - 15 * e; i++) {
          const ids = [...new Set(Array.from({ length: Math.floor(rand() * 12) }, () => Math.floor(rand() * top)))].sort((a, b) => a - b);
          if (i === 3) ids.splice(0, ids.length, 0, top - 1); // the largest id
          const spikes = c.input === "mask" ? Uint8Array.from({ length: top }, (_, k) => (ids.includes(k) ? 1 : 0)) : Uint32Array.from(ids);
          logStep(ex, x, { timestep: i * 10, spikes });
        }
        endEpisode(ex, x, { success: e === 0 });
      }
      await ex.close();
      readWithH5py(dir, ex.filePath, expected);
    });
  }
});

/**
 * Writes `E` short episodes (every 5th without steps, the last left open at close()) with a variable
 * and a behaviour key that appear late, and returns the file and its EXPECTED.json.
 */
async function writeManyShort(dir: string, E: number, engine: "ts" | "h5wasm"): Promise<{ file: string; expected: Expected }> {
  const rand = rng(2024);
  const n = 6;
  const name = `many_short_${engine}`;
  const options = { neuralSamplingRate: 2, chunkSize: 64, flushEverySteps: 97, engine };
  const ex = await DataExporter.create(name, { outputBaseDir: dir, ...options, provenance: false });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: n }, (_, i) => i) } });
  ex.saveConfig({ episodes: E });
  ex.saveMetadata({ case: name });
  const expected: Expected = {
    compression: "gzip",
    root: { experiment_name: name, exporter_options: { ...options, compression: "gzip" } },
    config: { episodes: E },
    metadata: { case: name },
    network: { n_neurons: n, neurons: { ids: ds("int32", [n], Array.from({ length: n }, (_, i) => i)) }, connections: {}, weights: null },
    spikes: { n_neurons: n, counts_dtype: "uint8", ids_dtype: "uint8" },
    episodes: [],
    checkpoints: {},
    format_recipe: true,
  };
  let speedSince = -1; // the float key "speed" appears at the 2nd step of the first episode from E/2 on with two steps
  for (let e = 0; e < E; e++) {
    const x = newEpisode(e, 2);
    expected.episodes.push(x);
    assert.equal(ex.startEpisode(), e);
    const steps = e % 5 === 0 ? 0 : 1 + Math.floor(rand() * 4); // every 5th episode (the first included) has no steps
    if (speedSince < 0 && e >= E / 2 && steps >= 2) speedSince = e;
    for (let i = 0; i < steps; i++) {
      const neuralState: Record<string, VariableInput> = { v: Float32Array.from({ length: n }, () => rand()) };
      // an integer variable from episode E/4 on, left out now and then (0)
      if (e >= E / 4 && !(e % 7 === 0 && i === 0)) neuralState.w = Int16Array.from({ length: n }, () => Math.floor(rand() * 200) - 100);
      const ids = [...Array(n).keys()].filter(() => rand() < 0.3);
      const behavior: Record<string, number | Float64Array> = { x: rand() };
      if (speedSince >= 0 && (e > speedSince || i >= 1) && rand() < 0.8) behavior.speed = rand();
      logStep(ex, x, {
        timestep: 10 * e + 2 * i, neuralState, behavior, reward: rand() < 0.3 ? rand() - 0.5 : 0,
        spikes: e % 2 ? Int32Array.from(ids.reverse()) : Uint8Array.from({ length: n }, (_, k) => (ids.includes(k) ? 1 : 0)),
      });
    }
    if (e % 3 === 1) {
      logWeightChange(ex, x, { timestep: 10 * e + 5, synapseId: e % 11, oldWeight: rand(), newWeight: rand() });
      logWeightChange(ex, x, { timestep: 10 * e, sourceId: e % n, targetId: (e + 1) % n, oldWeight: rand(), newWeight: rand() });
    }
    if (e % 7 === 2) logEvent(ex, x, { timestep: 10 * e, type: e % 2 ? "odd" : "even", data: e % 14 === 2 ? null : { e } });
    if (e % 700 === 3) {
      const data = Float64Array.from([e, e / 2]);
      ex.logStaticEpisodeData("start", data);
      x.static.start = ds("float64", [2], data);
    }
    if (e === E - 1) x.status = "incomplete"; // still open at close()
    else endEpisode(ex, x, { success: e % 3 === 0 ? undefined : e % 2 === 0, summary: e % 11 === 0 ? { e } : undefined });
  }
  assert.ok(speedSince > 0);
  await ex.close();
  return { file: ex.filePath, expected };
}

test("h5py reads a run of many short episodes slice by slice: empty episodes, late variables and keys, a table of more than one chunk", async (t) => {
  if (!requireTools(t, "h5py")) return;
  const dir = tempDir(t);
  const { file, expected } = await writeManyShort(dir, 4200, "ts"); // the episode table's columns have 4096 rows per chunk
  readWithH5py(dir, file, expected);
});

test("the h5wasm engine writes the same format: h5py reads its many short episodes", async (t) => {
  if (!requireTools(t, "h5py")) return;
  const dir = tempDir(t);
  const { file, expected } = await writeManyShort(dir, 300, "h5wasm");
  readWithH5py(dir, file, expected);
});

/**
 * Interop: files written by DataExporter are read by Python's h5py (test/py/read_with_h5py.py,
 * which knows only FORMAT.md) and by h5dump. Needs /usr/bin/python3 with h5py + numpy and h5dump
 * (Debian: python3-h5py, hdf5-tools); skipped without them, except on CI (CI=true) where it fails.
 */
import { test, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DataExporter } from "../src/index.js";
import { rng, tempDir } from "./helpers.js";

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
interface EpisodeExp {
  id: number;
  status: string;
  success: number;
  neural_sampling_rate: number;
  timesteps: number[];
  summary?: unknown;
  /** Sampled rows; `every_step`: neural state was given at every step. */
  neural: { timesteps: number[]; variables: Record<string, NdExp>; every_step: boolean };
  /** `per_step`: the spiking neurons of every logged step, in the order given (the .py sorts). */
  spikes: { n_neurons: number | null; counts_dtype: string; ids_dtype: string; per_step: number[][] };
  behavior: Record<string, NdExp>;
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
  episodes: EpisodeExp[];
  checkpoints: Record<string, { episode_count: number; entries: Record<string, EntryExp> }>;
}

const ds = (dtype: string, shape: number[], data: ArrayLike<number> | (number | null)[]): EntryExp & NdExp =>
  ({ kind: "dataset", dtype, shape, data: Array.from(data as ArrayLike<number>) });

function newEpisode(id: number, rate: number, n: number | null, idsDtype: string, countsDtype: string): EpisodeExp {
  return {
    id, status: "completed", success: -1, neural_sampling_rate: rate, timesteps: [],
    neural: { timesteps: [], variables: {}, every_step: true },
    spikes: { n_neurons: n, counts_dtype: countsDtype, ids_dtype: idsDtype, per_step: [] },
    behavior: {}, rewards_per_step: [], weight_changes: [], events: [], static: {},
  };
}

// ------------------------------------------------------------------ the main experiment

const N = 20;
const STEPS = [30, 25, 12];
const RATE = 3;

interface Written { dir: string; file: string; expected: Expected }
let mainExperiment: Promise<Written> | null = null;
const sharedDirs: string[] = [];
after(() => {
  for (const d of sharedDirs) rmSync(d, { recursive: true, force: true });
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
      episodes: [],
      checkpoints: {},
    };

    for (let e = 0; e < STEPS.length; e++) {
      const x = newEpisode(e, RATE, N, "uint8", "uint8");
      expected.episodes.push(x);
      const v = ds("float32", [0, N], []), iSyn = ds("float64", [0, N], []), refr = ds("int16", [0, N], []), pos = ds("float64", [0, N, 2], []);
      const bx = ds("float64", [0], []), by = ds("float64", [0], []), vel = ds("float32", [0, 2], []), zone = ds("int32", [0, 1], []);
      x.neural.variables = { v, i_syn: iSyn, refractory: refr, pos };
      x.behavior = { x: bx, y: by, vel, zone };
      assert.equal(ex.startEpisode(), e);
      for (let i = 0; i < STEPS[e]; i++) {
        const t = 100 * e + 3 * i - 7; // negative, non-contiguous timesteps
        const state = {
          v: Float32Array.from({ length: N }, () => -70 + 20 * rand()),
          i_syn: Float64Array.from({ length: N }, () => rand() - 0.5),
          refractory: Int16Array.from({ length: N }, () => Math.floor(rand() * 5) - 2),
          pos: Array.from({ length: N }, (_, k) => [k + i / 4, -k - i]),
        };
        const ids = [...Array(N).keys()].filter(() => rand() < 0.25);
        const spikes = e === 0 ? Uint8Array.from({ length: N }, (_, k) => (ids.includes(k) ? 1 : 0))
          : e === 1 ? Int32Array.from([...ids].reverse()) // unsorted ids: stored ascending
          : ids;
        const reward = rand() < 0.2 ? Math.round(rand() * 100) / 10 - 5 : 0;
        const behavior: Record<string, number | Float32Array | Int32Array> = { x: rand(), vel: Float32Array.from([rand(), -rand()]), zone: Int32Array.from([i % 4]) };
        const yMissing = i % 5 === 4;
        if (!yMissing) behavior.y = i * 0.5; // float key left out: NaN
        ex.log({ timestep: t, neuralState: state, spikes, behavior, reward });

        x.timesteps.push(t);
        if (i % RATE === 0) {
          x.neural.timesteps.push(t);
          for (const [d, src] of [[v, state.v], [iSyn, state.i_syn], [refr, state.refractory], [pos, state.pos.flat()]] as const) {
            d.shape[0]++;
            d.data.push(...Array.from(src as ArrayLike<number>));
          }
        }
        x.spikes.per_step.push(Array.from(spikes instanceof Uint8Array ? ids : spikes));
        x.rewards_per_step.push(reward);
        for (const [d, val] of [[bx, [behavior.x as number]], [by, [yMissing ? null : (behavior.y as number)]], [vel, [...(behavior.vel as Float32Array)]], [zone, [...(behavior.zone as Int32Array)]]] as const) {
          d.shape[0]++;
          d.data.push(...val);
        }
      }
      if (e < 2) {
        const changes: WeightChangeExp[] = [
          { timestep: 30, synapseId: 2, oldWeight: 0.2, newWeight: 0.25 },
          { timestep: 12, sourceId: 0, targetId: 1, oldWeight: 0.1, newWeight: 0.12 },
          { timestep: 12, synapseId: 4, oldWeight: -0.5, newWeight: -0.45 }, // same timestep: stays after the one above
          { timestep: -3, sourceId: 5, targetId: 3, oldWeight: 0.3, newWeight: 0.35 + e },
        ];
        for (const c of changes) ex.logWeightChange(c);
        x.weight_changes = changes;
        x.events = [
          { timestep: 5, type: "early", data: [1, 2.5, "three"] },
          { timestep: 20, type: "midpoint_analysis", data: { meanV: -63.2, e, nested: { list: [1, "two", null], ok: true } } },
          { timestep: 22, type: "no_data", data: null },
          { timestep: 24, type: "note_✓", data: "plain string ünïcode" },
        ];
        for (const ev of x.events) ev.data === null ? ex.logEvent({ timestep: ev.timestep, type: ev.type }) : ex.logEvent(ev);
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
        ex.endEpisode(); // no success, no summary
      } else {
        const summary = { finalPosition: [0.4, 0.6], e, note: "✓" };
        ex.endEpisode({ success: e === 0, summary });
        x.success = e === 0 ? 1 : 0;
        x.summary = summary;
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
      episode_count: 3,
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
  for (const g of ["/", "config", "metadata", "network_structure", "initial_weights", "neurons", "episodes", "episode_0000", "episode_0002",
    "neural_states", "spikes", "behavior", "rewards", "weight_changes", "events", "static", "checkpoints", "after_episode_0", "final"]) {
    assert.ok(header.stdout.includes(`GROUP "${g}"`), `h5dump -H does not list GROUP "${g}":\n${header.stdout.slice(0, 2000)}`);
  }
  for (const d of ["json", "user", "counts", "neuron_ids", "indptr", "timesteps", "types"]) {
    assert.ok(header.stdout.includes(`DATASET "${d}"`), `h5dump -H does not list DATASET "${d}"`);
  }
  const full = run("h5dump", [file]);
  assert.equal(full.status, 0, `h5dump (all data) failed:\n${full.stderr}`);
  assert.equal(full.stderr, "", "h5dump printed errors");
});

test("h5dump -d /episodes/episode_0000/spikes/counts prints the spike counts", async (t) => {
  if (!requireTools(t, "h5dump")) return;
  const { file, expected } = await writeMainExperiment();
  const r = run("h5dump", ["-d", "/episodes/episode_0000/spikes/counts", file]);
  assert.equal(r.status, 0, `h5dump -d failed:\n${r.stderr}`);
  assert.match(r.stdout, /H5T_STD_U8LE/, "counts of a 20-neuron network should be uint8");
  const block = /DATA\s*\{([\s\S]*?)\}/.exec(r.stdout);
  assert.ok(block, `no DATA block in:\n${r.stdout}`);
  const values = block[1].replace(/\(\d+(,\d+)*\):/g, " ").split(/[\s,]+/).filter(Boolean).map(Number);
  const want = expected.episodes[0].spikes.per_step.map((ids) => ids.length);
  assert.ok(want.some((c) => c > 0), "the episode should have spikes");
  assert.deepEqual(values, want);
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
        episodes: [],
        checkpoints: {},
      };
      if (c.n !== null) {
        ex.saveNetworkStructure({ neurons: { ids: Uint16Array.from({ length: c.n }, (_, i) => i) } });
        expected.network.neurons.ids = ds("uint16", [c.n], Array.from({ length: c.n }, (_, i) => i));
      }
      const x = newEpisode(0, 1, c.n, c.ids, c.counts);
      x.neural.every_step = false;
      ex.startEpisode();
      const top = c.n ?? 70_000; // unknown count: ids above 65535 still fit uint32
      for (let i = 0; i < 40; i++) {
        const ids = [...new Set(Array.from({ length: Math.floor(rand() * 12) }, () => Math.floor(rand() * top)))].sort((a, b) => a - b);
        if (i === 3) ids.splice(0, ids.length, 0, top - 1); // the largest id
        const spikes = c.input === "mask" ? Uint8Array.from({ length: top }, (_, k) => (ids.includes(k) ? 1 : 0)) : Uint32Array.from(ids);
        ex.log({ timestep: i * 10, spikes });
        x.timesteps.push(i * 10);
        x.spikes.per_step.push(ids);
        x.rewards_per_step.push(0);
      }
      ex.endEpisode({ success: true });
      x.success = 1;
      expected.episodes.push(x);
      await ex.close();
      readWithH5py(dir, ex.filePath, expected);
    });
  }
});

/**
 * Generator of the golden files of format 1.0: test/fixtures/golden/v1.0/<name>.h5 and
 * <name>.expected.json.
 *
 *   READ THIS BEFORE RUNNING. The committed files are the contract: they were written ONCE by
 *   the 1.0 writer (DataExporter / StandardDataExporter of snn-export 0.1.0, engine "ts") and
 *   read by the 1.0 loader, and every later version of the loader must read them and return the
 *   same values (test/golden-v1.test.ts). Do NOT regenerate them, least of all with a writer of
 *   a later format version: that would turn "the loader still reads what 1.0 wrote" into "the
 *   loader reads what it writes today". When the test fails, fix the loader, not the files.
 *   A new format version gets its own generator and directory (make-v2.ts, golden/v2.0/).
 *
 * How they were made (from the repository root, on the commit that added this file):
 *
 *   npx tsc -p tsconfig.json
 *   node dist/test/golden/make-v1.js --write
 *
 * `--write` refuses to touch an existing golden file; `--overwrite` would replace them (do not).
 * `--out <dir>` writes a fresh set elsewhere (e.g. to look at what today's code writes, or to
 * diff it against the committed JSON); that never touches the committed files.
 * Without `--write` the script prints this usage and exits 0: `node --test dist/test/` runs
 * every .js file under dist/test, this one included, and must not regenerate anything.
 *
 * What is written (all seeded with test/helpers.ts `rng`, provenance off so that no machine-
 * specific path, host name or git state is in a file; outputBaseDir is the relative
 * "experiments", resolved in a temporary working directory, so `exporter_options` holds no path
 * of this machine; the times in the files are the real ones of the run that made them and are
 * part of the golden values):
 * - optimized.h5  DataExporter: 3 episodes of 60, 57 and 62 steps plus a 10-step episode left
 *                 open at close() (status `incomplete`), 12 neurons; neural state (float32 `v`
 *                 with a NaN and a -0, float64 `w` [12, 2] with an Infinity and a sample where
 *                 it was left out), spikes as Int32Array ids, 0/1 masks, unsorted number[] ids,
 *                 boolean[] masks and empty steps, behaviour (float `x`, float `y` left out at some
 *                 steps -> NaN, float32 `dir` [3], int16 `cell` [2]), sparse rewards (some
 *                 negative), weight changes by synapse id, by source/target, both, and one episode
 *                 with out-of-order timesteps, events with and without JSON data (episode 0 only:
 *                 a string column costs a 16 KiB chunk in each episode that has one), static episode
 *                 data of every stored-value kind, summaries, success true/false/not given,
 *                 config and metadata (each saved twice, merged), network structure (neurons with
 *                 a string, a 2-D, a boolean and a plain-number field; connections; CSR weights),
 *                 two checkpoints.
 * - standard.h5   The same calls (same seed) through StandardDataExporter (layout `standard`),
 *                 without the episode left open.
 * - interrupted.h5  A child process writes 2 episodes of 40 steps and 25 steps of a third (with
 *                 out-of-order weight changes and 4 events), calls flush(), and kills itself with
 *                 SIGKILL: root status `open`, episode 2 `running`. The copy is cut to the end of
 *                 file stated in its superblock: the killed writer leaves up to 32 MiB of sparse
 *                 zeros after it (FORMAT.md), which no reader looks at.
 * - empty.h5      create() then close(), nothing else.
 *
 * Sizes: the .h5 files are 7 KB to 340 KB, about 90 % zeros (mostly the 2 KiB version-1 B-tree
 * node every chunked dataset has, about 30 datasets per episode, and the 16 KiB chunk of each
 * string column); git stores them compressed to 1-80 KB.
 */
import { spawnSync } from "node:child_process";
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { DataExporter, ExperimentLoader, StandardDataExporter, VERSION, FORMAT_VERSION, type ExporterOptions, type VariableInput } from "#lib/index.js";
import { rng } from "../helpers.js";
import { GOLDEN_V1_DIR, GOLDEN_V1_NAMES, goldenView, type Json } from "./view.js";

const N = 12;
const SEED = 20251206;
const BASE = "experiments"; // relative: resolved in the temporary working directory

const OPTIONS: ExporterOptions = {
  outputBaseDir: BASE,
  engine: "ts",
  provenance: false,
  neuralSamplingRate: 4,
  chunkSize: 16,
  allowNonFinite: true,
  flushIntervalMs: 0,
};

const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Timestep of the k-th logged step of episode e: even steps, a gap after the 30th. */
const stepTime = (e: number, k: number): number => 1000 * e + 2 * k + (k >= 30 ? 7 : 0);

/** The network: CSR weights over N neurons, and the matching connection records. */
function network(rand: () => number) {
  const indptr = [0];
  const indices: number[] = [];
  const data: number[] = [];
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < N; c++) if (c !== r && rand() < 0.2) { indices.push(c); data.push(round(rand() * 2 - 1, 3)); }
    indptr.push(indices.length);
  }
  const source = Int32Array.from(indices, (_, i) => indptr.findIndex((p, r) => i >= p && i < indptr[r + 1]));
  return {
    neurons: {
      ids: Int32Array.from({ length: N }, (_, i) => i),
      type: Array.from({ length: N }, (_, i) => (i % 4 === 3 ? "inh" : "exc")),
      tau: Array.from({ length: N }, (_, i) => 10 + i / 2),
      positions: Array.from({ length: N }, (_, i) => [i % 4, Math.floor(i / 4) + 0.5]),
      excitatory: Array.from({ length: N }, (_, i) => i % 4 !== 3),
    },
    connections: {
      source,
      target: Int32Array.from(indices),
      delay: Float32Array.from(indices, (_, i) => 1 + (i % 3) * 0.5),
    },
    weights: { indptr, indices, data: Float32Array.from(data), shape: [N, N] },
    nSynapses: indices.length,
  };
}

/** Logs steps [from, to) of episode e (same values for the same rand sequence). */
function logSteps(ex: DataExporter, e: number, from: number, to: number, rand: () => number, nSyn: number, events: boolean): void {
  for (let k = from; k < to; k++) {
    const t = stepTime(e, k);
    const v = Float32Array.from({ length: N }, () => -70 + Math.round(rand() * 1280) / 64);
    const w = Float64Array.from({ length: 2 * N }, () => round(rand()));
    if (e === 1 && k === 8) { v[3] = NaN; v[4] = -0; w[5] = Infinity; w[6] = -Infinity; }
    const ids = [...Array(N).keys()].filter(() => rand() < 0.25);
    const mask = Array.from({ length: N }, (_, i) => ids.includes(i));
    let spikes: Int32Array | Uint8Array | number[] | boolean[];
    switch (k % 4) {
      case 0: spikes = Int32Array.from(ids); break;
      case 1: spikes = Uint8Array.from(mask, Number); break;
      case 2: spikes = [...ids].reverse(); break; // unsorted ids: stored ascending
      default: spikes = mask;
    }
    if (e === 2 && k % 10 === 9) spikes = [];
    const behavior: Record<string, number | Float32Array | Int16Array> = {
      x: round(rand() * 10, 3),
      dir: Float32Array.from([rand(), rand(), rand()], (x) => round(x, 2)),
      cell: Int16Array.from([k % 5, Math.floor(k / 5)]),
    };
    const y = rand();
    if (k % 7 !== 3) behavior.y = y; // left out: stored as NaN
    const reward = rand() < 0.2 ? round(rand() * 2 - 0.5, 3) : 0;
    // `w` left out at one sample of episode 2: a NaN row
    const neuralState: Record<string, VariableInput> = e === 2 && k === 12 ? { v } : { v, w: { data: w, shape: [N, 2] } };
    ex.log({ timestep: t, neuralState, spikes, behavior, reward });

    if (e === 0 && k % 13 === 2) ex.logWeightChange({ timestep: t, synapseId: k % nSyn, oldWeight: round(rand()), newWeight: round(rand()) });
    if (e === 1 && k % 11 === 4) ex.logWeightChange({ timestep: t, sourceId: k % N, targetId: (k * 5) % N, oldWeight: round(rand()), newWeight: round(rand()) });
    if (e >= 2 && k % 9 === 1) ex.logWeightChange({ timestep: t, synapseId: 1, sourceId: 2, targetId: 3, oldWeight: round(rand()), newWeight: round(rand()) });
    if (e >= 2 && k === 20) {
      // out of order: a change for a later step, then two for an earlier one (stable sort keeps their order)
      ex.logWeightChange({ timestep: stepTime(e, 40), synapseId: 0, oldWeight: 0.5, newWeight: 0.75 });
      ex.logWeightChange({ timestep: stepTime(e, 5), sourceId: 7, targetId: 1, oldWeight: -0.25, newWeight: -0.5 });
      ex.logWeightChange({ timestep: stepTime(e, 5), synapseId: 2, oldWeight: 0.125, newWeight: 0.0625 });
    }

    // events in one episode only: a string column costs a 16 KiB chunk (1024 rows) in every episode that has one
    if (!events) continue;
    if (k === 0) ex.logEvent({ timestep: t, type: "reset" });
    if (k % 20 === 10) ex.logEvent({ timestep: t, type: "tick", data: { k, label: `tick ${k}`, values: [1, 2.5, null, true] } });
    if (k === 15) ex.logEvent({ timestep: t, type: "note", data: "Grüße ✓ — unicode" });
    if (k === 22) ex.logEvent({ timestep: t, type: "reset", data: null });
    if (k === 40) ex.logEvent({ timestep: t + 1, type: "nested", data: [1, [2, 3], { a: { b: [] } }] });
  }
}

/** The rich experiment written by `Cls` (DataExporter or StandardDataExporter). */
async function writeRich(Cls: typeof DataExporter, name: string, leaveOpen: boolean): Promise<string> {
  const rand = rng(SEED);
  const ex = await Cls.create(name, OPTIONS);
  ex.saveConfig({ seed: SEED, learning_rate: 0.01, label: "golden v1.0", plastic: true, layers: [N], nested: { a: 1, b: [true, null, "x"] } });
  ex.saveConfig({ learning_rate: 0.02, unicode: "Grüße ✓" });
  ex.saveMetadata({ author: "golden generator", tags: ["a", "b"] });
  ex.saveMetadata({ note: "saved twice, merged" });
  const net = network(rand);
  ex.saveNetworkStructure({ neurons: net.neurons, connections: net.connections, weights: net.weights });

  const lengths = [60, 57, 62];
  for (let e = 0; e < lengths.length; e++) {
    ex.startEpisode();
    logSteps(ex, e, 0, lengths[e], rand, net.nSynapses, e === 0);
    if (e === 0) {
      ex.logStaticEpisodeData("layout", { arena: [4, 4], walls: ["n", "s"], start: null });
      ex.logStaticEpisodeData("mask", Uint8Array.from([1, 0, 1, 1]));
      ex.logStaticEpisodeData("labels", ["left", "right", "up"]);
      ex.logStaticEpisodeData("grid", [[1, 2, 3], [4, 5, 6]]);
      ex.logStaticEpisodeData("flags", [true, false, true]);
      ex.logStaticEpisodeData("field", { data: Float32Array.from([0.5, 1.5, -2, 4, 8, 16]), shape: [3, 2] });
      ex.logStaticEpisodeData("W", { sourceIds: [0, 2, 2], targetIds: [1, 0, 2], values: [0.5, -0.25, 1], shape: [3, 3] });
      ex.logStaticEpisodeData("scale", 3.5);
      ex.logStaticEpisodeData("word", "plain");
    }
    if (e === 1) ex.logStaticEpisodeData("layout", { arena: [5, 5] });
    if (e === 0) ex.endEpisode({ success: true, summary: { episode: 0, score: 1.25, notes: ["ok"] } });
    if (e === 1) ex.endEpisode({ success: false, summary: { episode: 1, nested: { deep: [1, { x: null }] } } });
    if (e === 2) ex.endEpisode();
    if (e === 1) {
      ex.saveCheckpoint("after_episode_1", {
        weights: { sourceIds: [0, 3, 1], targetIds: [1, 2, 0], values: [0.5, -1, 0.25], shape: [N, N] },
        dense: { data: [1, 0, 2, 0, 0, 3], shape: [2, 3] },
        thresholds: Float32Array.from({ length: N }, (_, i) => -50 + i / 4),
        names: ["alpha", "beta"],
        flags: [false, true],
        info: { epoch: 2, lr: 0.02, tags: [] },
      });
    }
  }
  ex.saveCheckpoint("final", {
    weights: { indptr: [0, 1, 1, 2], indices: [2, 0], data: Float64Array.from([0.1, 0.2]), shape: [3, 3] },
    step: 42,
    ids: Int32Array.from([3, 1, 4, 1, 5]),
  });
  if (leaveOpen) {
    // a short episode left open: close() ends it as `incomplete`
    ex.startEpisode();
    logSteps(ex, 3, 0, 10, rand, net.nSynapses, false);
  }
  await ex.close();
  return ex.filePath;
}

/** Child process: writes 2 episodes and part of a third, flushes, and dies by SIGKILL. */
async function interruptedChild(): Promise<void> {
  const rand = rng(SEED + 1);
  const ex = await DataExporter.create("interrupted", OPTIONS);
  ex.saveConfig({ seed: SEED + 1, purpose: "killed mid-episode" });
  ex.saveMetadata({ author: "golden generator" });
  const net = network(rand);
  ex.saveNetworkStructure({ neurons: net.neurons, connections: net.connections, weights: net.weights });
  for (let e = 0; e < 2; e++) {
    ex.startEpisode();
    logSteps(ex, e, 0, 40, rand, net.nSynapses, false);
    ex.endEpisode({ success: e === 0, summary: { episode: e } });
  }
  ex.saveCheckpoint("before_kill", { thresholds: Float32Array.from([-50, -51, -52]) });
  ex.startEpisode();
  logSteps(ex, 2, 0, 25, rand, net.nSynapses, true); // with the out-of-order weight changes of step 20 and 4 events
  ex.flush();
  process.stdout.write(`${ex.filePath}\n`);
  process.kill(process.pid, "SIGKILL");
}

/** The end-of-file address in the superblock (version 2 or 3, 8-byte offsets). */
function statedEof(file: string): number {
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(48);
    readSync(fd, b, 0, 48, 0);
    if (b.readUInt32BE(0) !== 0x89484446 || (b[8] !== 2 && b[8] !== 3) || b[9] !== 8) throw new Error(`${file}: not a superblock 2/3 file with 8-byte offsets`);
    return Number(b.readBigUInt64LE(28));
  } finally {
    closeSync(fd);
  }
}

/** JSON with objects one key per line and flat arrays (numbers, strings, tagged numbers) on one line. */
export function formatJson(v: Json, ind = ""): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  const flat = JSON.stringify(v);
  const leafy = (x: Json) => x === null || typeof x !== "object" || (!Array.isArray(x) && Object.values(x).every((y) => y === null || typeof y !== "object"));
  if (flat.length <= 100 || (Array.isArray(v) && v.every(leafy))) return flat;
  const next = `${ind}  `;
  if (Array.isArray(v)) return `[\n${v.map((x) => next + formatJson(x, next)).join(",\n")}\n${ind}]`;
  return `{\n${Object.entries(v).map(([k, x]) => `${next}${JSON.stringify(k)}: ${formatJson(x, next)}`).join(",\n")}\n${ind}}`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--interrupted-child") return interruptedChild();
  if (!args.includes("--write")) {
    console.log("usage: node dist/test/golden/make-v1.js --write [--out <dir>] [--overwrite]\n" +
      "Writes the golden files of format 1.0. The committed ones are the contract: do not regenerate them (see the top of test/golden/make-v1.ts).");
    return;
  }
  if ((FORMAT_VERSION as string) !== "1.0") throw new Error(`this generator writes format 1.0 golden files; today's writer writes ${FORMAT_VERSION}: do not regenerate`);
  const root = fileURLToPath(new URL("../../../", import.meta.url)); // dist/test/golden -> repository root
  const outArg = args.indexOf("--out");
  const out = outArg >= 0 ? resolve(args[outArg + 1]) : join(root, GOLDEN_V1_DIR);
  const targets = GOLDEN_V1_NAMES.flatMap((n) => [join(out, `${n}.h5`), join(out, `${n}.expected.json`)]);
  const present = targets.filter((f) => existsSync(f));
  if (present.length && !args.includes("--overwrite")) {
    throw new Error(`refusing to overwrite golden files (they are the contract): ${present.join(", ")}`);
  }
  mkdirSync(out, { recursive: true });

  const work = mkdtempSync(join(tmpdir(), "snn-golden-v1-"));
  const cwd = process.cwd();
  process.chdir(work); // outputBaseDir "experiments" is resolved here
  try {
    const written: Record<string, string> = {};
    written.optimized = await writeRich(DataExporter, "optimized", true);
    written.standard = await writeRich(StandardDataExporter, "standard", false);
    const empty = await DataExporter.create("empty", OPTIONS);
    await empty.close();
    written.empty = empty.filePath;

    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--interrupted-child"], { cwd: work, encoding: "utf8" });
    if (child.signal !== "SIGKILL") throw new Error(`interrupted child: expected death by SIGKILL, got status ${child.status} signal ${child.signal}\n${child.stderr}`);
    written.interrupted = resolve(work, child.stdout.trim());

    for (const name of GOLDEN_V1_NAMES) {
      const dest = join(out, `${name}.h5`);
      copyFileSync(written[name], dest);
      const eof = statedEof(dest);
      const size = statSync(dest).size;
      if (size < eof) throw new Error(`${name}: file of ${size} bytes is shorter than its stated end of file ${eof}`);
      if (size > eof) {
        if (name !== "interrupted") throw new Error(`${name}: closed file of ${size} bytes is longer than its stated end of file ${eof}`);
        truncateSync(dest, eof); // the killed writer's sparse zeros (FORMAT.md)
      }
      const loader = await ExperimentLoader.open(dest);
      let view: Json;
      try {
        view = goldenView(loader);
        if (!isDeepStrictEqual(goldenView(loader), view)) throw new Error(`${name}: two reads gave different views`);
      } finally {
        loader.close();
      }
      const doc = {
        about: {
          format_version: "1.0",
          file: `${name}.h5`,
          written_by: `snn-export ${VERSION}, format ${FORMAT_VERSION}, engine ts, test/golden/make-v1.ts`,
          read_by: "the loader of the same commit, through test/golden/view.ts",
          contract: "fixed once committed: later versions of the loader must return exactly this view; never regenerate",
        },
        view,
      };
      const text = `${formatJson(doc as unknown as Json)}\n`;
      if (!isDeepStrictEqual(JSON.parse(text), JSON.parse(JSON.stringify(doc)))) throw new Error(`${name}: JSON does not round-trip`);
      writeFileSync(join(out, `${name}.expected.json`), text);
      console.log(`${name}: ${statSync(dest).size} bytes .h5, ${Buffer.byteLength(text)} bytes .json`);
    }
  } finally {
    process.chdir(cwd);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();

/**
 * Read-side measurement (not a test): open + episodes() + 100 random getEpisode(i).getSpikes() on a
 * many-episode file, and reading every dataset of a file through H5Reader.
 *
 *   node dist/bench/read-open.js write FILE [--episodes 100000]   writes the many-episode file
 *   node dist/bench/read-open.js open FILE [--engine ts|h5wasm]     one timed open (prints JSON)
 *   node dist/bench/read-open.js readall FILE [--engine ts|h5wasm]  reads every dataset (prints JSON)
 */
import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { DataExporter, ExperimentLoader } from "#lib/index.js";
import { H5Reader } from "#lib/h5/reader.js";
import { loadEngine } from "#lib/h5/wasm/engine.js";
import { mulberry32 } from "./data.js";

/** Which reader: "auto" (the default choice), "ts" or "h5wasm" (also SNN_EXPORT_READER). */
type ReaderEngine = "auto" | "ts" | "h5wasm";

const NEURONS = 100;
const STEPS = 50;

/** Writes `episodes` episodes of 50 steps: 100 neurons, 2 % spike masks, v every 10 steps, behavior x/y. */
async function write(file: string, episodes: number): Promise<void> {
  const rand = mulberry32(7);
  const base = mkdtempSync(join(dirname(file), ".read-open-"));
  const ex = await DataExporter.create("read_open", { outputBaseDir: base, provenance: false, neuralSamplingRate: 10 });
  const mask = new Uint8Array(NEURONS);
  const v = new Float32Array(NEURONS);
  for (let e = 0; e < episodes; e++) {
    ex.startEpisode();
    for (let t = 0; t < STEPS; t++) {
      for (let i = 0; i < NEURONS; i++) mask[i] = rand() < 0.02 ? 1 : 0;
      const step: Parameters<typeof ex.log>[0] = { timestep: t, spikes: mask, behavior: { x: rand(), y: rand() } };
      if (t % 10 === 0) {
        for (let i = 0; i < NEURONS; i++) v[i] = rand();
        step.neuralState = { v };
      }
      ex.log(step);
    }
    ex.endEpisode({ success: e % 2 === 0 });
  }
  await ex.close();
  renameSync(join(ex.outputDir, "experiment_data.h5"), file);
  rmSync(base, { recursive: true, force: true });
}

function rssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

async function open(file: string, engine: ReaderEngine): Promise<void> {
  const t0 = performance.now();
  await loadEngineIf(engine);
  const ready = performance.now();
  if (engine !== "auto") process.env.SNN_EXPORT_READER = engine;
  const loader = await ExperimentLoader.open(file);
  const opened = performance.now();
  const table = loader.episodes();
  const listed = performance.now();
  const rand = mulberry32(11);
  let spikes = 0;
  for (let k = 0; k < 100; k++) {
    const i = Math.floor(rand() * table.ids.length);
    spikes += loader.getEpisode(table.ids[i]).getSpikes().neuronIds.length;
  }
  const done = performance.now();
  loader.close();
  const ms = (a: number, b: number) => Math.round((b - a) * 10) / 10;
  console.log(JSON.stringify({ engine, engine_ms: ms(t0, ready), open_ms: ms(ready, opened), episodes_ms: ms(opened, listed),
    spikes100_ms: ms(listed, done), total_ms: ms(ready, done), spikes, peak_rss_mb: rssMb() }));
}

async function loadEngineIf(engine: ReaderEngine): Promise<void> {
  if (engine === "h5wasm") await loadEngine();
}

function walk(r: H5Reader, path: string, out: string[]): void {
  for (const k of r.keys(path)) {
    const p = path === "/" ? `/${k}` : `${path}/${k}`;
    if (r.kind(p) === "group") walk(r, p, out);
    else if (r.kind(p) === "dataset") out.push(p);
  }
}

/** Reads every dataset completely (numbers in slices of ≤ 64 MiB, strings whole), like the h5py peer. */
async function readAll(file: string, engine: ReaderEngine): Promise<void> {
  await loadEngineIf(engine);
  const t0 = performance.now();
  if (engine !== "auto") process.env.SNN_EXPORT_READER = engine;
  const r = await H5Reader.open(file);
  const paths: string[] = [];
  walk(r, "/", paths);
  let bytes = 0;
  for (const p of paths) {
    const info = r.info(p);
    if (info.dtype === "string") {
      const v = info.shape.length === 0 ? [r.readText(p)] : r.readStrings(p);
      bytes += v.length * 16;
      continue;
    }
    const rows = info.shape[0] ?? 1;
    const rowBytes = info.shape.slice(1).reduce((a, b) => a * b, 1) * 8;
    const step = Math.max(1, Math.floor((64 << 20) / rowBytes));
    for (let s = 0; s < rows; s += step) bytes += r.readRows(p, s, s + step).byteLength;
  }
  r.close();
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ engine, seconds: Math.round(seconds * 10000) / 10000, bytes, datasets: paths.length, peak_rss_mb: rssMb() }));
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { episodes: { type: "string" }, engine: { type: "string" } } });
const [cmd, file] = positionals;
const engine = (values.engine ?? "auto") as ReaderEngine;
if (cmd === "write") await write(file, Number(values.episodes ?? 100000));
else if (cmd === "open") await open(file, engine);
else if (cmd === "readall") await readAll(file, engine);
else throw new Error("usage: read-open.js write|open|readall FILE");

/**
 * Loader robustness fuzz: damaged copies of a small valid experiment file — truncated at random
 * offsets, or with random bytes changed in the HDF5 metadata (everything that is not raw chunk
 * data: superblock, object headers, B-tree nodes, heaps) — are read by the loader in worker
 * processes (fuzz-worker.js), batch by batch, with a timeout per case. Every case must end in a
 * typed error (SnnExportError) or valid data: never a hang, a crash of the process, an untyped
 * error, or an engine state that breaks later opens of a valid file.
 *
 *   node dist/bench/fuzz.js [--truncations 200] [--flips 100] [--seed 1] [--engine ts|h5wasm] [--keep]
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as D from "./crash-data.js";
import { onJsonLines } from "./child-io.js";
import { mulberry32 } from "./data.js";

const WORKER = fileURLToPath(new URL("./fuzz-worker.js", import.meta.url));
const PYTHON = "/usr/bin/python3";

export type Outcome = "ok" | "typed" | "untyped" | "crash" | "hang" | "poisoned";

export interface FuzzCase {
  i: number;
  kind: "truncate" | "flip";
  /** truncate: the new length; flip: the offsets changed. */
  at: number[];
  file: string;
  outcome?: Outcome;
  code?: string;
  message?: string;
  ms?: number;
}

export interface FuzzOptions {
  truncations?: number;
  flips?: number;
  seed?: number;
  engine?: "ts" | "h5wasm";
  workDir?: string;
  /** Cases per worker process. */
  batch?: number;
  concurrency?: number;
  /** A case that takes longer than this is a hang. */
  timeoutMs?: number;
  /** Flip only metadata bytes below this offset (e.g. 4096: superblock and the first headers). */
  region?: number;
  log?: (line: string) => void;
}

export interface FuzzResult {
  valid: string;
  size: number;
  metadataBytes: number;
  cases: FuzzCase[];
  counts: Record<Outcome, number>;
  /** Workers whose final check of the valid file passed / were run to the end. */
  workersFinished: number;
  workersValidOk: number;
  seconds: number;
}


/** Writes a small, complete experiment (2 episodes, all streams, a checkpoint) and returns its file. */
export async function writeValidFile(dir: string, engine?: "ts" | "h5wasm"): Promise<string> {
  const { DataExporter } = await import("../src/index.js");
  const seed = 11;
  const ex = await DataExporter.create("fuzz", {
    outputBaseDir: dir, neuralSamplingRate: D.SAMPLING, chunkSize: 1000, flushIntervalMs: 0,
    provenance: { runtime: true, git: false, codeSnapshot: false }, ...(engine ? { engine } : {}),
  });
  ex.saveConfig(D.config(seed, 2, 3000));
  ex.saveMetadata({ about: "fuzz" });
  const net = D.network(seed);
  ex.saveNetworkStructure({ weights: { ...net, shape: [D.N_NEURONS, D.N_NEURONS] } });
  const mask = new Uint8Array(D.N_NEURONS);
  for (let e = 0; e < 2; e++) {
    ex.startEpisode();
    for (let t = 0; t < 3000; t++) {
      D.spikeMask(seed, e, t, mask);
      ex.log({
        timestep: t, spikes: mask, behavior: { x: D.behaviorX(seed, e, t), y: D.behaviorY(seed, e, t) }, reward: D.reward(seed, e, t),
        ...(t % D.SAMPLING === 0 ? { neuralState: { v: D.membrane(seed, e, t) } } : {}),
      });
      for (const c of D.weightChanges(seed, e, t)) ex.logWeightChange(c);
      const evt = D.event(seed, e, t);
      if (evt) ex.logEvent(evt);
    }
    ex.logStaticEpisodeData("arena", { width: 3, tags: ["a", "b"] });
    ex.endEpisode({ success: true, summary: D.summary(seed, e, 3000) });
  }
  ex.saveCheckpoint("final", { weights: { ...net, values: net.values.map((x) => x * 2) }, note: "end" });
  await ex.close();
  return ex.filePath;
}

/**
 * Byte ranges of raw chunk data ([offset, end)), from h5py; null when h5py is unavailable.
 * Everything else in the file is metadata.
 */
export function rawDataRanges(file: string): [number, number][] | null {
  const py = String.raw`
import h5py, json, sys
out = []
def visit(name, obj):
    if isinstance(obj, h5py.Dataset) and obj.chunks is not None:
        for i in range(obj.id.get_num_chunks()):
            c = obj.id.get_chunk_info(i)
            out.append([c.byte_offset, c.byte_offset + c.size])
with h5py.File(sys.argv[1], "r") as f:
    f.visititems(visit)
print(json.dumps(out))
`;
  const r = spawnSync(PYTHON, ["-c", py, file], { encoding: "utf8" });
  if (r.status !== 0) return null;
  return (JSON.parse(r.stdout) as [number, number][]).sort((a, b) => a[0] - b[0]);
}

/** The metadata offsets of a file: everything outside the raw ranges. */
function metadataOffsets(size: number, raw: [number, number][] | null): number[] {
  const inRaw = new Uint8Array(size);
  for (const [a, b] of raw ?? []) inRaw.fill(1, a, Math.min(b, size));
  if (!raw) inRaw.fill(1, 4096); // no h5py: the first 4 KB (superblock, root group, first headers)
  const out: number[] = [];
  for (let i = 0; i < size; i++) if (!inRaw[i]) out.push(i);
  return out;
}

/** Makes the damaged copies. */
export function makeCases(valid: string, dir: string, truncations: number, flips: number, seed: number, region?: number): { cases: FuzzCase[]; metadataBytes: number } {
  const rand = mulberry32(seed);
  const size = statSync(valid).size;
  let meta = metadataOffsets(size, rawDataRanges(valid));
  if (region !== undefined) meta = meta.filter((o) => o < region);
  const cases: FuzzCase[] = [];
  for (let k = 0; k < truncations; k++) {
    const at = Math.floor(rand() * size);
    const file = join(dir, `trunc_${k}.h5`);
    copyFileSync(valid, file);
    truncateSync(file, at);
    cases.push({ i: cases.length, kind: "truncate", at: [at], file });
  }
  const bytes = readFileSync(valid);
  for (let k = 0; k < flips; k++) {
    const copy = Buffer.from(bytes);
    const n = 1 + Math.floor(rand() * 4);
    const at: number[] = [];
    for (let j = 0; j < n; j++) {
      const off = meta[Math.floor(rand() * meta.length)];
      // half: one flipped bit; half: a random byte
      copy[off] = rand() < 0.5 ? copy[off] ^ (1 << Math.floor(rand() * 8)) : Math.floor(rand() * 256);
      at.push(off);
    }
    const file = join(dir, `flip_${k}.h5`);
    writeFileSync(file, copy);
    cases.push({ i: cases.length, kind: "flip", at, file });
  }
  return { cases, metadataBytes: meta.length };
}

/** Runs `cases` in one worker process; resolves with the index of the first case not done. */
function runWorker(valid: string, cases: FuzzCase[], timeoutMs: number): Promise<{ next: number; finished: boolean; validOk: boolean }> {
  return new Promise((resolve) => {
    const batchFile = join(cases[0].file + ".batch.json");
    writeFileSync(batchFile, JSON.stringify({ valid, files: cases.map((c) => c.file), first: 0 }));
    const child = spawn(process.execPath, [WORKER, batchFile], { stdio: ["ignore", "pipe", "pipe"] });
    let current = -1;
    let started = performance.now();
    let finished = false;
    let validOk = false;
    let poisoned = false;
    let timer = setTimeout(onTimeout, timeoutMs * 4); // start-up, and reading the valid file
    function onTimeout(): void {
      if (current >= 0 && !cases[current].outcome) {
        cases[current].outcome = "hang";
        cases[current].ms = Math.round(performance.now() - started);
      }
      child.kill("SIGKILL");
    }
    child.stderr.resume();
    onJsonLines(child.stdout, (e) => {
      if (e.done) {
        finished = true;
        validOk = e.validOk === true;
      } else if (typeof e.i === "number") {
        const c = cases[e.i];
        if (e.start) {
          current = e.i;
          started = performance.now();
          clearTimeout(timer);
          timer = setTimeout(onTimeout, timeoutMs);
        } else if (e.poisoned) {
          c.outcome = "poisoned";
          c.message = String(e.message);
          poisoned = true;
        } else {
          c.outcome = e.outcome as Outcome;
          c.code = e.code as string | undefined;
          c.message = e.message as string | undefined;
          c.ms = Math.round(performance.now() - started);
        }
      }
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      rmSync(batchFile, { force: true });
      if (!finished && !poisoned && current >= 0 && !cases[current].outcome) {
        cases[current].outcome = "crash";
        cases[current].message = `worker ended with ${signal ?? `exit ${code}`}`;
      }
      const next = finished ? cases.length : cases.findIndex((c) => !c.outcome);
      resolve({ next: next < 0 ? cases.length : next, finished, validOk });
    });
  });
}

/** Runs the fuzz; the damaged copies live in `workDir` (a new temp dir when absent, removed). */
export async function runFuzz(o: FuzzOptions = {}): Promise<FuzzResult> {
  const t0 = performance.now();
  const log = o.log ?? (() => undefined);
  const own = o.workDir === undefined;
  const dir = o.workDir ?? mkdtempSync(join(tmpdir(), "snn-fuzz-"));
  try {
    const valid = await writeValidFile(join(dir, "valid"), o.engine);
    const { cases, metadataBytes } = makeCases(valid, dir, o.truncations ?? 200, o.flips ?? 100, o.seed ?? 1, o.region);
    log(`valid file ${statSync(valid).size} bytes, ${metadataBytes} metadata bytes; ${cases.length} damaged copies`);
    const batch = o.batch ?? 60;
    const queue: FuzzCase[][] = [];
    for (let i = 0; i < cases.length; i += batch) queue.push(cases.slice(i, i + batch));
    let workersFinished = 0;
    let workersValidOk = 0;
    const worker = async () => {
      for (let b = queue.shift(); b; b = queue.shift()) {
        let rest = b;
        while (rest.length) {
          const r = await runWorker(valid, rest, o.timeoutMs ?? 10_000);
          if (r.finished) {
            workersFinished++;
            if (r.validOk) workersValidOk++;
          }
          rest = rest.slice(r.next).filter((c) => !c.outcome);
        }
        log(`batch done: ${b.filter((c) => c.outcome === "ok" || c.outcome === "typed").length}/${b.length} typed or ok`);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency ?? 2 }, worker));
    const counts: Record<Outcome, number> = { ok: 0, typed: 0, untyped: 0, crash: 0, hang: 0, poisoned: 0 };
    for (const c of cases) counts[c.outcome ?? "crash"]++;
    return { valid, size: statSync(valid).size, metadataBytes, cases, counts, workersFinished, workersValidOk, seconds: (performance.now() - t0) / 1000 };
  } finally {
    if (own) rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      truncations: { type: "string", default: "200" }, flips: { type: "string", default: "100" }, seed: { type: "string", default: "1" },
      engine: { type: "string" }, keep: { type: "boolean", default: false }, json: { type: "string" }, region: { type: "string" },
    },
    strict: true,
  });
  const workDir = values.keep ? mkdtempSync(join(tmpdir(), "snn-fuzz-")) : undefined;
  const r = await runFuzz({
    truncations: Number(values.truncations), flips: Number(values.flips), seed: Number(values.seed),
    engine: values.engine as FuzzOptions["engine"], workDir, region: values.region === undefined ? undefined : Number(values.region), log: (l) => process.stderr.write(l + "\n"),
  });
  process.stdout.write(`fuzz: ${r.cases.length} cases in ${r.seconds.toFixed(1)} s: ${JSON.stringify(r.counts)}; workers finished ${r.workersFinished}, valid file still correct in ${r.workersValidOk}\n`);
  const codes = new Map<string, number>();
  for (const c of r.cases) if (c.outcome === "typed") codes.set(c.code!, (codes.get(c.code!) ?? 0) + 1);
  process.stdout.write(`typed error codes: ${JSON.stringify(Object.fromEntries(codes))}\n`);
  for (const c of r.cases.filter((x) => x.outcome !== "ok" && x.outcome !== "typed")) {
    process.stdout.write(`- ${c.kind} ${JSON.stringify(c.at)} → ${c.outcome}: ${c.message ?? ""}\n`);
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(r, null, 1));
  if (workDir) process.stdout.write(`files kept in ${workDir}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`fuzz: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 2;
  });
}

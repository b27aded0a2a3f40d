/**
 * Loader robustness fuzz: damaged copies of a small valid experiment file are read by the loader in
 * worker processes (fuzz-worker.js), batch by batch, each case watched with a deadline. Three
 * modes, each deterministic per seed and independent of what is installed (no h5py):
 *
 * - `meta`: 1–4 bytes changed in the file's HDF5 structures (superblock, object headers, B-tree
 *   nodes, global heap headers), as our own reader maps them (test/h5-map.ts; for files outside
 *   its profile: the bytes around every structure signature);
 * - `uniform`: 1–4 bytes changed anywhere in the file;
 * - `truncate`: the file cut at a uniformly chosen length.
 *
 * A case passes only when the loader throws a typed error (SnnExportError) or returns exactly
 * what it returns for the undamaged file (a digest of everything: config, metadata, network, the
 * episode table, every episode's streams, static data, checkpoints). Outcomes: `exact`, `typed`,
 * `silent` (different data without an error), `untyped`, `hang` (no answer before the deadline),
 * `crash` (the worker died, or a valid file read differently after a damaged one).
 *
 *   node dist/bench/fuzz.js --seeds 1-10 [--meta 250] [--uniform 250] [--truncations 100]
 *        [--engine ts|h5wasm] [--timeout 10000] [--concurrency 1] [--json out.json] [--keep]
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as D from "./crash-data.js";
import { onJsonLines } from "./child-io.js";
import { mulberry32 } from "./data.js";

const WORKER = fileURLToPath(new URL("./fuzz-worker.js", import.meta.url));

export type Mode = "meta" | "uniform" | "truncate";
/**
 * `unguarded`: different data caused only by bytes that HDF5 protects with no checksum and that
 * nothing else in the file repeats (the text inside global heap collections): found by reading the
 * case again with those bytes left undamaged, which then reads exactly.
 */
export type Outcome = "exact" | "typed" | "silent" | "unguarded" | "untyped" | "hang" | "crash";
export const OUTCOMES: Outcome[] = ["exact", "typed", "silent", "unguarded", "untyped", "hang", "crash"];

export interface FuzzCase {
  i: number;
  seed: number;
  mode: Mode;
  /** truncate: the new length; flips: the offsets changed. */
  at: number[];
  /** flips: the new byte at each offset. */
  bytes?: number[];
  /** Every changed byte lies where HDF5 keeps no checksum and no redundancy (raw uncompressed data, heap payload). */
  unguarded?: boolean;
  file?: string;
  outcome?: Outcome;
  code?: string;
  message?: string;
  ms?: number;
}

export interface FuzzOptions {
  seeds?: number[];
  meta?: number;
  uniform?: number;
  truncations?: number;
  engine?: "ts" | "h5wasm";
  workDir?: string;
  /** Cases per worker process. */
  batch?: number;
  concurrency?: number;
  /** A case without an answer after this long is a hang. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface FuzzResult {
  valid: string;
  size: number;
  metadataBytes: number;
  unguardedBytes: number;
  cases: FuzzCase[];
  counts: Record<Outcome, number>;
  /** Counts per `mode seed`. */
  table: Map<string, Record<Outcome, number>>;
  workersFinished: number;
  workersValidOk: number;
  seconds: number;
}

/** Writes a small, complete experiment (2 episodes, all streams, a checkpoint) and returns its file. */
export async function writeValidFile(dir: string, engine?: "ts" | "h5wasm"): Promise<string> {
  const { DataExporter } = await import("#lib/index.js");
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

/** Where the fuzz may flip bytes: HDF5 structures (`meta`), and the bytes nothing guards. */
export interface StructureMap {
  size: number;
  /** Offsets of structure bytes, ascending. */
  meta: number[];
  /** 1 where a changed byte cannot be detected by any reader (raw uncompressed chunk data, heap object payload). */
  unguarded: Uint8Array;
}

const SIGNATURES = ["OHDR", "OCHK", "TREE", "GCOL", "HEAP", "SNOD", "BTHD", "BTIN", "BTLF", "FRHP", "FHDB", "FHIB", "FSHD", "FSSE"];

/**
 * The structure map of `file`, from our own reader's view of it (files in the TypeScript reader's
 * profile), else from the structure signatures in the file (each signature and the 96 bytes after it).
 */
export async function structureMap(file: string): Promise<StructureMap> {
  const bytes = new Uint8Array(readFileSync(file));
  const size = bytes.length;
  const isMeta = new Uint8Array(size);
  const unguarded = new Uint8Array(size);
  const mark = (a: Uint8Array, ranges: [number, number][]) => {
    for (const [s, n] of ranges) a.fill(1, s, Math.min(size, s + n));
  };
  // global heap collections: payload bytes are unguarded (no checksum in HDF5), headers are structure
  const collections: [number, number][] = [];
  for (let at = bytes.indexOf(0x47); at >= 0 && at + 16 <= size; at = bytes.indexOf(0x47, at + 1)) {
    if (String.fromCharCode(...bytes.subarray(at, at + 4)) !== "GCOL" || bytes[at + 4] !== 1) continue;
    const n = Number(Buffer.from(bytes.buffer, at + 8, 8).readBigUInt64LE());
    if (n >= 16 && at + n <= size) collections.push([at, n]);
  }
  mark(unguarded, collections);
  let inProfile = true;
  try {
    const { mapFile } = await import("../test/h5-map.js");
    const m = await mapFile(file);
    mark(isMeta, [...m.superblock, ...m.headers, ...m.btree, ...m.heap]);
    mark(unguarded, [...m.raw, ...m.rawAddresses]);
    for (const [s, n] of m.heap) unguarded.fill(0, s, s + n);
  } catch {
    inProfile = false;
  }
  if (!inProfile) {
    isMeta.fill(1, 0, Math.min(size, 512)); // superblock and what follows it
    for (const sig of SIGNATURES) {
      const s = Buffer.from(sig, "latin1");
      for (let at = Buffer.from(bytes.buffer).indexOf(s); at >= 0; at = Buffer.from(bytes.buffer).indexOf(s, at + 1)) isMeta.fill(1, at, Math.min(size, at + 100));
    }
    unguarded.fill(0); // unknown
  }
  const meta: number[] = [];
  for (let i = 0; i < size; i++) if (isMeta[i]) meta.push(i);
  return { size, meta, unguarded };
}

/** The cases of one seed (deterministic: the same seed and map give the same cases). */
export function makeCases(map: StructureMap, seed: number, counts: { meta: number; uniform: number; truncations: number }, first = 0): FuzzCase[] {
  const out: FuzzCase[] = [];
  const flips = (mode: "meta" | "uniform", n: number, rand: () => number) => {
    for (let k = 0; k < n; k++) {
      const m = 1 + Math.floor(rand() * 4);
      const at: number[] = [];
      const bytes: number[] = [];
      for (let j = 0; j < m; j++) {
        const off = mode === "meta" ? map.meta[Math.floor(rand() * map.meta.length)] : Math.floor(rand() * map.size);
        // half: one flipped bit; half: a random byte (resolved against the file when it is written)
        bytes.push(rand() < 0.5 ? -(1 + Math.floor(rand() * 8)) : Math.floor(rand() * 256));
        at.push(off);
      }
      out.push({ i: first + out.length, seed, mode, at, bytes, unguarded: at.every((o) => map.unguarded[o] === 1) });
    }
  };
  flips("meta", counts.meta, mulberry32(seed * 1000 + 1));
  flips("uniform", counts.uniform, mulberry32(seed * 1000 + 2));
  const rt = mulberry32(seed * 1000 + 3);
  for (let k = 0; k < counts.truncations; k++) out.push({ i: first + out.length, seed, mode: "truncate", at: [Math.floor(rt() * map.size)] });
  return out;
}

/** Writes the damaged copy of `valid` for case `c` into `dir`. */
export function materialize(valid: Uint8Array, c: FuzzCase, dir: string): string {
  const file = join(dir, `${c.mode}_s${c.seed}_${c.i}.h5`);
  if (c.mode === "truncate") {
    writeFileSync(file, valid.subarray(0, c.at[0]));
  } else {
    const copy = Buffer.from(valid);
    c.at.forEach((off, j) => {
      const b = c.bytes![j];
      copy[off] = b < 0 ? copy[off] ^ (1 << (-b - 1)) : b;
    });
    writeFileSync(file, copy);
  }
  c.file = file;
  return file;
}

/** Runs `cases` (files written) in one worker process; resolves with the index of the first case not done. */
function runWorker(valid: string, cases: FuzzCase[], timeoutMs: number): Promise<{ next: number; finished: boolean; validOk: boolean }> {
  return new Promise((resolve) => {
    const batchFile = cases[0].file + ".batch.json";
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
        cases[current].message = `no answer within ${timeoutMs} ms`;
        cases[current].ms = Math.round(performance.now() - started);
      }
      child.kill("SIGKILL");
    }
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
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
          c.outcome = "crash";
          c.message = `poisoned: a valid file read differently after this case: ${String(e.message)}`;
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
        cases[current].message = `worker ended with ${signal ?? `exit ${code}`}: ${stderr.slice(-500)}`;
      }
      if (!finished && current < 0 && cases.every((c) => !c.outcome)) {
        // the worker could not even read the valid file
        cases[0].outcome = "crash";
        cases[0].message = `worker ended before its first case (${signal ?? `exit ${code}`}): ${stderr.slice(-500)}`;
      }
      const next = finished ? cases.length : cases.findIndex((c) => !c.outcome);
      resolve({ next: next < 0 ? cases.length : next, finished, validOk });
    });
  });
}

function emptyCounts(): Record<Outcome, number> {
  return { exact: 0, typed: 0, silent: 0, unguarded: 0, untyped: 0, hang: 0, crash: 0 };
}

/** Runs the fuzz; the damaged copies live in `workDir` (a new temp dir when absent, removed). */
export async function runFuzz(o: FuzzOptions = {}): Promise<FuzzResult> {
  const t0 = performance.now();
  const log = o.log ?? (() => undefined);
  const own = o.workDir === undefined;
  const dir = o.workDir ?? mkdtempSync(join(tmpdir(), "snn-fuzz-"));
  try {
    const valid = await writeValidFile(join(dir, "valid"), o.engine);
    const validBytes = new Uint8Array(readFileSync(valid));
    const map = await structureMap(valid);
    const cases: FuzzCase[] = [];
    for (const seed of o.seeds ?? [1]) {
      cases.push(...makeCases(map, seed, { meta: o.meta ?? 100, uniform: o.uniform ?? 100, truncations: o.truncations ?? 50 }, cases.length));
    }
    let unguardedBytes = 0;
    for (const u of map.unguarded) unguardedBytes += u;
    log(`valid file ${map.size} bytes, ${map.meta.length} structure bytes, ${unguardedBytes} unguarded bytes; ${cases.length} cases`);
    const caseDir = join(dir, "cases");
    mkdirSync(caseDir, { recursive: true });
    const batch = o.batch ?? 100;
    const queue: FuzzCase[][] = [];
    for (let i = 0; i < cases.length; i += batch) queue.push(cases.slice(i, i + batch));
    let workersFinished = 0;
    let workersValidOk = 0;
    let done = 0;
    const keep = !own;
    const worker = async (queue: FuzzCase[][]) => {
      for (let b = queue.shift(); b; b = queue.shift()) {
        for (const c of b) materialize(validBytes, c, caseDir);
        let rest = b;
        while (rest.length) {
          const r = await runWorker(valid, rest, o.timeoutMs ?? 10_000);
          if (r.finished) {
            workersFinished++;
            if (r.validOk) workersValidOk++;
          }
          rest = rest.slice(r.next).filter((c) => !c.outcome);
        }
        // keep the files of failing cases only
        for (const c of b) if (!keep || c.outcome === "exact" || c.outcome === "typed") rmSync(c.file!, { force: true });
        done += b.length;
        log(`${done} cases read`);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency ?? 1 }, () => worker(queue)));
    // silent differences with changed bytes in unguarded places: again without those bytes
    const again: [FuzzCase, FuzzCase][] = [];
    for (const c of cases) {
      if (c.outcome !== "silent" || !c.bytes || !c.at.some((x) => map.unguarded[x])) continue;
      const keepIdx = c.at.map((x, j) => (map.unguarded[x] ? -1 : j)).filter((j) => j >= 0);
      if (keepIdx.length === 0) {
        c.outcome = "unguarded";
        continue;
      }
      again.push([c, { ...c, i: cases.length + again.length, at: keepIdx.map((j) => c.at[j]), bytes: keepIdx.map((j) => c.bytes![j]), outcome: undefined, message: undefined }]);
    }
    if (again.length) {
      const q2: FuzzCase[][] = [];
      for (let i = 0; i < again.length; i += batch) q2.push(again.slice(i, i + batch).map(([, d]) => d));
      await Promise.all(Array.from({ length: o.concurrency ?? 1 }, () => worker(q2)));
      for (const [c, d] of again) if (d.outcome === "exact") c.outcome = "unguarded";
    }
    const counts = emptyCounts();
    const table = new Map<string, Record<Outcome, number>>();
    for (const c of cases) {
      const outcome = c.outcome ?? "crash";
      counts[outcome]++;
      const key = `${c.mode} ${c.seed}`;
      if (!table.has(key)) table.set(key, emptyCounts());
      table.get(key)![outcome]++;
    }
    return { valid, size: map.size, metadataBytes: map.meta.length, unguardedBytes, cases, counts, table, workersFinished, workersValidOk, seconds: (performance.now() - t0) / 1000 };
  } finally {
    if (own) rmSync(dir, { recursive: true, force: true });
  }
}

/** The per mode and seed table (Markdown). */
export function formatTable(r: FuzzResult): string {
  const head = ["mode", "seed", "cases", "ok-exact", "typed-error", "silent-difference", "silent, unguarded bytes only", "untyped-error", "hang", "crash"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  const total = emptyCounts();
  const byMode = new Map<string, Record<Outcome, number>>();
  for (const [key, c] of r.table) {
    const [mode, seed] = key.split(" ");
    const n = OUTCOMES.reduce((s, k) => s + c[k], 0);
    lines.push(`| ${mode} | ${seed} | ${n} | ${OUTCOMES.map((k) => c[k]).join(" | ")} |`);
    if (!byMode.has(mode)) byMode.set(mode, emptyCounts());
    for (const k of OUTCOMES) {
      byMode.get(mode)![k] += c[k];
      total[k] += c[k];
    }
  }
  for (const [mode, c] of byMode) lines.push(`| **${mode}** | all | ${OUTCOMES.reduce((s, k) => s + c[k], 0)} | ${OUTCOMES.map((k) => c[k]).join(" | ")} |`);
  lines.push(`| **all** | all | ${OUTCOMES.reduce((s, k) => s + total[k], 0)} | ${OUTCOMES.map((k) => total[k]).join(" | ")} |`);
  return lines.join("\n");
}

/** "1-10", "3", "1,4,7" → seeds. */
export function parseSeeds(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`--seeds: ${JSON.stringify(part)} is not a seed or a range a-b`);
    for (let x = Number(m[1]); x <= Number(m[2] ?? m[1]); x++) out.push(x);
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: "string", default: "1" }, seed: { type: "string" },
      meta: { type: "string", default: "250" }, uniform: { type: "string", default: "250" }, truncations: { type: "string", default: "100" },
      engine: { type: "string" }, keep: { type: "boolean", default: false }, json: { type: "string" },
      timeout: { type: "string", default: "10000" }, concurrency: { type: "string", default: "1" }, batch: { type: "string", default: "100" },
    },
    strict: true,
  });
  const workDir = values.keep ? mkdtempSync(join(tmpdir(), "snn-fuzz-")) : undefined;
  const r = await runFuzz({
    seeds: parseSeeds(values.seed ?? values.seeds!), meta: Number(values.meta), uniform: Number(values.uniform), truncations: Number(values.truncations),
    engine: values.engine as FuzzOptions["engine"], workDir, timeoutMs: Number(values.timeout), concurrency: Number(values.concurrency),
    batch: Number(values.batch), log: (l) => process.stderr.write(l + "\n"),
  });
  process.stdout.write(`fuzz: ${r.cases.length} cases in ${r.seconds.toFixed(1)} s (valid file ${r.size} bytes, ${r.metadataBytes} structure bytes, ${r.unguardedBytes} unguarded bytes); workers finished ${r.workersFinished}, valid file still read the same in ${r.workersValidOk}\n\n`);
  process.stdout.write(formatTable(r) + "\n\n");
  const codes = new Map<string, number>();
  for (const c of r.cases) if (c.outcome === "typed") codes.set(c.code!, (codes.get(c.code!) ?? 0) + 1);
  process.stdout.write(`typed error codes: ${JSON.stringify(Object.fromEntries(codes))}\n`);
  for (const c of r.cases.filter((x) => x.outcome !== "exact" && x.outcome !== "typed")) {
    process.stdout.write(`- ${c.mode} seed ${c.seed} ${JSON.stringify(c.at)} ${JSON.stringify(c.bytes ?? [])}${c.unguarded ? " (unguarded bytes)" : ""} → ${c.outcome}: ${c.message ?? ""}\n`);
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ ...r, table: Object.fromEntries(r.table) }, null, 1));
  if (workDir) process.stdout.write(`files of failing cases kept in ${workDir}\n`);
  process.stdout.write(`silent, unguarded bytes only: the data differed only because of bytes inside global heap collections (string payload), which HDF5 keeps without checksum; reading the case again with those bytes undamaged gave exactly the original data\n`);
  const bad = r.counts.silent + r.counts.untyped + r.counts.hang + r.counts.crash;
  process.exitCode = bad ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`fuzz: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 2;
  });
}

/**
 * Test helpers: a per-test temporary directory that is always removed, and the structure check
 * (test/py/check_structure.py) of every HDF5 file a test leaves in it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestContext } from "node:test";
import { CHECKSUM_MAGIC, CHECKSUM_MARK } from "#lib/h5/ts/heap.js";
import { lookup3 } from "#lib/h5/ts/lookup3.js";

export const PYTHON = "/usr/bin/python3";
export const STRUCTURE_CHECKER = fileURLToPath(new URL("../../test/py/check_structure.py", import.meta.url));

/**
 * A fresh directory for one test. When the test ends, every HDF5 file left in it (found by its
 * signature, at any depth, whoever wrote it: the exporter in this process, a CLI or writer child
 * process, h5repack, h5py) is checked with check_structure.py — a failed check fails the test —
 * and the directory is removed.
 */
export function tempDir(t: TestContext, prefix = "snn-export-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => (GOLDEN && !GOLDEN.record ? compareAndRemove(dir, t) : SKIP_STRUCTURE ? rmSync(dir, { recursive: true, force: true }) : checkAndRemove(dir, t)));
  return dir;
}

/**
 * Golden digests, for mutation testing (stryker.config.mjs): with SNN_GOLDEN=<file.json> a test
 * file's HDF5 files are not read with h5py or check_structure.py (a Python start-up or two per
 * test, most of a mutant's time) but compared byte for byte, by SHA-256, with the files the
 * unchanged code wrote in the same test — files h5py read back as expected and
 * check_structure.py passed when the digests were recorded (SNN_GOLDEN_RECORD=1: the real checks
 * run, and the digests of the files that passed them are written). The digests hold for one zlib
 * (compressed chunks are zlib's bytes): recorded with another, the comparison fails and says so.
 */
/**
 * SNN_SKIP_STRUCTURE=1: {@link tempDir} removes the directory without checking its HDF5 files
 * (with SNN_GOLDEN too: except those of tests that have golden digests) —
 * only for mutation testing (stryker.config.mjs), where the test files that check refusals and
 * values (errors, input-integrity, …) run once per mutant and a Python start-up per test would be
 * most of the time; the files' bytes are checked there by the golden-digest tests.
 */
const SKIP_STRUCTURE = process.env.SNN_SKIP_STRUCTURE === "1";

export const GOLDEN = process.env.SNN_GOLDEN ? { file: resolve(process.env.SNN_GOLDEN), record: process.env.SNN_GOLDEN_RECORD === "1" } : null;

interface GoldenDigests { zlib: string; files: Record<string, string> }

function readGolden(): GoldenDigests {
  return GOLDEN && existsSync(GOLDEN.file) ? (JSON.parse(readFileSync(GOLDEN.file, "utf8")) as GoldenDigests) : { zlib: process.versions.zlib, files: {} };
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const goldenKey = (t: TestContext, dir: string, file: string) => `${t.name} :: ${relative(dir, file)}`;

/** SNN_GOLDEN: the digests of the HDF5 files under `dir` equal the recorded ones; then `dir` is removed. */
function compareAndRemove(dir: string, t: TestContext): void {
  try {
    const golden = readGolden();
    assert.equal(golden.zlib, process.versions.zlib, `${GOLDEN!.file} was recorded with zlib ${golden.zlib}, this is ${process.versions.zlib}: record it again (SNN_GOLDEN_RECORD=1)`);
    // with SNN_SKIP_STRUCTURE too (several test files in one mutation-testing process), a test
    // without any recorded digest is not a golden test: its files are not compared
    if (SKIP_STRUCTURE && !Object.keys(golden.files).some((k) => k.startsWith(`${t.name} :: `))) return;
    for (const f of hdf5FilesIn(dir).filter((x) => exemption(x) === undefined)) {
      const key = goldenKey(t, dir, f);
      assert.ok(golden.files[key], `no golden digest for ${key} in ${GOLDEN!.file}: record it (SNN_GOLDEN_RECORD=1)`);
      assert.equal(sha256(f), golden.files[key], `${key}: not the bytes h5py and check_structure.py accepted`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const recorded: Record<string, string> = {};

/**
 * SNN_GOLDEN_RECORD=1: notes the digests of files that passed the real checks (call after them);
 * they are written to the SNN_GOLDEN file when the test process ends with every test passed.
 */
function recordGolden(dir: string, t: TestContext, files: string[]): void {
  if (Object.keys(recorded).length === 0) {
    process.on("exit", () => {
      if (process.exitCode !== undefined && process.exitCode !== 0) return process.stderr.write(`a test failed: ${GOLDEN!.file} not written\n`), undefined;
      const golden = readGolden();
      const files = Object.fromEntries(Object.entries({ ...golden.files, ...recorded }).sort(([a], [b]) => (a < b ? -1 : 1)));
      writeFileSync(GOLDEN!.file, JSON.stringify({ zlib: process.versions.zlib, files }, null, 2) + "\n");
    });
  }
  for (const f of files) recorded[goldenKey(t, dir, f)] = sha256(f);
}

/** Checks the HDF5 files under `dir` (see {@link tempDir}), then removes it, also when the check fails. */
export function checkAndRemove(dir: string, t?: TestContext): void {
  try {
    const files = hdf5FilesIn(dir);
    if (files.length > 0) assertStructure(files, { t });
    if (GOLDEN?.record && t && files.length > 0) {
      if (structureCheckerProblem()) throw new Error(`SNN_GOLDEN_RECORD needs h5py: ${structureCheckerProblem()}`);
      recordGolden(dir, t, files.filter((f) => exemption(f) === undefined));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Files (or directories: everything below them) left out of the structure check, with the reason. */
const exempt = new Map<string, string>();
/** Files to check as a killed writer leaves them (check_structure.py --killed). */
const killedFiles = new Set<string>();

/**
 * Leaves `path` (a file, or a directory and everything below it) out of the structure check: for
 * files a test damages on purpose. The reason is printed when the check runs.
 */
export function skipStructureCheck(path: string, reason: string): void {
  exempt.set(resolve(path), reason);
}

/**
 * Checks `path` (a file, or a directory and everything below it) as a killed writer, or one that
 * stopped at a failed write, leaves a file (check_structure.py --killed).
 */
export function checkAsKilled(path: string): void {
  killedFiles.add(resolve(path));
}

const under = (file: string, p: string) => file === p || file.startsWith(p + "/");

function exemption(file: string): string | undefined {
  for (const [p, why] of exempt) if (under(file, p)) return why;
  return undefined;
}

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5 files (by their signature at 0) and `.h5` files (which must be HDF5) under `dir`. */
export function hdf5FilesIn(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && (e.name.endsWith(".h5") || hasSignature(p))) out.push(resolve(p));
    }
  };
  walk(dir);
  return out.sort();
}

function hasSignature(file: string): boolean {
  if (lstatSync(file).size < 8) return false;
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    return head.equals(SIGNATURE);
  } finally {
    closeSync(fd);
  }
}

let h5pyState: string | null | undefined;

/** Why the checker cannot run here (no h5py), or null when it can. */
export function structureCheckerProblem(): string | null {
  if (h5pyState !== undefined) return h5pyState;
  const r = spawnSync(PYTHON, ["-c", "import h5py, numpy"], { encoding: "utf8" });
  h5pyState = r.error ? `${PYTHON} not runnable (${r.error.message})` : r.status !== 0 ? `${PYTHON} cannot import h5py/numpy` : null;
  return h5pyState;
}

let warned = false;

export interface StructureResult { file: string; ok: boolean; problems: [string, string][]; stats: Record<string, unknown>; notes: string[] }

/**
 * Runs check_structure.py on `files` (one Python process) and throws with its findings when a
 * check fails. Files left out by {@link skipStructureCheck} are not checked; files marked by
 * {@link checkAsKilled} (or all, with `killed`) are checked as a killed writer leaves them.
 * Without h5py it returns null after a note (once per process), and throws under CI=true.
 */
export function assertStructure(files: string[], o: { killed?: boolean; t?: TestContext } = {}): StructureResult[] | null {
  const problem = structureCheckerProblem();
  if (problem) {
    if (process.env.CI === "true") throw new Error(`the structure check needs h5py on CI: ${problem} (apt-get install python3-h5py)`);
    if (!warned) process.stderr.write(`structure check skipped: ${problem}\n`);
    warned = true;
    return null;
  }
  const closed: string[] = [];
  const killed: string[] = [];
  for (const f of files.map((x) => resolve(x))) {
    const why = exemption(f);
    if (why !== undefined) {
      o.t?.diagnostic(`structure check: ${f} left out: ${why}`);
      continue;
    }
    (o.killed || [...killedFiles].some((p) => under(f, p)) ? killed : closed).push(f);
  }
  if (closed.length + killed.length === 0) return [];
  const args = [STRUCTURE_CHECKER, "--json", ...closed, ...(killed.length ? ["--killed", ...killed] : [])];
  const r = spawnSync(PYTHON, args, { encoding: "utf8", maxBuffer: 64 << 20, timeout: 300_000 });
  if (r.error) throw new Error(`check_structure.py did not run: ${r.error.message}`);
  const results = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as StructureResult);
  const failed = results.filter((x) => !x.ok);
  if (r.status !== 0 || failed.length > 0 || results.length !== closed.length + killed.length) {
    const lines = failed.map((x) => `${x.file}:\n${x.problems.map(([id, text]) => `  [${id}] ${text}`).join("\n")}`);
    throw new Error(`HDF5 structure check failed (test/py/check_structure.py, exit ${r.status ?? r.signal}):\n${lines.join("\n")}${r.stderr ? `\n${r.stderr}` : ""}`);
  }
  return results;
}

/**
 * Skips `t` with `reason`, or, under CI=true, fails it: on CI a test that cannot run its real
 * check must not pass silently (.ci/run installs what the tests need).
 */
export function skipOrFail(t: TestContext, reason: string): void {
  if (process.env.CI === "true") assert.fail(`cannot run on CI: ${reason}`);
  t.skip(reason);
}

/** Deterministic PRNG: the bench scripts' mulberry32 (same seed, same sequence). */
export { mulberry32 as rng } from "../bench/data.js";

/**
 * After a test changed the text of strings in a file on purpose (same length in bytes): the
 * checksum of every global heap collection the `ts` engine marked (FORMAT.md, "Global heap
 * checksums") computed again, as a writer of that text would have; returns how many were sealed.
 */
export function resealGlobalHeaps(bytes: Uint8Array): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const u64 = (at: number): number => Number(buf.readBigUInt64LE(at));
  let n = 0;
  for (let addr = buf.indexOf("GCOL"); addr >= 0; addr = buf.indexOf("GCOL", addr + 1)) {
    if (bytes[addr + 4] !== 1 || !CHECKSUM_MARK.every((x, i) => bytes[addr + 5 + i] === x)) continue;
    const end = addr + u64(addr + 8);
    for (let p = addr + 16; p + 16 <= end;) {
      const size = u64(p + 8);
      if ((bytes[p] | (bytes[p + 1] << 8)) === 0) break;
      if (size === 8 && CHECKSUM_MAGIC.every((x, i) => bytes[p + 16 + i] === x)) {
        buf.writeUInt32LE(lookup3(bytes.subarray(addr + 16, p)) >>> 0, p + 20);
        n++;
        break;
      }
      p += 16 + Math.ceil(size / 8) * 8;
    }
  }
  return n;
}

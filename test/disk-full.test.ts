/**
 * Disk full. A writer process (bench/crash-writer.js, default engine) writes onto a
 * 32 MiB tmpfs that is already mostly full until a write fails. Expected: a typed StorageError
 * (code IO_ERROR or HDF5_ERROR) naming the file and the cause; afterwards the file opens in h5py
 * and in our loader and holds everything up to the last successful flush, values checked.
 *
 * Mounting needs root (`mount -t tmpfs`); where that is impossible the mount cases are skipped
 * with the reason. The "transient" cases need no mount: ENOSPC is injected into single file
 * writes, after which close() runs with space available again.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digest, runWriter } from "../bench/crash-harness.js";
import { h5pyProblem, verifyWithH5py, verifyWithLoader, type VerifyJob } from "../bench/crash-verify.js";
import type { WriterSpec } from "../bench/crash-writer.js";
import { assertStructure, checkAsKilled, skipOrFail, tempDir } from "./helpers.js";

const SEED = 5;
const BASE: Omit<WriterSpec, "dir"> = {
  seed: SEED, episodes: 400, steps: 20_000, flushEverySteps: 2000, flushIntervalMs: 0, chunkSize: 10_000, betweenMs: 0, checkpointEvery: 0,
};

/** Mounts a 32 MiB tmpfs; returns its path, or the reason it cannot. Unmounted when the test ends. */
function mountTmpfs(t: TestContext): string | { skip: string } {
  if (process.platform !== "linux") return { skip: "tmpfs mounts need Linux" };
  if (process.getuid?.() !== 0) return { skip: "mounting a tmpfs needs root" };
  const dir = mkdtempSync(join(tmpdir(), "snn-diskfull-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=32m", "tmpfs", dir], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here: ${(r.error?.message ?? r.stderr).trim()}` };
  }
  t.after(() => {
    spawnSync("umount", [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Leaves about `free` bytes free on the file system at `dir` (a filler file). */
function fill(dir: string, free: number): string {
  const filler = join(dir, "filler.bin");
  const df = spawnSync("df", ["-B1", "--output=avail", dir], { encoding: "utf8" });
  const avail = Number(df.stdout.trim().split("\n").pop());
  writeFileSync(filler, Buffer.alloc(Math.max(0, avail - free), 0x5a));
  return filler;
}

interface Outcome { events: Record<string, unknown>[]; error: Record<string, unknown> | undefined; close: Record<string, unknown> | undefined; job: VerifyJob }

async function write(spec: WriterSpec): Promise<Outcome> {
  mkdirSync(spec.dir, { recursive: true });
  const out = await new Promise<Record<string, unknown>[]>((resolve) => {
    void runWriter(spec, () => undefined, 120_000).then((o) => resolve(o.events));
  });
  const { durable, file } = digest(out);
  const found = file ?? readdirSync(spec.dir).map((d) => join(spec.dir, d, "experiment_data.h5")).find(existsSync);
  assert.ok(found, "the writer created no file");
  // judge the file against what was durable at the last successful flush (close() may add more)
  return {
    events: out, error: out.find((e) => e.ev === "error"), close: out.find((e) => e.ev === "close_after_error"),
    job: { file: found, seed: spec.seed, episodes: spec.episodes, profile: { steps: spec.steps }, durable: { ...durable, closed: false } },
  };
}

/** The file opens in the loader (and h5py) with every durable step present and correct. */
async function assertHoldsLastFlush(t: TestContext, o: Outcome): Promise<void> {
  const r = await verifyWithLoader(o.job);
  const detail = JSON.stringify({ error: r.error, problems: r.problems, episodes: r.episodes.filter((e) => e.problems.length) }).slice(0, 2000);
  assert.ok(r.opened && r.error === null, `the loader could not open ${o.job.file}: ${detail}`);
  assert.equal(r.stepsLost, 0, `steps up to the last successful flush are missing: ${detail}`);
  assert.equal(r.wrongValues, 0, `wrong values: ${detail}`);
  assert.deepEqual(r.episodes.flatMap((e) => e.problems), [], detail);
  const why = h5pyProblem();
  if (why) {
    if (process.env.CI === "true") assert.fail(`h5py is required on CI: ${why}`);
    t.diagnostic(`h5py part skipped: ${why}`);
    return;
  }
  const jobs = mkdtempSync(join(tmpdir(), "snn-diskfull-jobs-")); // not on the full disk
  t.after(() => rmSync(jobs, { recursive: true, force: true }));
  const [h] = verifyWithH5py([o.job], join(jobs, "jobs.json"), writeFileSync);
  assert.ok(h.ok, `h5py could not read ${o.job.file}: ${h.error}`);
  assert.deepEqual(h.bad_timesteps, []);
  // the writer stopped at a failed write (fail-stop): checked as a killed writer leaves a file
  assertStructure([o.job.file], { killed: true, t });
}

function assertTypedEnospc(o: Outcome): void {
  assert.ok(o.error, `the writer filled the disk without an error: ${JSON.stringify(o.events.slice(-3))}`);
  assert.equal(o.error.name, "StorageError", JSON.stringify(o.error));
  assert.ok(o.error.code === "IO_ERROR" || o.error.code === "HDF5_ERROR", JSON.stringify(o.error));
  const msg = String(o.error.message);
  assert.ok(msg.includes("experiment_data.h5"), `the message does not name the file: ${msg}`);
  assert.match(msg, /ENOSPC|no space left|disk (is )?full/i, `the message does not name the cause`);
}

test("disk full: a typed error naming the file and ENOSPC; the file keeps everything up to the last flush", { timeout: 120_000 }, async (t) => {
  const mnt = mountTmpfs(t);
  if (typeof mnt !== "string") return skipOrFail(t, mnt.skip);
  fill(mnt, 6 << 20);
  const o = await write({ ...BASE, dir: join(mnt, "run") });
  assertTypedEnospc(o);
  // the disk stays full: close() fails as well, with a typed error
  assert.ok(o.close, "close() was not attempted");
  if (o.close.ok === false) assert.equal(o.close.name, "StorageError", JSON.stringify(o.close));
  assert.ok(o.job.durable.episodes.length > 0 || o.job.durable.endedThrough >= 0, "nothing was flushed before the disk filled");
  await assertHoldsLastFlush(t, o);
});

test("disk full, then space freed before close(): the file is still consistent", { timeout: 120_000 }, async (t) => {
  const mnt = mountTmpfs(t);
  if (typeof mnt !== "string") return skipOrFail(t, mnt.skip);
  const filler = fill(mnt, 6 << 20);
  const o = await write({ ...BASE, dir: join(mnt, "run"), freeOnError: filler });
  assertTypedEnospc(o);
  // fail-stop: after a failed write nothing more is written, not even by close(), which reports
  // the same typed error; the file holds everything up to its last successful flush
  assert.equal(o.close?.ok, false, `close() after a failed write should fail: ${JSON.stringify(o.close)}`);
  assert.match(String((o.close as { message?: string } | undefined)?.message), /ENOSPC.*last successful flush/);
  await assertHoldsLastFlush(t, o);
});

for (const [phase, occurrence, write1] of [["burst", 3, 1], ["flush", 2, 1], ["flush", 2, 3], ["end_episode", 0, 2]] as const) {
  test(`transient ENOSPC at write ${write1} of ${phase} #${occurrence}, then close(): the file holds the last flush, consistent`, { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t, "snn-enospc-");
    checkAsKilled(dir); // checked again when the test ends, as the failed writer left it
    // inline compression: the writes of a log burst do not depend on when a compression thread finishes
    const o = await write({ ...BASE, episodes: 2, flushEverySteps: 5000, dir, compressThreads: false, failAt: { phase, occurrence, write: write1, count: 1 } });
    assertTypedEnospc(o);
    await assertHoldsLastFlush(t, o);
  });
}


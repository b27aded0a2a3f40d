/**
 * Reading a file while another process writes it. A writer child (bench/crash-writer.ts)
 * writes the deterministic experiment of bench/crash-data.ts with a flush every 25 steps while this
 * process opens the file again and again, plain and `{ live: true }`, and reads every stream of
 * every episode (bench/crash-verify.ts recomputes every value from the seed). Every open must
 * either throw an SnnExportError — saying, for a plain open, to use `{ live: true }`; for the
 * default engine's files only that the file kept changing — or return only values the writer
 * wrote: never a wrong value. Engines: ts (default), ts with asyncWrite, ts
 * with enableSwmr, h5wasm. Finally `snn-export tail` follows a growing file for a few seconds and
 * must print nothing from HDF5 on stderr.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { verifyWithLoader, type VerifyJob } from "../bench/crash-verify.js";
import { startCrashWriter } from "../bench/child-io.js";
import { DataExporter, isSnnExportError } from "#lib/index.js";
import { WasmProxy } from "#lib/h5/wasm/proxy.js";
import { checkAsKilled, skipStructureCheck, tempDir } from "./helpers.js";

const MAIN = fileURLToPath(new URL(import.meta.resolve("#cli/cli/main.js")));
const STEPS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a writer child (flushing every 25 steps without pause) once its file has a durable flush. */
function startWriter(dir: string, engine: "ts" | "h5wasm", exporterOptions: Record<string, unknown>): Promise<{ child: ChildProcess; file: string }> {
  return startCrashWriter({
    dir, seed: 5, episodes: 1_000_000, steps: STEPS, flushEverySteps: 25, flushIntervalMs: 0, chunkSize: 64, betweenMs: 0,
    checkpointEvery: 0, engine, exporterOptions,
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(resolve, 10_000);
    child.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    child.kill("SIGKILL");
  });
}

interface Tally { opens: number; typed: number; consistent: number; bad: string[]; errors?: string[] }

/** `opens` opens of a growing file, each read fully and checked value by value. */
async function openRepeatedly(file: string, opens: number, live: boolean, tally: Tally, engine: "ts" | "h5wasm"): Promise<void> {
  const job: VerifyJob = {
    file, seed: 5, episodes: 1_000_000, profile: { steps: STEPS },
    durable: { setup: false, endedThrough: -1, episodes: [], checkpoints: [], closed: false },
  };
  for (let i = 0; i < opens; i++) {
    const r = await verifyWithLoader(job, { live });
    tally.opens++;
    const failures = [
      ...(r.error !== null ? [{ code: r.errorCode, message: r.error }] : []),
      ...r.episodes.flatMap((e) => e.problems.filter((p) => p.startsWith("loader failed")).map((p) => ({ code: e.problems.includes("the error is not an SnnExportError") ? "UNTYPED" : "typed", message: p }))),
    ];
    const wrong = r.episodes.flatMap((e) => e.problems.filter((p) => p.includes("wrong value") || p.includes("extra")));
    if (r.wrongValues > 0 || wrong.length) {
      const what = `${live ? "live" : "plain"} open ${i}: wrong values: ${wrong.slice(0, 3).join("; ")}`;
      // HDF5 (the h5wasm engine) writes chunks and their index entries between flushes in no set
      // order, so a moment the writer paused at may pair an index with an older chunk: that engine
      // gives no guarantee for a file read while it is written (FORMAT.md). Counted, not failed.
      if (engine === "h5wasm") tally.errors?.push(`not guaranteed: ${what}`);
      else tally.bad.push(what);
    }
    for (const f of failures) {
      if (f.code === "UNTYPED") tally.bad.push(`${live ? "live" : "plain"} open ${i}: untyped error: ${f.message}`);
      // the default engine's files are valid at every moment: the only error its reads may give is
      // that the file kept changing under them for 3 s
      else if (engine === "ts" && !f.message.includes("kept changing")) tally.bad.push(`${live ? "live" : "plain"} open ${i}: error on a default-engine file: ${f.message}`);
      else if (!live && !f.message.includes("{ live: true }")) tally.bad.push(`plain open ${i}: the error does not say to open with { live: true }: ${f.message}`);
    }
    if (failures.length) {
      tally.typed++;
      tally.errors?.push(`${live ? "live" : "plain"}: ${failures[0].message.slice(0, 300)}`);
    }
    else if (r.wrongValues === 0 && !wrong.length) tally.consistent++;
    await sleep(10);
  }
}

const VARIANTS: { name: string; engine: "ts" | "h5wasm"; options: Record<string, unknown>; plain: number; live: number }[] = [
  { name: "ts", engine: "ts", options: {}, plain: 12, live: 8 },
  { name: "ts asyncWrite", engine: "ts", options: { asyncWrite: true }, plain: 8, live: 4 },
  { name: "ts enableSwmr", engine: "ts", options: { enableSwmr: true }, plain: 4, live: 8 },
  { name: "h5wasm", engine: "h5wasm", options: {}, plain: 4, live: 2 },
];

test("a file being written: every open is consistent as of a flush or a typed error naming { live: true }; live never returns wrong values", { timeout: 600_000 }, async (t) => {
  // a damaged-looking state must not keep a read waiting for HDF5's 30 s default
  const old = process.env.SNN_EXPORT_HDF5_DEADLINE_MS;
  process.env.SNN_EXPORT_HDF5_DEADLINE_MS = "3000";
  t.after(() => {
    if (old === undefined) delete process.env.SNN_EXPORT_HDF5_DEADLINE_MS;
    else process.env.SNN_EXPORT_HDF5_DEADLINE_MS = old;
  });
  const all: Tally = { opens: 0, typed: 0, consistent: 0, bad: [] };
  for (const v of VARIANTS) {
    const dir = tempDir(t, "snn-growing-");
    const { child, file } = await startWriter(dir, v.engine, v.options);
    const tally: Tally = { opens: 0, typed: 0, consistent: 0, bad: [], errors: [] };
    try {
      await openRepeatedly(file, v.plain, false, tally, v.engine);
      await openRepeatedly(file, v.live, true, tally, v.engine);
    } finally {
      await stop(child);
      if (v.engine === "h5wasm") skipStructureCheck(file, "killed h5wasm-engine writer (that engine gives no crash guarantee, FORMAT.md)");
      else checkAsKilled(file);
    }
    t.diagnostic(`${v.name}: ${tally.opens} opens, ${tally.consistent} consistent, ${tally.typed} typed errors`);
    for (const e of [...new Set(tally.errors)].slice(0, 3)) t.diagnostic(`  ${e}`);
    all.opens += tally.opens;
    all.typed += tally.typed;
    all.consistent += tally.consistent;
    all.bad.push(...tally.bad.map((b) => `${v.name}: ${b}`));
  }
  t.diagnostic(`all: ${all.opens} opens, ${all.consistent} consistent, ${all.typed} typed errors`);
  assert.deepEqual(all.bad, []);
  assert.equal(all.opens, VARIANTS.reduce((s, v) => s + v.plain + v.live, 0));
  // the default engine's files read consistently (not only errors) while they are written
  assert.ok(all.consistent > 0, "no open read the growing file");
});

test("tail of a growing file prints nothing from HDF5 on stderr", { timeout: 120_000 }, async (t) => {
  for (const engine of ["ts", "h5wasm"] as const) {
    const dir = tempDir(t, "snn-growing-tail-");
    const { child, file } = await startWriter(dir, engine, {});
    let stderr = "";
    let stdout = "";
    try {
      const env = { ...process.env, SNN_EXPORT_HDF5_DEADLINE_MS: "1000" };
      const tail = spawn(process.execPath, [MAIN, "tail", file, "--interval", "0.1", "--json"], { stdio: ["ignore", "pipe", "pipe"], env });
      tail.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
      tail.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      // ts: until tail has printed 3 changes (a loaded machine may take seconds to start it: the
      // writer flushes without pause, so the file never holds still); h5wasm: 8 s of following
      const lines = () => stdout.split("\n").filter(Boolean).length;
      if (engine === "ts") {
        const limit = Date.now() + 60_000;
        while (lines() < 3 && Date.now() < limit) await sleep(100);
      } else await sleep(8000);
      await stop(tail);
    } finally {
      await stop(child);
      if (engine === "h5wasm") skipStructureCheck(file, "killed h5wasm-engine writer (that engine gives no crash guarantee, FORMAT.md)");
      else checkAsKilled(file);
    }
    const hdf5 = stderr.split("\n").filter((l) => /HDF5|\bH5[A-Z]|#\d{3}:|major:|minor:/.test(l));
    assert.deepEqual(hdf5.slice(0, 10), [], `${engine}: HDF5 diagnostics on stderr (${hdf5.length} lines)`);
    // the default engine's files are followed (h5wasm's reads of a file in mid-write often fail: tail retries them)
    if (engine === "ts") assert.ok(stdout.split("\n").filter(Boolean).length >= 3, `${engine}: tail printed ${JSON.stringify(stdout.slice(0, 300))} on stdout; stderr: ${stderr.slice(0, 500)}`);
    t.diagnostic(`${engine}: tail stdout ${stdout.split("\n").filter(Boolean).length} lines, stderr ${stderr.split("\n").filter(Boolean).length} lines, none from HDF5`);
  }
});

test("h5wasm: a reopen that fails leaves the reason as the next call's error, not 'already closed'", async (t) => {
  // Seen under load: the deadline stopped HDF5 during the reopen of a growing file, and every later
  // read said "already closed" (which the loader does not retry or explain) instead of why. Here
  // the engine is stopped as the deadline stops it (no timing involved), then the file reopened.
  const dir = tempDir(t);
  const exporter = await DataExporter.create("reopen", { outputBaseDir: dir });
  exporter.saveConfig({ a: 1 });
  await exporter.close();
  const proxy = await WasmProxy.open(exporter.filePath, false);
  t.after(() => proxy.close());
  assert.equal(proxy.kind("/"), "group");
  (proxy as unknown as { h: { kill(why: string): void } }).h.kill("stopped by the test");
  const stopped = (e: unknown) => isSnnExportError(e) && /HDF5 engine was stopped \(stopped by the test\)/.test((e as Error).message);
  assert.throws(() => proxy.reopen(), stopped);
  // the next read opens again, which says why it cannot
  assert.throws(() => proxy.kind("/"), stopped);
  proxy.close();
  assert.throws(() => proxy.kind("/"), (e) => isSnnExportError(e) && /already closed/.test((e as Error).message));
});


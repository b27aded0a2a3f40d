/**
 * Loader robustness (issue 5): 200 copies of a small valid experiment truncated at random offsets
 * and 100 copies with random bytes changed in the HDF5 metadata (found with h5py's chunk map; without
 * h5py the first 4 KB) are read by ExperimentLoader in worker processes (bench/fuzz.ts), with a
 * timeout per case. Every case must end in a typed SnnExportError or valid data: never a hang, a
 * crashed process, an untyped error, or an engine state that breaks a later open of a valid file in
 * the same process. Finally this process itself opens damaged files and then the valid one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runFuzz } from "../bench/fuzz.js";
import { readEverything } from "../bench/fuzz-worker.js";
import { SnnExportError } from "../src/index.js";
import { skipStructureCheck, tempDir } from "./helpers.js";

test("fuzz: truncated and corrupted files end in a typed error or valid data", { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t, "snn-fuzz-test-");
  const r = await runFuzz({ truncations: 200, flips: 100, seed: 3, workDir: dir, concurrency: 2, timeoutMs: 15_000 });
  // the damaged copies are damaged on purpose; the valid file they come from is checked
  for (const c of r.cases) skipStructureCheck(c.file, "a fuzz case (truncated or bytes changed on purpose)");
  t.diagnostic(`${r.cases.length} cases in ${r.seconds.toFixed(1)} s: ${JSON.stringify(r.counts)}`);
  const bad = r.cases.filter((c) => c.outcome !== "ok" && c.outcome !== "typed");
  assert.deepEqual(
    bad.map((c) => `${c.kind} ${JSON.stringify(c.at)}: ${c.outcome} ${c.message ?? ""}`), [],
    `cases that did not end in a typed error or valid data: ${JSON.stringify(r.counts)}`,
  );
  assert.equal(r.counts.ok + r.counts.typed, 300);
  // a truncated file never passes for a complete one
  assert.ok(r.cases.filter((c) => c.kind === "truncate").every((c) => c.outcome === "typed"), "a truncated file read without error");
  assert.equal(r.workersValidOk, r.workersFinished, "a worker could not read the valid file at the end");

  // the same process: damaged files first, then the valid file must still read the same
  const expect = await readEverything(r.valid);
  for (const c of r.cases.filter((x) => x.outcome === "typed").slice(0, 15)) {
    await assert.rejects(readEverything(c.file), (e) => e instanceof SnnExportError, `${c.file} must fail with a typed error here too`);
  }
  assert.equal(await readEverything(r.valid), expect, "the valid file reads differently after the damaged ones");
});

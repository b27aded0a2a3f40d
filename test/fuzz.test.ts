/**
 * Loader robustness (issues 5 and 13): damaged copies of a small valid experiment — bytes changed
 * in the HDF5 structures our reader maps, bytes changed anywhere, truncations — are read by
 * ExperimentLoader in worker processes (bench/fuzz.ts), each case with a deadline. A case passes
 * only with a typed SnnExportError or exactly the data of the undamaged file (a digest of
 * everything the loader returns): no silent difference, hang, crash or untyped error. The cases
 * depend on the seed only (not on h5py). Finally this process itself opens damaged files and then
 * the valid one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTable, runFuzz } from "../bench/fuzz.js";
import { readEverything } from "../bench/fuzz-worker.js";
import { SnnExportError } from "#lib/index.js";
import { skipStructureCheck, tempDir } from "./helpers.js";

test("fuzz: damaged files end in a typed error or exactly the undamaged data", { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t, "snn-fuzz-test-");
  const r = await runFuzz({ seeds: [3], meta: 120, uniform: 120, truncations: 60, workDir: dir, concurrency: 2, timeoutMs: 15_000 });
  // the damaged copies are damaged on purpose (kept only when they failed); the valid file is checked
  for (const c of r.cases) skipStructureCheck(c.file!, "a fuzz case (truncated or bytes changed on purpose)");
  t.diagnostic(`${r.cases.length} cases in ${r.seconds.toFixed(1)} s\n${formatTable(r)}`);
  const bad = r.cases.filter((c) => c.outcome !== "exact" && c.outcome !== "typed");
  assert.deepEqual(
    bad.map((c) => `${c.mode} ${JSON.stringify(c.at)} ${JSON.stringify(c.bytes ?? [])}: ${c.outcome} ${c.message ?? ""}`), [],
    `cases that did not end in a typed error or the undamaged data: ${JSON.stringify(r.counts)}`,
  );
  assert.equal(r.counts.exact + r.counts.typed, 300);
  // a truncated file never passes for a complete one
  assert.ok(r.cases.filter((c) => c.mode === "truncate").every((c) => c.outcome === "typed"), "a truncated file read without error");
  assert.equal(r.workersValidOk, r.workersFinished, "a worker could not read the valid file at the end");

  // the same process: damaged files first, then the valid file must still read the same
  const expect = await readEverything(r.valid);
  const { materialize } = await import("../bench/fuzz.js");
  const { readFileSync } = await import("node:fs");
  const bytes = new Uint8Array(readFileSync(r.valid));
  for (const c of r.cases.filter((x) => x.outcome === "typed").slice(0, 15)) {
    const file = materialize(bytes, c, dir);
    skipStructureCheck(file, "a fuzz case (truncated or bytes changed on purpose)");
    await assert.rejects(readEverything(file), (e) => e instanceof SnnExportError, `${file} must fail with a typed error here too`);
  }
  assert.equal(await readEverything(r.valid), expect, "the valid file reads differently after the damaged ones");
});

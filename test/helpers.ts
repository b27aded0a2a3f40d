/** Test helpers: a per-test temporary directory that is always removed. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";

/** A fresh directory removed when the test ends. */
export function tempDir(t: TestContext, prefix = "snn-export-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Deterministic PRNG: the bench scripts' mulberry32 (same seed, same sequence). */
export { mulberry32 as rng } from "../bench/data.js";

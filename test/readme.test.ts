/**
 * The README's h5py snippet (between `<!-- h5py-snippet:start -->` and `<!-- h5py-snippet:end -->`,
 * in a ```python block that reads spikes from the file named by `path`) runs against a real file.
 * Needs /usr/bin/python3 with h5py (Debian: python3-h5py); skipped without it, except on CI
 * (CI=true) where it fails. A README without the block always fails.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DataExporter } from "#lib/index.js";
import { rng, tempDir } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
/** The compiled test runs from dist/test/; README.md is at the repository root. */
const README = fileURLToPath(new URL("../../README.md", import.meta.url));
const SNIPPET = /<!--\s*h5py-snippet:start\s*-->\s*```python[^\S\n]*\r?\n([\s\S]*?)^```[^\S\n]*\r?\n?\s*<!--\s*h5py-snippet:end\s*-->/m;

/** The Python code of the README's h5py snippet, or null when the README has no such block. */
function readmeSnippet(): string | null {
  if (!existsSync(README)) return null;
  const m = SNIPPET.exec(readFileSync(README, "utf8"));
  return m ? m[1] : null;
}

/** True when h5py is importable. Otherwise skips the test, or fails it on CI (CI=true). */
function requireH5py(t: TestContext): boolean {
  const r = spawnSync(PYTHON, ["-c", "import h5py, numpy"], { encoding: "utf8" });
  if (!r.error && r.status === 0) return true;
  const why = r.error ? r.error.message : r.stderr.trim().split("\n").pop();
  const reason = `${PYTHON} cannot import h5py/numpy (${why}): install python3-h5py (apt-get install python3-h5py)`;
  if (process.env.CI === "true") assert.fail(`interop tools missing on CI: ${reason}`);
  t.skip(reason);
  return false;
}

test("the README's h5py snippet reads the spikes of a file written by DataExporter", async (t) => {
  const snippet = readmeSnippet();
  assert.ok(snippet !== null,
    `README.md lacks the h5py snippet block: expected <!-- h5py-snippet:start -->, a \`\`\`python fenced block, <!-- h5py-snippet:end --> in ${README}`);
  assert.match(snippet, /^\s*import h5py\b/, "the README's h5py snippet should start with `import h5py`");
  assert.match(snippet, /\bpath\b/, "the README's h5py snippet should read the file named by the variable `path`");
  if (!requireH5py(t)) return;

  const dir = tempDir(t);
  const rand = rng(11);
  const n = 50;
  const ex = await DataExporter.create("readme", { outputBaseDir: dir, chunkSize: 32 });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: n }, (_, i) => i) } });
  ex.startEpisode();
  let total = 0;
  for (let step = 0; step < 100; step++) {
    const ids = [...Array(n).keys()].filter(() => rand() < 0.07);
    ex.log({ timestep: step, spikes: step % 2 === 0 ? ids : Uint8Array.from({ length: n }, (_, k) => (ids.includes(k) ? 1 : 0)) });
    total += ids.length;
  }
  ex.endEpisode({ success: true });
  await ex.close();
  assert.ok(total > 100, "the file should hold a spike count that is not a small number by chance");

  // a Python string literal: JSON string escapes are valid Python escapes
  const code = `path = ${JSON.stringify(ex.filePath)}\n${snippet}`;
  const r = spawnSync(PYTHON, ["-c", code], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.error, undefined, `could not run ${PYTHON}: ${r.error?.message}`);
  assert.equal(r.status, 0, `the README's h5py snippet failed (exit ${r.status}):\n${r.stderr}\n--- snippet ---\n${code}`);
  assert.match(r.stdout, new RegExp(`(^|\\D)${total}(\\D|$)`),
    `the README's h5py snippet should print the spike count ${total}; it printed:\n${r.stdout}`);
});

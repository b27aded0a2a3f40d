/** The README's TypeScript quick start runs as written (against the built package) and its file loads. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { tempDir } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

test("README quick start runs and writes a loadable experiment", async (t) => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const m = /## Quick start\s+```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, "README.md lacks the ```ts quick start block under '## Quick start'");
  const dir = tempDir(t);
  const entry = join(root, "packages/snn-export/dist/src/index.js");
  const code = m[1].replace('from "snn-export"', `from ${JSON.stringify(entry)}`) +
    `\nconsole.log(JSON.stringify({ spikes: neuronIds.length, steps: timesteps.length, vShape: variables.v.shape, file: exporter.filePath }));\n`;
  const script = join(dir, "quickstart.mjs");
  // Node 20 has no native `await using`: compile the snippet the way a TypeScript user's build would
  const js = ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  writeFileSync(script, js);
  const out = execFileSync(process.execPath, [script], { cwd: dir, encoding: "utf8" });
  const res = JSON.parse(out.trim().split("\n").pop()!);
  assert.deepEqual(res.vShape, [10, 100]);
  assert.equal(res.spikes, 0);
  assert.equal(readdirSync(join(dir, "experiments")).length, 1);
});

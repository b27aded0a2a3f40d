/**
 * The two workspace packages as npm publishes them: the library's tarball holds the library only
 * (no CLI, plotting, demo or viewer code, no tests, no source maps) and depends on h5wasm alone; it
 * works when unpacked next to nothing but h5wasm (its README's example runs against it); its
 * internal modules are not importable from outside; the CLI's tarball holds
 * the command and depends on the library instead of copying it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const LIB = join(root, "packages/snn-export");
const CLI = join(root, "packages/snn-export-cli");
/** Folders of the tools: none of them may be in the library's tarball. */
const TOOL_FOLDERS = ["cli", "plot", "demo", "inspect", "viewer", "bench"];

interface Packed { filename: string; files: Array<{ path: string }> }

/** `npm pack` of one workspace package into `dest` (or a dry run), as npm reports it. */
function pack(dir: string, dest?: string): Packed {
  const args = ["pack", "--json", ...(dest ? ["--pack-destination", dest] : ["--dry-run"])];
  const out = execFileSync("npm", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const list = JSON.parse(out) as Packed[];
  assert.equal(list.length, 1);
  return list[0];
}

function manifest(dir: string): { version: string; dependencies?: Record<string, string>; bin?: Record<string, string> } {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
}

test("the library's tarball: library code, FORMAT.md and README only; h5wasm its only dependency", () => {
  const files = pack(LIB).files.map((f) => f.path).sort();
  const outside = files.filter((p) => !p.startsWith("dist/src/") && !["package.json", "README.md", "FORMAT.md"].includes(p));
  assert.deepEqual(outside, [], "files outside dist/src besides the manifest and the docs");
  for (const folder of TOOL_FOLDERS) {
    assert.deepEqual(files.filter((p) => p.startsWith(`dist/src/${folder}/`)), [], `tool code (${folder}/) in the library`);
  }
  assert.deepEqual(files.filter((p) => p.endsWith(".map") || p.includes(".test.")), []);
  for (const entry of ["dist/src/index.js", "dist/src/index.d.ts", "dist/src/h5/index.js", "dist/src/schema.js", "dist/src/dtypes.js", "FORMAT.md", "README.md"]) {
    assert.ok(files.includes(entry), `${entry} missing from the tarball`);
  }
  assert.deepEqual(Object.keys(manifest(LIB).dependencies ?? {}), ["h5wasm"]);
  assert.deepEqual(stale(LIB, files), [], "compiled files whose source is gone (a build over an old dist/): build afresh before packing");
});

/**
 * Packed `dist/src/**.js` files without a `src/**.ts` source: left in dist/ by an earlier build
 * (the viewer's page bundle, built by esbuild from src/viewer/page/main.ts, aside).
 */
function stale(dir: string, files: string[]): string[] {
  const bundled = (p: string) => p === "dist/src/viewer/page/app.js" && existsSync(join(dir, "src/viewer/page/main.ts"));
  return files.filter((p) => p.startsWith("dist/src/") && p.endsWith(".js") && !bundled(p) && !existsSync(join(dir, p.slice("dist/".length).replace(/\.js$/, ".ts"))));
}

test("the packed library works next to nothing but h5wasm: its README example runs", (t) => {
  const dir = tempDir(t);
  const { filename } = pack(LIB, dir);
  const app = join(dir, "app");
  const installed = join(app, "node_modules", "snn-export");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", join(dir, filename), "-C", installed, "--strip-components=1"]);
  symlinkSync(join(root, "node_modules", "h5wasm"), join(app, "node_modules", "h5wasm"), "dir");

  const readme = readFileSync(join(LIB, "README.md"), "utf8");
  const example = /```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(example, "packages/snn-export/README.md lacks its ```js example");
  writeFileSync(join(app, "example.mjs"), example[1]);
  const out = execFileSync(process.execPath, ["example.mjs"], { cwd: app, encoding: "utf8" });
  assert.match(out, /\[ 3, 17 \]/, "the example's comment says what it prints");

  // internals stay private (the repository's own tests and benchmarks reach them as #lib/…)
  writeFileSync(join(app, "internal.mjs"), 'await import("snn-export/dist/src/h5/ts/writer.js");\n');
  assert.throws(
    () => execFileSync(process.execPath, ["internal.mjs"], { cwd: app, encoding: "utf8", stdio: "pipe" }),
    (e: { stderr?: string }) => /ERR_PACKAGE_PATH_NOT_EXPORTED/.test(String(e.stderr)),
  );
});

test("the CLI's tarball: the command, depending on the library of the same version", () => {
  const files = pack(CLI).files.map((f) => f.path);
  const cli = manifest(CLI);
  assert.equal(cli.bin?.["snn-export"], "./dist/src/cli/main.js");
  assert.ok(files.includes("dist/src/cli/main.js"));
  assert.ok(readFileSync(join(CLI, "dist/src/cli/main.js"), "utf8").startsWith("#!/usr/bin/env node"), "main.js lacks its shebang");
  assert.equal(cli.dependencies?.["snn-export"], manifest(LIB).version);
  assert.deepEqual(stale(CLI, files), [], "compiled files whose source is gone (a build over an old dist/): build afresh before packing");
  for (const folder of ["exporter", "loader", "h5", "encoding", "provenance"]) {
    assert.deepEqual(files.filter((p) => p.startsWith(`dist/src/${folder}/`)), [], `library code (${folder}/) copied into the CLI`);
  }
});

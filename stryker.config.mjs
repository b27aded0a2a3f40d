/**
 * Mutation testing with Stryker (`npm run mutate`; not part of CI). See README, "Development".
 *
 * Stryker copies the project to .stryker-tmp/, puts every mutant of the files in `mutate` into
 * them at once (switched on one at a time by an environment variable), compiles once
 * (`buildCommand`) and then runs, for each mutant, a command: the compiled node:test files that
 * exercise those sources. A mutant is killed when the command fails.
 *
 * SNN_MUTATE picks the target (default `h5ts`):
 *   h5ts      src/h5/ts/ writer, B-tree, heap, messages, free space, bytes (the pure-TypeScript HDF5 writer)
 *   h5codec   src/h5/ts/ deflate, thread pool, shuffle, lookup3
 *   h5read    src/h5/ts/ reader (read-*.ts, reader.ts, inflate.ts)
 *   encoding  src/encoding/
 *   exporter  src/exporter/
 *   loader    src/loader/
 * SNN_MUTATE_FILES narrows `mutate` further (comma-separated globs, e.g. src/h5/ts/space.ts);
 * SNN_MUTATE_TESTS replaces the test files (comma-separated names of test/<name>.test.ts).
 * SNN_MUTATE_NO_GOLDEN=1 reads the files back with h5py for every mutant instead of comparing
 * golden digests (slow). Record the digests again after an intended change of the bytes written:
 *   npm run build && SNN_GOLDEN=test/fixtures/digests/ts-engine.json SNN_GOLDEN_RECORD=1 node --test dist/test/ts-engine.test.js
 * On a shared 2-core machine keep concurrency at 1 (SNN_MUTATE_CONCURRENCY to change it).
 */
import { readdirSync, readFileSync } from "node:fs";

const TARGETS = {
  // the writer's structures (test/ts-engine.test.ts: unit tests against the specification's byte
  // layouts, and a file of every feature). Its files are compared with golden digests of the same
  // files written by the unchanged code and accepted by h5py and check_structure.py (SNN_GOLDEN,
  // test/helpers.ts): ~1.5 s a mutant instead of ~6 s with a Python start-up per file
  h5ts: {
    mutate: ["src/h5/ts/writer.ts", "src/h5/ts/nodes.ts", "src/h5/ts/btree.ts", "src/h5/ts/heap.ts", "src/h5/ts/messages.ts", "src/h5/ts/space.ts", "src/h5/ts/bytes.ts"],
    tests: ["ts-engine"],
    env: "SNN_GOLDEN=test/fixtures/digests/ts-engine.json",
  },
  // compression: deflate strategies, the thread pool, shuffle, the checksum
  h5codec: {
    mutate: ["src/h5/ts/deflate.ts", "src/h5/ts/pool.ts", "src/h5/ts/shuffle.ts", "src/h5/ts/lookup3.ts"],
    tests: ["shuffle", "lookup3", "pool", "zlib-fallback", "ts-engine"],
    // the ts engine's files by their golden digests: deflate's bytes must not change either
    env: "SNN_GOLDEN=test/fixtures/digests/ts-engine.json",
  },
  // the HDF5 reader (and inflate): what the loader returns for the golden 1.0 files (views checked
  // with h5py) and for 2.0 files built from logical inputs (test/v2-fixture.ts) goes through it
  h5read: {
    mutate: ["src/h5/ts/read-*.ts", "src/h5/ts/reader.ts", "src/h5/ts/inflate.ts"],
    // then damaged files (fewer flips than in CI) and files changing while read
    tests: [["golden-v1", "loader-v2", "windows", "ts-reader-api", "ts-reader-parts"], "inflate", "zlib-fallback", "live-read", "ts-reader-corrupt"],
    testEnv: { "ts-reader-corrupt": "SNN_CORRUPT_FLIPS=20" },
    // SNN_EXPORT_READER=ts: no fallback to h5wasm (a mutant that makes the TypeScript reader give up
    // on a file would otherwise be masked by h5wasm reading it correctly)
    env: "SNN_SKIP_STRUCTURE=1 SNN_EXPORT_READER=ts",
  },
  encoding: {
    mutate: ["src/encoding/**/*.ts"],
    tests: ["encoding", "weights"],
  },
  // the exporter: files written from fixed inputs with a fixed clock (test/exporter-golden.test.ts)
  // compared with golden digests of the files h5py read back as the inputs; then the refusals
  // (errors, without the Python structure check of their files: SNN_SKIP_STRUCTURE)
  exporter: {
    mutate: ["src/exporter/**/*.ts"],
    tests: [["exporter-golden", "exporter-refusals", "errors", "flush-policy-unit", "exporter-masks"]],
    env: "SNN_GOLDEN=test/fixtures/digests/exporter.json SNN_SKIP_STRUCTURE=1",
  },
  // the loader: the golden 1.0 files and their recorded views (checked with h5py, which does not
  // depend on the loader: left out per mutant), 2.0 files built from logical inputs by
  // test/v2-fixture.ts, by the writer layer and by the exporter (loader-v2, windows, loader,
  // collection, loader-details); no Python per mutant
  loader: {
    mutate: ["src/loader/**/*.ts"],
    // (loader.test.ts's h5wasm writer start stalls when it runs after the others in one process)
    tests: [["golden-v1", "loader-v2", "windows", "collection", "loader-details", "loader-parts"], "loader"],
    env: "SNN_SKIP_STRUCTURE=1",
  },
};

const target = process.env.SNN_MUTATE ?? "h5ts";
const t = TARGETS[target];
if (!t) throw new Error(`SNN_MUTATE must be one of ${Object.keys(TARGETS).join(", ")}, got ${target}`);
/**
 * SNN_MUTATE_SAMPLE=<fraction>:<seed> (e.g. 0.12:18): mutate only a random sample of the target's
 * files' 10-line blocks (each block kept with that probability; the same blocks for the same seed)
 * — a score estimate where a whole run does not fit in the time available.
 */
function sample(globs, spec) {
  const [fraction, seed] = spec.split(":").map(Number);
  let a = seed >>> 0; // mulberry32
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [];
  for (const g of globs) {
    const dir = g.replace(/\/\*\*\/\*\.ts$/, "");
    const slash = g.lastIndexOf("/");
    const name = new RegExp(`^${g.slice(slash + 1).replace(/\./g, "\\.").replace(/\*/g, ".*")}$`);
    const files = dir !== g ? readdirSync(dir, { recursive: true }).filter((f) => f.endsWith(".ts")).sort().map((f) => `${dir}/${f}`)
      : g.includes("*") ? readdirSync(g.slice(0, slash)).filter((f) => name.test(f)).sort().map((f) => `${g.slice(0, slash)}/${f}`)
      : [g];
    for (const f of files) {
      const n = readFileSync(f, "utf8").split("\n").length;
      for (let s = 1; s <= n; s += 10) if (rand() < fraction) out.push(`${f}:${s}-${Math.min(s + 9, n)}`);
    }
  }
  return out;
}

/** The library's sources are in packages/snn-export/: `src/…` (here and in SNN_MUTATE_FILES) means there. */
const inLibrary = (p) => (p.startsWith("src/") ? `packages/snn-export/${p}` : p);
const mutate = t.mutate.map(inLibrary);
const files = process.env.SNN_MUTATE_FILES?.split(",").filter(Boolean).map(inLibrary)
  ?? (process.env.SNN_MUTATE_SAMPLE ? sample(mutate, process.env.SNN_MUTATE_SAMPLE) : undefined);
// SNN_MUTATE_TESTS: `a+b` runs a and b in one process
const tests = process.env.SNN_MUTATE_TESTS?.split(",").filter(Boolean).map((n) => (n.includes("+") ? n.split("+") : n)) ?? t.tests;

export default {
  testRunner: "command",
  commandRunner: {
    // the test files one after the other, each run directly by node (no `node --test` parent
    // process: half a second less a mutant on a loaded machine), stopped at the first failed test
    // (test/bail-reporter.mjs); temporary files go to a directory emptied before every mutant
    // an entry of `tests` that is a list: those test files in one node process (one start-up a
    // mutant instead of one a file)
    command: [
      "rm -rf .mutant-tmp && mkdir .mutant-tmp",
      ...tests.map((n) => {
        const env = process.env.SNN_MUTATE_NO_GOLDEN ? "" : [t.env, t.testEnv?.[n]].filter(Boolean).map((e) => `${e} `).join("");
        const run = Array.isArray(n)
          ? `--input-type=module -e "${n.map((m) => `await import('./dist/test/${m}.test.js');`).join(" ")}"`
          : `dist/test/${n}.test.js`;
        return `TMPDIR="$PWD/.mutant-tmp" ${env}node --test-reporter=./test/bail-reporter.mjs ${run}`;
      }),
    ].join(" && "),
  },
  buildCommand: "npx tsc -b",
  mutate: files ?? mutate,
  coverageAnalysis: "off", // the command runner cannot tell which test covers a mutant
  concurrency: Number(process.env.SNN_MUTATE_CONCURRENCY ?? 1),
  // a mutant that loops forever is stopped after twice the normal time plus 10 s
  timeoutMS: 10_000,
  timeoutFactor: 2,
  // the compiled tests locate check_structure.py and the other .py scripts in the source tree
  ignorePatterns: ["dist", "bench/results", "reports", "experiments", "*.h5", "!test/fixtures/golden/**"],
  tempDirName: ".stryker-tmp",
  // `--incremental` re-tests only mutants whose code or tests changed since the last run of the target
  incrementalFile: `reports/stryker-incremental-${target}.json`,
  cleanTempDir: true,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${target}.html` },
  jsonReporter: { fileName: `reports/mutation/${target}.json` },
  thresholds: { high: 85, low: 70, break: null },
};

/**
 * Property-based round trip: random experiments — call sequences over the whole public
 * API of DataExporter with random options, shapes, dtypes, names and value edges, interleaved
 * flushes and injected bad calls — are written, then read back with the loader and with h5py
 * (test/py/check_roundtrip.py, which knows only FORMAT.md). Properties:
 *
 * 1. every call the input rules accept is accepted, and every call they refuse throws a typed
 *    SnnExportError with the code they name (refused creates leave nothing on disk);
 * 2. everything accepted reads back exactly through the loader: value (bitwise, -0 and NaN
 *    included), dtype, shape and order, the episode table's counters, JSON values;
 * 3. h5py reads the same from the file by FORMAT.md alone, dataset dtypes and attributes included;
 * 4. a refused call changes nothing: the model holds only the accepted calls, and the whole
 *    read-back (every dataset, group and attribute the checker knows) equals it;
 * 5. every file passes the HDF5 structure check (test/py/check_structure.py), run once over all
 *    of them at the end.
 *
 * Budget: SNN_PROPERTY_RUNS experiments (default 60) from seed SNN_PROPERTY_SEED (default
 * 20261206). The h5py part is skipped with a reason when /usr/bin/python3 has no h5py (required
 * when CI=true). SNN_PROPERTY_KEEP=<dir> keeps every file with its EXPECTED.json.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { cpSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { Experiment, OP_KINDS, type Scenario } from "./roundtrip-experiment.js";
import { assertStructure } from "./helpers.js";

const RUNS = Number(process.env.SNN_PROPERTY_RUNS ?? 60);
const SEED = Number(process.env.SNN_PROPERTY_SEED ?? 20261206);
const KEEP = process.env.SNN_PROPERTY_KEEP;
const PYTHON = "/usr/bin/python3";
const CHECKER = fileURLToPath(new URL("../../test/py/check_roundtrip.py", import.meta.url));

/** check_roundtrip.py in server mode: one request line (file, expectation path), one answer line. */
class PyChecker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];
  private stderr = "";
  constructor() {
    this.proc = spawn(PYTHON, [CHECKER, "--serve"], { stdio: ["pipe", "pipe", "pipe"] });
    createInterface({ input: this.proc.stdout }).on("line", (line) => this.waiting.shift()?.(line));
    this.proc.stderr.on("data", (d) => (this.stderr += String(d)));
    this.proc.on("exit", (code) => {
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ ok: false, errors: [`checker exited (${code}): ${this.stderr.slice(-2000)}`] }));
    });
  }
  check(file: string, expectPath: string): Promise<{ ok: boolean; checks?: number; errors?: string[] }> {
    return new Promise((resolve) => {
      this.waiting.push((line) => resolve(JSON.parse(line)));
      this.proc.stdin.write(JSON.stringify({ file, expect: expectPath }) + "\n");
    });
  }
  close(): void {
    this.proc.stdin.end();
  }
}

function h5pyProblem(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import h5py, numpy"], { encoding: "utf8" });
  if (r.error) return `${PYTHON} is not runnable (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} cannot import h5py/numpy (${r.stderr.trim().split("\n").pop()})`;
  return null;
}

const opArb = fc.record({ kind: fc.constantFrom(...OP_KINDS), bad: fc.nat(99).map((x) => x < 18), seed: fc.nat() });

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  name: fc.nat(),
  options: fc.record({
    chunkSize: fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 16, 10000),
    neuralSamplingRate: fc.constantFrom(1, 1, 2, 3),
    compression: fc.constantFrom("gzip" as const, "none" as const, null, undefined),
    compressionLevel: fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }),
    engine: fc.constantFrom("ts" as const, "ts" as const, "ts" as const, "ts" as const, "ts" as const, "h5wasm" as const),
    asyncWrite: fc.nat(5).map((x) => x === 0),
    enableSwmr: fc.nat(7).map((x) => x === 0),
    allowNonFinite: fc.boolean(),
    flushEverySteps: fc.constantFrom(0, 0, 1, 4),
    flushIntervalMs: fc.constantFrom(0, 1000, 1e9),
  }).map((o) => ({ ...o, asyncWrite: o.asyncWrite && o.engine === "ts", enableSwmr: o.enableSwmr && o.engine === "ts" })),
  badCreate: fc.nat(2),
  ops: fc.array(opArb, { minLength: 1, maxLength: 80, size: "max" }),
});

test("property: random experiments round-trip exactly through the loader and h5py; refused calls are typed and change nothing", { timeout: 900_000 }, async (t) => {
  const problem = h5pyProblem();
  if (problem) {
    if (process.env.CI === "true") assert.fail(`h5py missing on CI: ${problem}`);
    t.diagnostic(`h5py part skipped: ${problem} (apt-get install python3-h5py)`);
  }
  const py = problem ? null : new PyChecker();
  const work = mkdtempSync(join(tmpdir(), "snn-property-"));
  const structure = join(work, "structure");
  mkdirSync(structure);
  const scenarios: string[] = [];
  const totals = { runs: 0, accepted: 0, refused: {} as Record<string, number>, h5pyChecks: 0, episodes: 0, structureChecked: 0 };
  const started = performance.now();
  try {
    const details = await fc.check(
      fc.asyncProperty(scenarioArb, async (sc) => {
        const base = join(work, `run-${totals.runs}`);
        mkdirSync(base);
        const x = new Experiment(sc, base);
        try {
          await x.create();
          for (const op of sc.ops) x.run(op);
          await x.close();
          await x.verifyWithLoader(x.ex.outputDir);
          const expectPath = join(base, "EXPECTED.json");
          writeFileSync(expectPath, JSON.stringify(x.expectationForPy()));
          if (KEEP) cpSync(base, join(KEEP, `seed${SEED}-run${totals.runs}`), { recursive: true });
          linkSync(x.ex.filePath, join(structure, `run-${totals.runs}.h5`));
          scenarios[totals.runs] = fc.stringify(sc);
          if (py) {
            const answer = await py.check(x.ex.filePath, expectPath);
            if (!answer.ok) throw new Error(`h5py: ${answer.errors?.slice(0, 10).join("\n")}`);
            totals.h5pyChecks += answer.checks ?? 0;
          }
          totals.accepted += x.tally.accepted;
          for (const [k, v] of Object.entries(x.tally.refused)) totals.refused[k] = (totals.refused[k] ?? 0) + v;
          totals.episodes += x.episodes.length;
        } catch (err) {
          (err as Error).message += `\ncalls:\n  ${x.log.slice(-40).join("\n  ")}`;
          throw err;
        } finally {
          totals.runs++;
          if (x.ex && !x.closed) await x.ex.close().catch(() => {});
          rmSync(base, { recursive: true, force: true });
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: process.env.SNN_PROPERTY_SHRINK !== "1" },
    );
    if (!details.failed) {
      try {
        const checked = assertStructure(scenarios.flatMap((sc, i) => (sc === undefined ? [] : [join(structure, `run-${i}.h5`)])));
        totals.structureChecked = checked?.length ?? 0;
      } catch (err) {
        const runs = [...new Set([...(err as Error).message.matchAll(/run-(\d+)\.h5/g)].map((m) => Number(m[1])))];
        assert.fail(`${(err as Error).message}\n${runs.map((i) => `scenario of run ${i}: ${scenarios[i]}`).join("\n")}`);
      }
    }
    if (details.failed) {
      const err = details.errorInstance as Error | undefined;
      assert.fail(
        `experiment ${details.numRuns} of seed ${SEED} (fast-check path ${JSON.stringify(details.counterexamplePath)}, SNN_PROPERTY_SHRINK=1 shrinks it) failed:\n` +
          `${err?.message ?? err}\nscenario: ${fc.stringify(details.counterexample)}`,
      );
    }
  } finally {
    py?.close();
    rmSync(work, { recursive: true, force: true });
  }
  t.diagnostic(
    `seed ${SEED}: ${RUNS} experiments (${totals.runs} runs in all), ${totals.episodes} episodes, ${totals.accepted} calls accepted, refused ${JSON.stringify(totals.refused)}, ` +
      `${py ? `${totals.h5pyChecks} h5py checks, ${totals.structureChecked} files structure-checked` : "h5py skipped"}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});

/**
 * The benchmark child: runs one workload with one in-process contender and prints one JSON line.
 *
 *   node dist/bench/contender.js --contender snn-export --workload quickstart --out /tmp/q.h5 [--max-steps N] [--max-episodes N]
 *        [--no-validate] [--flush-interval-ms N]   (validateData: false / flushIntervalMs: N, for the cost studies)
 *
 * Data is generated before timing (and the heap settled by one full collection, see settleHeap);
 * what is timed is everything from `create` to `close()` returning. With --max-steps every episode stops after N steps, with
 * --max-episodes only the first N episodes run; either way the result says `capped: true` (timesteps_per_s is per timestep
 * run, so it stays comparable).
 */
import { mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { collector } from "#lib/gc.js";
import { CONTENDERS, type ExporterClass } from "./contenders.js";
import { logWorkload } from "./loop.js";
import { generate } from "./data.js";
import { workload } from "./workloads.js";

/** The JSON line the child prints (the h5py peer prints the same fields, `peer` for `contender`). */
export interface ContenderResult {
  contender: string;
  workload: string;
  seconds: number;
  timesteps_per_s: number;
  file_bytes: number;
  /** Timesteps logged in total (episodes x steps per episode). */
  steps_run: number;
  steps_per_episode: number;
  episodes_run: number;
  capped: boolean;
  /** Seconds of the total spent in `create` (engine start-up and file creation). */
  create_seconds: number;
  /** getrusage maxrss of this process, for when the parent cannot measure it from outside. */
  peak_rss_mb: number;
}


/** Runs workload `name` with the exporter class `cls` of `contender`, leaving the file at `out`. */
async function runContender(contender: string, cls: ExporterClass, name: string, out: string, maxSteps?: number, extra: Record<string, unknown> = {}, maxEpisodes?: number): Promise<ContenderResult> {
  const full = workload(name);
  const w = { ...full, episodes: Math.min(full.episodes, maxEpisodes ?? Infinity) };
  const steps = Math.min(w.steps, maxSteps ?? Infinity);
  const data = generate(w, steps);
  settleHeap();
  const base = mkdtempSync(join(dirname(out), ".snn-bench-"));
  try {
    const options = { outputBaseDir: base, neuralSamplingRate: w.sampling, compression: "gzip", compressionLevel: 4, chunkSize: 10_000, ...extra } as const;
    const t0 = performance.now();
    const ex = await cls.create(`bench_${name}`, options);
    const created = performance.now();
    await logWorkload(ex, w, data, steps);
    const seconds = (performance.now() - t0) / 1000;
    renameSync(ex.filePath, out);
    const total = w.episodes * steps;
    return {
      contender, workload: name, seconds: round(seconds, 3), timesteps_per_s: Math.round(total / seconds),
      file_bytes: statSync(out).size, steps_run: total, steps_per_episode: steps, episodes_run: w.episodes, capped: steps < w.steps || w.episodes < full.episodes,
      create_seconds: round((created - t0) / 1000, 3), peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

/**
 * One full garbage collection after the data is generated, before the clock starts. The generated
 * rows are tens of thousands of live typed-array views in V8's young generation; without it the
 * first collections inside the timed part copied and promoted them: measured with a gc
 * PerformanceObserver on small_high_freq, 14–26 ms of pauses in the timed part without, 8–13 ms
 * with. That is the harness's own memory (the h5py peer's numpy data needs no such step).
 */
function settleHeap(): void {
  collector()?.({ type: "major" });
}

/** A bad command line: exit code 2. */
class UsageError extends Error {}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      contender: { type: "string", default: "snn-export" }, workload: { type: "string" }, out: { type: "string" }, "max-steps": { type: "string" }, "max-episodes": { type: "string" },
      "no-validate": { type: "boolean", default: false }, "flush-interval-ms": { type: "string" },
    },
    strict: true,
  });
  if (!values.workload || !values.out) throw new UsageError("usage: contender.js --contender NAME --workload NAME --out FILE.h5 [--max-steps N] [--max-episodes N]");
  const cap = values["max-steps"];
  if (cap !== undefined && !/^[1-9][0-9]*$/.test(cap)) throw new UsageError(`--max-steps must be a positive integer, got "${cap}"`);
  const epCap = values["max-episodes"];
  if (epCap !== undefined && !/^[1-9][0-9]*$/.test(epCap)) throw new UsageError(`--max-episodes must be a positive integer, got "${epCap}"`);
  try {
    workload(values.workload);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const load = Object.hasOwn(CONTENDERS, values.contender) ? CONTENDERS[values.contender] : undefined;
  if (!load) throw new UsageError(`unknown contender "${values.contender}"; known: ${Object.keys(CONTENDERS).join(", ")}`);
  const extra: Record<string, unknown> = {};
  if (values["no-validate"]) extra.validateData = false;
  const fi = values["flush-interval-ms"];
  if (fi !== undefined) {
    if (!/^[0-9]+$/.test(fi)) throw new UsageError(`--flush-interval-ms must be a non-negative integer, got "${fi}"`);
    extra.flushIntervalMs = Number(fi);
  }
  const result = await runContender(values.contender, await load(), values.workload, resolve(values.out), cap === undefined ? undefined : Number(cap), extra, epCap === undefined ? undefined : Number(epCap));
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`contender: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1;
});

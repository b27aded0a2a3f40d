/**
 * `npm run bench`: runs every workload with every contender, each run a child process, contenders
 * alternating within each repeat (A B A B ...), and reports medians side by side with the h5py
 * reference peer. Writes bench/results/<YYYY-mm-dd_HHMMSS>.json and .md.
 *
 *   npm run bench -- --workload quickstart --repeat 3
 *   npm run bench -- --scale [--episodes 100000]    (bench/scale-episodes.ts instead of the suite)
 *   npm run bench -- --read [--repeat 5]            (bench/read-bench.ts: reading back against h5py)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RSS_DESCRIPTION, probeRss, runOnce, type RunRecord } from "./measure.js";
import { H5PY, USAGE, UsageError, parseBenchArgs, type BenchOptions } from "./options.js";
import { machine, markdown, summarize } from "./report.js";

/** Progress on stderr: a redrawn bar on a TTY, one plain line per finished run otherwise. */
class Progress {
  private done = 0;
  private label = "";
  private started = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly total: number) {
    if (this.tty) this.timer = setInterval(() => this.draw(), 500).unref();
  }

  start(label: string): void {
    this.label = label;
    this.started = performance.now();
    this.draw();
  }

  finish(line: string): void {
    this.done++;
    if (this.tty) process.stderr.write(`\r\x1b[K${line}\n`);
    else process.stderr.write(`[${this.done}/${this.total}] ${line}\n`);
    this.draw();
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.tty) process.stderr.write("\r\x1b[K");
  }

  private draw(): void {
    if (!this.tty) return;
    const width = 24;
    const filled = Math.round((width * this.done) / this.total);
    const secs = ((performance.now() - this.started) / 1000).toFixed(0);
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    process.stderr.write(`\r\x1b[K[${bar}] ${this.done}/${this.total}  ${this.label}  ${secs}s`);
  }
}

/**
 * Steps per episode for a run: StandardDataExporter (the naive baseline) gets a per-workload cap
 * so that the default suite stays well under 10 minutes; `--max-steps` caps every in-process contender.
 */
export const STANDARD_STEP_CAPS: Readonly<Record<string, number>> = {
  quickstart: 50, small_high_freq: 100, medium_normal: 50, large_sparse: 50, stress_test: 50, fullrate: 200, long: 50, many_episodes: 50,
};

/**
 * Episodes of a run, where the step cap is not enough: many_episodes has 50 steps per episode
 * already, and StandardDataExporter, whose streams are experiment-wide in format 2.0, rewrites each
 * stream's growing partial chunk at every step (measured: 176 steps/s over 20 episodes, 345 over
 * 100; all 2,000 did not finish in 15 minutes). `--max-episodes` caps every in-process contender.
 */
export const STANDARD_EPISODE_CAPS: Readonly<Record<string, number>> = { many_episodes: 20 };

function cap(table: Readonly<Record<string, number>>, fallback: number | undefined, contender: string, workload: string, given: number | undefined): number | undefined {
  if (contender === "h5py") return undefined;
  const std = contender === "standard" ? table[workload] ?? fallback : undefined;
  if (std === undefined) return given;
  return given === undefined ? std : Math.min(std, given);
}

function stepCap(contender: string, workload: string, maxSteps: number | undefined): number | undefined {
  return cap(STANDARD_STEP_CAPS, 50, contender, workload, maxSteps);
}

function episodeCap(contender: string, workload: string, maxEpisodes: number | undefined): number | undefined {
  return cap(STANDARD_EPISODE_CAPS, undefined, contender, workload, maxEpisodes);
}

/** The standard contender's cap on `workload`, in words. */
function capText(workload: string, o: BenchOptions): string {
  const steps = stepCap("standard", workload, o.maxSteps);
  const episodes = episodeCap("standard", workload, o.maxEpisodes);
  return `${steps} steps per episode${episodes === undefined ? "" : ` x ${episodes} episodes`}`;
}

function describe(r: RunRecord): string {
  const what = `${r.workload} ${r.contender} #${r.repeat}`;
  if (!r.ok) return `${what}: FAILED ${r.error}`;
  const mib = (r.file_bytes! / 2 ** 20).toFixed(1);
  return `${what}: ${r.timesteps_per_s!.toLocaleString("en-US")} timesteps/s${r.capped ? " (capped)" : ""}, ${r.seconds} s, ${mib} MiB, RSS ${r.peak_rss_mb} MiB`;
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Runs everything, writes the report files; returns whether every run succeeded. */
async function bench(o: BenchOptions): Promise<boolean> {
  const tmp = mkdtempSync(join(tmpdir(), "snn-bench-"));
  // Ctrl-C reaches the children through the terminal's process group; the temp files go with us
  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    process.once(sig, () => {
      rmSync(tmp, { recursive: true, force: true });
      process.exit(code);
    });
  }
  const rss = probeRss(tmp);
  const when = new Date();
  const runs: RunRecord[] = [];
  const progress = new Progress(o.workloads.length * o.repeat * o.contenders.length);
  try {
    for (const workload of o.workloads) {
      for (let repeat = 1; repeat <= o.repeat; repeat++) {
        for (const contender of o.contenders) {
          progress.start(`${workload} · ${contender} · run ${repeat}/${o.repeat}`);
          const r = await runOnce({
            workload, contender, repeat, peer: o.peer, tmp, rss,
            maxSteps: stepCap(contender, workload, o.maxSteps), maxEpisodes: episodeCap(contender, workload, o.maxEpisodes),
          });
          runs.push(r);
          progress.finish(describe(r));
        }
      }
    }
  } finally {
    progress.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const summaries = summarize(runs, o.workloads, o.contenders);
  const m = machine(o.contenders.includes(H5PY));
  const notes = [
    `${o.repeat} run(s) per workload and contender, each a separate process, contenders alternating (${o.contenders.join(", ")}); medians shown.`,
    "Timed: from creating the exporter / opening the file to close() returning; data is generated before timing (the in-process contenders then run one full garbage collection, so that the generated data is not moved by collections inside the timed part).",
    `Peak RSS ${RSS_DESCRIPTION[rss]}.`,
    ...(o.maxSteps !== undefined ? [`In-process contenders capped at ${o.maxSteps} steps per episode (timesteps/s is per step run); h5py runs in full.`] : []),
    ...(o.maxEpisodes !== undefined ? [`In-process contenders capped at ${o.maxEpisodes} episodes (timesteps/s is per step run); h5py runs in full.`] : []),
    ...(o.contenders.includes("standard")
      ? [`standard (StandardDataExporter) is capped at ${o.workloads.map((w) => `${capText(w, o)} (${w})`).join(", ")}: it writes every row as it comes (rewriting the stream's partial chunk each time) and runs at a few hundred steps/s; its timesteps/s is per step run and its file size is not comparable.`]
      : []),
  ];
  const title = `snn-export benchmark ${stamp(when)}`;
  const md = markdown(title, m, summaries, notes);
  const result = { date: when.toISOString(), options: o, rss_measurement: rss, machine: m, summaries, runs };
  mkdirSync(o.outDir, { recursive: true });
  const base = join(o.outDir, stamp(when));
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(`${base}.md`, md);
  if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  else process.stdout.write(`${md}\nwrote ${base}.json and ${base}.md\n`);
  return runs.every((r) => r.ok);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // `npm run bench -- --scale [options]`: the scaling run of bench/scale-episodes.ts instead of the suite
  if (argv.includes("--scale")) return (await import("./scale-episodes.js")).main(argv.filter((a) => a !== "--scale"));
  // `npm run bench -- --read [options]`: the read benchmark of bench/read-bench.ts instead of the suite
  if (argv.includes("--read")) return (await import("./read-bench.js")).main(argv.filter((a) => a !== "--read"));
  let o: BenchOptions | "help";
  try {
    o = parseBenchArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (o === "help") {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  return (await bench(o)) ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);

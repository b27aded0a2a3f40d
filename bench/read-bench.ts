/**
 * `npm run bench -- --read`: the loader reading everything back against the h5py read peer
 * (`../shared/peers/h5py_read.py FILE`, every dataset with h5py + numpy), on the files of the
 * workloads, in the same run, contenders alternating, every run a fresh process.
 *
 * Each workload's file is written once by our exporter (bench/contender.js). Then, per repeat and
 * mode, each contender runs once (the order reversed every other repeat: A B, B A, ...):
 *   warm   read everything, the file in the page cache (read through once before the run)
 *   cold   read everything, the file dropped from the page cache before the run
 *          (posix_fadvise DONTNEED through `dd oflag=nocache count=0`, checked with fincore)
 *   first  time to first data from process start: open + episode 0's spikes (h5py: bench/h5py_first.py,
 *          README's h5py snippet), the file warm
 * Read time is each contender's own timing from open to the last value read (python's interpreter
 * and `import h5py`, node's start-up and module loading are outside it, and inside `first`). Peak
 * RSS of every run from outside (/usr/bin/time -f %M). Ratios are per repeat, paired (same repeat,
 * same mode), and the median of those is reported.
 *
 *   npm run bench -- --read [--workload quickstart,medium_normal,many_episodes] [--repeat 5]
 *                           [--modes warm,cold,first] [--max-steps N] [--max-episodes N]
 *                           [--baseline DIST_DIR] [--peer-file] [--json] [--out-dir DIR]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { exec, probeRss, RSS_DESCRIPTION, type RssSource } from "./measure.js";
import { h5pyAvailable, list, positive, PYTHON, UsageError } from "./options.js";
import { machine, median } from "./report.js";
import { REPO_ROOT, WORKLOADS } from "./workloads.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const GNU_TIME = "/usr/bin/time";
const CONTENDER_JS = join(HERE, "contender.js");
const READ_CHILD = "bench/read-child.js";
const FIRST_PY = join(REPO_ROOT, "bench", "h5py_first.py");
const PEERS = join(REPO_ROOT, "..", "shared", "peers");

export const READ_WORKLOADS = ["quickstart", "medium_normal", "many_episodes"];
export const MODES = ["warm", "cold", "first"] as const;
type Mode = (typeof MODES)[number];

export const READ_USAGE = `usage: npm run bench -- --read [options]
  --workload NAME    repeatable or comma list [${READ_WORKLOADS.join(",")}]
  --repeat N         runs per workload, mode and contender [5]
  --modes LIST       warm (page cache warm), cold (file dropped from the page cache), first (time to
                     first data from process start) [warm,cold,first]
  --max-steps N      write the workload's file with at most N steps per episode
  --max-episodes N   write the workload's file with at most N episodes
  --peer PATH        the h5py read peer [../shared/peers/h5py_read.py]
  --baseline DIR     also run DIR/bench/read-child.js (an earlier build's dist/) as contender "baseline"
  --peer-file        also let the h5py peer read the file h5py_reference.py writes (its own layout; slow:
                     h5py takes ~30 s on its many_episodes file)
  --json             print the result JSON instead of the table
  --out-dir DIR      where read_<date>.json and .md go [bench/results]`;

export interface ReadOptions {
  workloads: string[];
  repeat: number;
  modes: Mode[];
  maxSteps?: number;
  maxEpisodes?: number;
  peer: string;
  baseline?: string;
  peerFile: boolean;
  json: boolean;
  outDir: string;
}

export function parseReadArgs(argv: string[]): ReadOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        workload: { type: "string", multiple: true }, repeat: { type: "string" }, modes: { type: "string", multiple: true },
        "max-steps": { type: "string" }, "max-episodes": { type: "string" }, peer: { type: "string" }, baseline: { type: "string" },
        "peer-file": { type: "boolean" }, json: { type: "boolean" }, "out-dir": { type: "string" }, help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return "help";
  const workloads = list(values.workload);
  for (const w of workloads) if (!Object.hasOwn(WORKLOADS, w)) throw new UsageError(`unknown workload "${w}"; known workloads: ${Object.keys(WORKLOADS).join(", ")}`);
  const modes = list(values.modes);
  for (const m of modes) if (!(MODES as readonly string[]).includes(m)) throw new UsageError(`unknown mode "${m}"; modes: ${MODES.join(", ")}`);
  const baseline = values.baseline !== undefined ? resolve(values.baseline) : undefined;
  if (baseline && !existsSync(join(baseline, READ_CHILD))) throw new UsageError(`--baseline: no ${READ_CHILD} in ${baseline}`);
  return {
    workloads: workloads.length ? [...new Set(workloads)] : READ_WORKLOADS,
    repeat: positive(values.repeat, "--repeat") ?? 5,
    modes: modes.length ? ([...new Set(modes)] as Mode[]) : [...MODES],
    maxSteps: positive(values["max-steps"], "--max-steps"),
    maxEpisodes: positive(values["max-episodes"], "--max-episodes"),
    peer: values.peer !== undefined ? resolve(values.peer) : join(PEERS, "h5py_read.py"),
    baseline,
    peerFile: values["peer-file"] ?? false,
    json: values.json ?? false,
    outDir: values["out-dir"] !== undefined ? resolve(values["out-dir"]) : join(REPO_ROOT, "bench", "results"),
  };
}

/** A contender: how to run it in a mode on a workload's files (null: it does not run in that mode). */
interface Contender {
  name: string;
  argv(mode: Mode, files: Files): string[] | null;
}

interface Files {
  ours: string;
  /** The file h5py_reference.py wrote (null when not written). */
  peer: string | null;
}

function contenders(o: ReadOptions, h5py: boolean): Contender[] {
  const node = (dist: string) => (mode: Mode, f: Files) => [process.execPath, join(dist, READ_CHILD), mode === "first" ? "first" : "all", f.ours];
  const out: Contender[] = [{ name: "snn-export", argv: node(join(REPO_ROOT, "dist")) }];
  if (o.baseline) out.push({ name: "baseline", argv: node(o.baseline) });
  if (h5py) {
    out.push({ name: "h5py", argv: (mode, f) => (mode === "first" ? [PYTHON, FIRST_PY, f.ours] : [PYTHON, o.peer, f.ours]) });
    if (o.peerFile) out.push({ name: "h5py (own file)", argv: (mode, f) => (mode === "first" || !f.peer ? null : [PYTHON, o.peer, f.peer]) });
  }
  return out;
}

/** One run's outcome. */
export interface ReadRun {
  workload: string;
  mode: Mode;
  contender: string;
  repeat: number;
  ok: boolean;
  error?: string;
  /** Open to last value read (warm, cold), open to first data (first). */
  seconds?: number;
  /** CPU time (user + system) over the same part as `seconds`, when the contender reports it (the loader). */
  cpu_seconds?: number;
  /** From starting the process to episode 0's spikes in memory (first). */
  first_data_ms?: number;
  peak_rss_mb?: number;
  /** cold: pages of the file still in the page cache after the drop (null: not checked). */
  cached_pages?: number | null;
  wall_seconds: number;
}

/** Puts the whole file in the page cache. */
function warm(file: string): void {
  readFileSync(file);
}

/** Drops the file from the page cache (posix_fadvise DONTNEED through dd); the pages left, when fincore can tell. */
function drop(file: string): number | null {
  const r = spawnSync("dd", [`of=${file}`, "oflag=nocache", "conv=notrunc,fdatasync", "count=0", "status=none"], { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`cannot drop ${file} from the page cache: ${r.stderr?.toString().trim() || `dd exit ${r.status}`}`);
  return cachedPages(file);
}

function cachedPages(file: string): number | null {
  const r = spawnSync("fincore", ["--bytes", "--noheadings", "--output", "PAGES", file], { encoding: "utf8" });
  if (r.status !== 0) return null;
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) ? n : null;
}

async function runOne(c: Contender, argv: string[], mode: Mode, file: string, base: Omit<ReadRun, "ok" | "wall_seconds">, tmp: string, rss: RssSource): Promise<ReadRun> {
  const rssFile = join(tmp, "run.rss");
  rmSync(rssFile, { force: true });
  let cached: number | null | undefined;
  try {
    if (mode === "cold") cached = drop(file);
    else warm(file);
  } catch (err) {
    return { ...base, ok: false, error: (err as Error).message, wall_seconds: 0 };
  }
  const wrapped = rss === "gnu-time" ? [GNU_TIME, "-f", "%M", "-o", rssFile, ...argv] : argv;
  const started = performance.timeOrigin + performance.now();
  const r = await exec(wrapped);
  const wall_seconds = Math.round(performance.timeOrigin + performance.now() - started) / 1000;
  const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (r.code !== 0 || !line) {
    const why = r.stderr.trim().split("\n").slice(-5).join(" | ") || "no JSON line on stdout";
    return { ...base, ok: false, error: `${c.name}: exit code ${r.code}: ${why}`, wall_seconds };
  }
  const j = JSON.parse(line) as Record<string, unknown>;
  const rssKb = rss === "gnu-time" ? Number(readFileSync(rssFile, "utf8").trim().split("\n").pop()) : Number(j.peak_rss_mb) * 1024;
  const run: ReadRun = { ...base, ok: true, seconds: Number(j.seconds), ...(typeof j.cpu_seconds === "number" ? { cpu_seconds: j.cpu_seconds } : {}), peak_rss_mb: Math.round(rssKb / 102.4) / 10, wall_seconds };
  if (mode === "first") run.first_data_ms = Math.round((Number(j.first_data_epoch_ms) - started) * 10) / 10;
  if (mode === "cold") run.cached_pages = cached ?? null;
  return run;
}

/** Writes the workload's file with our exporter (and, when asked, the h5py reference peer's own file). */
async function writeFiles(workload: string, o: ReadOptions, tmp: string, withPeer: boolean): Promise<Files> {
  const ours = join(tmp, `${workload}.h5`);
  const cap = [...(o.maxSteps ? ["--max-steps", String(o.maxSteps)] : []), ...(o.maxEpisodes ? ["--max-episodes", String(o.maxEpisodes)] : [])];
  const r = await exec([process.execPath, CONTENDER_JS, "--contender", "snn-export", "--workload", workload, "--out", ours, ...cap]);
  if (r.code !== 0) throw new Error(`writing ${workload}: ${r.stderr.trim()}`);
  let peer: string | null = null;
  const reference = join(PEERS, "h5py_reference.py");
  // the reference peer writes the workload in full: only when our file is not capped either
  if (withPeer && !cap.length && existsSync(reference)) {
    const p = join(tmp, `${workload}.h5py.h5`);
    const w = await exec([PYTHON, reference, workload, p]);
    if (w.code === 0) peer = p;
  }
  return { ours, peer };
}

/** One workload x mode x contender. */
export interface ReadSummary {
  workload: string;
  mode: Mode;
  contender: string;
  runs: number;
  failed: number;
  /** Median seconds (warm, cold: open to last value; first: open to first data inside the process). */
  median_seconds: number | null;
  min_seconds: number | null;
  max_seconds: number | null;
  /** first: median ms from process start to first data. */
  median_first_data_ms: number | null;
  min_first_data_ms: number | null;
  max_first_data_ms: number | null;
  median_peak_rss_mb: number | null;
  max_peak_rss_mb: number | null;
  /** warm, cold: median over repeats of h5py's seconds / this contender's (speed, > 1 faster); first: median of this contender's ms / h5py's (time, < 1 sooner). */
  paired_vs_h5py: number | null;
  /** As paired_vs_h5py, against the baseline contender. */
  paired_vs_baseline: number | null;
}

function round(x: number | null, digits: number): number | null {
  return x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits;
}

function paired(runs: ReadRun[], a: ReadRun[], ref: string, mode: Mode): number | null {
  const ratios: number[] = [];
  for (const r of a) {
    const p = runs.find((x) => x.ok && x.workload === r.workload && x.mode === mode && x.repeat === r.repeat && x.contender === ref);
    if (!p) continue;
    ratios.push(mode === "first" ? r.first_data_ms! / p.first_data_ms! : p.seconds! / r.seconds!);
  }
  return round(median(ratios), 2);
}

export function summarizeRead(runs: ReadRun[], workloads: string[], modes: Mode[], names: string[]): ReadSummary[] {
  const out: ReadSummary[] = [];
  for (const w of workloads) {
    for (const mode of modes) {
      for (const c of names) {
        const all = runs.filter((r) => r.workload === w && r.mode === mode && r.contender === c);
        if (!all.length) continue;
        const ok = all.filter((r) => r.ok);
        const secs = ok.map((r) => r.seconds!);
        const first = mode === "first" ? ok.map((r) => r.first_data_ms!) : [];
        const rss = ok.map((r) => r.peak_rss_mb!);
        out.push({
          workload: w, mode, contender: c, runs: ok.length, failed: all.length - ok.length,
          median_seconds: round(median(secs), 4), min_seconds: secs.length ? Math.min(...secs) : null, max_seconds: secs.length ? Math.max(...secs) : null,
          median_first_data_ms: round(median(first), 1), min_first_data_ms: first.length ? Math.min(...first) : null, max_first_data_ms: first.length ? Math.max(...first) : null,
          median_peak_rss_mb: round(median(rss), 1), max_peak_rss_mb: rss.length ? Math.max(...rss) : null,
          paired_vs_h5py: c === "h5py" ? null : paired(runs, ok, "h5py", mode),
          paired_vs_baseline: c === "baseline" || c.startsWith("h5py") ? null : paired(runs, ok, "baseline", mode),
        });
      }
    }
  }
  return out;
}

function fmt(x: number | null, digits: number): string {
  return x === null ? "–" : x.toFixed(digits);
}

export function readMarkdown(title: string, m: object, summaries: ReadSummary[], notes: string[]): string {
  const baseline = summaries.some((s) => s.paired_vs_baseline !== null);
  const head = ["workload", "mode", "contender", "runs", "median", "min – max", "peak RSS MiB (median / max)", "vs h5py (paired)", ...(baseline ? ["vs baseline (paired)"] : [])];
  const lines = [`# ${title}`, "", "```", JSON.stringify(m, null, 2), "```", "", `| ${head.join(" | ")} |`, `|${head.map((_, i) => (i < 3 ? "---" : "---:")).join("|")}|`];
  for (const s of summaries) {
    const first = s.mode === "first";
    const med = first ? `${fmt(s.median_first_data_ms, 0)} ms` : `${fmt(s.median_seconds, 3)} s`;
    const range = first ? `${fmt(s.min_first_data_ms, 0)} – ${fmt(s.max_first_data_ms, 0)}` : `${fmt(s.min_seconds, 3)} – ${fmt(s.max_seconds, 3)}`;
    const ratio = (r: number | null) => (r === null ? "–" : first ? `${r.toFixed(2)}× the time` : `${r.toFixed(2)}× the speed`);
    const cells = [s.workload, s.mode, s.contender, `${s.runs}${s.failed ? ` (+${s.failed} failed)` : ""}`, med, range,
      `${fmt(s.median_peak_rss_mb, 1)} / ${fmt(s.max_peak_rss_mb, 1)}`, ratio(s.paired_vs_h5py), ...(baseline ? [ratio(s.paired_vs_baseline)] : [])];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  lines.push("", ...notes.map((n) => `- ${n}`), "");
  return lines.join("\n");
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

async function readBench(o: ReadOptions): Promise<boolean> {
  const tmp = mkdtempSync(join(tmpdir(), "snn-readbench-"));
  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    process.once(sig, () => {
      rmSync(tmp, { recursive: true, force: true });
      process.exit(code);
    });
  }
  const h5py = h5pyAvailable(o.peer) && existsSync(FIRST_PY);
  if (!h5py) process.stderr.write(`bench --read: h5py is not available (${o.peer}, ${PYTHON} with h5py): the loader runs alone\n`);
  const cs = contenders(o, h5py);
  const rss = probeRss(tmp);
  const when = new Date();
  const runs: ReadRun[] = [];
  const dropChecks: string[] = [];
  try {
    for (const workload of o.workloads) {
      const files = await writeFiles(workload, o, tmp, h5py && o.peerFile);
      for (let repeat = 1; repeat <= o.repeat; repeat++) {
        for (const mode of o.modes) {
          const order = repeat % 2 === 1 ? cs : [...cs].reverse();
          for (const c of order) {
            const argv = c.argv(mode, files);
            if (!argv) continue;
            const file = argv[argv.length - 1];
            const r = await runOne(c, argv, mode, file, { workload, mode, contender: c.name, repeat }, tmp, rss);
            runs.push(r);
            const what = r.ok ? (mode === "first" ? `${r.first_data_ms} ms to first data` : `${r.seconds?.toFixed(3)} s`) + `, RSS ${r.peak_rss_mb} MiB` : `FAILED ${r.error}`;
            process.stderr.write(`${workload} ${mode} ${c.name} #${repeat}: ${what}\n`);
            if (mode === "cold" && r.cached_pages) dropChecks.push(`${workload} ${c.name} #${repeat}: ${r.cached_pages} pages still cached`);
          }
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const names = cs.map((c) => c.name);
  const summaries = summarizeRead(runs, o.workloads, o.modes, names);
  const notes = [
    `${o.repeat} run(s) per workload, mode and contender, each a fresh process; contenders alternating, the order reversed every other repeat (${names.join(", ")}).`,
    "warm / cold: each contender's own time from opening the file to the last value read (the loader: every episode's spikes, neural states, behaviour, rewards, weight changes, events, summary, static data, metadata, config, network, checkpoints, code snapshot; h5py_read.py: every dataset). Process start-up and imports are outside it.",
    "cold: before each run the file is dropped from the page cache with posix_fadvise(DONTNEED) (`dd oflag=nocache conv=notrunc,fdatasync count=0`), checked with fincore; the programs and libraries stay cached. warm: the file is read through once before each run.",
    "first: from the parent starting the process (wall clock) to episode 0's spikes in memory (loader: import of the package entry, open, getEpisode(0).getSpikes(); h5py: bench/h5py_first.py, README's h5py snippet: import h5py + numpy, open, neuron ids and per-spike timesteps of episode 0). File warm.",
    "Paired ratios: per repeat, warm/cold h5py's seconds over the contender's (speed: > 1 is faster than h5py), first the contender's ms over h5py's (time: < 1 is sooner); the median over repeats is shown.",
    `Peak RSS ${RSS_DESCRIPTION[rss]}.`,
    ...(o.maxSteps || o.maxEpisodes ? [`Files written capped: ${[o.maxSteps && `${o.maxSteps} steps per episode`, o.maxEpisodes && `${o.maxEpisodes} episodes`].filter(Boolean).join(", ")}.`] : []),
    ...(runs.some((r) => r.contender === "h5py (own file)") ? ["h5py (own file): the h5py read peer on the file h5py_reference.py writes for the workload (its own layout), for reference; not a ratio."] : []),
    ...(dropChecks.length ? [`Page-cache drop incomplete: ${dropChecks.join("; ")}.`] : []),
  ];
  const m = machine(h5py);
  const md = readMarkdown(`snn-export read benchmark ${stamp(when)}`, m, summaries, notes);
  const result = { date: when.toISOString(), kind: "read", options: o, rss_measurement: rss, machine: m, summaries, runs };
  mkdirSync(o.outDir, { recursive: true });
  const base = join(o.outDir, `read_${stamp(when)}`);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(`${base}.md`, md);
  if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  else process.stdout.write(`${md}\nwrote ${base}.json and ${base}.md\n`);
  return runs.every((r) => r.ok);
}

/** Entry from bench/run.ts (`--read` removed from argv); the exit code. */
export async function main(argv: string[]): Promise<number> {
  let o: ReadOptions | "help";
  try {
    o = parseReadArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench --read: ${err.message}\n${READ_USAGE}\n`);
    return 2;
  }
  if (o === "help") {
    process.stdout.write(READ_USAGE + "\n");
    return 0;
  }
  return (await readBench(o)) ? 0 : 1;
}

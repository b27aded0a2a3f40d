/**
 * One benchmark run = one child process. Peak RSS is measured from outside: the child runs under
 * GNU time (`/usr/bin/time -f %M -o FILE`), which reports the ru_maxrss that wait4() returns for
 * the child, i.e. the kernel's record of its peak resident set. Without GNU time the figure is
 * the child's own getrusage maxrss from its JSON line (same kernel counter, reported from inside).
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { H5PY, PYTHON } from "./options.js";
import { WORKLOADS } from "./workloads.js";

const GNU_TIME = "/usr/bin/time";
const CONTENDER_JS = join(dirname(fileURLToPath(import.meta.url)), "contender.js");

/** How peak RSS is measured; decided once by {@link probeRss}. */
export type RssSource = "gnu-time" | "self-reported";

export const RSS_DESCRIPTION: Record<RssSource, string> = {
  "gnu-time": "measured from outside: /usr/bin/time -f %M (ru_maxrss of the child from wait4)",
  "self-reported": "self-reported by the child (getrusage maxrss); /usr/bin/time was not usable",
};

/** Uses GNU time when it runs and writes `%M` to its -o file. */
export function probeRss(tmp: string): RssSource {
  if (!existsSync(GNU_TIME)) return "self-reported";
  const f = join(tmp, "probe.rss");
  const r = spawnSync(GNU_TIME, ["-f", "%M", "-o", f, process.execPath, "-e", ""], { stdio: "ignore" });
  const ok = r.status === 0 && existsSync(f) && /^\d+\s*$/.test(readFileSync(f, "utf8").trim().split("\n").pop() ?? "");
  rmSync(f, { force: true });
  return ok ? "gnu-time" : "self-reported";
}

/** One run's outcome. */
export interface RunRecord {
  workload: string;
  contender: string;
  repeat: number;
  ok: boolean;
  error?: string;
  seconds?: number;
  timesteps_per_s?: number;
  file_bytes?: number;
  peak_rss_mb?: number;
  capped?: boolean;
  steps_run?: number;
  episodes_run?: number;
  /** Wall time of the whole child (start-up and data generation included). */
  wall_seconds: number;
}

export interface RunSpec {
  workload: string;
  contender: string;
  repeat: number;
  peer: string;
  maxSteps?: number;
  maxEpisodes?: number;
  tmp: string;
  rss: RssSource;
}

/** The peer reads ../bench/workloads.json next to itself; for a workload it lacks (`long`) run a staged copy that has it. */
function peerFor(peer: string, workload: string, tmp: string): string {
  const own = join(dirname(peer), "..", "bench", "workloads.json");
  if (existsSync(own) && Object.hasOwn((JSON.parse(readFileSync(own, "utf8")) as { workloads: object }).workloads, workload)) return peer;
  const staged = join(tmp, "peer", "peers", basename(peer));
  if (!existsSync(staged)) {
    mkdirSync(join(tmp, "peer", "bench"), { recursive: true });
    mkdirSync(dirname(staged), { recursive: true });
    copyFileSync(peer, staged);
    writeFileSync(join(tmp, "peer", "bench", "workloads.json"), JSON.stringify({ workloads: WORKLOADS }));
  }
  return staged;
}

function command(s: RunSpec, out: string): string[] {
  if (s.contender === H5PY) return [PYTHON, peerFor(s.peer, s.workload, s.tmp), s.workload, out];
  const cap = [...(s.maxSteps === undefined ? [] : ["--max-steps", String(s.maxSteps)]), ...(s.maxEpisodes === undefined ? [] : ["--max-episodes", String(s.maxEpisodes)])];
  return [process.execPath, CONTENDER_JS, "--contender", s.contender, "--workload", s.workload, "--out", out, ...cap];
}

/** Runs `argv` and collects its output (the benchmark's children). */
export function exec(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

/** Runs one child; its output file is measured and deleted. Never throws for a failed child. */
export async function runOnce(s: RunSpec): Promise<RunRecord> {
  const id = `${s.workload}-${s.contender}-${s.repeat}`;
  const out = join(s.tmp, `${id}.h5`);
  const rssFile = join(s.tmp, `${id}.rss`);
  const argv = command(s, out);
  const wrapped = s.rss === "gnu-time" ? [GNU_TIME, "-f", "%M", "-o", rssFile, ...argv] : argv;
  const base = { workload: s.workload, contender: s.contender, repeat: s.repeat };
  const t0 = performance.now();
  try {
    const r = await exec(wrapped);
    const wall_seconds = Math.round(performance.now() - t0) / 1000;
    const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
    if (r.code !== 0 || !line) {
      const why = r.stderr.trim().split("\n").slice(-5).join(" | ") || `no JSON line on stdout`;
      return { ...base, ok: false, error: `exit code ${r.code}: ${why}`, wall_seconds };
    }
    const j = JSON.parse(line) as Record<string, unknown>;
    const rssKb = s.rss === "gnu-time" ? Number(readFileSync(rssFile, "utf8").trim().split("\n").pop()) : Number(j.peak_rss_mb) * 1024;
    return {
      ...base, ok: true, seconds: Number(j.seconds), timesteps_per_s: Number(j.timesteps_per_s), file_bytes: statSync(out).size,
      peak_rss_mb: Math.round((rssKb / 1024) * 10) / 10, capped: j.capped === true, steps_run: typeof j.steps_run === "number" ? j.steps_run : undefined,
      episodes_run: typeof j.episodes_run === "number" ? j.episodes_run : undefined,
      wall_seconds,
    };
  } catch (err) {
    return { ...base, ok: false, error: (err as Error).message, wall_seconds: Math.round(performance.now() - t0) / 1000 };
  } finally {
    rmSync(out, { force: true });
    rmSync(rssFile, { force: true });
  }
}

/**
 * What the flush policy costs on a workload: runs the workload the way bench/contender.ts does
 * (same data, options and timing: create … close) with `flushIntervalMs: N` in a fresh process
 * per run, the intervals alternating within every round (rotated, so no interval always runs
 * first), and reports per interval the median and minimum wall time, CPU time (user + sys of the
 * child), timesteps/s, the number of flushes that happened and the time spent inside them.
 * Counted: every flush of the exporter, the policy's periodic ones (`flushNow`) and its episode-end
 * ones (`flushSoon`, format 2.0: at most one per interval; every episode end when it is 0).
 *
 *   node dist/bench/flush-cost.js [--workload quickstart] [--intervals 0,100,1000,5000] [--repeat 5] [--out FILE.json]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const SELF = fileURLToPath(new URL("./flush-cost.js", import.meta.url));
const TIME = "/usr/bin/time";

interface Run { interval: number; seconds: number; cpu: number | null; tps: number; bytes: number; flushes: number; flushMs: number; maxFlushMs: number }

interface ChildResult { seconds: number; steps: number; bytes: number; flushes: number; flushMs: number; maxFlushMs: number }

/** One run in this process: the contender's loop, with the exporter's flush() counted and timed. */
async function child(name: string, interval: number, dir: string): Promise<ChildResult> {
  const { workload } = await import("./workloads.js");
  const { generate } = await import("./data.js");
  const { logWorkload } = await import("./loop.js");
  const { DataExporter } = await import("#lib/index.js");
  const w = workload(name);
  const d = generate(w, w.steps);
  const options = { outputBaseDir: dir, neuralSamplingRate: w.sampling, compression: "gzip", compressionLevel: 4, chunkSize: 10_000, flushIntervalMs: interval } as const;
  let flushes = 0, flushMs = 0, maxFlushMs = 0;
  const t0 = performance.now();
  const ex = await DataExporter.create(`flushcost_${name}`, options);
  // the policy's flushes go through the private flushNow() (periodic) and flushSoon() (episode ends)
  const o = ex as unknown as Record<string, unknown>;
  const hooks = ["flushNow", "flushSoon"].filter((h) => typeof o[h] === "function");
  for (const hook of hooks.length ? hooks : ["flush"]) {
    const orig = (o[hook] as () => void).bind(ex);
    o[hook] = () => {
      const f0 = performance.now();
      orig();
      const ms = performance.now() - f0;
      flushes++;
      flushMs += ms;
      maxFlushMs = Math.max(maxFlushMs, ms);
    };
  }
  await logWorkload(ex, w, d, w.steps);
  const seconds = (performance.now() - t0) / 1000;
  const { statSync } = await import("node:fs");
  return { seconds, steps: w.episodes * w.steps, bytes: statSync(ex.filePath).size, flushes, flushMs, maxFlushMs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function once(workload: string, interval: number, dir: string): Run {
  const sub = join(dir, `i${interval}`);
  const args = [SELF, "--child", JSON.stringify({ workload, interval, dir: sub })];
  const timed = existsSync(TIME);
  const r = timed
    ? spawnSync(TIME, ["-f", "CPU %U %S", process.execPath, ...args], { encoding: "utf8" })
    : spawnSync(process.execPath, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`run failed (${r.status}): ${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split("\n").pop()!) as ChildResult;
  const m = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? "");
  rmSync(sub, { recursive: true, force: true });
  return {
    interval, seconds: res.seconds, cpu: m ? Number(m[1]) + Number(m[2]) : null, tps: res.steps / res.seconds, bytes: res.bytes,
    flushes: res.flushes, flushMs: res.flushMs, maxFlushMs: res.maxFlushMs,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workload: { type: "string", default: "quickstart" }, intervals: { type: "string", default: "0,100,1000,5000" },
      repeat: { type: "string", default: "5" }, out: { type: "string" }, child: { type: "string" },
    },
    strict: true,
  });
  if (values.child) {
    const c = JSON.parse(values.child) as { workload: string; interval: number; dir: string };
    process.stdout.write(JSON.stringify(await child(c.workload, c.interval, c.dir)) + "\n");
    return;
  }
  const intervals = values.intervals.split(",").map(Number);
  const repeat = Number(values.repeat);
  const dir = mkdtempSync(join(tmpdir(), "snn-flushcost-"));
  const runs: Run[] = [];
  try {
    for (let k = 0; k < repeat; k++) {
      const order = intervals.map((_, i) => intervals[(i + k) % intervals.length]);
      for (const iv of order) {
        const r = once(values.workload, iv, dir);
        runs.push(r);
        process.stderr.write(`round ${k + 1}: ${iv} ms → ${r.seconds.toFixed(3)} s, cpu ${r.cpu?.toFixed(2) ?? "?"} s, ${r.flushes} flushes (${r.flushMs.toFixed(1)} ms)\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const base = median(runs.filter((r) => r.interval === 0).map((r) => r.seconds));
  const lines = [
    `flush cost on ${values.workload}: ${repeat} runs per interval, alternating; medians (min)`,
    "",
    "| flushIntervalMs | wall s | CPU s | timesteps/s | vs off (wall) | policy flushes | ms in flush() (total) | ms per flush (max) | file MiB |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const table = intervals.map((iv) => {
    const rs = runs.filter((r) => r.interval === iv);
    const wall = median(rs.map((r) => r.seconds));
    const cpu = rs.every((r) => r.cpu !== null) ? median(rs.map((r) => r.cpu!)) : null;
    const row = {
      interval: iv, wall, wallMin: Math.min(...rs.map((r) => r.seconds)), cpu, cpuMin: cpu === null ? null : Math.min(...rs.map((r) => r.cpu!)),
      tps: median(rs.map((r) => r.tps)), bytes: median(rs.map((r) => r.bytes)), flushes: median(rs.map((r) => r.flushes)),
      flushMs: median(rs.map((r) => r.flushMs)), maxFlushMs: Math.max(...rs.map((r) => r.maxFlushMs)),
    };
    const per = row.flushes > 0 ? (row.flushMs / row.flushes).toFixed(2) : "–";
    lines.push(`| ${iv === 0 ? "0 (off)" : iv} | ${row.wall.toFixed(3)} (${row.wallMin.toFixed(3)}) | ${cpu === null ? "?" : `${cpu.toFixed(2)} (${row.cpuMin!.toFixed(2)})`} | ${Math.round(row.tps).toLocaleString("en-US")} | ${(((row.wall - base) / base) * 100).toFixed(1)} % | ${row.flushes} | ${row.flushMs.toFixed(1)} | ${per} (${row.maxFlushMs.toFixed(1)}) | ${(row.bytes / 2 ** 20).toFixed(2)} |`);
    return row;
  });
  process.stdout.write(lines.join("\n") + "\n");
  if (values.out) writeFileSync(values.out, JSON.stringify({ date: new Date().toISOString(), workload: values.workload, repeat, table, runs }, null, 1));
}

main().catch((err: unknown) => {
  process.stderr.write(`flush-cost: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});

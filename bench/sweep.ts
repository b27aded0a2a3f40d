/**
 * Benchmark of sweeps: writes N runs of E episodes with parallel writer processes
 * (sweep-writer.ts; kept in --dir and reused when it already holds them), then times
 *   - collect of all runs into a new sweep file, and again with every run closed and unchanged;
 *   - h5py: opening sweep.h5 and reading one run's rewards through the virtual dataset (in one
 *     Python process: the time from h5py.File() to the values, Python start-up and import apart);
 *   - compare: the learning curves of all runs × episodes by a config key to SVG;
 *   - a parallel sweep: the same demo-simulation runs by 1 and by 2 worker processes at a time
 *     (throughput ratio, and the CPU time the tasks took, which shows the load of other work).
 *
 *   node dist/bench/sweep.js [--runs 1000] [--episodes 1000] [--dir /tmp/snn-sweep-bench] [--repeat 3] [--skip-parallel]
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { collect } from "../src/sweep/collect.js";
import { main as cli } from "../src/cli/main.js";

const { values: v } = parseArgs({
  options: {
    runs: { type: "string", default: "1000" },
    episodes: { type: "string", default: "1000" },
    dir: { type: "string", default: "/tmp/snn-sweep-bench" },
    repeat: { type: "string", default: "3" },
    "skip-parallel": { type: "boolean" },
    "parallel-runs": { type: "string", default: "6" },
  },
});
const N = Number(v.runs);
const E = Number(v.episodes);
const repeat = Number(v.repeat);
const WRITER = fileURLToPath(new URL("./sweep-writer.js", import.meta.url));

function writeRuns(dir: string, first: number, count: number, procs: number, base: number, steps: number): Promise<number> {
  const t0 = performance.now();
  const per = Math.ceil(count / procs);
  return Promise.all(
    Array.from({ length: procs }, (_, p) => {
      const n = Math.max(0, Math.min(per, count - p * per));
      if (n === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const c = spawn(process.execPath, [WRITER, JSON.stringify({ dir, first: first + p * per, count: n, base, steps })], { stdio: "inherit" });
        c.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
      });
    }),
  ).then(() => performance.now() - t0);
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const fmt = (a: number[]) => `median ${median(a).toFixed(0)} ms (${a.map((x) => x.toFixed(0)).join(", ")})`;

const runsDir = join(v.dir!, `runs_${N}x${E}`);
const have = existsSync(runsDir) ? readdirSync(runsDir).filter((d) => d.startsWith("run")).length : 0;
if (have !== N) {
  rmSync(runsDir, { recursive: true, force: true });
  mkdirSync(runsDir, { recursive: true });
  // E episodes per run: base E - 6 .. E (runEpisodes: base + k % 7), one step each
  const ms = await writeRuns(runsDir, 0, N, 2, Math.max(1, E - 6), 1);
  console.log(`wrote ${N} runs of ~${E} episodes in ${(ms / 1000).toFixed(1)} s (2 processes)`);
}
const sweep = join(runsDir, "sweep.h5");

const fresh: number[] = [];
const again: number[] = [];
for (let i = 0; i < repeat; i++) {
  rmSync(sweep, { force: true });
  let t0 = performance.now();
  const r = await collect([runsDir], { out: sweep });
  fresh.push(performance.now() - t0);
  if (r.runs.length !== N) throw new Error(`collected ${r.runs.length} runs, not ${N}`);
  t0 = performance.now();
  await collect([runsDir], { out: sweep });
  again.push(performance.now() - t0);
}
console.log(`collect ${N} runs (new sweep file): ${fmt(fresh)}  [target <= 5000 ms]`);
console.log(`collect again (all closed, unchanged): ${fmt(again)}`);

// each way in a fresh Python process (nothing cached by HDF5); times from h5py.File() to the values
const py = `
import time, sys
t0 = time.perf_counter()
import h5py, numpy
t1 = time.perf_counter()
i, how = int(sys.argv[2]), sys.argv[3]
f = h5py.File(sys.argv[1], "r")
if how == "vds":
    row = f["runs/episode_reward"][i]
elif how == "vds-lowlevel":
    d = h5py.h5d.open(f.id, b"runs/episode_reward")
    n = d.shape[1]
    row = numpy.empty((1, n))
    fs = d.get_space(); fs.select_hyperslab((i, 0), (1, n))
    d.read(h5py.h5s.create_simple((1, n)), fs, row)
    row = row[0]
else:
    row = f["files"][f["runs/name"].asstr()[i]]["episodes/total_reward"][:]
t2 = time.perf_counter()
own = h5py.File(sys.argv[1], "r")["files"][f["runs/name"].asstr()[i]]["episodes/total_reward"][:]
assert (row[:len(own)] == own).all()
print("%.2f %.2f %d" % ((t1 - t0) * 1000, (t2 - t1) * 1000, len(own)))
`;
const importTimes: number[] = [];
for (const how of ["vds", "vds-lowlevel", "link"]) {
  const pyTimes: number[] = [];
  for (let i = 0; i < Math.max(5, repeat); i++) {
    const r = spawnSync("/usr/bin/python3", ["-c", py, sweep, String((i * 397) % N), how], { encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) throw new Error(`h5py: ${r.stderr}`);
    const [imp, read] = r.stdout.trim().split(" ").map(Number);
    importTimes.push(imp);
    pyTimes.push(read);
  }
  const what = { vds: `f["runs/episode_reward"][i]`, "vds-lowlevel": "h5d.open + read of row i (no DCPL copy)", link: `f["files"][name]["episodes/total_reward"][:]` }[how];
  console.log(`h5py: open sweep.h5 + one run's rewards, ${what}: ${fmt(pyTimes)}  [target <= 50 ms]`);
}
console.log(`(python3 start + import h5py, not counted: ${fmt(importTimes)})`);

const cmp: number[] = [];
const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {} } as never;
for (let i = 0; i < repeat; i++) {
  const t0 = performance.now();
  const code = await cli(["compare", sweep, "--by", "learning_rate", "--out", join(runsDir, "curves.svg")], io);
  cmp.push(performance.now() - t0);
  if (code !== 0) throw new Error(`compare exited ${code}`);
}
console.log(`compare ${N} runs x ~${E} episodes -> SVG: ${fmt(cmp)}  [target <= 3000 ms]; chart ${join(runsDir, "curves.svg")}`);

if (!v["skip-parallel"]) {
  // the demo simulation (CPU-bound, examples/sweep), one run per task, the same tasks by 1 and by 2
  // worker processes at a time; wall time and the CPU time of all tasks (/usr/bin/time)
  const EXAMPLE = fileURLToPath(new URL("../examples/sweep/sweep.js", import.meta.url));
  const P = Number(v["parallel-runs"]);
  const task = (d: string, i: number) =>
    new Promise<number>((resolve, reject) => {
      const c = spawn("/usr/bin/time", ["-f", "cpu %U %S", process.execPath, EXAMPLE, "--task", String(i), "--out", d, "--lr", "0.001,0.005,0.02", "--seeds", String(Math.ceil(P / 3)), "--episodes", "3", "--steps", "1000", "--neurons", "100"], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      c.stderr.on("data", (b: Buffer) => (err += b.toString()));
      c.on("exit", (code) => {
        const m = /cpu ([\d.]+) ([\d.]+)/.exec(err);
        return code === 0 && m ? resolve(Number(m[1]) + Number(m[2])) : reject(new Error(`task ${i} exited ${code}: ${err}`));
      });
    });
  const res: Record<number, { wall: number[]; cpu: number[] }> = { 1: { wall: [], cpu: [] }, 2: { wall: [], cpu: [] } };
  for (let r = 0; r < repeat; r++) {
    for (const procs of [1, 2]) {
      const d = join(v.dir!, `parallel_${procs}`);
      rmSync(d, { recursive: true, force: true });
      mkdirSync(d, { recursive: true });
      let next = 0;
      let cpu = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: procs }, async () => {
        while (next < P) {
          const used = await task(d, next++);
          cpu += used;
        }
      }));
      res[procs].wall.push(performance.now() - t0);
      res[procs].cpu.push(cpu * 1000);
      rmSync(d, { recursive: true, force: true });
    }
  }
  const r1 = median(res[1].wall);
  const r2 = median(res[2].wall);
  console.log(`parallel sweep of ${P} demo runs (3 x 1000 steps, 100 neurons): 1 process at a time ${fmt(res[1].wall)} (CPU ${fmt(res[1].cpu)}), 2 at a time ${fmt(res[2].wall)} (CPU ${fmt(res[2].cpu)}): throughput ${(r1 / r2).toFixed(2)}x  [target >= 1.7x]; load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
}

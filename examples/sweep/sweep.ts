/**
 * A parameter sweep on one machine: N runs of the demo simulation (learning rates × seeds) in
 * parallel worker processes, one HDF5 file each, then `collect` into one sweep file and `compare`
 * the learning curves by learning rate.
 *
 *   npm run build
 *   node dist/examples/sweep/sweep.js --out experiments/sweep --workers 2
 *   node dist/examples/sweep/sweep.js --task 5 --out /shared/sweep   # one run (a job-array task)
 *
 * Options: --lr 0.001,0.005,0.02 (learning rates), --seeds 4 (per rate), --workers (default: CPUs),
 * --episodes 8, --steps 1000, --neurons 100, --out experiments/sweep, --task i (run task i alone).
 */
import { fork } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { runDemo } from "#cli/demo/run.js";
import { collect } from "#lib/sweep/collect.js";
import { main as cli } from "#cli/cli/main.js";

const { values: v } = parseArgs({
  options: {
    lr: { type: "string", default: "0.001,0.005,0.02" },
    seeds: { type: "string", default: "4" },
    workers: { type: "string", default: String(availableParallelism()) },
    episodes: { type: "string", default: "8" },
    steps: { type: "string", default: "1000" },
    neurons: { type: "string", default: "100" },
    out: { type: "string", default: "experiments/sweep" },
    task: { type: "string" },
    "no-compare": { type: "boolean" },
  },
});

const rates = v.lr!.split(",").map(Number);
const seeds = Number(v.seeds);
/** Task i of the sweep: its learning rate and seed (the same numbering in every process and job-array task). */
const tasks = rates.flatMap((lr) => Array.from({ length: seeds }, (_, s) => ({ lr, seed: s + 1 })));

async function runTask(i: number): Promise<number> {
  const { lr, seed } = tasks[i];
  const r = await runDemo({
    name: `lr${lr}_seed${seed}`, outputBaseDir: v.out, learningRate: lr, seed,
    episodes: Number(v.episodes), steps: Number(v.steps), neurons: Number(v.neurons), extraConfig: { sweep_task: i },
  });
  return r.steps;
}

if (v.task !== undefined) {
  // a worker (or one task of a cluster job array): one run, one file
  const steps = await runTask(Number(v.task));
  process.send?.({ steps });
  if (!process.send) console.log(`task ${v.task}: ${steps} steps written to ${v.out}`);
} else {
  const workers = Math.max(1, Number(v.workers));
  const self = fileURLToPath(import.meta.url);
  const t0 = performance.now();
  let next = 0;
  let steps = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      // (not `steps += await …`: that reads `steps` before waiting, and the other workers' additions are lost)
      const got = await new Promise<number>((resolve, reject) => {
        let done = 0;
        const child = fork(self, ["--task", String(i), "--out", v.out!, "--lr", v.lr!, "--seeds", v.seeds!, "--episodes", v.episodes!, "--steps", v.steps!, "--neurons", v.neurons!]);
        child.on("message", (m: { steps: number }) => (done = m.steps));
        child.on("exit", (code) => (code === 0 ? resolve(done) : reject(new Error(`task ${i} exited with ${code}`))));
      });
      steps += got;
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, tasks.length) }, worker));
  const s = (performance.now() - t0) / 1000;
  console.log(`${tasks.length} runs in ${workers} worker processes: ${s.toFixed(1)} s, ${Math.round(steps / s).toLocaleString("en-US")} steps/s`);
  const sweepFile = join(v.out!, "sweep.h5");
  const t1 = performance.now();
  const c = await collect([v.out!], { out: sweepFile });
  console.log(`collect: ${c.runs.length} runs (${c.added.length} new) into ${sweepFile} in ${((performance.now() - t1) / 1000).toFixed(2)} s; config columns ${c.configKeys.join(", ")}`);
  if (!v["no-compare"]) {
    const out = join(v.out!, "curves.svg");
    await cli(["compare", sweepFile, "--by", "learning_rate", "--out", out], { stdout: process.stdout, stderr: process.stderr, env: process.env });
  }
}

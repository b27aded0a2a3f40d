/**
 * Caller-side cost of `log()` with and without asyncWrite on a workload (default quickstart):
 * median and p99 per call, and end-to-end timesteps/s, alternating the two modes.
 *
 *   node dist/bench/async-latency.js [--workload quickstart] [--repeat 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DataExporter } from "#lib/index.js";
import { generate, stepIndex } from "./data.js";
import { workload } from "./workloads.js";

const { values } = parseArgs({ options: { workload: { type: "string", default: "quickstart" }, repeat: { type: "string", default: "3" } } });
const w = workload(values.workload!);
const d = generate(w, w.steps);

async function run(asyncWrite: boolean): Promise<{ median: number; p99: number; stepsPerS: number }> {
  const base = mkdtempSync(join(tmpdir(), "snn-async-"));
  const lat = new Float64Array(w.episodes * w.steps);
  let k = 0;
  const t0 = performance.now();
  const ex = await DataExporter.create("lat", { outputBaseDir: base, neuralSamplingRate: w.sampling, compressionLevel: 4, chunkSize: 10_000, asyncWrite });
  for (let e = 0; e < w.episodes; e++) {
    ex.startEpisode();
    for (let t = 0; t < w.steps; t++) {
      const i = stepIndex(d, w.steps, e, t);
      const step = { timestep: t, neuralState: { v: d.v[i] }, spikes: d.spikes[i], behavior: { x: d.x[i], y: d.y[i] }, reward: d.reward[i] };
      const a = process.hrtime.bigint();
      ex.log(step);
      lat[k++] = Number(process.hrtime.bigint() - a);
    }
    ex.endEpisode();
  }
  await ex.close();
  const seconds = (performance.now() - t0) / 1000;
  rmSync(base, { recursive: true, force: true });
  const sorted = lat.subarray(0, k).sort();
  return { median: sorted[Math.floor(k / 2)] / 1000, p99: sorted[Math.floor(k * 0.99)] / 1000, stepsPerS: Math.round(k / seconds) };
}

const rows: string[] = [];
for (let r = 0; r < Number(values.repeat); r++) {
  for (const mode of [true, false]) {
    const res = await run(mode);
    rows.push(`| ${mode ? "asyncWrite" : "sync"} | ${r + 1} | ${res.median.toFixed(2)} | ${res.p99.toFixed(2)} | ${res.stepsPerS.toLocaleString("en-US")} |`);
    process.stderr.write(rows[rows.length - 1] + "\n");
  }
}
console.log(`${values.workload}: caller-side time per log() call (µs) and end-to-end timesteps/s\n\n| mode | run | median µs | p99 µs | timesteps/s |\n|---|---:|---:|---:|---:|\n${rows.join("\n")}`);

/**
 * Times captureProvenance (sync, git commands one after another) against captureProvenanceAsync
 * (git commands concurrently) in the current directory, as DataExporter.create calls them, and
 * prints the medians. Usage: `node dist/bench/provenance-timing.js [runs=10] [--cwd dir]`.
 */
import { performance } from "node:perf_hooks";
import { captureGit, captureGitAsync, captureProvenance, captureProvenanceAsync } from "../src/provenance/index.js";

const VERSIONS = { snnExport: "0.1.0", h5wasm: "0.10.3", hdf5: "2.0.0" };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf("--cwd");
  const cwd = at >= 0 ? args.splice(at, 2)[1] : process.cwd();
  const runs = Number(args[0] ?? 10);
  const context = { cwd, exclude: ["experiments"] };
  process.on("warning", () => {}); // snapshot warnings (entry script outside the root) are not timed output
  const cases: Array<[string, () => unknown]> = [
    ["captureProvenance (sync)", () => captureProvenance(VERSIONS, {}, context)],
    ["captureProvenanceAsync", () => captureProvenanceAsync(VERSIONS, {}, context)],
    ["captureGit (sync)", () => captureGit(cwd, { exclude: ["experiments"] })],
    ["captureGitAsync", () => captureGitAsync(cwd, { exclude: ["experiments"] })],
    ["captureProvenance git off (sync)", () => captureProvenance(VERSIONS, { git: false }, context)],
    ["captureProvenanceAsync git off", () => captureProvenanceAsync(VERSIONS, { git: false }, context)],
  ];
  for (const [, fn] of cases) await fn(); // warm-up: module loading, page cache
  const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, fn] of cases) {
      const t0 = performance.now();
      await fn();
      times.get(name)!.push(performance.now() - t0);
    }
  }
  for (const [name, ts] of times) {
    console.log(`${name.padEnd(34)} median ${median(ts).toFixed(1).padStart(6)} ms   min ${Math.min(...ts).toFixed(1).padStart(6)}   max ${Math.max(...ts).toFixed(1).padStart(6)}`);
  }
}

await main();

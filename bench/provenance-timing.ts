/**
 * Times `DataExporter.create()` (with its default provenance: runtime, git, code snapshot) of two
 * builds, in paired runs: each run is a fresh Node process in the repository `--cwd` that creates
 * and closes one experiment and reports how long `create()` took, and `create()` + `close()`
 * (which waits for git), the two builds alternating (A B, B A, A B, ...). Prints each build's
 * median and the median of the per-pair ratios B/A.
 *
 * Usage: `node dist/bench/provenance-timing.js --cwd REPO [--pairs 9] [--a DIST] [--b DIST]
 * [--provenance JSON]`, where a DIST is a build's `dist/` directory (A defaults to this one's; B
 * to A) and JSON the exporter's `provenance` option (default `{}`: all parts on).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Milliseconds `create()` took, and `create()` + `close()` (which waits for git), in a fresh process of build `dist`, in directory `cwd`. */
function timeCreate(dist: string, cwd: string, out: string, provenance: string): [number, number] {
  const mod = pathToFileURL(join(dist, "src", "index.js")).href;
  const script = `
    import { performance } from "node:perf_hooks";
    import { DataExporter } from ${JSON.stringify(mod)};
    process.on("warning", () => {});
    const t0 = performance.now();
    const ex = await DataExporter.create("timing", { outputBaseDir: ${JSON.stringify(out)}, provenance: ${provenance} });
    const ms = performance.now() - t0;
    await ex.close();
    console.log(ms, performance.now() - t0);`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${dist}: ${r.stderr}`);
  const [create, all] = r.stdout.trim().split(" ").map(Number);
  return [create, all];
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string, fallback: string): string => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : fallback;
  };
  const here = resolve(fileURLToPath(new URL("..", import.meta.url)));
  const a = resolve(opt("--a", here));
  const b = resolve(opt("--b", a));
  const cwd = resolve(opt("--cwd", process.cwd()));
  const pairs = Number(opt("--pairs", "9"));
  const provenance = JSON.stringify(JSON.parse(opt("--provenance", "{}"))); // DataExporter's provenance option
  const out = mkdtempSync(join(cwd, "snn-create-timing-")); // inside the repository, as experiments usually are (excluded from git)
  try {
    timeCreate(a, cwd, out, provenance); // warm-up: page cache
    timeCreate(b, cwd, out, provenance);
    const ta: Array<[number, number]> = [];
    const tb: Array<[number, number]> = [];
    for (let i = 0; i < pairs; i++) {
      if (i % 2 === 0) ta.push(timeCreate(a, cwd, out, provenance)), tb.push(timeCreate(b, cwd, out, provenance));
      else tb.push(timeCreate(b, cwd, out, provenance)), ta.push(timeCreate(a, cwd, out, provenance));
    }
    const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(" ");
    for (const [k, what] of [[0, "create()"], [1, "create() + close()"]] as const) {
      const xa = ta.map((x) => x[k]);
      const xb = tb.map((x) => x[k]);
      const ratios = xa.map((x, i) => xb[i] / x);
      console.log(`${what}, ms\n  A ${a}: ${fmt(xa)}; median ${median(xa).toFixed(1)}\n  B ${b}: ${fmt(xb)}; median ${median(xb).toFixed(1)}`);
      console.log(`  paired ratio B/A: median ${(median(ratios) * 100).toFixed(1)} % (${pairs} pairs; ${fmt(ratios.map((r) => r * 100))})`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

main();

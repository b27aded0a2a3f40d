/**
 * The viewer's timing targets (issue 15), measured, not asserted:
 *
 * - first paint of the overview: from navigation start to the page's `overview-painted` mark (the
 *   overview drawn, in the animation frame after its JSON arrived), in headless chromium, a fresh
 *   browser context per load, for the demo experiment and for a file of 100,000 episodes; also
 *   when the learning curve of all episodes was drawn;
 * - raster zoom on an episode of 10,000,000 spikes (1,000,000 steps x 10 spikes of 1,000
 *   neurons, random ids): the server's own time for a raster window (its Server-Timing header) and
 *   the bytes sent, for windows from the whole episode down to 1/1000 of it, at 1200 x 400 pixels.
 *
 * Both files are written here with the exporter. The server runs as `snn-export view --no-open`
 * in a child process. Every figure is the median of --repeats runs (min and max beside it).
 *
 *   node dist/bench/viewer.js [--repeats 7] [--dir /tmp] [--episodes 100000] [--spike-steps 1000000] [--keep]
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DataExporter } from "#lib/index.js";
import { mulberry32 } from "./data.js";

const { values: o } = parseArgs({
  options: {
    repeats: { type: "string", default: "7" },
    dir: { type: "string", default: "/tmp" },
    episodes: { type: "string", default: "100000" },
    "spike-steps": { type: "string", default: "1000000" },
    keep: { type: "boolean", default: false },
  },
});
const REPEATS = Number(o.repeats);
// page.evaluate bodies run in the browser (no DOM types in this tsconfig)
declare const window: any;
const MAIN = fileURLToPath(new URL(import.meta.resolve("#cli/cli/main.js")));
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const stats = (xs: number[]) => `median ${median(xs).toFixed(1)} (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}, n=${xs.length})`;

/** 100,000 short episodes: 10 steps of a 50-neuron network, a reward at the end, success every third. */
async function manyEpisodes(dir: string, episodes: number): Promise<string> {
  const t0 = performance.now();
  const ex = await DataExporter.create("many", { outputBaseDir: dir, provenance: false, neuralSamplingRate: 5 });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: 50 }, (_, i) => i) } });
  const rand = mulberry32(11);
  const v = new Float32Array(50);
  let ts = 0;
  for (let e = 0; e < episodes; e++) {
    ex.startEpisode();
    for (let s = 0; s < 10; s++, ts++) {
      for (let i = 0; i < 50; i++) v[i] = rand();
      const spikes = rand() < 0.5 ? Uint32Array.of(Math.floor(rand() * 25), 25 + Math.floor(rand() * 25)) : new Uint32Array(0);
      ex.log({ timestep: ts, spikes, neuralState: { v }, behavior: { x: rand() }, reward: s === 9 ? Math.log1p(e) * rand() : 0 });
    }
    ex.endEpisode({ success: e % 3 === 0 });
  }
  await ex.close();
  console.log(`wrote ${episodes} episodes in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${(statSync(ex.filePath).size / 2 ** 20).toFixed(1)} MiB`);
  return ex.outputDir;
}

/** One episode of `steps` steps x 10 random spikes of 1,000 neurons, state every 100 steps, behaviour every step. */
async function spikeEpisode(dir: string, steps: number): Promise<string> {
  const t0 = performance.now();
  const ex = await DataExporter.create("spikes10m", { outputBaseDir: dir, provenance: false, neuralSamplingRate: 100 });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: 1000 }, (_, i) => i) } });
  ex.startEpisode();
  const rand = mulberry32(5);
  const v = new Float32Array(1000);
  const ids = new Uint32Array(10);
  for (let t = 0; t < steps; t++) {
    // 10 distinct ascending ids: one in each block of 100 neurons
    for (let k = 0; k < 10; k++) ids[k] = k * 100 + Math.floor(rand() * 100);
    if (t % 100 === 0) for (let i = 0; i < 1000; i++) v[i] = rand();
    ex.log({ timestep: t, spikes: ids, neuralState: { v }, behavior: { x: Math.sin(t / 5000) }, reward: t % 10_000 === 0 ? 1 : 0 });
  }
  ex.endEpisode();
  await ex.close();
  console.log(`wrote ${steps} steps, ${steps * 10} spikes in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${(statSync(ex.filePath).size / 2 ** 20).toFixed(1)} MiB`);
  return ex.outputDir;
}

/** `snn-export view <target> --no-open` in a child; its URL. */
function serve(target: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN, "view", target, "--no-open"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("\n")) resolve({ child, url: out.split("\n")[0] });
    });
    child.on("exit", (code) => reject(new Error(`view exited with ${code}`)));
  });
}

async function firstPaint(browser: import("playwright-core").Browser, label: string, url: string): Promise<void> {
  const paint: number[] = [];
  const curve: number[] = [];
  for (let i = 0; i < REPEATS + 1; i++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    await page.goto(url, { timeout: 60_000 });
    await page.waitForFunction(() => Number.isFinite((window as any).viewer?.curveDrawnAt), null, { timeout: 60_000 });
    const r = await page.evaluate(() => ({
      paint: performance.getEntriesByName("overview-painted")[0].startTime,
      curve: (window as any).viewer.curveDrawnAt as number,
    }));
    await context.close();
    if (i === 0) continue; // the first load also compiles the page's script in a cold browser
    paint.push(r.paint);
    curve.push(r.curve);
  }
  console.log(`${label}: overview painted ${stats(paint)} ms after navigation start; learning curve drawn ${stats(curve)} ms`);
}

async function rasterZoom(url: string, steps: number): Promise<void> {
  const base = new URL(url);
  const token = base.searchParams.get("token")!;
  console.log(`raster windows of the ${steps * 10}-spike episode at 1200 x 400 pixels (server time from Server-Timing; bytes sent):`);
  for (const divisor of [1, 4, 16, 100, 1000]) {
    const span = Math.floor(steps / divisor);
    const server: number[] = [];
    const total: number[] = [];
    let bytes = 0;
    let kind = "";
    let spikes = 0;
    for (let i = 0; i < REPEATS + 1; i++) {
      // a different window each time, so no answer is served from a warm chunk cache of the last
      const from = Math.floor(((i * 0.37) % 1) * (steps - span));
      const q = new URL(`/api/episode/0/raster?from=${from}&to=${from + span}&n0=0&n1=1000&w=1200&h=400&token=${token}`, base);
      const t0 = performance.now();
      const res = await fetch(q);
      const body = Buffer.from(await res.arrayBuffer());
      const t1 = performance.now();
      if (res.status !== 200) throw new Error(`${res.status}: ${body.toString()}`);
      const dur = Number(/dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "")?.[1]);
      const header = JSON.parse(body.subarray(4, 4 + body.readUInt32LE(0)).toString()) as { meta: { kind: string; spikes: number; source?: string } };
      if (i === 0) {
        // the first request of the episode: for wide windows it makes the spike overview
        if (divisor === 1) console.log(`  first request (whole episode, makes the spike overview): server ${dur.toFixed(1)} ms`);
        continue;
      }
      server.push(dur);
      total.push(t1 - t0);
      bytes = Math.max(bytes, body.length);
      kind = header.meta.source ? `${header.meta.kind} from the ${header.meta.source}` : header.meta.kind;
      spikes = header.meta.spikes;
    }
    console.log(`  1/${divisor} (${span} steps, ${spikes} spikes, ${kind}): server ${stats(server)} ms; round trip ${stats(total)} ms; at most ${bytes} bytes`);
  }
}

if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}`);
const dir = mkdtempSync(join(o.dir!, "snn-viewer-bench-"));
const children: ChildProcess[] = [];
try {
  const demoRun = spawnSync(process.execPath, [MAIN, "demo", "--out", dir, "--json"], { encoding: "utf8" });
  if (demoRun.status !== 0) throw new Error(demoRun.stderr);
  const demoDir = (JSON.parse(demoRun.stdout) as { outputDir: string }).outputDir;
  const manyDir = await manyEpisodes(dir, Number(o.episodes));
  const steps = Number(o["spike-steps"]);
  const spikeDir = await spikeEpisode(dir, steps);

  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ["--no-sandbox"] : [] });
  try {
    for (const [label, target] of [["demo (5 episodes)", demoDir], [`${o.episodes} episodes`, manyDir]] as const) {
      const s = await serve(target);
      children.push(s.child);
      await firstPaint(browser, label, s.url);
      s.child.kill("SIGTERM");
    }
  } finally {
    await browser.close();
  }
  const s = await serve(spikeDir);
  children.push(s.child);
  await rasterZoom(s.url, steps);
  s.child.kill("SIGTERM");
} finally {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  if (o.keep) console.log(`files kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

/**
 * Scaling run for format 2.0: snn-export alone writes 100,000 short episodes (50 steps each, the
 * many_episodes workload's per-step shape: 100 neurons, spike rate 0.02, neural state kept every
 * 10 steps, weight changes on 2 % of the steps x 5, rewards on 1 %, plus one small event per
 * episode) and reports whether the cost of an episode stays flat:
 *
 * - write: time per segment of 10,000 episodes, last segment / second segment (target <= 1.2),
 *   peak RSS from outside (GNU time `%M`, as bench/measure.ts) and the writer's own RSS per segment;
 * - size: file bytes, and the file overhead per episode = (file bytes - bytes of the same steps
 *   written as ONE episode) / episodes (target <= 512 bytes);
 * - read, each in a fresh process: `ExperimentLoader.open` after `await ready()`,
 *   `getEpisode(random).getSpikes()` over 100 random episodes, `loader.episodes()` (the whole
 *   episode table), h5py reading one episode by FORMAT.md's recipe (timed inside Python), and the
 *   wall time of `snn-export inspect <file>`.
 *
 * The step data is a pool of 10,000 precomputed steps (bench/data.ts) cycled over the run's global
 * step count, generated before the clock starts.
 *
 *   node dist/bench/scale-episodes.js [--episodes 100000] [--steps 50] [--segment 10000] [--samples 100]
 *        [--dir DIR] [--keep] [--no-baseline] [--no-read] [--json] [--out FILE.json]
 *   npm run bench -- --scale [the same options]
 *
 * Prints a table; writes the JSON to bench/results/scale-episodes_<date>.json (git-ignored).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { PYTHON } from "./options.js";
import { mulberry32 } from "./data.js";
import { REPO_ROOT, WORKLOADS, type Workload } from "./workloads.js";

const SELF = fileURLToPath(import.meta.url);
const CLI = join(REPO_ROOT, "dist", "src", "cli", "main.js");
const GNU_TIME = "/usr/bin/time";

export interface ScaleOptions {
  episodes: number;
  steps: number;
  /** Episodes per timed segment. */
  segment: number;
  /** Random episodes read by the loader and by h5py. */
  samples: number;
  dir: string;
  keep: boolean;
  baseline: boolean;
  read: boolean;
  /** Compress inline in the writers (SNN_EXPORT_COMPRESS_THREADS=0) instead of the exporter's default. */
  inline: boolean;
}

/** One segment of the writer: `episodes` more episodes, timed. */
export interface Segment {
  index: number;
  /** Episodes written when the segment ended. */
  episodes: number;
  seconds: number;
  /** process.memoryUsage() of the writer at the segment's end, MiB. */
  rss_mb: number;
  heap_used_mb: number;
  external_mb: number;
  /** Writer flushes during the segment (the exporter's HDF5 writer). */
  flushes: number;
  /** Hand-overs during the segment: the exporter's private writeStreams() (partial chunks and the episode table to the writer), null when it has none. */
  handovers: number | null;
}

export interface WriteResult {
  mode: "many" | "one";
  file: string;
  file_bytes: number;
  episodes: number;
  steps_per_episode: number;
  /** create .. close, seconds. */
  seconds: number;
  create_seconds: number;
  close_seconds: number;
  segments: Segment[];
  /** GNU time %M of the writer, MiB (null without GNU time). */
  peak_rss_mb_outside: number | null;
  peak_rss_mb_self: number;
  weight_changes: number;
  events: number;
  rewards: number;
}

export interface ReadResult {
  ok: boolean;
  error?: string;
  note?: string;
  open_ms?: number;
  ready_ms?: number;
  spikes_mean_ms?: number;
  spikes_max_ms?: number;
  spikes_first_ms?: number;
  spikes_checked?: number;
  episodes_table_ms?: number | null;
  episodes_table_rows?: number | null;
}

export interface H5pyReadResult {
  ok: boolean;
  error?: string;
  open_ms?: number;
  episode_mean_ms?: number;
  episode_max_ms?: number;
  episode_first_ms?: number;
  spikes_checked?: number;
}

// ------------------------------------------------------------------ the writer (child process)

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

const mib = (b: number) => round(b / 2 ** 20, 1);

/**
 * Writes the run in this process. `many`: `episodes` episodes of `steps` steps; `one`: the same
 * steps, weight changes, rewards and events as ONE episode (timesteps 0 .. N-1). Prints one JSON
 * line per segment, then the result.
 */
async function writeChild(mode: "many" | "one", episodes: number, steps: number, segment: number, dir: string): Promise<void> {
  const { DataExporter } = await import("#lib/index.js");
  const { collector } = await import("#lib/gc.js");
  const { generate, stepIndex } = await import("./data.js");
  const w: Workload = { ...WORKLOADS.many_episodes, episodes, steps };
  const d = generate(w, steps);
  collector()?.({ type: "major" });
  const say = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");
  const t0 = performance.now();
  const ex = await DataExporter.create(`scale_${mode}`, { outputBaseDir: dir, neuralSamplingRate: w.sampling, compression: "gzip", compressionLevel: 4, chunkSize: 10_000 });
  const created = performance.now();
  // count the writer's flushes and the exporter's hand-overs to it (informational; private members)
  let flushes = 0;
  let handovers: number | null = null;
  const inner = (ex as unknown as { writer?: { flush?: () => void } }).writer;
  if (inner && typeof inner.flush === "function") {
    const orig = inner.flush.bind(inner);
    inner.flush = () => {
      flushes++;
      orig();
    };
  }
  const exo = ex as unknown as { writeStreams?: () => void };
  if (typeof exo.writeStreams === "function") {
    const orig = exo.writeStreams.bind(ex);
    handovers = 0;
    exo.writeStreams = () => {
      handovers!++;
      orig();
    };
  }
  ex.saveNetworkStructure({ weights: { sourceIds: d.sourceIds, targetIds: d.targetIds, values: d.weights, shape: [d.neurons, d.neurons] } });
  const nConn = d.sourceIds.length;
  let wcs = 0, events = 0, rewards = 0;
  const segments: Segment[] = [];
  let segStart = performance.now();
  let segFlushes = 0;
  let segHandovers = 0;
  const endSegment = (done: number) => {
    const m = process.memoryUsage();
    const s: Segment = {
      index: segments.length, episodes: done, seconds: round((performance.now() - segStart) / 1000, 3),
      rss_mb: mib(m.rss), heap_used_mb: mib(m.heapUsed), external_mb: mib(m.external + m.arrayBuffers), flushes: flushes - segFlushes,
      handovers: handovers === null ? null : handovers - segHandovers,
    };
    segments.push(s);
    say({ ev: "segment", ...s });
    segStart = performance.now();
    segFlushes = flushes;
    segHandovers = handovers ?? 0;
  };
  if (mode === "one") ex.startEpisode();
  for (let e = 0; e < episodes; e++) {
    if (mode === "many") ex.startEpisode();
    for (let t = 0; t < steps; t++) {
      const i = stepIndex(d, steps, e, t);
      const ts = mode === "many" ? t : e * steps + t;
      ex.log({ timestep: ts, neuralState: { v: d.v[i] }, spikes: d.spikes[i], behavior: { x: d.x[i], y: d.y[i] }, reward: d.reward[i] });
      if (d.reward[i] !== 0) rewards++;
      if (d.weightChange[i]) {
        for (let k = 0; k < 5; k++) {
          const sid = (t * 7 + k) % nConn;
          ex.logWeightChange({ timestep: ts, synapseId: sid, oldWeight: d.weights[sid], newWeight: d.weights[sid] + 0.001 });
          wcs++;
        }
      }
    }
    ex.logEvent({ timestep: mode === "many" ? steps - 1 : e * steps + steps - 1, type: "episode_end", data: { episode: e } });
    events++;
    if (mode === "many") ex.endEpisode();
    if ((e + 1) % segment === 0 || e + 1 === episodes) endSegment(e + 1);
  }
  if (mode === "one") ex.endEpisode();
  const c0 = performance.now();
  await ex.close();
  const t1 = performance.now();
  const result: Omit<WriteResult, "peak_rss_mb_outside"> = {
    mode, file: ex.filePath, file_bytes: statSync(ex.filePath).size, episodes, steps_per_episode: steps,
    seconds: round((t1 - t0) / 1000, 3), create_seconds: round((created - t0) / 1000, 3), close_seconds: round((t1 - c0) / 1000, 3),
    segments, peak_rss_mb_self: round(process.resourceUsage().maxRSS / 1024, 1), weight_changes: wcs, events, rewards,
  };
  say({ ev: "result", ...result });
}

// ------------------------------------------------------------------ the readers (child processes)

/** Random distinct-ish episode ids, seeded. */
export function sampleEpisodes(n: number, count: number, seed = 7): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: Math.min(count, n) }, () => Math.floor(rand() * n));
}

async function readChild(file: string, samples: number): Promise<void> {
  const say = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");
  const { ExperimentLoader, ready } = await import("#lib/index.js");
  const r0 = performance.now();
  await ready();
  const r1 = performance.now();
  let loader;
  try {
    loader = await ExperimentLoader.open(file);
  } catch (err) {
    say({ ok: false, ready_ms: round(r1 - r0, 1), error: `ExperimentLoader.open: ${(err as Error).message.split("\n")[0]}` });
    return;
  }
  const r2 = performance.now();
  const out: ReadResult = { ok: true, ready_ms: round(r1 - r0, 1), open_ms: round(r2 - r1, 1) };
  try {
    const n = loader.listEpisodes().length;
    const ids = sampleEpisodes(n, samples);
    const times: number[] = [];
    let spikes = 0;
    for (const id of ids) {
      const a = performance.now();
      const sp = loader.getEpisode(id).getSpikes();
      times.push(performance.now() - a);
      spikes += sp.neuronIds.length;
    }
    out.spikes_first_ms = round(times[0], 2);
    out.spikes_mean_ms = round(times.reduce((x, y) => x + y, 0) / times.length, 3);
    out.spikes_max_ms = round(Math.max(...times), 2);
    out.spikes_checked = spikes;
    const table = (loader as unknown as { episodes?: () => unknown }).episodes;
    if (typeof table === "function") {
      const a = performance.now();
      const t = table.call(loader) as { ids?: ArrayLike<number>; length?: number };
      out.episodes_table_ms = round(performance.now() - a, 1);
      out.episodes_table_rows = t?.ids?.length ?? t?.length ?? null;
    } else {
      out.episodes_table_ms = null;
      out.episodes_table_rows = null;
      out.note = "loader.episodes() does not exist in this build (the 2.0 loader has not landed): skipped";
    }
  } catch (err) {
    out.ok = false;
    out.error = (err as Error).message.split("\n")[0];
  } finally {
    loader.close();
  }
  say(out);
}

/** FORMAT.md's recipe for one episode's spikes, timed inside Python (interpreter start and imports excluded). */
const H5PY_READ = String.raw`
import json, sys, time
import h5py, numpy as np
path, ids = sys.argv[1], json.loads(sys.argv[2])
t0 = time.perf_counter()
f = h5py.File(path, "r")
ep = f["episodes"]
t1 = time.perf_counter()
times, n = [], 0
for i in ids:
    a = time.perf_counter()
    s_a, s_b = ep["step_rows"][i]
    s0, s1 = ep["spike_rows"][i]
    neuron_ids = f["spikes/neuron_ids"][s0:s1]
    spike_times = np.repeat(f["timesteps"][s_a:s_b], f["spikes/counts"][s_a:s_b])
    times.append(time.perf_counter() - a)
    assert len(spike_times) == len(neuron_ids)
    n += len(neuron_ids)
f.close()
print(json.dumps({"ok": True, "open_ms": round((t1 - t0) * 1e3, 2), "episode_first_ms": round(times[0] * 1e3, 3),
                  "episode_mean_ms": round(sum(times) / len(times) * 1e3, 3), "episode_max_ms": round(max(times) * 1e3, 3),
                  "spikes_checked": n}))
`;

// ------------------------------------------------------------------ the parent

function lastJson(text: string): Record<string, unknown> | null {
  const line = text.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  return line ? (JSON.parse(line) as Record<string, unknown>) : null;
}

/** Runs a writer child under GNU time; progress lines go to stderr as they come. */
function runWriter(mode: "many" | "one", o: ScaleOptions, log: (s: string) => void): Promise<WriteResult> {
  const dir = join(o.dir, mode);
  mkdirSync(dir, { recursive: true });
  const rssFile = join(o.dir, `${mode}.rss`);
  const argv = [process.execPath, SELF, "--role", "write", "--mode", mode, "--episodes", String(o.episodes), "--steps", String(o.steps), "--segment", String(o.segment), "--dir", dir];
  const useTime = existsSync(GNU_TIME);
  const cmd = useTime ? [GNU_TIME, "-f", "%M", "-o", rssFile, ...argv] : argv;
  return new Promise((resolve, reject) => {
    const env = o.inline ? { ...process.env, SNN_EXPORT_COMPRESS_THREADS: "0" } : process.env;
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"], env });
    let out = "", err = "", buf = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      out += c;
      buf += c;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{"ev":"segment"')) continue;
        const s = JSON.parse(line) as Segment;
        log(`  ${mode}: segment ${s.index} (${s.episodes.toLocaleString("en-US")} episodes): ${s.seconds} s, RSS ${s.rss_mb} MiB, ${s.flushes} flushes, ${s.handovers ?? "?"} hand-overs`);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    child.on("error", reject);
    child.on("close", (code) => {
      const j = lastJson(out);
      if (code !== 0 || !j || j.ev !== "result") return reject(new Error(`writer (${mode}) exited with ${code}: ${err.trim().split("\n").slice(-5).join(" | ")}`));
      let outside: number | null = null;
      if (useTime && existsSync(rssFile)) outside = round(Number(readFileSync(rssFile, "utf8").trim().split("\n").pop()) / 1024, 1);
      rmSync(rssFile, { force: true });
      const { ev: _ev, ...rest } = j;
      resolve({ ...(rest as unknown as Omit<WriteResult, "peak_rss_mb_outside">), peak_rss_mb_outside: outside });
    });
  });
}

function readWithLoader(file: string, samples: number): ReadResult {
  const r = spawnSync(process.execPath, [SELF, "--role", "read", "--file", file, "--samples", String(samples)], { encoding: "utf8", maxBuffer: 16 << 20, timeout: 600_000 });
  const j = lastJson(r.stdout ?? "");
  if (!j) return { ok: false, error: `reader exited with ${r.status ?? r.signal}: ${(r.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}` };
  return j as unknown as ReadResult;
}

function readWithH5py(file: string, ids: number[]): H5pyReadResult {
  if (!existsSync(PYTHON)) return { ok: false, error: `${PYTHON} not found` };
  const r = spawnSync(PYTHON, ["-c", H5PY_READ, file, JSON.stringify(ids)], { encoding: "utf8", timeout: 600_000 });
  const j = lastJson(r.stdout ?? "");
  if (r.status !== 0 || !j) return { ok: false, error: `python exited with ${r.status ?? r.signal}: ${(r.stderr ?? "").trim().split("\n").slice(-2).join(" | ")}` };
  return j as unknown as H5pyReadResult;
}

function inspectWall(file: string): { ok: boolean; seconds: number; error?: string; output_lines?: number } {
  if (!existsSync(CLI)) return { ok: false, seconds: 0, error: `${CLI} is not built` };
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, "inspect", file], { encoding: "utf8", maxBuffer: 64 << 20, timeout: 600_000 });
  const seconds = round((performance.now() - t0) / 1000, 2);
  if (r.status !== 0) return { ok: false, seconds, error: `exit ${r.status ?? r.signal}: ${(r.stderr ?? "").trim().split("\n").slice(0, 2).join(" | ")}` };
  return { ok: true, seconds, output_lines: (r.stdout ?? "").split("\n").length };
}

export interface ScaleReport {
  date: string;
  options: Omit<ScaleOptions, "dir">;
  many: WriteResult;
  one: WriteResult | null;
  /** seconds of the last segment / seconds of the second (the first includes warm-up). */
  last_over_second: number | null;
  overhead_bytes_per_episode: number | null;
  read: { loader: ReadResult; h5py: H5pyReadResult; inspect: ReturnType<typeof inspectWall> } | null;
  notes: string[];
}

export async function runScale(o: ScaleOptions, log: (s: string) => void = () => {}): Promise<ScaleReport> {
  const notes: string[] = [];
  log(`writing ${o.episodes.toLocaleString("en-US")} episodes x ${o.steps} steps`);
  const many = await runWriter("many", o, log);
  let one: WriteResult | null = null;
  if (o.baseline) {
    log(`writing the same ${(o.episodes * o.steps).toLocaleString("en-US")} steps as one episode (size baseline)`);
    one = await runWriter("one", o, log);
    if (!o.keep) rmSync(dirname(one.file), { recursive: true, force: true });
  }
  const segs = many.segments;
  const last_over_second = segs.length >= 3 ? round(segs[segs.length - 1].seconds / segs[1].seconds, 2) : null;
  if (segs.length >= 3 && o.episodes % o.segment !== 0) notes.push("the last segment is shorter than the others: compare its time per episode");
  const overhead = one ? round((many.file_bytes - one.file_bytes) / o.episodes, 1) : null;
  let read: ScaleReport["read"] = null;
  if (o.read) {
    log("reading (fresh processes)");
    const loader = readWithLoader(many.file, o.samples);
    if (!loader.ok) notes.push(`loader: ${loader.error}`);
    if (loader.note) notes.push(loader.note);
    const h5py = readWithH5py(many.file, sampleEpisodes(o.episodes, o.samples));
    const inspect = inspectWall(many.file);
    read = { loader, h5py, inspect };
  }
  if (!o.keep) rmSync(dirname(many.file), { recursive: true, force: true });
  const { dir: _dir, ...opts } = o;
  return { date: new Date().toISOString(), options: opts, many, one, last_over_second, overhead_bytes_per_episode: overhead, read, notes };
}

const num = (x: number | null | undefined, d = 0) => (x === null || x === undefined ? "–" : x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));

function sum(segments: Segment[], key: "flushes" | "handovers"): string {
  if (segments.some((s) => s[key] === null)) return "–";
  return num(segments.reduce((a, s) => a + (s[key] ?? 0), 0));
}

/** The report as markdown. */
export function formatScale(r: ScaleReport): string {
  const m = r.many;
  const perEp = (s: Segment, prev: number) => (s.seconds * 1e6) / (s.episodes - prev);
  const lines = [
    `## Scaling: ${num(m.episodes)} episodes x ${m.steps_per_episode} steps (snn-export${r.options.inline ? ", inline compression" : ""})`, "",
    "| segment | episodes | seconds | µs / episode | RSS MiB (in process) | heap used MiB | writer flushes | hand-overs (writeStreams) |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...m.segments.map((s, i) => `| ${s.index} | ${num(s.episodes)} | ${num(s.seconds, 3)} | ${num(perEp(s, i ? m.segments[i - 1].episodes : 0), 0)} | ${num(s.rss_mb, 1)} | ${num(s.heap_used_mb, 1)} | ${s.flushes} | ${s.handovers ?? "–"} |`),
    "",
    "| figure | value | target |",
    "|---|---:|---|",
    `| write, create .. close | ${num(m.seconds, 2)} s (${num((m.episodes * m.steps_per_episode) / m.seconds)} timesteps/s; close ${num(m.close_seconds, 3)} s) | |`,
    `| last segment / second segment | ${num(r.last_over_second, 2)} | <= 1.2 |`,
    `| peak RSS, outside (GNU time %M) | ${m.peak_rss_mb_outside === null ? "– (no /usr/bin/time)" : `${num(m.peak_rss_mb_outside, 1)} MiB`} | |`,
    `| file bytes | ${num(m.file_bytes)} (${num(m.file_bytes / 2 ** 20, 1)} MiB) | |`,
    `| same steps as ONE episode | ${r.one ? `${num(r.one.file_bytes)} (written in ${num(r.one.seconds, 2)} s)` : "– (--no-baseline)"} | |`,
    `| file overhead per episode | ${r.overhead_bytes_per_episode === null ? "–" : `${num(r.overhead_bytes_per_episode, 1)} bytes`} | <= 512 bytes |`,
    `| writer flushes / hand-overs, whole run | ${sum(m.segments, "flushes")} / ${sum(m.segments, "handovers")}${r.one ? ` (one episode: ${sum(r.one.segments, "flushes")} / ${sum(r.one.segments, "handovers")})` : ""} | |`,
    `| logged | ${num(m.weight_changes)} weight changes, ${num(m.rewards)} rewards, ${num(m.events)} events | |`,
  ];
  if (r.read) {
    const { loader: l, h5py: h, inspect: i } = r.read;
    lines.push(
      `| loader: ExperimentLoader.open (after ready(): ${num(l.ready_ms, 0)} ms) | ${l.ok || l.open_ms !== undefined ? `${num(l.open_ms, 1)} ms` : `failed: ${l.error}`} | |`,
      `| loader: getEpisode(random).getSpikes(), mean of ${r.options.samples} (max) | ${l.spikes_mean_ms !== undefined ? `${num(l.spikes_mean_ms, 3)} ms (${num(l.spikes_max_ms, 2)} ms)` : "–"} | |`,
      `| loader: episodes() (whole table) | ${l.episodes_table_ms === undefined || l.episodes_table_ms === null ? `– ${l.note ? "(not in this build)" : ""}` : `${num(l.episodes_table_ms, 1)} ms (${num(l.episodes_table_rows)} rows)`} | |`,
      `| h5py: open | ${h.ok ? `${num(h.open_ms, 2)} ms` : `failed: ${h.error}`} | |`,
      `| h5py: one episode's spikes by the recipe, mean of ${r.options.samples} (max) | ${h.ok ? `${num(h.episode_mean_ms, 3)} ms (${num(h.episode_max_ms, 3)} ms)` : "–"} | |`,
      `| snn-export inspect <file>, wall | ${i.ok ? `${num(i.seconds, 2)} s` : `failed after ${num(i.seconds, 2)} s: ${i.error}`} | |`,
    );
  }
  if (r.notes.length) lines.push("", ...r.notes.map((n) => `- ${n}`));
  return lines.join("\n");
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

class UsageError extends Error {}

function positive(text: string | undefined, flag: string, dflt: number): number {
  if (text === undefined) return dflt;
  if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  return Number(text);
}

export const SCALE_USAGE = `usage: node dist/bench/scale-episodes.js [options]     (or: npm run bench -- --scale [options])
  --episodes N    episodes to write [100000]
  --steps N       steps per episode [50]
  --segment N     episodes per timed segment [10000]
  --samples N     random episodes read by the loader and by h5py [100]
  --dir DIR       where the files go [a new temporary directory]
  --keep          keep the files
  --no-baseline   skip the one-episode run (no overhead per episode)
  --no-read       skip the read timings
  --inline        the writers compress inline (SNN_EXPORT_COMPRESS_THREADS=0), not on threads
  --json          print the JSON instead of the table
  --out FILE      the JSON [bench/results/scale-episodes_<date>.json]`;

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        role: { type: "string" }, mode: { type: "string" }, file: { type: "string" },
        episodes: { type: "string" }, steps: { type: "string" }, segment: { type: "string" }, samples: { type: "string" },
        dir: { type: "string" }, keep: { type: "boolean" }, "no-baseline": { type: "boolean" }, "no-read": { type: "boolean" }, inline: { type: "boolean" },
        json: { type: "boolean" }, out: { type: "string" }, help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`scale-episodes: ${(err as Error).message}\n${SCALE_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(SCALE_USAGE + "\n");
    return 0;
  }
  let o: ScaleOptions;
  try {
    const episodes = positive(values.episodes, "--episodes", 100_000);
    o = {
      episodes, steps: positive(values.steps, "--steps", 50), segment: positive(values.segment, "--segment", Math.min(10_000, episodes)),
      samples: positive(values.samples, "--samples", 100), dir: values.dir ?? "", keep: values.keep ?? false,
      baseline: !values["no-baseline"], read: !values["no-read"], inline: values.inline ?? false,
    };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`scale-episodes: ${err.message}\n${SCALE_USAGE}\n`);
    return 2;
  }
  if (values.role === "write") {
    await writeChild(values.mode === "one" ? "one" : "many", o.episodes, o.steps, o.segment, o.dir);
    return 0;
  }
  if (values.role === "read") {
    await readChild(values.file!, o.samples);
    return 0;
  }
  const ownDir = o.dir === "";
  if (ownDir) o.dir = mkdtempSync(join(tmpdir(), "snn-scale-"));
  else mkdirSync(o.dir, { recursive: true });
  try {
    const report = await runScale(o, (s) => process.stderr.write(s + "\n"));
    const out = values.out ?? join(REPO_ROOT, "bench", "results", `scale-episodes_${stamp(new Date())}.json`);
    mkdirSync(join(out, ".."), { recursive: true });
    writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
    process.stdout.write(values.json ? JSON.stringify(report, null, 2) + "\n" : `${formatScale(report)}\n\nJSON: ${out}${o.keep ? `\nfiles kept in ${o.dir}` : ""}\n`);
  } finally {
    if (ownDir && !o.keep) rmSync(o.dir, { recursive: true, force: true });
    else if (!o.keep) for (const d of ["many", "one"]) if (existsSync(join(o.dir, d)) && readdirSync(join(o.dir, d)).length === 0) rmSync(join(o.dir, d), { recursive: true });
  }
  return 0;
}

if (process.argv[1] === SELF) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`scale-episodes: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

/**
 * Export benchmark: NWB (and SONATA) export of a generated experiment by snn-export against a plain
 * h5py converter of the same conversion (bench/nwb_peer.py), each run a separate process timed
 * from the outside with /usr/bin/time (wall seconds, peak RSS), contenders alternating.
 *
 *   node dist/bench/nwb-export.js gen --spikes 1000000 --out /tmp/exp      make an experiment
 *   node dist/bench/nwb-export.js compare --exp DIR [--repeat 5]           snn-export vs the peer, paired ratios
 *   node dist/bench/nwb-export.js rss --exp DIR [--format nwb|sonata]      one export, its peak RSS
 *
 * The experiment: 1000 neurons, 10 episodes, min(500, spikes / 10000) spikes per step (distinct random ids,
 * deterministic), neural state v (float32, 1000 neurons) every 100th step, behaviour x, y every
 * step, a reward every 250 steps, config dt_ms = 0.1.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DataExporter } from "#lib/index.js";
import { mulberry32 } from "./data.js";

const CLI = fileURLToPath(new URL(import.meta.resolve("#cli/cli/main.js")));
const PEER = fileURLToPath(new URL("../../bench/nwb_peer.py", import.meta.url));
const N = 1000;
const EPISODES = 10;

async function gen(spikes: number, out: string): Promise<string> {
  const perStep = Math.min(N / 2, Math.max(1, Math.round(spikes / (EPISODES * 1000))));
  const steps = Math.max(1, Math.round(spikes / (EPISODES * perStep)));
  const ex = await DataExporter.create("nwbbench", { outputBaseDir: out, provenance: false, neuralSamplingRate: 100 });
  ex.saveConfig({ n_neurons: N, dt_ms: 0.1 });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: N }, (_, i) => i), types: Array.from({ length: N }, (_, i) => (i % 5 === 4 ? "inh" : "exc")) } });
  const ids = new Uint32Array(perStep);
  const perm = Uint32Array.from({ length: N }, (_, i) => i);
  const rng = mulberry32(20261206);
  const v = new Float32Array(N);
  let total = 0;
  for (let e = 0; e < EPISODES; e++) {
    ex.startEpisode();
    for (let t = 0; t < steps; t++) {
      // perStep distinct random ids (a partial Fisher-Yates shuffle), a new set every step
      for (let j = 0; j < perStep; j++) {
        const k = j + Math.floor(rng() * (N - j));
        const x = perm[j];
        perm[j] = perm[k];
        perm[k] = x;
        ids[j] = perm[j];
      }
      const step: Parameters<DataExporter["log"]>[0] = { timestep: t, spikes: ids, behavior: { x: t / steps, y: e / EPISODES }, reward: t % 250 === 249 ? 1 : 0 };
      if (t % 100 === 0) {
        for (let i = 0; i < N; i++) v[i] = -65 + ((t + i) % 20);
        step.neuralState = { v };
      }
      ex.log(step);
      total += perStep;
    }
    ex.endEpisode({ success: e % 2 === 0 });
  }
  await ex.close();
  process.stderr.write(`generated ${total} spikes (${EPISODES} episodes x ${steps} steps x ${perStep}) in ${ex.outputDir}\n`);
  return ex.outputDir;
}

/** wall: the whole process; inner: the conversion as the process itself timed it (after its imports). */
interface Run { wall: number; rssMiB: number; bytes: number; inner: number }

function timed(cmd: string[], out: string): Run {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M", ...cmd], { encoding: "utf8", timeout: 3_600_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status}):\n${r.stderr}`);
  const last = r.stderr.trim().split("\n").pop()!.split(" ");
  const inner = /converted in ([\d.]+) s/.exec(r.stderr) ?? /, ([\d.]+) s\)\n/.exec(r.stderr);
  return { wall: Number(last[0]), rssMiB: Number(last[1]) / 1024, bytes: statSync(out).size, inner: inner ? Number(inner[1]) : NaN };
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function compare(exp: string, repeat: number, format: "nwb" | "sonata"): void {
  const dir = mkdtempSync(join(tmpdir(), "nwb-bench-"));
  try {
    const ours: Run[] = [], peer: Run[] = [], ratios: number[] = [], innerRatios: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const a = join(dir, `ours.${format}`), b = join(dir, `peer.${format}`);
      // alternate which contender goes first
      const runOurs = () => timed([process.execPath, CLI, "export", exp, "--format", format, "--out", a], a);
      const runPeer = () => timed(["/usr/bin/python3", PEER, format, exp, b], b);
      let o: Run, p: Run;
      if (i % 2 === 0) { o = runOurs(); p = runPeer(); } else { p = runPeer(); o = runOurs(); }
      ours.push(o); peer.push(p); ratios.push(p.wall / o.wall); innerRatios.push(p.inner / o.inner);
      process.stdout.write(`run ${i + 1}: snn-export ${o.wall.toFixed(2)} s [conversion ${o.inner.toFixed(2)} s] (${o.rssMiB.toFixed(0)} MiB, ${(o.bytes / 2 ** 20).toFixed(1)} MiB file)  ` +
        `h5py peer ${p.wall.toFixed(2)} s [conversion ${p.inner.toFixed(2)} s] (${p.rssMiB.toFixed(0)} MiB, ${(p.bytes / 2 ** 20).toFixed(1)} MiB file)  ratio ${(p.wall / o.wall).toFixed(2)}x [${(p.inner / o.inner).toFixed(2)}x]\n`);
      rmSync(a, { force: true });
      rmSync(b, { force: true });
    }
    process.stdout.write(`${format}: median snn-export ${median(ours.map((r) => r.wall)).toFixed(2)} s, h5py peer ${median(peer.map((r) => r.wall)).toFixed(2)} s; ` +
      `median of paired ratios ${median(ratios).toFixed(2)}x (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}); ` +
      `conversion alone (each process's own timing, imports excluded): median of paired ratios ${median(innerRatios).toFixed(2)}x; ` +
      `peak RSS median ${median(ours.map((r) => r.rssMiB)).toFixed(0)} vs ${median(peer.map((r) => r.rssMiB)).toFixed(0)} MiB\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  const { values: v } = parseArgs({ args: rest, options: { spikes: { type: "string" }, out: { type: "string" }, exp: { type: "string" }, repeat: { type: "string" }, format: { type: "string" }, file: { type: "string" } } });
  if (cmd === "gen") {
    await gen(Number(v.spikes ?? 1e6), v.out ?? mkdtempSync(join(tmpdir(), "nwb-exp-")));
  } else if (cmd === "compare") {
    compare(v.exp!, Number(v.repeat ?? 5), (v.format ?? "nwb") as "nwb" | "sonata");
  } else if (cmd === "rss") {
    const format = (v.format ?? "nwb") as "nwb" | "sonata";
    const out = v.file ?? join(tmpdir(), `nwb-rss.${format}`);
    const r = timed([process.execPath, CLI, "export", v.exp!, "--format", format, "--out", out], out);
    process.stdout.write(`${format} export of ${v.exp}: ${r.wall.toFixed(1)} s, peak RSS ${r.rssMiB.toFixed(0)} MiB, file ${(r.bytes / 2 ** 20).toFixed(0)} MiB\n`);
    if (!v.file) rmSync(out, { force: true });
  } else {
    process.stderr.write("usage: nwb-export.js gen|compare|rss (see the file's header)\n");
    process.exitCode = 2;
  }
  void readdirSync; void readFileSync;
}

await main();

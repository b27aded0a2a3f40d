/**
 * Lazy windows on one long episode (a measurement, not a test): writes an episode of `--steps`
 * timesteps (default 10,000,000: two spike ids, a 1000-neuron state sampled every 100 steps and a
 * behaviour value per step), then reads 1,000-step windows at three places and counts the chunks
 * each read decoded (`loader.readStats().chunksRead`), checks the window's spikes against what was
 * logged, and iterates all spikes with `spikeBlocks({ steps: 100_000 })`, printing the peak RSS.
 *
 *   node dist/bench/windows-long.js [--steps 10000000] [--dir /tmp]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DataExporter, ExperimentLoader } from "#lib/index.js";

const { values: v } = parseArgs({ options: { steps: { type: "string", default: "10000000" }, dir: { type: "string", default: "/tmp" } } });
const N = Number(v.steps);
const NEURONS = 1000;

/** The two spike ids of step t, ascending and distinct. */
function idsOf(t: number, out: Uint32Array): Uint32Array {
  const a = t % NEURONS;
  let b = (t * 7 + 3) % NEURONS;
  if (b === a) b = (b + 1) % NEURONS;
  out[0] = Math.min(a, b);
  out[1] = Math.max(a, b);
  return out;
}

const dir = mkdtempSync(join(v.dir!, "snn-windows-"));
try {
  let t0 = performance.now();
  const ex = await DataExporter.create("windows", { outputBaseDir: dir, provenance: false, neuralSamplingRate: 100 });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: NEURONS }, (_, i) => i) } });
  ex.startEpisode();
  const ids = new Uint32Array(2);
  const state = new Float32Array(NEURONS);
  for (let t = 0; t < N; t++) {
    state[t % NEURONS] = t;
    ex.log({ timestep: t, spikes: idsOf(t, ids), neuralState: { v: state }, behavior: { x: t * 0.5 }, reward: t % 1000 === 0 ? 1 : 0 });
  }
  ex.endEpisode();
  await ex.close();
  const file = ex.filePath;
  console.log(`wrote ${N} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${(statSync(file).size / 2 ** 20).toFixed(1)} MiB`);

  t0 = performance.now();
  const loader = await ExperimentLoader.open(file);
  const ep = loader.getEpisode(0);
  console.log(`open + getEpisode(0): ${(performance.now() - t0).toFixed(0)} ms`);
  const expect = new Uint32Array(2);
  for (const from of [Math.floor(N / 2), N - 1000, Math.min(123_456, N - 1000)]) {
    const c0 = loader.readStats().chunksRead;
    const s = ep.getSpikes({ from, to: from + 1000 });
    const c1 = loader.readStats().chunksRead;
    ep.getNeuralStates({ variables: ["v"], from, to: from + 1000, neurons: [0, 1, 2] });
    const c2 = loader.readStats().chunksRead;
    ep.getBehavior({ from, to: from + 1000 });
    const c3 = loader.readStats().chunksRead;
    let exact = s.neuronIds.length === 2000;
    for (let i = 0; exact && i < 1000; i++) {
      idsOf(from + i, expect);
      exact = s.timesteps[2 * i] === from + i && s.neuronIds[2 * i] === expect[0] && s.neuronIds[2 * i + 1] === expect[1];
    }
    console.log(`window [${from}, ${from + 1000}): chunks decoded: spikes ${c1 - c0}, neural state ${c2 - c1}, behaviour ${c3 - c2}; spikes exact: ${exact}`);
  }
  const rss0 = process.memoryUsage().rss;
  let blocks = 0;
  let spikes = 0;
  let peak = rss0;
  t0 = performance.now();
  for await (const block of ep.spikeBlocks({ steps: 100_000 })) {
    blocks++;
    spikes += block.neuronIds.length;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  console.log(`spikeBlocks: ${blocks} blocks, ${spikes} spikes in ${((performance.now() - t0) / 1000).toFixed(1)} s; RSS ${(rss0 / 2 ** 20).toFixed(0)} MiB before, ${(peak / 2 ** 20).toFixed(0)} MiB at most`);
  loader.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

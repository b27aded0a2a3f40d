/**
 * The loader's side of `npm run bench -- --read`: one child process that reads an experiment file
 * with {@link ExperimentLoader}, imported from the package entry as a user imports it, and prints
 * one JSON line.
 *
 *   node dist/bench/read-child.js all FILE     everything: metadata, config, network, episode table, every episode's
 *                                              spikes, neural states, behaviour, rewards, weight changes, events,
 *                                              summary and static data, checkpoints, code snapshot
 *   node dist/bench/read-child.js first FILE   open + episode 0's spikes (time to first data)
 *
 * `seconds`: from the start of `open` to the last value read (the h5py peer's `seconds`: open to
 * last byte). `first_data_epoch_ms`: wall clock (ms since the Unix epoch) when episode 0's spikes
 * are in memory; the parent subtracts the time it started the process. `cpu_seconds`: CPU time of
 * the process (user + system) over the same part as `seconds`.
 */
import { ExperimentLoader } from "#lib/index.js";

/** Bytes of everything the loader returned (typed arrays by length, strings and JSON by text length). */
function size(v: unknown, depth = 0): number {
  if (v === null || v === undefined || depth > 8) return 0;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (typeof v === "string") return v.length;
  if (typeof v !== "object") return 8;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + size(x, depth + 1), 0);
  let n = 0;
  for (const x of Object.values(v as Record<string, unknown>)) n += size(x, depth + 1);
  return n;
}

function readAll(file: string): Promise<{ bytes: number; episodes: number }> {
  return ExperimentLoader.open(file).then((loader) => {
    let bytes = 0;
    try {
      bytes += size(loader.getMetadata());
      bytes += size(loader.getConfig());
      bytes += size(loader.getNetworkStructure());
      const table = loader.episodes();
      bytes += size(table);
      for (const id of loader.listEpisodes()) {
        const ep = loader.getEpisode(id);
        bytes += size(ep.attrs);
        bytes += size(ep.getSpikes());
        bytes += size(ep.getNeuralStates());
        bytes += size(ep.getBehavior());
        bytes += size(ep.getRewards());
        bytes += size(ep.getWeightChanges());
        bytes += size(ep.getEvents());
        bytes += size(ep.getSummary());
        for (const name of ep.listStaticData()) bytes += size(ep.getStaticData(name));
      }
      for (const name of loader.listCheckpoints()) {
        const cp = loader.getCheckpoint(name);
        bytes += size(cp);
      }
      for (const f of loader.listCodeFiles()) if (f.stored) bytes += loader.getCodeFile(f.path).length;
      return { bytes, episodes: table.ids.length };
    } finally {
      loader.close();
    }
  });
}

async function main(): Promise<void> {
  const [mode, file] = process.argv.slice(2);
  if ((mode !== "all" && mode !== "first") || !file) {
    process.stderr.write("usage: read-child.js all|first FILE\n");
    process.exitCode = 2;
    return;
  }
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let out: Record<string, unknown>;
  if (mode === "first") {
    const loader = await ExperimentLoader.open(file);
    const spikes = loader.getEpisode(0).getSpikes();
    const t1 = performance.now();
    loader.close();
    out = { first_data_epoch_ms: performance.timeOrigin + t1, seconds: (t1 - t0) / 1000, spikes: spikes.neuronIds.length };
  } else {
    const r = await readAll(file);
    out = { seconds: (performance.now() - t0) / 1000, ...r };
  }
  const cpu = process.cpuUsage(cpu0);
  out.cpu_seconds = (cpu.user + cpu.system) / 1e6; // the timed part's CPU time (less moved by other processes than wall time)
  out.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 102.4) / 10;
  process.stdout.write(JSON.stringify({ contender: "snn-export", mode, file, ...out }) + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`read-child: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});

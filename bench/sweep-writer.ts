/**
 * A writer child of the sweep test and benchmark: writes runs `first` … `first + count - 1` of
 * sweep-data.ts into `dir`, one file each (one DataExporter after the other).
 *
 * With `hang` it writes one run, flushes with an episode still open, prints `ready <dir>` and
 * waits to be killed (SIGKILL): a writer that died mid-run, or one still at work.
 *
 *   node dist/bench/sweep-writer.js '{"dir":"/tmp/s","first":0,"count":25}'
 */
import { writeSync } from "node:fs";
import { DataExporter } from "#lib/index.js";
import { STEPS_PER_EPISODE, episodeReward, episodeSuccess, runConfig, runEpisodes } from "./sweep-data.js";

interface Spec {
  dir: string;
  first: number;
  count: number;
  /** Completed episodes of run k: `base + k % 7` (default 5). */
  base?: number;
  hang?: boolean;
  /** Steps per episode (default STEPS_PER_EPISODE); the reward comes at the last. */
  steps?: number;
}

const spec = JSON.parse(process.argv[2]) as Spec;
for (let k = spec.first; k < spec.first + spec.count; k++) {
  const ex = await DataExporter.create(`run${String(k).padStart(4, "0")}`, {
    outputBaseDir: spec.dir, compression: "gzip", chunkSize: 1000, provenance: { git: false, codeSnapshot: false }, flushIntervalMs: 60_000,
  });
  ex.saveConfig(runConfig(k));
  const n = runEpisodes(k, spec.base);
  const spikes = new Uint8Array(32);
  for (let e = 0; e < n; e++) {
    ex.startEpisode();
    const steps = spec.steps ?? STEPS_PER_EPISODE;
    for (let t = 0; t < steps; t++) {
      spikes.fill(0);
      spikes[(t * 7 + e) % 32] = 1;
      ex.log({ timestep: t, spikes, reward: t === steps - 1 ? episodeReward(k, e) : 0 });
    }
    const success = episodeSuccess(k, e);
    ex.endEpisode(success === undefined ? {} : { success });
  }
  if (spec.hang) {
    // an open episode, durable as far as it went, then wait for the kill
    ex.startEpisode();
    for (let t = 0; t < 5; t++) ex.log({ timestep: t, spikes, reward: 0 });
    ex.flush();
    writeSync(1, `ready ${ex.outputDir}\n`);
    setInterval(() => {}, 1 << 30);
    await new Promise(() => {});
  }
  await ex.close();
}

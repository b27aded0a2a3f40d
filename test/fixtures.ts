/** A multi-episode experiment written the same way by any exporter class / engine, and a comparable view of its episodes. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TestContext } from "node:test";
import { DataExporter, type EpisodeData, type ExporterOptions } from "#lib/index.js";
import { PYTHON, rng, skipOrFail } from "./helpers.js";

const CANONICAL = fileURLToPath(new URL("../../test/py/canonical.py", import.meta.url));

const N = 12;

/** What an episode of {@link writeExperiment} logged, in the form test/py/canonical.py prints. */
export interface LoggedEpisode {
  timesteps: number[];
  /** [timestep, neuron id], ids ascending within a step. */
  spikes: [number, number][];
  /** The non-zero rewards: [timestep, value]. */
  rewards: [number, number][];
  /** [timestep, type, data]. */
  events: [number, string, unknown][];
  summary: unknown;
}

export async function writeExperiment(Cls: typeof DataExporter, dir: string, seed: number, extra: ExporterOptions = {}): Promise<string> {
  return (await writeExperimentLogged(Cls, dir, seed, extra)).dir;
}

/** {@link writeExperiment}, also returning what each episode logged (the inputs, as an oracle independent of the loader). */
export async function writeExperimentLogged(Cls: typeof DataExporter, dir: string, seed: number, extra: ExporterOptions = {}): Promise<{ dir: string; file: string; episodes: LoggedEpisode[] }> {
  const logged: LoggedEpisode[] = [];
  const rand = rng(seed);
  const ex = await Cls.create("same", { outputBaseDir: dir, neuralSamplingRate: 4, chunkSize: 16, ...extra });
  ex.saveConfig({ seed });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: N }, (_, i) => i) }, weights: { sourceIds: [0, 1], targetIds: [1, 2], values: [0.5, 0.25] } });
  for (let e = 0; e < 3; e++) {
    const log: LoggedEpisode = { timesteps: [], spikes: [], rewards: [], events: [], summary: { e } };
    ex.startEpisode();
    for (let t = 0; t < 60; t++) {
      const ids = [...Array(N).keys()].filter(() => rand() < 0.25);
      const spikes = t % 2 ? Uint8Array.from({ length: N }, (_, k) => (ids.includes(k) ? 1 : 0)) : Int32Array.from(ids);
      const step = {
        timestep: 100 * e + t,
        neuralState: { v: Float32Array.from({ length: N }, () => rand()), w: { data: Float64Array.from({ length: 2 * N }, () => rand()), shape: [N, 2] } },
        spikes,
        behavior: { x: rand(), dir: Float32Array.from([rand(), rand(), rand()]) },
        reward: rand() < 0.2 ? rand() : 0,
      };
      ex.log(step);
      log.timesteps.push(step.timestep);
      for (const id of ids) log.spikes.push([step.timestep, id]);
      if (step.reward !== 0) log.rewards.push([step.timestep, step.reward]);
      if (t % 17 === 3) ex.logWeightChange({ timestep: 100 * e + t, synapseId: 1, oldWeight: rand(), newWeight: rand() });
      if (t % 29 === 5) {
        ex.logEvent({ timestep: 100 * e + t, type: "tick", data: { t } });
        log.events.push([100 * e + t, "tick", { t }]);
      }
    }
    ex.logStaticEpisodeData("layout", { e });
    ex.endEpisode({ success: e % 2 === 0, summary: { e } });
    logged.push(log);
  }
  ex.saveCheckpoint("cp", { weights: { sourceIds: [1], targetIds: [0], values: [2] } });
  await ex.close();
  return { dir: ex.outputDir, file: ex.filePath, episodes: logged };
}

/**
 * The file as test/py/canonical.py reads it with h5py alone (FORMAT.md, not our loader); null
 * after a skip (no h5py; fails on CI).
 */
export function canonical(t: TestContext, file: string): Canonical | null {
  const r = spawnSync(PYTHON, [CANONICAL, file], { encoding: "utf8", timeout: 300_000, maxBuffer: 64 << 20 });
  if (r.error || (r.status !== 0 && /No module named/.test(r.stderr))) {
    skipOrFail(t, `h5py is not available for ${PYTHON} (apt-get install python3-h5py): ${r.error?.message ?? r.stderr.trim().split("\n").pop()}`);
    return null;
  }
  if (r.status !== 0) throw new Error(`canonical.py ${file} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Canonical;
}

export interface Canonical {
  episodes: (LoggedEpisode & Record<string, unknown>)[];
  [part: string]: unknown;
}

/** Both files read the same with h5py, and their episodes hold what was logged. */
export function assertSameFiles(t: TestContext, a: string, b: string, logged: LoggedEpisode[]): void {
  const ca = canonical(t, a);
  if (!ca) return;
  const cb = canonical(t, b)!;
  assert.deepEqual(cb, ca, `${b} and ${a} differ as h5py reads them (test/py/canonical.py)`);
  assert.equal(ca.episodes.length, logged.length);
  ca.episodes.forEach((e, i) => {
    const { timesteps, spikes, rewards, events, summary } = e;
    assert.deepEqual({ timesteps, spikes, rewards, events, summary }, logged[i], `episode ${i} as h5py reads it, against the inputs`);
  });
}

export function episodeView(ep: EpisodeData): unknown {
  const arr = (a: ArrayLike<number>) => Array.from(a);
  const ns = ep.getNeuralStates();
  const beh = ep.getBehavior();
  const { status, success, total_timesteps, total_spikes, total_reward, first_timestep, last_timestep } = ep.attrs;
  return {
    attrs: { status, success, total_timesteps, total_spikes, total_reward, first_timestep, last_timestep },
    timesteps: arr(ep.getTimesteps()),
    neural: { t: arr(ns.timesteps), vars: Object.fromEntries(Object.entries(ns.variables).map(([k, v]) => [k, { shape: v.shape, dtype: v.dtype, data: arr(v.data as Float64Array) }])) },
    spikes: { t: arr(ep.getSpikes().timesteps), ids: arr(ep.getSpikes().neuronIds) },
    behavior: { t: arr(beh.timesteps), vars: Object.fromEntries(Object.entries(beh.variables).map(([k, v]) => [k, { shape: v.shape, dtype: v.dtype, data: arr(v.data as Float64Array) }])) },
    rewards: { t: arr(ep.getRewards().timesteps), v: arr(ep.getRewards().values) },
    weightChanges: Object.fromEntries(Object.entries(ep.getWeightChanges()).map(([k, v]) => [k, arr(v)])),
    events: ep.getEvents(),
    summary: ep.getSummary(),
    static: ep.getStaticData("layout"),
  };
}


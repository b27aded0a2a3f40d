/** A multi-episode experiment written the same way by any exporter class / engine, and a comparable view of its episodes. */
import { DataExporter, type EpisodeData, type ExporterOptions } from "../src/index.js";
import { rng } from "./helpers.js";

const N = 12;

export async function writeExperiment(Cls: typeof DataExporter, dir: string, seed: number, extra: ExporterOptions = {}): Promise<string> {
  const rand = rng(seed);
  const ex = await Cls.create("same", { outputBaseDir: dir, neuralSamplingRate: 4, chunkSize: 16, ...extra });
  ex.saveConfig({ seed });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: N }, (_, i) => i) }, weights: { sourceIds: [0, 1], targetIds: [1, 2], values: [0.5, 0.25] } });
  for (let e = 0; e < 3; e++) {
    ex.startEpisode();
    for (let t = 0; t < 60; t++) {
      const ids = [...Array(N).keys()].filter(() => rand() < 0.25);
      const spikes = t % 2 ? Uint8Array.from({ length: N }, (_, k) => (ids.includes(k) ? 1 : 0)) : Int32Array.from(ids);
      ex.log({
        timestep: 100 * e + t,
        neuralState: { v: Float32Array.from({ length: N }, () => rand()), w: { data: Float64Array.from({ length: 2 * N }, () => rand()), shape: [N, 2] } },
        spikes,
        behavior: { x: rand(), dir: Float32Array.from([rand(), rand(), rand()]) },
        reward: rand() < 0.2 ? rand() : 0,
      });
      if (t % 17 === 3) ex.logWeightChange({ timestep: 100 * e + t, synapseId: 1, oldWeight: rand(), newWeight: rand() });
      if (t % 29 === 5) ex.logEvent({ timestep: 100 * e + t, type: "tick", data: { t } });
    }
    ex.logStaticEpisodeData("layout", { e });
    ex.endEpisode({ success: e % 2 === 0, summary: { e } });
  }
  ex.saveCheckpoint("cp", { weights: { sourceIds: [1], targetIds: [0], values: [2] } });
  await ex.close();
  return ex.outputDir;
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


/**
 * {@link quickLoad}: everything of one episode plus the experiment-level data, in one call.
 */
import { ExperimentLoader } from "./experiment.js";
import type {
  EpisodeAttributes, ExperimentEvent, ExperimentMetadata, NetworkStructure, Rewards, SpikeTrain, TimeSeries,
  WeightChanges,
} from "./types.js";

/**
 * What {@link quickLoad} returns: the experiment's metadata, config and network, and every stream
 * of one episode.
 *
 * @example
 * ```ts
 * const { episode } = await quickLoad(dir);
 * console.log(episode.spikes.neuronIds.length);
 * ```
 */
export interface QuickLoadResult {
  metadata: ExperimentMetadata;
  config: Record<string, unknown>;
  network: NetworkStructure;
  episode: {
    id: number;
    attrs: EpisodeAttributes;
    neuralStates: TimeSeries;
    spikes: SpikeTrain;
    behavior: TimeSeries;
    rewards: Rewards;
    weightChanges: WeightChanges;
    events: ExperimentEvent[];
    summary: unknown;
  };
}

/**
 * Options of {@link quickLoad}.
 *
 * @example
 * ```ts
 * await quickLoad(dir, { episodeId: 3 });
 * ```
 */
export interface QuickLoadOptions {
  /** Episode to read [0]. */
  episodeId?: number;
}

/**
 * Opens an experiment (directory or `.h5` file), reads its metadata, config, network and every
 * stream of one episode, and closes the file. Errors are those of {@link ExperimentLoader.open}
 * and {@link ExperimentLoader.getEpisode} (ValidationError `NOT_FOUND` when the episode is missing).
 *
 * @example
 * ```ts
 * const { metadata, episode } = await quickLoad("experiments/run_20240101_120000", { episodeId: 1 });
 * console.log(metadata.experimentName, episode.rewards.values);
 * ```
 */
export async function quickLoad(path: string, { episodeId = 0 }: QuickLoadOptions = {}): Promise<QuickLoadResult> {
  const loader = await ExperimentLoader.open(path);
  try {
    const ep = loader.getEpisode(episodeId);
    return {
      metadata: loader.getMetadata(),
      config: loader.getConfig(),
      network: loader.getNetworkStructure(),
      episode: {
        id: ep.id,
        attrs: ep.attrs,
        neuralStates: ep.getNeuralStates(),
        spikes: ep.getSpikes(),
        behavior: ep.getBehavior(),
        rewards: ep.getRewards(),
        weightChanges: ep.getWeightChanges(),
        events: ep.getEvents(),
        summary: ep.getSummary(),
      },
    };
  } finally {
    loader.close();
  }
}

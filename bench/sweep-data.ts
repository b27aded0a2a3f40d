/**
 * The deterministic runs of the sweep test and benchmark: run k's config, episode count and
 * per-episode values, known to the writer child and to the checks without reading any file.
 */
export const STEPS_PER_EPISODE = 20;

/** Run k's config: a learning rate (one of three) and a seed, plus keys equal in every run. */
export function runConfig(k: number): Record<string, unknown> {
  return { run: k, learning_rate: [0.001, 0.01, 0.1][k % 3], seed: Math.floor(k / 3), model: "lif", dt_ms: 1 };
}

/** Completed episodes of run k (a few more for some runs: runs of different lengths). */
export function runEpisodes(k: number, base = 5): number {
  return base + (k % 7);
}

/** The reward of run k's episode e (its only non-zero reward, at the last step). */
export function episodeReward(k: number, e: number): number {
  return ((k * 31 + e * 17) % 100) / 10 - 2;
}

/** endEpisode's success of run k's episode e: true, false or not given. */
export function episodeSuccess(k: number, e: number): boolean | undefined {
  const m = (k + e) % 3;
  return m === 0 ? true : m === 1 ? false : undefined;
}

/**
 * The learning curve of many episodes as data: the episode table aggregated into at most
 * {@link MAX_EPISODE_POINTS} bins (mean, spread, moving average, success rate), so that a chart of
 * 100,000 episodes draws a few hundred points. `snn-export plot --kind reward` draws it.
 */
import type { EpisodeTable } from "../inspect/episodes.js";

/** Episodes drawn one point each; more are aggregated into bins. */
export const MAX_EPISODE_POINTS = 1000;

/**
 * The moving-average window for `episodes` episodes when none is given: about a fiftieth of the
 * run, rounded to 1, 2 or 5 × 10^k (100 episodes: 2; 3,000: 100; 100,000: 2,000), at most 10,000.
 */
export function defaultWindow(episodes: number): number {
  return Math.min(10_000, niceBin(episodes / 50));
}

/**
 * Trailing moving average: entry i is the mean of the finite values among `values[i-w+1 .. i]`
 * (fewer at the start), NaN when there is none. `counts` (optional) says which entries count at
 * all — for success rates, where "not given" does not.
 */
export function movingAverage(values: ArrayLike<number>, w: number, counts?: (i: number) => boolean): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  const use = (i: number) => Number.isFinite(values[i]) && (counts === undefined || counts(i));
  let sum = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (use(i)) {
      sum += values[i];
      k++;
    }
    const j = i - w;
    if (j >= 0 && use(j)) {
      sum -= values[j];
      k--;
    }
    out[i] = k > 0 ? sum / k : NaN;
  }
  return out;
}

/** One point of the learning curve: one episode, or a bin of consecutive episodes. */
export interface CurvePoint {
  /** First and last episode id of the bin (the same when it holds one episode). */
  episode: number;
  lastEpisode: number;
  /** Episodes in the bin. */
  episodes: number;
  /** Total reward of the bin's episodes: mean, min, max, 10th and 90th percentile (null: none finite). */
  reward: number | null;
  min: number | null;
  max: number | null;
  p10: number | null;
  p90: number | null;
  /** Moving average of the total reward over the window, averaged over the bin (the episode's, unbinned). */
  movingAverage: number | null;
  /** Successes / episodes with an outcome, in the bin (null: none had one). */
  success: number | null;
  /** Success rate over the moving window, averaged over the bin. */
  successRate: number | null;
  /** Unbinned only: "success", "no success" or "success not given". */
  outcome?: string;
}

export interface RewardCurve {
  /** Episodes in the table. */
  episodes: number;
  /** Moving-average window, in episodes. */
  window: number;
  /** Episodes per point (1: every episode is drawn). */
  binSize: number;
  points: CurvePoint[];
  /** Episodes that said success or failure. */
  withOutcome: number;
  successes: number;
  totalReward: number;
}

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

/** Value at quantile q (0..1) of sorted finite values, linear between neighbours (numpy's default). */
function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The learning curve of an episode table: every episode's total reward and outcome with the
 * moving average and moving success rate over `window` episodes; above `maxPoints` episodes
 * (default {@link MAX_EPISODE_POINTS}) consecutive episodes are put in `bins` equal bins (default
 * 800; the last may be shorter) described by mean, spread and the averaged moving curves.
 */
export function rewardCurve(t: Pick<EpisodeTable, "ids" | "success" | "totalReward">, options: { window?: number; bins?: number; maxPoints?: number } = {}): RewardCurve {
  const n = t.ids.length;
  const window = Math.max(1, Math.min(n || 1, options.window ?? defaultWindow(n)));
  const ma = movingAverage(t.totalReward, window);
  const wins = Float64Array.from(t.success, (s) => (s > 0 ? 1 : 0));
  const rate = movingAverage(wins, window, (i) => t.success[i] >= 0);
  let withOutcome = 0;
  let successes = 0;
  let totalReward = 0;
  for (let i = 0; i < n; i++) {
    if (t.success[i] >= 0) withOutcome++;
    if (t.success[i] > 0) successes++;
    if (Number.isFinite(t.totalReward[i])) totalReward += t.totalReward[i];
  }
  const maxPoints = options.maxPoints ?? MAX_EPISODE_POINTS;
  const points: CurvePoint[] = [];
  if (n <= maxPoints) {
    for (let i = 0; i < n; i++) {
      const r = finiteOrNull(t.totalReward[i]);
      const s = t.success[i];
      points.push({
        episode: t.ids[i], lastEpisode: t.ids[i], episodes: 1,
        reward: r, min: r, max: r, p10: r, p90: r,
        movingAverage: finiteOrNull(ma[i]),
        success: s < 0 ? null : s > 0 ? 1 : 0,
        successRate: finiteOrNull(rate[i]),
        outcome: s < 0 ? "success not given" : s > 0 ? "success" : "no success",
      });
    }
    return { episodes: n, window, binSize: 1, points, withOutcome, successes, totalReward };
  }
  const binSize = Math.ceil(n / Math.max(1, options.bins ?? 800));
  const buf = new Float64Array(binSize);
  for (let a = 0; a < n; a += binSize) {
    const b = Math.min(n, a + binSize);
    let k = 0;
    let sum = 0;
    let maSum = 0;
    let maN = 0;
    let rateSum = 0;
    let rateN = 0;
    let yes = 0;
    let given = 0;
    for (let i = a; i < b; i++) {
      const r = t.totalReward[i];
      if (Number.isFinite(r)) {
        buf[k++] = r;
        sum += r;
      }
      if (Number.isFinite(ma[i])) {
        maSum += ma[i];
        maN++;
      }
      if (Number.isFinite(rate[i])) {
        rateSum += rate[i];
        rateN++;
      }
      if (t.success[i] >= 0) {
        given++;
        if (t.success[i] > 0) yes++;
      }
    }
    const sorted = buf.subarray(0, k).sort();
    points.push({
      episode: t.ids[a], lastEpisode: t.ids[b - 1], episodes: b - a,
      reward: k ? sum / k : null,
      min: k ? sorted[0] : null,
      max: k ? sorted[k - 1] : null,
      p10: k ? quantile(sorted, 0.1) : null,
      p90: k ? quantile(sorted, 0.9) : null,
      movingAverage: maN ? maSum / maN : null,
      success: given ? yes / given : null,
      successRate: rateN ? rateSum / rateN : null,
    });
  }
  return { episodes: n, window, binSize, points, withOutcome, successes, totalReward };
}

/** 1, 2, 5, 10, 20, 50, ... at or above x. */
export function niceBin(x: number): number {
  if (x <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

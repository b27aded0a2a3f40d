/**
 * The episode table of an experiment as `inspect`, `plot --kind reward` and `tail` use it: one
 * read of `loader.episodes()` (columns, one entry per episode), summarised without touching any
 * episode's streams.
 */
import type { EpisodeTable, TimeStep } from "snn-export";

export type { EpisodeTable };

/** One row of the episode table as shown by `inspect`. */
export interface EpisodeRow {
  id: number;
  status: string;
  steps: number;
  spikes: number;
  /** Spikes per neuron per second, from `steps * dt`; null without a neuron count or steps. */
  meanRateHz: number | null;
  totalReward: number;
  /** null when the episode's end did not say. */
  success: boolean | null;
}

/** Row `i` of the table. */
export function episodeRowAt(t: EpisodeTable, i: number, nNeurons: number | null, dt: TimeStep): EpisodeRow {
  const steps = t.totalTimesteps[i];
  const spikes = t.totalSpikes[i];
  const s = t.success[i];
  return {
    id: t.ids[i],
    status: t.status[i],
    steps,
    spikes,
    meanRateHz: nNeurons && steps > 0 ? spikes / nNeurons / ((steps * dt.ms) / 1000) : null,
    totalReward: t.totalReward[i],
    success: s > 0 ? true : s === 0 ? false : null,
  };
}

/** min, mean and max of the finite values of a column. */
export interface Spread {
  min: number;
  mean: number;
  max: number;
}

/** Mean reward and success rate of a run of consecutive episodes. */
export interface Stretch {
  /** Table indices `[from, to)`. */
  from: number;
  to: number;
  meanReward: number | null;
  /** Successes / episodes that said success or failure; null when none did. */
  successRate: number | null;
}

export interface EpisodeSummary {
  count: number;
  /** Episodes per status, in the order first seen. */
  byStatus: Record<string, number>;
  success: { yes: number; no: number; notGiven: number; rate: number | null };
  totals: { steps: number; spikes: number; reward: number };
  steps: Spread | null;
  reward: Spread | null;
  /** The first and the last tenth of the episodes (at least 20 episodes), to see learning at a glance. */
  trend: { first: Stretch; last: Stretch } | null;
}

function spread(a: Float64Array): Spread | null {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    n++;
  }
  return n === 0 ? null : { min, mean: sum / n, max };
}

function finiteSum(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) s += a[i];
  return s;
}

function stretch(t: EpisodeTable, from: number, to: number): Stretch {
  let sum = 0;
  let n = 0;
  let yes = 0;
  let given = 0;
  for (let i = from; i < to; i++) {
    const r = t.totalReward[i];
    if (Number.isFinite(r)) {
      sum += r;
      n++;
    }
    if (t.success[i] >= 0) {
      given++;
      if (t.success[i] > 0) yes++;
    }
  }
  return { from, to, meanReward: n ? sum / n : null, successRate: given ? yes / given : null };
}

/** Counts, totals and spreads of the whole table in one pass per column. */
export function summarizeEpisodes(t: EpisodeTable): EpisodeSummary {
  const count = t.ids.length;
  const byStatus: Record<string, number> = {};
  for (const s of t.status) byStatus[s] = (byStatus[s] ?? 0) + 1;
  let yes = 0;
  let no = 0;
  for (let i = 0; i < count; i++) {
    if (t.success[i] > 0) yes++;
    else if (t.success[i] === 0) no++;
  }
  const tenth = Math.floor(count / 10);
  return {
    count,
    byStatus,
    success: { yes, no, notGiven: count - yes - no, rate: yes + no > 0 ? yes / (yes + no) : null },
    totals: { steps: finiteSum(t.totalTimesteps), spikes: finiteSum(t.totalSpikes), reward: finiteSum(t.totalReward) },
    steps: spread(t.totalTimesteps),
    reward: spread(t.totalReward),
    trend: count >= 20 ? { first: stretch(t, 0, tenth), last: stretch(t, count - tenth, count) } : null,
  };
}

/**
 * Which rows a summary shows: all of them when there are at most `head + tail + 5`, else the
 * first `head` and the last `tail` with the ones between hidden.
 */
export function shownRows(count: number, head = 10, tail = 10): { head: [number, number]; tail: [number, number]; hidden: number } {
  if (count <= head + tail + 5) return { head: [0, count], tail: [count, count], hidden: 0 };
  return { head: [0, head], tail: [count - tail, count], hidden: count - head - tail };
}

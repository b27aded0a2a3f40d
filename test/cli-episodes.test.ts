/**
 * The episode-table functions behind `inspect` and `plot --kind reward`, on tables built in the
 * test: the summary, which rows are shown, the moving averages and the learning-curve bins.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { episodeRowAt, shownRows, summarizeEpisodes, type EpisodeTable } from "#cli/inspect/episodes.js";
import { buildChart, type PlotContext } from "#cli/plot/charts.js";
import { defaultWindow, movingAverage, rewardCurve, MAX_EPISODE_POINTS } from "#cli/plot/curve.js";

/** A table of `n` episodes from per-episode functions (what a test writes). */
function table(n: number, f: { reward: (i: number) => number; success: (i: number) => number; steps?: (i: number) => number; status?: (i: number) => string }): EpisodeTable {
  const col = (g: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => g(i));
  return {
    ids: col((i) => i),
    status: Array.from({ length: n }, (_, i) => f.status?.(i) ?? "completed"),
    success: Int8Array.from({ length: n }, (_, i) => f.success(i)),
    totalTimesteps: col(f.steps ?? (() => 10)),
    totalSpikes: col((i) => 2 * (f.steps ?? (() => 10))(i)),
    totalReward: col(f.reward),
    firstTimestep: col(() => 0),
    lastTimestep: col((i) => (f.steps ?? (() => 10))(i) - 1),
    neuralSamplingRate: col(() => 1),
    startTime: col((i) => 1.7e9 + i),
    endTime: col((i) => 1.7e9 + i + 0.5),
  };
}

const close = (a: number | null, b: number, what: string) => {
  assert.ok(a !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
};

test("summarizeEpisodes: status counts, success rate, totals, spreads and the first/last tenth", () => {
  const n = 250;
  const reward = (i: number) => (i % 7) - 3 + i / 100;
  const success = (i: number) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : -1);
  const steps = (i: number) => 5 + (i % 11);
  const t = table(n, { reward, success, steps, status: (i) => (i === n - 1 ? "interrupted" : "completed") });
  const s = summarizeEpisodes(t);
  assert.equal(s.count, n);
  assert.deepEqual(s.byStatus, { completed: n - 1, interrupted: 1 });
  const yes = [...Array(n).keys()].filter((i) => i % 3 === 0).length;
  const no = [...Array(n).keys()].filter((i) => i % 3 === 1).length;
  assert.deepEqual(s.success, { yes, no, notGiven: n - yes - no, rate: yes / (yes + no) });
  let steps0 = 0;
  let rew = 0;
  for (let i = 0; i < n; i++) {
    steps0 += steps(i);
    rew += reward(i);
  }
  assert.equal(s.totals.steps, steps0);
  assert.equal(s.totals.spikes, 2 * steps0);
  close(s.totals.reward, rew, "total reward");
  assert.deepEqual(s.steps, { min: 5, max: 15, mean: steps0 / n });
  const first = [...Array(25).keys()];
  const last = first.map((i) => n - 25 + i);
  close(s.trend!.first.meanReward, first.reduce((a, i) => a + reward(i), 0) / 25, "first tenth");
  close(s.trend!.last.meanReward, last.reduce((a, i) => a + reward(i), 0) / 25, "last tenth");
  const rate = (ids: number[]) => ids.filter((i) => i % 3 === 0).length / ids.filter((i) => i % 3 !== 2).length;
  close(s.trend!.first.successRate, rate(first), "first tenth success");
  close(s.trend!.last.successRate, rate(last), "last tenth success");
  assert.equal(summarizeEpisodes(table(19, { reward, success })).trend, null, "no trend under 20 episodes");

  // NaN (a 1.x episode without the attribute) counts nowhere
  const withNan = table(3, { reward: (i) => (i === 1 ? NaN : 1), success: () => -1 });
  const sn = summarizeEpisodes(withNan);
  assert.equal(sn.totals.reward, 2);
  assert.deepEqual(sn.reward, { min: 1, mean: 1, max: 1 });
  assert.equal(sn.success.rate, null);

  const row = episodeRowAt(t, 4, 100, { ms: 2, source: "config.dt_ms" });
  assert.deepEqual(row, { id: 4, status: "completed", steps: 9, spikes: 18, meanRateHz: 18 / 100 / ((9 * 2) / 1000), totalReward: reward(4), success: false });
  assert.equal(episodeRowAt(t, 2, null, { ms: 1, source: "assumed" }).success, null);
  assert.equal(episodeRowAt(t, 2, null, { ms: 1, source: "assumed" }).meanRateHz, null);
});

test("shownRows: everything up to 25 rows, else 10 + 10 with the rest hidden", () => {
  assert.deepEqual(shownRows(0), { head: [0, 0], tail: [0, 0], hidden: 0 });
  assert.deepEqual(shownRows(25), { head: [0, 25], tail: [25, 25], hidden: 0 });
  assert.deepEqual(shownRows(26), { head: [0, 10], tail: [16, 26], hidden: 6 });
  assert.deepEqual(shownRows(1_000_000), { head: [0, 10], tail: [999_990, 1_000_000], hidden: 999_980 });
});

test("movingAverage: trailing window, partial at the start, NaN and left-out entries skipped", () => {
  const v = [1, 2, 3, 4, 5, 6];
  assert.deepEqual(Array.from(movingAverage(v, 3)), [1, 1.5, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(movingAverage(v, 1)), v);
  assert.deepEqual(Array.from(movingAverage([1, NaN, 3, NaN], 2)), [1, 1, 3, 3]);
  assert.deepEqual(Array.from(movingAverage([NaN, NaN], 2)).map(Number.isNaN), [true, true]);
  // success rate: only entries with an outcome count
  const outcome = [1, -1, 0, -1, 1];
  const wins = outcome.map((s) => (s > 0 ? 1 : 0));
  assert.deepEqual(Array.from(movingAverage(wins, 3, (i) => outcome[i] >= 0)), [1, 1, 0.5, 0, 0.5]);
});

test("defaultWindow: about a fiftieth of the run, rounded, at most 10,000", () => {
  assert.equal(defaultWindow(1), 1);
  assert.equal(defaultWindow(50), 1);
  assert.equal(defaultWindow(100), 2);
  assert.equal(defaultWindow(3000), 100);
  assert.equal(defaultWindow(100_000), 2000);
  assert.equal(defaultWindow(10_000_000), 10_000);
});

/** Brute force from the per-episode values: mean of the finite values of [i-w+1, i]. */
function trailing(values: number[], i: number, w: number, use: (j: number) => boolean = () => true): number | null {
  const xs: number[] = [];
  for (let j = Math.max(0, i - w + 1); j <= i; j++) if (Number.isFinite(values[j]) && use(j)) xs.push(values[j]);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

test("rewardCurve: one point per episode up to 1,000 episodes, with the moving average and success rate", () => {
  const n = 40;
  const rewards = Array.from({ length: n }, (_, i) => Math.sin(i) * 3 + i / 10);
  const outcome = Array.from({ length: n }, (_, i) => (i % 4 === 0 ? -1 : i % 2));
  const t = table(n, { reward: (i) => rewards[i], success: (i) => outcome[i] });
  const c = rewardCurve(t, { window: 5 });
  assert.equal(c.binSize, 1);
  assert.equal(c.window, 5);
  assert.equal(c.points.length, n);
  assert.equal(c.withOutcome, outcome.filter((s) => s >= 0).length);
  assert.equal(c.successes, outcome.filter((s) => s > 0).length);
  close(c.totalReward, rewards.reduce((a, b) => a + b, 0), "total");
  c.points.forEach((p, i) => {
    assert.equal(p.episode, i);
    assert.equal(p.reward, rewards[i]);
    close(p.movingAverage, trailing(rewards, i, 5)!, `moving average ${i}`);
    const rate = trailing(outcome.map((s) => (s > 0 ? 1 : 0)), i, 5, (j) => outcome[j] >= 0);
    if (rate === null) assert.equal(p.successRate, null);
    else close(p.successRate, rate, `success rate ${i}`);
    assert.equal(p.outcome, outcome[i] < 0 ? "success not given" : outcome[i] ? "success" : "no success");
    assert.equal(p.success, outcome[i] < 0 ? null : outcome[i]);
  });
  assert.equal(rewardCurve(t).window, defaultWindow(n));
  assert.equal(rewardCurve(t, { window: 1000 }).window, n, "the window is at most the run");
});

test("rewardCurve: 100,000 episodes become 800 bins whose statistics are those of their episodes", () => {
  const n = 100_000;
  const reward = (i: number) => ((i * 7919) % 1000) / 1000 + i / n;
  const success = (i: number) => (i % 5 === 0 ? -1 : (i * 31) % 7 < 3 + (4 * i) / n ? 1 : 0);
  const t = table(n, { reward, success });
  const w = 2000;
  const c = rewardCurve(t, { window: w, bins: 800 });
  assert.equal(c.binSize, 125);
  assert.equal(c.points.length, 800);
  const values = Array.from({ length: n }, (_, i) => reward(i));
  for (const k of [0, 1, 399, 799]) {
    const p = c.points[k];
    const ids = Array.from({ length: 125 }, (_, j) => k * 125 + j);
    assert.equal(p.episode, ids[0]);
    assert.equal(p.lastEpisode, ids[124]);
    assert.equal(p.episodes, 125);
    const xs = ids.map(reward);
    const sorted = [...xs].sort((a, b) => a - b);
    close(p.reward, xs.reduce((a, b) => a + b, 0) / 125, `bin ${k} mean`);
    assert.equal(p.min, sorted[0]);
    assert.equal(p.max, sorted[124]);
    close(p.p10, sorted[12] + (sorted[13] - sorted[12]) * 0.4, `bin ${k} p10`); // (125 - 1) × 0.1 = 12.4
    close(p.p90, sorted[111] + (sorted[112] - sorted[111]) * 0.6, `bin ${k} p90`); // 111.6
    const given = ids.filter((i) => success(i) >= 0);
    close(p.success, given.filter((i) => success(i) > 0).length / given.length, `bin ${k} success`);
    // the moving curves are averaged over the bin
    const ma = ids.map((i) => trailing(values, i, w)!);
    close(p.movingAverage, ma.reduce((a, b) => a + b, 0) / 125, `bin ${k} moving average`);
  }
  assert.equal(rewardCurve(table(MAX_EPISODE_POINTS, { reward, success })).binSize, 1);
  assert.equal(rewardCurve(table(MAX_EPISODE_POINTS + 1, { reward, success }), { bins: 800 }).binSize, 2);
});

test("the reward chart's Vega-Lite spec draws the curve's points, a few hundred for 100,000 episodes", () => {
  const n = 100_000;
  const t = table(n, { reward: (i) => i % 10, success: (i) => i % 2 });
  const ctx: PlotContext = {
    experimentName: "x", episode: 0, data: null, dt: { ms: 1, source: "assumed" }, nNeurons: null, types: null,
    table: t, weights: null, units: {}, width: 800, height: 400,
  };
  const chart = buildChart("reward", ctx);
  const spec = chart.spec as unknown as { data: { values: unknown[] }; vconcat: unknown[]; title: { subtitle: string[] } };
  assert.deepEqual(spec.data.values, rewardCurve(t, { bins: 800 }).points);
  assert.equal(chart.points, 800);
  assert.equal(spec.vconcat.length, 2, "reward and success panels");
  assert.match(spec.title.subtitle[0], /^100,000 episodes, total reward 450000, 50,000 of 100,000 successful \(50\.0%\)$/);
  const none = buildChart("reward", { ...ctx, table: table(10, { reward: () => 1, success: () => -1 }), window: 3 });
  assert.equal((none.spec as unknown as { vconcat: unknown[] }).vconcat.length, 1, "no success panel when no episode said");
  assert.match(none.summary, /moving average over 3 episodes/);
});

/**
 * The learning curve of all episodes: total reward (points), its moving average, steps per
 * episode (right axis) and the success rate's moving average. The episode table arrives as binary
 * columns and grows in place while the file is written; clicking the chart opens that episode.
 */
import uPlot from "uplot";
import { getPacked } from "./api.js";
import { byId, defaultWindow, fmt, movingAverage, withGaps } from "./util.js";

export interface EpisodeRows {
  ids: Float64Array;
  /** Index into the answer's status names (running, completed, incomplete, interrupted). */
  status: Uint8Array;
  success: Int8Array;
  steps: Float64Array;
  spikes: Float64Array;
  reward: Float64Array;
}

interface EpisodesMeta {
  from: number;
  count: number;
  total: number;
  statusNames: string[];
}

/** `a` up to `keep` entries, then `b` (a new array). */
function splice<T extends Float64Array | Uint8Array | Int8Array>(a: T, keep: number, b: T): T {
  const out = new (a.constructor as new (n: number) => T)(keep + b.length);
  out.set(a.subarray(0, keep));
  out.set(b, keep);
  return out;
}

/** The values, or when some are NaN, a copy with null there (uPlot's gaps; a NaN would spoil its scale). */
function gapsIfAny(a: Float64Array): Float64Array | (number | null)[] {
  for (let i = 0; i < a.length; i++) if (Number.isNaN(a[i])) return withGaps(a);
  return a;
}

export class LearningCurve {
  rows: EpisodeRows = {
    ids: new Float64Array(0), status: new Uint8Array(0), success: new Int8Array(0),
    steps: new Float64Array(0), spikes: new Float64Array(0), reward: new Float64Array(0),
  };
  statusNames: string[] = [];
  private plot: uPlot | null = null;
  private readonly onOpen: (id: number) => void;

  constructor(onOpen: (id: number) => void) {
    this.onOpen = onOpen;
  }

  /** Reads the table from row `from` on (the whole table at first; then the last row, which may have grown, and the new ones). */
  async load(from = 0): Promise<void> {
    const { meta, arrays } = await getPacked<EpisodesMeta>("/api/episodes", { from });
    const r = this.rows;
    const keep = Math.min(r.ids.length, meta.from);
    this.statusNames = meta.statusNames;
    this.rows = {
      ids: splice(r.ids, keep, arrays.ids as Float64Array),
      status: splice(r.status, keep, arrays.status as Uint8Array),
      success: splice(r.success, keep, arrays.success as Int8Array),
      steps: splice(r.steps, keep, arrays.totalTimesteps as Float64Array),
      spikes: splice(r.spikes, keep, arrays.totalSpikes as Float64Array),
      reward: splice(r.reward, keep, arrays.totalReward as Float64Array),
    };
    this.draw();
  }

  get count(): number {
    return this.rows.ids.length;
  }

  private data(): uPlot.AlignedData {
    const r = this.rows;
    const w = defaultWindow(r.ids.length);
    const successRate = Float64Array.from(r.success, (s) => (s < 0 ? NaN : s));
    byId("curve-window").textContent = fmt(w);
    return [r.ids, gapsIfAny(r.reward), gapsIfAny(movingAverage(r.reward, w)), gapsIfAny(r.steps), gapsIfAny(movingAverage(successRate, w))];
  }

  private draw(): void {
    const box = byId("curve");
    const n = this.rows.ids.length;
    byId("curve-count").textContent = fmt(n);
    let successes = 0;
    let decided = 0;
    for (const x of this.rows.success) {
      if (x === 1) successes++;
      if (x >= 0) decided++;
    }
    byId("curve-success").textContent = decided ? `${fmt(successes)} of ${fmt(decided)} (${((100 * successes) / decided).toFixed(1)} %)` : "not recorded";
    if (this.plot) {
      this.plot.setData(this.data());
      return;
    }
    if (n === 0) {
      box.textContent = "No episodes yet.";
      return;
    }
    box.textContent = "";
    const many = n > 2000;
    const opts: uPlot.Options = {
      width: box.clientWidth || 900,
      height: 260,
      scales: { x: { time: false }, steps: {}, rate: { range: [0, 1] } },
      cursor: { drag: { x: true, y: false } },
      series: [
        { label: "episode", value: (_u, v) => fmt(v) },
        // one point an episode while few; with many, a thin line (uPlot draws it as a min/max per pixel)
        many
          ? { label: "reward", stroke: "rgba(40,90,170,0.35)", width: 1, points: { show: false }, value: (_u, v) => fmt(v) }
          : { label: "reward", stroke: "rgba(40,90,170,0.55)", width: 1, points: { show: true, space: 0, size: 6, width: 1, fill: "rgba(40,90,170,0.45)", stroke: "rgba(40,90,170,0.45)" }, paths: () => null, value: (_u, v) => fmt(v) },
        { label: "reward (moving avg)", stroke: "#1b4f9c", width: 2, points: { show: false }, value: (_u, v) => fmt(v) },
        { label: "steps", scale: "steps", stroke: "#b0b0b0", width: 1, points: { show: false }, value: (_u, v) => fmt(v) },
        { label: "success rate (moving avg)", scale: "rate", stroke: "#2e9d57", width: 1.5, dash: [6, 4], points: { show: false }, value: (_u, v) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : "–") },
      ],
      axes: [
        { label: "episode", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000] },
        { label: "total reward", size: 60 },
        { label: "steps", scale: "steps", side: 1, size: 60, grid: { show: false } },
      ],
    };
    this.plot = new uPlot(opts, this.data(), box);
    const plot = this.plot;
    plot.over.addEventListener("click", (ev) => {
      if (plot.select.width > 2) return; // a drag zooms, a click opens
      // the episode under the pointer now (the cursor's index may lag a fast click by a frame)
      const i = plot.posToIdx(ev.clientX - plot.over.getBoundingClientRect().left);
      if (i !== null && i !== undefined && i < this.rows.ids.length) this.onOpen(this.rows.ids[i]);
    });
    plot.over.addEventListener("dblclick", () => plot.setScale("x", { min: this.rows.ids[0], max: this.rows.ids[this.rows.ids.length - 1] }));
    new ResizeObserver(() => plot.setSize({ width: box.clientWidth, height: 260 })).observe(box);
  }
}

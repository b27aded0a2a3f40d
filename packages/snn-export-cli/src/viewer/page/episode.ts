/**
 * The episode panel: attributes, the spike raster, neural traces of chosen neurons, behaviour, and
 * rewards / weight changes, all on one time window. Every change of the window (raster zoom or
 * pan, a drag on a chart, the inputs) asks the server for that window only, at the width drawn.
 */
import uPlot from "uplot";
import { ApiError, getJson, getPacked } from "./api.js";
import { AXIS_LABEL, LEFT, RIGHT, Raster, type RasterData, type RasterMeta, type View } from "./raster.js";
import { byId, el, fmt, table, withGaps } from "./util.js";

export interface EpisodeInfo {
  id: number;
  attrs: Record<string, unknown>;
  from: number;
  to: number;
  nNeurons: number;
  neuralVariables: { name: string; shape: number[] }[];
  behaviorVariables: { name: string; shape: number[] }[];
  summary: unknown;
  generation: number;
}

interface SeriesMeta {
  from: number;
  to: number;
  names: string[];
  downsampled: boolean;
  points: number;
}

interface MarkersMeta {
  from: number;
  to: number;
  cols: number;
  rewardCount: number;
  rewardsBinned: boolean;
  events: { timestep: number; type: string; data: unknown }[];
  eventCount: number;
  weightChangeCount: number;
}

/** What the tests and the status line read: the last raster answer. */
export interface RasterReport {
  url: string;
  bytes: number;
  kind: string;
  spikes: number;
  from: number;
  to: number;
  n0: number;
  n1: number;
}

const CHART_HEIGHT = 150;

export class EpisodePanel {
  info: EpisodeInfo | null = null;
  view: View = { from: 0, to: 1, n0: 0, n1: 1 };
  /** While true, the window's end follows the running episode's growth. */
  follow = true;
  lastRaster: RasterReport | null = null;
  /** Bumped when every plot has drawn the current window (tests wait on it). */
  drawn = 0;
  private raster: Raster;
  private charts = new Map<string, uPlot>();
  private abort: AbortController | null = null;
  private timer = 0;
  private seq = 0;

  constructor() {
    this.raster = new Raster(byId("raster"), byId("raster-readout"), (v) => this.setView(v, false), () => this.resetView());
    byId("win-apply").onclick = () => this.applyInputs();
    byId("win-reset").onclick = () => this.resetView();
    byId("win-out").onclick = () => {
      const v = this.view;
      const span = v.to - v.from;
      this.setView({ ...v, from: v.from - span / 2, to: v.to + span / 2 }, false);
    };
    byId("trace-apply").onclick = () => this.schedule();
    byId("follow").onchange = (e) => {
      this.follow = (e.target as HTMLInputElement).checked;
      if (this.follow) this.resetView();
    };
  }

  /** Opens episode `id`: its attributes, then every plot for the whole episode. */
  async open(id: number): Promise<void> {
    const info = await getJson<EpisodeInfo>(`/api/episode/${id}`);
    const first = this.info?.id !== id;
    this.info = info;
    this.renderInfo();
    if (first) {
      this.follow = true;
      (byId("follow") as HTMLInputElement).checked = true;
      this.setupTraceInputs();
      this.resetView();
    }
  }

  /** The file grew: the open episode's attributes again and, when following, the window to its new end. */
  async refresh(): Promise<void> {
    if (!this.info) return;
    const before = this.info;
    const info = await getJson<EpisodeInfo>(`/api/episode/${before.id}`);
    this.info = info;
    this.renderInfo();
    if (info.to !== before.to || info.generation !== before.generation) {
      if (this.follow && this.view.to >= before.to) this.setView({ ...this.view, from: this.view.from === before.from ? info.from : this.view.from, to: info.to }, true);
    }
  }

  private renderInfo(): void {
    const i = this.info!;
    const a = i.attrs;
    byId("episode-title").textContent = `Episode ${i.id}`;
    byId("episode-section").hidden = false;
    const num = (k: string, id: string) => el("span", { id, text: fmt(a[k] as number) });
    byId("episode-attrs").replaceChildren(
      table([
        ["Status", el("span", { id: "ep-status", class: `badge status-${String(a.status)}`, text: String(a.status ?? "?") })],
        ["Steps", num("total_timesteps", "ep-steps")],
        ["Timesteps", `${fmt(i.from)} – ${fmt(i.to - 1)}`],
        ["Spikes", num("total_spikes", "ep-spikes")],
        ["Reward", num("total_reward", "ep-reward")],
        ["Success", a.success === true ? "yes" : a.success === false ? "no" : "–"],
        ["Neurons", fmt(i.nNeurons)],
      ]),
    );
  }

  private setupTraceInputs(): void {
    const i = this.info!;
    const select = byId<HTMLSelectElement>("trace-vars");
    select.replaceChildren(...i.neuralVariables.map((v, k) => el("option", k === 0 ? { value: v.name, selected: "" } : { value: v.name }, v.name)));
    const neurons = byId<HTMLInputElement>("trace-neurons");
    if (!neurons.value) neurons.value = [0, 1, 2].filter((n) => n < i.nNeurons).join(",");
  }

  resetView(): void {
    if (!this.info) return;
    this.setView({ from: this.info.from, to: Math.max(this.info.to, this.info.from + 1), n0: 0, n1: Math.max(1, this.info.nNeurons) }, true);
  }

  private applyInputs(): void {
    const val = (id: string) => Number(byId<HTMLInputElement>(id).value);
    this.setView({ from: val("win-from"), to: val("win-to"), n0: val("win-n0"), n1: val("win-n1") }, false);
  }

  /** Clamps a window to the episode and redraws for it (the requests wait 60 ms for more changes). */
  setView(v: View, keepFollow: boolean): void {
    const i = this.info;
    if (!i) return;
    const end = Math.max(i.to, i.from + 1);
    let from = Math.round(v.from);
    let to = Math.round(v.to);
    const span = Math.min(end - i.from, Math.max(10, to - from));
    if (from < i.from) from = i.from;
    to = from + span;
    if (to > end) {
      to = end;
      from = Math.max(i.from, to - span);
    }
    const n0 = Math.max(0, Math.min(Math.round(v.n0), i.nNeurons - 1));
    const n1 = Math.max(n0 + 1, Math.min(Math.round(v.n1), i.nNeurons));
    this.view = { from, to, n0, n1 };
    if (!keepFollow) {
      this.follow = to >= end && from === i.from;
      (byId("follow") as HTMLInputElement).checked = this.follow;
    }
    byId<HTMLInputElement>("win-from").value = String(from);
    byId<HTMLInputElement>("win-to").value = String(to);
    byId<HTMLInputElement>("win-n0").value = String(n0);
    byId<HTMLInputElement>("win-n1").value = String(n1);
    this.raster.setView(this.view);
    for (const u of this.charts.values()) u.setScale("x", { min: from, max: to });
    this.schedule();
  }

  /**
   * Asks for the current window in 60 ms (more changes may follow). Answers of requests made
   * before now are dropped from here on: an answer for an older window or another episode must
   * not be drawn over this one.
   */
  private schedule(): void {
    clearTimeout(this.timer);
    this.seq++;
    this.abort?.abort();
    this.abort = null;
    this.timer = window.setTimeout(() => void this.fetchAll(), 60);
  }

  private async fetchAll(): Promise<void> {
    const i = this.info;
    if (!i) return;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    const seq = this.seq;
    const v = this.view;
    const width = Math.max(50, Math.round(this.raster.plotWidth * Math.min(2, window.devicePixelRatio || 1)));
    const height = Math.max(10, Math.round(this.raster.plotHeight * Math.min(2, window.devicePixelRatio || 1)));
    const win = { from: v.from, to: v.to, w: width };
    const vars = [...byId<HTMLSelectElement>("trace-vars").selectedOptions].map((o) => o.value);
    const neurons = byId<HTMLInputElement>("trace-neurons").value.replace(/\s+/g, "");
    const error = byId("episode-error");
    error.textContent = "";
    try {
      const [raster, traces, behavior, markers] = await Promise.all([
        getPacked<RasterMeta>(`/api/episode/${i.id}/raster`, { ...win, h: height, n0: v.n0, n1: v.n1 }, abort.signal),
        vars.length && neurons ? getPacked<SeriesMeta>(`/api/episode/${i.id}/traces`, { ...win, vars: vars.join(","), neurons }, abort.signal) : Promise.resolve(null),
        i.behaviorVariables.length ? getPacked<SeriesMeta>(`/api/episode/${i.id}/behavior`, win, abort.signal) : Promise.resolve(null),
        getPacked<MarkersMeta>(`/api/episode/${i.id}/markers`, win, abort.signal),
      ]);
      if (seq !== this.seq) return;
      const m = raster.meta;
      this.raster.setData({ meta: m, t: raster.arrays.t as Uint32Array, n: raster.arrays.n as Uint32Array, bins: raster.arrays.bins as Uint16Array } satisfies RasterData);
      this.lastRaster = { url: `/api/episode/${i.id}/raster`, bytes: raster.bytes, kind: m.kind, spikes: m.spikes, from: m.from, to: m.to, n0: m.n0, n1: m.n1 };
      byId("raster-info").textContent =
        `${fmt(m.spikes)} spikes in [${fmt(m.from)}, ${fmt(m.to)}) × neurons [${fmt(m.n0)}, ${fmt(m.n1)}) — ` +
        (m.kind === "spikes" ? "every spike" : `${fmt(m.cols)}×${fmt(m.rows)} bins, darker = more${m.source === "overview" ? ` (from the episode's overview, ${fmt(m.binSteps)} steps a bin)` : ""}`) + `, ${fmt(Math.round(raster.bytes / 1024))} KiB`;
      const mm = markers.meta;
      this.raster.setMarks({ events: mm.events, rewards: { t: markers.arrays.rewardT, v: markers.arrays.rewardV } });
      this.chart("traces", traces, "neural state");
      this.chart("behavior", behavior, "behaviour");
      this.markersChart(markers.meta, markers.arrays);
      this.events(mm);
      this.drawn++;
    } catch (err) {
      if ((err as Error).name === "AbortError") return;
      error.textContent = err instanceof ApiError ? `server: ${err.message}` : String(err);
    }
  }

  /** A uPlot chart of series answers (downsampled: min and max per column). */
  private chart(key: string, answer: { meta: SeriesMeta; arrays: Record<string, ArrayLike<number>> } | null, label: string): void {
    const box = byId(`${key}-chart`);
    if (!answer) {
      box.textContent = key === "traces" ? "Choose a variable and neurons." : "No behaviour logged.";
      this.charts.get(key)?.destroy();
      this.charts.delete(key);
      return;
    }
    const names = answer.meta.names;
    const data: uPlot.AlignedData = [answer.arrays.t as Float64Array, ...names.map((_, j) => withGaps(answer.arrays[`s${j}`]))];
    this.draw(key, box, data, [...names], label);
  }

  private markersChart(meta: MarkersMeta, a: Record<string, ArrayLike<number>>): void {
    const box = byId("markers-chart");
    // rewards are sparse: put them on the weight-change column grid (NaN where none)
    const t = a.wcTime as Float64Array;
    const reward = new Float64Array(t.length).fill(NaN);
    const span = Math.max(1, meta.to - meta.from);
    for (let i = 0; i < a.rewardT.length; i++) {
      const c = Math.min(t.length - 1, Math.floor(((a.rewardT[i] - meta.from) * t.length) / span));
      reward[c] = (Number.isNaN(reward[c]) ? 0 : reward[c]) + a.rewardV[i];
    }
    this.draw("markers", box, [t, withGaps(reward), a.wcCount as Float64Array, withGaps(a.wcMean)], ["reward", "weight changes", "mean |Δw|"], "reward", true);
  }

  private draw(key: string, box: HTMLElement, data: uPlot.AlignedData, names: string[], label: string, markers = false): void {
    const old = this.charts.get(key);
    const sameSeries = old && old.series.length === names.length + 1 && names.every((n, j) => old.series[j + 1].label === n);
    if (old && sameSeries) {
      old.setData(data, false);
      old.setScale("x", { min: this.view.from, max: this.view.to });
      return;
    }
    old?.destroy();
    box.textContent = "";
    const palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
    const series: uPlot.Series[] = [{ label: "t", value: (_u, v) => fmt(v) }];
    names.forEach((n, j) => {
      if (markers && j === 0) series.push({ label: n, stroke: "#1e9e4a", width: 1, paths: () => null, points: { show: true, space: 0, size: 7, width: 1, stroke: "#1e9e4a", fill: "#1e9e4a" }, value: (_u, v) => fmt(v) });
      else if (markers) series.push({ label: n, scale: j === 1 ? "count" : "dw", stroke: j === 1 ? "#8a8a8a" : "#c46a00", width: 1, points: { show: false }, spanGaps: false, value: (_u, v) => fmt(v) });
      else series.push({ label: n, stroke: palette[j % palette.length], width: 1, points: { show: false }, value: (_u, v) => fmt(v) });
    });
    const u = new uPlot(
      {
        width: box.clientWidth || 900,
        height: CHART_HEIGHT,
        padding: [8, RIGHT, 0, 0],
        scales: {
          x: { time: false, auto: false, range: () => [this.view.from, this.view.to] },
          // a window without any value (no reward in it) keeps an axis, so time stays aligned with the raster
          y: { range: (_u, min, max) => (min === null || max === null || !Number.isFinite(min) ? [0, 1] : uPlot.rangeNum(min, max, 0.1, true)) },
          ...(markers ? { count: {}, dw: {} } : {}),
        },
        cursor: { sync: { key: "episode" }, drag: { x: true, y: false, setScale: false } },
        legend: { live: true },
        series,
        axes: [{}, { label, size: LEFT - AXIS_LABEL, labelSize: AXIS_LABEL }],
        hooks: {
          setSelect: [
            (self) => {
              if (self.select.width < 3) return;
              const from = self.posToVal(self.select.left, "x");
              const to = self.posToVal(self.select.left + self.select.width, "x");
              self.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              this.setView({ ...this.view, from, to }, false);
            },
          ],
        },
      },
      data,
      box,
    );
    u.over.addEventListener("dblclick", () => this.resetView());
    this.charts.set(key, u);
    new ResizeObserver(() => {
      if (box.clientWidth && box.clientWidth !== u.width) {
        u.setSize({ width: box.clientWidth, height: CHART_HEIGHT });
        this.schedule();
      }
    }).observe(box);
  }

  private events(m: MarkersMeta): void {
    const list = byId("events-list");
    const shown = m.events.slice(0, 200);
    list.replaceChildren(
      el("p", { class: "dim", id: "events-count", text: `${fmt(m.eventCount)} event${m.eventCount === 1 ? "" : "s"}, ${fmt(m.rewardCount)} reward${m.rewardCount === 1 ? "" : "s"}${m.rewardsBinned ? " (summed per pixel)" : ""}, ${fmt(m.weightChangeCount)} weight changes in this window` }),
      ...shown.map((e) => {
        const row = el("div", { class: "event" }, el("span", { class: "ev-t", text: fmt(e.timestep) }), el("b", { text: e.type }), " ", el("code", { text: e.data === null ? "" : JSON.stringify(e.data).slice(0, 160) }));
        row.onclick = () => this.setView({ ...this.view, from: e.timestep - 100, to: e.timestep + 100 }, false);
        return row;
      }),
    );
  }
}

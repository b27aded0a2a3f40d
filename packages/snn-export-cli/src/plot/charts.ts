/**
 * The charts of `snn-export plot` as Vega-Lite specifications, built from what the loader reads:
 * an episode's streams (filtered by time window and neuron selection; only what is drawn is kept)
 * or, for the learning curve, the episode table (aggregated into bins: a chart of 100,000
 * episodes draws a few hundred points, not 100,000 marks).
 */
import type { TopLevelSpec } from "vega-lite";
import { FormatError, ValidationError, type CsrMatrix, type EpisodeData, type TimeStep } from "snn-export";
import type { EpisodeTable } from "../inspect/episodes.js";
import { defaultWindow, MAX_EPISODE_POINTS, niceBin, rewardCurve } from "./curve.js";

export const KINDS = ["raster", "traces", "rates", "reward", "weights"] as const;
export type PlotKind = (typeof KINDS)[number];

/** What a chart needs to know about the experiment (read by the caller through the loader). */
export interface PlotContext {
  experimentName: string;
  episode: number;
  /** The episode drawn (raster, traces, rates, weights), read through the loader. */
  data: EpisodeData | null;
  dt: TimeStep;
  nNeurons: number | null;
  /** `network_structure/neurons/types`, when stored as text. */
  types: string[] | null;
  /** The episode table (reward chart). */
  table: EpisodeTable | null;
  /** Moving-average window of the reward chart, in episodes (default: {@link defaultWindow}). */
  window?: number;
  /** Initial weights (weights chart). */
  weights: CsrMatrix | null;
  /** Units from the user's metadata (`units.voltage`), for axis titles. */
  units: Record<string, string>;
  /** Selected neurons; all when undefined. */
  neurons?: number[];
  /** Time window in timesteps, inclusive. */
  from?: number;
  to?: number;
  /** neural_states variable for traces. */
  variable?: string;
  /** Bin width in steps for rates. */
  bin?: number;
  width: number;
  height: number;
}

export interface Chart {
  spec: TopLevelSpec;
  /** Marks drawn (spikes, samples, bins, ...). */
  points: number;
  /** One-line description for the CLI. */
  summary: string;
}

/** Most marks one chart draws; beyond that the caller must narrow the selection. */
const MAX_POINTS = 250_000;
/** Most neurons in a traces chart. */
const MAX_TRACES = 20;

const TYPE_COLOURS: Record<string, string> = { excitatory: "#1f5fa8", exc: "#1f5fa8", e: "#1f5fa8", inhibitory: "#d62728", inh: "#d62728", i: "#d62728" };
const OTHER_COLOURS = ["#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

export const BASE = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  background: "white",
  padding: 12,
  config: {
    font: "sans-serif",
    title: { fontSize: 16, subtitleFontSize: 12, subtitleColor: "#444", anchor: "start" as const, offset: 10 },
    axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" as const, gridColor: "#e6e6e6" },
    legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" as const },
    view: { stroke: "#bbb" },
  },
};

export function buildChart(kind: PlotKind, ctx: PlotContext): Chart {
  switch (kind) {
    case "raster": return raster(ctx);
    case "traces": return traces(ctx);
    case "rates": return rates(ctx);
    case "reward": return reward(ctx);
    case "weights": return weights(ctx);
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

function timeTitle(dt: TimeStep): string {
  return dt.source === "assumed" ? "time (ms; 1 ms per step assumed)" : "time (ms)";
}

function windowText(first: number | undefined, last: number | undefined): string {
  if (first === undefined || last === undefined) return "no steps";
  return `steps ${fmt(first)}–${fmt(last)}`;
}

function inWindow(ctx: PlotContext, t: number): boolean {
  return (ctx.from === undefined || t >= ctx.from) && (ctx.to === undefined || t <= ctx.to);
}

function neuronFilter(ctx: PlotContext): (n: number) => boolean {
  if (!ctx.neurons) return () => true;
  const set = new Set(ctx.neurons);
  return (n) => set.has(n);
}

function colourScale(types: string[]) {
  let other = 0;
  return { domain: types, range: types.map((t) => TYPE_COLOURS[t.toLowerCase()] ?? OTHER_COLOURS[other++ % OTHER_COLOURS.length]) };
}

/** Sorted distinct types, excitatory-like first. */
function typeOrder(types: string[]): string[] {
  const rank = (t: string) => (TYPE_COLOURS[t.toLowerCase()] === "#1f5fa8" ? 0 : TYPE_COLOURS[t.toLowerCase()] ? 1 : 2);
  return [...new Set(types)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The episode a per-episode chart draws. */
function episodeOf(ctx: PlotContext): EpisodeData {
  if (!ctx.data) throw new ValidationError("NOT_FOUND", `episode ${ctx.episode} was not opened`);
  return ctx.data;
}

/** The spikes of the episode inside the window and neuron selection. */
function collectSpikes(ctx: PlotContext, limit: number): { t: number[]; n: number[] } {
  const { timesteps, neuronIds } = episodeOf(ctx).getSpikes();
  const keep = neuronFilter(ctx);
  const t: number[] = [];
  const n: number[] = [];
  for (let i = 0; i < neuronIds.length; i++) {
    const step = timesteps[i];
    if (!inWindow(ctx, step)) continue;
    const id = neuronIds[i];
    if (!keep(id)) continue;
    if (t.length >= limit) {
      throw new ValidationError(
        "OUT_OF_RANGE",
        `more than ${fmt(limit)} spikes to draw; narrow the plot with --from/--to (timesteps) or --neurons`,
      );
    }
    t.push(step);
    n.push(id);
  }
  return { t, n };
}

/** First and last timestep of the episode inside the window. */
function stepRange(ctx: PlotContext): { first?: number; last?: number; steps: number } {
  const ts = episodeOf(ctx).getTimesteps();
  let first: number | undefined;
  let last: number | undefined;
  let steps = 0;
  for (let i = 0; i < ts.length; i++) {
    const v = ts[i];
    if (!inWindow(ctx, v)) continue;
    first ??= v;
    last = v;
    steps++;
  }
  return { first, last, steps };
}

function raster(ctx: PlotContext): Chart {
  const { t, n } = collectSpikes(ctx, MAX_POINTS);
  const range = stepRange(ctx);
  const selected = ctx.neurons ?? (ctx.nNeurons !== null ? Array.from({ length: ctx.nNeurons }, (_, i) => i) : undefined);
  const maxId = selected && selected.length ? selected[selected.length - 1] : n.reduce((a, b) => Math.max(a, b), 0);
  const minId = selected && selected.length ? selected[0] : 0;
  const rows = Math.max(1, maxId - minId + 1);
  const tickSize = Math.max(1, Math.min(8, (ctx.height / rows) * 0.9));
  const types = ctx.types;
  const values = t.map((step, i) => {
    const o: Record<string, unknown> = { t: step * ctx.dt.ms, neuron: n[i] };
    if (types) o.type = types[n[i]] ?? "unknown";
    return o;
  });
  const typeList = types ? typeOrder(values.map((v) => v.type as string)) : [];
  const neuronsText = ctx.neurons ? `${fmt(ctx.neurons.length)} selected neurons` : ctx.nNeurons !== null ? `${fmt(ctx.nNeurons)} neurons` : "all neurons";
  const xDomain = range.first !== undefined && range.last !== undefined ? [range.first * ctx.dt.ms, range.last * ctx.dt.ms] : undefined;
  const spec = {
    ...BASE,
    title: {
      text: `Spike raster — ${ctx.experimentName}, episode ${ctx.episode}`,
      subtitle: `${fmt(t.length)} spikes from ${neuronsText}, ${windowText(range.first, range.last)}${types ? ", coloured by neuron type" : ""}`,
    },
    width: ctx.width,
    height: ctx.height,
    data: { values },
    mark: { type: "tick", orient: "vertical", thickness: 1.2, size: tickSize, opacity: 0.9 },
    encoding: {
      x: { field: "t", type: "quantitative", title: timeTitle(ctx.dt), scale: { domain: xDomain, nice: false, zero: false } },
      y: { field: "neuron", type: "quantitative", title: "neuron id", scale: { domain: [minId - 0.5, maxId + 0.5], nice: false, zero: false }, axis: { tickMinStep: 1, format: "d" } },
      ...(types ? { color: { field: "type", type: "nominal", title: "neuron type", scale: colourScale(typeList), legend: { orient: "right", symbolType: "square" } } } : { color: { value: "#1f5fa8" } }),
    },
  } as unknown as TopLevelSpec;
  return { spec, points: t.length, summary: `${fmt(t.length)} spikes` };
}

function traces(ctx: PlotContext): Chart {
  const ep = episodeOf(ctx);
  // A named variable: only that one is read (an unknown name is the loader's NOT_FOUND, listing the stored ones).
  const states = ep.getNeuralStates(ctx.variable === undefined ? undefined : [ctx.variable]);
  const vars = Object.keys(states.variables);
  if (vars.length === 0) throw new ValidationError("NOT_FOUND", `episode ${ctx.episode} has no neural_states variables to draw`);
  const name = ctx.variable ?? (vars.includes("v") ? "v" : vars[0]);
  const variable = states.variables[name];
  if (variable.shape.length !== 2) {
    throw new FormatError("INVALID_DATA", `neural_states variable ${name} has shape [${variable.shape.join(", ")}]; traces need one value per neuron ([K, N])`);
  }
  const width = variable.shape[1];
  const chosen = ctx.neurons ?? Array.from({ length: Math.min(5, width) }, (_, i) => i);
  if (chosen.length > MAX_TRACES) {
    throw new ValidationError("OUT_OF_RANGE", `--neurons selects ${chosen.length} neurons; traces draw at most ${MAX_TRACES} (e.g. --neurons 0-9)`);
  }
  const bad = chosen.find((c) => c >= width);
  if (bad !== undefined) throw new ValidationError("OUT_OF_RANGE", `neuron ${bad} is out of range: ${name} has ${width} neurons (0-${width - 1})`);
  const values: Array<{ t: number; value: number | null; neuron: string }> = [];
  let first: number | undefined;
  let last: number | undefined;
  let samples = 0;
  const ts = states.timesteps;
  const col = variable.data as ArrayLike<number>;
  for (let r = 0; r < ts.length; r++) {
    const step = ts[r];
    if (!inWindow(ctx, step)) continue;
    first ??= step;
    last = step;
    samples++;
    for (const c of chosen) {
      const v = Number(col[r * width + c]);
      values.push({ t: step * ctx.dt.ms, value: Number.isFinite(v) ? v : null, neuron: `neuron ${c}` });
    }
    if (values.length > MAX_POINTS) throw new ValidationError("OUT_OF_RANGE", `more than ${fmt(MAX_POINTS)} samples to draw; narrow the plot with --from/--to or fewer --neurons`);
  }
  const unit = name === "v" && ctx.units.voltage ? ` (${ctx.units.voltage})` : "";
  const rate = ep.attrs.neural_sampling_rate;
  const every = typeof rate === "number" && rate > 0 ? rate : 1;
  const labels = chosen.map((c) => `neuron ${c}`);
  // One panel per neuron (small multiples, shared axes): overlapping traces are unreadable.
  const rowHeight = Math.max(40, Math.min(160, Math.floor(ctx.height / chosen.length)));
  const spec = {
    ...BASE,
    title: {
      text: `${name === "v" ? "Membrane potential" : `Neural state "${name}"`} — ${ctx.experimentName}, episode ${ctx.episode}`,
      subtitle: `${chosen.length} neuron${chosen.length === 1 ? "" : "s"}, ${fmt(samples)} kept steps (every ${every === 1 ? "step" : `${fmt(every)} steps`}), ${windowText(first, last)}`,
    },
    data: { values },
    facet: { row: { field: "neuron", type: "nominal", sort: labels, title: null, header: { labelAngle: 0, labelAlign: "left", labelFontSize: 12 } } },
    spec: {
      width: ctx.width,
      height: rowHeight,
      mark: { type: "line", strokeWidth: 1.2, interpolate: "linear" },
      encoding: {
        x: { field: "t", type: "quantitative", title: timeTitle(ctx.dt), scale: { nice: false, zero: false } },
        y: { field: "value", type: "quantitative", title: `${name}${unit}`, scale: { zero: false }, axis: { tickCount: 3 } },
        color: { field: "neuron", type: "nominal", sort: labels, scale: { scheme: "tableau10" }, legend: null },
      },
    },
    spacing: 6,
  } as unknown as TopLevelSpec;
  return { spec, points: values.length, summary: `${chosen.length} traces × ${fmt(samples)} samples of ${name}` };
}

function rates(ctx: PlotContext): Chart {
  const range = stepRange(ctx);
  if (range.first === undefined || range.last === undefined) {
    throw new ValidationError("NOT_FOUND", `episode ${ctx.episode} has no steps${ctx.from !== undefined || ctx.to !== undefined ? " in the --from/--to window" : ""}`);
  }
  const span = range.last - range.first + 1;
  const bin = ctx.bin ?? Math.max(1, niceBin(span / 150));
  const nBins = Math.ceil(span / bin);
  const types = ctx.types;
  const selected = ctx.neurons ?? (ctx.nNeurons !== null ? Array.from({ length: ctx.nNeurons }, (_, i) => i) : null);
  if (!selected) throw new FormatError("INVALID_DATA", "the neuron count is unknown (no n_neurons in the file): a per-neuron rate needs it; pass --neurons");
  const groups = new Map<string, number>([["all", selected.length]]);
  if (types) for (const id of selected) groups.set(types[id] ?? "unknown", (groups.get(types[id] ?? "unknown") ?? 0) + 1);
  const counts = new Map<string, Float64Array>([...groups.keys()].map((k) => [k, new Float64Array(nBins)]));
  const { t, n } = collectSpikes(ctx, Number.MAX_SAFE_INTEGER);
  for (let i = 0; i < t.length; i++) {
    const b = Math.floor((t[i] - range.first) / bin);
    if (b < 0 || b >= nBins) continue;
    counts.get("all")![b]++;
    if (types) counts.get(types[n[i]] ?? "unknown")![b]++;
  }
  const values: Array<{ t: number; rate: number; group: string }> = [];
  const groupNames = ["all", ...(types ? typeOrder([...groups.keys()].filter((k) => k !== "all")) : [])];
  for (const gname of groupNames) {
    const c = counts.get(gname)!;
    const size = groups.get(gname)!;
    for (let b = 0; b < nBins; b++) {
      const steps = Math.min(bin, span - b * bin);
      const seconds = (steps * ctx.dt.ms) / 1000;
      values.push({ t: (range.first + b * bin) * ctx.dt.ms, rate: size > 0 ? c[b] / size / seconds : 0, group: gname === "all" ? `all (${size})` : `${gname} (${size})` });
    }
  }
  const labels = groupNames.map((gname) => `${gname === "all" ? "all" : gname} (${groups.get(gname)})`);
  const range2 = colourScale(groupNames.slice(1));
  const spec = {
    ...BASE,
    title: {
      text: `Population firing rate — ${ctx.experimentName}, episode ${ctx.episode}`,
      subtitle: `${fmt(t.length)} spikes in bins of ${fmt(bin)} step${bin === 1 ? "" : "s"} (${Number((bin * ctx.dt.ms).toFixed(3))} ms), ${windowText(range.first, range.last)}${ctx.dt.source === "assumed" ? "; 1 ms per step assumed" : ""}`,
    },
    width: ctx.width,
    height: ctx.height,
    data: { values },
    mark: { type: "line", interpolate: "step-after", strokeWidth: 1.5 },
    encoding: {
      x: { field: "t", type: "quantitative", title: timeTitle(ctx.dt), scale: { nice: false, zero: false } },
      y: { field: "rate", type: "quantitative", title: "rate per neuron (Hz)" },
      color: { field: "group", type: "nominal", title: "neurons", sort: labels, scale: { domain: labels, range: ["#333333", ...range2.range] } },
    },
  } as unknown as TopLevelSpec;
  return { spec, points: values.length, summary: `${fmt(nBins)} bins of ${fmt(bin)} steps` };
}

/** Equal-width bins over the data with a round width (1, 2 or 5 × 10^k), about `maxBins` of them. */
function histogramBins(xs: number[], maxBins: number): Array<{ x0: number; x1: number; count: number }> {
  const finite = xs.filter(Number.isFinite);
  if (finite.length === 0) return [];
  // a loop, not Math.min(...finite): an episode may hold millions of weight changes
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of finite) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (lo === hi) {
    lo -= 0.5 * (Math.abs(lo) || 1);
    hi += 0.5 * (Math.abs(hi) || 1);
  }
  const raw = (hi - lo) / maxBins;
  const p = 10 ** Math.floor(Math.log10(raw));
  const width = [1, 2, 5, 10].map((m) => m * p).find((w) => w >= raw) ?? 10 * p;
  const start = Math.floor(lo / width) * width;
  const n = Math.max(1, Math.ceil((hi - start) / width + 1e-9));
  const counts = new Array<number>(n).fill(0);
  for (const x of finite) counts[Math.min(n - 1, Math.floor((x - start) / width))]++;
  return counts.map((count, i) => ({ x0: start + i * width, x1: start + (i + 1) * width, count }));
}

function reward(ctx: PlotContext): Chart {
  const t = ctx.table;
  if (!t || t.ids.length === 0) throw new ValidationError("NOT_FOUND", "the experiment has no episodes");
  const curve = rewardCurve(t, { window: ctx.window, bins: Math.max(100, Math.min(1000, Math.round(ctx.width))) });
  const n = curve.episodes;
  const binned = curve.binSize > 1;
  const avgText = `moving average over ${fmt(curve.window)} episode${curve.window === 1 ? "" : "s"}`;
  const successText =
    curve.withOutcome === 0
      ? "success not given"
      : `${fmt(curve.successes)} of ${fmt(curve.withOutcome)} successful (${((100 * curve.successes) / curve.withOutcome).toFixed(1)}%)`;
  const domain = n === 1 ? [t.ids[0] - 0.5, t.ids[0] + 0.5] : [t.ids[0], t.ids[n - 1]];
  const x = { field: "episode", type: "quantitative", title: "episode", scale: { nice: false, zero: false, domain }, axis: { format: ",d", tickMinStep: 1 } };
  const colours: Record<string, string> = { success: "#2ca02c", "no success": "#d62728", "success not given": "#7f7f7f" };
  const outcomes = ["success", "no success", "success not given"].filter((o) => curve.points.some((p) => p.outcome === o));
  const rewardHeight = curve.withOutcome > 0 ? Math.round(ctx.height * 0.68) : ctx.height;
  const maLine = {
    mark: { type: "line", color: "#111", strokeWidth: 2, interpolate: "linear" },
    encoding: { x, y: { field: "movingAverage", type: "quantitative", title: "total reward" } },
  };
  const rewardLayers = binned
    ? [
        {
          mark: { type: "area", color: "#9ecae1", opacity: 0.6, interpolate: "step-after" },
          encoding: { x, y: { field: "p10", type: "quantitative", title: "total reward" }, y2: { field: "p90" } },
        },
        { mark: { type: "line", color: "#3182bd", strokeWidth: 0.8, opacity: 0.8, interpolate: "step-after" }, encoding: { x, y: { field: "reward", type: "quantitative" } } },
        maLine,
      ]
    : [
        {
          mark: { type: "point", filled: true, size: n > 200 ? 12 : 30, opacity: 0.8 },
          encoding: {
            x,
            y: { field: "reward", type: "quantitative", title: "total reward" },
            color: { field: "outcome", type: "nominal", title: "outcome", scale: { domain: outcomes, range: outcomes.map((o) => colours[o]) } },
          },
        },
        maLine,
      ];
  const panelTitle = (text: string) => ({ text, fontSize: 13, fontWeight: "normal", anchor: "start" });
  const rewardPanel = { width: ctx.width, height: rewardHeight, title: panelTitle("Total reward per episode"), layer: rewardLayers };
  const successPanel = {
    width: ctx.width,
    height: Math.max(80, ctx.height - rewardHeight - 40),
    title: panelTitle("Success rate"),
    layer: [
      binned
        ? { mark: { type: "line", color: "#2ca02c", strokeWidth: 0.8, opacity: 0.7, interpolate: "step-after" }, encoding: { x, y: { field: "success", type: "quantitative" } } }
        : {
            mark: { type: "tick", orient: "vertical", thickness: 1, size: 6, opacity: 0.7 },
            encoding: {
              x,
              y: { field: "success", type: "quantitative" },
              color: { field: "outcome", type: "nominal", title: "outcome", scale: { domain: outcomes, range: outcomes.map((o) => colours[o]) } },
            },
          },
      {
        mark: { type: "line", color: "#111", strokeWidth: 2 },
        encoding: { x, y: { field: "successRate", type: "quantitative", title: "success rate", scale: { domain: [0, 1] }, axis: { format: "%", tickCount: 5 } } },
      },
    ],
  };
  // what the marks are, in lines short enough not to widen the chart
  const key = binned
    ? [`black: ${avgText}`, `blue: mean of each bin of ${fmt(curve.binSize)} episodes; band: the bin's 10th–90th percentile${curve.withOutcome > 0 ? "; green: success per bin" : ""}`]
    : [`black: ${avgText}; points: each episode${curve.withOutcome > 0 ? "; ticks: each outcome (1 success, 0 not)" : ""}`];
  const spec = {
    ...BASE,
    title: {
      text: `Learning curve — ${ctx.experimentName}`,
      subtitle: [`${fmt(n)} episode${n === 1 ? "" : "s"}, total reward ${Number(curve.totalReward.toFixed(6))}, ${successText}`, ...key],
    },
    data: { values: curve.points },
    vconcat: curve.withOutcome > 0 ? [rewardPanel, successPanel] : [rewardPanel],
    spacing: 16,
    resolve: { scale: { x: "shared", color: "shared" } },
    config: { ...BASE.config, legend: { ...BASE.config.legend, orient: "top", direction: "horizontal" } },
  } as unknown as TopLevelSpec;
  const drawn = binned ? `${fmt(curve.points.length)} bins of ${fmt(curve.binSize)}` : "one point each";
  return {
    spec,
    points: curve.points.length,
    summary: `${fmt(n)} episodes (${drawn}), ${avgText}`,
  };
}

function weights(ctx: PlotContext): Chart {
  const w = ctx.weights;
  const keep = neuronFilter(ctx);
  const cells: Array<{ x0: number; x1: number; y0: number; y1: number; w: number }> = [];
  let maxAbs = 0;
  if (w) {
    for (let r = 0; r < w.shape[0]; r++) {
      if (!keep(r)) continue;
      for (let k = w.indptr[r]; k < w.indptr[r + 1]; k++) {
        const c = Number(w.indices[k]);
        if (!keep(c)) continue;
        const v = Number(w.data[k]);
        if (cells.length >= MAX_POINTS) throw new ValidationError("OUT_OF_RANGE", `more than ${fmt(MAX_POINTS)} synapses to draw; select fewer with --neurons`);
        cells.push({ x0: c - 0.5, x1: c + 0.5, y0: r - 0.5, y1: r + 0.5, w: v });
        maxAbs = Math.max(maxAbs, Math.abs(v));
      }
    }
  }
  // Weight changes of the episode (inside the window), as new - old.
  const wc = episodeOf(ctx).getWeightChanges();
  const deltas: number[] = [];
  for (let i = 0; i < wc.timesteps.length; i++) {
    if (!inWindow(ctx, wc.timesteps[i])) continue;
    if (ctx.neurons) {
      const s = wc.sourceIds[i];
      const tg = wc.targetIds[i];
      if (s >= 0 && !keep(s)) continue;
      if (tg >= 0 && !keep(tg)) continue;
    }
    deltas.push(wc.newWeights[i] - wc.oldWeights[i]);
  }
  const size = Math.min(ctx.height, Math.round(ctx.width * 0.55));
  const range = w ? `${w.shape[0]} × ${w.shape[1]}` : "";
  const matrix = w
    ? {
        title: { text: `Initial weights (${range}, ${fmt(cells.length)} synapses)`, fontSize: 13, fontWeight: "normal" },
        width: size,
        height: size,
        data: { values: cells },
        mark: { type: "rect" },
        encoding: {
          x: { field: "x0", type: "quantitative", title: "target neuron (post)", scale: { nice: false, zero: false }, axis: { format: "d", tickMinStep: 1, grid: false } },
          x2: { field: "x1" },
          y: { field: "y0", type: "quantitative", title: "source neuron (pre)", scale: { nice: false, zero: false, reverse: true }, axis: { format: "d", tickMinStep: 1, grid: false } },
          y2: { field: "y1" },
          color: { field: "w", type: "quantitative", title: "weight", scale: { scheme: "redblue", domainMid: 0, domain: [-maxAbs || -1, maxAbs || 1] } },
        },
      }
    : {
        title: { text: "No initial weight matrix in the file", fontSize: 13, fontWeight: "normal" },
        width: size,
        height: size,
        mark: { type: "text", fontSize: 13, color: "#666" },
        encoding: { text: { value: "network_structure/initial_weights is absent" } },
      };
  const histWidth = Math.max(200, ctx.width - size - 120);
  const hist = histogramBins(deltas, 40);
  const histogram = deltas.length
    ? {
        title: { text: `Weight changes in episode ${ctx.episode} (${fmt(deltas.length)})`, fontSize: 13, fontWeight: "normal" },
        width: histWidth,
        height: size,
        data: { values: hist },
        mark: { type: "rect", color: "#1f5fa8", stroke: "white", strokeWidth: 0.5 },
        encoding: {
          x: { field: "x0", type: "quantitative", title: "Δw = new − old weight", scale: { zero: false } },
          x2: { field: "x1" },
          y: { field: "count", type: "quantitative", title: "weight changes" },
          y2: { datum: 0 },
        },
      }
    : {
        title: { text: `Weight changes in episode ${ctx.episode}`, fontSize: 13, fontWeight: "normal" },
        width: histWidth,
        height: size,
        mark: { type: "text", fontSize: 14, color: "#555" },
        encoding: { text: { value: `no weight changes${ctx.from !== undefined || ctx.to !== undefined ? " in this window" : " in this episode"}` } },
      };
  const spec = {
    ...BASE,
    title: {
      text: `Weights — ${ctx.experimentName}, episode ${ctx.episode}`,
      subtitle: ctx.neurons ? `neurons ${ctx.neurons[0]}–${ctx.neurons[ctx.neurons.length - 1]} (${ctx.neurons.length} selected)` : "all neurons",
    },
    hconcat: [matrix, histogram],
    resolve: { scale: { color: "independent" } },
  } as unknown as TopLevelSpec;
  return { spec, points: cells.length + deltas.length, summary: `${fmt(cells.length)} synapses, ${fmt(deltas.length)} weight changes` };
}

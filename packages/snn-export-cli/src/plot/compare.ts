/** The chart of `snn-export compare`: learning curves of a sweep, one colour per config value, mean line and 95 % band. */
import type { TopLevelSpec } from "vega-lite";
import type { CurveGroup } from "snn-export";
import { BASE, type Chart } from "./charts.js";

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

export interface CompareChartContext {
  /** The config key the runs are grouped by. */
  by: string;
  /** What is drawn (e.g. "total reward"). */
  quantity: string;
  /** Moving-average window applied to each run first. */
  window: number;
  title: string;
  width: number;
  height: number;
}

/** Learning curves grouped by a config value: a line of the mean per group and a band of its 95 % confidence interval. */
export function compareChart(groups: CurveGroup[], ctx: CompareChartContext): Chart {
  const values: { group: string; episode: number; mean: number; lo: number; hi: number; n: number }[] = [];
  for (const g of groups) {
    const label = `${ctx.by} = ${g.label} (${g.runs} run${g.runs === 1 ? "" : "s"})`;
    for (let i = 0; i < g.mean.length; i++) {
      if (Number.isNaN(g.mean[i])) continue;
      values.push({ group: label, episode: g.episode[i], mean: g.mean[i], lo: g.lo[i], hi: g.hi[i], n: g.n[i] });
    }
  }
  const domain = [...new Set(values.map((v) => v.group))];
  const color = { field: "group", type: "nominal", title: null, scale: { domain, range: domain.map((_, i) => COLOURS[i % COLOURS.length]) } };
  const x = { field: "episode", type: "quantitative", title: "episode", scale: { nice: false, zero: false }, axis: { format: ",d", tickMinStep: 1 } };
  const runs = groups.reduce((s, g) => s + g.runs, 0);
  const spec = {
    ...BASE,
    title: {
      text: ctx.title,
      subtitle: [
        `${runs} runs in ${groups.length} group${groups.length === 1 ? "" : "s"} by ${ctx.by}; line: mean over a group's runs of ${ctx.quantity}${ctx.window > 1 ? ` (each run's moving average over ${ctx.window} episodes)` : ""}`,
        "band: 95 % confidence interval of the mean (Student's t over the runs that reached the episode)",
      ],
    },
    width: ctx.width,
    height: ctx.height,
    data: { values },
    layer: [
      { mark: { type: "area", opacity: 0.22, interpolate: "linear" }, encoding: { x, y: { field: "lo", type: "quantitative", title: ctx.quantity, scale: { zero: false } }, y2: { field: "hi" }, color } },
      { mark: { type: "line", strokeWidth: 2, interpolate: "linear" }, encoding: { x, y: { field: "mean", type: "quantitative" }, color } },
    ],
    config: { ...BASE.config, legend: { ...BASE.config.legend, orient: "top", direction: "horizontal", columns: 3, labelLimit: 600, symbolType: "stroke", symbolStrokeWidth: 3, symbolOpacity: 1 } },
  } as unknown as TopLevelSpec;
  return { spec, points: values.length, summary: `${runs} runs, ${groups.length} groups by ${ctx.by}, ${values.length} points` };
}

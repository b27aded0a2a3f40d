/** `snn-export compare`: learning curves of a sweep grouped by a config value. */
import { writeFileSync } from "node:fs";
import { extname } from "node:path";
import { BIN, UsageError, choiceFlag, intFlag, numberFlag, parseWithPositionals, type Io, type Options } from "./args.js";
import { displayPath, formatBytes, safeText } from "./format.js";

const COLUMNS = ["total_reward", "success", "total_timesteps", "total_spikes"] as const;

const OPTIONS = {
  by: { type: "string", short: "b" },
  out: { type: "string", short: "o" },
  column: { type: "string", short: "c" },
  window: { type: "string", short: "w" },
  width: { type: "string" },
  height: { type: "string" },
  scale: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
} satisfies Options;

export function compareHelp(): string {
  return `Usage:
  ${BIN} compare <sweep.h5, or dirs / globs of runs>... --by <config key> --out <file.svg|file.png> [options]

Draws the learning curves of a sweep grouped by a config value: per group (the runs sharing the
value of --by, e.g. seeds of one learning rate) a line of the mean per episode over the group's
runs and a band of its 95 % confidence interval (Student's t). Runs are read from a sweep file
of '${BIN} collect' or found in directories. More than 1,000 episodes are drawn in bins.

Options:
  -b, --by <key>         Config key to group by (required)
  -o, --out <file>       Output file; .svg or .png (required)
  -c, --column <name>    Episode column: total_reward (default), success, total_timesteps, total_spikes
  -w, --window <n>       Moving average over each run's episodes before averaging (default 1)
      --width <px>       Width of the plotting area, 200-4000 (default 800)
      --height <px>      Height of the plotting area, 100-4000 (default 400)
      --scale <x>        PNG pixels per SVG pixel, 0.5-4 (default 2)
      --json             Print what was written as JSON on stdout
  -h, --help             Show this help
      --debug            Show stack traces on errors

Examples:
  ${BIN} compare experiments/sweep/sweep.h5 --by learning_rate --out curves.svg
  ${BIN} compare 'experiments/sweep/*' --by tau --window 10 --out curves.png
`;
}

export async function compareCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseWithPositionals(args, OPTIONS, "compare", 100000);
  if (v.help) {
    io.stdout.write(compareHelp());
    return 0;
  }
  if (positionals.length === 0) throw new UsageError(`compare: name a sweep file or the runs; see '${BIN} compare --help'`);
  if (v.by === undefined || v.by === "") throw new UsageError(`compare: --by <config key> is required; see '${BIN} compare --help'`);
  if (v.out === undefined || v.out.trim() === "") throw new UsageError(`compare: --out <file.svg|file.png> is required`);
  const ext = extname(v.out).toLowerCase();
  if (ext !== ".svg" && ext !== ".png") throw new UsageError(`compare: --out must end in .svg or .png, got '${v.out}'`);
  const column = choiceFlag("compare", "column", v.column, COLUMNS, "total_reward");
  const window = intFlag("compare", "window", v.window, 1, 1, 1_000_000_000);
  const width = intFlag("compare", "width", v.width, 800, 200, 4000);
  const height = intFlag("compare", "height", v.height, 400, 100, 4000);
  const scale = numberFlag("compare", "scale", v.scale, 2, 0.5, 4);
  const [{ ExperimentCollection, learningCurves }, { compareChart }, render] = await Promise.all([
    import("snn-export"),
    import("../plot/compare.js"),
    import("../plot/render.js"),
  ]);
  const t0 = performance.now();
  const all = await ExperimentCollection.open(positionals.length === 1 ? positionals[0] : positionals);
  const runs = all.filter((c) => Object.hasOwn(c, v.by!));
  if (runs.size === 0) {
    const keys = [...new Set(all.runs().flatMap((r) => Object.keys(r.config)))].sort();
    throw new UsageError(`compare: no run has the config key '${v.by}'${keys.length ? `; keys: ${keys.join(", ")}` : ""}`);
  }
  const { values } = await runs.column(column);
  const labels = runs.runs().map((r) => JSON.stringify(r.config[v.by!]));
  const groups = learningCurves(values, labels, { window, maxPoints: Math.max(100, Math.min(1000, width)) });
  // numeric groups in numeric order, others as first seen
  if (groups.every((g) => !Number.isNaN(Number(g.label)))) groups.sort((a, b) => Number(a.label) - Number(b.label));
  const tRead = performance.now();
  const chart = compareChart(groups, { by: safeText(v.by), quantity: column.replace(/_/g, " "), window, title: `Learning curves by ${safeText(v.by)}`, width, height });
  const svg = await render.toSvg(chart.spec);
  const bytes = ext === ".png" ? await render.svgToPng(svg, scale) : Buffer.from(svg, "utf8");
  writeFileSync(v.out, bytes);
  const ms = performance.now() - t0;
  const skipped = all.size - runs.size;
  if (v.json) {
    io.stdout.write(`${JSON.stringify({ out: v.out, format: ext.slice(1), bytes: bytes.length, runs: runs.size, skipped, groups: groups.map((g) => ({ value: JSON.parse(g.label), runs: g.runs, episodes: g.mean.length })), points: chart.points, readMs: Math.round(tRead - t0), ms: Math.round(ms) })}\n`);
  } else {
    io.stderr.write(`wrote ${displayPath(v.out)} (${formatBytes(bytes.length)}): ${chart.summary}${skipped ? `; ${skipped} runs without '${safeText(v.by)}' left out` : ""} in ${(ms / 1000).toFixed(2)} s\n`);
  }
  return 0;
}

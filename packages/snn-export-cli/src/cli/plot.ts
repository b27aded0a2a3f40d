/** `snn-export plot`: charts of an experiment as SVG or PNG. */
import { writeFileSync } from "node:fs";
import { extname } from "node:path";
import type { PlotContext, PlotKind } from "../plot/charts.js";
import { BIN, UsageError, choiceFlag, intFlag, numberFlag, parseWithPositionals, rangeList, requirePositional, signedIntFlag, type Io, type Options } from "./args.js";
import { colorWanted, displayPath, formatBytes, makeStyle, safeText } from "./format.js";

const KIND_NAMES = ["raster", "traces", "rates", "reward", "weights"] as const;

const OPTIONS = {
  episode: { type: "string", short: "e" },
  kind: { type: "string", short: "k" },
  neurons: { type: "string", short: "n" },
  from: { type: "string" },
  to: { type: "string" },
  out: { type: "string", short: "o" },
  var: { type: "string" },
  bin: { type: "string" },
  window: { type: "string", short: "w" },
  width: { type: "string" },
  height: { type: "string" },
  scale: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
} satisfies Options;

export function plotHelp(): string {
  return `Usage:
  ${BIN} plot <experiment dir or .h5 file> --kind <kind> --out <file.svg|file.png> [options]

Draws one chart of an experiment with Vega-Lite (SVG, no browser needed); a .png file is the SVG
rasterised by resvg. An episode's data is read through the loader and filtered by --from/--to
and --neurons; reward reads only the episode table.

Kinds:
  raster    spikes of an episode, time × neuron id, coloured by neuron type when the network
            stores a 'types' field (network_structure/neurons/types)
  traces    membrane potential (neural_states variable v, or the first one; --var picks another)
            of the chosen neurons over time (default neurons 0-4, at most 20)
  rates     population firing rate per neuron (Hz) over time, in bins of --bin steps, for all
            neurons and per neuron type
  reward    the learning curve over every episode, from the episode table: total reward per
            episode with its moving average (--window), and the success rate over the same
            window. Up to 1,000 episodes are drawn one point each; more are put in bins
            (about one per pixel) drawn as mean and 10th-90th percentile band, so 100,000
            episodes draw as fast and as legibly as 1,000
  weights   the initial weight matrix (source × target, colour = weight) beside a histogram of
            the episode's weight changes (new − old)

Time is timestep × dt, with dt from the config (dt_ms, dt_s, dt) or 1 ms per step when the config
has none (the axis title then says so).

Options:
  -k, --kind <kind>      raster, traces, rates, reward or weights (default raster)
  -e, --episode <n>      Episode id (default 0; reward draws every episode)
  -o, --out <file>       Output file; .svg or .png (required)
  -n, --neurons <list>   Neuron ids, e.g. 0-49 or 3,7,10-19 (default: all; traces: 0-4)
      --from <t>         First timestep to draw (inclusive)
      --to <t>           Last timestep to draw (inclusive)
      --var <name>       neural_states variable for traces (default v, else the first)
      --bin <steps>      Bin width of rates in steps (default: about 150 bins)
  -w, --window <n>       Moving-average window of reward, in episodes (default: about 1/50
                         of the episodes, rounded: 100 episodes 2, 3,000 100, 100,000 2,000)
      --width <px>       Width of the plotting area, 200-4000 (default 800)
      --height <px>      Height of the plotting area, 100-4000 (default 400)
      --scale <x>        PNG pixels per SVG pixel, 0.5-4 (default 2)
      --json             Print what was written as JSON on stdout
  -h, --help             Show this help
      --debug            Show stack traces on errors

Examples:
  ${BIN} plot experiments/demo_20240101_120000 --kind raster --out raster.png
  ${BIN} plot run -e 2 -k raster --neurons 0-49 --from 500 --to 1500 --out raster.svg
  ${BIN} plot run -e 0 -k traces --neurons 3,7,12 --out v.png
  ${BIN} plot run -e 0 -k rates --bin 20 --out rates.png
  ${BIN} plot run -k reward --out reward.png
  ${BIN} plot run -k reward --window 500 --out learning.svg
  ${BIN} plot run -e 4 -k weights --out weights.png
`;
}

export async function plotCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseWithPositionals(args, OPTIONS, "plot", 1);
  if (v.help) {
    io.stdout.write(plotHelp());
    return 0;
  }
  const target = requirePositional(positionals, "plot", "the experiment directory or .h5 file");
  const kind = choiceFlag("plot", "kind", v.kind, KIND_NAMES, "raster") as PlotKind;
  if (v.out === undefined || v.out.trim() === "") throw new UsageError(`plot: --out <file.svg|file.png> is required; see '${BIN} plot --help'`);
  const ext = extname(v.out).toLowerCase();
  if (ext !== ".svg" && ext !== ".png") throw new UsageError(`plot: --out must end in .svg or .png, got '${v.out}'`);
  const episodeGiven = v.episode !== undefined;
  const episode = intFlag("plot", "episode", v.episode, 0, 0, Number.MAX_SAFE_INTEGER);
  const neurons = v.neurons === undefined ? undefined : rangeList("plot", "neurons", v.neurons);
  const from = signedIntFlag("plot", "from", v.from);
  const to = signedIntFlag("plot", "to", v.to);
  if (from !== undefined && to !== undefined && to < from) throw new UsageError(`plot: --to (${to}) is before --from (${from})`);
  const bin = v.bin === undefined ? undefined : intFlag("plot", "bin", v.bin, 1, 1, 1_000_000_000);
  const window = v.window === undefined ? undefined : intFlag("plot", "window", v.window, 1, 1, 1_000_000_000);
  if (window !== undefined && kind !== "reward") throw new UsageError(`plot: --window is for --kind reward (the moving average over episodes)`);
  const width = intFlag("plot", "width", v.width, 800, 200, 4000);
  const height = intFlag("plot", "height", v.height, 400, 100, 4000);
  const scale = numberFlag("plot", "scale", v.scale, 2, 0.5, 4);
  const err = makeStyle(colorWanted(io.stderr, io.env));

  const [lib, { buildChart }, render] = await Promise.all([
    import("snn-export"),
    import("../plot/charts.js"),
    import("../plot/render.js"),
  ]);

  // Everything is read through the loader (which also checks the file and the episode).
  const loader = await lib.ExperimentLoader.open(target);
  let chart;
  try {
    const data = kind !== "reward" || episodeGiven ? loader.getEpisode(episode) : null;
    const meta = loader.getMetadata();
    const config = loader.getConfig();
    const dt = lib.timeStep(config);
    const nNeurons = lib.neuronCount(loader);
    if (neurons && nNeurons !== null && neurons[neurons.length - 1] >= nNeurons) {
      throw new UsageError(`plot: --neurons goes up to ${neurons[neurons.length - 1]}, but the network has ${nNeurons} neurons (0-${nNeurons - 1})`);
    }
    const user = meta.user as { units?: Record<string, unknown> } | null;
    const units: Record<string, string> = {};
    if (user && typeof user.units === "object" && user.units !== null) {
      for (const [k, u] of Object.entries(user.units)) if (typeof u === "string") units[k] = safeText(u);
    }
    const ctx: PlotContext = {
      // drawn into the SVG: control characters escaped (XML forbids most of them)
      experimentName: safeText(meta.experimentName ?? "experiment"),
      episode,
      data,
      dt,
      nNeurons,
      types: kind === "raster" || kind === "rates" ? lib.neuronTypes(loader)?.map(safeText) ?? null : null,
      table: kind === "reward" ? loader.episodes() : null,
      window,
      weights: kind === "weights" ? loader.getNetworkStructure().weights : null,
      units,
      neurons,
      from,
      to,
      variable: v.var,
      bin,
      width,
      height,
    };
    chart = buildChart(kind, ctx);
  } finally {
    loader.close();
  }
  const svg = await render.toSvg(chart.spec);
  let bytes: Buffer;
  let pixels: [number, number] | undefined;
  if (ext === ".png") {
    if (!render.systemFonts().any) {
      io.stderr.write(err.yellow(`warning: no fonts found in the system font folders: the PNG will have no text; install one (Debian: apt-get install fonts-dejavu-core) or write .svg\n`));
    }
    bytes = await render.svgToPng(svg, scale);
    pixels = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  } else {
    bytes = Buffer.from(svg, "utf8");
  }
  writeFileSync(v.out, bytes);
  if (v.json) {
    io.stdout.write(
      `${JSON.stringify({ out: v.out, kind, format: ext.slice(1), bytes: bytes.length, ...(pixels ? { pixels: { width: pixels[0], height: pixels[1] } } : {}), points: chart.points, summary: chart.summary })}\n`,
    );
  } else {
    io.stderr.write(`wrote ${displayPath(v.out)} (${pixels ? `${pixels[0]}×${pixels[1]} px, ` : ""}${formatBytes(bytes.length)}): ${kind}, ${chart.summary}\n`);
  }
  return 0;
}

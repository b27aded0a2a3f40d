/** `snn-export export`: one stream of one episode as CSV, JSON Lines or .npy, read through the loader and written in blocks. */
import { createWriteStream, rmSync } from "node:fs";
import { extname } from "node:path";
import type { FormatName } from "../export/formats.js";
import type { StreamName } from "../export/rows.js";
import { BIN, UsageError, choiceFlag, intFlag, parseWithPositionals, requirePositional, type Io, type Options } from "./args.js";
import type { RowSource } from "../export/rows.js";
import { colorWanted, displayPath, formatBytes, formatInt, makeStyle } from "./format.js";
import { renderBar } from "./progress.js";

const STREAM_NAMES = ["spikes", "neural_states", "behavior", "rewards", "weight_changes", "events"] as const;
const FORMAT_NAMES = ["csv", "json", "npy", "nwb", "sonata"] as const;

const OPTIONS = {
  episode: { type: "string", short: "e" },
  episodes: { type: "string" },
  population: { type: "string" },
  stream: { type: "string", short: "s" },
  format: { type: "string", short: "f" },
  out: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
} satisfies Options;

export function exportHelp(): string {
  return `Usage:
  ${BIN} export <experiment dir or .h5 file> --stream <name> [options]
  ${BIN} export <experiment dir or .h5 file> --format nwb --out FILE.nwb [--episodes 0-9]
  ${BIN} export <experiment dir or .h5 file> --format sonata --out spikes.h5 [--episodes 0-9] [--population NAME]

Writes one stream of one episode, row by row, as the loader reads it (the episode's stream is
read whole, then written in blocks of a few MiB).

Streams and their columns:
  spikes          timestep, neuron_id              one row per spike
  neural_states   timestep, <variable>...          one row per kept step; a variable of N neurons
                                                   is N columns v_0 ... v_N-1 in CSV, an array in
                                                   JSON, a sub-array field in .npy
  behavior        timestep, <variable>...          one row per logged step
  rewards         timestep, value                  the non-zero rewards only (as stored)
  weight_changes  timestep, synapse_id, source_id, target_id, old_weight, new_weight  (-1: not given)
  events          timestep, type, data             data is the event's JSON text

Whole-experiment formats (every stream, or the spikes, of the chosen episodes, laid one after
another on one time axis; dt from the config, else 1 ms per step, as the output says):
  nwb     NWB 2.6.0 (core types): Units (spike times grouped by neuron), trials (one per episode),
          neural state and behaviour (Position) series, rewards, events, network, config and
          provenance; opens in pynwb, NWB Widgets, DANDI tools
  sonata  a SONATA spike file: /spikes/<population>/timestamps (ms) and node_ids, sorted by time;
          opens in bmtk (SpikeTrains.from_sonata), libsonata

Formats of one stream:
  csv    a header line, then one line per row; floats in shortest round-trip form, nan/inf/-inf
  json   JSON Lines: one JSON object per row (not one big array), e.g. {"timestep":3,"neuron_id":17};
         NaN/Infinity become null
  npy    a NumPy structured array, one record per row with the file's dtypes
         (np.load(f)["neuron_id"]); not for events (text needs pickle)

Options:
  -e, --episode <n>    Episode id (default 0)
  -s, --stream <name>  One of ${STREAM_NAMES.join(", ")} (required)
  -f, --format <fmt>   csv, json or npy (default: from the --out extension, else csv)
  -o, --out <file>     Write to this file (default: stdout; required for nwb and sonata)
      --episodes <list> nwb/sonata: episodes to export, e.g. 0-9 or 0,2,5-7 (default: all)
      --population <name>  sonata: the population name (default snn)
  -h, --help           Show this help
      --debug          Show stack traces on errors

Examples:
  ${BIN} export experiments/demo_20240101_120000 --stream spikes | head
  ${BIN} export run --episode 3 --stream neural_states --out states.npy
  ${BIN} export run -e 0 -s events -f json | jq .type
  ${BIN} export run --format nwb --out run.nwb --episodes 0-9
  ${BIN} export run --format sonata --out spikes.h5
  python3 -c 'import numpy as np; a = np.load("states.npy"); print(a["timestep"][:5], a["v"].shape)'
`;
}

function formatFromExtension(out: string | undefined): FormatName | "nwb" | undefined {
  const ext = out ? extname(out).toLowerCase() : "";
  if (ext === ".csv") return "csv";
  if (ext === ".json" || ext === ".jsonl" || ext === ".ndjson") return "json";
  if (ext === ".npy") return "npy";
  if (ext === ".nwb") return "nwb";
  return undefined;
}

export async function exportCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseWithPositionals(args, OPTIONS, "export", 1);
  if (v.help) {
    io.stdout.write(exportHelp());
    return 0;
  }
  const target = requirePositional(positionals, "export", "the experiment directory or .h5 file");
  const whole = v.format === "nwb" || v.format === "sonata" || (v.format === undefined && v.stream === undefined && formatFromExtension(v.out) === "nwb");
  if (whole) return exportWhole(target, v, io);
  if (v.episodes !== undefined || v.population !== undefined) throw new UsageError(`export: --episodes and --population go with --format nwb or sonata; one stream takes --episode N`);
  const episode = intFlag("export", "episode", v.episode, 0, 0, Number.MAX_SAFE_INTEGER);
  const stream = choiceFlag("export", "stream", v.stream, STREAM_NAMES) as StreamName;
  const chosen = choiceFlag("export", "format", v.format, FORMAT_NAMES, formatFromExtension(v.out) ?? "csv");
  if (chosen === "nwb" || chosen === "sonata") throw new UsageError(`export: --stream goes with csv, json or npy; nwb and sonata export every stream`);
  const format: FormatName = chosen;
  if (v.out !== undefined && v.out.trim() === "") throw new UsageError(`export: --out needs a file name; see '${BIN} export --help'`);
  if (format === "npy" && stream === "events") {
    throw new UsageError(`export: events hold text, which .npy cannot store without pickle; use --format csv or json`);
  }
  if (format === "npy" && v.out === undefined && io.stdout.isTTY) {
    throw new UsageError(`export: not writing binary .npy to a terminal; use --out FILE or redirect stdout`);
  }

  const [{ ExperimentLoader, neuronCount }, { rowSource }, { Sink, writeRows }] = await Promise.all([
    import("snn-export"),
    import("../export/rows.js"),
    import("../export/formats.js"),
  ]);
  // The loader checks the file (exists, HDF5, snn-export) and the episode id, and reads the stream.
  const loader = await ExperimentLoader.open(target);
  try {
    const data = loader.getEpisode(episode);
    const source = withProgress(rowSource(data, stream, { nNeurons: neuronCount(loader) }), io);
    if (v.out === undefined) {
      const sink = new Sink(io.stdout);
      try {
        await writeRows(source, format, sink);
      } finally {
        source.done();
      }
      return 0;
    }
    const out = createWriteStream(v.out);
    const opened = new Promise<void>((resolve, reject) => {
      out.once("open", () => resolve());
      out.once("error", reject);
    });
    let created = false;
    try {
      await opened;
      created = true;
      const sink = new Sink(out);
      let rows: number;
      try {
        rows = await writeRows(source, format, sink);
      } finally {
        source.done();
      }
      await new Promise<void>((resolve, reject) => {
        out.once("error", reject);
        out.end(() => resolve());
      });
      io.stderr.write(
        `wrote ${formatInt(rows)} row${rows === 1 ? "" : "s"} of ${stream} (episode ${episode}) as ${format === "json" ? "JSON Lines" : format} ` +
          `to ${displayPath(v.out)} (${formatBytes(sink.bytes)})\n`,
      );
    } catch (err) {
      out.destroy();
      if (created) rmSync(v.out, { force: true }); // no half-written file left behind
      throw err;
    }
    return 0;
  } finally {
    loader.close();
  }
}

/** `--format nwb|sonata`: the whole experiment (or its spikes) of the chosen episodes. */
async function exportWhole(target: string, v: { format?: string; out?: string; episodes?: string; population?: string; stream?: string; episode?: string }, io: Io): Promise<number> {
  const format = v.format === "sonata" ? "sonata" : "nwb";
  if (v.stream !== undefined || v.episode !== undefined) throw new UsageError(`export: --format ${format} exports every stream of the chosen episodes: use --episodes (e.g. 0-9), not --stream/--episode`);
  if (v.out === undefined || v.out.trim() === "") throw new UsageError(`export: --format ${format} needs --out FILE (${format === "nwb" ? "run.nwb" : "spikes.h5"})`);
  if (format === "nwb" && v.population !== undefined) throw new UsageError(`export: --population goes with --format sonata`);
  const { parseEpisodeList } = await import("snn-export");
  let episodes: number[] | undefined;
  try {
    episodes = v.episodes === undefined ? undefined : parseEpisodeList(v.episodes);
  } catch (err) {
    throw new UsageError(`export: --episodes: ${(err as Error).message}`);
  }
  const started = performance.now();
  let what: string;
  if (format === "nwb") {
    const { exportNwb } = await import("snn-export");
    const s = await exportNwb(target, v.out, { episodes });
    what = `${formatInt(s.episodes)} episode${s.episodes === 1 ? "" : "s"}, ${formatInt(s.units)} units, ${formatInt(s.spikes)} spikes (${s.spikePasses} pass${s.spikePasses === 1 ? "" : "es"} over the spikes)`;
    if (s.dtSource === "assumed") io.stderr.write(`note: the config names no dt; assumed ${s.dtMs} ms per step (written in general/notes)\n`);
  } else {
    const { exportSonata } = await import("snn-export");
    const s = await exportSonata(target, v.out, { episodes, population: v.population });
    what = `${formatInt(s.episodes)} episode${s.episodes === 1 ? "" : "s"}, ${formatInt(s.spikes)} spikes of population ${s.population}`;
    if (s.dtSource === "assumed") io.stderr.write(`note: the config names no dt; assumed ${s.dtMs} ms per step (attribute /snn_export/dt_source)\n`);
  }
  const { statSync } = await import("node:fs");
  io.stderr.write(`wrote ${format === "nwb" ? "NWB 2.6.0" : "SONATA spikes"} to ${displayPath(v.out)} (${what}; ${formatBytes(statSync(v.out).size)}, ${((performance.now() - started) / 1000).toFixed(2)} s)\n`);
  return 0;
}

/**
 * On a terminal (stderr), a progress bar redrawn at most 10 times a second while the rows stream;
 * elsewhere the source unchanged. Sources that cannot count their rows cheaply get no bar.
 */
function withProgress(source: RowSource, io: Io): RowSource & { done(): void } {
  const tty = io.stderr.isTTY === true;
  let total: number | null = source.rows;
  if (tty && total === null && source.count) total = source.count();
  if (!tty || total === null || total === 0) return { ...source, done: () => undefined };
  const style = makeStyle(colorWanted(io.stderr, io.env));
  const columns = io.stderr.columns && io.stderr.columns > 0 ? io.stderr.columns : 80;
  let shown = false;
  let last = 0;
  const draw = (rows: number) => {
    const label = `exporting ${source.stream}`;
    const counts = `${formatInt(rows)}/${formatInt(total as number)} rows`;
    const width = Math.max(10, Math.min(40, columns - label.length - counts.length - 6));
    io.stderr.write(`\r\x1b[2K${label} ${style.cyan(renderBar(rows / (total as number), width))} ${style.dim(counts)}`);
    shown = true;
  };
  const blocks = source.blocks.bind(source);
  return {
    ...source,
    rows: total,
    *blocks() {
      let rows = 0;
      for (const b of blocks()) {
        yield b;
        rows += b.rows;
        const now = performance.now();
        if (now - last >= 100) {
          last = now;
          draw(rows);
        }
      }
    },
    done() {
      if (shown) io.stderr.write("\r\x1b[2K");
    },
  };
}

/** `snn-export inspect`: what is in an experiment file, and how much room each part takes. */
import type { DatasetEntry, InspectReport } from "../inspect/report.js";
import { BIN, parseWithPositionals, requirePositional, type Io, type Options } from "./args.js";
import { colorWanted, displayPath, formatBytes, formatInt, makeStyle, type Style } from "./format.js";
import { renderTable } from "./table.js";

const OPTIONS = {
  json: { type: "boolean" },
  all: { type: "boolean", short: "a" },
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
} satisfies Options;

export function inspectHelp(): string {
  return `Usage:
  ${BIN} inspect <experiment dir or .h5 file> [options]

Lists the groups and datasets of an experiment file with shape, dtype, chunk shape, filters, and
raw vs stored size, then a table of the episodes (steps, spikes, mean firing rate, total reward,
success, status).

  raw      elements × element size (variable-length strings: "vlen", their text is in the heap)
  stored   bytes the dataset takes in the file after compression, read from the file's chunk
           index (what h5py's dataset.id.get_storage_size() reports); "n/a" when snn-export
           cannot read that kind of index. A hard link ("→") is stored once.
  rate     spikes / neurons / (steps × dt); dt comes from the config (dt_ms, dt_s, dt) and is
           assumed to be 1 ms when the config has none: the output says which.

Options:
  -a, --all     List the datasets of every episode (default: the first episode in full, the
                others as one summary line)
      --json    Print everything as one JSON object on stdout (all episodes, all datasets)
  -h, --help    Show this help
      --debug   Show stack traces on errors

Examples:
  ${BIN} inspect experiments/demo_20240101_120000
  ${BIN} inspect run/experiment_data.h5 --all
  ${BIN} inspect experiments/demo_20240101_120000 --json | jq '.episodes[] | .spikes'
`;
}

export async function inspectCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseWithPositionals(args, OPTIONS, "inspect", 1);
  if (v.help) {
    io.stdout.write(inspectHelp());
    return 0;
  }
  const target = requirePositional(positionals, "inspect", "the experiment directory or .h5 file");
  const { inspectExperiment } = await import("../inspect/report.js");
  const report = await inspectExperiment(target);
  if (v.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(renderReport(report, makeStyle(colorWanted(io.stdout, io.env)), v.all === true));
  return 0;
}

const fmtShape = (s: number[]) => (s.length === 0 ? "scalar" : s.map((n) => formatInt(n)).join(" × "));
const fmtRatio = (raw: number | null, stored: number | null) =>
  raw !== null && stored !== null && stored > 0 && raw > 0 ? `${(raw / stored).toFixed(raw / stored >= 10 ? 0 : 1)}×` : "";

export function renderReport(r: InspectReport, s: Style, all: boolean): string {
  const out: string[] = [];
  out.push(`${s.bold(displayPath(r.file))}  ${formatBytes(r.fileBytes)}`);
  const kv = (k: string, v: string) => out.push(`  ${s.dim(k.padEnd(12))}${v}`);
  const status = r.status === "closed" ? s.green("closed") : r.status === "open" ? s.yellow("open (being written, or its writer died)") : String(r.status);
  kv("experiment", `${r.experimentName ?? "(no name)"}  (format ${r.formatVersion ?? "?"}, ${r.layout ?? "?"} layout)`);
  kv("status", status);
  kv("time", `${r.startTime ?? "?"} → ${r.endTime ?? "not ended"}`);
  kv("network", r.nNeurons === null ? "neuron count unknown" : `${formatInt(r.nNeurons)} neurons`);
  kv("time step", r.timeStep.source === "assumed" ? `${r.timeStep.ms} ms (assumed: the config has no dt)` : `${r.timeStep.ms} ms (${r.timeStep.source})`);
  kv("checkpoints", r.checkpoints.length ? r.checkpoints.join(", ") : "none");

  out.push("", s.bold(`Episodes (${formatInt(r.episodes.length)})`));
  if (r.episodes.length === 0) out.push("  none");
  else {
    const rows = r.episodes.map((e) => [
      String(e.id),
      e.status === "completed" ? e.status : s.yellow(String(e.status ?? "?")),
      formatInt(e.steps),
      formatInt(e.spikes),
      e.meanRateHz === null ? "n/a" : e.meanRateHz.toFixed(2),
      String(Number(e.totalReward.toFixed(6))),
      e.success === null ? "-" : e.success ? s.green("yes") : "no",
    ]);
    out.push(
      ...renderTable(
        [
          { header: "episode", right: true }, { header: "status" }, { header: "steps", right: true },
          { header: "spikes", right: true }, { header: "rate (Hz)", right: true }, { header: "reward", right: true }, { header: "success" },
        ],
        rows,
        { styleHeader: s.dim },
      ),
    );
    out.push(s.dim(`  rate = spikes / ${r.nNeurons === null ? "neurons" : formatInt(r.nNeurons)} neurons / (steps × ${r.timeStep.ms} ms)`));
  }

  out.push("", s.bold("Datasets"));
  out.push(...datasetTable(r, s, all));
  const t = r.totals;
  const ratio = fmtRatio(t.rawBytesOfStored, t.storedBytesOfRaw);
  out.push(
    "",
    `${s.bold("Total")}: ${formatInt(t.datasets)} datasets in ${formatInt(r.groups.length)} groups; ` +
      `raw ${formatBytes(t.rawBytes)} (plus variable-length text), stored ${formatBytes(t.storedBytes)}` +
      `${ratio ? ` (numeric data ${ratio} smaller than raw)` : ""}; file ${formatBytes(r.fileBytes)}`,
  );
  const unknown = r.datasets.filter((d) => d.storedBytes === null && !d.linkTo);
  if (unknown.length) out.push(s.yellow(`  stored size n/a for ${unknown.length} dataset(s): ${unknown[0].storedNote ?? "unknown layout"}`));
  return `${out.join("\n")}\n`;
}

/** The dataset tree: group lines and dataset rows, indented by depth. Episodes after the first collapse unless `all`. */
function datasetTable(r: InspectReport, s: Style, all: boolean): string[] {
  const episodeGroups = r.groups.filter((g) => /^\/episodes\/[^/]+$/.test(g));
  const collapsed = all ? [] : episodeGroups.slice(1);
  const isCollapsed = (p: string) => collapsed.some((g) => p === g || p.startsWith(`${g}/`));
  type Item = { path: string; depth: number; group: boolean; d?: DatasetEntry };
  const items: Item[] = [];
  for (const g of r.groups) if (g !== "/") items.push({ path: g, depth: g.split("/").length - 2, group: true });
  for (const d of r.datasets) items.push({ path: d.path, depth: d.path.split("/").length - 2, group: false, d });
  items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const rows: string[][] = [];
  let summaryDone = false;
  for (const it of items) {
    if (isCollapsed(it.path)) {
      if (!summaryDone) {
        summaryDone = true;
        const ds = r.datasets.filter((d) => isCollapsed(d.path));
        const raw = ds.reduce((a, d) => a + (d.linkTo ? 0 : d.rawBytes ?? 0), 0);
        const stored = ds.reduce((a, d) => a + (d.linkTo ? 0 : d.storedBytes ?? 0), 0);
        const first = collapsed[0].split("/").pop();
        const last = collapsed[collapsed.length - 1].split("/").pop();
        const name = collapsed.length === 1 ? `${first}/` : `${first}/ … ${last}/`;
        const ratio = fmtRatio(raw, stored);
        rows.push([
          `  ${name}`,
          s.dim(
            `${formatInt(collapsed.length)} more episode${collapsed.length === 1 ? "" : "s"}: ${formatInt(ds.length)} datasets, ` +
              `raw ${formatBytes(raw)}, stored ${formatBytes(stored)}${ratio ? ` (${ratio})` : ""}; --all lists them`,
          ),
        ]);
      }
      continue;
    }
    const name = `${"  ".repeat(it.depth)}${it.path.split("/").pop()}${it.group ? "/" : ""}`;
    if (it.group || !it.d) {
      rows.push([s.bold(name), ""]);
      continue;
    }
    const d = it.d;
    if (d.linkTo) {
      rows.push([name, s.dim(`→ ${d.linkTo} (hard link, stored once)`)]);
      continue;
    }
    rows.push([
      name,
      fmtShape(d.shape),
      d.dtype,
      d.chunks ? d.chunks.map((c) => formatInt(c)).join(" × ") : s.dim(d.layout),
      d.filters.length ? d.filters.join("+") : "-",
      d.rawBytes === null ? "vlen" : formatBytes(d.rawBytes),
      d.storedBytes === null ? s.yellow("n/a") : formatBytes(d.storedBytes),
      fmtRatio(d.rawBytes, d.storedBytes),
    ]);
  }
  return renderTable(
    [
      { header: "name" }, { header: "shape", right: true }, { header: "dtype" }, { header: "chunks / layout", right: true },
      { header: "filters" }, { header: "raw", right: true }, { header: "stored", right: true }, { header: "ratio", right: true },
    ],
    rows,
    { styleHeader: s.dim },
  );
}

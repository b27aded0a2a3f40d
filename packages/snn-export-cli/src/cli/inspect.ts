/** `snn-export inspect`: what is in an experiment file, its episodes, and how much room each part takes. */
import { episodeRowAt, shownRows, type EpisodeTable } from "../inspect/episodes.js";
import type { CollapsedGroups, DatasetEntry, InspectReport } from "../inspect/report.js";
import { BIN, parseWithPositionals, requirePositional, type Io, type Options } from "./args.js";
import { colorWanted, displayPath, formatBytes, formatInt, makeStyle, safeJson, safeText, type Style } from "./format.js";
import { renderTable, visibleWidth } from "./table.js";

const OPTIONS = {
  json: { type: "boolean" },
  all: { type: "boolean", short: "a" },
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
} satisfies Options;

export function inspectHelp(): string {
  return `Usage:
  ${BIN} inspect <experiment dir or .h5 file> [options]

Summarises an experiment file: what it is, its episodes, its events, and every group and dataset
with shape, dtype, chunk shape, filters, and raw vs stored size.

Episodes come from the episode table, read once (no episode is opened): counts by status,
success rate, totals of steps, spikes and reward, the first and last tenth of the run, and the
first and last 10 episodes (steps, spikes, mean firing rate, total reward, success, status) with
a line saying how many are hidden. --all lists every episode, written page by page.

  raw      elements × element size (variable-length strings: "vlen", their text is in the heap)
  stored   bytes the dataset takes in the file after compression, read from the file's chunk
           index (what h5py's dataset.id.get_storage_size() reports); "n/a" when snn-export
           cannot read that kind of index. A hard link ("→") is stored once.
  rate     spikes / neurons / (steps × dt); dt comes from the config (dt_ms, dt_s, dt) and is
           assumed to be 1 ms when the config has none: the output says which.

Text from the file (names, statuses, event types) is printed with control characters escaped
(\\x1b, \\n, \\u202e), so a file cannot send terminal escape sequences.

Options:
  -a, --all     List every episode, count the types of every event (by default those of the
                first 200,000), and list the datasets of every episode group (format 1.x; by
                default the first group in full, the others as one summary line)
      --json    Print the report as one JSON object on stdout: the episode summary with the
                first and last 10 episodes (episodes.first, episodes.last, episodes.hidden);
                with --all every episode instead (episodes.rows)
  -h, --help    Show this help
      --debug   Show stack traces on errors

Examples:
  ${BIN} inspect experiments/demo_20240101_120000
  ${BIN} inspect run/experiment_data.h5 --all | less
  ${BIN} inspect experiments/demo_20240101_120000 --json | jq .episodes.success
  ${BIN} inspect run --json --all | jq -c '.episodes.rows[] | [.id, .totalReward]'
`;
}

export async function inspectCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseWithPositionals(args, OPTIONS, "inspect", 1);
  if (v.help) {
    io.stdout.write(inspectHelp());
    return 0;
  }
  const target = requirePositional(positionals, "inspect", "the experiment directory or .h5 file");
  const all = v.all === true;
  const [{ inspectExperiment }, { Sink }] = await Promise.all([import("../inspect/report.js"), import("../export/formats.js")]);
  const { report, table } = await inspectExperiment(target, { all });
  const sink = new Sink(io.stdout);
  if (v.json) await writeJson(report, table, all, sink);
  else await writeReport(report, table, makeStyle(colorWanted(io.stdout, io.env)), all, sink);
  await sink.flush();
  return 0;
}

/** Where report text goes: {@link Sink} (back-pressure, stops quietly when the reader went away). */
export interface TextSink {
  text(s: string): Promise<void>;
  readonly closedByReader: boolean;
}

/** Episode rows formatted per page of output: the text of all of them is never held at once. */
const PAGE_ROWS = 1000;
/** Rows shown at each end of the table without --all. */
const HEAD_ROWS = 10;
const TAIL_ROWS = 10;

const fmtShape = (s: number[]) => (s.length === 0 ? "scalar" : s.map((n) => formatInt(n)).join(" × "));
const fmtRatio = (raw: number | null, stored: number | null) =>
  raw !== null && stored !== null && stored > 0 && raw > 0 ? `${(raw / stored).toFixed(raw / stored >= 10 ? 0 : 1)}×` : "";
const fmtNum = (x: number) => (Number.isFinite(x) ? String(Number(x.toFixed(6))) : "n/a");
const fmtCount = (x: number) => (Number.isFinite(x) ? formatInt(x) : "n/a");
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const plural = (n: number, word: string) => `${formatInt(n)} ${word}${n === 1 ? "" : "s"}`;
const optText = (x: string | null) => (x === null ? null : safeText(x));

/** The human-readable report, written to `out` part by part (episode rows in pages). */
async function writeReport(r: InspectReport, table: EpisodeTable, s: Style, all: boolean, out: TextSink): Promise<void> {
  const head: string[] = [];
  head.push(`${s.bold(safeText(displayPath(r.file)))}  ${formatBytes(r.fileBytes)}`);
  const kv = (k: string, v: string) => head.push(`  ${s.dim(k.padEnd(12))}${v}`);
  const status = r.status === "closed" ? s.green("closed") : r.status === "open" ? s.yellow("open (being written, or its writer died)") : safeText(String(r.status));
  kv("experiment", `${optText(r.experimentName) ?? "(no name)"}  (format ${optText(r.formatVersion) ?? "?"}, ${optText(r.layout) ?? "?"} layout)`);
  kv("status", status);
  kv("time", `${optText(r.startTime) ?? "?"} → ${optText(r.endTime) ?? "not ended"}`);
  kv("network", r.nNeurons === null ? "neuron count unknown" : `${formatInt(r.nNeurons)} neurons`);
  kv("time step", r.timeStep.source === "assumed" ? `${r.timeStep.ms} ms (assumed: the config has no dt)` : `${r.timeStep.ms} ms (${safeText(r.timeStep.source)})`);
  kv("checkpoints", r.checkpoints.length ? r.checkpoints.map(safeText).join(", ") : "none");
  head.push("", ...episodeSummaryLines(r, s));
  await out.text(`${head.join("\n")}\n`);
  await writeEpisodeRows(r, table, s, all, out);
  if (out.closedByReader) return;

  const tail: string[] = ["", ...eventLines(r, s), "", s.bold("Datasets"), ...datasetTable(r, s)];
  const t = r.totals;
  const ratio = fmtRatio(t.rawBytesOfStored, t.storedBytesOfRaw);
  tail.push(
    "",
    `${s.bold("Total")}: ${formatInt(t.datasets)} datasets in ${formatInt(r.groups.length)} groups${t.partial ? " (episode groups not read left out)" : ""}; ` +
      `raw ${formatBytes(t.rawBytes)} (plus variable-length text), stored ${formatBytes(t.storedBytes)}` +
      `${ratio ? ` (numeric data ${ratio} smaller than raw)` : ""}; file ${formatBytes(r.fileBytes)}`,
  );
  const unknown = r.datasets.filter((d) => d.storedBytes === null && !d.linkTo);
  if (unknown.length) tail.push(s.yellow(`  stored size n/a for ${unknown.length} dataset(s): ${safeText(unknown[0].storedNote ?? "unknown layout")}`));
  await out.text(`${tail.join("\n")}\n`);
}

function episodeSummaryLines(r: InspectReport, s: Style): string[] {
  const e = r.episodes;
  const out = [s.bold(`Episodes (${formatInt(e.count)})`)];
  if (e.count === 0) return [...out, "  none"];
  const kv = (k: string, v: string) => out.push(`  ${s.dim(k.padEnd(12))}${v}`);
  kv(
    "status",
    Object.entries(e.byStatus)
      .map(([name, n]) => `${formatInt(n)} ${name === "completed" ? name : s.yellow(safeText(name))}`)
      .join(", "),
  );
  const sc = e.success;
  kv(
    "success",
    sc.rate === null
      ? "not given for any episode"
      : `${formatInt(sc.yes)} yes, ${formatInt(sc.no)} no: ${pct(sc.rate)} of ${formatInt(sc.yes + sc.no)} with an outcome` +
          (sc.notGiven ? `; ${formatInt(sc.notGiven)} not given` : ""),
  );
  const per = (sp: { min: number; mean: number; max: number } | null, f: (x: number) => string) =>
    sp === null ? "" : `; per episode ${f(sp.min)} to ${f(sp.max)}, mean ${fmtNum(Number(sp.mean.toPrecision(4)))}`;
  kv("steps", `${formatInt(e.totals.steps)}${per(e.steps, formatInt)}`);
  const seconds = (e.totals.steps * r.timeStep.ms) / 1000;
  const rate = r.nNeurons && seconds > 0 ? `, mean rate ${(e.totals.spikes / r.nNeurons / seconds).toFixed(2)} Hz per neuron` : "";
  kv("spikes", `${formatInt(e.totals.spikes)}${rate}`);
  kv("reward", `${fmtNum(e.totals.reward)}${per(e.reward, fmtNum)}`);
  if (e.trend) {
    const part = (name: string, st: { from: number; to: number; meanReward: number | null; successRate: number | null }) =>
      `${name} ${formatInt(st.to - st.from)}: mean reward ${st.meanReward === null ? "n/a" : fmtNum(Number(st.meanReward.toPrecision(4)))}` +
      (st.successRate === null ? "" : `, success ${pct(st.successRate)}`);
    kv("trend", `${part("first", e.trend.first)}  →  ${part("last", e.trend.last)}`);
  }
  out.push("");
  return out;
}

const EPISODE_COLUMNS = [
  { header: "episode", right: true }, { header: "status", right: false }, { header: "steps", right: true },
  { header: "spikes", right: true }, { header: "rate (Hz)", right: true }, { header: "reward", right: true }, { header: "success", right: false },
];

/** The episode rows: every one with `all`, else the first and last with a line for those hidden; written in pages. */
async function writeEpisodeRows(r: InspectReport, table: EpisodeTable, s: Style, all: boolean, out: TextSink): Promise<void> {
  const count = r.episodes.count;
  if (count === 0) return;
  const { nNeurons, timeStep: dt } = r;
  const cells = (i: number): string[] => {
    const e = episodeRowAt(table, i, nNeurons, dt);
    return [
      fmtCount(e.id),
      e.status === "completed" ? e.status : s.yellow(safeText(e.status)),
      fmtCount(e.steps),
      fmtCount(e.spikes),
      e.meanRateHz === null || !Number.isFinite(e.meanRateHz) ? "n/a" : e.meanRateHz.toFixed(2),
      fmtNum(e.totalReward),
      e.success === null ? "-" : e.success ? s.green("yes") : "no",
    ];
  };
  const shown = all ? { head: [0, count] as [number, number], tail: [count, count] as [number, number], hidden: 0 } : shownRows(count, HEAD_ROWS, TAIL_ROWS);
  // Column widths over every shown row (one pass, nothing kept), so that pages line up.
  const widths = EPISODE_COLUMNS.map((c) => c.header.length);
  for (const [a, b] of [shown.head, shown.tail]) {
    for (let i = a; i < b; i++) cells(i).forEach((c, k) => (widths[k] = Math.max(widths[k], visibleWidth(c))));
  }
  const line = (row: string[]) =>
    `  ${row.map((c, k) => (EPISODE_COLUMNS[k].right ? c.padStart(widths[k] + c.length - visibleWidth(c)) : c.padEnd(widths[k] + c.length - visibleWidth(c)))).join("  ")}`.replace(/\s+$/, "");
  await out.text(`${s.dim(line(EPISODE_COLUMNS.map((c) => c.header)))}\n`);
  const rows = async (a: number, b: number) => {
    for (let p = a; p < b && !out.closedByReader; p += PAGE_ROWS) {
      const page: string[] = [];
      for (let i = p; i < Math.min(b, p + PAGE_ROWS); i++) page.push(line(cells(i)));
      await out.text(`${page.join("\n")}\n`);
    }
  };
  await rows(...shown.head);
  if (shown.hidden > 0) {
    const from = fmtCount(table.ids[shown.head[1]]);
    const to = fmtCount(table.ids[shown.tail[0] - 1]);
    await out.text(`${s.dim(`  … ${plural(shown.hidden, "more episode")} hidden (${from} to ${to}); --all lists every episode, --json --all as JSON`)}\n`);
  }
  await rows(...shown.tail);
  const neurons = nNeurons === null ? "neurons" : `${formatInt(nNeurons)} neurons`;
  await out.text(`${s.dim(`  rate = spikes / ${neurons} / (steps × ${dt.ms} ms)`)}\n`);
}

function eventLines(r: InspectReport, s: Style): string[] {
  const ev = r.events;
  if (ev.total === null) return [s.bold("Events"), `  ${safeText(ev.note ?? "not counted")}`];
  const out = [s.bold(`Events (${formatInt(ev.total)})`)];
  if (ev.total === 0) return [...out, "  none"];
  if (ev.counted < ev.total) out.push(s.dim(`  types of the first ${formatInt(ev.counted)} events; --all counts every one`));
  const LIST = 20;
  const rows = ev.types.slice(0, LIST).map((t) => [safeText(t.type), formatInt(t.count)]);
  out.push(...renderTable([{ header: "type" }, { header: "count", right: true }], rows, { styleHeader: s.dim }));
  const more = ev.types.length - LIST + ev.moreTypes;
  if (more > 0) out.push(s.dim(`  … ${plural(more, "more type")} (--json lists up to ${formatInt(ev.types.length)})`));
  return out;
}

/** The dataset tree: group lines and dataset rows, indented by depth, with a line for each run of collapsed episode groups. */
function datasetTable(r: InspectReport, s: Style): string[] {
  type Item = { path: string; depth: number; kind: "group" | "dataset" | "collapsed"; d?: DatasetEntry; c?: CollapsedGroups };
  const items: Item[] = [];
  const depth = (p: string) => p.split("/").length - 2;
  for (const g of r.groups) if (g !== "/") items.push({ path: g, depth: depth(g), kind: "group" });
  for (const d of r.datasets) items.push({ path: d.path, depth: depth(d.path), kind: "dataset", d });
  for (const c of r.collapsed) {
    const path = c.parent === "/" ? `/${c.first}` : `${c.parent}/${c.first}`;
    items.push({ path, depth: depth(path), kind: "collapsed", c });
  }
  items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const rows: string[][] = [];
  for (const it of items) {
    const indent = "  ".repeat(it.depth);
    if (it.kind === "collapsed" && it.c) {
      const c = it.c;
      const name = `${indent}${safeText(c.first)}/${c.groups > 1 ? ` … ${safeText(c.last)}/` : ""}`;
      const more = `${plural(c.groups, "more episode group")}`;
      const sizes =
        c.datasets === null
          ? `${more}, not read; --all lists them`
          : `${more}: ${formatInt(c.datasets)} datasets, raw ${formatBytes(c.rawBytes ?? 0)}, stored ${formatBytes(c.storedBytes ?? 0)}` +
            `${fmtRatio(c.rawBytes, c.storedBytes) ? ` (${fmtRatio(c.rawBytes, c.storedBytes)})` : ""}; --all lists them`;
      rows.push([name, s.dim(sizes)]);
      continue;
    }
    const name = `${indent}${safeText(it.path.split("/").pop() ?? "")}${it.kind === "group" ? "/" : ""}`;
    if (it.kind === "group" || !it.d) {
      rows.push([s.bold(name), ""]);
      continue;
    }
    const d = it.d;
    if (d.linkTo) {
      rows.push([name, s.dim(`→ ${safeText(d.linkTo)} (hard link, stored once)`)]);
      continue;
    }
    rows.push([
      name,
      fmtShape(d.shape),
      safeText(d.dtype),
      d.chunks ? d.chunks.map((c) => formatInt(c)).join(" × ") : s.dim(safeText(d.layout)),
      d.filters.length ? d.filters.map(safeText).join("+") : "-",
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

/**
 * The report as one JSON object: everything in {@link InspectReport}, with the episode summary
 * plus the first and last rows (`episodes.first`, `episodes.last`, `episodes.hidden`), or with
 * `all` every row (`episodes.rows`), written in pages.
 */
async function writeJson(r: InspectReport, table: EpisodeTable, all: boolean, out: TextSink): Promise<void> {
  const row = (i: number) => episodeRowAt(table, i, r.nNeurons, r.timeStep);
  const range = ([a, b]: [number, number]) => Array.from({ length: b - a }, (_, k) => row(a + k));
  const MARK = "@@episode rows@@";
  const shown = shownRows(r.episodes.count, HEAD_ROWS, TAIL_ROWS);
  const episodes = all ? { ...r.episodes, rows: MARK } : { ...r.episodes, first: range(shown.head), last: range(shown.tail), hidden: shown.hidden };
  const text = safeJson(JSON.stringify({ ...r, episodes }, null, 2));
  if (!all) {
    await out.text(`${text}\n`);
    return;
  }
  const at = text.indexOf(`"${MARK}"`);
  const lineStart = text.lastIndexOf("\n", at) + 1;
  const keyIndent = /^ */.exec(text.slice(lineStart))?.[0] ?? "";
  const indent = `${keyIndent}  `;
  await out.text(text.slice(0, at));
  const count = r.episodes.count;
  if (count === 0) await out.text("[]");
  else {
    await out.text("[\n");
    for (let p = 0; p < count && !out.closedByReader; p += PAGE_ROWS) {
      const page: string[] = [];
      for (let i = p; i < Math.min(count, p + PAGE_ROWS); i++) page.push(`${indent}${safeJson(JSON.stringify(row(i)))}`);
      await out.text(`${page.join(",\n")}${p + PAGE_ROWS < count ? ",\n" : "\n"}`);
    }
    await out.text(`${keyIndent}]`);
  }
  await out.text(`${text.slice(at + MARK.length + 2)}\n`);
}

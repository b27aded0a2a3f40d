/** `snn-export collect`: many runs as one sweep file (external links, runs table, virtual datasets). */
import { BIN, UsageError, numberFlag, parseWithPositionals, type Io, type Options } from "./args.js";
import { displayPath, formatInt, safeText } from "./format.js";

const OPTIONS = {
  out: { type: "string", short: "o" },
  "stale-after": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
} satisfies Options;

export function collectHelp(): string {
  return `Usage:
  ${BIN} collect <dir, experiment dir, .h5 file or glob>... --out <sweep.h5> [options]

Writes a sweep file: one HDF5 file that sees many runs (one experiment_data.h5 each, written by
any number of processes or machines) as one dataset, without copying their data:
  /files/<run>               an external link to the run's file (a relative path: move the
                             folder as a whole and the links still work)
  /runs/<column>             the runs table, one row per run: name, path, status (closed, open
                             = still being written, interrupted = its writer died, missing),
                             start/end time, episodes, total steps, final reward, and
                             /runs/config/<key> for every config key whose value differs
  /runs/episode_reward, episode_success, episode_steps, episode_status
                             the episode table across runs as HDF5 virtual datasets
                             [runs, max episodes] (NaN / -2 / -1 / -1 past a run's episodes)
Run it again to add new runs and refresh the status of the others (the file is replaced
atomically). Directories are searched three levels down for experiment directories.

Options:
  -o, --out <file>        The sweep file to write (required); its runs are kept when it exists
      --stale-after <s>   An open run written on another host counts as interrupted when its
                          file has not changed for this many seconds (default 120; on this host
                          the writer's process is asked)
      --json              Print the result as JSON on stdout
  -h, --help              Show this help
      --debug             Show stack traces on errors

Examples:
  ${BIN} collect experiments/sweep --out experiments/sweep/sweep.h5
  ${BIN} collect 'experiments/lr*_seed*' --out sweep.h5
  python3 -c 'import h5py; f = h5py.File("sweep.h5"); print(f["runs/episode_reward"][:])'
`;
}

export async function collectCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseWithPositionals(args, OPTIONS, "collect", 100000);
  if (v.help) {
    io.stdout.write(collectHelp());
    return 0;
  }
  if (positionals.length === 0) throw new UsageError(`collect: name the runs (directories, .h5 files or globs); see '${BIN} collect --help'`);
  if (v.out === undefined || v.out.trim() === "") throw new UsageError(`collect: --out <sweep.h5> is required; see '${BIN} collect --help'`);
  const staleAfter = numberFlag("collect", "stale-after", v["stale-after"], 120, 0, 1e9);
  const { collect } = await import("snn-export");
  const t0 = performance.now();
  const r = await collect(positionals, { out: v.out, staleAfter });
  const ms = performance.now() - t0;
  const counts: Record<string, number> = {};
  for (const run of r.runs) counts[run.status] = (counts[run.status] ?? 0) + 1;
  if (v.json) {
    io.stdout.write(`${JSON.stringify({ out: r.file, runs: r.runs.length, added: r.added, read: r.read, statuses: counts, configKeys: r.configKeys, virtual: r.virtual, maxEpisodes: r.maxEpisodes, warnings: r.warnings, ms: Math.round(ms) })}\n`);
  } else {
    for (const w of r.warnings) io.stderr.write(`warning: ${safeText(w)}\n`);
    const st = Object.entries(counts).map(([k, n]) => `${formatInt(n)} ${k}`).join(", ");
    io.stderr.write(
      `wrote ${displayPath(r.file)}: ${formatInt(r.runs.length)} runs (${st || "none"}; ${formatInt(r.added.length)} new, ${formatInt(r.read)} read) in ${(ms / 1000).toFixed(2)} s; ` +
        `config columns: ${r.configKeys.length ? r.configKeys.map(safeText).join(", ") : "none"}; virtual datasets: ${r.virtual.length ? r.virtual.join(", ") : "none"}\n`,
    );
  }
  return 0;
}

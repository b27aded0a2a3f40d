/**
 * `snn-export tail`: follows an experiment while it is written. Every interval it opens the file
 * read-only, reads the root status and the episode table (`loader.episodes()`, which the exporter
 * rewrites at each flush), closes it, and prints what changed: steps/s, spikes/s and reward. It
 * stops when the root attribute `status` is `closed`, or at Ctrl-C.
 */
import type { ExperimentLoader } from "snn-export";
import { BIN, intFlag, numberFlag, parseWithPositionals, requirePositional, type Io, type Options } from "./args.js";
import { colorWanted, displayPath, formatInt, makeStyle, safeJson, safeText, type Style } from "./format.js";

const OPTIONS = {
  interval: { type: "string", short: "i" },
  retries: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
} satisfies Options;

export function tailHelp(): string {
  return `Usage:
  ${BIN} tail <experiment dir or .h5 file> [options]

Follows an experiment while an exporter writes it, printing steps/s, spikes/s and reward of the
running episode, until the file's status becomes "closed" (exit 0) or Ctrl-C (exit 130).

Every interval the file is opened read-only in the loader's live mode, its episode table is
read (the exporter rewrites it at every flush, by default once a second), and it is closed
again, so the writer is never blocked. What was logged but not yet flushed is not visible. A
writer that was killed leaves the status "open": tail then says "no new data" every 10 s until
Ctrl-C. A file that does not exist yet, or cannot be opened while it is being written, is tried
again at the next interval; after --retries failed attempts in a row, tail gives up with the last
error (exit 1).

Options:
  -i, --interval <s>   Seconds between polls, 0.05-3600 (default 1)
      --retries <n>    Failed attempts in a row before giving up, 1-1000000 (default 60)
      --json           One JSON object per line on stdout for every change, and one at the end
  -h, --help           Show this help
      --debug          Show stack traces on errors

Examples:
  ${BIN} tail experiments/demo_20240101_120000      (while '${BIN} demo --steps 100000' runs)
  ${BIN} tail run/experiment_data.h5 --interval 5
  ${BIN} tail run --json | jq -c '{episode, steps_per_second}'
`;
}

interface EpisodeState {
  id: number;
  status: string | null;
  steps: number;
  spikes: number;
  reward: number;
}

interface Totals {
  episodes: number;
  steps: number;
  spikes: number;
  reward: number;
}

interface Snapshot {
  status: string | null;
  totals: Totals;
  /** The last episode of the table (the running one while the exporter writes). */
  last: EpisodeState | null;
}

/** Root status, totals over the episode table, and its last row: one read of `loader.episodes()`. */
function snapshot(loader: ExperimentLoader): Snapshot {
  const stored = loader.rootAttributes.status;
  const t = loader.episodes();
  const n = t.ids.length;
  const sum = (a: Float64Array) => {
    let x = 0;
    for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) x += a[i];
    return x;
  };
  const fin = (x: number) => (Number.isFinite(x) ? x : 0);
  return {
    status: typeof stored === "string" ? stored : null,
    totals: { episodes: n, steps: sum(t.totalTimesteps), spikes: sum(t.totalSpikes), reward: sum(t.totalReward) },
    last: n === 0
      ? null
      : { id: t.ids[n - 1], status: t.status[n - 1] ?? null, steps: fin(t.totalTimesteps[n - 1]), spikes: fin(t.totalSpikes[n - 1]), reward: fin(t.totalReward[n - 1]) },
  };
}

const num = (x: number) => Number(x.toFixed(6));
const roundTotals = (t: Totals): Totals => ({ ...t, reward: num(t.reward) });

export async function tailCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseWithPositionals(args, OPTIONS, "tail", 1);
  if (v.help) {
    io.stdout.write(tailHelp());
    return 0;
  }
  const target = requirePositional(positionals, "tail", "the experiment directory or .h5 file");
  const interval = numberFlag("tail", "interval", v.interval, 1, 0.05, 3600);
  const retries = intFlag("tail", "retries", v.retries, 60, 1, 1_000_000);
  const json = v.json === true;
  const out = makeStyle(colorWanted(io.stdout, io.env));
  const err = makeStyle(colorWanted(io.stderr, io.env));
  const { ExperimentLoader } = await import("snn-export");

  let stop = false;
  let wake: (() => void) | undefined;
  const onSigint = () => {
    stop = true;
    wake?.();
  };
  process.on("SIGINT", onSigint);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  /** One read of the file: opened live (the loader's mode for files still being written), summarised, closed. */
  const poll = async (): Promise<{ file: string; snap: Snapshot }> => {
    const loader = await ExperimentLoader.open(target, { live: true });
    try {
      return { file: loader.filePath, snap: snapshot(loader) };
    } finally {
      loader.close();
    }
  };

  let failures = 0;
  let lastError = "";
  let waitingShown = false;
  let prev: { snap: Snapshot; at: number } | undefined;
  let lastPrint = performance.now();
  let file = target;
  try {
    while (!stop) {
      const at = performance.now();
      let snap: Snapshot | undefined;
      try {
        ({ file, snap } = await poll());
        failures = 0;
      } catch (e) {
        failures++;
        lastError = safeText(e instanceof Error ? e.message.replace(/\s*\n\s*/g, " ") : String(e));
        if (!waitingShown && !json) {
          waitingShown = true;
          io.stderr.write(err.dim(`waiting for ${displayPath(target)}: ${lastError}\n`));
        }
        if (failures >= retries) {
          const seconds = Number((failures * interval).toFixed(1));
          throw new TailGaveUp(`tail: gave up after ${failures} failed attempts in a row (about ${seconds} s): ${lastError}`);
        }
      }
      if (snap) {
        if (!prev && !json) io.stderr.write(err.dim(`following ${displayPath(file)} every ${interval} s (Ctrl-C to stop)\n`));
        const changed = !prev || JSON.stringify(prev.snap) !== JSON.stringify(snap);
        if (changed) {
          report(io, out, json, snap, prev, at);
          lastPrint = at;
        } else if (!json && at - lastPrint >= 10_000) {
          io.stdout.write(out.dim(`${clock()}  no new data for ${Math.round((at - lastPrint) / 1000)} s (status ${safeText(snap.status ?? "?")})\n`));
          lastPrint = at;
        }
        prev = { snap, at };
        if (snap.status === "closed") {
          // The open may have read the episode table before the writer's last flush and the status
          // after it: the closed file does not change any more, so read it once more for the totals.
          const closed = await poll().then((p) => p.snap, () => snap!);
          final(io, out, json, closed, "closed");
          return 0;
        }
      }
      if (!stop) await sleep(interval * 1000);
    }
    if (prev) final(io, out, json, prev.snap, "interrupted");
    else if (!json) io.stderr.write("interrupted before the experiment could be read\n");
    return 130;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** Giving up is an error of the run, reported in one line like library errors. */
class TailGaveUp extends Error {
  readonly code = "ETAILGAVEUP";
}

const clock = () => new Date().toTimeString().slice(0, 8);

function report(io: Io, s: Style, json: boolean, snap: Snapshot, prev: { snap: Snapshot; at: number } | undefined, at: number): void {
  const cur = snap.last;
  const seconds = prev ? Math.max(1e-3, (at - prev.at) / 1000) : 0;
  const dSteps = prev ? snap.totals.steps - prev.snap.totals.steps : 0;
  const dSpikes = prev ? snap.totals.spikes - prev.snap.totals.spikes : 0;
  const dReward = prev ? snap.totals.reward - prev.snap.totals.reward : 0;
  if (json) {
    io.stdout.write(
      `${safeJson(JSON.stringify({
        time: new Date().toISOString(),
        status: snap.status,
        episode: cur?.id ?? null,
        episode_status: cur?.status ?? null,
        episode_steps: cur?.steps ?? 0,
        episode_spikes: cur?.spikes ?? 0,
        episode_reward: cur ? num(cur.reward) : 0,
        steps_per_second: prev ? Math.round(dSteps / seconds) : null,
        spikes_per_second: prev ? Math.round(dSpikes / seconds) : null,
        reward_delta: prev ? num(dReward) : null,
        totals: roundTotals(snap.totals),
      }))}\n`,
    );
    return;
  }
  const ep = cur
    ? `episode ${cur.id} ${cur.status === "running" ? s.cyan("running") : safeText(cur.status ?? "?")}  step ${formatInt(cur.steps)}  spikes ${formatInt(cur.spikes)}  reward ${num(cur.reward)}`
    : "no episode yet";
  const rates = prev
    ? `  │ ${formatInt(dSteps / seconds)} steps/s, ${formatInt(dSpikes / seconds)} spikes/s${dReward !== 0 ? `, reward ${dReward > 0 ? "+" : ""}${num(dReward)}` : ""}`
    : "";
  const count = snap.totals.episodes > 1 ? s.dim(`  (${formatInt(snap.totals.episodes)} episodes)`) : "";
  io.stdout.write(`${s.dim(clock())}  ${ep}${rates}${count}\n`);
}

function final(io: Io, s: Style, json: boolean, snap: Snapshot, why: "closed" | "interrupted"): void {
  const totals = roundTotals(snap.totals);
  if (json) {
    io.stdout.write(`${safeJson(JSON.stringify({ time: new Date().toISOString(), end: why, status: snap.status, totals }))}\n`);
    return;
  }
  const what = why === "closed" ? s.green("experiment closed") : s.yellow("stopped following (the experiment goes on)");
  io.stdout.write(
    `${s.dim(clock())}  ${what}: ${formatInt(totals.episodes)} episode${totals.episodes === 1 ? "" : "s"}, ` +
      `${formatInt(totals.steps)} steps, ${formatInt(totals.spikes)} spikes, total reward ${totals.reward}\n`,
  );
}

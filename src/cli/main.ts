#!/usr/bin/env node
/**
 * The `snn-export` command line.
 *
 * Exit codes: 0 success, 1 error while running (library errors: one line), 2 bad command line,
 * 130 interrupted (Ctrl-C). `--debug` anywhere adds stack traces.
 */
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { SnnExportError } from "../errors.js";
import type { DemoResult, EpisodeResult } from "../demo/run.js";
import { closest, colorWanted, displayPath, formatBytes, formatInt, formatSeconds, makeStyle, shellQuote } from "./format.js";
import { EpisodeProgress } from "./progress.js";

const BIN = "snn-export";

/** A bad command line: exit code 2. */
class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

const GLOBAL_OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
  debug: { type: "boolean" },
} satisfies Options;

const DEMO_OPTIONS = {
  episodes: { type: "string", short: "e" },
  steps: { type: "string", short: "s" },
  neurons: { type: "string", short: "n" },
  seed: { type: "string" },
  out: { type: "string", short: "o" },
  name: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
} satisfies Options;

const COMMANDS = ["demo", "help"] as const;
type Command = (typeof COMMANDS)[number];

export function version(): string {
  // Compiled to dist/src/cli/main.js; package.json is three levels up.
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  if (typeof pkg.version !== "string") throw new Error("package.json has no version");
  return pkg.version;
}

function topHelp(): string {
  return `${BIN} ${version()}: stream spiking-neural-network experiments into HDF5 files

Usage:
  ${BIN} <command> [options]

Commands:
  demo          Run a small spiking-network experiment and write it to an HDF5 file
  help [cmd]    Show help for a command

Options:
  -h, --help      Show this help; with a command, that command's help
  -v, --version   Print the version
      --debug     Show stack traces on errors

Examples:
  ${BIN} demo                              5 episodes of 2000 steps into ./experiments/
  ${BIN} demo --episodes 2 --out /tmp/runs
  ${BIN} demo --help

Exit codes: 0 success, 1 error while running, 2 bad command line, 130 interrupted.
`;
}

function demoHelp(): string {
  return `Usage:
  ${BIN} demo [options]

Runs a small spiking neural network and streams it into an HDF5 file. Leaky integrate-and-fire
neurons (80% excitatory, 20% inhibitory, ~10% random connectivity) steer an agent to a goal in
the unit square: sensory neurons encode the direction to the goal, four motor populations move
the agent, reward-modulated STDP changes weights at each reward. Every step (membrane
potentials every 10th step, spikes, position, rewards, weight changes, events) is written to
  <out>/<name>_<YYYYmmdd_HHMMSS>/experiment_data.h5
The same seed gives the same data.

Options:
  -e, --episodes <n>   Episodes to run, 1-10000 (default 5)
  -s, --steps <n>      Steps of 1 ms per episode, 1-10000000 (default 2000)
  -n, --neurons <n>    Neurons in the network, 20-5000 (default 200)
      --seed <n>       Seed of everything random, 0-4294967295 (default 1)
  -o, --out <dir>      Where experiment directories are created (default ./experiments)
      --name <name>    Experiment name, the start of the directory name (default demo)
      --json           Print the result as JSON on stdout, nothing else
  -h, --help           Show this help
      --debug          Show stack traces on errors

Progress goes to stderr: a bar per episode on a terminal, one line per episode otherwise.
NO_COLOR=1 turns colours off.

Examples:
  ${BIN} demo
  ${BIN} demo --episodes 10 --steps 5000 --seed 7
  ${BIN} demo -n 1000 -o /tmp/runs --name big
  ${BIN} demo --json > result.json
`;
}

function helpFor(command: Command | undefined): string {
  return command === "demo" ? demoHelp() : topHelp();
}

/** parseArgs with its errors turned into one-line usage errors. */
function parse<O extends Options>(args: string[], options: O, where: string) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw toUsageError(err, options, where);
  }
}

function toUsageError(err: unknown, options: Options, where: string): Error {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code !== "string" || !e.code.startsWith("ERR_PARSE_ARGS")) return err as Error;
  const quoted = /'([^']*)'/.exec(e.message ?? "")?.[1] ?? "";
  const see = `see '${BIN}${where ? ` ${where}` : ""} --help'`;
  const prefix = where ? `${where}: ` : "";
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const names = Object.keys(options).map((k) => `--${k}`);
      const hint = quoted.startsWith("--") ? closest(quoted, names) : undefined;
      return new UsageError(`${prefix}unknown option '${quoted}'${hint ? ` (did you mean ${hint}?)` : ""}; ${see}`);
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return new UsageError(`${prefix}unexpected argument '${quoted}'; ${see}`);
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      // "Option '-e, --episodes <value>' argument missing" / "Option '--json' does not take an argument"
      const flag = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
      const msg = e.message ?? "";
      const what = /does not take an argument/.test(msg)
        ? "takes no value"
        : /ambiguous/.test(msg)
          ? `needs a value (for a value starting with '-', write ${flag}=<value>)`
          : "needs a value";
      return new UsageError(`${prefix}option ${flag} ${what}; ${see}`);
    }
    default:
      return new UsageError(`${prefix}${(e.message ?? "").split("\n")[0]}; ${see}`);
  }
}

function intFlag(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const s = raw.trim();
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`demo: --${flag} must be a whole number from ${formatInt(min)} to ${formatInt(max)}, got '${raw}'; see '${BIN} demo --help'`);
  }
  return n;
}

/** Runs the CLI; returns the exit code. Never calls process.exit itself. */
export async function main(argv: string[], io: Io): Promise<number> {
  const debug = argv.includes("--debug");
  try {
    return await dispatch(argv, io);
  } catch (err) {
    return reportError(err, io, debug);
  }
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  const at = argv.findIndex((a) => !a.startsWith("-"));
  const globalArgs = at < 0 ? argv : argv.slice(0, at);
  const command = at < 0 ? undefined : argv[at];
  const rest = at < 0 ? [] : argv.slice(at + 1);
  if (globalArgs.includes("--")) throw new UsageError(`unexpected '--'; see '${BIN} --help'`);
  const { values: g } = parse(globalArgs, GLOBAL_OPTIONS, "");

  if (g.version) {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === undefined) {
    if (g.help) {
      io.stdout.write(topHelp());
      return 0;
    }
    io.stderr.write(topHelp());
    return 2;
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    const hint = closest(command, COMMANDS);
    throw new UsageError(`unknown command '${command}'${hint ? ` (did you mean '${hint}'?)` : ""}; commands: ${COMMANDS.join(", ")}; see '${BIN} --help'`);
  }
  const cmd = command as Command;
  if (g.help && cmd !== "help") {
    io.stdout.write(helpFor(cmd));
    return 0;
  }
  switch (cmd) {
    case "help": {
      const words = rest.filter((a) => a !== "-h" && a !== "--help" && a !== "--debug");
      if (words.length > 1) throw new UsageError(`help: takes at most one command name; see '${BIN} --help'`);
      const topic = words[0];
      if (topic !== undefined && !(COMMANDS as readonly string[]).includes(topic)) {
        throw new UsageError(`help: unknown command '${topic}'; commands: ${COMMANDS.join(", ")}`);
      }
      io.stdout.write(helpFor(topic as Command | undefined));
      return 0;
    }
    case "demo":
      return demo(rest, io);
  }
}

async function demo(args: string[], io: Io): Promise<number> {
  const { values: v } = parse(args, DEMO_OPTIONS, "demo");
  if (v.help) {
    io.stdout.write(demoHelp());
    return 0;
  }
  const episodes = intFlag("episodes", v.episodes, 5, 1, 10_000);
  const steps = intFlag("steps", v.steps, 2000, 1, 10_000_000);
  const neurons = intFlag("neurons", v.neurons, 200, 20, 5000);
  const seed = intFlag("seed", v.seed, 1, 0, 0xffffffff);
  const outputBaseDir = v.out ?? "experiments";
  if (outputBaseDir.trim() === "") throw new UsageError(`demo: --out needs a directory; see '${BIN} demo --help'`);
  const name = v.name ?? "demo";
  const json = v.json === true;

  const errStyle = makeStyle(colorWanted(io.stderr, io.env));
  const outStyle = makeStyle(colorWanted(io.stdout, io.env));
  const progress = json ? undefined : new EpisodeProgress(io.stderr, { episodes, style: errStyle, tty: io.stderr.isTTY === true });

  // Loaded here so that --help and --version never load the HDF5 engine.
  const { runDemo } = await import("../demo/run.js");

  // Ctrl-C: finish the current step, end the episode, close the file. A second Ctrl-C quits at once.
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    progress?.line(errStyle.yellow("interrupted: closing the file (Ctrl-C again to quit at once)"));
  };
  process.on("SIGINT", onSigint);

  let result: DemoResult;
  try {
    result = await runDemo({
      episodes,
      steps,
      neurons,
      seed,
      outputBaseDir,
      name,
      signal: controller.signal,
      onStart: progress
        ? (info) =>
            progress.line(
              errStyle.dim(
                `writing ${displayPath(info.filePath)}: ${formatInt(episodes)} episode${episodes === 1 ? "" : "s"} × ` +
                  `${formatInt(steps)} steps, ${formatInt(info.neurons)} neurons, seed ${seed}`,
              ),
            )
        : undefined,
      onProgress: progress ? (e, s, n) => progress.update(e, s, n) : undefined,
      onEpisodeEnd: progress ? (ep) => progress.episodeDone(ep.episode, episodeLine(ep, errStyle)) : undefined,
    });
  } finally {
    progress?.clear();
    process.off("SIGINT", onSigint);
  }

  if (json) {
    const { params, ...rest } = result;
    const stepsPerSecond = result.seconds > 0 ? result.steps / result.seconds : null;
    io.stdout.write(`${JSON.stringify({ ...rest, stepsPerSecond, seed, stepsPerEpisode: steps, params }, null, 2)}\n`);
  } else {
    io.stdout.write(summary(result, steps, outStyle));
  }
  return result.aborted ? 130 : 0;
}

function episodeLine(ep: EpisodeResult, s: ReturnType<typeof makeStyle>): string {
  const goals = `${ep.goalsReached} goal${ep.goalsReached === 1 ? "" : "s"}`;
  return [
    `${formatInt(ep.steps)} steps`,
    `${formatInt(ep.spikes)} spikes (${ep.meanRateHz.toFixed(1)} Hz)`,
    ep.goalsReached > 0 ? s.green(goals) : goals,
    `reward ${Number(ep.reward.toFixed(3))}`,
    `${formatInt(ep.weightChanges)} weight changes`,
  ].join(", ");
}

function summary(r: DemoResult, stepsPerEpisode: number, s: ReturnType<typeof makeStyle>): string {
  const dir = displayPath(r.outputDir);
  const file = displayPath(r.filePath);
  const q = shellQuote(file);
  const rateHz = r.steps > 0 ? (r.spikes / r.neurons / r.steps) * (1000 / r.params.network.dt) : 0;
  const speed = r.seconds > 0 ? r.steps / r.seconds : 0;
  const exportSeconds = Math.max(0, r.seconds - r.simulationSeconds);
  const row = (label: string, value: string) => `  ${s.dim(label.padEnd(10))}${value}\n`;
  const title = r.aborted
    ? s.yellow(`Interrupted; the partial experiment is in ${dir}/`)
    : `${s.green("✔")} ${s.bold(`Experiment written to ${dir}/`)}`;
  return (
    `\n${title}\n` +
    row("file", `${file}  (${formatBytes(r.fileBytes)})`) +
    row(
      "episodes",
      r.aborted
        ? `${formatInt(r.episodes)} (interrupted): ${formatInt(r.steps)} steps of ${formatInt(stepsPerEpisode)} per episode`
        : `${formatInt(r.episodes)} × ${formatInt(stepsPerEpisode)} steps = ${formatInt(r.steps)} steps`,
    ) +
    row("network", `${formatInt(r.neurons)} neurons, ${formatInt(r.synapses)} synapses, seed ${r.params.seed}`) +
    row("spikes", `${formatInt(r.spikes)} (${rateHz.toFixed(1)} Hz per neuron)`) +
    row("rewards", `${formatInt(r.goalsReached)} goal${r.goalsReached === 1 ? "" : "s"} reached, total reward ${Number(r.rewards.toFixed(3))}`) +
    row("weights", `${formatInt(r.weightChanges)} weight changes, ${formatInt(r.events)} events`) +
    row("time", `${formatSeconds(r.seconds)} (simulation ${formatSeconds(r.simulationSeconds)}, export ${formatSeconds(exportSeconds)})`) +
    row("speed", `${s.bold(formatInt(speed))} steps/s written (${formatBytes(r.seconds > 0 ? r.fileBytes / r.seconds : 0)}/s)`) +
    `\n${s.bold("Look at it:")}\n` +
    `  h5ls -r ${q}\n` +
    `  h5dump -d /episodes/episode_0000/summary ${q}\n` +
    `  python3 -c 'import h5py, sys; f = h5py.File(sys.argv[1], "r"); f.visit(print)' ${q}\n`
  );
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

function reportError(err: unknown, io: Io, debug: boolean): number {
  const stack = () => {
    if (debug && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    let cause = err instanceof Error ? err.cause : undefined;
    while (debug && cause !== undefined) {
      io.stderr.write(`caused by: ${cause instanceof Error ? cause.stack ?? cause.message : String(cause)}\n`);
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  };
  if (err instanceof UsageError) {
    io.stderr.write(`${BIN}: ${oneLine(err.message)}\n`);
    stack();
    return 2;
  }
  if (err instanceof SnnExportError) {
    io.stderr.write(`${BIN}: error: ${oneLine(err.message)} [${err.code}]\n`);
    stack();
    return 1;
  }
  const e = err as { code?: unknown; message?: unknown };
  const message = err instanceof Error ? err.message : String(err);
  if (typeof e?.code === "string" && /^E[A-Z]+$/.test(e.code)) {
    // A system error (EACCES, ENOSPC, ...): the message says what and where.
    io.stderr.write(`${BIN}: error: ${oneLine(message)}\n`);
  } else {
    io.stderr.write(`${BIN}: internal error: ${oneLine(message)}${debug ? "" : " (run with --debug for the stack trace)"}\n`);
  }
  stack();
  return 1;
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // `snn-export demo --json | head -1`: a closed pipe is not an error worth a stack trace.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
  });
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${BIN}: internal error: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

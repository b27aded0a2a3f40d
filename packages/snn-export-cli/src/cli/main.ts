#!/usr/bin/env node
/**
 * The `snn-export` command line.
 *
 * Exit codes: 0 success, 1 error while running (library errors: one line), 2 bad command line,
 * 130 interrupted (Ctrl-C). `--debug` anywhere adds stack traces.
 */
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SnnExportError } from "snn-export";
import { BIN, UsageError, parse, type Io, type Options } from "./args.js";
import { benchCommand, benchHelp } from "./bench.js";
import { collectCommand, collectHelp } from "./collect.js";
import { compareCommand, compareHelp } from "./compare.js";
import { demoCommand, demoHelp } from "./demo.js";
import { exportCommand, exportHelp } from "./export.js";
import { closest, safeText } from "./format.js";
import { inspectCommand, inspectHelp } from "./inspect.js";
import { plotCommand, plotHelp } from "./plot.js";
import { tailCommand, tailHelp } from "./tail.js";
import { viewCommand, viewHelp } from "./view.js";

export type { Io } from "./args.js";

const GLOBAL_OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
  debug: { type: "boolean" },
} satisfies Options;

const COMMANDS = ["demo", "inspect", "plot", "export", "tail", "view", "collect", "compare", "bench", "help"] as const;
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
  inspect       List an experiment's groups, datasets and sizes, and its episodes
  plot          Draw a spike raster, membrane traces, rates, rewards or weights (SVG or PNG)
  export        Stream one episode's spikes, states, behaviour, ... as CSV, JSON Lines or .npy
  tail          Follow an experiment while it is being written
  view          Look at an experiment in the browser, live while it is written
  collect       Gather many runs (a sweep) into one HDF5 file: links, a runs table, virtual datasets
  compare       Learning curves of a sweep grouped by a config value (mean and 95 % band)
  bench         Run the benchmark suite (from a source checkout)
  help [cmd]    Show help for a command

Options:
  -h, --help      Show this help; with a command, that command's help
  -v, --version   Print the version
      --debug     Show stack traces on errors

Examples:
  ${BIN} demo                              5 episodes of 2000 steps into ./experiments/
  ${BIN} inspect experiments/demo_20240101_120000
  ${BIN} plot experiments/demo_20240101_120000 --episode 0 --kind raster --out raster.png
  ${BIN} export experiments/demo_20240101_120000 --episode 0 --stream spikes --format csv
  ${BIN} tail experiments/demo_20240101_120000
  ${BIN} view experiments/demo_20240101_120000
  ${BIN} help plot

Exit codes: 0 success, 1 error while running, 2 bad command line, 130 interrupted.
NO_COLOR=1 turns colours off.
`;
}

function helpFor(command: Command | undefined): string {
  switch (command) {
    case "demo": return demoHelp();
    case "inspect": return inspectHelp();
    case "plot": return plotHelp();
    case "export": return exportHelp();
    case "tail": return tailHelp();
    case "view": return viewHelp();
    case "collect": return collectHelp();
    case "compare": return compareHelp();
    case "bench": return benchHelp();
    default: return topHelp();
  }
}

/** Runs the CLI; returns the exit code. Never calls process.exit itself (except a second Ctrl-C). */
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
      return demoCommand(rest, io);
    case "inspect":
      return inspectCommand(rest, io);
    case "plot":
      return plotCommand(rest, io);
    case "export":
      return exportCommand(rest, io);
    case "tail":
      return tailCommand(rest, io);
    case "view":
      return viewCommand(rest, io);
    case "collect":
      return collectCommand(rest, io);
    case "compare":
      return compareCommand(rest, io);
    case "bench":
      return benchCommand(rest, io);
  }
}

/** An error message on one line, with any control characters it quotes from a file escaped. */
function oneLine(s: string): string {
  return safeText(s.replace(/\s*\n\s*/g, " ").trim());
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
  // `snn-export export ... | head -1`: a closed pipe is not an error worth a stack trace.
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

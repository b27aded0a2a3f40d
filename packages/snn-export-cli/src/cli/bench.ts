/** `snn-export bench`: runs the benchmark suite (bench/run.ts, compiled to dist/bench/run.js) when it is built. */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BIN, type Io } from "./args.js";

/** packages/snn-export-cli/dist/src/cli/bench.js -> dist/bench/run.js (the checkout's root build) */
function benchScript(): string {
  return fileURLToPath(new URL("../../../../../dist/bench/run.js", import.meta.url));
}

export function benchHelp(): string {
  return `Usage:
  ${BIN} bench [benchmark options]

Runs the benchmark suite (bench/ in a source checkout, built by 'npm run build') as
'node dist/bench/run.js <benchmark options>': every workload with every contender, each run a
child process, compared with the h5py reference peer. Results go to bench/results/. The suite
is not part of the published package: without dist/bench/run.js this command says so and exits 1.

Everything after 'bench' is passed to the suite unchanged, except a lone -h/--help, which shows
this help; 'bench -- --help' shows the suite's own options.

Examples:
  ${BIN} bench
  ${BIN} bench --workload quickstart --repeat 3
  ${BIN} bench -- --help
`;
}

export async function benchCommand(args: string[], io: Io): Promise<number> {
  if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
    io.stdout.write(benchHelp());
    return 0;
  }
  const forwarded = args[0] === "--" ? args.slice(1) : args.filter((a) => a !== "--debug");
  const script = benchScript();
  if (!existsSync(script)) {
    io.stderr.write(
      `${BIN}: error: the benchmark suite is not available here (${script} is not built); ` +
        `run 'npm run build' in a source checkout of snn-export, then '${BIN} bench'\n`,
    );
    return 1;
  }
  const child = spawn(process.execPath, [script, ...forwarded], { stdio: "inherit" });
  const onSigint = () => undefined; // the child gets Ctrl-C too; wait for it to finish
  process.on("SIGINT", onSigint);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : 1)));
    });
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** The command line of `npm run bench` (bench/run.ts): parsing and checking, before any work. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CONTENDERS } from "./contenders.js";
import { DEFAULT_WORKLOADS, REPO_ROOT, WORKLOADS } from "./workloads.js";

/** The external contender: the h5py reference peer run by Debian's python3. */
export const H5PY = "h5py";
export const PYTHON = "/usr/bin/python3";

export interface BenchOptions {
  workloads: string[];
  repeat: number;
  /** In the order they alternate within a repeat. */
  contenders: string[];
  peer: string;
  json: boolean;
  outDir: string;
  /** Passed to the in-process contenders as --max-steps (the h5py peer always runs in full). */
  maxSteps?: number;
  /** Passed to the in-process contenders as --max-episodes (the h5py peer always runs in full). */
  maxEpisodes?: number;
}

/** A bad command line; the message says what to change. Exit code 2. */
export class UsageError extends Error {}

export const USAGE = `usage: npm run bench -- [options]
  --workload NAME    repeatable or comma list; default: ${DEFAULT_WORKLOADS.join(", ")}
                     (also: ${Object.keys(WORKLOADS).filter((w) => !DEFAULT_WORKLOADS.includes(w)).join(", ")})
  --repeat N         runs per workload and contender [3]
  --contender NAME   repeatable or comma list; ${[...Object.keys(CONTENDERS), H5PY].join(", ")} [all available]
  --peer PATH        the h5py reference peer [../shared/peers/h5py_reference.py]
  --max-steps N      cap steps per episode of the in-process contenders (result flagged capped)
  --max-episodes N   cap episodes of the in-process contenders (result flagged capped)
  --json             print the result JSON instead of the table
  --out-dir DIR      where <date>.json and <date>.md go [bench/results]
  --scale            run the scaling run instead (bench/scale-episodes.ts; its options: --scale --help)
  --read             run the read benchmark instead (bench/read-bench.ts; its options: --read --help)`;

/** Comma- or repeat-separated values of a list option, trimmed, empty ones dropped. */
export function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
}

/** A positive integer option, or undefined when not given; throws UsageError naming `flag`. */
export function positive(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  return Number(text);
}

/** True when the h5py peer can run here: the script exists and `python3 -c "import h5py"` works. */
export function h5pyAvailable(peer: string): boolean {
  return existsSync(peer) && existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import h5py"], { stdio: "ignore" }).status === 0;
}

/** Parses and checks `argv` (without node and the script); throws UsageError. */
export function parseBenchArgs(argv: string[], isH5pyAvailable = h5pyAvailable): BenchOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        workload: { type: "string", multiple: true }, repeat: { type: "string" }, contender: { type: "string", multiple: true },
        peer: { type: "string" }, json: { type: "boolean" }, "out-dir": { type: "string" }, "max-steps": { type: "string" }, "max-episodes": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return "help";
  const workloads = list(values.workload);
  for (const w of workloads) {
    if (!Object.hasOwn(WORKLOADS, w)) throw new UsageError(`unknown workload "${w}"; known workloads: ${Object.keys(WORKLOADS).join(", ")}`);
  }
  const known = [...Object.keys(CONTENDERS), H5PY];
  const named = list(values.contender);
  for (const c of named) {
    if (!known.includes(c)) throw new UsageError(`unknown contender "${c}"; known contenders: ${known.join(", ")}`);
  }
  const repeat = positive(values.repeat, "--repeat") ?? 3;
  const maxSteps = positive(values["max-steps"], "--max-steps");
  const maxEpisodes = positive(values["max-episodes"], "--max-episodes");
  const peer = values.peer !== undefined ? resolve(values.peer) : join(REPO_ROOT, "..", "shared", "peers", "h5py_reference.py");
  let contenders = named.length > 0 ? [...new Set(named)] : known;
  if (contenders.includes(H5PY) && !isH5pyAvailable(peer)) {
    if (named.includes(H5PY)) throw new UsageError(`contender h5py is not available: needs ${peer} and ${PYTHON} with h5py (Debian: apt-get install python3-h5py)`);
    contenders = contenders.filter((c) => c !== H5PY);
  }
  return {
    workloads: workloads.length > 0 ? [...new Set(workloads)] : [...DEFAULT_WORKLOADS],
    repeat, contenders, peer, json: values.json ?? false, maxSteps, maxEpisodes,
    outDir: values["out-dir"] !== undefined ? resolve(values["out-dir"]) : join(REPO_ROOT, "bench", "results"),
  };
}

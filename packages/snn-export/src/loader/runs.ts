/**
 * Finding run files (`experiments/<name>_<date>/experiment_data.h5`) under directories and globs,
 * and reading the one-row summary of a run that a sweep's runs table holds.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, extname, join, resolve } from "node:path";
import { FormatError, StorageError } from "../errors.js";
import { expandGlob, hasGlob } from "../provenance/glob.js";
import { H5Reader } from "../h5/reader.js";
import { CONFIG_JSON, EPISODES, EPISODE_COLUMNS, FORMAT_NAME, GROUPS, ROOT, type RunStatus } from "../schema.js";
import { EXPERIMENT_FILE, ExperimentLoader } from "./experiment.js";
import { parseJson } from "./read.js";
import type { RunRow } from "./sweep-table.js";

const SKIP = new Set(["node_modules", ".git"]);

/** Depth below a given directory searched for run directories. */
const MAX_DEPTH = 3;

function walk(dir: string, depth: number, out: Set<string>): void {
  const own = join(dir, EXPERIMENT_FILE);
  if (existsSync(own)) {
    out.add(own);
    return;
  }
  if (depth === 0) return;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory() && !e.name.startsWith(".") && !SKIP.has(e.name)) walk(join(dir, e.name), depth - 1, out);
}

/**
 * The run files named by `inputs`, sorted, as absolute paths: an experiment directory (holding
 * `experiment_data.h5`), an `.h5` file, a directory searched for experiment directories (up to
 * three levels down), or a glob (`*`, `?`, `**`) of any of these. An input that names nothing is
 * a StorageError `NOT_FOUND`.
 */
export function findRunFiles(inputs: string[], cwd = process.cwd()): string[] {
  const out = new Set<string>();
  for (const input of inputs) {
    // what this input names (a run named twice, or by two inputs, is listed once)
    const found = new Set<string>();
    if (hasGlob(input)) {
      for (const f of expandGlob(input, cwd)) if (extname(f) === ".h5") found.add(f);
      for (const f of expandGlob(`${input.replace(/\/+$/, "")}/${EXPERIMENT_FILE}`, cwd)) found.add(f);
      if (found.size === 0) throw new StorageError("NOT_FOUND", `the pattern ${input} matches no experiment`);
    } else {
      const abs = resolve(cwd, input);
      let st;
      try {
        st = statSync(abs);
      } catch (err) {
        throw new StorageError("NOT_FOUND", `no run at ${input}: ${(err as Error).message}`, { cause: err });
      }
      if (st.isFile()) found.add(abs);
      else if (st.isDirectory()) walk(abs, MAX_DEPTH, found);
      else throw new StorageError("NOT_FOUND", `${input} is neither an experiment directory nor an .h5 file`);
    }
    for (const f of found) out.add(f);
  }
  return [...out].sort();
}

/** The default name of a run: its directory's name (the file's name without `.h5` when not `experiment_data.h5`). */
export function runName(file: string): string {
  return basename(file) === EXPERIMENT_FILE ? basename(dirname(file)) : basename(file, extname(file));
}

/** Options of {@link readRun}. */
export interface ReadRunOptions {
  /**
   * An open run whose writer cannot be asked (another host, no pid recorded) counts as being
   * written (`open`) when its file changed within this many seconds, else as `interrupted`
   * (default 120).
   */
  staleAfter?: number;
  /** Now, in ms since the epoch (tests). */
  now?: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether an `open` run is still being written: its writer's process (hostname + pid from the
 * runtime provenance) when it ran on this host, else the age of the file's last change.
 */
export function openStatus(runtime: Record<string, unknown> | null, mtimeMs: number, options: ReadRunOptions = {}): RunStatus {
  if (runtime && runtime.hostname === hostname() && typeof runtime.pid === "number" && runtime.pid > 0) {
    return alive(runtime.pid) ? "open" : "interrupted";
  }
  const age = ((options.now ?? Date.now()) - mtimeMs) / 1000;
  return age <= (options.staleAfter ?? 120) ? "open" : "interrupted";
}

/** Status codes of the episode table's `status` column (FORMAT.md). */
const COMPLETED = EPISODES.statusCodes.indexOf("completed");

/**
 * Columns of a format 2.x episode table read straight from the file (no catalog, no stream
 * metadata: what a sweep needs of each of a thousand runs), trimmed to their common length; null
 * for files of another format (read through {@link ExperimentLoader} instead).
 */
export async function readEpisodeColumns(file: string, columns: string[]): Promise<{ root: Record<string, unknown>; reader: H5Reader; columns: Float64Array[] } | null> {
  const reader = await H5Reader.open(file);
  try {
    const root = reader.attrs("/");
    const v = root[ROOT.formatVersion];
    if (root[ROOT.formatName] !== FORMAT_NAME || typeof v !== "string" || !v.startsWith("2.")) {
      reader.close();
      return null;
    }
    const known = new Set(EPISODE_COLUMNS.map((c) => c.name));
    const cols = columns.map((c) => {
      const path = `${GROUPS.episodes}/${c}`;
      if (!known.has(c) || reader.kind(path) !== "dataset") return new Float64Array(0);
      const n = reader.info(path).shape[0] ?? 0;
      const raw = n > 0 ? reader.readRows(path, 0, n) : new Float64Array(0);
      return raw instanceof Float64Array ? raw : Float64Array.from(raw as ArrayLike<number | bigint>, Number);
    });
    const len = cols.reduce((m, c) => Math.min(m, c.length), Infinity);
    return { root, reader, columns: cols.map((c) => (c.length > len ? c.subarray(0, len) : c)) };
  } catch (err) {
    reader.close();
    throw err;
  }
}

function jsonObject(reader: H5Reader, path: string): Record<string, unknown> | null {
  if (reader.kind(path) !== "dataset") return null;
  const v = parseJson(reader.readText(path), path);
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/**
 * The summary of one run as a row of a sweep's runs table (`name` and `path` filled with the
 * defaults: the run's name and its absolute path). A file being written is read as of its last
 * flush; a read that fails while the writer is at work is tried again a few times.
 */
export async function readRun(file: string, options: ReadRunOptions = {}): Promise<RunRow> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    const st = statSync(file);
    try {
      return (await readRunV2(file, st, options)) ?? (await readRunLoader(file, st, options));
    } catch (err) {
      // not an experiment of a readable format: no use trying again
      if (err instanceof FormatError && ["NOT_SNN_EXPORT", "UNSUPPORTED_VERSION", "NOT_HDF5"].includes(err.code)) throw err;
      lastErr = err;
      await new Promise((r) => setTimeout(r, 25 * (attempt + 1)));
    }
  }
  throw lastErr;
}

function summary(file: string, st: { size: number; mtimeMs: number }, root: Record<string, unknown>, status: RunStatus, t: { steps: ArrayLike<number>; reward: ArrayLike<number>; completed: (i: number) => boolean }, config: Record<string, unknown>): RunRow {
  let totalSteps = 0;
  let finalReward = Number.NaN;
  for (let i = 0; i < t.steps.length; i++) {
    totalSteps += t.steps[i];
    if (t.completed(i)) finalReward = t.reward[i];
  }
  const str = (k: string) => (typeof root[k] === "string" ? (root[k] as string) : "");
  return {
    name: runName(file), path: file, status,
    startTime: str(ROOT.startTime), endTime: status === "closed" ? str(ROOT.endTime) : "",
    episodes: t.steps.length, totalSteps, finalReward, config,
    fileSize: st.size, fileMtime: st.mtimeMs, formatVersion: str(ROOT.formatVersion),
  };
}

/** Format 2.x: the root attributes, config, runtime and three columns of the episode table. */
async function readRunV2(file: string, st: { size: number; mtimeMs: number }, options: ReadRunOptions): Promise<RunRow | null> {
  const r = await readEpisodeColumns(file, ["total_timesteps", "total_reward", "status"]);
  if (!r) return null;
  try {
    const [steps, reward, status] = r.columns;
    const closed = r.root[ROOT.status] === "closed";
    const runStatus = closed ? "closed" : openStatus(jsonObject(r.reader, `${GROUPS.metadata}/runtime`), st.mtimeMs, options);
    return summary(file, st, r.root, runStatus, { steps, reward, completed: (i) => status[i] === COMPLETED }, jsonObject(r.reader, CONFIG_JSON) ?? {});
  } finally {
    r.reader.close();
  }
}

/** Any readable format, through the loader. */
async function readRunLoader(file: string, st: { size: number; mtimeMs: number }, options: ReadRunOptions): Promise<RunRow> {
  const loader = await ExperimentLoader.open(file);
  try {
    const root = loader.rootAttributes;
    const t = loader.episodes();
    const closed = root[ROOT.status] === "closed";
    const status = closed ? "closed" : openStatus(loader.getRuntime(), st.mtimeMs, options);
    return summary(file, st, root, status, { steps: t.totalTimesteps, reward: t.totalReward, completed: (i) => t.status[i] === "completed" }, loader.getConfig());
  } finally {
    loader.close();
  }
}

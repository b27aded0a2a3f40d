/**
 * Reading the runs table of a sweep file (`snn-export collect`, FORMAT.md "Sweep files"). Only the
 * table's own columns are read; the external links and the virtual datasets are for HDF5 readers
 * (h5py) and are not followed here: a run's data is read from its own file.
 */
import { dirname, resolve } from "node:path";
import { FormatError } from "../errors.js";
import { H5Reader } from "../h5/reader.js";
import { SWEEP, type RunStatus } from "../schema.js";

/** One row of the runs table. */
export interface RunRow {
  /** The link name under `/files/`: the run's directory name, made unique. */
  name: string;
  /** The run file's path relative to the sweep file's directory (`/`-separated). */
  path: string;
  status: RunStatus;
  /** ISO 8601 strings, `""` when unknown (`end_time` of a run not closed). */
  startTime: string;
  endTime: string;
  /** Rows of the run's episode table. */
  episodes: number;
  /** Logged steps over all its episodes. */
  totalSteps: number;
  /** `total_reward` of its last completed episode (NaN when none completed). */
  finalReward: number;
  /** The run's whole config. */
  config: Record<string, unknown>;
  /** The file's size (bytes) and modification time (ms since the epoch) when it was read. */
  fileSize: number;
  fileMtime: number;
  /** The run file's `format_version`. */
  formatVersion: string;
}

/** The runs table of a sweep file, with its root attributes. */
export interface SweepTable {
  file: string;
  rows: RunRow[];
  configKeys: string[];
  virtual: string[];
  maxEpisodes: number;
  updated: string;
}

function num(a: ArrayLike<number | bigint>, i: number): number {
  return Number(a[i]);
}

function jsonList(v: unknown): string[] {
  if (typeof v !== "string") return [];
  try {
    const x = JSON.parse(v) as unknown;
    return Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : [];
  } catch {
    return [];
  }
}

/** Reads the runs table of the sweep file `file` (FormatError `NOT_SNN_EXPORT` when it is not one). */
export async function readSweepTable(file: string): Promise<SweepTable> {
  const r = await H5Reader.open(file);
  try {
    const root = r.attrs("/");
    if (root[SWEEP.attrs.formatName] !== SWEEP.formatName) {
      throw new FormatError("NOT_SNN_EXPORT", `${file} is not a sweep file of snn-export collect (root attribute ${SWEEP.attrs.formatName} is ${JSON.stringify(root[SWEEP.attrs.formatName] ?? null)})`);
    }
    const C = SWEEP.columns;
    const names = r.readStrings(C.name);
    const n = names.length;
    const strs = (p: string) => (r.kind(p) === "dataset" ? r.readStrings(p) : new Array<string>(n).fill(""));
    const nums = (p: string) => (r.kind(p) === "dataset" && n > 0 ? r.readRows(p, 0, n) : new Float64Array(n).fill(Number.NaN));
    const paths = strs(C.path), status = strs(C.status), start = strs(C.startTime), end = strs(C.endTime);
    const configs = strs(C.configJson), versions = strs(C.formatVersion);
    const episodes = nums(C.episodes), steps = nums(C.totalSteps), reward = nums(C.finalReward);
    const size = nums(C.fileSize), mtime = nums(C.fileMtime);
    const rows: RunRow[] = [];
    for (let i = 0; i < n; i++) {
      let config: Record<string, unknown> = {};
      try {
        const c = JSON.parse(configs[i] || "{}") as unknown;
        if (typeof c === "object" && c !== null && !Array.isArray(c)) config = c as Record<string, unknown>;
      } catch {
        /* a damaged entry: no config */
      }
      rows.push({
        name: names[i], path: paths[i], status: (SWEEP.statuses as readonly string[]).includes(status[i]) ? (status[i] as RunStatus) : "missing",
        startTime: start[i], endTime: end[i], episodes: num(episodes as ArrayLike<number>, i), totalSteps: num(steps as ArrayLike<number>, i),
        finalReward: num(reward as ArrayLike<number>, i), config, fileSize: num(size as ArrayLike<number>, i), fileMtime: num(mtime as ArrayLike<number>, i),
        formatVersion: versions[i],
      });
    }
    return {
      file, rows,
      configKeys: jsonList(root[SWEEP.attrs.configKeys]),
      virtual: jsonList(root[SWEEP.attrs.virtual]),
      maxEpisodes: Number(root[SWEEP.attrs.maxEpisodes] ?? 0),
      updated: String(root[SWEEP.attrs.updated] ?? ""),
    };
  } finally {
    r.close();
  }
}

/** The absolute path of a run's file from its row (`path` is relative to the sweep file's directory). */
export function runFilePath(sweepFile: string, row: Pick<RunRow, "path">): string {
  return resolve(dirname(sweepFile), row.path);
}

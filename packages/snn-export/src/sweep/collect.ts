/**
 * `collect`: many runs (one HDF5 file each, written by independent processes, on any machine) as
 * one dataset. The sweep file holds per run an external link to the run's file, a runs table,
 * and the episode table's per-episode columns across runs as virtual datasets (FORMAT.md "Sweep
 * files"). It is rewritten whole at every collect, to a temporary file renamed over the old one.
 */
import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
import { StorageError } from "../errors.js";
import { createWriter } from "../h5/create.js";
import type { VirtualMapping, Writer } from "../h5/types.js";
import { findRunFiles, readRun, runName, type ReadRunOptions } from "../loader/runs.js";
import { readSweepTable, type RunRow } from "../loader/sweep-table.js";
import { EPISODES, SWEEP } from "../schema.js";

/** Options of {@link collect}. */
export interface CollectOptions extends ReadRunOptions {
  /** The sweep file to write (replaced atomically; the runs of an existing one are kept). */
  out: string;
  /** Called after each run is read. */
  onRun?: (done: number, total: number) => void;
}

/** What {@link collect} wrote. */
export interface CollectResult {
  file: string;
  runs: RunRow[];
  /** Names of the runs new in this collect. */
  added: string[];
  /** Runs read again (the others were closed and unchanged since the last collect). */
  read: number;
  configKeys: string[];
  virtual: string[];
  maxEpisodes: number;
  /** Runs that could not be read (kept with their previous row, or left out when new). */
  warnings: string[];
}

const posix = (p: string) => p.split(sep).join("/");

/** True when a config value is the same in every run (missing counts as a value of its own). */
function sameEverywhere(rows: RunRow[], key: string): boolean {
  const first = rows[0]?.config;
  const enc = (c: Record<string, unknown>) => (Object.hasOwn(c, key) ? JSON.stringify(c[key]) : undefined);
  const v = first ? enc(first) : undefined;
  return rows.every((r) => enc(r.config) === v);
}

/** The config keys whose values differ between runs, sorted (keys that cannot be link names left out). */
function differingKeys(rows: RunRow[]): string[] {
  const keys = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.config)) keys.add(k);
  return [...keys].filter((k) => k !== "" && k !== "." && k !== ".." && !k.includes("/") && !k.includes("\0") && !sameEverywhere(rows, k)).sort();
}

/**
 * Collects the runs named by `inputs` (directories, experiment directories, `.h5` files, globs:
 * see {@link findRunFiles}) into the sweep file `options.out`. Runs of an existing sweep file are
 * kept in their order (new ones follow, sorted by path) and their status refreshed; a closed run
 * whose file is unchanged is not read again.
 *
 * @example
 * ```ts
 * const { runs, added } = await collect(["experiments/sweep"], { out: "experiments/sweep/sweep.h5" });
 * ```
 */
export async function collect(inputs: string[], options: CollectOptions): Promise<CollectResult> {
  const out = resolve(options.out);
  const outDir = dirname(out);
  const old = existsSync(out) ? await readSweepTable(out) : null;
  const files = findRunFiles(inputs).filter((f) => f !== out);
  const byPath = new Map<string, RunRow>();
  for (const r of old?.rows ?? []) byPath.set(r.path, r);
  const order: string[] = (old?.rows ?? []).map((r) => r.path);
  const added: string[] = [];
  for (const f of files) {
    const rel = posix(relative(outDir, f));
    if (!byPath.has(rel)) {
      order.push(rel);
      added.push(rel);
    }
  }
  const warnings: string[] = [];
  const rows: RunRow[] = [];
  const names = new Set<string>();
  let read = 0;
  let done = 0;
  for (const rel of order) {
    const file = resolve(outDir, rel);
    const prev = byPath.get(rel);
    let row: RunRow | null = null;
    let st;
    try {
      st = statSync(file);
    } catch {
      st = null;
    }
    if (!st) {
      if (prev) row = { ...prev, status: "missing" };
    } else if (prev && prev.status === "closed" && prev.fileSize === st.size && prev.fileMtime === st.mtimeMs) {
      row = prev;
    } else {
      try {
        row = await readRun(file, options);
        read++;
      } catch (err) {
        warnings.push(`${rel}: ${(err as Error).message}`);
        row = prev ?? null;
      }
    }
    options.onRun?.(++done, order.length);
    if (!row) {
      const i = added.indexOf(rel);
      if (i >= 0) added.splice(i, 1);
      continue;
    }
    // the link name: kept from the last collect, else the run's name made unique
    let name = prev?.name ?? runName(file);
    if (names.has(name)) {
      let k = 2;
      while (names.has(`${name}_${k}`)) k++;
      name = `${name}_${k}`;
    }
    names.add(name);
    rows.push({ ...row, name, path: rel });
  }
  const configKeys = differingKeys(rows);
  const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
  let virtual: string[] = [];
  let maxEpisodes = 0;
  try {
    const w = await createWriter(tmp, "ts", {});
    try {
      ({ virtual, maxEpisodes } = writeSweep(w, rows, configKeys));
    } finally {
      w.close();
    }
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err instanceof StorageError ? err : new StorageError("IO_ERROR", `could not write the sweep file ${out}: ${(err as Error).message}`, { cause: err });
  }
  return { file: out, runs: rows, added: added.map((rel) => rows.find((r) => r.path === rel)!.name), read, configKeys, virtual, maxEpisodes, warnings };
}

const NONE = { kind: "none", level: 0 } as const;

/** A config column: numbers as float64 (NaN where absent), booleans as int8 (-1 where absent), anything else as text (JSON for non-strings, "" where absent). */
function writeConfigColumn(w: Writer, path: string, values: unknown[]): void {
  const present = values.filter((v) => v !== undefined);
  if (present.every((v) => typeof v === "number")) {
    w.writeArray(path, Float64Array.from(values, (v) => (v === undefined ? Number.NaN : (v as number))), [values.length], NONE);
  } else if (present.every((v) => typeof v === "boolean")) {
    w.writeArray(path, Int8Array.from(values, (v) => (v === undefined ? -1 : v ? 1 : 0)), [values.length], NONE);
  } else {
    w.writeStrings(path, values.map((v) => (v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v))));
  }
}

function writeSweep(w: Writer, rows: RunRow[], configKeys: string[]): { virtual: string[]; maxEpisodes: number } {
  const n = rows.length;
  const C = SWEEP.columns;
  w.createGroup(SWEEP.runs);
  w.createGroup(SWEEP.files);
  w.writeStrings(C.name, rows.map((r) => r.name));
  w.writeStrings(C.path, rows.map((r) => r.path));
  w.writeStrings(C.status, rows.map((r) => r.status));
  w.writeStrings(C.startTime, rows.map((r) => r.startTime));
  w.writeStrings(C.endTime, rows.map((r) => r.endTime));
  w.writeArray(C.episodes, BigInt64Array.from(rows, (r) => BigInt(r.episodes)), [n], NONE);
  w.writeArray(C.totalSteps, BigInt64Array.from(rows, (r) => BigInt(r.totalSteps)), [n], NONE);
  w.writeArray(C.finalReward, Float64Array.from(rows, (r) => r.finalReward), [n], NONE);
  w.writeStrings(C.configJson, rows.map((r) => JSON.stringify(r.config)));
  w.writeArray(C.fileSize, BigInt64Array.from(rows, (r) => BigInt(r.fileSize)), [n], NONE);
  w.writeArray(C.fileMtime, Float64Array.from(rows, (r) => r.fileMtime), [n], NONE);
  w.writeStrings(C.formatVersion, rows.map((r) => r.formatVersion));
  w.createGroup(SWEEP.config);
  for (const key of configKeys) writeConfigColumn(w, `${SWEEP.config}/${key}`, rows.map((r) => (Object.hasOwn(r.config, key) ? r.config[key] : undefined)));
  for (const r of rows) w.externalLink(`${SWEEP.files}/${r.name}`, r.path, "/");

  // the episode columns across runs: only when every run present has the format 2 episode table
  const present = rows.filter((r) => r.status !== "missing");
  const maxEpisodes = rows.reduce((m, r) => Math.max(m, r.episodes), 0);
  const virtual: string[] = [];
  if (n > 0 && maxEpisodes > 0 && present.every((r) => r.formatVersion.startsWith("2."))) {
    for (const v of SWEEP.virtual) {
      const maps: VirtualMapping[] = [];
      rows.forEach((r, i) => {
        if (r.episodes > 0 && r.status !== "missing") {
          // a run that is no longer written maps its whole column ("all": decoded far faster by
          // HDF5); one still written maps the rows it had, its column grows
          const source = r.status === "open" ? { start: [0], count: [r.episodes] } : ("all" as const);
          maps.push({ file: r.path, dataset: `${EPISODES.group}/${v.source}`, source, target: { start: [i, 0], count: [1, r.episodes] } });
        }
      });
      w.createVirtualDataset(`${SWEEP.runs}/${v.name}`, v.dtype, [n, maxEpisodes], v.fill, maps);
      virtual.push(v.name);
    }
  }
  const A = SWEEP.attrs;
  w.setAttr("/", A.formatName, SWEEP.formatName);
  w.setAttr("/", A.formatVersion, SWEEP.formatVersion);
  w.setAttr("/", A.updated, new Date().toISOString());
  w.setAttr("/", A.runCount, BigInt(n));
  w.setAttr("/", A.maxEpisodes, BigInt(maxEpisodes));
  w.setAttr("/", A.configKeys, JSON.stringify(configKeys));
  w.setAttr("/", A.virtual, JSON.stringify(virtual));
  return { virtual, maxEpisodes };
}

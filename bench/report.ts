/** Summaries of the runs, the machine description and the markdown report. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import type { RunRecord } from "./measure.js";
import { H5PY, PYTHON } from "./options.js";
import { REPO_ROOT } from "./workloads.js";

/** One workload x contender. Ratios are this contender's median over h5py's median (null without h5py; size null when capped). */
export interface Summary {
  workload: string;
  contender: string;
  runs: number;
  failed: number;
  capped: boolean;
  median_timesteps_per_s: number | null;
  min_timesteps_per_s: number | null;
  max_timesteps_per_s: number | null;
  median_seconds: number | null;
  median_file_bytes: number | null;
  median_peak_rss_mb: number | null;
  speed_vs_h5py: number | null;
  size_vs_h5py: number | null;
  /** timesteps/s over StandardDataExporter's (per step run; null without the standard contender). */
  speed_vs_standard: number | null;
}

export interface Machine {
  cpu: string;
  cores: number;
  memory_gb: number;
  os: string;
  node: string;
  snn_export: string;
  h5wasm: string;
  h5py: string | null;
  h5py_hdf5: string | null;
  numpy: string | null;
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Summaries in the order workloads x contenders were given. */
export function summarize(runs: RunRecord[], workloads: string[], contenders: string[]): Summary[] {
  const out: Summary[] = [];
  for (const w of workloads) {
    const rows = contenders.map((c): Summary => {
      const all = runs.filter((r) => r.workload === w && r.contender === c);
      const ok = all.filter((r) => r.ok);
      const tps = ok.map((r) => r.timesteps_per_s!);
      return {
        workload: w, contender: c, runs: ok.length, failed: all.length - ok.length, capped: ok.some((r) => r.capped),
        median_timesteps_per_s: roundTo(median(tps), 0), min_timesteps_per_s: tps.length ? Math.min(...tps) : null, max_timesteps_per_s: tps.length ? Math.max(...tps) : null,
        median_seconds: roundTo(median(ok.map((r) => r.seconds!)), 3), median_file_bytes: roundTo(median(ok.map((r) => r.file_bytes!)), 0),
        median_peak_rss_mb: roundTo(median(ok.map((r) => r.peak_rss_mb!)), 1), speed_vs_h5py: null, size_vs_h5py: null, speed_vs_standard: null,
      };
    });
    const std = rows.find((r) => r.contender === "standard");
    for (const r of rows) if (std) r.speed_vs_standard = ratio(r.median_timesteps_per_s, std.median_timesteps_per_s);
    const ref = rows.find((r) => r.contender === H5PY);
    for (const r of rows) {
      if (!ref) continue;
      r.speed_vs_h5py = ratio(r.median_timesteps_per_s, ref.median_timesteps_per_s);
      // a capped run wrote less data than the peer: its size says nothing next to the peer's
      r.size_vs_h5py = r.capped ? null : ratio(r.median_file_bytes, ref.median_file_bytes);
    }
    out.push(...rows);
  }
  return out;
}

function roundTo(x: number | null, digits: number): number | null {
  return x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits;
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : roundTo(a / b, 2);
}

function packageVersion(file: string): string {
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Describes this machine; asks python for the h5py versions only when h5py is a contender. */
export function machine(withH5py: boolean): Machine {
  type Py = { h5py: string; hdf5: string; numpy: string };
  let py: Py | null = null;
  if (withH5py) {
    const code = "import json, h5py, numpy; print(json.dumps({'h5py': h5py.version.version, 'hdf5': h5py.version.hdf5_version, 'numpy': numpy.__version__}))";
    const r = spawnSync(PYTHON, ["-c", code], { encoding: "utf8" });
    if (r.status === 0) py = JSON.parse(r.stdout) as Py;
  }
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? "unknown", cores: c.length, memory_gb: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${release()}`, node: process.version,
    snn_export: packageVersion(join(REPO_ROOT, "package.json")), h5wasm: packageVersion(join(REPO_ROOT, "node_modules", "h5wasm", "package.json")),
    h5py: py?.h5py ?? null, h5py_hdf5: py?.hdf5 ?? null, numpy: py?.numpy ?? null,
  };
}

const int = (x: number | null) => (x === null ? "–" : Math.round(x).toLocaleString("en-US"));
const fixed = (x: number | null, d: number, unit = "") => (x === null ? "–" : `${x.toFixed(d)}${unit}`);

/** The results table as markdown. */
export function table(summaries: Summary[]): string {
  const head = "| workload | contender | runs | timesteps/s (median) | min – max | file MiB (median) | peak RSS MiB (median) | speed vs standard | speed vs h5py | size vs h5py |";
  const rule = "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|";
  const rows = summaries.map((s) => {
    const name = s.capped ? `${s.contender} (capped)` : s.contender;
    const runs = s.failed ? `${s.runs} (+${s.failed} failed)` : String(s.runs);
    const range = s.min_timesteps_per_s === null ? "–" : `${int(s.min_timesteps_per_s)} – ${int(s.max_timesteps_per_s)}`;
    const mib = s.median_file_bytes === null ? null : s.median_file_bytes / 2 ** 20;
    return `| ${s.workload} | ${name} | ${runs} | ${int(s.median_timesteps_per_s)} | ${range} | ${fixed(mib, 2)} | ${fixed(s.median_peak_rss_mb, 1)} | ${fixed(s.speed_vs_standard, 0, "x")} | ${fixed(s.speed_vs_h5py, 2, "x")} | ${fixed(s.size_vs_h5py, 2, "x")} |`;
  });
  return [head, rule, ...rows].join("\n");
}

/** The whole markdown report. */
export function markdown(title: string, m: Machine, summaries: Summary[], notes: string[]): string {
  const h5 = m.h5py ? `h5py ${m.h5py} (HDF5 ${m.h5py_hdf5}, numpy ${m.numpy})` : "h5py not run";
  return [
    `# ${title}`, "",
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gb} GiB, ${m.os}; Node ${m.node}; snn-export ${m.snn_export} (h5wasm ${m.h5wasm}); ${h5}`, "",
    table(summaries), "",
    ...notes.map((n) => `- ${n}`), "",
  ].join("\n");
}

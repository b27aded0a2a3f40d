/**
 * The one time axis of an export to NWB or SONATA. snn-export counts timesteps per episode (each
 * episode usually starts again at 0); NWB and SONATA have one clock for the whole file. The
 * selected episodes are laid one after another, without gaps, in the order of their ids:
 *
 *   episode i starts at  O_i = sum over the selected episodes j before i of (last_j - first_j + 1) steps
 *   timestep t of episode i is at  (O_i + t - first_i) * dt
 *
 * where first_i / last_i are the episode's first and last logged timesteps and dt comes from the
 * config (`dt_ms`, `dt_s`, `dt_sec`, `dt` in ms; top level, then one level down), or 1 ms per step
 * when the config has none (the export says so: `dtSource` = `assumed`). An episode without steps
 * has length 0.
 */
import { realpathSync, rmSync } from "node:fs";
import { ValidationError } from "../errors.js";
import { resolveExperimentFile } from "../loader/experiment.js";
import { timeStep, type TimeStep } from "../loader/facts.js";
import type { ExperimentLoader } from "../loader/experiment.js";
import type { EpisodeTable } from "../loader/types.js";

export interface EpisodeSpan {
  id: number;
  /** Row of the episode table. */
  row: number;
  firstTimestep: number;
  lastTimestep: number;
  /** Steps from the start of the axis to the episode's first step. */
  offsetSteps: number;
  /** last - first + 1, 0 without steps. */
  lengthSteps: number;
  totalSpikes: number;
  totalTimesteps: number;
}

export interface Timeline {
  dt: TimeStep;
  episodes: EpisodeSpan[];
  table: EpisodeTable;
  totalSpikes: number;
}

/** Parses "0-9", "3", "0,2,5-7" into sorted unique ids. */
export function parseEpisodeList(spec: string): number[] {
  const out = new Set<number>();
  for (const part of spec.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new ValidationError("INVALID_DATA", `episodes: ${JSON.stringify(part)} is not an episode id or a range like 0-9`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new ValidationError("INVALID_DATA", `episodes: range ${part.trim()} ends before it starts`);
    if (b - a > 1e7) throw new ValidationError("INVALID_DATA", `episodes: range ${part.trim()} is too long`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** After a failed export: closes the half-written output and removes it (the first error is the one to report). */
export function discardOutput(w: { close(): void } | null, out: string): void {
  if (!w) return;
  try {
    w.close();
  } catch {
    // the first error is the one to report
  }
  rmSync(out, { force: true });
}

/**
 * Refuses an output path that is the experiment's own file (creating the output truncates it
 * before a byte was read). Other existing files are overwritten.
 */
export function checkOutput(dirOrFile: string, out: string): void {
  let src: string;
  let dst: string;
  try {
    src = realpathSync(resolveExperimentFile(dirOrFile));
    dst = realpathSync(out);
  } catch {
    return; // the output does not exist yet (or the input is reported by the loader)
  }
  if (src === dst) throw new ValidationError("INVALID_DATA", `the output ${out} is the experiment's own file; choose another --out`);
}

/** The selected episodes (all by default; sorted, each once) on one time axis. */
export function timeline(loader: ExperimentLoader, episodes?: number[]): Timeline {
  if (episodes) episodes = [...new Set(episodes)].sort((a, b) => a - b);
  const table = loader.episodes();
  const rowOf = new Map<number, number>();
  for (let r = 0; r < table.ids.length; r++) rowOf.set(table.ids[r], r);
  const ids = episodes ?? Array.from(table.ids);
  const spans: EpisodeSpan[] = [];
  let offset = 0;
  let totalSpikes = 0;
  for (const id of ids) {
    const row = rowOf.get(id);
    if (row === undefined) throw new ValidationError("INVALID_DATA", `episode ${id} is not in this experiment (it has ${table.ids.length} episodes: 0-${table.ids.length - 1})`);
    const first = table.firstTimestep[row];
    const last = table.lastTimestep[row];
    const steps = table.totalTimesteps[row];
    const length = steps > 0 ? last - first + 1 : 0;
    spans.push({ id, row, firstTimestep: first, lastTimestep: last, offsetSteps: offset, lengthSteps: Math.max(0, length), totalSpikes: table.totalSpikes[row], totalTimesteps: steps });
    offset += Math.max(0, length);
    totalSpikes += table.totalSpikes[row];
  }
  return { dt: timeStep(loader.getConfig()), episodes: spans, table, totalSpikes };
}

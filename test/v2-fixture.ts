/**
 * Test-only builder of format 2.0 files, written directly through the writer layer from logical
 * episodes (steps as a user logs them), so that loader tests do not depend on the exporter. It
 * lays the data out as the 2.0 format says: experiment-wide streams appended episode after
 * episode, `first_row` padding for variables that appear late, weight changes in the order
 * logged, the episode table with each episode's row ranges; and it can fake a killed writer (root
 * status `open`, streams cut short).
 */
import type { NumericArray } from "#lib/dtypes.js";
import { createWriter } from "#lib/h5/index.js";
import type { Compression, Writer } from "#lib/h5/types.js";
import {
  EPISODES, EPISODE_COLUMNS, FIRST_ROW, FORMAT_NAME, RANGE_COLUMNS, REWARD_ENCODING, ROOT, SPIKE_ENCODING, STATIC,
  STREAMS, type RangeName,
} from "#lib/schema.js";

/** One logged step. */
export interface FixtureStep {
  timestep: number;
  /** Ids of the neurons that spiked, ascending. */
  spikes?: number[];
  /** Float keys: a number, or an array of fixed length (`[T, k]`). */
  behavior?: Record<string, number | number[]>;
  /** float64 per neuron; kept at the episode's steps 0, r, 2r, … */
  neuralState?: Record<string, number[]>;
  reward?: number;
}

export interface FixtureWeightChange {
  timestep: number;
  synapseId?: number;
  sourceId?: number;
  targetId?: number;
  oldWeight: number;
  newWeight: number;
}

export interface FixtureEpisode {
  steps: FixtureStep[];
  neuralSamplingRate?: number;
  weightChanges?: FixtureWeightChange[];
  events?: { timestep: number; type: string; data?: unknown }[];
  /** JSON-able values, stored as JSON text (`encoding` = `json`). */
  static?: Record<string, unknown>;
  /** Absent: the episode is still running. */
  end?: { status?: "completed" | "incomplete"; success?: boolean; summary?: unknown };
  /** Seconds since the Unix epoch. */
  startTime: number;
  endTime?: number;
}

export interface FixtureOptions {
  layout?: "optimized" | "standard";
  /** Root `status` (default `closed`); `open` fakes a writer that died. */
  rootStatus?: "open" | "closed";
  /** Root `episode_count` (default: the number of episodes). */
  episodeCount?: number;
  /** Rows to drop from the end of these stream datasets (a writer killed between its writes). */
  cut?: Record<string, number>;
  /** Neuron count (the width of the `standard` layout's spike matrix) [8]. */
  nNeurons?: number;
}

const GZ: Compression = { kind: "gzip", level: 4 };
/** Rows per chunk of the streams: small, so that episodes straddle chunk boundaries. */
export const CHUNK = 3;

/** Sum of the non-zero rewards, as the writer counts them. */
export function totalReward(ep: FixtureEpisode): number {
  return ep.steps.reduce((s, st) => s + (st.reward ?? 0), 0);
}

/** The episode's kept neural-state steps (indices into `steps`). */
export function keptSteps(ep: FixtureEpisode): number[] {
  const r = ep.neuralSamplingRate ?? 1;
  return ep.steps.map((_, i) => i).filter((i) => i % r === 0 && ep.steps[i].neuralState !== undefined);
}

/** Rows of every stream, column by column, as plain numbers before they are typed. */
class Streams {
  readonly num = new Map<string, number[]>();
  readonly text = new Map<string, string[]>();
  readonly rowShape = new Map<string, number[]>();
  readonly firstRow = new Map<string, number>();

  push(path: string, ...values: number[]): void {
    if (!this.num.has(path)) this.num.set(path, []);
    (this.num.get(path) as number[]).push(...values);
  }

  pushText(path: string, value: string): void {
    if (!this.text.has(path)) this.text.set(path, []);
    (this.text.get(path) as string[]).push(value);
  }

  rows(path: string): number {
    const size = (this.rowShape.get(path) ?? []).reduce((a, b) => a * b, 1);
    return (this.num.get(path)?.length ?? 0) / size;
  }

  /** Appends one row of a variable; a variable seen for the first time gets NaN rows before it. */
  pushVar(path: string, value: number | number[] | undefined, rowsBefore: number): void {
    if (value === undefined && !this.num.has(path)) return;
    const row = typeof value === "number" ? [value] : value;
    if (!this.num.has(path)) {
      this.rowShape.set(path, typeof value === "number" ? [] : [row!.length]);
      this.firstRow.set(path, rowsBefore);
      this.num.set(path, new Array(rowsBefore * row!.length).fill(NaN));
    }
    const size = (this.rowShape.get(path) ?? []).reduce((a, b) => a * b, 1);
    this.push(path, ...(row ?? new Array(size).fill(NaN)));
  }
}

/** Appends an episode's rows to every stream; returns its row ranges. */
function appendEpisode(s: Streams, ep: FixtureEpisode, opts: FixtureOptions): Record<RangeName, [number, number]> {
  const start = (p: string) => s.rows(p) + 0;
  const r0 = { steps: start(STREAMS.timesteps), spikes: start(STREAMS.spikes.neuronIds), states: start(STREAMS.neuralStates.timesteps),
    rewards: start(STREAMS.rewards.values), weightChanges: start(STREAMS.weightChanges.timesteps), events: start(STREAMS.events.timesteps) };
  const standard = opts.layout === "standard";
  const stepKeys = new Set([...s.num.keys()].filter((p) => p.startsWith(`${STREAMS.behavior.group}/`)));
  for (const st of ep.steps) for (const k of Object.keys(st.behavior ?? {})) stepKeys.add(`${STREAMS.behavior.group}/${k}`);
  for (const st of ep.steps) {
    const before = s.rows(STREAMS.timesteps);
    for (const p of stepKeys) s.pushVar(p, st.behavior?.[p.slice(STREAMS.behavior.group.length + 1)], before);
    s.push(STREAMS.timesteps, st.timestep);
    const ids = st.spikes ?? [];
    if (standard) {
      s.rowShape.set(STREAMS.spikes.matrix, [opts.nNeurons ?? 8]);
      s.push(STREAMS.spikes.matrix, ...Array.from({ length: opts.nNeurons ?? 8 }, (_, k) => (ids.includes(k) ? 1 : 0)));
      s.push(STREAMS.rewards.values, st.reward ?? 0);
    } else {
      s.push(STREAMS.spikes.counts, ids.length);
      s.push(STREAMS.spikes.neuronIds, ...ids);
      if (st.reward) s.push(STREAMS.rewards.timesteps, st.timestep), s.push(STREAMS.rewards.values, st.reward);
    }
  }
  appendStates(s, ep);
  for (const c of ep.weightChanges ?? []) {
    const w = STREAMS.weightChanges;
    s.push(w.timesteps, c.timestep);
    s.push(w.synapseIds, c.synapseId ?? -1);
    s.push(w.sourceIds, c.sourceId ?? -1);
    s.push(w.targetIds, c.targetId ?? -1);
    s.push(w.oldWeights, c.oldWeight);
    s.push(w.newWeights, c.newWeight);
  }
  for (const e of ep.events ?? []) {
    s.push(STREAMS.events.timesteps, e.timestep);
    s.pushText(STREAMS.events.types, e.type);
    s.pushText(STREAMS.events.data, JSON.stringify(e.data ?? null));
  }
  const end = { steps: start(STREAMS.timesteps), spikes: start(STREAMS.spikes.neuronIds), states: start(STREAMS.neuralStates.timesteps),
    rewards: start(STREAMS.rewards.values), weightChanges: start(STREAMS.weightChanges.timesteps), events: start(STREAMS.events.timesteps) };
  if (standard) (r0.rewards = 0), (end.rewards = 0), (r0.spikes = 0), (end.spikes = 0);
  const out = {} as Record<RangeName, [number, number]>;
  for (const k of Object.keys(RANGE_COLUMNS) as RangeName[]) out[k] = [r0[k], end[k]];
  return out;
}

function appendStates(s: Streams, ep: FixtureEpisode): void {
  const known = new Set([...s.num.keys()].filter((p) => p.startsWith(`${STREAMS.neuralStates.group}/`) && p !== STREAMS.neuralStates.timesteps));
  for (const i of keptSteps(ep)) for (const k of Object.keys(ep.steps[i].neuralState ?? {})) known.add(`${STREAMS.neuralStates.group}/${k}`);
  for (const i of keptSteps(ep)) {
    const before = s.rows(STREAMS.neuralStates.timesteps);
    const state = ep.steps[i].neuralState ?? {};
    for (const p of known) s.pushVar(p, state[p.slice(STREAMS.neuralStates.group.length + 1)], before);
    s.push(STREAMS.neuralStates.timesteps, ep.steps[i].timestep);
  }
}

const INT_STREAMS = new Set<string>([
  STREAMS.timesteps, STREAMS.neuralStates.timesteps, STREAMS.rewards.timesteps, STREAMS.events.timesteps,
  STREAMS.weightChanges.timesteps, STREAMS.weightChanges.synapseIds, STREAMS.weightChanges.sourceIds, STREAMS.weightChanges.targetIds,
]);

function typed(path: string, values: number[]): NumericArray {
  if (INT_STREAMS.has(path)) return BigInt64Array.from(values.map((v) => BigInt(v)));
  if (path === STREAMS.spikes.counts) return Uint16Array.from(values);
  if (path === STREAMS.spikes.neuronIds || path === STREAMS.spikes.matrix) return Uint8Array.from(values);
  return Float64Array.from(values);
}

function writeColumn(w: Writer, path: string, data: NumericArray, rowShape: number[], chunkRows = CHUNK): void {
  const dtype = data instanceof BigInt64Array ? "int64" : data instanceof Uint16Array ? "uint16" : data instanceof Uint8Array ? "uint8" : data instanceof Int8Array ? "int8" : "float64";
  const col = w.createColumn(path, { dtype, rowShape, chunkRows, compression: GZ });
  const rows = data.length / rowShape.reduce((a, b) => a * b, 1);
  if (rows > 0) col.append(data, rows);
}

function writeStreams(w: Writer, s: Streams, opts: FixtureOptions): void {
  const cut = opts.cut ?? {};
  for (const [path, values] of s.num) {
    const rowShape = s.rowShape.get(path) ?? [];
    const size = rowShape.reduce((a, b) => a * b, 1);
    const keep = values.length - (cut[path] ?? 0) * size;
    writeColumn(w, path, typed(path, values.slice(0, keep)), rowShape);
    const first = s.firstRow.get(path);
    if (first !== undefined) w.setAttr(path, FIRST_ROW, BigInt(first));
  }
  for (const [path, values] of s.text) {
    const col = w.createStringColumn(path, CHUNK);
    const keep = values.slice(0, values.length - (cut[path] ?? 0));
    if (keep.length) col.append(keep);
  }
  const standard = opts.layout === "standard";
  w.createGroup(STREAMS.spikes.group);
  w.setAttr(STREAMS.spikes.group, STREAMS.spikes.encoding, standard ? SPIKE_ENCODING.standard : SPIKE_ENCODING.optimized);
  w.setAttr(STREAMS.spikes.group, STREAMS.spikes.nNeurons, BigInt(opts.nNeurons ?? 8));
  w.createGroup(STREAMS.rewards.group);
  w.setAttr(STREAMS.rewards.group, STREAMS.rewards.encoding, standard ? REWARD_ENCODING.standard : REWARD_ENCODING.optimized);
}

const STATUS_CODE = { running: 0, completed: 1, incomplete: 2 } as const;

/** The episode table: every column of the schema, row i = episode i. */
function writeTable(w: Writer, episodes: FixtureEpisode[], ranges: Record<RangeName, [number, number]>[]): void {
  const value = (ep: FixtureEpisode, i: number, name: string): number => {
    const st = ep.steps;
    switch (name) {
      case "episode_id": return i;
      case "status": return STATUS_CODE[ep.end ? ep.end.status ?? "completed" : "running"];
      case "success": return ep.end?.success === undefined ? -1 : ep.end.success ? 1 : 0;
      case "total_timesteps": return st.length;
      case "total_spikes": return st.reduce((n, x) => n + (x.spikes?.length ?? 0), 0);
      case "total_reward": return totalReward(ep);
      case "first_timestep": return st.length ? st[0].timestep : -1;
      case "last_timestep": return st.length ? st[st.length - 1].timestep : -1;
      case "neural_sampling_rate": return ep.neuralSamplingRate ?? 1;
      case "start_time": return ep.startTime;
      case "end_time": return ep.endTime ?? NaN;
      default: throw new Error(`fixture: no value for column ${name}`);
    }
  };
  const rangeName = Object.fromEntries(Object.entries(RANGE_COLUMNS).map(([k, v]) => [v, k as RangeName]));
  for (const c of EPISODE_COLUMNS) {
    const path = `${EPISODES.group}/${c.name}`;
    const values = c.range ? episodes.flatMap((_, i) => ranges[i][rangeName[c.name]]) : episodes.map((ep, i) => value(ep, i, c.name));
    const data = c.dtype === "int64" ? BigInt64Array.from(values.map((v) => BigInt(v))) : c.dtype === "int8" ? Int8Array.from(values) : Float64Array.from(values);
    writeColumn(w, path, data, c.range ? [2] : [], 4);
  }
  w.setAttr(`${EPISODES.group}/status`, EPISODES.statusCodesAttr, JSON.stringify({ 0: "running", 1: "completed", 2: "incomplete" }));
  // one summary per ended episode (the running one has none yet)
  const ended = episodes.filter((ep) => ep.end);
  w.createStringColumn(EPISODES.summary, 4).append(ended.map((ep) => (ep.end?.summary === undefined ? "" : JSON.stringify(ep.end.summary))));
}

/**
 * Writes `episodes` as a format 2.0 file at `file`; returns each episode's row ranges.
 *
 * @example
 * ```ts
 * await writeV2(join(dir, "experiment_data.h5"), [{ steps: [{ timestep: 0 }], startTime: 0 }]);
 * ```
 */
export async function writeV2(file: string, episodes: FixtureEpisode[], opts: FixtureOptions = {}): Promise<Record<RangeName, [number, number]>[]> {
  const w = await createWriter(file, "ts");
  try {
    const root: Record<string, string> = {
      [ROOT.formatName]: FORMAT_NAME, [ROOT.formatVersion]: "2.0", [ROOT.layout]: opts.layout ?? "optimized",
      [ROOT.experimentName]: "v2fixture", [ROOT.startTime]: "2024-01-01T12:00:00.000Z", [ROOT.status]: opts.rootStatus ?? "closed",
      [ROOT.exporterOptions]: "{}", [ROOT.creator]: "test/v2-fixture",
    };
    for (const [k, v] of Object.entries(root)) w.setAttr("/", k, v);
    w.setAttr("/", ROOT.episodeCount, BigInt(opts.episodeCount ?? episodes.length));
    const s = new Streams();
    const ranges = episodes.map((ep) => appendEpisode(s, ep, opts));
    writeStreams(w, s, opts);
    writeTable(w, episodes, ranges);
    episodes.forEach((ep, i) => {
      for (const [name, v] of Object.entries(ep.static ?? {})) {
        w.writeText(`${STATIC.episode(i)}/${name}`, JSON.stringify(v));
        w.setAttr(`${STATIC.episode(i)}/${name}`, "encoding", "json");
      }
    });
    return ranges;
  } finally {
    w.close();
  }
}

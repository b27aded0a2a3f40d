/**
 * Format 2.x episodes: slices of the experiment-wide streams, the rows named by the episode's row
 * of the episode table. Every read is a row-range read, so an episode touches only its chunks.
 */
import { FormatError } from "../errors.js";
import { EPISODES, FIRST_ROW, REWARD_ENCODING, SPIKE_ENCODING, STATIC, STREAMS, type RangeName } from "../schema.js";
import { scalarNumber, setOwn, toFloat64, toUint32, type NumberArray, type Source } from "./read.js";
import type { Rows, V2Table } from "./table.js";
import type {
  EpisodeAttributes, ExperimentEvent, NdArray, Rewards, SpikeTrain, TimeSeries, WeightChanges,
} from "./types.js";
import { commonLength, takeRows } from "./values.js";
import { lowerBound } from "./window.js";
import {
  decodeCsr, decodeDense, nonZeroRewards, sortWeightChanges, toEvents, type EpisodeBackend, type SeriesName,
} from "./backend.js";

/** A neural state variable or behaviour key and the first stream row it was given at. */
interface Variable {
  name: string;
  path: string;
  firstRow: number;
}

const WEIGHT_KEYS = ["timesteps", "synapseIds", "sourceIds", "targetIds", "oldWeights", "newWeights"] as const;

/**
 * What a 2.x file's streams are, read once when it is opened: the encodings, the variables of
 * the series streams, and which step-aligned datasets exist.
 *
 * @example
 * ```ts
 * const streams = V2Streams.read(src);
 * console.log(streams.vars.behavior.map((v) => v.name));
 * ```
 */
export class V2Streams {
  private constructor(
    readonly denseSpikes: boolean,
    readonly denseRewards: boolean,
    readonly vars: Record<SeriesName, Variable[]>,
    /** Step-aligned datasets other than `/timesteps` and the behaviour keys, as far as they exist. */
    readonly stepAligned: string[],
    /** Steps between two entries of `/spikes/id_offsets` (0: no such index). */
    readonly idEvery: number,
  ) {}

  /** Looks at the stream groups' members and attributes (no data is read). */
  static read(src: Source): V2Streams {
    const { spikes, rewards } = STREAMS;
    const denseSpikes = src.attrs(spikes.group)[spikes.encoding] === SPIKE_ENCODING.standard || src.kind(spikes.matrix) === "dataset";
    const denseRewards = src.attrs(rewards.group)[rewards.encoding] === REWARD_ENCODING.standard;
    const stepAligned: string[] = [denseSpikes ? spikes.matrix : spikes.counts];
    if (denseRewards) stepAligned.push(rewards.values);
    const vars = { neural_states: variables(src, STREAMS.neuralStates.group, true), behavior: variables(src, STREAMS.behavior.group, false) };
    const idEvery = src.kind(spikes.idOffsets) === "dataset" ? scalarNumber(src.attrs(spikes.idOffsets)[spikes.every]) ?? 0 : 0;
    return new V2Streams(denseSpikes, denseRewards, vars, stepAligned.filter((p) => src.kind(p) === "dataset"), idEvery > 0 ? idEvery : 0);
  }
}

/** The variables of a series group; `withTimesteps`: the group's own `timesteps` is not one (`/neural_states`; behaviour rows use `/timesteps`). */
function variables(src: Source, group: string, withTimesteps: boolean): Variable[] {
  const out: Variable[] = [];
  for (const name of src.keys(group)) {
    const path = `${group}/${name}`;
    if ((withTimesteps && name === "timesteps") || src.kind(path) !== "dataset") continue;
    out.push({ name, path, firstRow: scalarNumber(src.attrs(path)[FIRST_ROW]) ?? 0 });
  }
  return out;
}

/**
 * A 2.x episode: row `id` of the episode table and the stream rows it names. In a file its writer
 * did not close (or a live one) every range is cut to the rows present, the steps to those present
 * in every step-aligned stream the episode has; elsewhere a range beyond its stream is a
 * FormatError `INVALID_DATA`.
 *
 * @example
 * ```ts
 * const backend = new V2Episode(src, table, streams, 3);
 * const spikes = backend.spikes();
 * ```
 */
export class V2Episode implements EpisodeBackend {
  readonly path: string = EPISODES.group;
  readonly staticGroup: string;

  /** The episode's step timesteps, read once (not live: a live file's episode may still grow). */
  private steps: Float64Array | null = null;

  constructor(private readonly src: Source, private readonly table: V2Table, private readonly streams: V2Streams, readonly id: number) {
    this.staticGroup = STATIC.episode(id);
  }

  /** The timesteps of the episode's steps, shared by its spikes, behaviour and rewards (callers that hand them out copy). */
  private stepTimes(): Float64Array {
    this.src.checkOpen(); // closed: a StateError, also for the kept timesteps
    if (this.steps) return this.steps;
    const steps = this.f64(STREAMS.timesteps, this.rows("steps")[0], this.stepEnd());
    if (!this.src.live) this.steps = steps;
    return steps;
  }

  private rows(range: RangeName): Rows {
    return this.table.rows(this.id, range);
  }

  attrs(): EpisodeAttributes {
    this.src.checkOpen();
    return this.table.attrs(this.id);
  }

  /** The end of the episode's steps: the table's, cut in a partial file to the rows present. */
  private stepEnd(): number {
    const [a, b] = this.rows("steps");
    if (!this.src.partial || b <= a) return b;
    let end = Math.min(b, this.src.length(STREAMS.timesteps));
    const paths = [...this.streams.stepAligned, ...this.has("behavior").map((v) => v.path)];
    for (const p of paths) end = Math.min(end, this.src.length(p));
    return Math.max(a, end);
  }

  /** Rows `[start, end)` of a numeric dataset, checked to be all there unless the file is partial. */
  private nd(path: string, start: number, end: number, exact = false): NdArray {
    const a = this.src.slice(path, start, end, exact);
    this.check(path, a.shape[0] ?? 0, start, end);
    return a;
  }

  private f64(path: string, start: number, end: number): Float64Array {
    return toFloat64(this.numbers(path, start, end), path);
  }

  /** As {@link f64}, in the stored type (64-bit integers as Float64Array): for values used here only, not handed out. */
  private numbers(path: string, start: number, end: number): NumberArray {
    if (end <= start) return new Float64Array(0);
    if (this.src.kind(path) !== "dataset") {
      this.check(path, 0, start, end);
      return new Float64Array(0);
    }
    return this.nd(path, start, end).data as NumberArray;
  }

  private strings(path: string, start: number, end: number): string[] {
    if (end <= start) return [];
    const out = this.src.stringRows(path, start, end);
    this.check(path, out.length, start, end);
    return out;
  }

  private check(path: string, got: number, start: number, end: number): void {
    if (got === end - start || this.src.partial) return;
    throw new FormatError(
      "INVALID_DATA",
      `${path} in ${this.src.filePath} has ${got} of the rows ${start}..${end} that episode ${this.id} owns (episode table ${EPISODES.group})`,
    );
  }

  timesteps(): Float64Array {
    return this.stepTimes().slice();
  }

  /** The variables of a series stream that the episode has: its rows end after the variable's first row. */
  private has(stream: SeriesName): Variable[] {
    const [s, e] = stream === "behavior" ? this.rows("steps") : this.rows("states");
    return e > s ? this.streams.vars[stream].filter((v) => e > v.firstRow) : [];
  }

  seriesNames(stream: SeriesName): string[] {
    return this.has(stream).map((v) => v.name);
  }

  series(stream: SeriesName, names: string[]): TimeSeries {
    const behavior = stream === "behavior";
    const start = behavior ? this.rows("steps")[0] : this.rows("states")[0];
    const end = behavior ? this.stepEnd() : this.rows("states")[1];
    return this.seriesRows(stream, names, start, end);
  }

  seriesWindow(stream: SeriesName, names: string[], from: number, to: number): TimeSeries {
    const [start, end] = stream === "behavior" ? this.stepWindow(from, to) : this.axisWindow(STREAMS.neuralStates.timesteps, ...this.rows("states"), from, to);
    return this.seriesRows(stream, names, start, end);
  }

  /** Rows `[start, end)` of a series stream (behaviour: step rows; neural state: state rows). */
  private seriesRows(stream: SeriesName, names: string[], start: number, end: number): TimeSeries {
    const behavior = stream === "behavior";
    const whole = behavior && start === this.rows("steps")[0] && end === this.stepEnd();
    const timesteps = whole ? this.stepTimes().slice() : this.f64(behavior ? STREAMS.timesteps : STREAMS.neuralStates.timesteps, start, end);
    const paths = new Map(this.streams.vars[stream].map((v) => [v.name, v.path]));
    const read: Record<string, NdArray> = {};
    const lengths: Record<string, number> = { timesteps: timesteps.length };
    for (const name of names) {
      const a = this.nd(paths.get(name) as string, start, end, true);
      setOwn(read, name, a);
      setOwn(lengths, name, a.shape[0]);
    }
    const group = behavior ? STREAMS.behavior.group : STREAMS.neuralStates.group;
    const n = commonLength(lengths, this.src.partial, `${group} rows ${start}..${end}`);
    const variables: Record<string, NdArray> = {};
    for (const [name, a] of Object.entries(read)) setOwn(variables, name, takeRows(a, n));
    return { timesteps: timesteps.subarray(0, n), variables };
  }

  /** The episode's step rows whose timesteps lie in `[from, to)`. */
  private stepWindow(from: number, to: number): [number, number] {
    return this.axisWindow(STREAMS.timesteps, this.rows("steps")[0], this.stepEnd(), from, to);
  }

  /**
   * Rows of `[a, end)` of a time axis (increasing within the episode) whose values lie in
   * `[from, to)`. An evenly spaced axis (each step one timestep after the last, or samples every
   * r steps: the usual case) is indexed by arithmetic, checked by reading the rows on both sides
   * of each bound; any other by binary search.
   */
  private axisWindow(path: string, a: number, end: number, from: number, to: number): [number, number] {
    if (end <= a) return [a, a];
    const at = (i: number): number => Number(this.src.slice(path, i, i + 1).data[0]);
    const n = end - a;
    const t0 = at(a);
    const d = n > 1 ? (at(end - 1) - t0) / (n - 1) : 1;
    if (Number.isInteger(d) && d >= 1) {
      const guess = (t: number): number => a + Math.min(n, Math.max(0, Math.ceil((t - t0) / d)));
      const bounds = (t: number, r: number): boolean => (r === a || at(r - 1) < t) && (r === end || at(r) >= t);
      const r0 = guess(from);
      const r1 = guess(to);
      if (bounds(from, r0) && bounds(to, r1)) return [r0, r1];
    }
    const r0 = lowerBound(at, a, end, from);
    return [r0, lowerBound(at, r0, end, to)];
  }

  /**
   * The row of `/spikes/neuron_ids` where step row `r` (of this episode) starts: from the episode's
   * first id row, or from `/spikes/id_offsets` when an entry lies between, plus the counts since.
   */
  private idRow(r: number): number {
    const [a] = this.rows("steps");
    let base = this.rows("spikes")[0];
    let from = a;
    const every = this.streams.idEvery;
    const k = every > 0 ? Math.floor(r / every) : 0;
    if (every > 0 && k * every > a && k < this.src.length(STREAMS.spikes.idOffsets)) {
      base = Number(this.src.slice(STREAMS.spikes.idOffsets, k, k + 1).data[0]);
      from = k * every;
    }
    if (r <= from) return base;
    const counts = this.numbers(STREAMS.spikes.counts, from, r);
    for (let i = 0; i < counts.length; i++) base += counts[i];
    return base;
  }

  spikesWindow(from: number, to: number): SpikeTrain {
    const [r0, r1] = this.stepWindow(from, to);
    return this.spikesOfRows(r0, r1, this.streams.denseSpikes ? 0 : this.idRow(r0));
  }

  *spikeBlocks(steps: number, from: number, to: number): Generator<SpikeTrain> {
    const [r0, r1] = this.stepWindow(from, to);
    let s = this.streams.denseSpikes || r1 <= r0 ? 0 : this.idRow(r0);
    for (let r = r0; r < r1; r += steps) {
      const block = this.spikesOfRows(r, Math.min(r1, r + steps), s);
      s += block.neuronIds.length;
      yield block;
    }
  }

  /** Spikes of step rows `[r0, r1)`, whose ids start at id row `s0`. */
  private spikesOfRows(r0: number, r1: number, s0: number): SpikeTrain {
    const { spikes } = STREAMS;
    const empty = { timesteps: new Float64Array(0), neuronIds: new Uint32Array(0) };
    const axis = this.streams.denseSpikes ? spikes.matrix : spikes.counts;
    if (r1 <= r0 || this.src.kind(axis) !== "dataset") return empty;
    const steps = this.f64(STREAMS.timesteps, r0, r1);
    if (this.streams.denseSpikes) return decodeDense(this.src, spikes.matrix, r0, r0 + steps.length, steps);
    const counts = this.numbers(spikes.counts, r0, r1);
    let total = 0;
    for (let i = 0; i < counts.length; i++) total += counts[i];
    const ids = total > 0 ? toUint32(this.nd(spikes.neuronIds, s0, s0 + total).data, spikes.neuronIds) : new Uint32Array(0);
    return decodeCsr(steps, counts, ids, this.src.partial, `${spikes.group} rows ${r0}..${r1}`);
  }

  spikes(): SpikeTrain {
    const { spikes } = STREAMS;
    const [a] = this.rows("steps");
    const end = this.stepEnd();
    const empty = { timesteps: new Float64Array(0), neuronIds: new Uint32Array(0) };
    const axis = this.streams.denseSpikes ? spikes.matrix : spikes.counts;
    if (end <= a || this.src.kind(axis) !== "dataset") return empty; // no spikes in this experiment
    const steps = this.stepTimes();
    if (this.streams.denseSpikes) {
      return decodeDense(this.src, spikes.matrix, a, a + steps.length, steps);
    }
    const counts = this.numbers(spikes.counts, a, end);
    const [s0, s1] = this.rows("spikes");
    const ids = s1 > s0 ? toUint32(this.nd(spikes.neuronIds, s0, s1).data, spikes.neuronIds) : new Uint32Array(0);
    return decodeCsr(steps, counts, ids, this.src.partial, `${spikes.group} rows ${a}..${end}`);
  }

  rewards(): Rewards {
    const { rewards } = STREAMS;
    if (this.streams.denseRewards) {
      const [a] = this.rows("steps");
      const end = this.stepEnd();
      if (this.src.kind(rewards.values) !== "dataset") return { timesteps: new Float64Array(0), values: new Float64Array(0) };
      return nonZeroRewards(this.stepTimes(), this.f64(rewards.values, a, end));
    }
    const [r0, r1] = this.rows("rewards");
    const timesteps = this.f64(rewards.timesteps, r0, r1);
    const values = this.f64(rewards.values, r0, r1);
    const n = commonLength({ timesteps: timesteps.length, values: values.length }, this.src.partial, rewards.group);
    return { timesteps: timesteps.subarray(0, n), values: values.subarray(0, n) };
  }

  weightChanges(): WeightChanges {
    const [w0, w1] = this.rows("weightChanges");
    const cols = {} as WeightChanges;
    for (const k of WEIGHT_KEYS) cols[k] = this.f64(STREAMS.weightChanges[k], w0, w1);
    const lengths = Object.fromEntries(WEIGHT_KEYS.map((k) => [k, cols[k].length]));
    const n = commonLength(lengths, this.src.partial, STREAMS.weightChanges.group);
    for (const k of WEIGHT_KEYS) cols[k] = cols[k].subarray(0, n);
    return sortWeightChanges(cols);
  }

  events(): ExperimentEvent[] {
    const { events } = STREAMS;
    const [e0, e1] = this.rows("events");
    const timesteps = this.f64(events.timesteps, e0, e1);
    const types = this.strings(events.types, e0, e1);
    const data = this.src.kind(events.data) === "dataset" ? this.strings(events.data, e0, e1) : null;
    return toEvents(timesteps, types, data, this.src.partial, events.group, e0);
  }

  summary(): unknown {
    return this.table.summary(this.id);
  }
}

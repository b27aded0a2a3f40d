/**
 * Windows over an episode's data, shared by both format versions: time windows found by binary
 * search over a sorted time axis, neuron selections applied to spikes and to the second dimension
 * of neural state.
 */
import { ValidationError } from "../errors.js";
import { setOwn } from "./read.js";
import type { NdArray, NeuronSelection, SpikeTrain, TimeSeries, TimeWindow } from "./types.js";

/** The checked bounds of a window: `from` inclusive, `to` exclusive (±Infinity when open). */
export function windowBounds(w: TimeWindow | undefined): { from: number; to: number; whole: boolean } {
  const from = w?.from ?? -Infinity;
  const to = w?.to ?? Infinity;
  for (const [k, v] of [["from", from], ["to", to]] as const) {
    if (typeof v !== "number" || Number.isNaN(v)) throw new ValidationError("INVALID_DATA", `window ${k} must be a timestep (a number), got ${JSON.stringify(v)}`);
  }
  if (to < from) throw new ValidationError("INVALID_DATA", `window from ${from} is after to ${to}; pass from <= to`);
  return { from, to, whole: from === -Infinity && to === Infinity };
}

/**
 * The first index in `[lo, hi)` whose value is at least `t` (hi when none), for a sorted axis
 * read one value at a time through `at` (each read touches one chunk; the searches of a window
 * share most of them).
 */
export function lowerBound(at: (i: number) => number, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (at(mid) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A predicate for a neuron selection (null: every neuron). */
export function neuronFilter(sel: NeuronSelection | undefined): ((id: number) => boolean) | null {
  if (sel === undefined) return null;
  if (typeof sel === "object" && sel !== null && "from" in sel && "to" in sel && !("length" in sel)) {
    const { from, to } = sel as { from: number; to: number };
    if (!Number.isFinite(from) || !Number.isFinite(to)) throw new ValidationError("INVALID_DATA", `neurons { from, to } must be numbers, got ${JSON.stringify(sel)}`);
    return (id) => id >= from && id < to;
  }
  if (sel === null || typeof (sel as ArrayLike<number>).length !== "number") {
    throw new ValidationError("INVALID_DATA", `neurons must be a list of ids or { from, to }, got ${JSON.stringify(sel)}`);
  }
  const set = new Set(Array.from(sel as ArrayLike<number>));
  return (id) => set.has(id);
}

/** The spikes of the selected neurons. */
export function selectSpikes(sp: SpikeTrain, keep: ((id: number) => boolean) | null): SpikeTrain {
  if (!keep) return sp;
  let n = 0;
  for (let i = 0; i < sp.neuronIds.length; i++) if (keep(sp.neuronIds[i])) n++;
  const timesteps = new Float64Array(n);
  const neuronIds = new Uint32Array(n);
  for (let i = 0, k = 0; i < sp.neuronIds.length; i++) {
    if (!keep(sp.neuronIds[i])) continue;
    timesteps[k] = sp.timesteps[i];
    neuronIds[k++] = sp.neuronIds[i];
  }
  return { timesteps, neuronIds };
}

/** The spikes whose timestep lies in `[from, to)` (for readers that decoded more). */
export function spikesInTime(sp: SpikeTrain, from: number, to: number): SpikeTrain {
  const ts = sp.timesteps;
  const a = lowerBound((i) => ts[i], 0, ts.length, from);
  const b = lowerBound((i) => ts[i], a, ts.length, to);
  return { timesteps: ts.subarray(a, b), neuronIds: sp.neuronIds.subarray(a, b) };
}

/** The rows of a series whose timestep lies in `[from, to)` (for readers that decoded more). */
export function seriesInTime(s: TimeSeries, from: number, to: number): TimeSeries {
  const ts = s.timesteps;
  const a = lowerBound((i) => ts[i], 0, ts.length, from);
  const b = lowerBound((i) => ts[i], a, ts.length, to);
  const variables: Record<string, NdArray> = {};
  for (const [name, v] of Object.entries(s.variables)) {
    const row = v.shape.slice(1).reduce((x, y) => x * y, 1);
    setOwn(variables, name, { ...v, data: v.data.subarray(a * row, b * row), shape: [b - a, ...v.shape.slice(1)] });
  }
  return { timesteps: ts.subarray(a, b), variables };
}

/** Neural state of the selected neurons: the second dimension of each variable (`[K, N, ...]`) cut to them. */
export function selectNeurons(s: TimeSeries, sel: NeuronSelection | undefined): TimeSeries {
  const keep = neuronFilter(sel);
  if (!keep) return s;
  const variables: Record<string, NdArray> = {};
  for (const [name, v] of Object.entries(s.variables)) {
    if (v.shape.length < 2) throw new ValidationError("INVALID_DATA", `neural state variable "${name}" has shape ${JSON.stringify(v.shape)}: no neuron dimension to select from`);
    const [k, n, ...rest] = v.shape;
    const inner = rest.reduce((x, y) => x * y, 1);
    const ids: number[] = [];
    for (let i = 0; i < n; i++) if (keep(i)) ids.push(i);
    const out = new (v.data.constructor as new (len: number) => typeof v.data)(k * ids.length * inner);
    for (let r = 0; r < k; r++) {
      ids.forEach((id, j) => {
        const src = (r * n + id) * inner;
        out.set(v.data.subarray(src, src + inner) as never, (r * ids.length + j) * inner);
      });
    }
    setOwn(variables, name, { ...v, data: out, shape: [k, ids.length, ...rest] });
  }
  return { timesteps: s.timesteps, variables };
}

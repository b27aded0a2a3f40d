/**
 * Facts about an open experiment that several commands need: its time step, its neuron count and
 * neuron types. Read through the public loader (per-episode totals: ./episodes.ts).
 */
import type { ExperimentLoader } from "./experiment.js";

/** How long one logged step is, and where that came from. */
export interface TimeStep {
  /** Milliseconds per step. */
  ms: number;
  /** `config.dt_ms`, `config.dt`, ... or `assumed` (1 ms). */
  source: string;
}

/**
 * The step length: `dt_ms` (ms), `dt_s` / `dt_sec` (seconds), `dt` (taken as ms) from the saved
 * config, top level first, then one level down (e.g. `network.dt`); 1 ms when none is found.
 */
export function timeStep(config: Record<string, unknown>): TimeStep {
  const keys: Array<[string, number]> = [["dt_ms", 1], ["dt_s", 1000], ["dt_sec", 1000], ["dt", 1]];
  const look = (obj: Record<string, unknown>, prefix: string): TimeStep | undefined => {
    for (const [k, factor] of keys) {
      const v = obj[k];
      if (typeof v === "number" && Number.isFinite(v) && v > 0) return { ms: v * factor, source: `config.${prefix}${k}` };
    }
    return undefined;
  };
  const top = look(config, "");
  if (top) return top;
  for (const [name, v] of Object.entries(config)) {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const found = look(v as Record<string, unknown>, `${name}.`);
      if (found) return found;
    }
  }
  return { ms: 1, source: "assumed" };
}

/** The neuron count: `network_structure` `n_neurons`, else `config.n_neurons`; null when unknown. */
export function neuronCount(loader: ExperimentLoader): number | null {
  const n = loader.getNetworkStructure().nNeurons;
  if (n !== null) return n;
  const c = loader.getConfig().n_neurons;
  return typeof c === "number" && Number.isInteger(c) && c > 0 ? c : null;
}

/** `network_structure/neurons/types` when it is a string field, else null. */
export function neuronTypes(loader: ExperimentLoader): string[] | null {
  const t = loader.getNetworkStructure().neurons.types;
  return Array.isArray(t) && t.every((x) => typeof x === "string") ? t : null;
}

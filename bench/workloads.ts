/**
 * The benchmark workloads: the six of `bench/workloads.json` (a byte-identical copy of
 * `../shared/bench/workloads.json`, which the h5py reference peer reads) plus `long`, defined here
 * in code so the shared file stays untouched. `long` only runs when asked for by name.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** One workload, with the field names of workloads.json. */
export interface Workload {
  episodes: number;
  steps: number;
  neurons: number;
  spike_rate: number;
  sampling: number;
  weight_change_rate: number;
}

/** The repository root (this file compiles to `dist/bench/workloads.js`). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Where the copy of the shared workloads lives. */
export const WORKLOADS_JSON = join(REPO_ROOT, "bench", "workloads.json");

function loadJson(): Record<string, Workload> {
  const parsed = JSON.parse(readFileSync(WORKLOADS_JSON, "utf8")) as { workloads: Record<string, Workload> };
  return parsed.workloads;
}

const fromJson = loadJson();

/** Workloads defined in code only: not run by default, and unknown to the h5py peer's json. */
export const EXTRA_WORKLOADS: Readonly<Record<string, Workload>> = {
  long: { ...fromJson.quickstart, steps: fromJson.quickstart.steps * 10 },
};

/** Every workload by name. */
export const WORKLOADS: Readonly<Record<string, Workload>> = { ...fromJson, ...EXTRA_WORKLOADS };

/** The workloads `npm run bench` runs when none is named: the json's, in the json's order. */
export const DEFAULT_WORKLOADS: readonly string[] = Object.keys(fromJson);

/** The workload called `name`, or an Error whose message lists the known names. */
export function workload(name: string): Workload {
  const w = Object.hasOwn(WORKLOADS, name) ? WORKLOADS[name] : undefined;
  if (!w) throw new Error(`unknown workload "${name}"; known workloads: ${Object.keys(WORKLOADS).join(", ")}`);
  return w;
}

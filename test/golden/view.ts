/**
 * The golden view of an experiment file: everything the loader returns for it, as plain JSON.
 *
 * Shared by the generator (test/golden/make-v1.ts, which wrote `<name>.expected.json` next to each
 * golden `.h5` with the loader of the day) and the test (test/golden-v1.test.ts, which builds the
 * same view with today's loader and deep-compares). Changing what this function looks at changes
 * the contract of every committed `.expected.json`: add to it only together with the JSON files
 * (and only for values the 1.0 files really hold), never "fix" the JSON by regenerating it.
 *
 * Encoding (see {@link toJson}), chosen so that every value round-trips through JSON exactly:
 * - a TypedArray is `{ "$typed": "<class name>", "values": [...] }`;
 * - a number that JSON cannot hold (NaN, Infinity, -Infinity) or would lose (-0) is
 *   `{ "$number": "NaN" | "Infinity" | "-Infinity" | "-0" }`, everywhere, inside typed arrays too;
 * - a bigint is `{ "$bigint": "<decimal>" }`, `undefined` is `{ "$undefined": true }`
 *   (so a key present with value undefined differs from a missing key);
 * - a call that throws is `{ "$error": { "name", "code" } }` (the message is not part of the
 *   contract; the error class and code are).
 * Anything else that is not plain data (Map, Date, class instances) is refused, so that the view
 * never silently drops a part of a result.
 */
import type { EpisodeData, ExperimentLoader } from "#lib/index.js";

/** Directory of the golden files of format 1.0, relative to the repository root. */
export const GOLDEN_V1_DIR = "test/fixtures/golden/v1.0";

/** The golden experiments of format 1.0 (`<name>.h5` and `<name>.expected.json`). */
export const GOLDEN_V1_NAMES = ["optimized", "standard", "interrupted", "empty"] as const;

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Encodes a loader result as JSON-safe data (rules in the module comment). */
export function toJson(x: unknown, where = "view"): Json {
  if (x === null || typeof x === "boolean" || typeof x === "string") return x;
  if (typeof x === "number") return num(x);
  if (typeof x === "bigint") return { $bigint: x.toString() };
  if (x === undefined) return { $undefined: true };
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
    const values = Array.from(x as unknown as ArrayLike<number | bigint>, (v) => (typeof v === "bigint" ? { $bigint: v.toString() } : num(v)));
    return { $typed: x.constructor.name, values };
  }
  if (Array.isArray(x)) return x.map((v, i) => toJson(v, `${where}[${i}]`));
  if (typeof x === "object") {
    const proto = Object.getPrototypeOf(x);
    if (proto !== Object.prototype && proto !== null) {
      throw new Error(`golden view: ${where} is a ${Object.prototype.toString.call(x)} (${proto?.constructor?.name}), not plain data`);
    }
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(x)) out[k] = toJson(v, `${where}.${k}`);
    return out;
  }
  throw new Error(`golden view: ${where} is a ${typeof x}`);
}

function num(v: number): Json {
  if (Number.isNaN(v)) return { $number: "NaN" };
  if (v === Infinity) return { $number: "Infinity" };
  if (v === -Infinity) return { $number: "-Infinity" };
  if (Object.is(v, -0)) return { $number: "-0" };
  return v;
}

/** The result of `fn`, or `{ $error: { name, code } }` when it throws. */
function attempt(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    const e = err as { name?: unknown; code?: unknown };
    return { $error: { name: String(e?.name), code: e?.code === undefined ? null : String(e.code) } };
  }
}

/** Everything the loader returns for one episode. */
export function episodeView(ep: EpisodeData): unknown {
  const names = ep.listStaticData();
  const neural = ep.getNeuralStates();
  const first = Object.keys(neural.variables)[0];
  return {
    id: ep.id,
    path: ep.path,
    attrs: ep.attrs,
    timesteps: ep.getTimesteps(),
    neuralStates: neural,
    // the `names` selection, and the error for an unknown name
    neuralStatesFirst: first === undefined ? null : ep.getNeuralStates([first]),
    neuralStatesUnknown: attempt(() => ep.getNeuralStates(["no_such_variable"])),
    spikes: ep.getSpikes(),
    behavior: ep.getBehavior(),
    rewards: ep.getRewards(),
    weightChanges: ep.getWeightChanges(),
    events: ep.getEvents(),
    summary: ep.getSummary(),
    staticNames: names,
    static: Object.fromEntries(names.map((n) => [n, ep.getStaticData(n)])),
    staticUnknown: attempt(() => ep.getStaticData("no_such_entry")),
  };
}

/** Everything the loader returns for an open experiment, encoded with {@link toJson}. */
export function goldenView(loader: ExperimentLoader): Json {
  const ids = loader.listEpisodes();
  const checkpoints = loader.listCheckpoints();
  return toJson({
    rootAttributes: loader.rootAttributes,
    metadata: loader.getMetadata(),
    config: loader.getConfig(),
    networkStructure: loader.getNetworkStructure(),
    episodeCount: loader.episodeCount,
    episodeIds: ids,
    episodes: ids.map((id) => episodeView(loader.getEpisode(id))),
    episodeUnknown: attempt(() => loader.getEpisode(9999)),
    checkpointNames: checkpoints,
    checkpoints: Object.fromEntries(checkpoints.map((n) => [n, loader.getCheckpoint(n)])),
    checkpointUnknown: attempt(() => loader.getCheckpoint("no_such_checkpoint")),
    codeFiles: attempt(() => loader.listCodeFiles()),
  });
}

/**
 * Worker of the loader fuzz: opens each damaged file of a batch with ExperimentLoader, reads
 * everything the loader returns and compares a digest of it with the undamaged file's. Then checks
 * that the valid file still reads the same in this process (a wasm abort or a corrupted engine
 * state would "poison" later opens).
 *
 *   node dist/bench/fuzz-worker.js batch.json
 *
 * batch.json: { valid: string, files: string[], first?: number }; the valid file is read first.
 * Prints one JSON line per event: {"i":k,"start":true}, {"i":k,"outcome":"exact"|"typed"|"silent"|"untyped",...},
 * {"i":k,"poisoned":true,...} when the valid file stopped reading after case k, {"done":true}.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ExperimentLoader, SnnExportError } from "#lib/index.js";
import { sayJsonLine } from "./child-io.js";

const say = (obj: Record<string, unknown>): void => sayJsonLine(obj);

/**
 * A canonical text of any value the loader returns: typed arrays as their kind and a hash of their
 * bytes, numbers exactly (-0, NaN), bigints, object keys sorted.
 */
export function canonical(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return String(v);
  if (ArrayBuffer.isView(v)) {
    const b = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return `${v.constructor.name}(${b.length}:${createHash("sha256").update(b).digest("hex").slice(0, 32)})`;
  }
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v instanceof Map) return `Map{${[...v.entries()].map(([k, x]) => `${canonical(k)}=>${canonical(x)}`).sort().join(",")}}`;
  if (typeof v === "object") {
    const keys = Object.keys(v as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return `?${typeof v}`;
}

function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 24);
}

/**
 * Reads everything the loader returns for `file` (config, metadata, root attributes, network,
 * the episode table, every episode's attributes, timesteps, neural states, spikes, behaviour,
 * rewards, weight changes, events, summary and static data, checkpoints, code snapshot) and
 * returns a digest per part (part name → hash of its canonical text).
 */
export async function digestEverything(file: string): Promise<Record<string, string>> {
  const loader = await ExperimentLoader.open(file);
  const out: Record<string, string> = {};
  const put = (name: string, v: unknown): void => {
    out[name] = hash(canonical(v));
  };
  try {
    put("metadata", loader.getMetadata());
    put("rootAttributes", loader.rootAttributes);
    put("config", loader.getConfig());
    put("network", loader.getNetworkStructure());
    put("episodeTable", loader.episodes());
    const ids = loader.listEpisodes();
    put("episodeIds", ids);
    for (const id of ids) {
      const ep = loader.getEpisode(id);
      const p = `episode ${id} `;
      put(p + "attrs", ep.attrs);
      put(p + "timesteps", ep.getTimesteps());
      put(p + "neuralStates", ep.getNeuralStates());
      put(p + "spikes", ep.getSpikes());
      put(p + "behavior", ep.getBehavior());
      put(p + "rewards", ep.getRewards());
      put(p + "weightChanges", ep.getWeightChanges());
      put(p + "events", ep.getEvents());
      put(p + "summary", ep.getSummary());
      const statics = ep.listStaticData();
      put(p + "staticNames", statics);
      for (const s of statics) put(p + `static ${s}`, ep.getStaticData(s));
    }
    const cps = loader.listCheckpoints();
    put("checkpointNames", cps);
    for (const name of cps) put(`checkpoint ${name}`, loader.getCheckpoint(name));
    const code = loader.listCodeFiles();
    put("codeIndex", code);
    for (const f of code) if (f.stored) put(`code ${f.path}`, loader.getCodeFile(f.path));
    return out;
  } finally {
    loader.close();
  }
}

/** The digest as one string (for equality). */
export async function readEverything(file: string): Promise<string> {
  return canonical(await digestEverything(file));
}

/** Parts whose digests differ (missing on either side included). */
export function differingParts(a: Record<string, string>, b: Record<string, string>): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((n) => a[n] !== b[n]).sort();
}

async function main(): Promise<void> {
  const batch = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as { valid: string; files: string[]; first?: number };
  const base = batch.first ?? 0;
  const expect = await digestEverything(batch.valid);
  const expectText = canonical(expect);
  for (let k = 0; k < batch.files.length; k++) {
    const i = base + k;
    say({ i, start: true });
    let outcome: Record<string, unknown>;
    try {
      const got = await digestEverything(batch.files[k]);
      const diff = differingParts(expect, got);
      outcome = diff.length === 0 ? { outcome: "exact" } : { outcome: "silent", message: `differs in: ${diff.slice(0, 8).join("; ")}${diff.length > 8 ? ` (+${diff.length - 8})` : ""}` };
    } catch (err) {
      outcome = err instanceof SnnExportError
        ? { outcome: "typed", name: err.name, code: err.code, message: err.message.slice(0, 300) }
        : { outcome: "untyped", name: (err as Error)?.name, message: String((err as Error)?.stack ?? err).slice(0, 600) };
    }
    say({ i, ...outcome });
    if (outcome.outcome !== "exact") {
      // does the engine still work? (a wasm abort or a stuck HDF5 state would show here)
      try {
        const got = canonical(await digestEverything(batch.valid));
        if (got !== expectText) {
          say({ i, poisoned: true, message: "the valid file reads differently" });
          process.exit(4);
        }
      } catch (err) {
        say({ i, poisoned: true, message: String((err as Error)?.message ?? err).slice(0, 300) });
        process.exit(4);
      }
    }
  }
  const got = canonical(await digestEverything(batch.valid));
  say({ done: true, validOk: got === expectText });
  // the wasm engine's worker (if any) must not keep the process alive
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    say({ fatal: String((err as Error)?.stack ?? err).slice(0, 1000) });
    process.exit(1);
  });
}

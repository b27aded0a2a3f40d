/**
 * Worker of the loader fuzz test: opens each damaged file of a batch with ExperimentLoader and
 * reads everything in it, then checks that a valid file still reads correctly in this same
 * process (a wasm abort or a corrupted engine state would "poison" later opens).
 *
 *   node dist/bench/fuzz-worker.js batch.json
 *
 * batch.json: { valid: string, files: string[] }; the valid file is read first, and its digest is
 * what it must still read as after any failing case.
 * Prints one JSON line per event: {"i":k,"start":true}, {"i":k,"outcome":"ok"|"typed"|"untyped",...},
 * {"i":k,"poisoned":true,...} when the valid file stopped reading after case k, {"done":true}.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ExperimentLoader, SnnExportError } from "../src/index.js";
import { sayJsonLine } from "./child-io.js";

const say = (obj: Record<string, unknown>): void => sayJsonLine(obj);

/** Reads every part of an experiment; returns a small digest of what was read. */
export async function readEverything(file: string): Promise<string> {
  const loader = await ExperimentLoader.open(file);
  try {
    const parts: unknown[] = [];
    const meta = loader.getMetadata();
    parts.push(meta.experimentName, meta.status, loader.getConfig());
    const net = loader.getNetworkStructure();
    parts.push(net.nNeurons, net.weights?.data.length ?? null);
    for (const id of loader.listEpisodes()) {
      const ep = loader.getEpisode(id);
      const a = ep.attrs;
      const ts = ep.getTimesteps();
      const ns = ep.getNeuralStates();
      const sp = ep.getSpikes();
      const beh = ep.getBehavior();
      const rw = ep.getRewards();
      const wc = ep.getWeightChanges();
      const ev = ep.getEvents();
      ep.getSummary();
      for (const s of ep.listStaticData()) ep.getStaticData(s);
      let sum = 0;
      for (let i = 0; i < sp.neuronIds.length; i++) sum = (sum * 31 + sp.neuronIds[i] + sp.timesteps[i]) % 1e9;
      parts.push([id, a.status, ts.length, ns.timesteps.length, sp.neuronIds.length, sum, beh.timesteps.length, rw.values.length, wc.timesteps.length, ev.length]);
    }
    for (const name of loader.listCheckpoints()) parts.push(Object.keys(loader.getCheckpoint(name).entries));
    return JSON.stringify(parts);
  } finally {
    loader.close();
  }
}

async function main(): Promise<void> {
  const batch = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as { valid: string; files: string[]; first?: number };
  const base = batch.first ?? 0;
  const expect = await readEverything(batch.valid);
  for (let k = 0; k < batch.files.length; k++) {
    const i = base + k;
    say({ i, start: true });
    let outcome: Record<string, unknown>;
    try {
      await readEverything(batch.files[k]);
      outcome = { outcome: "ok" };
    } catch (err) {
      outcome = err instanceof SnnExportError
        ? { outcome: "typed", name: err.name, code: err.code, message: err.message.slice(0, 300) }
        : { outcome: "untyped", name: (err as Error)?.name, message: String((err as Error)?.message ?? err).slice(0, 300) };
    }
    say({ i, ...outcome });
    if (outcome.outcome !== "ok") {
      // does the engine still work? (a wasm abort or a stuck HDF5 state would show here)
      try {
        const got = await readEverything(batch.valid);
        if (got !== expect) {
          say({ i, poisoned: true, message: "the valid file reads differently" });
          process.exit(4);
        }
      } catch (err) {
        say({ i, poisoned: true, message: String((err as Error)?.message ?? err).slice(0, 300) });
        process.exit(4);
      }
    }
  }
  const got = await readEverything(batch.valid);
  say({ done: true, validOk: got === expect });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    say({ fatal: String((err as Error)?.stack ?? err).slice(0, 1000) });
    process.exitCode = 1;
  });
}

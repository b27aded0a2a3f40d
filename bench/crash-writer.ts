/**
 * The child of the crash harness: writes the deterministic experiment of crash-data.ts with a
 * DataExporter and announces, one JSON line per event on fd 1 (written with fs.writeSync, so a
 * line is in the pipe before the next HDF5 call), which phase it is in and what is durable:
 *
 *   {"ev":"begin","p":"flush","n":3,"ep":0,"at":5000}     a phase starts (n: its occurrence)
 *   {"ev":"end","p":"flush","n":3,"writes":17}            it ended; `writes`: file writes it made
 *   {"ev":"durable","ep":0,"steps":5000,"wc":12,"events":4,"done":false}
 *                                                          after every completed flush / endEpisode
 *
 * Phases: setup (create … saveNetworkStructure), start_episode, burst (log calls between flushes),
 * flush (exporter.flush(), automatic or not), end_episode, between (the pause between episodes,
 * with a checkpoint now and then), close.
 *
 * With `hold` the child stops just before the k-th file write of the n-th occurrence of a phase
 * (optionally after writing only half of it: a torn write), announces {"ev":"hold"} and waits to
 * be killed: a SIGKILL at an exact point inside a flush or a close.
 *
 *   node dist/bench/crash-writer.js '{"dir":"/tmp/x","seed":1,"episodes":3,"steps":20000,...}'
 */
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { DataExporter } from "../src/index.js";
import * as D from "./crash-data.js";
import { sayJsonLine } from "./child-io.js";

export interface WriterSpec {
  /** outputBaseDir. */
  dir: string;
  seed: number;
  episodes: number;
  steps: number;
  flushEverySteps: number;
  flushIntervalMs: number;
  chunkSize: number;
  /** Pause between episodes, ms (an environment reset). */
  betweenMs: number;
  /** Save a checkpoint after every this many episodes (0: never). */
  checkpointEvery: number;
  /** Leave the last episode open and let close() end it (status `incomplete`). */
  closeOpen?: boolean;
  /** Write engine (the exporter's default when absent). */
  engine?: "ts" | "h5wasm";
  /**
   * false: compress chunks inline (SNN_EXPORT_COMPRESS_THREADS=0). With compression threads a
   * finished chunk is written at the next chance, so how many writes fall into a log burst depends
   * on timing; inline, the writes of every phase are the same in every run (for `hold`/`failAt`).
   * true: compression threads from the first chunk (SNN_EXPORT_COMPRESS_THREADS=now). Absent: the
   * exporter's default (threads once enough was compressed inline).
   */
  compressThreads?: boolean;
  hold?: { phase: string; occurrence: number; write: number; torn: boolean } | null;
  /** Add this many bytes of incompressible float64 to every checkpoint (to fill a disk quickly). */
  ballastBytes?: number;
  /**
   * Fail file writes with ENOSPC from the k-th write of the n-th occurrence of a phase on, `count`
   * writes in all (a disk that is full for a moment), then write normally again.
   */
  failAt?: { phase: string; occurrence: number; write: number; count: number } | null;
  /** After a write error, delete this file (free disk space) before calling close(). */
  freeOnError?: string;
}

const origWrite = fs.writeSync.bind(fs) as (fd: number, buf: Uint8Array, off?: number, len?: number, pos?: number | null) => number;

/** One JSON line on fd 1, through the unpatched write. */
function say(obj: Record<string, unknown>): void {
  sayJsonLine(obj, origWrite);
}

const spec = JSON.parse(process.argv[2] ?? "{}") as WriterSpec;
if (spec.compressThreads !== undefined) process.env.SNN_EXPORT_COMPRESS_THREADS = spec.compressThreads ? "now" : "0";

let phase = "init";
const occurrences = new Map<string, number>();
let occurrence = 0;
let writes = 0;
let failing = false;
let ep = -1;
let steps = 0;

function begin(p: string): void {
  phase = p;
  occurrence = occurrences.get(p) ?? 0;
  occurrences.set(p, occurrence + 1);
  writes = 0;
  say({ ev: "begin", p, n: occurrence, ep, at: steps });
}

function end(): void {
  say({ ev: "end", p: phase, n: occurrence, writes });
}

function hold(): never {
  say({ ev: "hold", p: phase, n: occurrence, write: writes });
  const cell = new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(cell, 0, 0, 60_000); // the parent kills us long before this times out
  say({ ev: "hold_timeout" });
  process.exit(3);
}

// Count the engine's file writes: h5wasm's NODERAWFS calls fs.writeSync on the module object; the
// TypeScript engine imports writeSync by name, which syncBuiltinESMExports() re-points.
(fs as { writeSync: unknown }).writeSync = function patched(fd: number, buf: Uint8Array, ...rest: unknown[]): number {
  if (fd > 2) {
    writes++;
    const f = spec.failAt;
    if (f && f.count > 0 && (failing || (f.phase === phase && f.occurrence === occurrence && f.write === writes))) {
      failing = true;
      f.count--;
      say({ ev: "inject_enospc", p: phase, n: occurrence, write: writes });
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });
    }
    const h = spec.hold;
    if (h && h.phase === phase && h.occurrence === occurrence && h.write === writes) {
      const [off, len, pos] = rest as [number | undefined, number | undefined, number | null | undefined];
      if (h.torn && typeof off === "number" && typeof len === "number" && typeof pos === "number") {
        // SIGKILL can split a write only between pages: write up to the first page boundary inside it
        const cut = (Math.floor(pos / 4096) + 1) * 4096 - pos;
        if (cut < len) {
          origWrite(fd, buf, off, cut, pos);
          say({ ev: "torn", bytes: cut, of: len });
        }
      }
      hold();
    }
  }
  return (origWrite as (...a: unknown[]) => number)(fd, buf, ...rest);
};
syncBuiltinESMExports();

async function main(): Promise<void> {
  const { seed } = spec;
  say({ ev: "start", pid: process.pid });
  begin("setup");
  const ex = await DataExporter.create("crash", {
    outputBaseDir: spec.dir, neuralSamplingRate: D.SAMPLING, chunkSize: spec.chunkSize,
    flushEverySteps: spec.flushEverySteps, flushIntervalMs: spec.flushIntervalMs,
    provenance: { runtime: true, git: false, codeSnapshot: false },
    ...(spec.engine ? { engine: spec.engine } : {}),
  });
  say({ ev: "file", path: ex.filePath });
  try {
    await write(ex, seed);
  } catch (err) {
    // a failure while writing (disk full, ...): report it, then see what close() does
    say({ ev: "error", phase, ...describeError(err) });
    if (spec.freeOnError) fs.rmSync(spec.freeOnError, { force: true });
    try {
      await ex.close();
      say({ ev: "close_after_error", ok: true });
    } catch (err2) {
      say({ ev: "close_after_error", ok: false, ...describeError(err2) });
    }
    process.exitCode = 1;
  }
}

/**
 * Wraps the exporter's flush — the automatic ones of the flush policy included — in `around`.
 * The policy calls a private `flushNow()` where the exporter has one (public `flush()` calls it
 * too), else `flush()`; hooking the innermost one catches both.
 */
function hookFlush(ex: object, around: (run: () => void) => void): void {
  const o = ex as Record<string, unknown>;
  const name = typeof o.flushNow === "function" ? "flushNow" : "flush";
  const orig = (o[name] as () => void).bind(ex);
  o[name] = () => around(orig);
}

/** An ended episode whose end the writer has not flushed yet (see hookWriterFlush). */
let endedNotFlushed: { ep: number; steps: number; wc: number; events: number; done: true } | null = null;

/** Calls `after` after every completed flush of the exporter's writer (the real durability points). */
function hookWriterFlush(ex: object, after: () => void): void {
  const w = (ex as { w: { flush(): void } }).w;
  const orig = w.flush.bind(w);
  w.flush = () => {
    orig();
    after();
  };
}

function describeError(err: unknown): Record<string, unknown> {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  return { name: e?.name, code: e?.code, message: e?.message ?? String(err), cause: e?.cause ? { code: e.cause.code, message: e.cause.message } : undefined };
}

async function write(ex: DataExporter, seed: number): Promise<void> {
  ex.saveConfig(D.config(seed, spec.episodes, spec.steps));
  ex.saveMetadata({ harness: "crash", seed });
  const net = D.network(seed);
  ex.saveNetworkStructure({ weights: { ...net, shape: [D.N_NEURONS, D.N_NEURONS] } });
  end();
  say({ ev: "durable", ep: -1, setup: true });

  let wc = 0;
  let events = 0;
  hookWriterFlush(ex, () => {
    if (!endedNotFlushed) return;
    say({ ev: "durable", ...endedNotFlushed });
    endedNotFlushed = null;
  });
  hookFlush(ex, (run) => {
    const inBurst = phase === "burst";
    if (inBurst) end();
    begin("flush");
    run();
    end();
    if (ep >= 0) say({ ev: "durable", ep, steps, wc, events, done: false });
    if (inBurst) begin("burst");
  });

  const mask = new Uint8Array(D.N_NEURONS);
  const v = new Float32Array(D.N_NEURONS);
  for (let e = 0; e < spec.episodes; e++) {
    ep = e;
    steps = 0;
    wc = 0;
    events = 0;
    begin("start_episode");
    ex.startEpisode();
    end();
    begin("burst");
    for (let t = 0; t < spec.steps; t++) {
      D.spikeMask(seed, e, t, mask);
      const step: Parameters<DataExporter["log"]>[0] = {
        timestep: t, spikes: mask, behavior: { x: D.behaviorX(seed, e, t), y: D.behaviorY(seed, e, t) }, reward: D.reward(seed, e, t),
      };
      if (t % D.SAMPLING === 0) step.neuralState = { v: D.membrane(seed, e, t, v) };
      // steps counts what log() has accepted; a flush inside log() covers this step too
      steps = t + 1;
      ex.log(step);
      for (const c of D.weightChanges(seed, e, t)) {
        ex.logWeightChange(c);
        wc++;
      }
      const evt = D.event(seed, e, t);
      if (evt) {
        ex.logEvent(evt);
        events++;
      }
    }
    end();
    if (spec.closeOpen && e === spec.episodes - 1) break;
    begin("end_episode");
    // the episode is durable once the writer has flushed after endEpisode(): at once, or (while
    // its last chunks are still compressed) at a later flush
    endedNotFlushed = { ep: e, steps, wc, events, done: true };
    ex.endEpisode({ success: e % 2 === 0, summary: D.summary(seed, e, spec.steps) });
    end();
    begin("between");
    if (spec.checkpointEvery > 0 && (e + 1) % spec.checkpointEvery === 0) {
      const entries: Record<string, unknown> = { weights: { ...net, values: net.values.map((x) => x + e) }, episode: e };
      if (spec.ballastBytes) entries.ballast = Float64Array.from({ length: spec.ballastBytes >> 3 }, (_, i) => D.unit(seed, e, i, 5000));
      ex.saveCheckpoint(`after_${e}`, entries);
      say({ ev: "durable_checkpoint", name: `after_${e}` });
    }
    const until = performance.now() + spec.betweenMs;
    while (performance.now() < until) await new Promise((r) => setTimeout(r, 1));
    end();
  }
  begin("close");
  await ex.close();
  end();
  say({ ev: "closed" });
}

main().catch((err: unknown) => {
  say({ ev: "error", phase, ...describeError(err) });
  process.exitCode = 1;
});

/**
 * The child of the crash harness: writes the deterministic experiment of crash-data.ts with a
 * DataExporter and announces, one JSON line per event on fd 1 (written with fs.writeSync, so a
 * line is in the pipe before the next HDF5 call), which phase it is in and what is durable:
 *
 *   {"ev":"begin","p":"flush","n":3,"ep":0,"at":5000}     a phase starts (n: its occurrence)
 *   {"ev":"end","p":"flush","n":3,"writes":17}            it ended; `writes`: file writes it made
 *   {"ev":"durable","ended":41,"lagMs":3.2}               episodes 0..41 are ended and durable
 *   {"ev":"durable","ep":42,"steps":17,"wc":2,"events":1,"done":false}
 *                                                          the open episode, as far as it is durable
 *
 * Durability (format 2.0): what the exporter has handed to its HDF5 writer (its private
 * `writeStreams()`: every stream's partial chunk and the episode table, with the open episode's
 * row as it stands) becomes durable when the writer's `flush()` completes. The child notes what it
 * had logged at each hand-over and announces it after the next completed writer flush, whichever
 * path made it: `flush()`, the periodic flushes inside `log()`, an episode end's flush (at once, by
 * the policy's timer, or owed until compression is idle), `saveCheckpoint`. An episode end by
 * itself is never announced. `lagMs`: how long the oldest newly durable episode had been ended.
 *
 * Phases: setup (create … saveNetworkStructure), start_episode, burst (log calls between flushes),
 * flush (a flush of the exporter — automatic or not — or of its writer alone, the owed ones),
 * end_episode, between (the pause between episodes, with a checkpoint now and then), close.
 *
 * With `hold` the child stops just before the k-th file write of the n-th occurrence of a phase
 * (optionally after writing only half of it: a torn write), announces {"ev":"hold"} and waits to
 * be killed: a SIGKILL at an exact point inside a flush or a close.
 *
 *   node dist/bench/crash-writer.js '{"dir":"/tmp/x","seed":1,"episodes":3,"steps":20000,...}'
 */
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { DataExporter } from "#lib/index.js";
import * as D from "./crash-data.js";
import { sayJsonLine } from "./child-io.js";

export interface WriterSpec extends D.Profile {
  /** outputBaseDir. */
  dir: string;
  seed: number;
  episodes: number;
  /** Steps of every episode (with `minSteps`: the most; see crash-data.ts's Profile). */
  steps: number;
  flushEverySteps: number;
  flushIntervalMs: number;
  chunkSize: number;
  /** Pause between episodes, ms (an environment reset). */
  betweenMs: number;
  /** Pause only after every this many episodes [1]. */
  betweenEvery?: number;
  /** Call exporter.flush() after every this many endEpisode() calls (0 or absent: never). */
  flushAfterEndEvery?: number;
  /** Save a checkpoint after every this many episodes (0: never). */
  checkpointEvery: number;
  /** Leave the last episode open and let close() end it (status `incomplete`). */
  closeOpen?: boolean;
  /** Write engine (the exporter's default when absent). */
  engine?: "ts" | "h5wasm";
  /** Other exporter options (e.g. asyncWrite, enableSwmr). */
  exporterOptions?: Record<string, unknown>;
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
/** A phase has begun and not ended. */
let inPhase = false;
const occurrences = new Map<string, number>();
let occurrence = 0;
let writes = 0;
let failing = false;
let ep = -1;
let steps = 0;

function begin(p: string): void {
  phase = p;
  inPhase = true;
  occurrence = occurrences.get(p) ?? 0;
  occurrences.set(p, occurrence + 1);
  writes = 0;
  say({ ev: "begin", p, n: occurrence, ep, at: steps });
}

function end(): void {
  inPhase = false;
  say({ ev: "end", p: phase, n: occurrence, writes });
}

let flushDepth = 0;

/**
 * Runs `run` as a "flush" phase, pausing the phase it interrupts (a burst, a pause between
 * episodes) and resuming it after. A flush inside endEpisode() or close() stays part of that phase.
 */
function asFlushPhase<T>(run: () => T): T {
  if (flushDepth > 0 || (inPhase && (phase === "end_episode" || phase === "close"))) return run();
  const resume = inPhase && phase !== "flush" ? phase : null;
  if (resume !== null) end();
  begin("flush");
  flushDepth++;
  let r: T;
  try {
    r = run();
  } catch (err) {
    flushDepth--; // the phase stays "flush": the error is reported in it
    throw err;
  }
  flushDepth--;
  end();
  if (resume !== null) begin(resume);
  return r;
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
    outputBaseDir: spec.dir, neuralSamplingRate: D.sampling(spec), chunkSize: spec.chunkSize,
    flushEverySteps: spec.flushEverySteps, flushIntervalMs: spec.flushIntervalMs,
    provenance: { runtime: true, git: false, codeSnapshot: false },
    ...(spec.engine ? { engine: spec.engine } : {}),
    ...(spec.exporterOptions ?? {}),
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

/** What the child had logged when the exporter last handed its buffers to the writer. */
interface Handed {
  /** The last episode whose endEpisode() had been called (-1: none). */
  ended: number;
  /** The open episode as logged so far, or null between episodes. */
  open: { ep: number; steps: number; wc: number; events: number } | null;
}

let open: Handed["open"] = null;
let lastEnded = -1;
let durableEnded = -1;
const endedAt: number[] = [];
let handed: Handed | null = null;

/**
 * Hooks the exporter (see the module comment): its private `writeStreams()` (the hand-over), its
 * flush paths (`flushNow`, `flushSoon`: the "flush" phase) and its writer's `flush()` (the
 * durability point; a writer flush outside the exporter's flush paths, an owed one, is a "flush"
 * phase of its own). Throws when the exporter no longer has them, rather than judge against
 * flushes the child cannot see.
 */
function hookExporter(ex: object): void {
  const o = ex as Record<string, unknown>;
  const w = o.writer as { flush?: () => void } | undefined;
  for (const name of ["writeStreams", "flushNow", "flushSoon"]) {
    if (typeof o[name] !== "function") throw new Error(`crash-writer: the exporter has no ${name}(); update the hooks of bench/crash-writer.ts`);
  }
  if (!w || typeof w.flush !== "function") throw new Error("crash-writer: the exporter has no `writer` with flush(); update the hooks of bench/crash-writer.ts");
  const writeStreams = (o.writeStreams as () => void).bind(ex);
  o.writeStreams = () => {
    const snapshot: Handed = { ended: lastEnded, open: open && { ...open, steps, wc: open.wc, events: open.events } };
    writeStreams();
    handed = snapshot;
  };
  for (const name of ["flushNow", "flushSoon"]) {
    const orig = (o[name] as () => void).bind(ex);
    o[name] = () => asFlushPhase(orig);
  }
  const flush = w.flush.bind(w);
  const waitIdle = typeof (w as { waitIdle?: unknown }).waitIdle === "function" ? (w as { waitIdle: () => void }).waitIdle.bind(w) : () => {};
  w.flush = () => {
    // with asyncWrite the flush is only posted to the write thread: it is durable once applied
    asFlushPhase(() => {
      flush();
      waitIdle();
    });
    const h = handed;
    handed = null;
    if (!h) return;
    if (h.ended > durableEnded) {
      const lagMs = Math.round((performance.now() - endedAt[durableEnded + 1]) * 10) / 10;
      durableEnded = h.ended;
      say({ ev: "durable", ended: h.ended, lagMs });
    }
    if (h.open) say({ ev: "durable", ep: h.open.ep, steps: h.open.steps, wc: h.open.wc, events: h.open.events, done: false });
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
  // the save* calls flush; with asyncWrite those flushes are only posted to the write thread:
  // flush() returns once it has applied them
  ex.flush();
  end();
  say({ ev: "durable", ep: -1, setup: true });

  hookExporter(ex);
  const sampling = D.sampling(spec);
  const mask = new Uint8Array(D.N_NEURONS);
  const v = new Float32Array(D.N_NEURONS);
  for (let e = 0; e < spec.episodes; e++) {
    const n = D.episodeSteps(seed, e, spec);
    ep = e;
    steps = 0;
    begin("start_episode");
    ex.startEpisode();
    open = { ep: e, steps: 0, wc: 0, events: 0 };
    end();
    begin("burst");
    for (let t = 0; t < n; t++) {
      D.spikeMask(seed, e, t, mask);
      const step: Parameters<DataExporter["log"]>[0] = {
        timestep: t, spikes: mask, behavior: { x: D.behaviorX(seed, e, t), y: D.behaviorY(seed, e, t) }, reward: D.reward(seed, e, t),
      };
      if (t % sampling === 0) step.neuralState = { v: D.membrane(seed, e, t, v) };
      // steps counts what log() has accepted; a flush inside log() covers this step too
      steps = t + 1;
      ex.log(step);
      for (const c of D.weightChanges(seed, e, t, spec.wcRate)) {
        ex.logWeightChange(c);
        open.wc++;
      }
      const evt = D.event(seed, e, t, spec.eventRate);
      if (evt) {
        ex.logEvent(evt);
        open.events++;
      }
    }
    end();
    if (spec.closeOpen && e === spec.episodes - 1) break;
    begin("end_episode");
    // ended, not yet durable: announced after the writer's next flush (hookExporter)
    open = null;
    lastEnded = e;
    endedAt[e] = performance.now();
    ex.endEpisode({ success: e % 2 === 0, summary: D.summary(seed, e, n) });
    end();
    if (spec.flushAfterEndEvery && (e + 1) % spec.flushAfterEndEvery === 0) ex.flush();
    begin("between");
    if (spec.checkpointEvery > 0 && (e + 1) % spec.checkpointEvery === 0) {
      const entries: Record<string, unknown> = { weights: { ...net, values: net.values.map((x) => x + e) }, episode: e };
      if (spec.ballastBytes) entries.ballast = Float64Array.from({ length: spec.ballastBytes >> 3 }, (_, i) => D.unit(seed, e, i, 5000));
      ex.saveCheckpoint(`after_${e}`, entries);
      say({ ev: "durable_checkpoint", name: `after_${e}` });
    }
    if (spec.betweenMs > 0 && (e + 1) % (spec.betweenEvery ?? 1) === 0) {
      const until = performance.now() + spec.betweenMs;
      while (performance.now() < until) await new Promise((r) => setTimeout(r, 1));
    }
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

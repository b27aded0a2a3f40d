/**
 * Chunk compression off the writing thread, with a synchronous API: `submit` hands a chunk to a
 * worker and returns at once; `take` returns finished chunks in submission order, waiting
 * (Atomics.wait) only when asked to. The writer therefore keeps its order of file writes and its
 * synchronous flush, while shuffle + deflate run on another core.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { deflateSync } from "node:zlib";
import { StorageError } from "../../errors.js";
import { shuffle } from "./shuffle.js";

const HEADER = 32;

interface Job<T> {
  sab: SharedArrayBuffer | null;
  head: Int32Array | null;
  /** Set for chunks stored as they are (no filter): they wait only for their turn. */
  ready: Uint8Array | null;
  tag: T;
}

let workers: Worker[] | null = null;
let next = 0;
/** [0] = number of workers that have started (set by the workers themselves). */
const started = new Int32Array(new SharedArrayBuffer(4));

/** Starts the compression threads (once per process); they take ~50–100 ms to boot. */
export function startPool(): Worker[] {
  if (!workers) {
    const n = Math.max(1, Math.min(4, availableParallelism() - 1));
    workers = Array.from({ length: n }, () => {
      const w = new Worker(new URL("./compress-worker.js", import.meta.url), {
        workerData: { started: started.buffer },
        resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 },
      });
      w.unref();
      return w;
    });
  }
  return workers;
}

/** Until a thread has booted, chunks are compressed inline instead of waiting for it. */
function poolReady(): boolean {
  startPool();
  return Atomics.load(started, 0) > 0;
}

/** Compresses chunks in order; `T` is what the caller needs back with each result. */
export class CompressionQueue<T> {
  private readonly jobs: Job<T>[] = [];
  private bytesInFlight = 0;

  constructor(
    private readonly onDone: (stored: Uint8Array, tag: T) => void,
    private readonly parallel = true,
    private readonly maxBytesInFlight = 8 << 20,
  ) {}

  /** Queues a chunk (copied); may wait for earlier chunks when too much is in flight. */
  submit(raw: Uint8Array, elemSize: number, level: number, tag: T): void {
    if (level === 0) {
      this.jobs.push({ sab: null, head: null, ready: raw.slice(), tag });
      this.drain(false);
      return;
    }
    if (!this.parallel || (this.jobs.length === 0 && !poolReady())) {
      this.drain(true);
      this.onDone(deflateSync(shuffle(raw, elemSize), { level }), tag);
      return;
    }
    const sab = this.acquire(HEADER + raw.length + (raw.length + Math.ceil(raw.length / 1000) + 64));
    const head = new Int32Array(sab, 0, 8);
    head[0] = 0;
    head[1] = raw.length;
    head[3] = elemSize;
    head[4] = level;
    new Uint8Array(sab).set(raw, HEADER);
    const ws = startPool();
    ws[next++ % ws.length].postMessage(sab);
    this.jobs.push({ sab, head, ready: null, tag });
    this.bytesInFlight += raw.length;
    this.drain(false);
    while (this.bytesInFlight > this.maxBytesInFlight) this.takeOne(true);
  }

  /** Hands finished chunks to `onDone` in order; with `wait`, all of them. */
  drain(wait: boolean): void {
    while (this.jobs.length && this.takeOne(wait));
  }

  private takeOne(wait: boolean): boolean {
    const job = this.jobs[0];
    if (!job) return false;
    if (job.ready) {
      this.jobs.shift();
      this.onDone(job.ready, job.tag);
      return true;
    }
    if (!job.head || !job.sab) return false;
    let state = Atomics.load(job.head, 0);
    if (state === 0 && !wait) return false;
    while (state === 0) {
      Atomics.wait(job.head, 0, 0, 1000);
      state = Atomics.load(job.head, 0);
    }
    this.jobs.shift();
    this.bytesInFlight -= job.head[1];
    const outAt = HEADER + job.head[1];
    const out = new Uint8Array(job.sab, outAt, job.head[2]);
    if (state === 2) throw new StorageError("IO_ERROR", `compressing a chunk failed: ${new TextDecoder().decode(out)}`);
    const stored = new Uint8Array(out);
    this.release(job.sab);
    this.onDone(stored, job.tag);
    return true;
  }

  /** Shared buffers are reused (by power-of-two size) rather than left to the garbage collector. */
  private readonly free = new Map<number, SharedArrayBuffer[]>();

  private acquire(bytes: number): SharedArrayBuffer {
    const size = 2 ** Math.ceil(Math.log2(Math.max(4096, bytes)));
    return this.free.get(size)?.pop() ?? new SharedArrayBuffer(size);
  }

  private release(sab: SharedArrayBuffer): void {
    const list = this.free.get(sab.byteLength) ?? [];
    if (list.length < 64) list.push(sab); // bounded by what is in flight at once
    this.free.set(sab.byteLength, list);
  }

  get pending(): number {
    return this.jobs.length;
  }
}

/**
 * Chunk compression off the writing thread, with a synchronous API: `submit` hands a chunk to a
 * worker and returns at once; `take` returns finished chunks in submission order, waiting
 * (Atomics.wait) only when asked to. The writer therefore keeps its order of file writes and its
 * synchronous flush, while shuffle + deflate run on another core.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { deflateChunk, MODE_DEFAULT, type Deflated } from "./deflate.js";
import { StorageError } from "../../errors.js";
import { shuffle } from "./shuffle.js";
import { WORKER_EXEC_ARGV } from "../threads.js";

const HEADER = 32;
/** Job states (Int32 [0] of a job buffer); a worker or the writing thread claims a job by CAS 0 → 3. */
const QUEUED = 0;
const FAILED = 2;
const CLAIMED = 3;

let scratch = new Uint8Array(0);

/** Shuffle + deflate (`mode` of deflate.ts) on this thread of a chunk of `total` bytes whose first bytes are `data` and the rest zero. */
function compress(data: Uint8Array, elemSize: number, level: number, total: number, mode: number): Deflated {
  if (elemSize <= 1 && data.length === total) return deflateChunk(data, level, mode);
  if (scratch.length < total) scratch = new Uint8Array(total);
  return deflateChunk(shuffle(data, elemSize, total, scratch.subarray(0, total)), level, mode);
}

interface Job<T> {
  sab: SharedArrayBuffer | null;
  head: Int32Array | null;
  /** Set once the result is on this thread (stored as is, compressed here): the job waits only for its turn. */
  ready: Uint8Array | null;
  /** With `ready`: whether it is Z_RLE's deflate. */
  rle: boolean;
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
    workers = [];
    for (let i = 0; i < n; i++) {
      let w: Worker;
      try {
        w = new Worker(new URL("./compress-worker.js", import.meta.url), {
          workerData: { started: started.buffer },
          execArgv: WORKER_EXEC_ARGV,
          resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 },
        });
      } catch (err) {
        // a thread that cannot be made at all: chunks are compressed by the writing thread
        lastWorkerError = err;
        continue;
      }
      // a thread that dies (out of memory, a failed start) must not take the process with it: its
      // queued jobs are compressed by the writing thread, a job it held is redone (see takeOne)
      w.on("error", (err) => {
        failedWorkers++;
        lastWorkerError = err;
      });
      w.unref();
      workers.push(w);
    }
  }
  return workers;
}

let failedWorkers = 0;
let lastWorkerError: unknown = null;

/** @internal whether the compression threads were started in this process (diagnostics). */
export function poolStarted(): boolean {
  return workers !== null;
}

/** @internal how many compression threads have started running (tests wait for them instead of sleeping). */
export function poolBooted(): number {
  return Atomics.load(started, 0);
}

/** @internal how many compression threads failed, and the last error (diagnostics). */
export function poolFailures(): { failed: number; lastError: unknown } {
  return { failed: failedWorkers, lastError: lastWorkerError };
}

/** A job a thread claimed but has not finished after this long is compressed here instead. */
const STALL_MS = 5000;

/** False once every compression thread has failed: chunks are then compressed inline. */
function poolUsable(): boolean {
  return failedWorkers < startPool().length;
}

/**
 * Milliseconds of compression done inline, in this process, before the compression threads are
 * started. A thread costs ~50 ms to boot and ~70–100 ms of CPU (its own start-up plus V8's
 * compiling for it); on a 2-core machine that CPU comes out of the writing thread's share, so a
 * run with little compression is faster without the thread. Measured (medians of 5, inline vs
 * threads from the first chunk): small_high_freq 0.25 vs 0.28 s, medium_normal 0.31 vs 0.36 s,
 * large_sparse 0.33 vs 0.37 s, which compress 57, 81 and 100 ms in all; stress_test (460 ms of
 * compression) 0.66 vs 0.51 s. A long run loses at most this much before its threads take over.
 * `SNN_EXPORT_COMPRESS_THREADS`: "0" never starts them, "now" starts them at the first chunk.
 */
export const THREADS_AFTER_MS = 150;
let inlineMs = 0;

/** Whether chunks go to the compression threads: once started (and not all failed), or once enough was compressed inline. */
function useThreads(): boolean {
  if (workers === null) {
    if (inlineMs < THREADS_AFTER_MS && process.env.SNN_EXPORT_COMPRESS_THREADS !== "now") return false;
    startPool();
  }
  return poolUsable();
}

/** Compresses on this thread, counting the time towards starting the threads. */
function compressTimed(data: Uint8Array, elemSize: number, level: number, total: number, mode: number): Deflated {
  const t0 = performance.now();
  try {
    return compress(data, elemSize, level, total, mode);
  } finally {
    inlineMs += performance.now() - t0;
  }
}

/** Compresses chunks in order; `T` is what the caller needs back with each result. */
export class CompressionQueue<T> {
  private readonly jobs: Job<T>[] = [];
  private bytesInFlight = 0;

  /**
   * `onDone` gets each result in order, and whether it is Z_RLE's deflate; the bytes may be a view
   * of a reused buffer, valid only during the call.
   */
  constructor(
    private readonly onDone: (stored: Uint8Array, tag: T, rle: boolean) => void,
    private readonly parallel = true,
    private readonly maxBytesInFlight = 4 << 20,
  ) {}

  /**
   * Queues a chunk of `chunkBytes` bytes whose first bytes are `data` and the rest zero (a
   * partial chunk is passed as just its data), deflated as `mode` (deflate.ts) says. `data` is
   * copied; may wait for earlier chunks when too much is in flight.
   */
  submit(data: Uint8Array, elemSize: number, level: number, tag: T, chunkBytes = data.length, mode = MODE_DEFAULT): void {
    if (level === 0) {
      const ready = new Uint8Array(chunkBytes);
      ready.set(data);
      this.jobs.push({ sab: null, head: null, ready, rle: false, tag });
      this.drain(false);
      return;
    }
    // inline until enough compression was done to pay for a thread (THREADS_AFTER_MS), and when
    // every thread failed; once started, jobs are queued even before a thread has booted: it takes
    // them then, and whatever this thread must wait for it compresses itself (takeOne)
    if (!this.parallel || !useThreads()) {
      this.drain(true);
      const d = compressTimed(data, elemSize, level, chunkBytes, mode);
      this.onDone(d.bytes, tag, d.rle);
      return;
    }
    const sab = this.acquire(HEADER + chunkBytes + (chunkBytes >> 10) + 64); // room for deflate's worst case
    const head = new Int32Array(sab, 0, 8);
    // a stale message of this buffer's earlier job may still reach a worker: the job becomes
    // claimable (state 0) only once it is complete
    head[1] = chunkBytes;
    head[3] = elemSize;
    head[4] = level;
    head[5] = data.length;
    head[6] = mode;
    const bytes = new Uint8Array(sab);
    bytes.set(data, HEADER);
    if (data.length < chunkBytes) bytes.fill(0, HEADER + data.length, HEADER + chunkBytes);
    Atomics.store(head, 0, QUEUED);
    const ws = startPool();
    ws[next++ % ws.length].postMessage(sab);
    this.jobs.push({ sab, head, ready: null, rle: false, tag });
    this.bytesInFlight += chunkBytes;
    this.drain(false);
    while (this.bytesInFlight > this.maxBytesInFlight) this.takeOne(true);
  }

  /** Hands finished chunks to `onDone` in order; with `wait`, all of them. */
  drain(wait: boolean): void {
    while (this.jobs.length && this.takeOne(wait));
  }

  /**
   * Hands the oldest job's result to `onDone`. With `wait`, a job no thread has started is
   * compressed right here, and while a thread works on the oldest job this thread compresses
   * later ones rather than sit idle (work stealing: a claim is a compare-and-swap on the state).
   */
  private takeOne(wait: boolean): boolean {
    const job = this.jobs[0];
    if (!job) return false;
    if (job.ready) {
      this.jobs.shift();
      this.onDone(job.ready, job.tag, job.rle);
      return true;
    }
    if (!job.head || !job.sab) return false;
    let state = Atomics.load(job.head, 0);
    if (state === QUEUED || state === CLAIMED) {
      if (!wait) return false;
      if (state === QUEUED && this.steal(job)) return this.takeOne(wait);
      for (let i = 1; i < this.jobs.length && Atomics.load(job.head, 0) === CLAIMED; i++) this.steal(this.jobs[i]);
      state = Atomics.load(job.head, 0);
      const since = performance.now();
      while (state === CLAIMED) {
        if (performance.now() - since > STALL_MS) return this.redo(job);
        Atomics.wait(job.head, 0, CLAIMED, 1000);
        state = Atomics.load(job.head, 0);
      }
    }
    this.jobs.shift();
    this.bytesInFlight -= job.head[1];
    const out = new Uint8Array(job.sab, HEADER, job.head[2]); // the result replaced the input
    if (state === FAILED) throw new StorageError("IO_ERROR", `compressing a chunk failed: ${new TextDecoder().decode(out.slice())}`);
    try {
      this.onDone(out, job.tag, job.head[7] === 1); // a view of the shared buffer: onDone must not keep it
    } finally {
      this.release(job.sab);
    }
    return true;
  }

  /**
   * A job whose thread has stopped answering (it died, or is stuck): compressed here from its
   * input, which the thread only reads, and its buffer abandoned, never reused, since the thread
   * might still write its result there.
   */
  private redo(job: Job<T>): boolean {
    const { head, sab } = job;
    if (!head || !sab) return false;
    const d = compress(new Uint8Array(sab, HEADER, head[5]), head[3], head[4], head[1], head[6]);
    job.ready = d.bytes.slice(); // kept until its turn: deflate's buffer is reused by the next call
    job.rle = d.rle;
    this.bytesInFlight -= head[1];
    job.sab = null;
    job.head = null;
    return this.takeOne(false);
  }

  /** Compresses a queued job on this thread if no worker has claimed it; true if it did. */
  private steal(job: Job<T>): boolean {
    const { head, sab } = job;
    if (!head || !sab || Atomics.compareExchange(head, 0, QUEUED, CLAIMED) !== QUEUED) return false;
    const d = compress(new Uint8Array(sab, HEADER, head[5]), head[3], head[4], head[1], head[6]);
    job.ready = d.bytes.slice(); // kept until its turn: deflate's buffer is reused by the next call
    job.rle = d.rle;
    this.stolenCount++;
    this.bytesInFlight -= head[1];
    job.sab = null;
    job.head = null;
    this.release(sab);
    return true;
  }

  /** Shared buffers are reused (by size class) rather than left to the garbage collector. */
  private readonly free = new Map<number, SharedArrayBuffer[]>();

  private acquire(bytes: number): SharedArrayBuffer {
    // sizes in steps of a quarter of the power of two below (at most 25 % unused): partial chunks
    // of every length then share a few sizes instead of each allocating (and zeroing) its own
    const step = Math.max(4096, 2 ** Math.floor(Math.log2(Math.max(1, bytes))) / 4);
    const size = Math.ceil(bytes / step) * step;
    return this.free.get(size)?.pop() ?? new SharedArrayBuffer(size);
  }

  private release(sab: SharedArrayBuffer): void {
    const list = this.free.get(sab.byteLength) ?? [];
    // as many as can be in flight at once: one dropped is garbage that waits for a full collection
    // (measured: a cap of 2 per size put the long workload's peak RSS at ~150 MiB instead of ~105)
    if (list.length < Math.ceil(this.maxBytesInFlight / sab.byteLength) + 2) list.push(sab);
    this.free.set(sab.byteLength, list);
  }

  private stolenCount = 0;

  /** Jobs this thread compressed itself instead of waiting for a worker (a diagnostic). */
  get stolen(): number {
    return this.stolenCount;
  }

  get pending(): number {
    return this.jobs.length;
  }
}

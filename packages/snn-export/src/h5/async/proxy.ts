/**
 * `asyncWrite`: a Writer whose calls run on a worker thread (src/h5/async/worker.ts). The
 * calling thread keeps only what it must answer at once (which paths exist, column lengths) and
 * posts every call in order. Chunk data is copied into the message, so the caller may reuse its
 * buffers at once. When more than `maxBytesInFlight` bytes wait in the worker, the caller waits
 * (back-pressure). An error on the worker is raised at the caller's next call and at close(),
 * with the original message.
 */
import { Worker } from "node:worker_threads";
import type { Dtype, NumericArray } from "../../dtypes.js";
import { StorageError } from "../../errors.js";
import { absolutePath, pathParts } from "../path.js";
import { WORKER_EXEC_ARGV } from "../threads.js";
import type { AppendColumn, AttrValue, ColumnSpec, Compression, StringColumn, VirtualMapping, Writer } from "../types.js";
import type { Call } from "./worker.js";

const STATE_BYTES = 64 + 4096;

function copyOf(block: NumericArray, elements: number): NumericArray {
  return block.slice(0, elements) as NumericArray;
}

export class WorkerWriter implements Writer {
  readonly filePath: string;
  private readonly worker: Worker;
  private readonly state: Int32Array;
  private readonly stateBytes: Uint8Array;
  private readonly paths = new Set<string>(["/"]);
  private seq = 0;
  private open = true;

  private constructor(filePath: string, swmr: boolean, private readonly maxBytesInFlight: number) {
    this.filePath = filePath;
    const sab = new SharedArrayBuffer(STATE_BYTES);
    this.state = new Int32Array(sab, 0, 16);
    this.stateBytes = new Uint8Array(sab, 64);
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: { filePath, swmr, state: sab }, execArgv: WORKER_EXEC_ARGV });
    // an error of the thread itself (it could not start, ran out of memory) is kept for the next
    // call rather than left to crash the process
    this.worker.on("error", (err) => this.recordError(err));
  }

  /** Starts the write thread and creates the file there; rejects if the thread cannot start. */
  static async create(filePath: string, options: { swmr?: boolean; maxBytesInFlight?: number } = {}): Promise<WorkerWriter> {
    const w = new WorkerWriter(filePath, options.swmr ?? false, options.maxBytesInFlight ?? 32 << 20);
    await new Promise<void>((resolve) => {
      w.worker.once("online", resolve);
      w.worker.once("error", () => resolve());
    });
    w.worker.unref(); // referenced until it has started: the await above needs the event loop
    w.waitIdle();
    return w;
  }

  private recordError(err: unknown): void {
    if (Atomics.load(this.state, 2) !== 0) return;
    const msg = new TextEncoder().encode(String((err as Error)?.message ?? err)).subarray(0, this.stateBytes.length);
    this.stateBytes.set(msg);
    Atomics.store(this.state, 3, msg.length);
    Atomics.store(this.state, 2, 1);
    Atomics.notify(this.state, 0);
    Atomics.notify(this.state, 1);
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Throws the worker's error, if it had one. */
  private checkError(): void {
    if (Atomics.load(this.state, 2) === 0) return;
    const n = Atomics.load(this.state, 3);
    const msg = new TextDecoder().decode(this.stateBytes.subarray(0, n));
    throw new StorageError("IO_ERROR", `the write thread failed on ${this.filePath}: ${msg}`);
  }

  private post(op: string, args: unknown[], bytes = 0): void {
    if (!this.open) throw new StorageError("IO_ERROR", `HDF5 file ${this.filePath} is already closed`);
    this.checkError();
    Atomics.add(this.state, 1, bytes);
    const call: Call = { seq: ++this.seq, op, args, bytes };
    this.worker.postMessage(call);
    // back-pressure: wait while the worker holds too much
    for (let inFlight = Atomics.load(this.state, 1); inFlight > this.maxBytesInFlight; inFlight = Atomics.load(this.state, 1)) {
      Atomics.wait(this.state, 1, inFlight, 100);
      this.checkError();
    }
  }

  /** Waits until the worker has applied every call posted so far. */
  waitIdle(): void {
    for (let done = Atomics.load(this.state, 0); done < this.seq; done = Atomics.load(this.state, 0)) {
      Atomics.wait(this.state, 0, done, 100);
      if (Atomics.load(this.state, 2) !== 0) break;
    }
    this.checkError();
  }

  private remember(path: string): void {
    const parts = pathParts(path);
    for (let i = 1; i <= parts.length; i++) this.paths.add("/" + parts.slice(0, i).join("/"));
  }

  exists(path: string): boolean {
    return this.paths.has(absolutePath(path));
  }

  createGroup(path: string): void {
    this.post("createGroup", [path]);
    this.remember(path);
  }

  setAttr(path: string, name: string, value: AttrValue, numberDtype?: "float64" | "int8"): void {
    this.post("setAttr", [path, name, value, numberDtype]);
  }

  setScalarAttr(path: string, name: string, value: number | bigint, dtype: Dtype): void {
    this.post("setScalarAttr", [path, name, value, dtype]);
  }

  setStringsAttr(path: string, name: string, values: string[]): void {
    this.post("setStringsAttr", [path, name, values]);
  }

  setRefAttr(path: string, name: string, target: string): void {
    this.post("setRefAttr", [path, name, target]);
  }

  setEnumAttr(path: string, name: string, members: [string, number][], value: number): void {
    this.post("setEnumAttr", [path, name, members, value]);
  }

  deleteAttr(path: string, name: string): void {
    this.post("deleteAttr", [path, name]);
  }

  createColumn(path: string, spec: ColumnSpec): AppendColumn {
    this.post("createColumn", [path, spec]);
    this.remember(path);
    const rowSize = spec.rowShape.reduce((a, b) => a * b, 1);
    let length = 0;
    const self = this;
    return {
      path,
      spec,
      get length() {
        return length;
      },
      append(block: NumericArray, rows: number) {
        this.writeAt(block, rows, length);
      },
      writeAt(block: NumericArray, rows: number, offset: number) {
        if (rows <= 0) return;
        const data = copyOf(block, rows * rowSize);
        self.post("writeAt", [path, data, rows, offset], data.byteLength);
        length = Math.max(length, offset + rows);
      },
    };
  }

  createStringColumn(path: string, chunkRows?: number, options?: { atomic?: boolean }): StringColumn {
    this.post("createStringColumn", [path, chunkRows, options]);
    this.remember(path);
    let length = 0;
    const self = this;
    return {
      path,
      get length() {
        return length;
      },
      append(values: string[]) {
        if (values.length === 0) return;
        self.post("appendStrings", [path, values], values.reduce((a, v) => a + v.length, 0));
        length += values.length;
      },
    };
  }

  writeArray(path: string, data: NumericArray, shape: number[], compression: Compression, chunkRows?: number): void {
    this.post("writeArray", [path, data.slice(), shape, compression, chunkRows], data.byteLength);
    this.remember(path);
  }

  writeText(path: string, text: string): void {
    this.post("writeText", [path, text], text.length);
    this.remember(path);
  }

  writeStrings(path: string, list: string[]): void {
    this.post("writeStrings", [path, list]);
    this.remember(path);
  }

  link(target: string, name: string): void {
    this.post("link", [target, name]);
    this.remember(name);
  }

  externalLink(path: string, file: string, objPath?: string): void {
    this.post("externalLink", [path, file, objPath]); // not an object of this file: exists() stays false, as in TsWriter
  }

  createVirtualDataset(path: string, dtype: Dtype, dims: number[], fill: number, maps: VirtualMapping[]): void {
    this.post("createVirtualDataset", [path, dtype, dims, fill, maps]);
    this.remember(path);
  }

  /** Posts a flush; it is applied after every earlier call. {@link waitIdle} waits for it. */
  flush(): void {
    this.post("flush", []);
  }

  /** The write thread compresses on its own thread, in order: a posted flush never waits for compression. */
  flushIfIdle(): boolean {
    this.flush();
    return true;
  }

  close(): void {
    if (!this.open) return;
    try {
      this.post("close", []);
      this.waitIdle();
    } finally {
      this.open = false;
      void this.worker.terminate();
    }
  }
}

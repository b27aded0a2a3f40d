/**
 * {@link WasmProxy}: the h5wasm reader (src/h5/wasm/reader.ts) run in a worker thread
 * (src/h5/wasm/host.ts), called synchronously with a deadline. HDF5 has no bound on the work a
 * damaged file can make it do (a global heap object of size 0 makes it loop forever), so every
 * call is watched: a call that does not answer within the deadline stops the worker and fails
 * with a FormatError `CORRUPT`. A trap inside the engine (out-of-bounds access) ends that worker
 * too; the next open starts a new one. Nothing HDF5 prints reaches stderr: the host keeps it and
 * puts its gist into the error message.
 *
 * The deadline is `SNN_EXPORT_HDF5_DEADLINE_MS` (default 30,000 ms per call; the loader reads in
 * slices of at most 4 MiB, so a call of a healthy file takes far less).
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { FormatError, StorageError } from "../../errors.js";
import type { DatasetInfo } from "../types.js";
import type { NumericArray } from "../../dtypes.js";

/** Atomics.waitAsync (Node 16+; not in this TypeScript lib). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

const HOST = fileURLToPath(new URL("./host.js", import.meta.url));

function deadlineMs(): number {
  const v = Number(process.env.SNN_EXPORT_HDF5_DEADLINE_MS);
  return Number.isFinite(v) && v > 0 ? v : 30_000;
}

/** One worker thread with the HDF5 engine loaded (shared by every file open through it). */
class Host {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly signal = new Int32Array(new SharedArrayBuffer(4));
  dead: string | null = null;
  private ids = 0;
  open = 0;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.signal[0] = 0;
    this.worker = new Worker(HOST, { workerData: { port: port2, signal: this.signal }, transferList: [port2] });


    this.worker.on("error", (err) => this.kill(`the HDF5 worker failed: ${err.message}`));
    this.worker.on("exit", () => this.kill("the HDF5 worker ended"));
    this.worker.unref();
    this.port.unref();
  }

  /** Waits (blocking) for the start-up message. */
  async ready(file: string): Promise<void> {
    const res = await this.waitAsync();
    const msg = receiveMessageOnPort(this.port);
    if (res === "timed-out" || !msg) {
      this.kill("the HDF5 worker did not start");
      throw new StorageError("HDF5_ERROR", `the HDF5 engine did not start within ${deadlineMs()} ms (reading ${file})`);
    }
  }

  /** Waits for the signal without blocking; the worker keeps the process alive meanwhile. */
  private async waitAsync(): Promise<string> {
    this.worker.ref();
    try {
      const r = waitAsync(this.signal, 0, 0, deadlineMs());
      return (r.async ? await r.value : r.value) as string;
    } finally {
      this.worker.unref();
    }
  }

  kill(why: string): void {
    if (this.dead) return;
    this.dead = why;
    void this.worker.terminate();
    if (current === this) current = null;
  }

  private post(op: string, handle: number | undefined, args: unknown[]): number {
    if (this.dead) throw new StorageError("HDF5_ERROR", `the HDF5 engine was stopped (${this.dead}); open the file again`);
    const id = ++this.ids;
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage({ id, op, handle, args });
    return id;
  }

  private answer(id: number, res: string, file: string, op: string, args: unknown[]): unknown {
    const msg = receiveMessageOnPort(this.port)?.message as { id: number; value?: unknown; error?: { name: string; code?: string; message: string }; restart?: boolean } | undefined;
    if (res === "timed-out" || !msg || msg.id !== id) {
      const what = `${op}${args.length && typeof args[0] === "string" && op !== "open" ? ` ${args[0]}` : ""}`;
      this.kill(`a call did not answer within ${deadlineMs()} ms`);
      throw new FormatError(
        "CORRUPT",
        `${file}: HDF5 did not finish (${what}) within ${deadlineMs()} ms and was stopped; a damaged file can make HDF5 loop forever (the file is damaged, or SNN_EXPORT_HDF5_DEADLINE_MS is too short)`,
      );
    }
    if (msg.error) {
      if (msg.restart) this.kill("the engine trapped");
      const { name, code, message } = msg.error;
      if (name === "FormatError") throw new FormatError((code ?? "CORRUPT") as never, message);
      if (name === "StorageError") throw new StorageError((code ?? "HDF5_ERROR") as never, message);
      throw new StorageError("HDF5_ERROR", `HDF5 could not read ${file} (${op}): ${name}: ${message}; the file is probably damaged`);
    }
    return msg.value;
  }

  /** A call answered within the deadline (blocking this thread while the worker works). */
  call(file: string, op: string, handle: number | undefined, args: unknown[]): unknown {
    const id = this.post(op, handle, args);
    const res = Atomics.wait(this.signal, 0, 0, deadlineMs());
    return this.answer(id, res, file, op, args);
  }

  /** The same without blocking the event loop (opening: the engine may be starting). */
  async callAsync(file: string, op: string, args: unknown[]): Promise<unknown> {
    const id = this.post(op, undefined, args);
    const res = await this.waitAsync();
    return this.answer(id, res, file, op, args);
  }
}

let current: Host | null = null;

async function host(file: string): Promise<Host> {
  if (current && !current.dead) return current;
  const h = new Host();
  current = h;
  await h.ready(file);
  return h;
}

/** An HDF5 file open read-only through h5wasm in the HDF5 worker thread. */
export class WasmProxy {
  private constructor(readonly filePath: string, private readonly h: Host, private handle: number | null) {}

  /** Opens `filePath` (whose signature was checked) in the worker. */
  static async open(filePath: string, swmr: boolean): Promise<WasmProxy> {
    const h = await host(filePath);
    const handle = (await h.callAsync(filePath, "open", [filePath, swmr])) as number;
    h.open++;
    const p = new WasmProxy(filePath, h, handle);
    p.swmr = swmr;
    return p;
  }

  private swmr = false;
  /** True after a {@link reopen} whose open failed: the file is not closed, the next call opens it again. */
  private lost = false;

  /** Closes and opens the file again in the worker (HDF5 keeps what it read; the file may have changed). */
  reopen(): void {
    if (this.handle === null && !this.lost) throw new StorageError("IO_ERROR", `HDF5 file ${this.filePath} is already closed`);
    const old = this.handle;
    this.handle = null;
    this.lost = true;
    if (old !== null && !this.h.dead) this.h.call(this.filePath, "close", old, []);
    this.handle = this.h.call(this.filePath, "open", undefined, [this.filePath, this.swmr]) as number;
    this.lost = false;
  }

  private call<T>(op: string, args: unknown[]): T {
    if (this.handle === null) {
      if (!this.lost) throw new StorageError("IO_ERROR", `HDF5 file ${this.filePath} is already closed`);
      this.reopen(); // throws why the file cannot be opened (a stopped engine, a damaged file), not "closed"
    }
    return this.h.call(this.filePath, op, this.handle!, args) as T;
  }

  kind(path: string): "group" | "dataset" | null {
    return this.call("kind", [path]);
  }

  keys(path: string): string[] {
    return this.call("keys", [path]);
  }

  attrs(path: string): Record<string, unknown> {
    return this.call("attrs", [path]);
  }

  info(path: string): DatasetInfo {
    return this.call("info", [path]);
  }

  readRows(path: string, start: number, end: number): NumericArray {
    return this.call("readRows", [path, start, end]);
  }

  readText(path: string): string {
    return this.call("readText", [path]);
  }

  readStrings(path: string): string[] {
    return this.call("readStrings", [path]);
  }

  readStringRows(path: string, start: number, end: number): string[] {
    return this.call("readStringRows", [path, start, end]);
  }

  objectAddress(path: string): bigint | null {
    return this.call("objectAddress", [path]);
  }

  refresh(path: string): void {
    this.call("refresh", [path]);
  }

  /** Closes the file in the worker; idempotent (a stopped worker has closed everything). */
  close(): void {
    this.lost = false;
    if (this.handle === null) return;
    const handle = this.handle;
    this.handle = null;
    if (this.h.dead) return;
    this.h.open--;
    this.h.call(this.filePath, "close", handle, []);
  }
}

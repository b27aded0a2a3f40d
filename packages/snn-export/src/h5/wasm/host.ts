/**
 * The worker thread that runs h5wasm (the HDF5 C library in WebAssembly) for {@link WasmProxy}:
 * files outside the TypeScript reader's profile. HDF5 can loop forever on a damaged file (a global
 * heap object of size 0) and prints its error stacks itself; here it runs where the calling thread
 * can stop it at a deadline, and whatever it prints is kept (not written to stderr) and put into
 * the message of the error of the call that made it print.
 *
 * Protocol (over the MessagePort in `workerData.port`): a request `{ id, op, handle, args }`; the
 * answer `{ id, value }` or `{ id, error: { name, code, message }, restart? }` is posted, then
 * `signal[0]` is set to 1 and notified.
 */
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { workerData, type MessagePort } from "node:worker_threads";

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };

/** What HDF5 printed during the current call (its error stack), last lines kept. */
let printed: string[] = [];
const keep = (...a: unknown[]): void => {
  printed.push(a.map(String).join(" "));
  if (printed.length > 400) printed = printed.slice(-200);
};
// before h5wasm is imported: its module binds console.log / console.error when it is created
console.log = keep;
console.error = keep;
console.warn = keep;
console.info = keep;
// the engine's file system (NODERAWFS) writes HDF5's stdout/stderr to fds 1 and 2 with fs.writeSync
const writeSync = fs.writeSync;
fs.writeSync = function (fd: number, data: unknown, ...rest: unknown[]): number {
  if (fd === 1 || fd === 2) {
    const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data as Uint8Array);
    const [offset, length] = typeof data === "string" ? [0, bytes.length] : [(rest[0] as number) ?? 0, (rest[1] as number) ?? bytes.length - ((rest[0] as number) ?? 0)];
    keep(bytes.subarray(offset, offset + length).toString());
    return length;
  }
  return (writeSync as (...a: unknown[]) => number).call(fs, fd, data, ...rest);
} as typeof fs.writeSync;
syncBuiltinESMExports();

/** The gist of an HDF5 error stack: its "major"/"minor" lines, or its last lines. */
export function summarize(lines: string[]): string {
  const text = lines.join("\n").split("\n").map((l) => l.trim()).filter(Boolean);
  const minor = text.filter((l) => l.startsWith("minor:")).map((l) => l.slice(6).trim());
  const picked = minor.length ? [...new Set(minor)].slice(0, 4) : text.slice(-3);
  return picked.join("; ").slice(0, 600);
}

const { WasmReader } = await import("./reader.js");
type Reader = Awaited<ReturnType<typeof WasmReader.open>>;
const files = new Map<number, Reader>();
let next = 1;

interface Request { id: number; op: string; handle?: number; args: unknown[] }

port.on("message", async (req: Request) => {
  printed = [];
  let answer: Record<string, unknown>;
  try {
    let value: unknown;
    if (req.op === "open") {
      const r = await WasmReader.open(req.args[0] as string, req.args[1] as boolean);
      files.set(next, r);
      value = next++;
    } else if (req.op === "close") {
      const r = files.get(req.handle!);
      files.delete(req.handle!);
      r?.close();
    } else {
      const r = files.get(req.handle!);
      if (!r) throw Object.assign(new Error("the file is not open in the HDF5 worker"), { code: "IO_ERROR", typed: "StorageError" });
      value = (r as unknown as Record<string, (...a: unknown[]) => unknown>)[req.op](...req.args);
    }
    answer = { id: req.id, value };
  } catch (err) {
    const e = err as Error & { code?: string };
    const said = printed.length ? ` (HDF5: ${summarize(printed)})` : "";
    answer = {
      id: req.id,
      error: { name: e?.name ?? "Error", code: e?.code, message: `${e?.message ?? String(err)}${said}` },
      // a trap inside the wasm module (out-of-bounds access, abort) leaves the engine unusable
      restart: e?.name === "RuntimeError" || /abort|unreachable|memory access/i.test(e?.message ?? ""),
    };
  }
  printed = [];
  port.postMessage(answer);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
port.postMessage({ ready: true });
Atomics.store(signal, 0, 1);
Atomics.notify(signal, 0);

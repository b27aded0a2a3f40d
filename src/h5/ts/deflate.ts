/**
 * deflate for chunk compression, on the writing thread and on the compression workers.
 *
 * Every `deflateSync` leaves its output buffers and zlib state as garbage outside the JS heap,
 * which V8 collects late (measured: a loop of 80 kB chunks settles ~36 MiB above its start;
 * with one output buffer per call and a minor collection after every 8 MiB of input, ~7 MiB).
 * `gc` comes from a fresh context with --expose-gc set only for that moment (or is the global
 * one when the process already exposes it), so the flag does not leak into other contexts.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { deflateSync } from "node:zlib";

type Gc = (options: { type: "minor" | "major" }) => void;

let gc: Gc | null | undefined;

function collector(): Gc | null {
  if (gc !== undefined) return gc;
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === "function") return (gc = own as Gc);
  try {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as Gc;
  } catch {
    gc = null;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
  return gc;
}

const GC_EVERY_BYTES = 8 << 20;
let sinceGc = 0;

/** deflate (zlib format) of `data` at `level`, into one output buffer. */
export function deflate(data: Uint8Array, level: number): Uint8Array {
  const out = deflateSync(data, { level, chunkSize: Math.max(16 << 10, data.length + (data.length >> 10) + 64) });
  sinceGc += data.length;
  if (sinceGc >= GC_EVERY_BYTES) {
    sinceGc = 0;
    collector()?.({ type: "minor" });
  }
  return out;
}

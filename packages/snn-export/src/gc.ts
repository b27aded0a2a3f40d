/**
 * V8's `gc` without `--expose-gc` on the command line: it comes from a fresh context with the
 * flag set only for that moment (or is the global one when the process already exposes it), so
 * the flag does not leak into other contexts. Null where V8 refuses.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export type Gc = (options?: { type: "minor" | "major" }) => void;

let gc: Gc | null | undefined;

export function collector(): Gc | null {
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

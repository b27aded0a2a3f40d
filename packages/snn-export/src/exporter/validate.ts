/** Small checks shared by the exporter. */
import { ValidationError } from "../errors.js";

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why `s` cannot be stored as an HDF5 string exactly, or null: HDF5 strings end at a NUL byte,
 * and a lone UTF-16 surrogate has no UTF-8 form (it would be written as U+FFFD).
 */
export function textProblem(s: string): string | null {
  if (s.includes("\u0000")) return "contains NUL (U+0000), where HDF5 strings end";
  const m = LONE_SURROGATE.exec(s);
  if (m) return `contains a lone surrogate (U+${m[0].charCodeAt(0).toString(16).toUpperCase()}) at index ${m.index}, which has no UTF-8 form`;
  return null;
}

/** A string stored as an HDF5 string (event types, string lists): no NUL, well-formed UTF-16. */
export function checkText(s: string, what: string): void {
  const why = textProblem(s);
  if (why) throw new ValidationError("INVALID_DATA", `${what} ${JSON.stringify(s)} ${why}; pass text without it`);
}

/** Longest name of a dataset, group or attribute, in UTF-8 bytes (an HDF5 object header message holds at most 64 KiB). */
const MAX_NAME_BYTES = 4096;

/** Why `key` cannot be a link or attribute name, or null. */
export function nameProblem(key: string): string | null {
  const why = textProblem(key);
  if (why) return why;
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > MAX_NAME_BYTES) return `is ${bytes} bytes long in UTF-8; names may have at most ${MAX_NAME_BYTES} bytes`;
  return null;
}

/** A dataset/group name chosen by the caller: non-empty, no "/", not "." or "..", no NUL, well-formed UTF-16, at most 4096 UTF-8 bytes. */
export function checkKey(key: string, what: string): void {
  if (typeof key !== "string" || key === "" || key.includes("/") || key === "." || key === "..") {
    throw new ValidationError("INVALID_DATA", `${what} name ${JSON.stringify(key)} is not usable as an HDF5 name: use a non-empty name without "/" (and not "." or "..")`);
  }
  const why = nameProblem(key);
  if (why) throw new ValidationError("INVALID_DATA", `${what} name ${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key)} is not usable as an HDF5 name: it ${why}`);
}

/** A refused value as an error message shows it: numbers as they print, BigInts with their `n` (JSON.stringify throws on them), the rest as JSON. */
export function shown(v: unknown): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "bigint") return `${v}n`;
  return JSON.stringify(v) ?? String(v);
}

/** An integer timestep (safe integer, may be negative). */
export function checkTimestep(t: unknown, what: string): number {
  if (typeof t !== "number" || !Number.isSafeInteger(t)) {
    throw new ValidationError("INVALID_DATA", `${what}: timestep must be an integer (a safe integer, |t| < 2^53), got ${shown(t)}`);
  }
  return t;
}

/** A finite number. */
export function checkFinite(x: unknown, what: string): number {
  if (typeof x !== "number" || !Number.isFinite(x)) {
    throw new ValidationError("INVALID_DATA", `${what} must be a finite number, got ${shown(x)}`);
  }
  return x;
}

/**
 * Refuses keys a call does not know: a misspelt key (`{ succes: true }`, `{ neural_state: … }`)
 * would otherwise lose its value silently.
 */
export function checkKnownKeys(o: object, known: readonly string[], call: string): void {
  for (const k in o) {
    if (Object.hasOwn(o, k) && !known.includes(k)) {
      throw new ValidationError("INVALID_DATA", `${call}: unknown key ${JSON.stringify(k)}; the keys are ${known.join(", ")} (check the spelling)`);
    }
  }
}

/** Refuses a key `log()` does not know (`neural_state`, `behaviour`): its data would be lost silently. */
export function checkStepKeys(step: object): void {
  for (const k in step) {
    switch (k) {
      case "timestep": case "neuralState": case "spikes": case "behavior": case "reward": break;
      default: checkKnownKeys(step, ["timestep", "neuralState", "spikes", "behavior", "reward"], "log()");
    }
  }
}

/** Small checks shared by the exporter. */
import { ValidationError } from "../errors.js";

/** A dataset/group name chosen by the caller: non-empty, no "/", not "." or "..". */
export function checkKey(key: string, what: string): void {
  if (key === "" || key.includes("/") || key === "." || key === ".." || key.includes("\0")) {
    throw new ValidationError("INVALID_DATA", `${what} name ${JSON.stringify(key)} is not usable as an HDF5 name: use a non-empty name without "/"`);
  }
}

/** An integer timestep (safe integer, may be negative). */
export function checkTimestep(t: unknown, what: string): number {
  if (typeof t !== "number" || !Number.isSafeInteger(t)) {
    throw new ValidationError("INVALID_DATA", `${what}: timestep must be an integer (a safe integer, |t| < 2^53), got ${typeof t === "number" ? String(t) : JSON.stringify(t) ?? String(t)}`);
  }
  return t;
}

/** A finite number. */
export function checkFinite(x: unknown, what: string): number {
  if (typeof x !== "number" || !Number.isFinite(x)) {
    throw new ValidationError("INVALID_DATA", `${what} must be a finite number, got ${String(x)}`);
  }
  return x;
}

/** Resolving exporter options and experiment paths. */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { StorageError, ValidationError } from "../errors.js";
import type { EngineName } from "../h5/index.js";
import type { ExporterOptions } from "./types.js";

/** Options after defaults, as stored in the file's `exporter_options` attribute. */
export interface ResolvedOptions {
  outputBaseDir: string;
  neuralSamplingRate: number;
  validateData: boolean;
  compression: "gzip" | "none";
  compressionLevel: number;
  chunkSize: number;
  enableSwmr: boolean;
  asyncWrite: boolean;
  allowNonFinite: boolean;
  flushEverySteps: number;
  flushIntervalMs: number;
  engine: EngineName;
}

function positiveInt(v: unknown, name: string, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
    throw new ValidationError("INVALID_OPTION", `option ${name} must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function nonNegativeInt(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new ValidationError("INVALID_OPTION", `option ${name} must be a non-negative integer (0 turns it off), got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Applies defaults and checks every option; never mutates `o`. */
export function resolveOptions(o: ExporterOptions = {}): ResolvedOptions {
  if (o === null || typeof o !== "object" || Array.isArray(o)) {
    throw new ValidationError("INVALID_OPTION", `options must be an object (or left out), got ${o === null ? "null" : Array.isArray(o) ? "an array" : typeof o}`);
  }
  if (o.startTime !== undefined && !(o.startTime instanceof Date && Number.isFinite(o.startTime.getTime()))) {
    throw new ValidationError("INVALID_OPTION", `option startTime must be a valid Date, got ${o.startTime instanceof Date ? "an invalid Date" : JSON.stringify(o.startTime)}`);
  }
  const known = new Set(["outputBaseDir", "neuralSamplingRate", "validateData", "compression", "compressionLevel", "chunkSize", "enableSwmr", "asyncWrite", "allowNonFinite", "startTime", "flushEverySteps", "flushIntervalMs", "provenance", "engine"]);
  for (const k of Object.keys(o)) {
    if (!known.has(k)) throw new ValidationError("INVALID_OPTION", `unknown option ${k}; known options: ${[...known].join(", ")}`);
  }
  // null is the design's None: no compression; undefined (absent) is the default
  const compression = o.compression === null ? "none" : o.compression ?? "gzip";
  if (compression !== "gzip" && compression !== "none") {
    throw new ValidationError("INVALID_OPTION", `option compression must be "gzip", "none" or null (no compression), got ${JSON.stringify(compression)}`);
  }
  const r: ResolvedOptions = {
    outputBaseDir: o.outputBaseDir ?? "experiments",
    neuralSamplingRate: positiveInt(o.neuralSamplingRate ?? 1, "neuralSamplingRate", 1e9),
    validateData: o.validateData ?? true,
    compression,
    compressionLevel: positiveInt(o.compressionLevel ?? 4, "compressionLevel", 9),
    chunkSize: positiveInt(o.chunkSize ?? 10000, "chunkSize", 1 << 24),
    enableSwmr: o.enableSwmr ?? false,
    asyncWrite: o.asyncWrite ?? false,
    allowNonFinite: o.allowNonFinite ?? false,
    flushEverySteps: nonNegativeInt(o.flushEverySteps ?? 0, "flushEverySteps"),
    flushIntervalMs: nonNegativeInt(o.flushIntervalMs ?? 1000, "flushIntervalMs"),
    engine: o.engine ?? "ts",
  };
  if (r.engine !== "ts" && r.engine !== "h5wasm") {
    throw new ValidationError("INVALID_OPTION", `option engine must be "ts" or "h5wasm", got ${JSON.stringify(r.engine)}`);
  }
  if (r.asyncWrite && r.engine !== "ts") {
    throw new ValidationError("INVALID_OPTION", `option asyncWrite needs engine "ts"; leave engine at its default`);
  }
  if (r.enableSwmr && r.engine !== "ts") {
    throw new ValidationError("INVALID_OPTION", `option enableSwmr needs engine "ts" (h5wasm cannot create groups while in SWMR mode); leave engine at its default`);
  }
  if (typeof r.outputBaseDir !== "string" || r.outputBaseDir === "") {
    throw new ValidationError("INVALID_OPTION", `option outputBaseDir must be a non-empty path`);
  }
  for (const k of ["validateData", "enableSwmr", "asyncWrite", "allowNonFinite"] as const) {
    if (typeof r[k] !== "boolean") throw new ValidationError("INVALID_OPTION", `option ${k} must be true or false, got ${JSON.stringify(r[k])}`);
  }


  return r;
}

/** Rejects names that would escape the output directory or be unusable as a directory name. */
export function checkExperimentName(name: unknown): string {
  if (typeof name !== "string" || name.trim() === "") {
    throw new ValidationError("INVALID_NAME", `experiment name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (/[\\/\0]/.test(name) || name.includes("..")) {
    throw new ValidationError("INVALID_NAME", `experiment name ${JSON.stringify(name)} may not contain "/", "\\", ".." or NUL: it names a directory under outputBaseDir`);
  }
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f-\u009f]/.exec(name);
  if (control) {
    throw new ValidationError("INVALID_NAME", `experiment name ${JSON.stringify(name)} contains the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}; use printable characters only`);
  }
  if (name.startsWith(".")) {
    throw new ValidationError("INVALID_NAME", `experiment name ${JSON.stringify(name)} starts with "."; that would make a hidden directory: start it with another character`);
  }
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > 200) throw new ValidationError("INVALID_NAME", `experiment name is ${bytes} bytes in UTF-8; use at most 200 bytes (the directory name adds a 16-byte date stamp, and file systems allow 255)`);
  return name;
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Creates `<base>/<name>_<YYYYmmdd_HHMMSS>[_k]/` and returns its absolute path. */
export function makeExperimentDir(base: string, name: string, when: Date): string {
  const root = resolve(base);
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new ValidationError("INVALID_OPTION", `outputBaseDir ${root} exists and is not a directory; pass a directory (it is created when missing)`);
  }
  try {
    mkdirSync(root, { recursive: true });
  } catch (err) {
    throw new StorageError("IO_ERROR", `cannot create outputBaseDir ${root}: ${(err as Error).message}`, { cause: err });
  }
  const stem = `${name}_${stamp(when)}`;
  for (let k = 0; ; k++) {
    const dir = join(root, k === 0 ? stem : `${stem}_${k}`);
    if (!existsSync(dir)) {
      try {
        mkdirSync(dir);
        return dir;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
          throw new StorageError("IO_ERROR", `cannot create experiment directory ${dir}: ${(err as Error).message}`, { cause: err });
        }
      }
    }
  }
}

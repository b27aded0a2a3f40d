/**
 * Command-line plumbing shared by the commands: the usage error (exit code 2), node:util parseArgs
 * with its errors turned into one-line messages, number / range / choice flags, and the output
 * streams a command writes to.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { closest, formatInt } from "./format.js";

export const BIN = "snn-export";

/** A bad command line: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

export type Options = NonNullable<ParseArgsConfig["options"]>;

/** What parseArgs gives for `O` (no `multiple` options are used). */
export type Values<O extends Options> = { [K in keyof O]?: O[K] extends { type: "boolean" } ? boolean : string };
export interface Parsed<O extends Options> {
  values: Values<O>;
  positionals: string[];
}

/** parseArgs with its errors turned into one-line usage errors; `where` is the command name. */
export function parse<O extends Options>(args: string[], options: O, where: string): Parsed<O> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }) as unknown as Parsed<O>;
  } catch (err) {
    throw toUsageError(err, options, where);
  }
}

/** Like {@link parse}, with positional arguments allowed (at most `maxPositionals`). */
export function parseWithPositionals<O extends Options>(args: string[], options: O, where: string, maxPositionals: number): Parsed<O> {
  let r: Parsed<O>;
  try {
    r = parseArgs({ args, options, strict: true, allowPositionals: true }) as unknown as Parsed<O>;
  } catch (err) {
    throw toUsageError(err, options, where);
  }
  if (r.positionals.length > maxPositionals) {
    throw new UsageError(`${where}: unexpected argument '${r.positionals[maxPositionals]}'; see '${BIN} ${where} --help'`);
  }
  return r;
}

function toUsageError(err: unknown, options: Options, where: string): Error {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code !== "string" || !e.code.startsWith("ERR_PARSE_ARGS")) return err as Error;
  const quoted = /'([^']*)'/.exec(e.message ?? "")?.[1] ?? "";
  const see = `see '${BIN}${where ? ` ${where}` : ""} --help'`;
  const prefix = where ? `${where}: ` : "";
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const names = Object.keys(options).map((k) => `--${k}`);
      const hint = quoted.startsWith("--") ? closest(quoted, names) : undefined;
      return new UsageError(`${prefix}unknown option '${quoted}'${hint ? ` (did you mean ${hint}?)` : ""}; ${see}`);
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return new UsageError(`${prefix}unexpected argument '${quoted}'; ${see}`);
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      // "Option '-e, --episodes <value>' argument missing" / "Option '--json' does not take an argument"
      const flag = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
      const msg = e.message ?? "";
      const what = /does not take an argument/.test(msg)
        ? "takes no value"
        : /ambiguous/.test(msg)
          ? `needs a value (for a value starting with '-', write ${flag}=<value>)`
          : "needs a value";
      return new UsageError(`${prefix}option ${flag} ${what}; ${see}`);
    }
    default:
      return new UsageError(`${prefix}${(e.message ?? "").split("\n")[0]}; ${see}`);
  }
}

/** A whole-number flag in [min, max]; `fallback` when absent. */
export function intFlag(where: string, flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const s = raw.trim();
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${where}: --${flag} must be a whole number from ${formatInt(min)} to ${formatInt(max)}, got '${raw}'; see '${BIN} ${where} --help'`);
  }
  return n;
}

/** A whole-number flag that may be negative (timesteps); undefined when absent. */
export function signedIntFlag(where: string, flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const s = raw.trim();
  const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${where}: --${flag} must be a whole number (a timestep), got '${raw}'; see '${BIN} ${where} --help'`);
  return n;
}

/** A positive number flag (may have a fraction); `fallback` when absent. */
export function numberFlag(where: string, flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${where}: --${flag} must be a number from ${min} to ${max}, got '${raw}'; see '${BIN} ${where} --help'`);
  }
  return n;
}

/** One of `choices`; `fallback` when absent (undefined fallback: required). */
export function choiceFlag<C extends string>(where: string, flag: string, raw: string | undefined, choices: readonly C[], fallback?: C): C {
  if (raw === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`${where}: --${flag} is required: one of ${choices.join(", ")}; see '${BIN} ${where} --help'`);
  }
  if ((choices as readonly string[]).includes(raw)) return raw as C;
  const hint = closest(raw, choices);
  throw new UsageError(`${where}: --${flag} must be one of ${choices.join(", ")}, got '${raw}'${hint ? ` (did you mean ${hint}?)` : ""}`);
}

/**
 * A neuron selection like `0-49`, `3,7,9` or `0-9,100-109`: sorted unique ids. Ranges are
 * inclusive. At most `maxCount` ids.
 */
export function rangeList(where: string, flag: string, raw: string, maxCount = 1_000_000): number[] {
  const out = new Set<number>();
  for (const part of raw.split(",").map((p) => p.trim())) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new UsageError(`${where}: --${flag} takes ids and ranges like 0-49 or 3,7,10-19, got '${raw}'`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new UsageError(`${where}: --${flag}: range ${part} goes backwards`);
    if (b - a + 1 + out.size > maxCount) throw new UsageError(`${where}: --${flag} selects more than ${formatInt(maxCount)} ids`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  if (out.size === 0) throw new UsageError(`${where}: --${flag} selects nothing`);
  return [...out].sort((x, y) => x - y);
}

/** The one positional argument a command needs (the experiment). */
export function requirePositional(positionals: string[], where: string, what: string): string {
  const p = positionals[0];
  if (p === undefined || p === "") throw new UsageError(`${where}: missing ${what}; see '${BIN} ${where} --help'`);
  return p;
}

/**
 * Runtime environment capture: Node, OS, hardware, user-agnostic paths, versions, local start time
 * with its time zone, and an allow-list of environment variables that never lets secrets through.
 */
import { readlinkSync } from "node:fs";
import { arch, availableParallelism, cpus, hostname, platform, release, totalmem } from "node:os";
import { ValidationError } from "../errors.js";
import { replaceHome, stripUrlCredentials } from "./paths.js";
import type { ProvenanceVersions, RuntimeInfo } from "./types.js";

/**
 * Environment variables recorded by default: exact names, or prefixes ending in `*`.
 *
 * @example
 * ```ts
 * DEFAULT_ENV_ALLOW_LIST.includes("SLURM_*"); // true
 * ```
 */
export const DEFAULT_ENV_ALLOW_LIST: readonly string[] = Object.freeze([
  "NODE_ENV", "NODE_OPTIONS", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "CI",
  "GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITHUB_SHA", "GITHUB_REF", "GITHUB_WORKFLOW",
  "SLURM_*", "PBS_JOBID", "LSB_JOBID", "CUDA_VISIBLE_DEVICES",
  "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "UV_THREADPOOL_SIZE",
]);

/**
 * Name fragments (case-insensitive) that keep a variable out unless `extraEnv` names it exactly.
 *
 * @example
 * ```ts
 * isSecretLikeName("MY_API_KEY"); // true
 * ```
 */
export const SECRET_NAME_PARTS: readonly string[] = Object.freeze([
  "KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "PRIVATE", "COOKIE", "SESSION",
]);

/**
 * True when a variable name contains one of {@link SECRET_NAME_PARTS}.
 *
 * @example
 * ```ts
 * isSecretLikeName("GITHUB_TOKEN"); // true
 * isSecretLikeName("SLURM_JOB_ID"); // false
 * ```
 */
export function isSecretLikeName(name: string): boolean {
  const upper = name.toUpperCase();
  return SECRET_NAME_PARTS.some((part) => upper.includes(part));
}

function matchesAny(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p));
}

/**
 * The allow-listed subset of `env`: names on {@link DEFAULT_ENV_ALLOW_LIST} or matching
 * `extraEnv` (exact names or `PREFIX_*`), minus secret-like names ({@link isSecretLikeName})
 * unless `extraEnv` lists that exact name. URL credentials in allow-listed values are removed.
 *
 * @example
 * ```ts
 * filterEnv({ CI: "true", MY_API_KEY: "x" });                 // { CI: "true" }
 * filterEnv({ MY_API_KEY: "x" }, ["MY_API_KEY"]);             // { MY_API_KEY: "x" }
 * ```
 */
export function filterEnv(env: Record<string, string | undefined>, extraEnv: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined) continue;
    if (extraEnv.includes(name)) {
      out[name] = value;
      continue;
    }
    if (isSecretLikeName(name)) continue;
    if (matchesAny(name, DEFAULT_ENV_ALLOW_LIST) || matchesAny(name, extraEnv)) {
      out[name] = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(value) ? stripUrlCredentials(value) : value;
    }
  }
  return out;
}

/**
 * A date as local ISO 8601 with the UTC offset, e.g. `2024-03-01T14:05:09.123+01:00`.
 *
 * @example
 * ```ts
 * isoWithOffset(new Date()); // "2024-03-01T14:05:09.123+01:00" in Berlin in winter
 * ```
 */
export function isoWithOffset(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return (
    `${p(d.getFullYear(), 4)}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:` +
    `${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}${sign}${p(Math.floor(abs / 60))}:${p(abs % 60)}`
  );
}

/**
 * Command-line arguments made shareable: home prefixes become `~`, URL credentials are removed, and
 * the value of a secret-like flag (`--api-key=x`, `--token x`) becomes `<redacted>`.
 *
 * @example
 * ```ts
 * redactArgv(["node", "run.js", "--token", "abc", "--lr=0.1"]); // ["node", "run.js", "--token", "<redacted>", "--lr=0.1"]
 * ```
 */
export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = /^(-{1,2}[^=]+)=/.exec(arg);
    if (eq && isSecretLikeName(eq[1].replace(/-/g, "_"))) {
      out.push(`${eq[1]}=<redacted>`);
      continue;
    }
    out.push(replaceHome(arg.includes("://") ? stripUrlCredentials(arg) : arg));
    if (/^-{1,2}[A-Za-z]/.test(arg) && !eq && isSecretLikeName(arg.replace(/-/g, "_")) && i + 1 < argv.length && !argv[i + 1].startsWith("-")) {
      out.push("<redacted>");
      i++;
    }
  }
  return out;
}

/** Names Intl reports as `UTC` (V8 maps ICU's Etc/UTC and Etc/GMT, and their aliases, to it). */
const UTC_NAMES = new Set([
  "UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu", "Etc/GMT", "GMT", "Etc/GMT0", "GMT0",
  "Etc/GMT+0", "Etc/GMT-0", "GMT+0", "GMT-0", "Etc/Greenwich", "Greenwich",
]);
let canonicalZones: Set<string> | null = null;

/**
 * @internal The time zone Intl would report, found without Intl's first-use cost (about 25 ms:
 * it loads the locale data): the zone ICU detects (`TZ`, else the target of the
 * `/etc/localtime` link after `/zoneinfo/`), when it is a UTC name or one of Intl's canonical
 * zone names (`Intl.supportedValuesOf("timeZone")`, about 1.5 ms), which Intl reports unchanged.
 * Null otherwise (an alias such as `Asia/Kolkata`, which Intl reports as `Asia/Calcutta`, a POSIX
 * TZ string, no link): ask Intl.
 */
export function fastTimeZoneName(env: Record<string, string | undefined> = process.env): string | null {
  let name: string;
  const tz = env.TZ;
  if (tz !== undefined) name = tz.startsWith(":") ? tz.slice(1) : tz;
  else {
    try {
      const link = readlinkSync("/etc/localtime");
      const at = link.indexOf("/zoneinfo/");
      if (at < 0) return null;
      name = link.slice(at + "/zoneinfo/".length);
    } catch {
      return null;
    }
  }
  if (UTC_NAMES.has(name)) return "UTC";
  try {
    canonicalZones ??= new Set(Intl.supportedValuesOf("timeZone"));
  } catch {
    return null;
  }
  return canonicalZones.has(name) ? name : null;
}

/** The IANA time zone as Intl reports it (`"unknown"` when it does not say). */
export function timeZoneName(): string {
  const fast = fastTimeZoneName();
  if (fast !== null) return fast;
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Throws ValidationError INVALID_OPTION unless `v` is a list of non-empty strings.
 *
 * @example
 * ```ts
 * checkNameList(["MY_SEED"], "extraEnv"); // ["MY_SEED"]
 * ```
 */
export function checkNameList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && x !== "")) {
    throw new ValidationError("INVALID_OPTION", `${what} must be an array of non-empty strings, got ${JSON.stringify(v)}`);
  }
  return v as string[];
}

/**
 * Captures the runtime environment. `extraEnv` adds variables to the allow-list (exact names or
 * `PREFIX_*`); a secret-like name (containing KEY, TOKEN, SECRET, PASSWORD, ...) is recorded only
 * when listed exactly. `argv` and `execArgv` go through {@link redactArgv}. `startTime` defaults to
 * now; `env` to `process.env`.
 *
 * @example
 * ```ts
 * const rt = captureRuntime({ snnExport: "0.1.0", h5wasm: "0.10.3", hdf5: "2.0.0" }, { extraEnv: ["MY_SEED"] });
 * rt.startTime;  // "2024-03-01T14:05:09.123+01:00"
 * rt.timeZone;   // "Europe/Berlin"
 * ```
 */
export function captureRuntime(
  versions: ProvenanceVersions,
  options: { extraEnv?: string[]; startTime?: Date; env?: Record<string, string | undefined> } = {},
): RuntimeInfo {
  const extraEnv = checkNameList(options.extraEnv ?? [], "provenance option extraEnv");
  for (const k of ["snnExport", "h5wasm", "hdf5"] as const) {
    if (typeof versions?.[k] !== "string") {
      throw new ValidationError("INVALID_OPTION", `captureRuntime(): versions.${k} must be a string, got ${JSON.stringify(versions?.[k])}`);
    }
  }
  const start = options.startTime ?? new Date();
  const cpuList = cpus();
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch {
    cwd = "(deleted)";
  }
  return {
    node: process.version,
    platform: platform(),
    arch: arch(),
    osRelease: release(),
    cpuModel: cpuList[0]?.model?.trim() || "unknown",
    cpuCount: typeof availableParallelism === "function" ? availableParallelism() : cpuList.length,
    totalMemoryBytes: totalmem(),
    hostname: hostname(),
    pid: process.pid,
    cwd: replaceHome(cwd),
    argv: redactArgv(process.argv),
    execArgv: redactArgv(process.execArgv),
    versions: { snnExport: versions.snnExport, h5wasm: versions.h5wasm, hdf5: versions.hdf5 },
    startTime: isoWithOffset(start),
    startTimeUtc: start.toISOString(),
    timeZone: timeZoneName(),
    env: filterEnv(options.env ?? process.env, extraEnv),
  };
}

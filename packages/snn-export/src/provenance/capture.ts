/**
 * {@link captureProvenance} and {@link startProvenanceCapture}: check {@link ProvenanceOptions}
 * and capture every part that is switched on, in one call, before the experiment file exists.
 */
import { ValidationError } from "../errors.js";
import { projectRoot, startGitCapture } from "./git.js";
import { captureRuntime, checkNameList } from "./runtime.js";
import { collectCodeSnapshot } from "./snapshot.js";
import type { GitInfo, Provenance, ProvenanceOptions, ProvenanceVersions } from "./types.js";

function bad(message: string): never {
  throw new ValidationError("INVALID_OPTION", `provenance option ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkKeys(o: Record<string, unknown>, known: string[], what: string): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) bad(`${what}: unknown key ${k}; known keys: ${known.join(", ")}`);
}

/**
 * Checks provenance options and fills in the defaults (every part on). `false` switches all parts
 * off, `true` or `undefined` keeps all on. Throws ValidationError `INVALID_OPTION` naming the
 * option; touches nothing.
 *
 * @example
 * ```ts
 * resolveProvenanceOptions({ git: false }); // { runtime: true, git: false, codeSnapshot: {}, extraEnv: [] }
 * ```
 */
export function resolveProvenanceOptions(options: ProvenanceOptions | boolean | undefined): {
  runtime: boolean;
  git: false | { diffCap?: number };
  codeSnapshot: false | { paths?: string[]; fileCap?: number; totalCap?: number; root?: string };
  extraEnv: string[];
} {
  if (options === false) return { runtime: false, git: false, codeSnapshot: false, extraEnv: [] };
  const o: ProvenanceOptions = options === true || options === undefined ? {} : options;
  if (!isObject(o)) bad(`must be true, false or an object, got ${JSON.stringify(options)}`);
  checkKeys(o as Record<string, unknown>, ["runtime", "git", "codeSnapshot", "extraEnv"], "provenance");
  const runtime = o.runtime ?? true;
  if (typeof runtime !== "boolean") bad(`runtime must be true or false, got ${JSON.stringify(runtime)}`);
  const git = o.git ?? true;
  if (typeof git !== "boolean" && !isObject(git)) bad(`git must be true, false or { diffCap }, got ${JSON.stringify(git)}`);
  if (isObject(git)) checkKeys(git, ["diffCap"], "git");
  const code = o.codeSnapshot ?? true;
  if (typeof code !== "boolean" && !isObject(code)) bad(`codeSnapshot must be true, false or { paths, fileCap, totalCap, root }, got ${JSON.stringify(code)}`);
  if (isObject(code)) {
    checkKeys(code, ["paths", "fileCap", "totalCap", "root"], "codeSnapshot");
    if (code.paths !== undefined) checkNameList(code.paths, "provenance option codeSnapshot.paths");
    if (code.root !== undefined && (typeof code.root !== "string" || code.root === "")) bad(`codeSnapshot.root must be a directory path`);
    for (const k of ["fileCap", "totalCap"] as const) {
      const v = code[k];
      if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < 0)) bad(`codeSnapshot.${k} must be a non-negative integer, got ${JSON.stringify(v)}`);
    }
  }
  if (isObject(git) && git.diffCap !== undefined && (typeof git.diffCap !== "number" || !Number.isInteger(git.diffCap) || git.diffCap < 0)) {
    bad(`git.diffCap must be a non-negative integer, got ${JSON.stringify(git.diffCap)}`);
  }
  const extraEnv = checkNameList(o.extraEnv ?? [], "provenance option extraEnv");
  return {
    runtime,
    git: git === true ? {} : git,
    codeSnapshot: code === true ? {} : code,
    extraEnv: [...extraEnv],
  };
}

/**
 * Captures the provenance parts switched on in `options` (all by default): runtime, git state of
 * `context.cwd` and the code snapshot (entry script plus `codeSnapshot.paths`). Call it before
 * creating the experiment directory, and pass the output base directory as `context.exclude` so
 * experiment outputs inside the repository do not mark it dirty. Rejects only for invalid
 * options; see {@link startProvenanceCapture} for not waiting for git.
 *
 * @example
 * ```ts
 * const p = await captureProvenance({ snnExport: VERSION, h5wasm: "0.10.3", hdf5: "2.0.0" },
 *   { codeSnapshot: { paths: ["src/**\/*.ts"] } }, { startTime: new Date(), exclude: ["experiments"] });
 * writeProvenance(writer, p, { kind: "gzip", level: 4 });
 * ```
 */
export async function captureProvenance(
  versions: ProvenanceVersions,
  options: ProvenanceOptions | boolean = {},
  context: { cwd?: string; startTime?: Date; exclude?: string[] } = {},
): Promise<Provenance> {
  const { provenance, git } = await startProvenanceCapture(versions, options, context);
  const p: Provenance = {};
  if (provenance.runtime) p.runtime = provenance.runtime;
  if (git) p.git = await git;
  if (provenance.code) p.code = provenance.code;
  return p;
}

/**
 * Captures runtime and code snapshot and starts the git capture: `provenance` has the parts
 * switched on except git; `git` (null when git is off) settles with the git state (it never
 * rejects). Status, diff and remotes start at once where the top level is found without git,
 * else as soon as `git rev-parse --show-toplevel` has answered (see `startGitCapture`). Only the
 * code snapshot waits for the top level (its root; with git off see {@link projectRoot}), and
 * then every git command has been started when the returned promise settles. Rejects only for invalid options.
 *
 * @example
 * ```ts
 * const { provenance, git } = await startProvenanceCapture(versions, {}, { exclude: ["experiments"] });
 * writeProvenance(writer, provenance, { kind: "gzip", level: 4 });   // runtime and code now
 * writeProvenance(writer, { git: await git! }, { kind: "gzip", level: 4 }); // git later
 * ```
 */
export async function startProvenanceCapture(
  versions: ProvenanceVersions,
  options: ProvenanceOptions | boolean = {},
  context: { cwd?: string; startTime?: Date; exclude?: string[] } = {},
): Promise<{ provenance: Provenance; git: Promise<GitInfo> | null }> {
  const o = resolveProvenanceOptions(options);
  const cwd = context.cwd ?? process.cwd();
  // git first: its first command runs while the runtime is captured
  const git = o.git ? startGitCapture(cwd, { diffCap: o.git.diffCap, exclude: context.exclude }) : null;
  const p: Provenance = {};
  if (o.runtime) p.runtime = captureRuntime(versions, { extraEnv: o.extraEnv, startTime: context.startTime });
  if (o.codeSnapshot) {
    const { paths = [], root, ...rest } = o.codeSnapshot;
    // the given root, else the git top level (cwd outside a repository or without git)
    const base = root ?? (git ? (await git.root) ?? cwd : await projectRoot(cwd));
    p.code = collectCodeSnapshot(paths, { ...rest, root: base, cwd });
  }
  return { provenance: p, git: git ? git.result : null };
}

/**
 * {@link captureProvenance} (and {@link captureProvenanceAsync}, the same without blocking): checks
 * {@link ProvenanceOptions} and captures every part that is switched on, in one call, before the
 * experiment file exists.
 */
import { ValidationError } from "../errors.js";
import { captureGitAndRoot, projectRootAsync, projectRootNow, startGitCapture } from "./git.js";
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
 * experiment outputs inside the repository do not mark it dirty. Throws only for invalid options.
 *
 * @example
 * ```ts
 * const p = captureProvenance({ snnExport: "0.1.0", h5wasm: "0.10.3", hdf5: "2.0.0" },
 *   { codeSnapshot: { paths: ["src/**\/*.ts"] } }, { startTime: new Date(), exclude: ["experiments"] });
 * writeProvenance(writer, p, { kind: "gzip", level: 4 });
 * ```
 */
export function captureProvenance(
  versions: ProvenanceVersions,
  options: ProvenanceOptions | boolean = {},
  context: { cwd?: string; startTime?: Date; exclude?: string[] } = {},
): Provenance {
  const o = resolveProvenanceOptions(options);
  const cwd = context.cwd ?? process.cwd();
  const p: Provenance = {};
  if (o.runtime) p.runtime = captureRuntime(versions, { extraEnv: o.extraEnv, startTime: context.startTime });
  let gitRoot: string | null = null;
  if (o.git) ({ info: p.git, root: gitRoot } = captureGitAndRoot(cwd, { diffCap: o.git.diffCap, exclude: context.exclude }));
  if (o.codeSnapshot) {
    const { paths = [], root, ...rest } = o.codeSnapshot;
    // the git top level, or cwd when git was asked and found no repository (saves asking again)
    const fallback = p.git && !p.git.available ? cwd : undefined;
    p.code = collectCodeSnapshot(paths, { ...rest, root: root ?? gitRoot ?? fallback, cwd });
  }
  return p;
}

/**
 * {@link captureProvenance} without blocking on git: the same result, with the git commands run
 * concurrently with each other, with the runtime capture and with the code snapshot. See
 * {@link startProvenanceCapture}, which it awaits. Rejects only for invalid options.
 *
 * @example
 * ```ts
 * const p = await captureProvenanceAsync({ snnExport: "0.1.0", h5wasm: "0.10.3", hdf5: "2.0.0" }, {},
 *   { startTime: new Date(), exclude: ["experiments"] });
 * writeProvenance(writer, p, { kind: "gzip", level: 4 });
 * ```
 */
export async function captureProvenanceAsync(
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
 * Captures runtime and code snapshot now and starts the git capture: `provenance` has the parts
 * switched on except git; `git` (null when git is off) settles with the git state (it never
 * rejects). Every git command is started before the returned promise settles (before its
 * first event-loop turn in the common layouts: see `startGitCapture`), so it records the state
 * of that moment whenever it is awaited. It waits for git only where the snapshot root needs the
 * git top level and it cannot be found without asking git (an unusual layout or a discovery
 * variable such as GIT_DIR: one `git rev-parse`). Rejects only for invalid options.
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
  const snapshot = o.codeSnapshot;
  // start the child processes first, then do the synchronous work while they run
  const git = o.git ? startGitCapture(cwd, { diffCap: o.git.diffCap, exclude: context.exclude }) : null;
  // the snapshot root: given; else the git top level, or cwd when git was asked and found no
  // repository (as captureProvenance); else projectRoot(cwd), as collectCodeSnapshot would ask
  let root: string | Promise<string> | null = null;
  if (snapshot) {
    if (snapshot.root !== undefined) root = snapshot.root;
    else if (git) root = git.rootNow !== undefined ? git.rootNow ?? cwd : git.root.then((r) => r ?? cwd);
    else root = projectRootNow(cwd) ?? projectRootAsync(cwd);
  }
  const p: Provenance = {};
  try {
    if (o.runtime) p.runtime = captureRuntime(versions, { extraEnv: o.extraEnv, startTime: context.startTime });
    if (snapshot && root !== null) {
      const { paths = [], root: _given, ...rest } = snapshot;
      p.code = collectCodeSnapshot(paths, { ...rest, root: typeof root === "string" ? root : await root, cwd });
    }
  } catch (err) {
    // no unhandled rejection; the children end on their own
    git?.result.catch(() => {});
    git?.root.catch(() => {});
    if (typeof root === "object") root?.catch(() => {});
    throw err;
  }
  return { provenance: p, git: git ? git.result.then((r) => r.info) : null };
}

/**
 * {@link captureProvenance} (and {@link captureProvenanceAsync}, the same without blocking): checks
 * {@link ProvenanceOptions} and captures every part that is switched on, in one call, before the
 * experiment file exists.
 */
import { ValidationError } from "../errors.js";
import { captureGitAndRoot, projectRootAsync, startGitCapture } from "./git.js";
import { captureRuntime, checkNameList } from "./runtime.js";
import { collectCodeSnapshot } from "./snapshot.js";
import type { CodeSnapshot, Provenance, ProvenanceOptions, ProvenanceVersions } from "./types.js";

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
 * concurrently with each other, with the runtime capture and with the code snapshot (which starts
 * as soon as the first git command has given the top level, its root). With git switched off, one
 * `git rev-parse` finds the snapshot root, also concurrently. Rejects only for invalid options.
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
  const o = resolveProvenanceOptions(options);
  const cwd = context.cwd ?? process.cwd();
  const snapshot = o.codeSnapshot;
  // start the child processes first, then do the synchronous work while they run
  const git = o.git ? startGitCapture(cwd, { diffCap: o.git.diffCap, exclude: context.exclude }) : null;
  // the snapshot root: given; else the git top level, or cwd when git was asked and found no
  // repository (as captureProvenance); else projectRoot(cwd), as collectCodeSnapshot would ask
  const root: Promise<string> | null = !snapshot
    ? null
    : snapshot.root !== undefined
      ? Promise.resolve(snapshot.root)
      : git
        ? git.root.then((r) => r ?? cwd)
        : projectRootAsync(cwd);
  const settle = (): void => {
    git?.result.catch(() => {});
    git?.root.catch(() => {});
    root?.catch(() => {});
  };
  const p: Provenance = {};
  let code: CodeSnapshot | undefined;
  try {
    if (o.runtime) p.runtime = captureRuntime(versions, { extraEnv: o.extraEnv, startTime: context.startTime });
    if (snapshot && root) {
      const { paths = [], root: _given, ...rest } = snapshot;
      code = collectCodeSnapshot(paths, { ...rest, root: await root, cwd });
    }
  } catch (err) {
    settle(); // no unhandled rejection; the children end on their own
    throw err;
  }
  if (git) p.git = (await git.result).info;
  if (code) p.code = code;
  return p;
}

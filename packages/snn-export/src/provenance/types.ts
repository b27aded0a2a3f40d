/**
 * Types of the provenance module: what is captured about the runtime, the git working tree and the
 * code, and the options that switch each part off.
 */

/**
 * Versions of the software that writes the file; the caller passes them in (this module does not
 * import the engine).
 *
 * @example
 * ```ts
 * const versions: ProvenanceVersions = { snnExport: "0.1.0", h5wasm: "0.10.3", hdf5: "2.0.0" };
 * ```
 */
export interface ProvenanceVersions {
  snnExport: string;
  h5wasm: string;
  hdf5: string;
}

/**
 * The runtime environment of the process, stored as JSON text in `metadata/runtime`. Paths are
 * user-agnostic: the home directory prefix is replaced by `~`.
 *
 * @example
 * ```ts
 * const rt: RuntimeInfo = captureRuntime({ snnExport: "0.1.0", h5wasm: "0.10.3", hdf5: "2.0.0" });
 * console.log(rt.node, rt.timeZone, rt.env.SLURM_JOB_ID);
 * ```
 */
export interface RuntimeInfo {
  /** `process.version`, e.g. `v20.11.0`. */
  node: string;
  platform: string;
  arch: string;
  /** `os.release()`. */
  osRelease: string;
  /** Model of the first CPU (`"unknown"` when the OS does not say). */
  cpuModel: string;
  /** Logical CPUs (`os.availableParallelism()`). */
  cpuCount: number;
  totalMemoryBytes: number;
  hostname: string;
  /** The writing process's id (with `hostname`: whether a run whose file is still `open` is being written). */
  pid: number;
  /** `process.cwd()` with the home directory prefix replaced by `~`. */
  cwd: string;
  /** `process.argv` with `~` for the home directory, URL credentials and secret-like flag values removed. */
  argv: string[];
  /** `process.execArgv` (Node flags), made shareable like `argv`. */
  execArgv: string[];
  versions: ProvenanceVersions;
  /** Local start time, ISO 8601 with the UTC offset, e.g. `2024-03-01T14:05:09.123+01:00`. */
  startTime: string;
  /** The same instant in UTC (`Date.toISOString()`), as in the root attribute `start_time`. */
  startTimeUtc: string;
  /** IANA time zone from `Intl`, e.g. `Europe/Berlin` (`"unknown"` when Intl does not say). */
  timeZone: string;
  /** Allow-listed environment variables (see {@link DEFAULT_ENV_ALLOW_LIST}). */
  env: Record<string, string>;
}

/**
 * Git could not be asked, or the directory is not in a repository. Never an error.
 *
 * @example
 * ```ts
 * const g: GitUnavailable = { available: false, reason: "git not found" };
 * ```
 */
export interface GitUnavailable {
  available: false;
  /** `git not found` (no git binary), `not a git repository`, or `git failed` (see `detail`). */
  reason: "git not found" | "not a git repository" | "git failed";
  /** The first line of git's message or the spawn error, when `reason` is `git failed`. */
  detail?: string;
}

/**
 * What `metadata/git` holds while the git capture has not answered: the exporter writes it at
 * create and replaces it with the {@link GitInfo} at the first flush after git answered, or at
 * `close()`, which waits for it. A file that still has it was not closed (its writer died or is
 * still writing) before git answered. Never returned by a capture function.
 *
 * @example
 * ```ts
 * const g = loader.getMetadata().git as GitInfo | GitPending;
 * if (!g.available && g.reason === "pending") console.log("the run ended before git answered");
 * ```
 */
export interface GitPending {
  available: false;
  reason: "pending";
  /** `git had not answered when the file was last flushed`. */
  detail: string;
}

/**
 * One line of `git status --porcelain`.
 *
 * @example
 * ```ts
 * const c: GitChange = { status: "R ", path: "src/new.ts", from: "src/old.ts" };
 * ```
 */
export interface GitChange {
  /** The two status letters `XY`, e.g. ` M`, `A `, `??`. */
  status: string;
  /** Path relative to the repository top level, `/`-separated. */
  path: string;
  /** Original path of a rename or copy. */
  from?: string;
}

/**
 * The state of the git working tree the experiment ran from.
 *
 * @example
 * ```ts
 * const g = await captureGit(dir); if (g.available) console.log(g.commit, g.branch, g.diffTruncated);
 * ```
 */
export interface GitState {
  available: true;
  /** Repository top level, home directory replaced by `~`. */
  toplevel: string;
  /** Full hash of HEAD; null in a repository without commits. */
  commit: string | null;
  /** Current branch; null when HEAD is detached. */
  branch: string | null;
  /** Name of the remote recorded (`origin`, else the first); null when there is none. */
  remoteName: string | null;
  /** Its URL with credentials removed (see {@link stripUrlCredentials}). */
  remoteUrl: string | null;
  /** True when `git status` lists anything, untracked files included. */
  dirty: boolean;
  /** `git status --porcelain` entries, at most 1000. */
  changedFiles: GitChange[];
  /** Number of entries before the 1000-entry cut. */
  changedFileCount: number;
  /** Paths (relative to the top level) left out of status and diff, e.g. the output directory. */
  excluded: string[];
  /** Bytes of the full `git diff HEAD` (staged and unstaged changes to tracked files). */
  diffBytes: number;
  /** The diff cap in bytes. */
  diffCap: number;
  /** True when `diffBytes > diffCap` and only the first `diffCap` bytes are kept. */
  diffTruncated: boolean;
  /** The (possibly truncated) diff text. In the file it is `metadata/git_diff`, not in the JSON. */
  diff?: string;
}

/**
 * What {@link captureGit} returns: `{ available: false, reason }` or the working-tree state.
 *
 * @example
 * ```ts
 * const g: GitInfo = await captureGit(process.cwd());
 * if (g.available) console.log(g.commit, g.dirty); else console.log(g.reason);
 * ```
 */
export type GitInfo = GitUnavailable | GitState;

/**
 * One file of a code snapshot.
 *
 * @example
 * ```ts
 * const f: CodeFile = { path: "big.bin", size: 5e6, sha256: null, stored: false, reason: "larger than the per-file cap of 1048576 bytes" };
 * ```
 */
export interface CodeFile {
  /** Path relative to the snapshot root (`/`-separated); outside the root: the absolute path with `~`. */
  path: string;
  /** Size in bytes of the original file (0 when it could not be read). */
  size: number;
  /** sha256 (hex) of the original bytes; null when the file was not read. */
  sha256: string | null;
  /** True when the gzip bytes are stored in the file. */
  stored: boolean;
  /** Why the file was not stored. */
  reason?: string;
  /** gzip of the original bytes, when stored. */
  gz?: Uint8Array;
}

/**
 * The result of {@link collectCodeSnapshot}: the project root and the files found.
 *
 * @example
 * ```ts
 * const snap: CodeSnapshot = collectCodeSnapshot(["src/**\/*.ts"], { root: await projectRoot(process.cwd()) });
 * for (const f of snap.files) console.log(f.path, f.stored ? f.sha256 : f.reason);
 * ```
 */
export interface CodeSnapshot {
  /** Absolute (real) path of the project root the file paths are relative to. */
  root: string;
  /** The per-file cap used, in bytes (absent on hand-built snapshots). */
  fileCap?: number;
  /** The total cap used, in bytes (absent on hand-built snapshots). */
  totalCap?: number;
  files: CodeFile[];
}

/**
 * One entry of `metadata/code_snapshot/index`.
 *
 * @example
 * ```ts
 * const e: CodeIndexEntry = { path: "src/train.ts", size: 1234, sha256: "9f86…", stored: true, dataset: "file_0000" };
 * ```
 */
export interface CodeIndexEntry {
  path: string;
  size: number;
  sha256: string | null;
  stored: boolean;
  reason?: string;
  /** Name of the dataset holding the gzip bytes (`file_0000`, ...), when stored. */
  dataset?: string;
  /** Root this path is relative to (`~` for home), when it differs from the group's `root` attribute. */
  root?: string;
}

/**
 * Which provenance parts {@link captureProvenance} records; every part is on by default.
 *
 * @example
 * ```ts
 * const opts: ProvenanceOptions = { git: { diffCap: 256 * 1024 }, codeSnapshot: { paths: ["src/**\/*.ts"] }, extraEnv: ["MY_SEED"] };
 * ```
 */
export interface ProvenanceOptions {
  /** Record `metadata/runtime` [true]. */
  runtime?: boolean;
  /** Record `metadata/git` and `metadata/git_diff` [true]; `diffCap` in bytes [1 MiB]. */
  git?: boolean | { diffCap?: number };
  /** Record `metadata/code_snapshot/` [true]: the entry script plus `paths` (files or globs). */
  codeSnapshot?: boolean | { paths?: string[]; fileCap?: number; totalCap?: number; root?: string };
  /** Environment variables to record beyond the default allow-list (exact names or `PREFIX_*`). */
  extraEnv?: string[];
}

/**
 * The captured parts; a part switched off is absent.
 *
 * @example
 * ```ts
 * const p: Provenance = await captureProvenance(versions, {}, { cwd: process.cwd() });
 * writeProvenance(writer, p, { kind: "gzip", level: 4 });
 * ```
 */
export interface Provenance {
  runtime?: RuntimeInfo;
  git?: GitInfo;
  code?: CodeSnapshot;
}

/**
 * What {@link writeProvenance} writes: the captured parts, where git may still be pending.
 *
 * @example
 * ```ts
 * const p: StoredProvenance = { runtime: captureRuntime(versions), git: GIT_PENDING };
 * ```
 */
export type StoredProvenance = Omit<Provenance, "git"> & { git?: GitInfo | GitPending };

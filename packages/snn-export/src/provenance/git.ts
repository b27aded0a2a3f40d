/**
 * Git state of the directory an experiment runs from: which git commands to run (through
 * {@link run}: an argument list and a timeout, never a shell) and how to read their output. Every
 * git problem is recorded, never thrown; only invalid options throw.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { ValidationError } from "../errors.js";
import { replaceHome, stripUrlCredentials, toPosix } from "./paths.js";
import { run, type RunResult } from "./run.js";
import type { GitChange, GitInfo, GitUnavailable } from "./types.js";

/**
 * Default cap on the stored `git diff HEAD`: 1 MiB.
 *
 * @example
 * ```ts
 * await captureGit(dir, { diffCap: DEFAULT_DIFF_CAP / 4 });
 * ```
 */
export const DEFAULT_DIFF_CAP = 1 << 20;
/**
 * Default timeout of one git command: 10 s.
 *
 * @example
 * ```ts
 * await captureGit(dir, { timeoutMs: DEFAULT_GIT_TIMEOUT_MS * 3 }); // slow network file system
 * ```
 */
export const DEFAULT_GIT_TIMEOUT_MS = 10_000;
/**
 * At most this many `git status` entries are recorded (`changedFileCount` has the full count).
 *
 * @example
 * ```ts
 * if (g.available && g.changedFileCount > MAX_CHANGED_FILES) console.warn("changed files list cut");
 * ```
 */
export const MAX_CHANGED_FILES = 1000;

/**
 * Options of {@link captureGit}.
 *
 * @example
 * ```ts
 * const opts: GitOptions = { diffCap: 64 * 1024, exclude: ["/abs/path/experiments"] };
 * ```
 */
export interface GitOptions {
  /** Bytes of `git diff HEAD` kept [1 MiB]; the full size is recorded either way. */
  diffCap?: number;
  /** The git executable [`git`, looked up on PATH]. */
  gitBinary?: string;
  /** Timeout of each git command in ms [10000]. */
  timeoutMs?: number;
  /** Paths (absolute or relative to `cwd`) left out of status and diff, e.g. the output directory. */
  exclude?: string[];
  /** Variables added to git's environment (e.g. `GIT_CEILING_DIRECTORIES`). */
  env?: Record<string, string | undefined>;
}

interface Ctx { bin: string; cwd: string; timeoutMs: number; env: NodeJS.ProcessEnv }
const GIT_PREFIX = ["-c", "core.quotePath=false", "-c", "color.ui=false"];
/** Changes (`-z`: paths as they are), HEAD's commit and branch; no ahead/behind count (it can be slow). */
const STATUS_ARGS = ["status", "--porcelain=v2", "--branch", "--no-ahead-behind", "-z", "--untracked-files=normal"];
const REMOTES_ARGS = ["config", "--get-regexp", "^remote\\..*\\.url$"];
const EMPTY_TREE_ARGS = ["hash-object", "-t", "tree", "--stdin"];
/** The empty tree of SHA-1 repositories, when `git hash-object` cannot tell. */
const EMPTY_TREE_SHA1 = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const diffArgs = (base: string, pathspec: string[]): string[] => ["diff", base, "--no-color", "--no-ext-diff", ...pathspec];

function git(ctx: Ctx, args: string[], extra: { input?: string; stdoutCap?: number } = {}): Promise<RunResult> {
  return run(ctx.bin, [...GIT_PREFIX, ...args], { cwd: ctx.cwd, env: ctx.env, timeoutMs: ctx.timeoutMs, ...extra });
}

const firstLine = (s: string): string => s.trim().split(/\r?\n/)[0] ?? "";

/** Why `git <args>` gave no usable answer (no git, timeout, output cut, exit ≠ 0), or null when it did. */
function failure(ctx: Ctx, args: string[], r: RunResult, whole = true): GitUnavailable | null {
  const cmd = `git ${args[0]}`;
  if (r.error?.code === "ENOENT" || r.error?.code === "EACCES") return { available: false, reason: "git not found", detail: `${ctx.bin}: ${r.error.code}` };
  if (r.error) return { available: false, reason: "git failed", detail: r.error.code === "ETIMEDOUT" ? `${cmd} ${r.error.message}` : `${cmd}: ${r.error.message}` };
  if (whole && r.stdoutBytes > r.stdout.length) return { available: false, reason: "git failed", detail: `${cmd}: output larger than ${r.stdout.length} bytes` };
  if (r.status !== 0) return { available: false, reason: "git failed", detail: `${cmd}: ${firstLine(r.stderr)}` };
  return null;
}

/**
 * Parses `git status --porcelain=v2 --branch -z` output: HEAD's commit (`null` before the first
 * commit), the branch (`null` when detached) and the entries as `git status --porcelain` (v1)
 * writes them: two status letters `XY` (a space for "unmodified"), the path, and `from` for the
 * original path of a rename or copy.
 *
 * @example
 * ```ts
 * parsePorcelainV2Z("# branch.oid (initial)\0# branch.head main\0? new.ts\0");
 * // { commit: null, branch: "main", changes: [{ status: "??", path: "new.ts" }] }
 * ```
 */
export function parsePorcelainV2Z(out: string): { commit: string | null; branch: string | null; changes: GitChange[] } {
  const parts = out.split("\0");
  const changes: GitChange[] = [];
  let commit: string | null = null;
  let branch: string | null = null;
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i];
    if (entry.startsWith("# ")) {
      const [key, ...rest] = entry.slice(2).split(" ");
      const value = rest.join(" ");
      if (key === "branch.oid") commit = value === "(initial)" ? null : value;
      else if (key === "branch.head") branch = value === "(detached)" ? null : value;
      continue;
    }
    const kind = entry[0];
    if (kind === "?" || kind === "!") {
      if (entry.length > 2) changes.push({ status: kind + kind, path: entry.slice(2) });
      continue;
    }
    const fields = kind === "1" ? 8 : kind === "2" ? 9 : kind === "u" ? 10 : -1;
    if (fields < 0 || entry[1] !== " ") continue;
    const change: GitChange = { status: entry.slice(2, 4).replace(/\./g, " "), path: entry.split(" ").slice(fields).join(" ") }; // the path may hold spaces
    if (kind === "2" && i + 1 < parts.length) change.from = parts[++i];
    changes.push(change);
  }
  return { commit, branch, changes };
}

/** Remote name (origin, else the first) and its URL without credentials, from `git config --get-regexp`. */
function parseRemotes(stdout: string): { remoteName: string | null; remoteUrl: string | null } {
  const remotes = new Map<string, string>();
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^remote\.(.+)\.url (.*)$/.exec(line);
    if (m && !remotes.has(m[1])) remotes.set(m[1], m[2]);
  }
  const remoteName = remotes.has("origin") ? "origin" : [...remotes.keys()][0] ?? null;
  const rawUrl = remoteName === null ? "" : remotes.get(remoteName) ?? "";
  return { remoteName, remoteUrl: rawUrl ? stripUrlCredentials(rawUrl) : null };
}

/** The diff's first `cap` bytes at most, never cutting a UTF-8 character, and its full size. */
function cutDiff(r: RunResult, cap: number): { text: string; bytes: number } {
  let end = Math.min(r.stdoutBytes, cap);
  while (end > 0 && end < r.stdoutBytes && (r.stdout[end] & 0xc0) === 0x80) end--;
  return { text: r.stdout.subarray(0, end).toString("utf8"), bytes: r.stdoutBytes };
}

function checkCap(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new ValidationError("INVALID_OPTION", `${name} must be a non-negative integer number of bytes, got ${JSON.stringify(v)}`);
  }
  return v;
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The excluded paths relative to the top level (those inside it), and the pathspec leaving them out. */
function scope(cwd: string, realTop: string, exclude: string[] = []): { excluded: string[]; pathspec: string[] } {
  const excluded: string[] = [];
  for (const p of exclude) {
    const rel = relative(realTop, realOrSelf(resolve(cwd, p))); // not created yet: as given
    if (rel && !rel.startsWith("..") && !isAbsolute(rel)) excluded.push(toPosix(rel));
  }
  return { excluded, pathspec: ["--", ":(top)", ...excluded.map((e) => `:(top,exclude,literal)${e}`)] };
}

/** Variables that change where git looks for the repository: with one set, git is asked. */
const DISCOVERY_ENV = ["GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM"];

/**
 * The top level as git finds it in the plain layout: the first directory from `dir` up holding a
 * `.git` (a directory, or the `gitdir:` file of a linked worktree or submodule). Null when none is
 * found or a discovery variable is set: then git is asked (`rev-parse --show-toplevel`), which
 * costs one process start before the others can begin.
 */
function findTopLevel(dir: string, env: NodeJS.ProcessEnv): string | null {
  if (DISCOVERY_ENV.some((k) => env[k] !== undefined)) return null;
  for (let d = realOrSelf(dir); ; d = dirname(d)) {
    if (existsSync(join(d, ".git"))) return d;
    if (dirname(d) === d) return null;
  }
}

/**
 * @internal Starts the git capture of `cwd`: `status`, `diff HEAD` and `config` (the remotes)
 * together, before this returns when the top level is found without git ({@link findTopLevel}), else as soon as
 * `git rev-parse --show-toplevel` has answered (after `status`, a repository without commits is
 * diffed against the empty tree). `root` settles with the real top level (null when there is
 * none) once those three are running, so a caller that awaits it knows that they see the working
 * tree of that moment. Neither promise rejects. Throws for invalid options.
 */
export function startGitCapture(cwd: string, options: GitOptions = {}): { root: Promise<string | null>; result: Promise<GitInfo> } {
  const diffCap = checkCap(options.diffCap ?? DEFAULT_DIFF_CAP, "git option diffCap");
  const timeoutMs = checkCap(options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS, "git option timeoutMs");
  const dir = resolve(cwd);
  const none = (info: GitUnavailable) => ({ root: Promise.resolve(null), result: Promise.resolve<GitInfo>(info) });
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
  } catch {
    return none({ available: false, reason: "not a git repository", detail: `${replaceHome(dir)} is not a directory` });
  }
  const env = { ...process.env, ...options.env, GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C", LANGUAGE: "C" };
  const ctx: Ctx = { bin: options.gitBinary ?? "git", cwd: dir, timeoutMs, env };
  const begin = (toplevel: string): { root: Promise<string | null>; result: Promise<GitInfo> } => {
    const realTop = realOrSelf(toplevel);
    const { excluded, pathspec } = scope(dir, realTop, options.exclude);
    const status = git(ctx, [...STATUS_ARGS, ...pathspec]);
    const headDiff = git(ctx, diffArgs("HEAD", pathspec), { stdoutCap: diffCap + 1 });
    // all three now: a later spawn forks a grown process (config after status cost ~10 % of a short run)
    const remotes = git(ctx, REMOTES_ARGS);
    const result = (async (): Promise<GitInfo> => {
      const st = await status;
      let diff = await headDiff;
      const remoteOut = await remotes;
      if (!st.error && st.status !== 0 && /not a git repository/i.test(st.stderr)) return { available: false, reason: "not a git repository" };
      const stFailed = failure(ctx, STATUS_ARGS, st);
      if (stFailed) return stFailed;
      const { commit, branch, changes } = parsePorcelainV2Z(st.stdout.toString());
      if (commit === null) {
        // no commit yet: `diff HEAD` failed; diff against the empty tree
        const empty = await git(ctx, EMPTY_TREE_ARGS, { input: "" });
        const base = failure(ctx, EMPTY_TREE_ARGS, empty) ? EMPTY_TREE_SHA1 : empty.stdout.toString().trim();
        diff = await git(ctx, diffArgs(base, pathspec), { stdoutCap: diffCap + 1 });
      }
      const diffFailed = failure(ctx, ["diff"], diff, false);
      if (diffFailed) return diffFailed;
      const { text, bytes } = cutDiff(diff, diffCap);
      return {
        available: true,
        toplevel: replaceHome(toplevel),
        commit,
        branch,
        ...parseRemotes(remoteOut.stdout.toString()),
        dirty: changes.length > 0,
        changedFiles: changes.slice(0, MAX_CHANGED_FILES),
        changedFileCount: changes.length,
        excluded,
        diffBytes: bytes,
        diffCap,
        diffTruncated: bytes > diffCap,
        diff: text,
      };
    })();
    return { root: Promise.resolve<string | null>(realTop), result };
  };
  const found = findTopLevel(dir, env);
  if (found !== null) return begin(found);
  const started = git(ctx, ["rev-parse", "--show-toplevel"]).then((top) => {
    const failed = failure(ctx, ["rev-parse"], top);
    if (failed && !top.error && /not a git repository/i.test(top.stderr)) return none({ available: false, reason: "not a git repository" });
    if (failed) return none(failed);
    return begin(top.stdout.toString().trim());
  });
  return { root: started.then((s) => s.root), result: started.then((s) => s.result) };
}

/**
 * Records the git state of `cwd`: commit, branch, remote URL without credentials, dirty flag,
 * `git status` entries and `git diff HEAD` (capped at `diffCap` bytes, full size recorded). No git
 * binary → `{ available: false, reason: "git not found" }`; outside a repository →
 * `{ available: false, reason: "not a git repository" }`. Never rejects for git problems, only
 * for invalid options (ValidationError `INVALID_OPTION`).
 *
 * @example
 * ```ts
 * const g = await captureGit(process.cwd(), { exclude: ["experiments"] });
 * if (g.available && g.dirty) console.warn(`uncommitted changes in ${g.changedFileCount} files`);
 * ```
 */
export async function captureGit(cwd: string, options: GitOptions = {}): Promise<GitInfo> {
  return startGitCapture(cwd, options).result;
}

/**
 * The root a code snapshot is relative to: the git top level of `cwd` when it is in a repository
 * (and git is on PATH), else `cwd` itself; always a real (symlink-free) absolute path.
 *
 * @example
 * ```ts
 * await projectRoot(process.cwd()); // "/home/ada/proj" from /home/ada/proj/scripts
 * ```
 */
export async function projectRoot(cwd: string, options: Pick<GitOptions, "gitBinary" | "timeoutMs" | "env"> = {}): Promise<string> {
  const dir = resolve(cwd);
  const env = { ...process.env, ...options.env, LC_ALL: "C" };
  const found = findTopLevel(dir, env);
  if (found !== null) return found;
  const r = await run(options.gitBinary ?? "git", ["rev-parse", "--show-toplevel"], {
    cwd: dir,
    env,
    timeoutMs: options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS,
  });
  const top = r.error === null && r.status === 0 ? r.stdout.toString().trim() : "";
  return realOrSelf(top || dir);
}

/**
 * Git state of the directory an experiment runs from, through the git command line (spawnSync with
 * an argument list and a timeout, never a shell). Every failure is recorded, never thrown.
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { ValidationError } from "../errors.js";
import { replaceHome, stripUrlCredentials, toPosix } from "./paths.js";
import type { GitChange, GitInfo, GitUnavailable } from "./types.js";

/**
 * Default cap on the stored `git diff HEAD`: 1 MiB.
 *
 * @example
 * ```ts
 * captureGit(dir, { diffCap: DEFAULT_DIFF_CAP / 4 });
 * ```
 */
export const DEFAULT_DIFF_CAP = 1 << 20;
/**
 * Default timeout of one git command: 10 s.
 *
 * @example
 * ```ts
 * captureGit(dir, { timeoutMs: DEFAULT_GIT_TIMEOUT_MS * 3 }); // slow network file system
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

interface Ctx {
  bin: string;
  cwd: string;
  timeout: number;
  env: NodeJS.ProcessEnv;
}

interface Result {
  ok: boolean;
  stdout: string;
  stderr: string;
  unavailable?: GitUnavailable;
}

function firstLine(s: string): string {
  return s.trim().split(/\r?\n/)[0] ?? "";
}

function git(ctx: Ctx, args: string[], extra: SpawnSyncOptions = {}): Result {
  const r = spawnSync(ctx.bin, ["-c", "core.quotePath=false", "-c", "color.ui=false", ...args], {
    cwd: ctx.cwd,
    env: ctx.env,
    timeout: ctx.timeout,
    windowsHide: true,
    maxBuffer: 64 << 20,
    stdio: ["ignore", "pipe", "pipe"],
    ...extra,
  });
  const stderr = r.stderr ? r.stderr.toString() : "";
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES") {
      return { ok: false, stdout: "", stderr, unavailable: { available: false, reason: "git not found", detail: `${ctx.bin}: ${code}` } };
    }
    const detail = code === "ETIMEDOUT" ? `git ${args[0]} timed out after ${ctx.timeout} ms` : `git ${args[0]}: ${r.error.message}`;
    return { ok: false, stdout: "", stderr, unavailable: { available: false, reason: "git failed", detail } };
  }
  return { ok: r.status === 0, stdout: r.stdout ? r.stdout.toString() : "", stderr };
}

/**
 * Parses `git status --porcelain=v1 -z` output.
 *
 * @example
 * ```ts
 * parsePorcelainZ(" M a.ts\0?? new.ts\0R  b.ts\0old.ts\0");
 * // [{ status: " M", path: "a.ts" }, { status: "??", path: "new.ts" }, { status: "R ", path: "b.ts", from: "old.ts" }]
 * ```
 */
export function parsePorcelainZ(out: string): GitChange[] {
  const parts = out.split("\0");
  const changes: GitChange[] = [];
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i];
    if (entry.length < 4) continue;
    const status = entry.slice(0, 2);
    const change: GitChange = { status, path: entry.slice(3) };
    if (/[RC]/.test(status) && i + 1 < parts.length) change.from = parts[++i];
    changes.push(change);
  }
  return changes;
}

/** Runs `git diff` with stdout to a temporary file, so any size is measured and only `cap` bytes are read. */
function diffTo(ctx: Ctx, args: string[], cap: number): { text: string; bytes: number } | GitUnavailable {
  const dir = mkdtempSync(join(tmpdir(), "snn-export-diff-"));
  try {
    const file = join(dir, "diff");
    const fd = openSync(file, "w");
    let r: Result;
    try {
      r = git(ctx, args, { stdio: ["ignore", fd, "pipe"] });
    } finally {
      closeSync(fd);
    }
    if (r.unavailable) return r.unavailable;
    if (!r.ok) return { available: false, reason: "git failed", detail: `git diff: ${firstLine(r.stderr)}` };
    const bytes = statSync(file).size;
    const want = Math.min(bytes, cap + 1);
    const buf = Buffer.alloc(want);
    const rfd = openSync(file, "r");
    try {
      let got = 0;
      while (got < want) {
        const n = readSync(rfd, buf, got, want - got, got);
        if (n <= 0) break;
        got += n;
      }
    } finally {
      closeSync(rfd);
    }
    let end = Math.min(bytes, cap);
    while (end > 0 && end < bytes && (buf[end] & 0xc0) === 0x80) end--; // never cut a UTF-8 character
    return { text: buf.subarray(0, end).toString("utf8"), bytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkCap(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new ValidationError("INVALID_OPTION", `${name} must be a non-negative integer number of bytes, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Records the git state of `cwd`: commit, branch, remote URL without credentials, dirty flag,
 * `git status` entries and `git diff HEAD` (capped at `diffCap` bytes, full size recorded). No git
 * binary → `{ available: false, reason: "git not found" }`; outside a repository →
 * `{ available: false, reason: "not a git repository" }`. Never throws for git problems (only
 * for invalid options).
 *
 * @example
 * ```ts
 * const g = captureGit(process.cwd(), { diffCap: 256 * 1024 });
 * if (g.available && g.dirty) console.warn(`uncommitted changes in ${g.changedFileCount} files`);
 * ```
 */
export function captureGit(cwd: string, options: GitOptions = {}): GitInfo {
  return captureGitAndRoot(cwd, options).info;
}

/** @internal {@link captureGit} plus the real top level (null when unavailable), for the snapshot root. */
export function captureGitAndRoot(cwd: string, options: GitOptions = {}): { info: GitInfo; root: string | null } {
  const info = (x: GitInfo, root: string | null = null) => ({ info: x, root });
  const diffCap = checkCap(options.diffCap ?? DEFAULT_DIFF_CAP, "git option diffCap");
  const timeout = checkCap(options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS, "git option timeoutMs");
  const dir = resolve(cwd);
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
  } catch {
    return info({ available: false, reason: "not a git repository", detail: `${replaceHome(dir)} is not a directory` });
  }
  const ctx: Ctx = {
    bin: options.gitBinary ?? "git",
    cwd: dir,
    timeout,
    env: { ...process.env, ...options.env, GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C", LANGUAGE: "C" },
  };
  const top = git(ctx, ["rev-parse", "--show-toplevel"]);
  if (top.unavailable) return info(top.unavailable);
  if (!top.ok) {
    if (/not a git repository/i.test(top.stderr)) return info({ available: false, reason: "not a git repository" });
    return info({ available: false, reason: "git failed", detail: `git rev-parse: ${firstLine(top.stderr)}` });
  }
  const toplevel = top.stdout.trim();
  const head = git(ctx, ["rev-parse", "--verify", "-q", "HEAD"]);
  const commit = head.ok ? head.stdout.trim() : null;
  const sym = git(ctx, ["symbolic-ref", "--short", "-q", "HEAD"]);
  const branch = sym.ok ? sym.stdout.trim() || null : null;

  const remotes = new Map<string, string>();
  for (const line of git(ctx, ["config", "--get-regexp", "^remote\\..*\\.url$"]).stdout.split(/\r?\n/)) {
    const m = /^remote\.(.+)\.url (.*)$/.exec(line);
    if (m && !remotes.has(m[1])) remotes.set(m[1], m[2]);
  }
  const remoteName = remotes.has("origin") ? "origin" : [...remotes.keys()][0] ?? null;
  const rawUrl = remoteName === null ? "" : remotes.get(remoteName) ?? "";
  const remoteUrl = rawUrl ? stripUrlCredentials(rawUrl) : null;

  let realTop = toplevel;
  try {
    realTop = realpathSync(toplevel);
  } catch {
    /* keep git's spelling */
  }
  const excluded: string[] = [];
  for (const p of options.exclude ?? []) {
    let abs = resolve(dir, p);
    try {
      abs = realpathSync(abs);
    } catch {
      /* not created yet: keep as given */
    }
    const rel = relative(realTop, abs);
    if (rel && !rel.startsWith("..") && !isAbsolute(rel)) excluded.push(toPosix(rel));
  }
  const pathspec = ["--", ":(top)", ...excluded.map((e) => `:(top,exclude,literal)${e}`)];

  const st = git(ctx, ["status", "--porcelain=v1", "-z", "--untracked-files=normal", ...pathspec]);
  if (st.unavailable) return info(st.unavailable, realTop);
  if (!st.ok) return info({ available: false, reason: "git failed", detail: `git status: ${firstLine(st.stderr)}` }, realTop);
  const changes = parsePorcelainZ(st.stdout);

  let base = commit;
  if (base === null) {
    const empty = git(ctx, ["hash-object", "-t", "tree", "--stdin"], { stdio: ["pipe", "pipe", "pipe"], input: "" });
    base = empty.ok ? empty.stdout.trim() : "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
  }
  const diff = diffTo(ctx, ["diff", base, "--no-color", "--no-ext-diff", ...pathspec], diffCap);
  if ("available" in diff) return info(diff, realTop);
  return info({
    available: true,
    toplevel: replaceHome(toplevel),
    commit,
    branch,
    remoteName,
    remoteUrl,
    dirty: changes.length > 0,
    changedFiles: changes.slice(0, MAX_CHANGED_FILES),
    changedFileCount: changes.length,
    excluded,
    diffBytes: diff.bytes,
    diffCap,
    diffTruncated: diff.bytes > diffCap,
    diff: diff.text,
  }, realTop);
}

/**
 * The root a code snapshot is relative to: the git top level of `cwd` when it is in a repository
 * (and git is on PATH), else `cwd` itself; always a real (symlink-free) absolute path.
 *
 * @example
 * ```ts
 * projectRoot(process.cwd()); // "/home/ada/proj" from /home/ada/proj/scripts
 * ```
 */
export function projectRoot(cwd: string, options: Pick<GitOptions, "gitBinary" | "timeoutMs" | "env"> = {}): string {
  const dir = resolve(cwd);
  let root = dir;
  try {
    const r = git(
      { bin: options.gitBinary ?? "git", cwd: dir, timeout: options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS, env: { ...process.env, ...options.env, LC_ALL: "C" } },
      ["rev-parse", "--show-toplevel"],
    );
    if (r.ok && r.stdout.trim()) root = r.stdout.trim();
  } catch {
    /* no git: cwd */
  }
  try {
    return realpathSync(root);
  } catch {
    return root;
  }
}

/**
 * Git state of the directory an experiment runs from, through the git command line (spawnSync, or
 * spawn for the async variants, with an argument list and a timeout, never a shell). Every failure
 * is recorded, never thrown.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from "node:child_process";
import { accessSync, closeSync, constants as fsConstants, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, realpathSync, rmSync, statSync, type Stats } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
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

const GIT_PREFIX = ["-c", "core.quotePath=false", "-c", "color.ui=false"];
/** A timeout timer running this much later than due means the event loop was blocked (see gitAsync). */
const LATE_TIMER_MS = 20;
const MAX_BUFFER = 64 << 20;

/** The result of a spawn error (no git binary, timeout, output too large), as the sync and async runners record it. */
function spawnFailure(ctx: Ctx, args: string[], err: NodeJS.ErrnoException, stderr: string): Result {
  const code = err.code;
  if (code === "ENOENT" || code === "EACCES") {
    return { ok: false, stdout: "", stderr, unavailable: { available: false, reason: "git not found", detail: `${ctx.bin}: ${code}` } };
  }
  const detail = code === "ETIMEDOUT" ? `git ${args[0]} timed out after ${ctx.timeout} ms` : `git ${args[0]}: ${err.message}`;
  return { ok: false, stdout: "", stderr, unavailable: { available: false, reason: "git failed", detail } };
}

function git(ctx: Ctx, args: string[], extra: SpawnSyncOptions = {}): Result {
  const r = spawnSync(ctx.bin, [...GIT_PREFIX, ...args], {
    cwd: ctx.cwd,
    env: ctx.env,
    timeout: ctx.timeout,
    windowsHide: true,
    maxBuffer: MAX_BUFFER,
    stdio: ["ignore", "pipe", "pipe"],
    ...extra,
  });
  const stderr = r.stderr ? r.stderr.toString() : "";
  if (r.error) return spawnFailure(ctx, args, r.error, stderr);
  return { ok: r.status === 0, stdout: r.stdout ? r.stdout.toString() : "", stderr };
}

/**
 * The timeout of an async git child: after `ctx.timeout` ms, `stop` it with ETIMEDOUT unless it
 * has answered (`answered()`) or exited. A timer that fires is not yet a timeout: when the caller
 * blocked the event loop, expired timers run before the child's exit and output are read. So the
 * decision waits for this loop turn's I/O (setImmediate runs after it): no kill when git has
 * exited; and the time the timer fired late (the loop was blocked, git could not be read) is
 * given back to git. `setTimer` receives each timer, for the caller to clear when it settles.
 */
function watchTimeout(ctx: Ctx, child: ChildProcess, answered: () => boolean, stop: (e: NodeJS.ErrnoException) => void, setTimer: (t: NodeJS.Timeout) => void): void {
  if (ctx.timeout <= 0) return;
  const arm = (ms: number): void => {
    const due = performance.now() + ms;
    setTimer(setTimeout(() => {
      setImmediate(() => {
        if (answered() || child.exitCode !== null || child.signalCode !== null) return; // git answered
        const late = performance.now() - due;
        if (late > LATE_TIMER_MS) return arm(late);
        stop(Object.assign(new Error(`spawn ${ctx.bin} ETIMEDOUT`), { code: "ETIMEDOUT" }));
      });
    }, ms));
  };
  arm(ctx.timeout);
}

/**
 * The async twin of {@link git}: same arguments, environment, timeout (SIGTERM, recorded as
 * ETIMEDOUT) and output limit (ENOBUFS). With `keep`, stdout is not limited: only its first
 * `keep` bytes are kept, in `head` instead of `stdout`, and `bytes` counts all of it (for the
 * capped diff). Never rejects.
 */
function gitAsync(ctx: Ctx, args: string[], opts: { input?: string; keep?: number } = {}): Promise<Result & { head: Buffer; bytes: number }> {
  return new Promise((done) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let kept = 0;
    let errBytes = 0;
    let failure: NodeJS.ErrnoException | null = null;
    const finish = (r: Result): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      done({ ...r, head: opts.keep === undefined ? Buffer.alloc(0) : Buffer.concat(out, kept), bytes });
    };
    let child: ChildProcess;
    try {
      child = spawn(ctx.bin, [...GIT_PREFIX, ...args], {
        cwd: ctx.cwd,
        env: ctx.env,
        windowsHide: true,
        stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
    } catch (e) {
      return finish(spawnFailure(ctx, args, e as NodeJS.ErrnoException, ""));
    }
    const stop = (e: NodeJS.ErrnoException): void => {
      failure ??= e;
      child.kill("SIGTERM");
    };
    watchTimeout(ctx, child, () => settled, stop, (t) => (timer = t));
    child.stdout!.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      const room = (opts.keep ?? MAX_BUFFER) - kept;
      if (room > 0) {
        const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
        out.push(part);
        kept += part.length;
      }
      if (opts.keep === undefined && bytes > MAX_BUFFER) stop(Object.assign(new Error(`spawn ${ctx.bin} ENOBUFS`), { code: "ENOBUFS" }));
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      errBytes += chunk.length;
      if (errBytes <= MAX_BUFFER) err.push(chunk);
      else stop(Object.assign(new Error(`spawn ${ctx.bin} ENOBUFS`), { code: "ENOBUFS" }));
    });
    if (child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE when git exits without reading
      child.stdin.end(opts.input);
    }
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (child.pid === undefined) finish(spawnFailure(ctx, args, e, "")); // could not start: no 'close' follows
      else failure ??= e;
    });
    child.on("close", (status) => {
      const stderr = Buffer.concat(err).toString();
      if (failure) return finish(spawnFailure(ctx, args, failure, stderr));
      finish({ ok: status === 0, stdout: opts.keep === undefined ? Buffer.concat(out, kept).toString() : "", stderr });
    });
  });
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

/**
 * Parses `git status --porcelain=v2 --branch -z` output: the entries as {@link parsePorcelainZ}
 * gives them for the v1 format (same order, `.` for "unmodified" written as a space), plus HEAD's
 * commit (`null` before the first commit) and branch (`null` when detached) from the headers.
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
  /** The rest of `entry` after `n` space-separated fields. */
  const after = (entry: string, n: number): string => {
    let at = 0;
    for (let k = 0; k < n; k++) {
      const space = entry.indexOf(" ", at);
      if (space < 0) return "";
      at = space + 1;
    }
    return entry.slice(at);
  };
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
    const change: GitChange = { status: entry.slice(2, 4).replace(/\./g, " "), path: after(entry, fields) };
    if (kind === "2" && i + 1 < parts.length) change.from = parts[++i];
    changes.push(change);
  }
  return { commit, branch, changes };
}

/** The first `min(bytes, cap)` bytes of a diff whose first bytes are in `buf`, never cutting a UTF-8 character. */
function cutDiff(buf: Buffer, bytes: number, cap: number): string {
  let end = Math.min(bytes, cap);
  while (end > 0 && end < bytes && (buf[end] & 0xc0) === 0x80) end--; // never cut a UTF-8 character
  return buf.subarray(0, end).toString("utf8");
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
    return { text: cutDiff(buf, bytes, cap), bytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The async twin of {@link diffTo}: keeps the first `cap + 1` bytes of the piped output and counts the rest. */
async function diffToAsync(ctx: Ctx, args: string[], cap: number): Promise<{ text: string; bytes: number } | GitUnavailable> {
  const r = await gitAsync(ctx, args, { keep: cap + 1 });
  if (r.unavailable) return r.unavailable;
  if (!r.ok) return { available: false, reason: "git failed", detail: `git diff: ${firstLine(r.stderr)}` };
  return { text: cutDiff(r.head, r.bytes, cap), bytes: r.bytes };
}

const SH = "/bin/sh";
let shellUsable: boolean | undefined;

/** Single-quotes `a` for sh. */
function shQuote(a: string): string {
  return `'${a.replace(/'/g, "'\\''")}'`;
}

interface CaptureFiles {
  fds: number[];
  /** Each file's bytes, or null when it holds more than its limit. */
  read(limits: number[]): (Buffer | null)[];
  /** Removes the files from the file system; they stay open (the child holds them once started). */
  unlink(): void;
  /** Closes and removes them. */
  remove(): void;
}

/**
 * Temporary files for a child's output, open for writing and reading. Unlinked as soon as the
 * child has them, so that nothing is left behind when this process ends before the child does.
 */
function captureFiles(names: string[]): CaptureFiles {
  const dir = mkdtempSync(join(tmpdir(), "snn-export-git-"));
  const fds: number[] = [];
  try {
    for (const n of names) fds.push(openSync(join(dir, n), "w+", 0o600));
  } catch (e) {
    for (const fd of fds) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let removed = false;
  let unlinked = false;
  const unlink = (): void => {
    if (unlinked) return;
    unlinked = true;
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    fds,
    unlink,
    read: (limits) => fds.map((fd, i) => {
      const size = fstatSync(fd).size;
      if (size > limits[i]) return null;
      const buf = Buffer.alloc(size);
      let done = 0;
      while (done < size) {
        const n = readSync(fd, buf, done, size - done, done); // from the start: the child moved the shared offset
        if (n === 0) break;
        done += n;
      }
      return buf.subarray(0, done);
    }),
    remove: () => {
      if (removed) return;
      removed = true;
      for (const fd of fds) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
      unlink();
    },
  };
}

/**
 * `git status …` and `git diff …` (the diff capped as {@link diffToAsync} does) from one spawn:
 * `sh -c` starts both at once, status in the background. Node's spawn blocks the event loop for a
 * fork of this whole process (~8–12 ms at the ~70 MB of a benchmark run on a 2-core VM), so one
 * spawn instead of two is that much off `create()`. The results are those of the two separate
 * commands: status stdout and exit code come on fd 3, its stderr on fd 4, the diff on stdout and
 * stderr; an exit of 127/126 is git not found / not executable (ENOENT / EACCES), as spawn
 * reports it. The shell runs in its own process group, which a timeout kills whole. Where there
 * is no /bin/sh (Windows), two spawns.
 *
 * Only the diff's stdout is a pipe (read as it comes, so that a huge diff is cut at the cap);
 * fds 2–4 are temporary files, read once the shell has exited. A pipe costs a socket object and
 * a stream in this process, set up in `create()` and drained in `close()`.
 */
function statusAndDiffAsync(ctx: Ctx, statusArgs: string[], dArgs: string[], cap: number): { status: Promise<Result>; diff: Promise<{ text: string; bytes: number } | GitUnavailable> } {
  shellUsable ??= process.platform !== "win32" && existsSync(SH);
  if (!shellUsable) return { status: gitAsync(ctx, statusArgs), diff: diffToAsync(ctx, dArgs, cap) };
  const cmd = (args: string[]): string => [ctx.bin, ...GIT_PREFIX, ...args].map(shQuote).join(" ");
  const script = `(${cmd(statusArgs)} >&3 2>&4; printf '\\000%d' "$?" >&3) & exec 3>&- 4>&-; exec ${cmd(dArgs)}`;
  let files: CaptureFiles;
  try {
    files = captureFiles(["diff-stderr", "status", "status-stderr"]);
  } catch {
    return { status: gitAsync(ctx, statusArgs), diff: diffToAsync(ctx, dArgs, cap) }; // no temporary directory: two spawns
  }
  const both = new Promise<{ status: Result; diff: { text: string; bytes: number } | GitUnavailable }>((done) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const out: Buffer[] = [];
    let bytes = 0;
    let kept = 0;
    let failure: NodeJS.ErrnoException | null = null;
    const keep = cap + 1;
    const finish = (status: Result, diff: { text: string; bytes: number } | GitUnavailable): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      files.remove();
      done({ status, diff });
    };
    const failBoth = (e: NodeJS.ErrnoException, stderr: string): void => {
      const f = spawnFailure(ctx, statusArgs, e, stderr);
      finish(f, spawnFailure(ctx, dArgs, e, stderr).unavailable!);
    };
    let child: ChildProcess;
    try {
      child = spawn(SH, ["-c", script], { cwd: ctx.cwd, env: ctx.env, windowsHide: true, detached: true, stdio: ["ignore", "pipe", ...files.fds] });
    } catch (e) {
      return failBoth(e as NodeJS.ErrnoException, "");
    }
    files.unlink(); // spawn returns once the shell runs: it holds the files
    const stop = (e: NodeJS.ErrnoException): void => {
      failure ??= e;
      try {
        process.kill(-child.pid!, "SIGTERM"); // the shell and the git it runs
      } catch {
        child.kill("SIGTERM");
      }
    };
    watchTimeout(ctx, child, () => settled, stop, (t) => (timer = t));
    child.stdout!.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      const room = keep - kept;
      if (room > 0) {
        const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
        out.push(part);
        kept += part.length;
      }
    });
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (child.pid === undefined) failBoth(e, ""); // could not start: no 'close' follows
      else failure ??= e;
    });
    child.on("close", (code) => {
      const [diffErrBytes, raw, statusErrBytes] = files.read([MAX_BUFFER, MAX_BUFFER + 16, MAX_BUFFER]);
      if (raw === null || diffErrBytes === null || statusErrBytes === null) failure ??= Object.assign(new Error(`spawn ${ctx.bin} ENOBUFS`), { code: "ENOBUFS" });
      const statusErr = (statusErrBytes ?? Buffer.alloc(0)).toString();
      const diffErr = (diffErrBytes ?? Buffer.alloc(0)).toString();
      const nul = raw === null ? -1 : raw.lastIndexOf(0);
      const trailer = nul < 0 ? "" : raw!.subarray(nul + 1).toString();
      const statusDone = /^[0-9]+$/.test(trailer);
      const notRun = (rc: number, args: string[], stderr: string): Result | null =>
        rc === 127 || rc === 126 ? spawnFailure(ctx, args, Object.assign(new Error(stderr), { code: rc === 127 ? "ENOENT" : "EACCES" }), "") : null;
      let status: Result;
      if (statusDone) {
        const rc = Number(trailer);
        status = notRun(rc, statusArgs, statusErr) ?? { ok: rc === 0, stdout: raw!.subarray(0, nul).toString(), stderr: statusErr };
      } else {
        status = spawnFailure(ctx, statusArgs, failure ?? Object.assign(new Error("git status did not finish"), { code: "EPIPE" }), statusErr);
      }
      let diff: { text: string; bytes: number } | GitUnavailable;
      if (failure || code === null) {
        diff = spawnFailure(ctx, dArgs, failure ?? Object.assign(new Error("git diff did not finish"), { code: "EPIPE" }), diffErr).unavailable!;
      } else {
        const gone = notRun(code, dArgs, diffErr);
        if (gone) diff = gone.unavailable!;
        else if (code !== 0) diff = { available: false, reason: "git failed", detail: `git diff: ${firstLine(diffErr)}` };
        else diff = { text: cutDiff(Buffer.concat(out, kept), bytes, cap), bytes };
      }
      finish(status, diff);
    });
  });
  return { status: both.then((b) => b.status), diff: both.then((b) => b.diff) };
}

function checkCap(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new ValidationError("INVALID_OPTION", `${name} must be a non-negative integer number of bytes, got ${JSON.stringify(v)}`);
  }
  return v;
}

type GitAndRoot = { info: GitInfo; root: string | null };

const result = (x: GitInfo, root: string | null = null): GitAndRoot => ({ info: x, root });

/** Checks the options and the directory: the git context, or the result when `cwd` is no directory. */
function prepare(cwd: string, options: GitOptions): { ctx: Ctx; diffCap: number } | GitAndRoot {
  const diffCap = checkCap(options.diffCap ?? DEFAULT_DIFF_CAP, "git option diffCap");
  const timeout = checkCap(options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS, "git option timeoutMs");
  const dir = resolve(cwd);
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
  } catch {
    return result({ available: false, reason: "not a git repository", detail: `${replaceHome(dir)} is not a directory` });
  }
  return {
    diffCap,
    ctx: {
      bin: options.gitBinary ?? "git",
      cwd: dir,
      timeout,
      env: { ...process.env, ...options.env, GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C", LANGUAGE: "C" },
    },
  };
}

/** What `git rev-parse --show-toplevel` failing means, or null when it worked. */
function topFailure(top: Result): GitUnavailable | null {
  if (top.unavailable) return top.unavailable;
  if (top.ok) return null;
  if (/not a git repository/i.test(top.stderr)) return { available: false, reason: "not a git repository" };
  return { available: false, reason: "git failed", detail: `git rev-parse: ${firstLine(top.stderr)}` };
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

/** The real top level, the excluded paths relative to it, and the pathspec for status and diff. */
function scope(dir: string, toplevel: string, exclude: string[] = []): { realTop: string; excluded: string[]; pathspec: string[] } {
  let realTop = toplevel;
  try {
    realTop = realpathSync(toplevel);
  } catch {
    /* keep git's spelling */
  }
  const excluded: string[] = [];
  for (const p of exclude) {
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
  return { realTop, excluded, pathspec };
}

const STATUS_ARGS = ["status", "--porcelain=v1", "-z", "--untracked-files=normal"];
/** The status of the fast path: v2 also gives HEAD's commit and branch (no ahead/behind count: it can be slow). */
/** True when a git boolean environment variable is set to true (git_env_bool). */
function envTrue(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}

/**
 * @internal What `git config --get-regexp '^remote\..*\.url$'` prints, read from the config files
 * without running git, when that is simple and safe; null (run git) otherwise. Safe: the
 * repository's `.git` is a directory (no linked worktree); git is /usr/bin/git, whose system
 * config is /etc/gitconfig (or GIT_CONFIG_SYSTEM, GIT_CONFIG_NOSYSTEM); no `GIT_CONFIG`; no
 * config file git reads (system, global, the repository's) has an include; the system and global
 * files do not mention remotes. Simple: every line of the repository's config is blank, a
 * comment, a `[section]` or `[section "name"]` header or a `key = value` line, and every remote
 * URL value is plain (no quotes, backslashes or comment characters, no line continuation).
 */
export function readRemotesNow(top: string, env: NodeJS.ProcessEnv, gitBinary = "git"): string | null {
  try {
    const gitDir = join(top, ".git");
    if (!statSync(gitDir).isDirectory() || statOrNull(join(gitDir, "commondir"))) return null;
    if (env.GIT_CONFIG !== undefined) return null;
    const bin = gitBinary.includes("/") ? resolve(top, gitBinary) : (env.PATH ?? "").split(":").map((d) => join(d, gitBinary)).find((p) => statOrNull(p)?.isFile());
    if (!bin || realpathSync(bin) !== "/usr/bin/git") return null;
    const others: string[] = [];
    if (!envTrue(env.GIT_CONFIG_NOSYSTEM)) others.push(env.GIT_CONFIG_SYSTEM ?? "/etc/gitconfig");
    if (env.GIT_CONFIG_GLOBAL !== undefined) others.push(env.GIT_CONFIG_GLOBAL);
    else {
      if (!env.HOME) return null;
      others.push(join(env.XDG_CONFIG_HOME || join(env.HOME, ".config"), "git", "config"), join(env.HOME, ".gitconfig"));
    }
    for (const f of others) {
      if (f === "" || !statOrNull(f)) continue;
      if (/include|remote/i.test(readFileSync(f, "utf8"))) return null;
    }
    const lines: string[] = [];
    let remote: string | null = null;
    for (const raw of readFileSync(join(gitDir, "config"), "utf8").split("\n")) {
      const line = raw.replace(/\r$/, "").trim();
      if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
      if (/include/i.test(line) || line.endsWith("\\")) return null;
      const section = /^\[([A-Za-z0-9.-]+)(?:[ \t]+"([^"\\]*)")?\]$/.exec(line);
      if (section) {
        if (section[1].includes(".")) return null; // the legacy [section.subsection] form
        remote = section[1].toLowerCase() === "remote" && section[2] !== undefined ? section[2] : null;
        continue;
      }
      const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
      if (!kv) return null;
      if (remote === null || kv[1].toLowerCase() !== "url") continue;
      if (kv[2] === undefined) {
        lines.push(`remote.${remote}.url`); // `url` without a value (boolean true): the key alone
        continue;
      }
      const value = kv[2].trim();
      if (/["\\#;]/.test(value)) return null;
      lines.push(`remote.${remote}.url ${value}`);
    }
    return lines.map((l) => l + "\n").join("");
  } catch {
    return null;
  }
}

const STATUS_V2_ARGS = ["status", "--porcelain=v2", "--branch", "--no-ahead-behind", "-z", "--untracked-files=normal"];
const REMOTES_ARGS = ["config", "--get-regexp", "^remote\\..*\\.url$"];
const EMPTY_TREE_ARGS = ["hash-object", "-t", "tree", "--stdin"];
/** The empty tree of SHA-1 repositories, when `git hash-object` cannot tell. */
const EMPTY_TREE_SHA1 = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const diffArgs = (base: string, pathspec: string[]): string[] => ["diff", base, "--no-color", "--no-ext-diff", ...pathspec];

/** The result from the answers of every command (status and diff in the order the sync version asks them). */
function assemble(
  parts: { toplevel: string; realTop: string; excluded: string[]; commit: string | null; branch: string | null; remotes: string; diffCap: number },
  st: Result,
  diff: { text: string; bytes: number } | GitUnavailable,
  parse: (stdout: string) => GitChange[] = parsePorcelainZ,
): GitAndRoot {
  const { toplevel, realTop, excluded, commit, branch, diffCap } = parts;
  if (st.unavailable) return result(st.unavailable, realTop);
  if (!st.ok) return result({ available: false, reason: "git failed", detail: `git status: ${firstLine(st.stderr)}` }, realTop);
  const changes = parse(st.stdout);
  if ("available" in diff) return result(diff, realTop);
  return result({
    available: true,
    toplevel: replaceHome(toplevel),
    commit,
    branch,
    ...parseRemotes(parts.remotes),
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
 * Records the git state of `cwd`: commit, branch, remote URL without credentials, dirty flag,
 * `git status` entries and `git diff HEAD` (capped at `diffCap` bytes, full size recorded). No git
 * binary → `{ available: false, reason: "git not found" }`; outside a repository →
 * `{ available: false, reason: "not a git repository" }`. Never throws for git problems (only
 * for invalid options). {@link captureGitAsync} gives the same result faster.
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

/**
 * {@link captureGit} without blocking: the same result, with independent git commands run
 * concurrently (top level with HEAD, and the branch; then status, diff and remotes). Rejects only
 * for invalid options.
 *
 * @example
 * ```ts
 * const g = await captureGitAsync(process.cwd(), { exclude: ["experiments"] });
 * if (g.available) console.log(g.commit, g.dirty);
 * ```
 */
export async function captureGitAsync(cwd: string, options: GitOptions = {}): Promise<GitInfo> {
  return (await captureGitAndRootAsync(cwd, options)).info;
}

/** @internal {@link captureGit} plus the real top level (null when unavailable), for the snapshot root. */
export function captureGitAndRoot(cwd: string, options: GitOptions = {}): GitAndRoot {
  const prep = prepare(cwd, options);
  if ("info" in prep) return prep;
  const { ctx, diffCap } = prep;
  const top = git(ctx, ["rev-parse", "--show-toplevel"]);
  const failed = topFailure(top);
  if (failed) return result(failed);
  const toplevel = top.stdout.trim();
  const head = git(ctx, ["rev-parse", "--verify", "-q", "HEAD"]);
  const commit = head.ok ? head.stdout.trim() : null;
  const sym = git(ctx, ["symbolic-ref", "--short", "-q", "HEAD"]);
  const branch = sym.ok ? sym.stdout.trim() || null : null;
  const remotes = git(ctx, REMOTES_ARGS).stdout;
  const { realTop, excluded, pathspec } = scope(ctx.cwd, toplevel, options.exclude);
  const parts = { toplevel, realTop, excluded, commit, branch, remotes, diffCap };

  const st = git(ctx, [...STATUS_ARGS, ...pathspec]);
  if (st.unavailable || !st.ok) return assemble(parts, st, { text: "", bytes: 0 });
  let base = commit;
  if (base === null) {
    const empty = git(ctx, EMPTY_TREE_ARGS, { stdio: ["pipe", "pipe", "pipe"], input: "" });
    base = empty.ok ? empty.stdout.trim() : EMPTY_TREE_SHA1;
  }
  return assemble(parts, st, diffTo(ctx, diffArgs(base, pathspec), diffCap));
}

/** @internal {@link captureGitAndRoot} with the git commands run concurrently; see {@link startGitCapture}. */
export async function captureGitAndRootAsync(cwd: string, options: GitOptions = {}): Promise<GitAndRoot> {
  return startGitCapture(cwd, options).result;
}

/** Variables that change how git finds the repository: with one of them set, git is asked first. */
const DISCOVERY_ENV = [
  "GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
  "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
];

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw err;
  }
}

/** What git's is_git_directory() checks: HEAD, and objects/ with refs/ (or a commondir file: a linked worktree). */
function looksLikeGitDir(dir: string): boolean {
  if (!statOrNull(join(dir, "HEAD"))?.isFile()) return false;
  if (statOrNull(join(dir, "commondir"))?.isFile()) return true;
  return !!statOrNull(join(dir, "objects"))?.isDirectory() && !!statOrNull(join(dir, "refs"))?.isDirectory();
}

/** True when the repository's own config files could move the work tree (core.worktree, core.bare, includes). */
function configMovesWorkTree(gitDir: string): boolean {
  const files = [join(gitDir, "config"), join(gitDir, "config.worktree")];
  const common = join(gitDir, "commondir");
  if (statOrNull(common)) files.push(join(resolve(gitDir, readFileSync(common, "utf8").trim()), "config"));
  for (const f of files) {
    if (!statOrNull(f)) continue;
    const text = readFileSync(f, "utf8");
    if (/worktree|\[\s*include/i.test(text)) return true;
    for (const m of text.matchAll(/^[ \t]*bare\b[ \t]*(?:=[ \t]*([^\r\n]*?))?[ \t]*\r?$/gim)) if (m[1]?.toLowerCase() !== "false") return true;
  }
  return false;
}

/** True when `bin` is an executable file, looked up on the PATH git would be started with. */
function findBinary(bin: string, env: NodeJS.ProcessEnv, cwd: string): boolean {
  const ok = (p: string): boolean => {
    try {
      accessSync(p, fsConstants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (bin.includes("/")) return ok(resolve(cwd, bin));
  const dirs = (env.PATH ?? "").split(":");
  if (dirs.length === 0 || dirs.some((d) => d === "" || !isAbsolute(d))) return false; // "" and relative entries: let spawn decide
  return dirs.some((d) => ok(join(d, bin)));
}

/**
 * @internal The repository top level without running git, as git's own discovery finds it in
 * the common layouts: the first directory from `cwd` up with a `.git` (a git directory, or a
 * `gitdir:` file of a linked worktree or submodule); "none" when there is none up to `/`. Null
 * (ask git) whenever git might see it differently or fail: a discovery variable in the
 * environment, a git directory met on the way up (bare repository, inside `.git`), a file system
 * boundary, a directory not owned by this user (git's safe.directory check), a repository config
 * with `worktree`, `bare` or includes, a git binary not found on PATH, Windows.
 */
export function discoverTopLevel(cwd: string, options: Pick<GitOptions, "gitBinary" | "env"> = {}): { top: string } | "none" | null {
  if (process.platform === "win32") return null;
  const env = { ...process.env, ...options.env };
  if (DISCOVERY_ENV.some((k) => env[k] !== undefined)) return null;
  const uid = process.getuid?.();
  try {
    let dir = realpathSync(cwd);
    if (!findBinary(options.gitBinary ?? "git", env, dir)) return null;
    let dev: number | null = null;
    for (;;) {
      const st = statSync(dir);
      if (dev === null) dev = st.dev;
      else if (st.dev !== dev) return null; // git stops at a file system boundary
      const dotGit = join(dir, ".git");
      const g = statOrNull(dotGit);
      if (g) {
        let gitDir = dotGit;
        if (g.isFile()) {
          const m = /^gitdir: (.+?)\r?\n?$/.exec(readFileSync(dotGit, "utf8"));
          if (!m) return null;
          gitDir = resolve(dir, m[1]);
        } else if (!g.isDirectory()) return null;
        if (!looksLikeGitDir(gitDir)) return null; // git would go on looking, or fail
        if (uid !== undefined && [st, g, statSync(gitDir)].some((s) => s.uid !== uid)) return null;
        if (configMovesWorkTree(gitDir)) return null;
        return { top: dir };
      }
      if (looksLikeGitDir(dir)) return null;
      const up = dirname(dir);
      if (up === dir) return "none";
      dir = up;
    }
  } catch {
    return null;
  }
}

/**
 * @internal The async capture. `result` is the whole git state. `root` (the snapshot root: the
 * real top level, null when git found none) is known after the first git command, or at once as
 * `rootNow` (undefined when not).
 *
 * Fast path (see {@link discoverTopLevel}: the top level found without git): two or three
 * commands, all started before this returns, so they record the state at this moment even when
 * the caller then blocks the event loop: `status --porcelain=v2 --branch` (changes, HEAD's commit
 * and branch) and `diff HEAD`, both from one spawn ({@link statusAndDiffAsync}), and `config` for
 * the remotes unless {@link readRemotesNow} could read them from the config files. Only a
 * repository without commits needs two more after the
 * status (`hash-object` for the empty tree, and the diff against it, as the sync capture does).
 *
 * Otherwise (unusual layouts, discovery variables set, no repository found) the commands of
 * {@link captureGitAndRoot} in as few rounds as they allow: `rev-parse --show-toplevel --verify -q
 * HEAD` (one process for the top level and HEAD: a top level that fails prints nothing to stdout
 * and fails exactly as the lone command; no commit exits 1 after printing the top level), with
 * `symbolic-ref` alongside; then status, diff (after `hash-object` when there is no commit) and
 * `config`. One difference in kind: a timeout of that rev-parse also loses the top level.
 *
 * Node's spawn() blocks the event loop until the child has exec'd, so the commands are started
 * critical path first. Throws synchronously for invalid options.
 */
export function startGitCapture(cwd: string, options: GitOptions = {}): { root: Promise<string | null>; rootNow: string | null | undefined; result: Promise<GitAndRoot> } {
  const prep = prepare(cwd, options);
  if ("info" in prep) return { root: Promise.resolve(null), rootNow: null, result: Promise.resolve(prep) };
  const { ctx, diffCap } = prep;
  const found = discoverTopLevel(ctx.cwd, options);
  if (found === null) return { ...askGit(ctx, diffCap, options), rootNow: undefined };
  if (found === "none") return { ...askGit(ctx, diffCap, options), rootNow: null }; // git says why: no repository, no git, ...
  const toplevel = found.top;
  const { realTop, excluded, pathspec } = scope(ctx.cwd, toplevel, options.exclude);
  const { status: st, diff: headDiff } = statusAndDiffAsync(ctx, [...STATUS_V2_ARGS, ...pathspec], diffArgs("HEAD", pathspec), diffCap);
  const remotesNow = readRemotesNow(toplevel, ctx.env, options.gitBinary);
  const rem = remotesNow !== null ? Promise.resolve({ stdout: remotesNow }) : gitAsync(ctx, REMOTES_ARGS);
  const result = (async (): Promise<GitAndRoot> => {
    const [s, d, remotes] = await Promise.all([st, headDiff, rem]);
    const head = s.ok && !s.unavailable ? parsePorcelainV2Z(s.stdout) : { commit: null, branch: null, changes: [] };
    let diff = d;
    if (s.ok && !s.unavailable && head.commit === null) {
      // no commit: `diff HEAD` failed; the diff against the empty tree, as the sync capture takes it
      const empty = await gitAsync(ctx, EMPTY_TREE_ARGS, { input: "" });
      diff = await diffToAsync(ctx, diffArgs(empty.ok ? empty.stdout.trim() : EMPTY_TREE_SHA1, pathspec), diffCap);
    }
    const parts = { toplevel, realTop, excluded, commit: head.commit, branch: head.branch, remotes: remotes.stdout, diffCap };
    return assemble(parts, s, diff, () => head.changes);
  })();
  return { root: Promise.resolve(realTop), rootNow: realTop, result };
}

/** The capture that asks git for the top level first (see {@link startGitCapture}). */
function askGit(ctx: Ctx, diffCap: number, options: GitOptions): { root: Promise<string | null>; result: Promise<GitAndRoot> } {
  const first = gitAsync(ctx, ["rev-parse", "--show-toplevel", "--verify", "-q", "HEAD"]).then((r) => {
    const out = r.stdout.replace(/\r?\n$/, "");
    if (r.unavailable || out.trim() === "") return { failed: topFailure({ ...r, ok: false })! };
    // exit 0: the last line is HEAD; otherwise (no commit) all of it is the top level
    const nl = out.lastIndexOf("\n");
    const withHead = r.ok && nl >= 0;
    const toplevel = (withHead ? out.slice(0, nl) : out).trim();
    const commit = withHead ? out.slice(nl + 1).trim() : null;
    return { failed: null, toplevel, commit, ...scope(ctx.cwd, toplevel, options.exclude) };
  });
  const sym = gitAsync(ctx, ["symbolic-ref", "--short", "-q", "HEAD"]);
  const result = (async (): Promise<GitAndRoot> => {
    const f = await first;
    if (f.failed) {
      await sym; // no child left running
      return { info: f.failed, root: null };
    }
    const { toplevel, commit, realTop, excluded, pathspec } = f;
    const diff = async (): Promise<{ text: string; bytes: number } | GitUnavailable> => {
      let base = commit;
      if (base === null) {
        const empty = await gitAsync(ctx, EMPTY_TREE_ARGS, { input: "" });
        base = empty.ok ? empty.stdout.trim() : EMPTY_TREE_SHA1;
      }
      return diffToAsync(ctx, diffArgs(base, pathspec), diffCap);
    };
    const d = diff();
    const st = gitAsync(ctx, [...STATUS_ARGS, ...pathspec]);
    const rem = gitAsync(ctx, REMOTES_ARGS);
    const [s, branchOut, remotes, dd] = await Promise.all([st, sym, rem, d]);
    const branch = branchOut.ok ? branchOut.stdout.trim() || null : null;
    return assemble({ toplevel, realTop, excluded, commit, branch, remotes: remotes.stdout, diffCap }, s, dd);
  })();
  return { root: first.then((f) => (f.failed ? null : f.realTop)), result };
}

function rootContext(cwd: string, options: Pick<GitOptions, "gitBinary" | "timeoutMs" | "env">): Ctx {
  return {
    bin: options.gitBinary ?? "git",
    cwd: resolve(cwd),
    timeout: options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS,
    env: { ...process.env, ...options.env, LC_ALL: "C" },
  };
}

function realRoot(dir: string, r: Result | null): string {
  const root = r && r.ok && r.stdout.trim() ? r.stdout.trim() : dir;
  try {
    return realpathSync(root);
  } catch {
    return root;
  }
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
  const ctx = rootContext(cwd, options);
  let r: Result | null = null;
  try {
    r = git(ctx, ["rev-parse", "--show-toplevel"]);
  } catch {
    /* no git: cwd */
  }
  return realRoot(ctx.cwd, r);
}

/**
 * @internal {@link projectRoot} without running git, when {@link discoverTopLevel} can tell; null
 * when git has to be asked.
 */
export function projectRootNow(cwd: string, options: Pick<GitOptions, "gitBinary" | "env"> = {}): string | null {
  const dir = resolve(cwd);
  const found = discoverTopLevel(dir, options);
  if (found === null) return null;
  const root = found === "none" ? dir : found.top;
  try {
    return realpathSync(root);
  } catch {
    return root;
  }
}

/**
 * {@link projectRoot} without blocking; the same result.
 *
 * @example
 * ```ts
 * await projectRootAsync(process.cwd()); // "/home/ada/proj" from /home/ada/proj/scripts
 * ```
 */
export async function projectRootAsync(cwd: string, options: Pick<GitOptions, "gitBinary" | "timeoutMs" | "env"> = {}): Promise<string> {
  const ctx = rootContext(cwd, options);
  return realRoot(ctx.cwd, await gitAsync(ctx, ["rev-parse", "--show-toplevel"]));
}

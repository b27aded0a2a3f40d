/**
 * Provenance: runtime capture and the env allow-list, git state in temporary repositories (clean,
 * dirty, capped, excludes, no commits, linked worktree, outside any repository, no git, timeouts),
 * the process runner, the glob matcher, code snapshot caps and root, captureProvenance, and a round
 * trip through a real HDF5 file read back with H5Reader and with h5py.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test, type TestContext } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { engineVersions } from "#lib/h5/wasm/engine.js";
import { VERSION } from "#lib/version.js";
import { H5Reader, H5Writer } from "#lib/h5/index.js";
import { parsePorcelainV2Z, startGitCapture, type GitOptions } from "#lib/provenance/git.js";
import { run } from "#lib/provenance/run.js";
import { fastTimeZoneName, timeZoneName } from "#lib/provenance/runtime.js";
import { isSnnExportError } from "#lib/errors.js";
import { ExperimentLoader } from "#lib/loader/index.js";
import {
  addCodeFiles, captureGit, captureProvenance, captureRuntime, collectCodeSnapshot,
  expandGlob, globMatch, isoWithOffset, projectRoot, readCodeFile, MAX_CHANGED_FILES, readCodeIndex, redactArgv, replaceHome, resolveProvenanceOptions, stripUrlCredentials,
  writeProvenance, type GitState,
} from "#lib/provenance/index.js";
import { skipStructureCheck, tempDir } from "./helpers.js";

const VERSIONS = { snnExport: "0.1.0", h5wasm: "0.10.3", hdf5: "2.0.0" };
/** Keeps the machine's git configuration out of the test repositories. */
const GIT_ENV = { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
const PYTHON = "/usr/bin/python3";

const hasGit = (): boolean => !spawnSync("git", ["--version"]).error;

/** Skips (fails on CI) when `git` is not on PATH. */
function requireGit(t: TestContext): boolean {
  if (hasGit()) return true;
  if (process.env.CI === "true") assert.fail("git is not on PATH on CI");
  t.skip("git is not on PATH");
  return false;
}

function git(dir: string, ...args: string[]): string {
  const cfg = ["-c", "user.email=test@example.com", "-c", "user.name=Test", "-c", "commit.gpgsign=false"];
  return execFileSync("git", [...cfg, ...args], { cwd: dir, env: { ...process.env, ...GIT_ENV }, encoding: "utf8" });
}

/** A repository on branch `main` with `a.txt` committed (unless `commit` is false). */
function makeRepo(t: TestContext, commit = true): string {
  const dir = realpathSync(tempDir(t, "snn-prov-repo-"));
  git(dir, "init", "-q");
  git(dir, "symbolic-ref", "HEAD", "refs/heads/main");
  writeFileSync(join(dir, "a.txt"), "line1\nline2\n");
  if (commit) git(dir, "add", "a.txt"), git(dir, "commit", "-q", "-m", "first");
  return dir;
}

async function withWarnings<T>(fn: () => T | Promise<T>): Promise<{ result: T; warnings: Array<Error & { code?: string }> }> {
  await new Promise((r) => setImmediate(r)); // let warnings of earlier tests go out first
  const warnings: Array<Error & { code?: string }> = [];
  const on = (w: Error): void => void warnings.push(w);
  process.on("warning", on);
  try {
    const result = await fn();
    await new Promise((r) => setImmediate(r));
    return { result, warnings };
  } finally {
    process.off("warning", on);
  }
}

function withEnv(t: TestContext, vars: Record<string, string | undefined>): void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: typeof vars) => Object.entries(v).forEach(([k, x]) => (x === undefined ? delete process.env[k] : (process.env[k] = x)));
  apply(vars);
  t.after(() => apply(saved));
}

// ------------------------------------------------------------------ runtime

test("runtime: versions, hardware, start time with offset and IANA zone", (t) => {
  withEnv(t, { TZ: "Asia/Tokyo" });
  const start = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
  const rt = captureRuntime(VERSIONS, { startTime: start });
  assert.deepEqual(rt.versions, VERSIONS);
  assert.equal(rt.node, process.version);
  assert.ok(rt.cpuCount >= 1 && rt.totalMemoryBytes > 0 && rt.hostname !== "" && rt.cpuModel !== "");
  assert.equal(rt.startTime, "2024-01-02T12:04:05.006+09:00");
  assert.equal(rt.startTimeUtc, "2024-01-02T03:04:05.006Z");
  assert.equal(Date.parse(rt.startTime), start.getTime());
  assert.equal(rt.timeZone, "Asia/Tokyo");
  assert.equal(rt.cwd, replaceHome(process.cwd()));
  process.env.TZ = "America/New_York";
  assert.equal(isoWithOffset(start), "2024-01-01T22:04:05.006-05:00");
  process.env.TZ = "Asia/Kolkata";
  assert.equal(isoWithOffset(start), "2024-01-02T08:34:05.006+05:30");
});

test("runtime: home directory becomes ~, secret flags and URL credentials leave argv", (t) => {
  withEnv(t, { HOME: process.cwd(), USERPROFILE: process.cwd() });
  const rt = captureRuntime(VERSIONS);
  assert.equal(rt.cwd, "~");
  assert.ok(rt.argv.every((a) => !a.startsWith(process.cwd() + "/")), JSON.stringify(rt.argv));
  assert.equal(replaceHome("/home/ada/proj/run.js", "/home/ada"), "~/proj/run.js");
  assert.equal(replaceHome("--out=/home/ada/x:/home/ada", "/home/ada/"), "--out=~/x:~");
  assert.equal(replaceHome("/home/adam/x", "/home/ada"), "/home/adam/x");
  assert.equal(replaceHome("/x", "/"), "/x");
  assert.deepEqual(
    redactArgv(["node", "run.js", "--api-key=abc", "--token", "t0k", "--lr=0.1", "--db", "https://u:p@h/x", "-v"]),
    ["node", "run.js", "--api-key=<redacted>", "--token", "<redacted>", "--lr=0.1", "--db", "https://h/x", "-v"],
  );
});

test("env allow-list: never a KEY/TOKEN/SECRET/PASSWORD variable unless named exactly in extraEnv", (t) => {
  withEnv(t, { MY_API_KEY: "s3cret-key", GITHUB_TOKEN: "s3cret-tok", DB_PASSWORD: "s3cret-pw", SLURM_JOB_ID: "42", SLURM_SECRET: "s3cret-sl", MY_SEED: "7", OMP_NUM_THREADS: "4" });
  const rt = captureRuntime(VERSIONS);
  assert.equal(rt.env.SLURM_JOB_ID, "42");
  assert.equal(rt.env.OMP_NUM_THREADS, "4");
  for (const k of ["MY_API_KEY", "GITHUB_TOKEN", "DB_PASSWORD", "SLURM_SECRET", "MY_SEED"]) assert.ok(!(k in rt.env), k);
  assert.doesNotMatch(JSON.stringify(rt), /s3cret/);
  const viaPattern = captureRuntime(VERSIONS, { extraEnv: ["MY_*"] });
  assert.equal(viaPattern.env.MY_SEED, "7");
  assert.ok(!("MY_API_KEY" in viaPattern.env), "a pattern never lets a secret-like name in");
  const named = captureRuntime(VERSIONS, { extraEnv: ["MY_API_KEY"] });
  assert.equal(named.env.MY_API_KEY, "s3cret-key");
  assert.ok(!("GITHUB_TOKEN" in named.env));
});

// ------------------------------------------------------------------ versions

test("versions: the package's from package.json, h5wasm's from its package.json, HDF5's as built into that h5wasm", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  assert.equal(VERSION, pkg.version);
  const versionJs = readFileSync(new URL(import.meta.resolve("#lib/version.js")), "utf8");
  assert.doesNotMatch(versionJs, /\d+\.\d+\.\d+/, "package.json is the one source of the version");
  const h5wasmDir = join(dirname(fileURLToPath(import.meta.resolve("h5wasm/node"))), "..", "..");
  const installed = JSON.parse(readFileSync(join(h5wasmDir, "package.json"), "utf8")) as { version: string };
  assert.equal(engineVersions().h5wasm, installed.version);
  const built = /HDF5 library version: (\d+\.\d+\.\d+)/.exec(readFileSync(join(h5wasmDir, "dist", "node", "hdf5_util.js"), "latin1"));
  assert.equal(engineVersions().hdf5, built?.[1], "the HDF5 in the installed h5wasm: update HDF5_IN_H5WASM in src/h5/wasm/engine.ts");
});

// ------------------------------------------------------------------ git

const REAL_GIT = hasGit() ? execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim() : "git";

/** Blocks the event loop (the user's synchronous training loop) for `ms`. */
function blockLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** `git diff <base>` of `dir` as the test's own git prints it (the whole diff, as bytes; paths not quoted). */
function fullDiff(dir: string, base = "HEAD"): Buffer {
  return execFileSync("git", ["-c", "core.quotePath=false", "diff", base, "--no-color", "--no-ext-diff"], { cwd: dir, env: { ...process.env, ...GIT_ENV } });
}

/** The recorded diff is the first ≤ cap bytes of `full`, cut before a UTF-8 character, and says how much there was. */
function assertCapped(g: GitState, full: Buffer, cap: number, what: string): void {
  let end = Math.min(cap, full.length);
  while (end < full.length && end > 0 && (full[end] & 0xc0) === 0x80) end--;
  assert.equal(g.diff, full.subarray(0, end).toString("utf8"), what);
  assert.deepEqual([g.diffBytes, g.diffCap, g.diffTruncated], [full.length, cap, full.length > cap], what);
  assert.ok(Buffer.byteLength(g.diff!) <= cap && Math.min(cap, full.length) - Buffer.byteLength(g.diff!) < 4, `${what}: cut at most 3 bytes early`);
}

test("git: clean repository, remote credentials stripped, the same from a subdirectory", async (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  git(dir, "remote", "add", "upstream", "https://ada:ghp_T0KEN@example.com/lab/up.git");
  git(dir, "remote", "add", "origin", "https://ada:ghp_T0KEN@example.com/lab/snn.git");
  const g = await captureGit(dir, { env: GIT_ENV });
  assert.ok(g.available, JSON.stringify(g));
  assert.deepEqual(Object.keys(g), [
    "available", "toplevel", "commit", "branch", "remoteName", "remoteUrl", "dirty", "changedFiles", "changedFileCount", "excluded",
    "diffBytes", "diffCap", "diffTruncated", "diff",
  ], "the key order of metadata/git");
  assert.equal(g.commit, git(dir, "rev-parse", "HEAD").trim());
  assert.equal(g.branch, "main");
  assert.equal(g.toplevel, replaceHome(dir));
  assert.equal(g.remoteName, "origin", "origin, although another remote came first");
  assert.equal(g.remoteUrl, "https://example.com/lab/snn.git");
  assert.equal(g.dirty, false);
  assert.deepEqual([g.changedFiles, g.changedFileCount, g.excluded], [[], 0, []]);
  assert.deepEqual([g.diff, g.diffBytes, g.diffTruncated, g.diffCap], ["", 0, false, 1 << 20]);
  assert.doesNotMatch(JSON.stringify(g), /T0KEN|ada@/);
  mkdirSync(join(dir, "sub"));
  assert.deepEqual(await captureGit(join(dir, "sub"), { env: GIT_ENV }), g);
  git(dir, "remote", "remove", "origin");
  const first = await captureGit(dir, { env: GIT_ENV });
  assert.deepEqual(first.available && [first.remoteName, first.remoteUrl], ["upstream", "https://example.com/lab/up.git"], "no origin: the first remote");
  git(dir, "checkout", "-q", "--detach");
  const detached = await captureGit(dir, { env: GIT_ENV });
  assert.deepEqual(detached.available && [detached.branch, detached.commit], [null, g.commit]);
});

test("remote URLs: credentials removed, scp-style kept", () => {
  for (const [url, want] of [
    ["https://user:token@host/x", "https://host/x"], ["https://user@host/x.git", "https://host/x.git"], ["http://a:b@host:8080/x", "http://host:8080/x"],
    ["https://host/x", "https://host/x"], ["git@github.com:lab/snn.git", "git@github.com:lab/snn.git"], ["ssh://git:pw@host/x", "ssh://git@host/x"],
  ]) assert.equal(stripUrlCredentials(url), want, url);
});

test("git: dirty repository lists changed files and the diff; the cap truncates on a character boundary", async (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  git(dir, "remote", "add", "origin", "git@github.com:lab/snn.git");
  writeFileSync(join(dir, "a.txt"), "line1\nchanged é\n");
  writeFileSync(join(dir, "b.txt"), "staged\n");
  git(dir, "add", "b.txt");
  writeFileSync(join(dir, "c d.txt"), "untracked\n");
  const g = await captureGit(dir, { env: GIT_ENV }) as GitState;
  assert.ok(g.available);
  assert.equal(g.remoteUrl, "git@github.com:lab/snn.git");
  assert.equal(g.dirty, true);
  assert.deepEqual(g.changedFiles, [{ status: " M", path: "a.txt" }, { status: "A ", path: "b.txt" }, { status: "??", path: "c d.txt" }]);
  assert.equal(g.changedFileCount, 3);
  assert.match(g.diff!, /^-line2$/m);
  assert.match(g.diff!, /^\+changed é$/m);
  assert.match(g.diff!, /^\+staged$/m);
  const full = fullDiff(dir);
  assertCapped(g, full, 1 << 20, "no cut");
  const at = full.indexOf(Buffer.from("é"));
  for (const cap of [0, 1, 10, at, at + 1, at + 2, full.length - 1, full.length, full.length + 1]) {
    assertCapped(await captureGit(dir, { env: GIT_ENV, diffCap: cap }) as GitState, full, cap, `cap ${cap}`);
  }
  git(dir, "mv", "a.txt", "renamed é.txt");
  const moved = await captureGit(dir, { env: GIT_ENV }) as GitState;
  assert.deepEqual(moved.changedFiles.find((c) => c.from !== undefined), { status: "RM", path: "renamed é.txt", from: "a.txt" }, "a rename is listed with its origin");
  // a diff of many pipe chunks, multi-byte throughout: cut where the chunks meet
  writeFileSync(join(dir, "b.txt"), "é€𝄞 ".repeat(40_000) + "\n");
  const big = fullDiff(dir);
  assert.ok(big.length > 400_000);
  for (const cap of [65_535, 65_536, 65_537, 131_073, 200_001, big.length - 2]) {
    assertCapped(await captureGit(dir, { env: GIT_ENV, diffCap: cap }) as GitState, big, cap, `big diff, cap ${cap}`);
  }
});

test("git: more changed files than MAX_CHANGED_FILES are counted, the list is cut", async (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  const n = MAX_CHANGED_FILES + 5;
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `f${String(i).padStart(5, "0")}.txt`), "x");
  const g = await captureGit(dir, { env: GIT_ENV }) as GitState;
  assert.equal(g.changedFileCount, n);
  assert.equal(g.changedFiles.length, MAX_CHANGED_FILES);
  assert.deepEqual(g.changedFiles[0], { status: "??", path: "f00000.txt" });
});

test("git: the excluded output directory does not make the tree dirty nor enter the diff", async (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  const out = join(dir, "experiments", "run_1", "experiment_data.h5");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, "x");
  skipStructureCheck(out, "a stand-in output file (not HDF5) for the git exclude");
  const all = await captureGit(dir, { env: GIT_ENV }) as GitState;
  assert.deepEqual([all.dirty, all.changedFiles], [true, [{ status: "??", path: "experiments/" }]]);
  for (const exclude of [["experiments"], [join(dir, "experiments")], ["experiments/run_1", "not-yet"]]) {
    const g = await captureGit(dir, { env: GIT_ENV, exclude }) as GitState;
    assert.deepEqual([g.dirty, g.changedFiles, g.excluded], [false, [], exclude.includes("not-yet") ? ["experiments/run_1", "not-yet"] : ["experiments"]], JSON.stringify(exclude));
  }
  mkdirSync(join(dir, "sub"));
  const fromSub = await captureGit(join(dir, "sub"), { env: GIT_ENV, exclude: ["../experiments"] }) as GitState;
  assert.deepEqual([fromSub.dirty, fromSub.excluded], [false, ["experiments"]], "relative to cwd, recorded relative to the top level");
  const outside = await captureGit(dir, { env: GIT_ENV, exclude: [realpathSync(tempDir(t, "snn-prov-out-"))] }) as GitState;
  assert.deepEqual([outside.dirty, outside.excluded], [true, []], "a directory outside the repository is not an exclude");
  // a tracked, changed file in the output directory: out of the diff too
  git(dir, "add", "-f", out);
  git(dir, "commit", "-q", "-m", "output");
  writeFileSync(out, "y");
  const tracked = await captureGit(dir, { env: GIT_ENV, exclude: ["experiments"] }) as GitState;
  assert.deepEqual([tracked.dirty, tracked.diff, tracked.diffBytes], [false, "", 0]);
  assert.match((await captureGit(dir, { env: GIT_ENV }) as GitState).diff!, /experiment_data\.h5/);
});

test("git: a repository without commits is diffed against the empty tree", async (t) => {
  if (!requireGit(t)) return;
  const fresh = makeRepo(t, false);
  const f = await captureGit(fresh, { env: GIT_ENV }) as GitState;
  assert.deepEqual([f.available, f.commit, f.branch, f.dirty, f.diff], [true, null, "main", true, ""]);
  assert.deepEqual(f.changedFiles, [{ status: "??", path: "a.txt" }]);
  git(fresh, "add", "a.txt");
  const staged = await captureGit(fresh, { env: GIT_ENV }) as GitState;
  assert.deepEqual(staged.changedFiles, [{ status: "A ", path: "a.txt" }]);
  assert.match(staged.diff!, /^\+line1\n\+line2$/m);
  const emptyTree = git(fresh, "hash-object", "-t", "tree", "/dev/null").trim();
  assertCapped(staged, fullDiff(fresh, emptyTree), 1 << 20, "against the empty tree");
  assertCapped(await captureGit(fresh, { env: GIT_ENV, diffCap: 5 }) as GitState, fullDiff(fresh, emptyTree), 5, "capped");
});

test("git: a linked worktree is recorded as its own working tree", async (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  git(dir, "remote", "add", "origin", "https://u:secret@example.com/lab/snn.git");
  writeFileSync(join(dir, "a.txt"), "changed in the main tree\n");
  const wt = join(realpathSync(tempDir(t, "snn-prov-wt-")), "wt");
  git(dir, "worktree", "add", "-q", "-b", "side", wt);
  writeFileSync(join(wt, "a.txt"), "in the worktree\n");
  const w = await captureGit(wt, { env: GIT_ENV }) as GitState;
  assert.deepEqual([w.toplevel, w.branch, w.commit, w.dirty, w.remoteName, w.remoteUrl], [replaceHome(wt), "side", git(dir, "rev-parse", "HEAD").trim(), true, "origin", "https://example.com/lab/snn.git"]);
  assert.deepEqual(w.changedFiles, [{ status: " M", path: "a.txt" }]);
  assert.match(w.diff!, /^\+in the worktree$/m);
  assert.equal(await projectRoot(join(wt)), wt);
});

test("git: outside any repository, inside .git, no git binary, not a directory: recorded, never thrown", async (t) => {
  const dir = realpathSync(tempDir(t, "snn-prov-norepo-"));
  const ceiling = { ...GIT_ENV, GIT_CEILING_DIRECTORIES: dirname(dir) };
  if (hasGit()) {
    assert.deepEqual(await captureGit(dir, { env: ceiling }), { available: false, reason: "not a git repository" });
    assert.equal(await projectRoot(dir, { env: ceiling }), dir);
    const repo = makeRepo(t);
    const inGitDir = await captureGit(join(repo, ".git"), { env: GIT_ENV });
    assert.deepEqual(inGitDir, { available: false, reason: "git failed", detail: "git status: fatal: this operation must be run in a work tree" }); // the top level above .git is found without git; status says why
    // a newline in the top level's name
    const odd = join(dir, "odd\nname");
    mkdirSync(odd);
    git(odd, "init", "-q");
    const o = await captureGit(odd, { env: GIT_ENV });
    assert.equal(o.available && o.toplevel, replaceHome(odd));
    assert.equal(await projectRoot(odd, { env: GIT_ENV }), odd);
  }
  const missing = await captureGit(dir, { gitBinary: join(dir, "no-such-git") });
  assert.deepEqual(missing, { available: false, reason: "git not found", detail: `${join(dir, "no-such-git")}: ENOENT` });
  writeFileSync(join(dir, "not-executable"), "#!/bin/sh\n");
  assert.deepEqual(await captureGit(dir, { gitBinary: join(dir, "not-executable") }), { available: false, reason: "git not found", detail: `${join(dir, "not-executable")}: EACCES` });
  const gone = await captureGit(join(dir, "does-not-exist"));
  assert.deepEqual(gone, { available: false, reason: "not a git repository", detail: `${replaceHome(join(dir, "does-not-exist"))} is not a directory` });
  assert.equal(await projectRoot(dir, { gitBinary: join(dir, "no-such-git") }), dir);
  assert.equal(await projectRoot(join(dir, "does-not-exist")), join(dir, "does-not-exist"));
  for (const bad of [{ diffCap: -1 }, { diffCap: 1.5 }, { timeoutMs: 1.5 }, { timeoutMs: "9" }] as GitOptions[]) {
    await assert.rejects(captureGit(dir, bad), (e: unknown) => isSnnExportError(e, "INVALID_OPTION"), JSON.stringify(bad));
  }
});

test("git: PATH without git in a child process gives { available: false, reason: 'git not found' }", (t) => {
  const dir = tempDir(t, "snn-prov-nopath-");
  const mod = import.meta.resolve("#lib/provenance/index.js");
  const script = `import { captureProvenance } from ${JSON.stringify(mod)};
    const p = await captureProvenance(${JSON.stringify(VERSIONS)}, {}, { cwd: process.cwd() });
    const off = await captureProvenance(${JSON.stringify(VERSIONS)}, { git: false }, { cwd: process.cwd() });
    console.log(JSON.stringify({ git: p.git, root: p.code.root, node: p.runtime.node, offRoot: off.code.root }));`;
  const r = spawnSync(process.execPath, ["--no-warnings", "--input-type=module", "-e", script], { cwd: dir, env: { PATH: "" }, encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.git, { available: false, reason: "git not found", detail: "git: ENOENT" });
  assert.deepEqual([out.root, out.offRoot], [realpathSync(dir), realpathSync(dir)]);
  assert.equal(out.node, process.version);
});

test("git: a command over its timeout is stopped and recorded, also when the loop was blocked", { timeout: 120_000 }, async (t) => {
  if (process.platform === "win32") return t.skip("uses a shell script as the git binary");
  const dir = realpathSync(tempDir(t, "snn-prov-slow-"));
  const slow = join(dir, "slow-git");
  // a git that answers only after 10 minutes: returning at all (within the test's timeout) is
  // giving up at the timeout; no wall-clock threshold
  writeFileSync(slow, "#!/bin/sh\nexec sleep 600\n", { mode: 0o755 });
  assert.deepEqual(await captureGit(dir, { gitBinary: slow, timeoutMs: 200 }), { available: false, reason: "git failed", detail: "git rev-parse timed out after 200 ms" });
  const hung = captureGit(dir, { gitBinary: slow, timeoutMs: 200 });
  blockLoop(500);
  assert.deepEqual(await hung, { available: false, reason: "git failed", detail: "git rev-parse timed out after 200 ms" });
  assert.equal(await projectRoot(dir, { gitBinary: slow, timeoutMs: 200 }), dir);
});

test("git: a loop blocked longer than the timeout still gets git's real answer (no spurious timeout)", { timeout: 120_000 }, async (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  // a diff larger than the stdout pipe's buffer: git waits for the blocked loop to read it
  writeFileSync(join(dir, "a.txt"), "line1\n" + "x".repeat(3_000_000) + "\n");
  writeFileSync(join(dir, "b.txt"), "untracked\n");
  const expected = await captureGit(dir, { env: GIT_ENV });
  assert.ok(expected.available && expected.diffBytes > 3_000_000);
  // far over the timeout, and over it by less. The timeout is generous (1.5 s): git must still
  // finish its 3 MB diff within it once the loop runs, also on a loaded machine
  for (const block of [4000, 2000]) {
    const { root, result } = startGitCapture(dir, { env: GIT_ENV, timeoutMs: 1500 });
    await root; // every command started
    blockLoop(block);
    assert.deepEqual(await result, expected, `loop blocked ${block} ms`);
  }
});

for (const [layout, extraEnv, expectedCommands] of [
  ["plain layout: the top level found without git, status, diff and config started at once", {}, ["config", "diff", "status"]],
  ["a discovery variable set: git is asked for the top level first", { GIT_CEILING_DIRECTORIES: "/nonexistent" }, ["config", "diff", "rev-parse", "status"]],
] as const) {
  test(`git: every command has started when the root is known, so the state of that moment is recorded however late the result is awaited (${layout})`, async (t) => {
    if (!requireGit(t) || process.platform === "win32") return;
    const dir = makeRepo(t);
    git(dir, "remote", "add", "origin", "https://example.com/lab/snn.git");
    writeFileSync(join(dir, "a.txt"), "line1\nchanged\n");
    const tools = realpathSync(tempDir(t, "snn-prov-counting-"));
    const log = join(tools, "calls.log");
    const counting = join(tools, "git");
    writeFileSync(counting, `#!/bin/sh\n"${REAL_GIT}" "$@"\nrc=$?\necho "$*" >> "${log}"\nexit $rc\n`, { mode: 0o755 });
    const env = { ...GIT_ENV, ...extraEnv };
    const expected = await captureGit(dir, { env });
    const calls = (): string[] => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);

    const { root, result } = startGitCapture(dir, { env, gitBinary: counting });
    assert.equal(await root, dir);
    // the user's loop runs without yielding: wait (synchronously) until the started commands end
    const deadline = Date.now() + 20_000; // a timeout, not a threshold: the loop ends as soon as they have
    while (calls().length < expectedCommands.length && Date.now() < deadline) blockLoop(20);
    // ... and then the working tree changes, before the capture's promise had a chance to run
    writeFileSync(join(dir, "a.txt"), "changed later\n");
    writeFileSync(join(dir, "later.txt"), "x\n");
    assert.deepEqual(await result, expected);
    const commands = calls().map((c) => c.split(" ").find((a, i, all) => i > 0 && all[i - 1] !== "-c" && a !== "-c"));
    assert.deepEqual(commands.sort(), [...expectedCommands]);
  });
}

test("porcelain v2: entries as git status --porcelain writes them, with HEAD's commit and branch", () => {
  const oid = "0123456789abcdef0123456789abcdef01234567";
  const h = `100644 100644 100644 ${oid} ${oid}`;
  const out = [
    `# branch.oid ${oid}`, "# branch.head feature/x y", "# branch.upstream origin/x", "# branch.ab +? -?",
    `1 .M N... ${h} a b.txt`, `1 A. N... 000000 100644 100644 ${"0".repeat(40)} ${oid} new.ts`,
    `2 R. N... ${h} R100 renamed é.txt`, "old name.txt", `u UU N... 100644 100644 100644 100644 ${oid} ${oid} ${oid} both.ts`,
    "? c d.txt", "? dir/", "",
  ].join("\0");
  assert.deepEqual(parsePorcelainV2Z(out), {
    commit: oid, branch: "feature/x y",
    changes: [
      { status: " M", path: "a b.txt" }, { status: "A ", path: "new.ts" }, { status: "R ", path: "renamed é.txt", from: "old name.txt" },
      { status: "UU", path: "both.ts" }, { status: "??", path: "c d.txt" }, { status: "??", path: "dir/" },
    ],
  });
  assert.deepEqual(parsePorcelainV2Z("# branch.oid (initial)\0# branch.head main\0"), { commit: null, branch: "main", changes: [] });
  assert.deepEqual(parsePorcelainV2Z(`# branch.oid ${oid}\0# branch.head (detached)\0`), { commit: oid, branch: null, changes: [] });
});

// ------------------------------------------------------------------ the process runner

test("run: exit code, stdout kept up to its cap and counted in full, stderr capped, stdin, never rejects", async (t) => {
  if (process.platform === "win32") return t.skip("uses sh");
  const dir = realpathSync(tempDir(t, "snn-prov-run-"));
  const r = await run("sh", ["-c", "head -c 100000 /dev/zero | tr '\\0' a; printf 'é%.0s' $(seq 1 10) >&2; exit 3"], { cwd: dir, timeoutMs: 0, stdoutCap: 1000, stderrCap: 7 });
  assert.deepEqual([r.status, r.error, r.stdout.toString(), r.stdoutBytes], [3, null, "a".repeat(1000), 100_000]);
  assert.equal(r.stderr, Buffer.from("é".repeat(10)).subarray(0, 7).toString(), "the first 7 bytes of stderr");
  const echo = await run("sh", ["-c", "cat; pwd"], { cwd: dir, timeoutMs: 0, input: "from stdin\n" });
  assert.equal(echo.stdout.toString(), `from stdin\n${dir}\n`);
  const env = await run("sh", ["-c", "echo $X"], { cwd: dir, timeoutMs: 0, env: { PATH: process.env.PATH, X: "set" } });
  assert.equal(env.stdout.toString(), "set\n");
  const missing = await run(join(dir, "nope"), [], { cwd: dir, timeoutMs: 0 });
  assert.deepEqual([missing.status, missing.error?.code], [null, "ENOENT"]);
  const slow = await run("sh", ["-c", "sleep 600 & sleep 600"], { cwd: dir, timeoutMs: 100 });
  assert.deepEqual([slow.status, slow.error], [null, { code: "ETIMEDOUT", message: "timed out after 100 ms" }], "a grandchild holding the pipes does not hold the result");
});

// ------------------------------------------------------------------ time zone

test("time zone: the value Intl gives, without Intl where the zone is a canonical name", (t) => {
  const intl = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || "unknown";
  const saved = process.env.TZ;
  t.after(() => (saved === undefined ? delete process.env.TZ : (process.env.TZ = saved)));
  const cases: Array<[string | undefined, boolean]> = [
    ["Europe/Berlin", true], ["Asia/Tokyo", true], ["UTC", true], ["Etc/UTC", true], ["GMT", true], [":Europe/Berlin", true],
    ["America/Argentina/Buenos_Aires", false], ["Asia/Kolkata", false], ["EST5EDT", false], ["Etc/GMT+5", false], ["Foo/Bar", false], ["", false],
  ];
  let localtime: string | null = null;
  try {
    localtime = readlinkSync("/etc/localtime");
  } catch {
    /* no link: Intl decides */
  }
  cases.push([undefined, localtime !== null && fastTimeZoneName({}) !== null]);
  for (const [tz, fast] of cases) {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
    assert.equal(timeZoneName(), intl(), `TZ=${tz}`);
    assert.equal(fastTimeZoneName() !== null, fast, `TZ=${tz}: fast path`);
    if (fast) assert.equal(fastTimeZoneName(), intl(), `TZ=${tz}`);
  }
  if (localtime?.includes("/zoneinfo/")) {
    delete process.env.TZ;
    assert.equal(fastTimeZoneName(), intl(), `/etc/localtime -> ${localtime}`);
  }
});

// ------------------------------------------------------------------ globs and snapshot

test("glob matcher: *, ?, ** without dot files or node_modules", (t) => {
  assert.ok(globMatch("src/**/*.ts", "src/a/b/c.ts") && globMatch("src/**/*.ts", "src/c.ts") && !globMatch("src/*.ts", "src/a/c.ts"));
  assert.ok(globMatch("src/?.ts", "src/a.ts") && !globMatch("src/?.ts", "src/ab.ts"));
  assert.ok(!globMatch("*.ts", ".hidden.ts") && globMatch(".*.ts", ".hidden.ts"));
  const dir = realpathSync(tempDir(t, "snn-prov-glob-"));
  for (const f of ["top.ts", "src/a.ts", "src/lib/b.ts", "src/lib/c.js", "src/.hidden.ts", "node_modules/x/y.ts", "src/(x)+.ts"]) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), f);
  }
  const rel = (pattern: string) => expandGlob(pattern, dir).map((p) => relative(dir, p));
  assert.deepEqual(rel("src/**/*.ts"), ["src/(x)+.ts", "src/a.ts", "src/lib/b.ts"]);
  assert.deepEqual(rel("**/*.ts"), ["src/(x)+.ts", "src/a.ts", "src/lib/b.ts", "top.ts"]);
  assert.deepEqual(rel("src/?.ts"), ["src/a.ts"]);
  assert.deepEqual(rel("node_modules/**/*.ts"), ["node_modules/x/y.ts"]);
  assert.deepEqual(rel(join(dir, "src/lib/*")), ["src/lib/b.ts", "src/lib/c.js"]);
});

test("snapshot: the entry script is included by default, relative to the root; the root is required", async () => {
  const root = await projectRoot(process.cwd());
  const snap = collectCodeSnapshot([], { root });
  assert.equal(snap.root, root);
  assert.deepEqual(snap.files.map((f) => [f.path, f.stored]), [[relative(snap.root, realpathSync(process.argv[1])).split("\\").join("/"), true]]);
  assert.equal(collectCodeSnapshot([], { root, includeEntry: false }).files.length, 0);
  for (const bad of [undefined, {}, { root: "" }, { root: 1 }]) {
    assert.throws(() => collectCodeSnapshot([], bad as never), (e: unknown) => isSnnExportError(e, "INVALID_OPTION") && /root/.test(e.message), JSON.stringify(bad));
  }
});

test("snapshot: size caps skip with a recorded reason and a warning", async (t) => {
  const dir = realpathSync(tempDir(t, "snn-prov-cap-"));
  writeFileSync(join(dir, "big.bin"), Buffer.alloc(200, 1));
  for (const n of ["x1.ts", "x2.ts", "x3.ts"]) writeFileSync(join(dir, n), "y".repeat(60));
  const { result, warnings } = await withWarnings(() =>
    collectCodeSnapshot(["big.bin", "x*.ts", "missing.ts", "none/**/*.py"], { root: dir, cwd: dir, fileCap: 100, totalCap: 150, includeEntry: false }));
  const by = Object.fromEntries(result.files.map((f) => [f.path, f]));
  assert.deepEqual(Object.keys(by), ["big.bin", "x1.ts", "x2.ts", "x3.ts", "missing.ts", "none/**/*.py"]);
  assert.deepEqual([by["big.bin"].stored, by["big.bin"].size], [false, 200]);
  assert.match(by["big.bin"].reason!, /per-file cap of 100 bytes/);
  assert.ok(by["x1.ts"].stored && by["x2.ts"].stored);
  assert.match(by["x3.ts"].reason!, /total cap of 150 bytes/);
  assert.match(by["missing.ts"].reason!, /not found/);
  assert.match(by["none/**/*.py"].reason!, /no file matches/);
  assert.deepEqual(warnings.map((w) => w.code), ["SNN_EXPORT_SNAPSHOT"]);
  assert.match(warnings[0].message, /4 files not stored: big\.bin \(larger than the per-file cap/);
});

test("snapshot: a file outside the root (also through a symlink) is skipped with a reason", async (t) => {
  const dir = realpathSync(tempDir(t, "snn-prov-root-"));
  [join(dir, "proj"), join(dir, "other")].forEach((d) => mkdirSync(d));
  writeFileSync(join(dir, "other", "x.ts"), "outside");
  writeFileSync(join(dir, "proj", "in.ts"), "inside");
  symlinkSync(join(dir, "other", "x.ts"), join(dir, "proj", "link.ts"));
  const { result, warnings } = await withWarnings(() =>
    collectCodeSnapshot(["../other/x.ts", "in.ts", "link.ts"], { root: join(dir, "proj"), cwd: join(dir, "proj"), includeEntry: false }));
  assert.equal(result.files.length, 2, "the symlink resolves to the same outside file, listed once");
  assert.deepEqual([result.files[0].stored, result.files[0].path], [false, replaceHome(join(dir, "other", "x.ts"))]);
  assert.match(result.files[0].reason!, /outside the project root/);
  assert.deepEqual([result.files[1].path, result.files[1].stored], ["in.ts", true]);
  assert.deepEqual(warnings.map((w) => /outside the project root/.test(w.message)), [true]);
});

// ------------------------------------------------------------------ HDF5 round trip

async function writeExample(t: TestContext, asExperiment = false): Promise<{ file: string; texts: Record<string, string> }> {
  const dir = realpathSync(tempDir(t, "snn-prov-h5-"));
  const texts: Record<string, string> = { "src/train.ts": "export const lr = 0.01; // ünïcødé ✓\n".repeat(50), "src/empty.ts": "", "cfg.yaml": "n: 3\n" };
  for (const [p, text] of Object.entries(texts)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  writeFileSync(join(dir, "huge.dat"), Buffer.alloc(5000));
  let gitInfo = await captureGit(dir, { gitBinary: join(dir, "no-git") });
  if (hasGit()) {
    git(dir, "init", "-q");
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", "init");
  }
  writeFileSync(join(dir, "cfg.yaml"), "n: 4\n");
  if (hasGit()) gitInfo = await captureGit(dir, { env: GIT_ENV });
  const code = collectCodeSnapshot(["src/**/*.ts", "huge.dat"], { root: dir, cwd: dir, fileCap: 4096, includeEntry: false });
  const file = join(dir, "out.h5");
  const w = await H5Writer.create(file);
  if (asExperiment) {
    w.setAttr("/", "format_name", "snn-export");
    w.setAttr("/", "format_version", "1.0");
  }
  writeProvenance(w, { runtime: captureRuntime(VERSIONS), git: gitInfo, code }, { kind: "gzip", level: 4 });
  const added = addCodeFiles(w, ["cfg.yaml"], { cwd: dir });
  assert.deepEqual(added.map((e) => [e.path, e.dataset]), [["cfg.yaml", "file_0002"]]);
  texts["cfg.yaml"] = "n: 4\n";
  w.close();
  return { file, texts };
}

test("HDF5 round trip: metadata/runtime, git, git_diff and code_snapshot read back with H5Reader", async (t) => {
  const { file, texts } = await writeExample(t);
  const r = await H5Reader.open(file);
  t.after(() => r.close());
  const runtime = JSON.parse(r.readText("metadata/runtime"));
  assert.deepEqual(runtime.versions, VERSIONS);
  const g = JSON.parse(r.readText("metadata/git"));
  assert.ok(!("diff" in g));
  if (g.available) {
    assert.equal(g.dirty, true);
    assert.match(r.readText("metadata/git_diff"), /^\+n: 4$/m);
  } else assert.equal(r.kind("metadata/git_diff"), null);
  const index = readCodeIndex(r);
  assert.deepEqual(index.map((e) => [e.path, e.stored, e.dataset ?? null]), [
    ["src/empty.ts", true, "file_0000"], ["src/train.ts", true, "file_0001"], ["huge.dat", false, null], ["cfg.yaml", true, "file_0002"],
  ]);
  assert.match(index[2].reason!, /per-file cap of 4096/);
  for (const [p, text] of Object.entries(texts)) assert.equal(readCodeFile(r, p), text);
  assert.equal(readCodeFile(r, "./src/train.ts"), texts["src/train.ts"]);
  const attrs = r.attrs("metadata/code_snapshot/file_0001");
  assert.deepEqual([attrs.path, attrs.encoding, Number(attrs.size)], ["src/train.ts", "gzip", Buffer.byteLength(texts["src/train.ts"])]);
  assert.deepEqual([r.info("metadata/code_snapshot/file_0001").dtype, r.info("metadata/code_snapshot/file_0001").filters], ["uint8", ["deflate"]]);
  assert.throws(() => readCodeFile(r, "huge.dat"), (e: unknown) => isSnnExportError(e, "NOT_FOUND") && /not stored: larger than/.test(e.message));
  assert.throws(() => readCodeFile(r, "nope.ts"), (e: unknown) => isSnnExportError(e, "NOT_FOUND") && /stored: src\/empty\.ts/.test(e.message));
});

test("the loader's getMetadata() already shows metadata/runtime, git and git_diff", async (t) => {
  const { file } = await writeExample(t, true);
  const loader = await ExperimentLoader.open(file);
  t.after(() => loader.close());
  const meta = loader.getMetadata() as unknown as Record<string, unknown>;
  assert.deepEqual((meta.runtime as { versions: unknown }).versions, VERSIONS);
  assert.equal((meta.git as { available: boolean }).available, hasGit());
  if (hasGit()) assert.match(meta.git_diff as string, /^\+n: 4$/m);
  assert.ok(!("code_snapshot" in meta));
});

test("HDF5 round trip: h5py + gzip read the code files, the index and the JSON", async (t) => {
  const probe = spawnSync(PYTHON, ["-c", "import h5py"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    const why = `${PYTHON} with h5py is not available (apt-get install python3-h5py)`;
    if (process.env.CI === "true") assert.fail(why);
    t.skip(why);
    return;
  }
  const { file, texts } = await writeExample(t);
  const py = `
import gzip, hashlib, json, sys, h5py
out = {}
with h5py.File(sys.argv[1], "r") as f:
    g = f["metadata/code_snapshot"]
    for e in json.loads(g["index"][()]):
        if not e["stored"]:
            continue
        ds = g[e["dataset"]]
        raw = gzip.decompress(ds[:].tobytes())
        assert hashlib.sha256(raw).hexdigest() == e["sha256"] == ds.attrs["sha256"]
        assert ds.attrs["encoding"] == "gzip" and int(ds.attrs["size"]) == len(raw)
        out[ds.attrs["path"]] = raw.decode()
    rt = json.loads(f["metadata/runtime"][()])
    out["__versions"] = rt["versions"]
    out["__git"] = json.loads(f["metadata/git"][()])["available"]
print(json.dumps(out))
`;
  const r = spawnSync(PYTHON, ["-c", py, file], { encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const [p, text] of Object.entries(texts)) assert.equal(out[p], text, p);
  assert.deepEqual(out.__versions, VERSIONS);
  assert.equal(out.__git, hasGit());
});

// ------------------------------------------------------------------ options

test("captureProvenance: parts switch off; bad options are typed errors", async (t) => {
  assert.deepEqual(await captureProvenance(VERSIONS, false), {});
  const dir = realpathSync(tempDir(t, "snn-prov-opts-"));
  const { result: p, warnings } = await withWarnings(() => captureProvenance(VERSIONS, { git: false, codeSnapshot: { paths: [] } }, { cwd: dir }));
  assert.deepEqual(Object.keys(p).sort(), ["code", "runtime"]);
  assert.equal(p.code!.root, dir);
  assert.match(p.code!.files[0].reason!, /outside the project root/, "the test file is the entry script, outside the temp root");
  assert.deepEqual(warnings.map((w) => w.code), ["SNN_EXPORT_SNAPSHOT"], warnings.map((w) => w.message).join("\n"));
  assert.deepEqual(resolveProvenanceOptions(undefined), { runtime: true, git: {}, codeSnapshot: {}, extraEnv: [] });
  for (const bad of [{ runtime: "yes" }, { git: { diffCap: -1 } }, { codeSnapshot: { paths: "src" } }, { extraEnv: "X" }, { gti: true }]) {
    assert.throws(() => resolveProvenanceOptions(bad as never), (e: unknown) => isSnnExportError(e, "INVALID_OPTION"), JSON.stringify(bad));
    await assert.rejects(captureProvenance(VERSIONS, bad as never), (e: unknown) => isSnnExportError(e, "INVALID_OPTION"), JSON.stringify(bad));
  }
  await assert.rejects(captureProvenance({ ...VERSIONS, hdf5: 2 } as never, {}, { cwd: dir }), (e: unknown) => isSnnExportError(e, "INVALID_OPTION"));
});

test("captureProvenance: git state, and the snapshot rooted at the git top level (also with git off), from a subdirectory", async (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src", "m.ts"), "export const x = 1;\n");
  writeFileSync(join(dir, "a.txt"), "dirty\n");
  mkdirSync(join(dir, "experiments"));
  writeFileSync(join(dir, "experiments", "out.h5"), "x");
  skipStructureCheck(join(dir, "experiments", "out.h5"), "a stand-in output file (not HDF5) for the git exclude");
  withEnv(t, GIT_ENV);
  const startTime = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
  const context = { cwd: join(dir, "src"), startTime, exclude: [join(dir, "experiments")] };
  const { result: p } = await withWarnings(() => captureProvenance(VERSIONS, { codeSnapshot: { paths: ["*.ts", "../a.txt"] }, git: { diffCap: 3 } }, context));
  assert.deepEqual(Object.keys(p), ["runtime", "git", "code"]);
  assert.equal(p.runtime!.startTimeUtc, startTime.toISOString());
  assert.deepEqual(p.git, await captureGit(join(dir, "src"), { env: GIT_ENV, exclude: [join(dir, "experiments")], diffCap: 3 }));
  assert.ok(p.git!.available && p.git!.dirty && p.git!.diffTruncated && p.git!.diffCap === 3);
  assert.deepEqual(p.git!.available && p.git!.changedFiles, [{ status: " M", path: "a.txt" }, { status: "??", path: "src/" }]);
  assert.equal(p.code!.root, dir);
  assert.deepEqual(p.code!.files.filter((f) => f.stored).map((f) => f.path), ["src/m.ts", "a.txt"]);
  for (const options of [{ git: false as const }, { git: false as const, runtime: false }]) {
    const { result: off } = await withWarnings(() => captureProvenance(VERSIONS, options, context));
    assert.equal(off.code!.root, dir, JSON.stringify(options));
  }
  const { result: given } = await withWarnings(() => captureProvenance(VERSIONS, { codeSnapshot: { paths: ["m.ts"], root: "." } }, context));
  assert.deepEqual([given.code!.root, given.code!.files.at(-1)!.path], [join(dir, "src"), "m.ts"]);
});

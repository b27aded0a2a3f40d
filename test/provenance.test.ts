/**
 * Provenance: runtime capture and the env allow-list, git state in temporary repositories (clean,
 * dirty, no commits, outside any repository, no git), the async git capture giving the same results
 * as the sync one, the glob matcher, code snapshot caps and root, and a round trip through a real
 * HDF5 file read back with H5Reader and with h5py.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test, type TestContext } from "node:test";
import { pathToFileURL } from "node:url";
import { H5Reader, H5Writer } from "../src/h5/index.js";
import { captureGitAndRoot, captureGitAndRootAsync, discoverTopLevel, parsePorcelainV2Z, readRemotesNow, type GitOptions } from "../src/provenance/git.js";
import { fastTimeZoneName, timeZoneName } from "../src/provenance/runtime.js";
import { isSnnExportError } from "../src/errors.js";
import { ExperimentLoader } from "../src/loader/index.js";
import {
  addCodeFiles, captureGit, captureGitAsync, captureProvenance, captureProvenanceAsync, captureRuntime, collectCodeSnapshot,
  expandGlob, globMatch, isoWithOffset, projectRoot, projectRootAsync, readCodeFile, readCodeIndex, redactArgv, replaceHome, resolveProvenanceOptions, stripUrlCredentials,
  writeProvenance, type GitState,
} from "../src/provenance/index.js";
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

async function withWarnings<T>(fn: () => T): Promise<{ result: T; warnings: Array<Error & { code?: string }> }> {
  await new Promise((r) => setImmediate(r)); // let warnings of earlier tests go out first
  const warnings: Array<Error & { code?: string }> = [];
  const on = (w: Error): void => void warnings.push(w);
  process.on("warning", on);
  try {
    const result = fn();
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

// ------------------------------------------------------------------ git

test("git: clean repository, remote credentials stripped", (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  git(dir, "remote", "add", "origin", "https://ada:ghp_T0KEN@example.com/lab/snn.git");
  const g = captureGit(dir, { env: GIT_ENV });
  assert.ok(g.available, JSON.stringify(g));
  assert.equal(g.commit, git(dir, "rev-parse", "HEAD").trim());
  assert.equal(g.branch, "main");
  assert.equal(g.toplevel, replaceHome(dir));
  assert.equal(g.remoteName, "origin");
  assert.equal(g.remoteUrl, "https://example.com/lab/snn.git");
  assert.equal(g.dirty, false);
  assert.deepEqual(g.changedFiles, []);
  assert.deepEqual([g.diffBytes, g.diffTruncated], [0, false]);
  assert.doesNotMatch(JSON.stringify(g), /T0KEN|ada@/);
  mkdirSync(join(dir, "sub"));
  const fromSub = captureGit(join(dir, "sub"), { env: GIT_ENV });
  assert.ok(fromSub.available && fromSub.commit === g.commit);
});

test("remote URLs: credentials removed, scp-style kept", () => {
  for (const [url, want] of [
    ["https://user:token@host/x", "https://host/x"], ["https://user@host/x.git", "https://host/x.git"], ["http://a:b@host:8080/x", "http://host:8080/x"],
    ["https://host/x", "https://host/x"], ["git@github.com:lab/snn.git", "git@github.com:lab/snn.git"], ["ssh://git:pw@host/x", "ssh://git@host/x"],
  ]) assert.equal(stripUrlCredentials(url), want, url);
});

test("git: dirty repository lists changed files and the diff; the cap truncates on a character boundary", (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  git(dir, "remote", "add", "origin", "git@github.com:lab/snn.git");
  writeFileSync(join(dir, "a.txt"), "line1\nchanged é\n");
  writeFileSync(join(dir, "b.txt"), "staged\n");
  git(dir, "add", "b.txt");
  writeFileSync(join(dir, "c.txt"), "untracked\n");
  const g = captureGit(dir, { env: GIT_ENV }) as GitState;
  assert.ok(g.available);
  assert.equal(g.remoteUrl, "git@github.com:lab/snn.git");
  assert.equal(g.dirty, true);
  assert.deepEqual(g.changedFiles, [{ status: " M", path: "a.txt" }, { status: "A ", path: "b.txt" }, { status: "??", path: "c.txt" }]);
  assert.equal(g.changedFileCount, 3);
  assert.match(g.diff!, /^-line2$/m);
  assert.match(g.diff!, /^\+changed é$/m);
  assert.match(g.diff!, /^\+staged$/m);
  assert.equal(g.diffBytes, Buffer.byteLength(g.diff!));
  assert.equal(g.diffTruncated, false);
  const at = Buffer.from(g.diff!).indexOf(Buffer.from("é"));
  for (const cap of [at, at + 1, at + 2, 10]) {
    const c = captureGit(dir, { env: GIT_ENV, diffCap: cap }) as GitState;
    assert.equal(c.diffTruncated, true);
    assert.equal(c.diffCap, cap);
    assert.equal(c.diffBytes, g.diffBytes);
    assert.ok(Buffer.byteLength(c.diff!) <= cap);
    assert.ok(g.diff!.startsWith(c.diff!), `cap ${cap} cut inside a character`);
  }
});

test("git: excluded output directory does not make the tree dirty; a repository without commits works", (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  mkdirSync(join(dir, "experiments", "run_1"), { recursive: true });
  writeFileSync(join(dir, "experiments", "run_1", "experiment_data.h5"), "x");
  skipStructureCheck(join(dir, "experiments", "run_1", "experiment_data.h5"), "a stand-in output file (not HDF5) for the git exclude");
  assert.equal((captureGit(dir, { env: GIT_ENV }) as GitState).dirty, true);
  const g = captureGit(dir, { env: GIT_ENV, exclude: ["experiments"] }) as GitState;
  assert.equal(g.dirty, false);
  assert.deepEqual(g.excluded, ["experiments"]);
  const fresh = makeRepo(t, false);
  const f = captureGit(fresh, { env: GIT_ENV }) as GitState;
  assert.deepEqual([f.available, f.commit, f.branch], [true, null, "main"]);
  assert.deepEqual(f.changedFiles, [{ status: "??", path: "a.txt" }]);
});

test("git: outside any repository, and with no git binary, is recorded, never thrown", (t) => {
  const dir = tempDir(t, "snn-prov-norepo-");
  const ceiling = { ...GIT_ENV, GIT_CEILING_DIRECTORIES: dirname(realpathSync(dir)) };
  if (hasGit()) assert.deepEqual(captureGit(dir, { env: ceiling }), { available: false, reason: "not a git repository" });
  const missing = captureGit(dir, { gitBinary: join(dir, "no-such-git") });
  assert.equal(missing.available === false && missing.reason, "git not found");
  const gone = captureGit(join(dir, "does-not-exist"));
  assert.equal(gone.available === false && gone.reason, "not a git repository");
  assert.equal(projectRoot(dir, { gitBinary: join(dir, "no-such-git") }), realpathSync(dir));
});

test("git: PATH without git in a child process gives { available: false, reason: 'git not found' }", (t) => {
  const dir = tempDir(t, "snn-prov-nopath-");
  const mod = pathToFileURL(join(dirname(new URL(import.meta.url).pathname), "../src/provenance/index.js")).href;
  const script = `import { captureProvenance } from ${JSON.stringify(mod)};
    const p = captureProvenance(${JSON.stringify(VERSIONS)}, {}, { cwd: process.cwd() });
    console.log(JSON.stringify({ git: p.git, root: p.code.root, node: p.runtime.node }));`;
  const r = spawnSync(process.execPath, ["--no-warnings", "--input-type=module", "-e", script], { cwd: dir, env: { PATH: "" }, encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.git, { available: false, reason: "git not found", detail: "git: ENOENT" });
  assert.equal(out.root, realpathSync(dir));
  assert.equal(out.node, process.version);
});

// ------------------------------------------------------------------ async git = sync git

/** captureGitAndRootAsync gives exactly what captureGitAndRoot gives (info and snapshot root). */
async function sameAsSync(dir: string, options: GitOptions, what: string): Promise<ReturnType<typeof captureGitAndRoot>> {
  const sync = captureGitAndRoot(dir, options);
  const async_ = await captureGitAndRootAsync(dir, options);
  assert.deepEqual(async_, sync, what);
  assert.deepEqual(Object.keys(async_.info), Object.keys(sync.info), `${what}: key order`);
  assert.deepEqual(await captureGitAsync(dir, options), captureGit(dir, options), what);
  return sync;
}

test("async git: clean and dirty repositories, every diff cap, excludes and remotes give the sync results", async (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  git(dir, "remote", "add", "upstream", "https://ada:ghp_T0KEN@example.com/lab/up.git");
  git(dir, "remote", "add", "origin", "https://ada:ghp_T0KEN@example.com/lab/snn.git");
  const clean = await sameAsSync(dir, { env: GIT_ENV }, "clean");
  assert.ok(clean.info.available && !clean.info.dirty && clean.root === dir);
  mkdirSync(join(dir, "sub"));
  await sameAsSync(join(dir, "sub"), { env: GIT_ENV }, "from a subdirectory");

  writeFileSync(join(dir, "a.txt"), "line1\nchanged é\n" + "ü".repeat(3000) + "\n");
  writeFileSync(join(dir, "b.txt"), "staged\n");
  git(dir, "add", "b.txt");
  git(dir, "mv", "a.txt", "renamed é.txt");
  writeFileSync(join(dir, "c d.txt"), "untracked\n");
  mkdirSync(join(dir, "experiments", "run_1"), { recursive: true });
  writeFileSync(join(dir, "experiments", "run_1", "experiment_data.h5"), "x");
  skipStructureCheck(join(dir, "experiments", "run_1", "experiment_data.h5"), "a stand-in output file (not HDF5) for the git exclude");
  const dirty = (await sameAsSync(dir, { env: GIT_ENV }, "dirty")).info as GitState;
  assert.ok(dirty.available && dirty.dirty && dirty.diffBytes > 6000, JSON.stringify(dirty).slice(0, 400));
  assert.ok(dirty.changedFiles.some((c) => c.from === "a.txt"), "a rename is listed with its origin");
  const at = Buffer.from(dirty.diff!).indexOf(Buffer.from("é"));
  for (const diffCap of [0, 1, at, at + 1, at + 2, 4096, 4097, dirty.diffBytes - 1, dirty.diffBytes, dirty.diffBytes + 1]) {
    const c = (await sameAsSync(dir, { env: GIT_ENV, diffCap }, `diffCap ${diffCap}`)).info as GitState;
    assert.equal(c.diffTruncated, diffCap < dirty.diffBytes);
  }
  writeFileSync(join(dir, "b.txt"), "é€𝄞 ".repeat(40_000) + "\n"); // a diff of many pipe chunks, multi-byte throughout
  const big = (await sameAsSync(dir, { env: GIT_ENV }, "big diff")).info as GitState;
  assert.ok(big.available && big.diffBytes > 400_000);
  for (const diffCap of [65_535, 65_536, 65_537, 131_073, 200_001, big.diffBytes - 2]) {
    await sameAsSync(dir, { env: GIT_ENV, diffCap }, `big diff, diffCap ${diffCap}`);
  }
  for (const exclude of [["experiments"], [join(dir, "experiments")], ["experiments/run_1", "not-yet"], ["/elsewhere"], ["c d.txt"]]) {
    await sameAsSync(dir, { env: GIT_ENV, exclude }, `exclude ${exclude}`);
  }
  await sameAsSync(join(dir, "sub"), { env: GIT_ENV, exclude: ["../experiments"] }, "exclude relative to a subdirectory");
  git(dir, "checkout", "-q", "--detach");
  const detached = await sameAsSync(dir, { env: GIT_ENV }, "detached HEAD");
  assert.ok(detached.info.available && detached.info.branch === null);
});

test("async git: no commits, outside any repository, no git binary, not a directory, bad options", async (t) => {
  const hasIt = hasGit();
  if (hasIt) {
    const fresh = makeRepo(t, false);
    const f = await sameAsSync(fresh, { env: GIT_ENV }, "no commits");
    assert.deepEqual([f.info.available, f.info.available && f.info.commit, f.root], [true, null, fresh]);
    await sameAsSync(fresh, { env: GIT_ENV, diffCap: 5 }, "no commits, capped");
    const empty = makeRepo(t, false);
    rmSync(join(empty, "a.txt"));
    await sameAsSync(empty, { env: GIT_ENV }, "no commits, no files");
  }
  const dir = realpathSync(tempDir(t, "snn-prov-async-"));
  const ceiling = { ...GIT_ENV, GIT_CEILING_DIRECTORIES: dirname(dir) };
  if (hasIt && process.platform !== "win32") {
    // the top level and HEAD come from one rev-parse: a top level that fails, and one with a newline
    const repo = makeRepo(t);
    const inGitDir = await sameAsSync(join(repo, ".git"), { env: GIT_ENV }, "inside .git");
    assert.equal(inGitDir.info.available === false && inGitDir.info.reason, "git failed");
    const bare = join(dir, "bare.git");
    git(dir, "init", "-q", "--bare", bare);
    await sameAsSync(bare, { env: GIT_ENV }, "bare repository");
    for (const commit of [true, false]) {
      const odd = join(dir, `odd\nname ${commit}`);
      mkdirSync(odd);
      git(odd, "init", "-q");
      writeFileSync(join(odd, "f.txt"), "x\n");
      if (commit) git(odd, "add", "f.txt"), git(odd, "commit", "-q", "-m", "c");
      const r = await sameAsSync(odd, { env: GIT_ENV }, `newline in the top level, commit ${commit}`);
      assert.ok(r.info.available && r.root === odd && (r.info.commit !== null) === commit, JSON.stringify(r));
    }
  }
  if (hasIt) {
    const out = await sameAsSync(dir, { env: ceiling }, "outside a repository");
    assert.deepEqual(out, { info: { available: false, reason: "not a git repository" }, root: null });
    assert.equal(await projectRootAsync(dir, { env: ceiling }), projectRoot(dir, { env: ceiling }));
    assert.equal(await projectRootAsync(join(dir, "missing"), { env: ceiling }), projectRoot(join(dir, "missing"), { env: ceiling }));
  }
  const missing = await sameAsSync(dir, { gitBinary: join(dir, "no-such-git") }, "no git binary");
  assert.equal(missing.info.available === false && missing.info.reason, "git not found");
  writeFileSync(join(dir, "not-executable"), "#!/bin/sh\n");
  await sameAsSync(dir, { gitBinary: join(dir, "not-executable") }, "git binary not executable");
  const gone = await sameAsSync(join(dir, "does-not-exist"), {}, "not a directory");
  assert.equal(gone.info.available === false && gone.info.reason, "not a git repository");
  assert.equal(await projectRootAsync(dir, { gitBinary: join(dir, "no-such-git") }), dir);
  for (const bad of [{ diffCap: -1 }, { timeoutMs: 1.5 }] as GitOptions[]) {
    await assert.rejects(captureGitAsync(dir, bad), (e: unknown) => isSnnExportError(e, "INVALID_OPTION"), JSON.stringify(bad));
  }
});

test("async git: a command over its timeout is recorded like the sync one", { timeout: 120_000 }, async (t) => {
  if (process.platform === "win32") return t.skip("uses a shell script as the git binary");
  const dir = realpathSync(tempDir(t, "snn-prov-slow-"));
  const slow = join(dir, "slow-git");
  // a git that answers only after 10 minutes: both captures returning at all (within the test's
  // timeout) means both gave up at their 200 ms timeout; no wall-clock threshold
  writeFileSync(slow, "#!/bin/sh\nexec sleep 600\n", { mode: 0o755 });
  const r = await sameAsSync(dir, { gitBinary: slow, timeoutMs: 200 }, "timeout");
  assert.deepEqual(r.info, { available: false, reason: "git failed", detail: "git rev-parse timed out after 200 ms" });
});

test("captureProvenanceAsync gives the captureProvenance result (git on, git off, no git, root given)", async (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src", "m.ts"), "export const x = 1;\n");
  writeFileSync(join(dir, "a.txt"), "dirty\n");
  mkdirSync(join(dir, "experiments"));
  writeFileSync(join(dir, "experiments", "out.h5"), "x");
  skipStructureCheck(join(dir, "experiments", "out.h5"), "a stand-in output file (not HDF5) for the git exclude");
  withEnv(t, { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" });
  const startTime = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
  const context = { cwd: join(dir, "src"), startTime, exclude: [join(dir, "experiments")] };
  const cases: Array<[string, Parameters<typeof captureProvenance>[1], typeof context]> = [
    ["defaults", {}, context],
    ["paths and caps", { git: { diffCap: 3 }, codeSnapshot: { paths: ["*.ts", "../a.txt"], fileCap: 1000 }, extraEnv: ["MY_*"] }, context],
    ["git off", { git: false, codeSnapshot: { paths: ["m.ts"] } }, context],
    ["git off, root given", { git: false, codeSnapshot: { paths: ["m.ts"], root: "." } }, context],
    ["runtime off", { runtime: false }, context],
    ["all off", false, context],
  ];
  for (const [what, options, ctx] of cases) {
    const { result: sync } = await withWarnings(() => captureProvenance(VERSIONS, options, ctx));
    const { result: async_ } = await withWarnings(() => captureProvenanceAsync(VERSIONS, options, ctx));
    assert.deepEqual(await async_, sync, what);
    assert.deepEqual(Object.keys(await async_), Object.keys(sync), `${what}: key order`);
  }
  const withGit = await captureProvenanceAsync(VERSIONS, {}, context);
  assert.ok(withGit.git!.available && withGit.git!.dirty && withGit.code!.root === dir);
  assert.deepEqual(withGit.git!.available && withGit.git!.changedFiles, [{ status: " M", path: "a.txt" }, { status: "??", path: "src/" }]);
  await assert.rejects(captureProvenanceAsync({ ...VERSIONS, hdf5: 2 } as never, {}, context), (e: unknown) => isSnnExportError(e, "INVALID_OPTION"));
  await assert.rejects(captureProvenanceAsync(VERSIONS, { gti: true } as never), (e: unknown) => isSnnExportError(e, "INVALID_OPTION"));
});

test("captureProvenanceAsync: PATH without git in a child process, as the sync one", (t) => {
  const dir = tempDir(t, "snn-prov-nopath-async-");
  const mod = pathToFileURL(join(dirname(new URL(import.meta.url).pathname), "../src/provenance/index.js")).href;
  const script = `import { captureProvenance, captureProvenanceAsync } from ${JSON.stringify(mod)};
    const a = await captureProvenanceAsync(${JSON.stringify(VERSIONS)}, { git: {} }, { cwd: process.cwd() });
    const s = captureProvenance(${JSON.stringify(VERSIONS)}, { git: {} }, { cwd: process.cwd() });
    const off = await captureProvenanceAsync(${JSON.stringify(VERSIONS)}, { git: false }, { cwd: process.cwd() });
    console.log(JSON.stringify({ git: a.git, root: a.code.root, sameGit: JSON.stringify(a.git) === JSON.stringify(s.git), sameRoot: a.code.root === s.code.root, offRoot: off.code.root }));`;
  const r = spawnSync(process.execPath, ["--no-warnings", "--input-type=module", "-e", script], { cwd: dir, env: { PATH: "" }, encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.git, { available: false, reason: "git not found", detail: "git: ENOENT" });
  assert.deepEqual([out.root, out.sameGit, out.sameRoot, out.offRoot], [realpathSync(dir), true, true, realpathSync(dir)]);
});

// ------------------------------------------------------------------ git at the start of a run

const REAL_GIT = hasGit() ? execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim() : "git";

/** Blocks the event loop (the user's synchronous training loop) for `ms`. */
function blockLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test("porcelain v2: entries as the v1 parser gives them, with HEAD's commit and branch", () => {
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

test("discoverTopLevel finds the top level without git, and defers to git wherever it might differ", (t) => {
  if (!requireGit(t) || process.platform === "win32") return;
  const dir = makeRepo(t);
  mkdirSync(join(dir, "sub", "deeper"), { recursive: true });
  assert.deepEqual(discoverTopLevel(dir), { top: dir });
  assert.deepEqual(discoverTopLevel(join(dir, "sub", "deeper")), { top: dir });
  const wt = join(realpathSync(tempDir(t, "snn-prov-wt-")), "wt");
  git(dir, "worktree", "add", "-q", wt);
  assert.deepEqual(discoverTopLevel(wt), { top: wt }, "a linked worktree: .git is a gitdir: file");
  const outside = realpathSync(tempDir(t, "snn-prov-none-"));
  assert.equal(discoverTopLevel(outside), "none");
  assert.equal(discoverTopLevel(join(dir, ".git")), null, "inside .git");
  assert.equal(discoverTopLevel(join(dir, ".git", "refs")), null, "inside .git");
  git(outside, "init", "-q", "--bare", join(outside, "bare.git"));
  assert.equal(discoverTopLevel(join(outside, "bare.git")), null, "bare repository");
  for (const v of ["GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES"]) assert.equal(discoverTopLevel(dir, { env: { [v]: dir } }), null, v);
  assert.equal(discoverTopLevel(dir, { gitBinary: join(outside, "no-such-git") }), null, "no git binary: git's error is recorded");
  assert.equal(discoverTopLevel(dir, { env: { PATH: "" } }), null);
  const odd = makeRepo(t);
  git(odd, "config", "core.worktree", dir);
  assert.equal(discoverTopLevel(odd), null, "core.worktree");
  const empty = realpathSync(tempDir(t, "snn-prov-emptygit-"));
  mkdirSync(join(empty, ".git"));
  assert.equal(discoverTopLevel(empty), null, "an invalid .git: git looks further up");
});

test("async git: linked worktree, and the path that asks git first, give the sync results", async (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  git(dir, "remote", "add", "origin", "https://example.com/lab/snn.git");
  writeFileSync(join(dir, "a.txt"), "changed\n");
  writeFileSync(join(dir, "new.txt"), "new\n");
  const wt = join(realpathSync(tempDir(t, "snn-prov-wt-")), "wt");
  git(dir, "worktree", "add", "-q", "-b", "side", wt);
  writeFileSync(join(wt, "a.txt"), "in the worktree\n");
  const w = (await sameAsSync(wt, { env: GIT_ENV }, "linked worktree")).info as GitState;
  assert.deepEqual([w.toplevel, w.branch, w.dirty, w.remoteName], [replaceHome(wt), "side", true, "origin"]);
  // a discovery variable: the old sequence (rev-parse first), the same result
  const slowPath = { env: { ...GIT_ENV, GIT_CEILING_DIRECTORIES: "/nonexistent" }, exclude: ["new.txt"] };
  assert.equal(discoverTopLevel(dir, slowPath), null);
  await sameAsSync(dir, slowPath, "rev-parse first");
  await sameAsSync(join(dir, ".git", ".."), { env: GIT_ENV, exclude: ["new.txt"] }, "fast path, same excludes");
});

test("remotes read from the config files are what git config --get-regexp prints, or git is asked", (t) => {
  if (!requireGit(t) || process.platform === "win32") return;
  const dir = makeRepo(t);
  const viaGit = (env: Record<string, string>): string =>
    spawnSync("git", ["config", "--get-regexp", "^remote\\..*\\.url$"], { cwd: dir, env: { ...process.env, ...env }, encoding: "utf8" }).stdout;
  const isUsrBinGit = realpathSync(REAL_GIT) === "/usr/bin/git";
  const check = (what: string, env: Record<string, string>, simple: boolean): void => {
    const now = readRemotesNow(dir, { ...process.env, ...env });
    if (now !== null) assert.equal(now, viaGit(env), what);
    if (isUsrBinGit) assert.equal(now !== null, simple, `${what}: read without git`);
  };
  check("no remote", GIT_ENV, true);
  git(dir, "remote", "add", "upstream", "https://ada:tok@example.com/lab/up.git");
  git(dir, "remote", "add", "origin", "git@github.com:lab/snn.git");
  git(dir, "config", "--add", "remote.origin.url", "https://second.example.com/x.git");
  check("remote add", GIT_ENV, true);
  check("the machine's own system and global config", {}, readRemotesNow(dir, process.env) !== null);
  const cfg = join(dir, ".git", "config");
  const base = readFileSync(cfg, "utf8");
  const variants: Array<[string, string, boolean]> = [
    ["case and spacing", `[Remote "Mixed Case"]\n\tURL   =   https://h/x  \n  Url=https://h/y\r\n[remote "e"]\n\turl =\n\turl\n`, true],
    ["comments", `# c\n; c\n[remote "c"]\n\turl = https://h/c\n`, true],
    ["quoted value", `[remote "q"]\n\turl = "https://h/q"\n`, false],
    ["inline comment", `[remote "q"]\n\turl = https://h/q # x\n`, false],
    ["continuation", `[remote "q"]\n\turl = https://h/\\\nq\n`, false],
    ["legacy header", `[remote.q]\n\turl = https://h/q\n`, false],
    ["include", `[include]\n\tpath = other\n`, false],
    ["key on the header line", `[remote "q"] url = https://h/q\n`, false],
  ];
  for (const [what, extra, simple] of variants) {
    writeFileSync(cfg, base + extra);
    check(what, GIT_ENV, simple);
  }
  writeFileSync(cfg, base);
  const global = join(tempDir(t, "snn-prov-global-"), "gitconfig");
  writeFileSync(global, `[remote "g"]\n\turl = https://h/global\n`);
  check("a remote in the global config", { ...GIT_ENV, GIT_CONFIG_GLOBAL: global }, false);
  writeFileSync(global, `[user]\n\tname = x\n`);
  check("a global config without remotes", { ...GIT_ENV, GIT_CONFIG_GLOBAL: global }, true);
  assert.equal(readRemotesNow(dir, { ...process.env, ...GIT_ENV, GIT_CONFIG: global }), null, "GIT_CONFIG");
});

test("async git: every command is started at once, so the state at the start is recorded even if the loop then blocks", async (t) => {
  if (!requireGit(t) || process.platform === "win32") return;
  const dir = makeRepo(t);
  git(dir, "remote", "add", "origin", "https://example.com/lab/snn.git");
  writeFileSync(join(dir, "a.txt"), "line1\nchanged\n");
  const tools = realpathSync(tempDir(t, "snn-prov-counting-"));
  const log = join(tools, "calls.log");
  const counting = join(tools, "git");
  writeFileSync(counting, `#!/bin/sh\n"${REAL_GIT}" "$@"\nrc=$?\necho "$*" >> "${log}"\nexit $rc\n`, { mode: 0o755 });
  const expected = captureGitAndRoot(dir, { env: GIT_ENV });
  const calls = (): string[] => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);

  const capture = captureGitAndRootAsync(dir, { env: GIT_ENV, gitBinary: counting });
  // the user's loop runs without yielding: wait (synchronously) until the commands started end
  const deadline = Date.now() + 60_000; // a timeout, not a threshold: the loop ends as soon as they have
  while (calls().length < (readRemotesNow(dir, { ...process.env, ...GIT_ENV }, counting) !== null ? 2 : 3) && Date.now() < deadline) blockLoop(20);
  // ... and then the working tree changes, before the capture's promise had a chance to run
  writeFileSync(join(dir, "a.txt"), "changed later\n");
  writeFileSync(join(dir, "later.txt"), "x\n");
  assert.deepEqual(await capture, expected);
  const commands = calls().map((c) => c.split(" ").find((a, i, all) => i > 0 && all[i - 1] !== "-c" && a !== "-c"));
  // status and diff; the remotes come from .git/config (git config only where that is not simple)
  const remotesRead = readRemotesNow(dir, { ...process.env, ...GIT_ENV }, counting) !== null;
  assert.deepEqual(commands.sort(), remotesRead ? ["diff", "status"] : ["config", "diff", "status"], "all started at once");
});

test("async git: a loop blocked longer than the timeout still gets git's real answer (no spurious ETIMEDOUT)", { timeout: 120_000 }, async (t) => {
  if (!requireGit(t)) return;
  const dir = makeRepo(t);
  // a diff larger than the stdout socket buffer: git waits for the blocked loop to read it
  writeFileSync(join(dir, "a.txt"), "line1\n" + "x".repeat(3_000_000) + "\n");
  writeFileSync(join(dir, "b.txt"), "untracked\n");
  const expected = captureGitAndRoot(dir, { env: GIT_ENV });
  assert.ok(expected.info.available && expected.info.diffBytes > 3_000_000);
  for (const env of [GIT_ENV, { ...GIT_ENV, GIT_CEILING_DIRECTORIES: "/nonexistent" }]) {
    // far over the timeout, and over it by less. The timeout is generous (1.5 s, not 0.3): git
    // must still finish its 3 MB diff within it once the loop runs, and on a loaded machine a
    // tight one failed for real ("git diff timed out") even with the loop's lateness given back
    for (const block of [4000, 2000]) {
      const capture = captureGitAndRootAsync(dir, { env, timeoutMs: 1500 });
      blockLoop(block);
      assert.deepEqual(await capture, expected, `${JSON.stringify(env)}, loop blocked ${block} ms`);
    }
  }
  // a git that really hangs is still stopped at the timeout
  const slow = join(realpathSync(tempDir(t, "snn-prov-hang-")), "git");
  // it answers only after 10 minutes: returning at all (within the test's timeout) is giving up at the timeout
  writeFileSync(slow, "#!/bin/sh\nexec sleep 600\n", { mode: 0o755 });
  const hung = captureGitAndRootAsync(dir, { gitBinary: slow, timeoutMs: 200 });
  blockLoop(500);
  const r = await hung;
  assert.equal(r.info.available === false && r.info.reason, "git failed");
  assert.match((r.info as { detail: string }).detail, /timed out after 200 ms/);
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

test("snapshot: the entry script is included by default, relative to the project root", () => {
  const snap = collectCodeSnapshot([]);
  assert.equal(snap.root, projectRoot(process.cwd()));
  assert.deepEqual(snap.files.map((f) => [f.path, f.stored]), [[relative(snap.root, realpathSync(process.argv[1])).split("\\").join("/"), true]]);
  assert.equal(collectCodeSnapshot([], { includeEntry: false }).files.length, 0);
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
  let gitInfo = captureGit(dir, { gitBinary: join(dir, "no-git") });
  if (hasGit()) {
    git(dir, "init", "-q");
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", "init");
  }
  writeFileSync(join(dir, "cfg.yaml"), "n: 4\n");
  if (hasGit()) gitInfo = captureGit(dir, { env: GIT_ENV });
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
  assert.deepEqual(captureProvenance(VERSIONS, false), {});
  const dir = realpathSync(tempDir(t, "snn-prov-opts-"));
  const { result: p, warnings } = await withWarnings(() => captureProvenance(VERSIONS, { git: false, codeSnapshot: { paths: [] } }, { cwd: dir }));
  assert.deepEqual(Object.keys(p).sort(), ["code", "runtime"]);
  assert.equal(p.code!.root, dir);
  assert.match(p.code!.files[0].reason!, /outside the project root/, "the test file is the entry script, outside the temp root");
  assert.deepEqual(warnings.map((w) => w.code), ["SNN_EXPORT_SNAPSHOT"], warnings.map((w) => w.message).join("\n"));
  assert.deepEqual(resolveProvenanceOptions(undefined), { runtime: true, git: {}, codeSnapshot: {}, extraEnv: [] });
  for (const bad of [{ runtime: "yes" }, { git: { diffCap: -1 } }, { codeSnapshot: { paths: "src" } }, { extraEnv: "X" }, { gti: true }]) {
    assert.throws(() => resolveProvenanceOptions(bad as never), (e: unknown) => isSnnExportError(e, "INVALID_OPTION"), JSON.stringify(bad));
  }
});

test("async git: status output, stderr and a capped diff come back through temporary files, and none is left behind, even when the process ends first", async (t) => {
  if (!requireGit(t) || process.platform === "win32") return t.skip("needs git and a POSIX shell");
  const dir = makeRepo(t);
  writeFileSync(join(dir, "big.txt"), "line of a long diff\n".repeat(5000));
  git(dir, "add", "big.txt");
  writeFileSync(join(dir, "big.txt"), "changed line of a long diff\n".repeat(5000)); // a diff of ~240 kB
  // a git that also writes to stderr for every command: those bytes must not leak into stdout
  const noisy = join(tempDir(t, "snn-prov-noisy-"), "git");
  writeFileSync(noisy, `#!/bin/sh\necho "noise on stderr" >&2\nexec ${REAL_GIT} "$@"\n`, { mode: 0o755 });
  for (const diffCap of [0, 1000, 1 << 20]) {
    const r = await sameAsSync(dir, { env: GIT_ENV, gitBinary: noisy, diffCap }, `noisy git, diffCap ${diffCap}`);
    assert.ok(r.info.available && r.info.dirty, JSON.stringify(r.info).slice(0, 200));
  }
  // a capture still running when the process exits: its temporary files are already unlinked
  const tmp = tempDir(t, "snn-prov-tmp-");
  const slow = join(tempDir(t, "snn-prov-slowgit-"), "git");
  writeFileSync(slow, `#!/bin/sh\nsleep 2\nexec ${REAL_GIT} "$@"\n`, { mode: 0o755 });
  const gitModule = pathToFileURL(join(dirname(new URL(import.meta.url).pathname), "..", "src", "provenance", "git.js")).href;
  const script = `import { startGitCapture } from ${JSON.stringify(gitModule)}; startGitCapture(${JSON.stringify(dir)}, { gitBinary: ${JSON.stringify(slow)} }); process.exit(0);`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, ...GIT_ENV, TMPDIR: tmp }, encoding: "utf8", timeout: 300_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(readdirSync(tmp), [], "nothing left in the temporary directory");
});

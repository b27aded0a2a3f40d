/**
 * Provenance through the exporter: `create()` does not wait for git (these writers take no code
 * snapshot, whose root is git's top level); `metadata/git` says `pending`
 * until git has answered and the file is flushed (or closed), then holds the same state as a
 * capture of its own at the start; the loader reads a file left pending; a later write error
 * surfaces at the call (flush, close), never as an unhandled rejection.
 *
 * The writers run in child processes whose working directory is a temporary repository and whose
 * PATH starts with a `git` that waits for a gate (a file the writer creates when the test wants
 * git to answer) before running the real one: "create() does not wait for git" and "flushed before
 * git answered" are then facts of the order of events, not of how long anything took.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test, type TestContext } from "node:test";
import { DataExporter, ExperimentLoader } from "#lib/index.js";
import { StorageError, isSnnExportError } from "#lib/errors.js";
import { captureGit, projectRoot, readCodeFile, replaceHome, GIT_PENDING, type GitState } from "#lib/provenance/index.js";
import { H5Reader } from "#lib/h5/index.js";
import { tempDir } from "./helpers.js";

const GIT_ENV = { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
/** How long a gated git waits for its gate before it gives up (exit 1: "git failed"). */
const GATE_WAIT_S = 60;
const hasGit = (): boolean => !spawnSync("git", ["--version"]).error;

function skipUnlessGit(t: TestContext): boolean {
  if (process.platform === "win32") return t.skip("uses a shell script as git"), false;
  if (hasGit()) return true;
  if (process.env.CI === "true") assert.fail("git is not on PATH on CI");
  return t.skip("git is not on PATH"), false;
}

function git(dir: string, ...args: string[]): string {
  const cfg = ["-c", "user.email=test@example.com", "-c", "user.name=Test", "-c", "commit.gpgsign=false"];
  return execFileSync("git", [...cfg, ...args], { cwd: dir, env: { ...process.env, ...GIT_ENV }, encoding: "utf8" });
}

interface Setup { repo: string; gitPath: string; bin: string }

/**
 * A dirty repository with a remote, and a directory holding a `git` that runs the real one only
 * once the file named by $SNN_TEST_GIT_GATE exists (it gives up after GATE_WAIT_S seconds, or as
 * soon as the directory is removed at the end of the test).
 */
function setUp(t: TestContext): Setup {
  const repo = join(realpathSync(tempDir(t, "snn-provx-")), "repo");
  mkdirSync(repo);
  git(repo, "init", "-q");
  git(repo, "symbolic-ref", "HEAD", "refs/heads/main");
  writeFileSync(join(repo, "train.txt"), "lr: 0.1\n");
  git(repo, "add", "train.txt");
  git(repo, "commit", "-q", "-m", "first");
  git(repo, "remote", "add", "origin", "https://ada:s3cret@example.com/lab/snn.git");
  writeFileSync(join(repo, "train.txt"), "lr: 0.2\n");
  writeFileSync(join(repo, "notes.txt"), "new\n");
  const bin = realpathSync(tempDir(t, "snn-provx-bin-"));
  const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
  const gated = [
    "#!/bin/sh",
    "i=0",
    `while [ ! -e "$SNN_TEST_GIT_GATE" ]; do`,
    `  [ -d "${bin}" ] || exit 1`,
    `  i=$((i + 1)); [ $i -gt ${GATE_WAIT_S * 20} ] && exit 1`,
    "  sleep 0.05",
    "done",
    `exec "${realGit}" "$@"`,
  ];
  writeFileSync(join(bin, "git"), gated.join("\n") + "\n", { mode: 0o755 });
  return { repo, gitPath: `${bin}:${process.env.PATH}`, bin };
}

/**
 * Runs a writer in `repo`: creates an exporter (class and options given), logs a few steps,
 * then `end`: "exit" (flush, then exit without close: a crash; git never answers), "wait-exit"
 * (let git answer and wait for it, flush, exit without close), "wait-end-exit" (the same, then
 * end the episode and wait until its flush happened, exit without flush or close), "close" (let
 * git answer once create() has returned, then close). Prints the file.
 */
let scripts = 0;

function runWriter(setup: Setup, end: "exit" | "wait-exit" | "wait-end-exit" | "close", options: Record<string, unknown> = {}, cls = "DataExporter"): { file: string } {
  const mod = new URL(import.meta.resolve("#lib/index.js")).href;
  const gate = join(setup.bin, `gate-${++scripts}`);
  const script = `
    import { writeFileSync } from "node:fs";
    import { ${cls} as X } from ${JSON.stringify(mod)};
    const end = ${JSON.stringify(end)};
    const ex = await X.create("run", { outputBaseDir: "experiments", flushIntervalMs: 0, provenance: { codeSnapshot: false }, ...${JSON.stringify(options)} });
    // git may answer only now: had create() waited for git, it would have waited for the gate (and git failed)
    if (end !== "exit") writeFileSync(${JSON.stringify(gate)}, "");
    ex.saveNetworkStructure({ neurons: { ids: Int32Array.from([0, 1, 2]) } });
    ex.startEpisode();
    for (let t = 0; t < 10; t++) ex.log({ timestep: t, spikes: [t % 3], reward: t });
    if (end.startsWith("wait")) await ex.git.done; // git has answered
    if (end === "close") await ex.close();
    else if (end === "wait-end-exit") {
      ex.endEpisode();
      // the episode-end flush may wait for the last chunks' compression: wait until it happened
      const until = Date.now() + 60_000;
      while (ex.policy.owed && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      if (ex.policy.owed) throw new Error("the episode-end flush did not happen within 60 s");
    } else ex.flush();
    console.log(JSON.stringify({ file: ex.filePath }));
    if (end !== "close") process.exit(0);`;
  const file = join(dirname(setup.repo), `writer-${process.pid}-${scripts}.mjs`); // not -e: worker threads inherit --input-type
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, ["--no-warnings", file], {
    cwd: setup.repo, env: { ...process.env, ...GIT_ENV, PATH: setup.gitPath, SNN_TEST_GIT_GATE: gate }, encoding: "utf8", timeout: 180_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** What the file must hold: the state a capture of its own sees (nothing changed since the run). */
async function expectedGit(repo: string): Promise<GitState> {
  const g = await captureGit(repo, { env: GIT_ENV, exclude: ["experiments"] });
  assert.ok(g.available && g.dirty && g.commit !== null, JSON.stringify(g));
  return g;
}

async function gitInFile(file: string): Promise<{ git: Record<string, unknown>; diff: string | null; status: unknown }> {
  const loader = await ExperimentLoader.open(file);
  try {
    const meta = loader.getMetadata();
    return { git: meta.git as unknown as Record<string, unknown>, diff: (meta.git_diff as string | undefined) ?? null, status: meta.status };
  } finally {
    await loader.close();
  }
}

test("create() does not wait for git; after close the file holds git's state at the start", { timeout: 600_000 }, async (t) => {
  if (!skipUnlessGit(t)) return;
  const setup = setUp(t);
  const want = await expectedGit(setup.repo);
  const { diff, ...fields } = want;
  for (const [options, cls] of [[{}, "DataExporter"], [{ asyncWrite: true }, "DataExporter"], [{}, "StandardDataExporter"], [{ engine: "h5wasm" }, "DataExporter"]] as const) {
    const what = `${cls} ${JSON.stringify(options)}`;
    // git answers only after create() returned: a create() that waited for it would have had git fail
    const { file } = runWriter(setup, "close", options, cls);
    const got = await gitInFile(file);
    assert.notEqual(got.git.reason, "git failed", `${what}: git gave up waiting for its gate: create() waited for git`);
    assert.deepEqual(got.git, JSON.parse(JSON.stringify(fields)), what);
    assert.equal(got.git.remoteUrl, "https://example.com/lab/snn.git");
    assert.equal(got.diff, diff, what);
    assert.equal(got.status, "closed", what);
  }
});

test("a file flushed before git answered says pending, and the loader reports it; flushed after, it has the state", { timeout: 600_000 }, async (t) => {
  if (!skipUnlessGit(t)) return;
  const setup = setUp(t);
  const { diff, ...fields } = await expectedGit(setup.repo);
  for (const options of [{}, { asyncWrite: true }]) {
    const early = runWriter(setup, "exit", options);
    const e = await gitInFile(early.file);
    assert.deepEqual(e.git, { ...GIT_PENDING }, JSON.stringify(options));
    assert.equal(e.diff, null);
    assert.equal(e.status, "interrupted");
    const r = await H5Reader.open(early.file); // as h5py sees it: plain JSON text
    t.after(() => r.close());
    assert.deepEqual(JSON.parse(r.readText("metadata/git")), { available: false, reason: "pending", detail: "git had not answered when the file was last flushed" });

    // written by a flush, or by the end of an episode (with asyncWrite an exit right after endEpisode() may come before the worker wrote)
    for (const end of options.asyncWrite ? ["wait-exit"] as const : ["wait-exit", "wait-end-exit"] as const) {
      const late = runWriter(setup, end, options);
      const l = await gitInFile(late.file);
      assert.deepEqual(l.git, JSON.parse(JSON.stringify(fields)), `${end} ${JSON.stringify(options)}`);
      assert.equal(l.diff, diff);
      assert.equal(l.status, "interrupted");
    }
  }
});

test("a failed write of the git state surfaces at flush() or close() as the writer's error, never as an unhandled rejection", async (t) => {
  if (!skipUnlessGit(t)) return;
  const dir = tempDir(t, "snn-provx-err-");
  const unhandled: unknown[] = [];
  const on = (e: unknown): void => void unhandled.push(e);
  process.on("unhandledRejection", on);
  t.after(() => process.off("unhandledRejection", on));
  mkdirSync(join(dir, "out"));
  const failing = (ex: DataExporter): void => {
    const w = (ex as unknown as { writer: { writeText(p: string, s: string): void } }).writer;
    const writeText = w.writeText.bind(w);
    w.writeText = (p, s) => {
      if (p === "metadata/git") throw new StorageError("IO_ERROR", "disk full (simulated)");
      writeText(p, s);
    };
  };
  const gitDone = (ex: DataExporter): Promise<void> => (ex as unknown as { git: { done: Promise<void> } | null }).git?.done ?? Promise.resolve();

  const a = await DataExporter.create("err_flush", { outputBaseDir: join(dir, "out"), flushIntervalMs: 0, provenance: { codeSnapshot: false } });
  failing(a);
  await gitDone(a);
  await new Promise((r) => setImmediate(r));
  assert.throws(() => a.flush(), (e: unknown) => isSnnExportError(e, "IO_ERROR") && /disk full/.test(e.message));
  a.flush(); // one attempt; the exporter goes on
  await a.close();

  const b = await DataExporter.create("err_close", { outputBaseDir: join(dir, "out"), flushIntervalMs: 0, provenance: { codeSnapshot: false } });
  failing(b);
  b.startEpisode();
  b.log({ timestep: 0, spikes: [1] });
  await assert.rejects(b.close(), (e: unknown) => isSnnExportError(e, "IO_ERROR") && /disk full/.test(e.message));
  await b.close(); // idempotent after a failed close
  const loader = await ExperimentLoader.open(b.filePath);
  t.after(() => loader.close());
  assert.equal(loader.getMetadata().status, "closed", "the rest of close() still ran");
  assert.equal(loader.getEpisode(0).attrs.status, "incomplete");
  const g = loader.getMetadata().git;
  assert.equal(g && !g.available && g.reason, "pending", "the write failed: the file still says pending");
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(unhandled, []);
});

test("saveCodeSnapshot() adds files relative to the snapshot root of create(), or to the working directory without one", async (t) => {
  const dir = tempDir(t, "snn-provx-save-");
  const cwd = realpathSync(process.cwd());
  for (const provenance of [{ git: false }, { git: false, codeSnapshot: false }, false] as const) {
    const ex = await DataExporter.create("save", { outputBaseDir: join(dir, "out"), provenance });
    const entries = ex.saveCodeSnapshot(["package.json", "no-such-file.ts"]);
    assert.deepEqual(entries.map((e) => [e.path, e.stored]), [["package.json", true], ["no-such-file.ts", false]], JSON.stringify(provenance));
    await ex.close();
    const r = await H5Reader.open(ex.filePath);
    try {
      // the root of create()'s snapshot (the git top level of the working directory), else the directory
      const want = provenance !== false && provenance.codeSnapshot === undefined ? await projectRoot(cwd) : cwd;
      assert.equal(r.attrs("metadata/code_snapshot").root, replaceHome(want), JSON.stringify(provenance));
      assert.equal(readCodeFile(r, "package.json"), readFileSync(join(cwd, "package.json"), "utf8"));
    } finally {
      r.close();
    }
  }
});

/** The `snn-export` command line, run as a child process like a user would. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { colorWanted, makeStyle, safeJson, safeText } from "#cli/cli/format.js";
import { EpisodeProgress, renderBar } from "#cli/cli/progress.js";
import { skipOrFail, tempDir } from "./helpers.js";

// The CLI is packages/snn-export-cli/dist/src/cli/main.js (resolved through the workspace package).
const MAIN = fileURLToPath(new URL(import.meta.resolve("#cli/cli/main.js")));
const PKG = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "", ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (s: string) => s.split("\n").filter((l) => l !== "");
const hasStack = (s: string) => /^\s+at /m.test(s);

test("--help prints usage with commands and examples, exit 0", () => {
  const r = cli(["--help"]);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  assert.match(r.stdout, /^Usage:$/m);
  assert.match(r.stdout, /snn-export <command> \[options\]/);
  assert.match(r.stdout, /^\s+demo\s/m);
  assert.match(r.stdout, /Examples:/);
  assert.deepEqual(cli(["-h"]).stdout, r.stdout);
  assert.deepEqual(cli(["help"]).stdout, r.stdout);
});

test("demo --help lists every flag with examples; 'help demo' and '--help demo' agree", () => {
  const r = cli(["demo", "--help"]);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  for (const flag of ["--episodes", "--steps", "--neurons", "--seed", "--out", "--name", "--json", "--help", "--debug"]) {
    assert.ok(r.stdout.includes(flag), `demo help mentions ${flag}`);
  }
  assert.match(r.stdout, /Examples:\n\s+snn-export demo/);
  assert.equal(cli(["help", "demo"]).stdout, r.stdout);
  assert.equal(cli(["--help", "demo"]).stdout, r.stdout);
  assert.equal(cli(["demo", "-h"]).stdout, r.stdout);
});

test("--version prints the package.json version", () => {
  for (const flag of ["--version", "-v"]) {
    const r = cli([flag]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${PKG.version}\n`);
    assert.equal(r.stderr, "");
  }
});

test("no command: usage on stderr, exit 2", () => {
  const r = cli([]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /Usage:/);
});

test("unknown command: one line on stderr, exit 2, no stack trace", () => {
  const r = cli(["frobnicate"]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, /^snn-export: unknown command 'frobnicate'/);
  assert.ok(!hasStack(r.stderr));
  assert.match(cli(["dmeo"]).stderr, /did you mean 'demo'/);
});

test("bad flags and values: one line on stderr, exit 2", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--frob"], /unknown option '--frob'/],
    [["demo", "--episode", "3"], /unknown option '--episode' \(did you mean --episodes\?\)/],
    [["demo", "--episodes"], /--episodes needs a value/],
    [["demo", "--episodes", "0"], /--episodes must be a whole number from 1/],
    [["demo", "--steps", "many"], /--steps must be a whole number/],
    [["demo", "--neurons", "5"], /--neurons must be a whole number from 20 to 5,000/],
    [["demo", "--seed", "-1"], /--seed needs a value/],
    [["demo", "--seed=-1"], /--seed must be a whole number/],
    [["demo", "--json=yes"], /--json takes no value/],
    [["demo", "stray"], /unexpected argument 'stray'/],
    [["help", "nope"], /unknown command 'nope'/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: exit code`);
    assert.equal(r.stdout, "", `${args.join(" ")}: nothing on stdout`);
    assert.equal(lines(r.stderr).length, 1, `${args.join(" ")}: one line, got ${JSON.stringify(r.stderr)}`);
    assert.match(r.stderr, re, args.join(" "));
    assert.ok(!hasStack(r.stderr));
  }
});

test("--debug adds the stack trace", () => {
  const r = cli(["--debug", "frobnicate"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^snn-export: unknown command 'frobnicate'/);
  assert.ok(hasStack(r.stderr), r.stderr);
});

test("progress: bar on a TTY, plain lines otherwise, colour only when wanted", () => {
  assert.equal(renderBar(0, 10), "░".repeat(10));
  assert.equal(renderBar(1, 10), "█".repeat(10));
  assert.equal(renderBar(0.5, 10), "█".repeat(5) + "░".repeat(5));
  for (let f = 0; f <= 1; f += 0.01) assert.equal([...renderBar(f, 17)].length, 17);

  const out: string[] = [];
  const sink = { write: (s: string) => out.push(s), columns: 80 };
  const tty = new EpisodeProgress(sink, { episodes: 3, style: makeStyle(false), tty: true });
  tty.update(0, 0, 100);
  tty.update(0, 50, 100);
  tty.update(0, 50, 100); // unchanged: not redrawn
  tty.episodeDone(0, "done");
  assert.equal(out.length, 4);
  assert.match(out[1], /^\r\x1b\[2Kepisode 1\/3 .* 50%/);
  assert.equal(out[3], "episode 1/3  done\n");

  out.length = 0;
  const plain = new EpisodeProgress(sink, { episodes: 3, style: makeStyle(false), tty: false });
  plain.update(1, 50, 100);
  plain.episodeDone(1, "done");
  assert.deepEqual(out, ["episode 2/3  done\n"]);

  assert.equal(colorWanted({ isTTY: true }, {}), true);
  assert.equal(colorWanted({ isTTY: true }, { NO_COLOR: "1" }), false);
  assert.equal(colorWanted({ isTTY: true }, { NO_COLOR: "" }), true);
  assert.equal(colorWanted({ isTTY: false }, {}), false);
  assert.equal(makeStyle(false).bold("x"), "x");
  assert.equal(makeStyle(true).bold("x"), "\x1b[1mx\x1b[22m");
});

test("safeText: control, C1 and bidi characters of file text become visible escapes; other text is unchanged", () => {
  assert.equal(safeText("plain name, ünïcödé, 名前, 🧠"), "plain name, ünïcödé, 名前, 🧠");
  assert.equal(safeText("red\x1b[31m!\x07"), "red\\x1b[31m!\\x07");
  assert.equal(safeText("a\nb\rc\td\0e\x7f"), "a\\nb\\rc\\td\\x00e\\x7f");
  assert.equal(safeText("\u009b2J \u202eevil\u2066 \u2028"), "\\x9b2J \\u202eevil\\u2066 \\u2028");
  assert.equal(safeText(safeText("\x1b")), "\\x1b", "escaping twice changes nothing more");
  // every code point below U+00A0 that is not printable ASCII is escaped
  for (let c = 0; c < 0xa0; c++) {
    const ch = String.fromCharCode(c);
    const printable = c >= 0x20 && c < 0x7f;
    assert.equal(safeText(ch) === ch, printable, `U+${c.toString(16)}`);
  }

  const value = { name: "x\x1b[2J\u009b\u202e\u2028y", n: [1, 2] };
  const json = safeJson(JSON.stringify(value, null, 2));
  assert.deepEqual(JSON.parse(json), value, "the same JSON value");
  assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e\u2028]/.test(json), JSON.stringify(json));
  assert.ok(json.includes("\n  "), "indentation kept");
});

// ---- End to end: these need the real exporter (src/index.ts). ----

test("demo end to end: writes an HDF5 file, prints the summary, deterministic per seed", (t) => {
  const dir = tempDir(t, "snn-export-cli-");
  const args = ["demo", "--episodes", "2", "--steps", "300", "--neurons", "60", "--seed", "7", "--out", dir];
  const human = cli([...args, "--name", "human"]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /Experiment written to /);
  assert.match(human.stdout, /episodes\s+2 × 300 steps = 600 steps/);
  assert.match(human.stdout, /steps\/s written/);
  assert.match(human.stdout, /h5ls -r .*experiment_data\.h5/);
  // the HDF5 tool commands it suggests work on the file it wrote (h5dump once named a 1.0 path)
  const suggested = lines(human.stdout).map((l) => l.trim()).filter((l) => /^h5(ls|dump) /.test(l));
  assert.equal(suggested.length, 2, human.stdout);
  for (const cmd of suggested) {
    const r = spawnSync("bash", ["-c", cmd], { encoding: "utf8", timeout: 300_000 });
    if (r.status === 127) {
      skipOrFail(t, `${cmd.split(" ")[0]} is not installed (apt-get install hdf5-tools)`);
      break;
    }
    assert.equal(r.status, 0, `${cmd}\n${r.stdout}${r.stderr}`);
    assert.ok(!/error/i.test(r.stdout + r.stderr), `${cmd}\n${r.stdout}${r.stderr}`);
  }
  assert.ok(!/\x1b\[/.test(human.stdout + human.stderr), "no colour codes when not a TTY");
  // Not a TTY: one plain progress line per episode, no bar.
  assert.equal(lines(human.stderr).filter((l) => /^episode \d\/2 /.test(l)).length, 2, human.stderr);
  assert.ok(!human.stderr.includes("\r"));

  const a = cli([...args, "--name", "a", "--json"]);
  const b = cli([...args, "--name", "b", "--json"]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stderr, "", "--json prints nothing but the JSON");
  const ra = JSON.parse(a.stdout);
  const rb = JSON.parse(b.stdout);
  assert.equal(ra.episodes, 2);
  assert.equal(ra.steps, 600);
  assert.equal(ra.neurons, 60);
  assert.equal(ra.aborted, false);
  assert.ok(ra.spikes > 0);
  assert.ok(ra.stepsPerSecond > 0);
  assert.ok(existsSync(ra.filePath));
  assert.equal(statSync(ra.filePath).size, ra.fileBytes);
  assert.ok(ra.filePath.startsWith(join(dir, "a_")), ra.filePath);
  const signature = readFileSync(ra.filePath).subarray(0, 8);
  assert.deepEqual([...signature], [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], "an HDF5 file");
  for (const k of ["spikes", "rewards", "goalsReached", "weightChanges", "events", "synapses"]) {
    assert.equal(rb[k], ra[k], `same seed, same ${k}`);
  }
});

test("demo: library errors are one line with exit 1", (t) => {
  const dir = tempDir(t, "snn-export-cli-");
  const bad = cli(["demo", "--steps", "10", "--out", dir, "--name", "a/b"]);
  assert.equal(bad.code, 1, bad.stderr);
  assert.equal(bad.stdout, "");
  assert.equal(lines(bad.stderr).length, 1, bad.stderr);
  assert.match(bad.stderr, /^snn-export: error: .*\[INVALID_NAME\]\n$/);
  assert.ok(!hasStack(bad.stderr));

  const file = join(dir, "not-a-directory");
  writeFileSync(file, "x");
  const io = cli(["demo", "--steps", "10", "--out", file]);
  assert.equal(io.code, 1, io.stderr);
  assert.equal(lines(io.stderr).length, 1, io.stderr);
  assert.match(io.stderr, /^snn-export: error: /);
  assert.ok(!hasStack(io.stderr));
});

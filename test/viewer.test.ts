/**
 * `snn-export view` (issue 15): the server's security (token, traversal, files outside the
 * experiment, Host header), its windowed answers against the loader, the command line, and the
 * page in a real browser: Debian's chromium driven by playwright-core loads the demo experiment,
 * the numbers shown are checked against the loader's, the raster is zoomed (the requests stay
 * windowed), and a run that is being written is followed for a few seconds. Screenshots go to
 * screenshots/ (git-ignored). Without chromium the browser tests skip, or fail under CI=true.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DataExporter, ExperimentLoader, isSnnExportError } from "#lib/index.js";
import { unpack } from "#cli/viewer/binary.js";
import { MAX_RESPONSE_BYTES, MAX_SPIKE_LIST } from "#cli/viewer/data.js";
import { startViewer, type Viewer } from "#cli/viewer/server.js";
import { rng, skipOrFail, tempDir } from "./helpers.js";

const MAIN = fileURLToPath(new URL(import.meta.resolve("#cli/cli/main.js")));
const SCREENSHOTS = fileURLToPath(new URL("../../screenshots/", import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const WAIT = 30_000;

// The functions given to page.evaluate / waitForFunction run in the browser; the tests' tsconfig
// has no DOM types, so these are declared here for those bodies only.
declare const window: any;
declare const document: any;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The demo experiment (5 episodes of 2000 steps) in `dir`; its directory. */
function demo(dir: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [MAIN, "demo", "--out", dir, "--json", ...args], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { outputDir: string }).outputDir;
}

/** A raw GET: the path is sent exactly as given (fetch would normalise `..` away). */
function rawGet(v: Viewer, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: v.port, path, method, headers, timeout: WAIT }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), headers: res.headers }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer to ${path} in ${WAIT} ms`)));
    req.on("error", reject);
    req.end();
  });
}

const withToken = (v: Viewer, path: string) => `${path}${path.includes("?") ? "&" : "?"}token=${v.token}`;

async function getJson(v: Viewer, path: string): Promise<Record<string, unknown>> {
  const r = await rawGet(v, withToken(v, path));
  assert.equal(r.status, 200, r.body.toString());
  return JSON.parse(r.body.toString()) as Record<string, unknown>;
}

async function getPacked(v: Viewer, path: string): Promise<{ meta: Record<string, unknown>; arrays: Record<string, ArrayLike<number>>; bytes: number }> {
  const r = await rawGet(v, withToken(v, path));
  assert.equal(r.status, 200, r.body.toString().slice(0, 300));
  const { meta, arrays } = unpack(r.body);
  return { meta: meta as Record<string, unknown>, arrays, bytes: r.body.length };
}

/** An experiment with one dense episode: 3000 steps x 40 spikes of 500 neurons (120,000 spikes: more than a spike list). */
async function denseExperiment(dir: string): Promise<string> {
  const ex = await DataExporter.create("dense", { outputBaseDir: dir, provenance: false, neuralSamplingRate: 10 });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: 500 }, (_, i) => i) } });
  ex.startEpisode();
  const r = rng(7);
  const v = new Float32Array(500);
  for (let t = 0; t < 3000; t++) {
    const ids = new Set<number>();
    while (ids.size < 40) ids.add(Math.floor(r() * 500));
    for (let i = 0; i < 500; i++) v[i] = Math.sin(t / 50 + i);
    ex.log({ timestep: t, spikes: Uint32Array.from([...ids].sort((a, b) => a - b)), neuralState: { v }, behavior: { x: t / 3000 }, reward: t % 500 === 0 ? 1 : 0 });
  }
  ex.endEpisode({ success: true });
  await ex.close();
  return ex.outputDir;
}

test("server: every request needs the token (401 missing, 403 wrong), only its own routes, no traversal, no file outside the experiment", async (t) => {
  const dir = demo(tempDir(t, "snn-view-sec-"));
  const v = await startViewer({ target: dir });
  t.after(() => v.close());
  const loader = await ExperimentLoader.open(dir);
  t.after(() => loader.close());

  for (const path of ["/", "/app.js", "/api/status", "/api/overview", "/api/episodes", "/api/episode/0/raster", "/api/code/0", "/nothing"]) {
    assert.equal((await rawGet(v, path)).status, 401, `no token: ${path}`);
    assert.equal((await rawGet(v, `${path}?token=wrong`)).status, 403, `wrong token: ${path}`);
    assert.equal((await rawGet(v, path, { "x-snn-token": `${v.token}x` })).status, 403, `wrong token header: ${path}`);
    assert.equal((await rawGet(v, `${path}?token=`)).status, 401, `empty token: ${path}`);
  }
  const ok = await rawGet(v, "/api/status", { "x-snn-token": v.token });
  assert.equal(ok.status, 200);
  const page = await rawGet(v, `/?token=${v.token}`);
  assert.equal(page.status, 200);
  assert.match(String(page.headers["content-security-policy"]), /default-src 'none'/);
  assert.match(page.body.toString(), new RegExp(`app\\.js\\?token=${v.token}`));

  // traversal, encoded traversal, absolute paths, directory listings, source files next to the assets
  const secrets = [/"name": "snn-export"/, /root:.*:0:0:/, /import \{/, /Index of/i, /sourceMappingURL/];
  for (const path of [
    "/../package.json", "/app.js/../../package.json", "/%2e%2e/%2e%2e/package.json", "/%2E%2E%2Fpackage.json", "/..%2f..%2fetc%2fpasswd",
    "/api/code/..%2f..%2fetc%2fpasswd", "/api/code/0/../../../etc/passwd", "/api/../../etc/passwd", "//etc/passwd", "/etc/passwd", "/./app.js",
    "/..\\..\\package.json", "/dist/", "/page/", "/api/", "/src/viewer/server.ts", "/server.js", "/app.js.map", "/index.html/", "/api/code/-1",
    "/api/code/99", "/api/code?path=/etc/passwd", "/api/episode/0/../../../package.json", "/%00", "/app.js%00.html",
  ]) {
    const r = await rawGet(v, withToken(v, path));
    assert.ok(r.status === 400 || r.status === 404, `${path}: status ${r.status}`);
    for (const s of secrets) assert.doesNotMatch(r.body.toString(), s, path);
  }
  // the code snapshot's files by number only; they are what the loader reads, nothing else
  const files = loader.listCodeFiles();
  assert.ok(files.length >= 1);
  const code = await getJson(v, "/api/code/0");
  assert.equal(code.path, files[0].path);
  assert.equal(code.text, loader.getCodeFile(files[0].path));
  assert.equal((await rawGet(v, withToken(v, `/api/code/${files.length}`))).status, 404);

  // another site's page reaching loopback (DNS rebinding) names its own host
  assert.equal((await rawGet(v, withToken(v, "/api/status"), { host: "evil.example:80" })).status, 403);
  assert.equal((await rawGet(v, withToken(v, "/api/status"), { host: `localhost:${v.port}` })).status, 200);
  assert.equal((await rawGet(v, withToken(v, "/api/status"), {}, "POST")).status, 405);
  assert.equal((await rawGet(v, withToken(v, "/api/status"), {}, "DELETE")).status, 405);
});

test("server: bad query parameters are 400 with a message, missing episodes and variables 404; the server keeps answering", async (t) => {
  const dir = demo(tempDir(t, "snn-view-bad-"));
  const v = await startViewer({ target: dir });
  t.after(() => v.close());
  const cases: [string, number, RegExp][] = [
    ["/api/episode/0/raster?w=abc", 400, /w must be a whole number/],
    ["/api/episode/0/raster?w=0", 400, /w must be/],
    ["/api/episode/0/raster?w=100000", 400, /w must be/],
    ["/api/episode/0/raster?h=-3", 400, /h must be/],
    ["/api/episode/0/raster?from=1.5", 400, /from must be/],
    ["/api/episode/0/raster?n0=-1", 400, /n0 must be/],
    ["/api/episodes?from=x", 400, /from must be/],
    ["/api/episode/99", 404, /episode 99 does not exist/],
    ["/api/episode/99/raster", 404, /episode 99 does not exist/],
    ["/api/episode/0/traces?vars=nope&neurons=0", 404, /no neural_states variable "nope"/],
    ["/api/episode/0/traces?vars=v&neurons=100000", 400, /neuron 100000 does not exist/],
    ["/api/episode/0/traces?vars=v", 400, /traces need neurons/],
    ["/api/episode/0/traces?vars=v&neurons=" + Array.from({ length: 40 }, (_, i) => i).join(","), 400, /at most 32/],
    ["/api/episode/0/nothing", 404, /not found/],
  ];
  for (const [path, status, message] of cases) {
    const r = await rawGet(v, withToken(v, path));
    assert.equal(r.status, status, `${path}: ${r.body}`);
    assert.match((JSON.parse(r.body.toString()) as { error: string }).error, message, path);
  }
  assert.equal((await rawGet(v, withToken(v, "/api/status"))).status, 200);
});

test("server: windowed raster, traces, behaviour and markers match the loader and stay under the byte cap", async (t) => {
  const base = tempDir(t, "snn-view-win-");
  const dir = await denseExperiment(base);
  const v = await startViewer({ target: dir });
  t.after(() => v.close());
  const loader = await ExperimentLoader.open(dir);
  t.after(() => loader.close());
  const ep = loader.getEpisode(0);

  // the whole episode: more spikes than a list, so bins; every spike counted once
  const all = await getPacked(v, "/api/episode/0/raster?w=700&h=250");
  assert.equal(all.meta.kind, "bins");
  assert.ok(ep.attrs.total_spikes! > MAX_SPIKE_LIST);
  assert.equal(all.meta.spikes, ep.attrs.total_spikes);
  assert.equal(all.meta.cols, 700);
  assert.equal(all.meta.rows, 250);
  let sum = 0;
  for (let i = 0; i < all.arrays.bins.length; i++) sum += all.arrays.bins[i];
  assert.equal(sum, ep.attrs.total_spikes);
  assert.ok(all.bytes <= MAX_RESPONSE_BYTES);
  // a bin holds the spikes of its column and row: check one column against the loader
  const col = 123;
  const t0 = Math.ceil((col * 3000) / 700);
  const t1 = Math.ceil(((col + 1) * 3000) / 700);
  const inCol = ep.getSpikes({ from: t0, to: t1 }).neuronIds.length;
  let binned = 0;
  for (let r = 0; r < 250; r++) binned += all.arrays.bins[r * 700 + col];
  assert.equal(binned, inCol);

  // the largest pixel grid asked for still fits the cap (fewer rows)
  const big = await getPacked(v, "/api/episode/0/raster?w=4096&h=2048");
  assert.ok(big.bytes <= MAX_RESPONSE_BYTES, `${big.bytes} bytes`);
  assert.equal(big.meta.cols, 3000);

  // a zoomed window with a neuron range: the spikes themselves, exactly the loader's
  const zoom = await getPacked(v, "/api/episode/0/raster?from=1000&to=1200&n0=100&n1=300&w=800&h=300");
  assert.equal(zoom.meta.kind, "spikes");
  const want = ep.getSpikes({ from: 1000, to: 1200, neurons: { from: 100, to: 300 } });
  assert.equal(zoom.meta.spikes, want.neuronIds.length);
  assert.deepEqual(Array.from(zoom.arrays.n), Array.from(want.neuronIds));
  assert.deepEqual(Array.from(zoom.arrays.t, (x) => x + 1000), Array.from(want.timesteps));
  assert.deepEqual([zoom.meta.from, zoom.meta.to, zoom.meta.n0, zoom.meta.n1], [1000, 1200, 100, 300]);
  // a window past the episode is clamped to it
  const past = await getPacked(v, "/api/episode/0/raster?from=2900&to=99999&w=100&h=10");
  assert.deepEqual([past.meta.from, past.meta.to], [2900, 3000]);

  // traces: raw samples when few enough, min/max per column when not
  const states = ep.getNeuralStates({ variables: ["v"], neurons: [3, 7] });
  const raw = await getPacked(v, "/api/episode/0/traces?vars=v&neurons=3,7&w=1000");
  assert.equal(raw.meta.downsampled, false);
  assert.deepEqual(Array.from(raw.arrays.t), Array.from(states.timesteps));
  assert.deepEqual(Array.from(raw.arrays.s1), Array.from(states.variables.v.data as Float32Array).filter((_, i) => i % 2 === 1));
  const down = await getPacked(v, "/api/episode/0/traces?vars=v&neurons=3,7&w=50");
  assert.equal(down.meta.downsampled, true);
  assert.equal(down.arrays.t.length, 100);
  const v3 = Array.from(states.variables.v.data as Float32Array).filter((_, i) => i % 2 === 0);
  const firstCol = v3.slice(0, 6); // 300 samples over 50 columns: 6 a column
  assert.equal(down.arrays.s0[0], Math.min(...firstCol));
  assert.equal(down.arrays.s0[1], Math.max(...firstCol));

  const beh = await getPacked(v, "/api/episode/0/behavior?from=0&to=3000&w=200");
  assert.deepEqual(beh.meta.names, ["x"]);
  assert.equal(beh.arrays.t.length, 400);
  const mk = await getPacked(v, "/api/episode/0/markers?w=300");
  assert.deepEqual(Array.from(mk.arrays.rewardT), Array.from(ep.getRewards().timesteps));

  // the same windows from the spike overview (made once; one step and one neuron a bin here):
  // the same bins as read from the spikes
  const ov = await startViewer({ target: dir, directSpikes: 10_000 });
  t.after(() => ov.close());
  for (const q of ["w=700&h=250", "from=500&to=2900&n0=0&n1=500&w=500&h=200", "from=17&to=2999&n0=3&n1=497&w=333&h=77"]) {
    const direct = await getPacked(v, `/api/episode/0/raster?${q}`);
    const fromOverview = await getPacked(ov, `/api/episode/0/raster?${q}`);
    assert.equal(direct.meta.source, undefined);
    assert.equal(fromOverview.meta.source, "overview", q);
    assert.equal(fromOverview.meta.binSteps, 1);
    assert.equal(fromOverview.meta.spikes, direct.meta.spikes, q);
    assert.deepEqual(Array.from(fromOverview.arrays.bins), Array.from(direct.arrays.bins), q);
  }
});

test("server: a long episode's spike overview (several steps a bin) counts every spike once, per neuron exactly", async (t) => {
  const base = tempDir(t, "snn-view-ov-");
  const ex = await DataExporter.create("long", { outputBaseDir: base, provenance: false });
  ex.saveNetworkStructure({ neurons: { ids: Int32Array.from({ length: 300 }, (_, i) => i) } });
  ex.startEpisode();
  const r = rng(3);
  for (let t = 0; t < 40_000; t++) {
    const a = Math.floor(r() * 150);
    ex.log({ timestep: 5 + t, spikes: Uint32Array.of(a, 150 + Math.floor(r() * 150)) });
  }
  ex.endEpisode();
  await ex.close();
  const v = await startViewer({ target: ex.outputDir, directSpikes: 1_000 });
  t.after(() => v.close());
  const loader = await ExperimentLoader.open(ex.outputDir);
  t.after(() => loader.close());
  const sp = loader.getEpisode(0).getSpikes();

  const all = await getPacked(v, "/api/episode/0/raster?w=1000&h=300");
  assert.equal(all.meta.source, "overview");
  // 3 steps a bin (40,000 steps in at most 16,384 bins), or a coarser level of 4 times that while
  // a pixel column (40 steps) still holds a whole bin
  const B = all.meta.binSteps as number;
  assert.equal(B, 12);
  assert.equal(all.meta.spikes, 80_000);
  // one row a neuron: each row's sum is that neuron's spike count
  const perNeuron = new Array<number>(300).fill(0);
  for (const n of sp.neuronIds) perNeuron[n]++;
  for (let row = 0; row < 300; row++) {
    let sum = 0;
    for (let c = 0; c < 1000; c++) sum += all.arrays.bins[row * 1000 + c];
    assert.equal(sum, perNeuron[row], `neuron ${row}`);
  }
  // a window: the spikes whose bin starts in it
  const from = 12_345;
  const to = 31_000;
  const win = await getPacked(v, `/api/episode/0/raster?from=${from}&to=${to}&n0=100&n1=200&w=4000&h=100`);
  assert.equal(win.meta.source, "overview");
  assert.equal(win.meta.binSteps, 3);
  let want = 0;
  for (let i = 0; i < sp.neuronIds.length; i++) {
    const start = 5 + Math.floor((sp.timesteps[i] - 5) / 3) * 3;
    if (start >= from && start < to && sp.neuronIds[i] >= 100 && sp.neuronIds[i] < 200) want++;
  }
  assert.equal(win.meta.spikes, want);
  // a narrow window is read from the spikes again, exactly
  const narrow = await getPacked(v, "/api/episode/0/raster?from=20000&to=20100&w=400&h=100");
  assert.equal(narrow.meta.kind, "spikes");
  assert.equal(narrow.meta.spikes, 200);
});

test("server: a plain file, a missing path and a directory without an experiment are typed errors", async (t) => {
  const dir = tempDir(t, "snn-view-err-");
  const text = join(dir, "notes.txt");
  writeFileSync(text, "not hdf5");
  await assert.rejects(startViewer({ target: text }), (e) => isSnnExportError(e, "NOT_HDF5"));
  await assert.rejects(startViewer({ target: join(dir, "missing") }), (e) => isSnnExportError(e, "NOT_FOUND"));
  await assert.rejects(startViewer({ target: dir }), (e) => isSnnExportError(e, "NOT_FOUND"));
});

test("server: a file not closed by its writer is open while written, interrupted once not written for a minute", async (t) => {
  const base = tempDir(t, "snn-view-stale-");
  const ex = await DataExporter.create("stale", { outputBaseDir: base, provenance: false });
  t.after(() => ex.close());
  ex.startEpisode();
  for (let i = 0; i < 50; i++) ex.log({ timestep: i, spikes: Uint32Array.of(i % 7) });
  ex.flush();
  const fresh = await startViewer({ target: ex.outputDir });
  t.after(() => fresh.close());
  assert.equal((await getJson(fresh, "/api/status")).status, "open");
  assert.equal((await getJson(fresh, "/api/overview")).status, "open");
  // as if the writer had died two minutes ago
  const old = new Date(Date.now() - 120_000);
  utimesSync(ex.filePath, old, old);
  const stale = await startViewer({ target: ex.outputDir });
  t.after(() => stale.close());
  const s = await getJson(stale, "/api/status");
  assert.equal(s.status, "interrupted");
  assert.equal(s.live, true);
  assert.equal((await getJson(stale, "/api/overview")).status, "interrupted");
  assert.equal((s.last as { status: string }).status, "running");
});

/** Runs `snn-export view ...`; resolves with the child and its first stdout line. */
function startCli(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [MAIN, "view", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`view printed no URL in ${WAIT} ms; stderr: ${err}`)), WAIT);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve({ child, url: out.split("\n")[0], stderr: () => err });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`view exited with ${code} before printing a URL: ${err}`));
    });
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on("exit", (code) => resolve(code))));
}

test("cli: view prints the URL first, warns off loopback, refuses a port in use and bad input in one line", async (t) => {
  const dir = demo(tempDir(t, "snn-view-cli-"));
  const { child, url, stderr } = await startCli([dir, "--no-open"]);
  t.after(() => child.kill("SIGKILL"));
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<title>snn-export view<\/title>/);
  assert.equal((await fetch(url.replace(/token=.*/, "token=nope"))).status, 403);
  const port = Number(/:(\d+)\//.exec(url)![1]);

  // the same port again: in use
  const again = spawnSync(process.execPath, [MAIN, "view", dir, "--no-open", "--port", String(port)], { encoding: "utf8", timeout: WAIT });
  assert.equal(again.status, 1);
  assert.match(again.stderr, new RegExp(`^snn-export: error: port ${port} on 127\\.0\\.0\\.1 is in use.*\\[IO_ERROR\\]\\n$`));
  child.kill("SIGTERM");
  assert.equal(await exitOf(child), 0);
  assert.match(stderr(), /viewer stopped/);

  // not loopback: a warning on stderr (0.0.0.0 reaches this machine too)
  const open = await startCli([dir, "--no-open", "--host", "0.0.0.0"]);
  t.after(() => open.child.kill("SIGKILL"));
  await sleep(200);
  assert.match(open.stderr(), /warning: listening on 0\.0\.0\.0, not loopback/);
  assert.equal((await fetch(open.url)).status, 200);
  open.child.kill("SIGINT");
  assert.equal(await exitOf(open.child), 0);

  const missing = spawnSync(process.execPath, [MAIN, "view", join(dir, "nope"), "--no-open"], { encoding: "utf8", timeout: WAIT });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^snn-export: error: no experiment at .*nope: no such file or directory \[NOT_FOUND\]\n$/);
  const badPort = spawnSync(process.execPath, [MAIN, "view", dir, "--port", "http"], { encoding: "utf8", timeout: WAIT });
  assert.equal(badPort.status, 2);
  assert.match(badPort.stderr, /--port must be a whole number from 1 to 65,535/);
  const help = spawnSync(process.execPath, [MAIN, "view", "--help"], { encoding: "utf8", timeout: WAIT });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Examples:\n {2}snn-export view experiments\//);
});

// ---------------------------------------------------------------------------------------------
// In a real browser

type Browser = import("playwright-core").Browser;
type Page = import("playwright-core").Page;

async function launch(t: TestContext): Promise<Browser | null> {
  if (!existsSync(CHROMIUM)) {
    skipOrFail(t, `no chromium at ${CHROMIUM} (Debian: apt-get install chromium; .ci/run installs it)`);
    return null;
  }
  const { chromium } = await import("playwright-core");
  const root = process.getuid?.() === 0;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: WAIT, args: root ? ["--no-sandbox"] : [] });
  t.after(() => browser.close());
  mkdirSync(SCREENSHOTS, { recursive: true });
  return browser;
}

async function openPage(browser: Browser, url: string): Promise<{ page: Page; rasterRequests: { url: string; bytes: number }[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(WAIT);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  const rasterRequests: { url: string; bytes: number }[] = [];
  page.on("response", (r) => {
    if (r.url().includes("/raster")) void r.body().then((b) => rasterRequests.push({ url: r.url(), bytes: b.length }), () => undefined);
  });
  await page.goto(url, { timeout: WAIT });
  await page.waitForFunction(() => window.viewer?.panel.drawn > 0, null, { timeout: WAIT });
  return { page, rasterRequests, errors };
}

const text = (page: Page, sel: string) => page.locator(sel).first().innerText({ timeout: WAIT });
const num = async (page: Page, sel: string) => Number((await text(page, sel)).replace(/,/g, ""));

test("browser: the demo's overview, learning curve and episode show the loader's numbers; the raster zooms with windowed requests", async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  const dir = demo(tempDir(t, "snn-view-page-"));
  const v = await startViewer({ target: dir });
  t.after(() => v.close());
  const loader = await ExperimentLoader.open(dir);
  t.after(() => loader.close());
  const { page, rasterRequests, errors } = await openPage(browser, v.url);

  const meta = loader.getMetadata();
  const net = loader.getNetworkStructure();
  const table = loader.episodes();
  assert.equal(await text(page, "#exp-name"), meta.experimentName);
  assert.equal(await text(page, "#status-badge"), "closed");
  assert.equal(await num(page, "#ov-episodes"), loader.episodeCount);
  assert.equal(await num(page, "#net-neurons"), net.nNeurons);
  assert.equal(await num(page, "#net-synapses"), net.weights!.data.length);
  const types = net.neurons.types as string[];
  assert.equal(await num(page, ".counts-types tr:has(th:text-is('excitatory')) td"), types.filter((x) => x === "excitatory").length);
  const git = meta.git as { commit?: string; dirty?: boolean } | undefined;
  if (git?.commit) assert.equal(await text(page, "#git-commit"), git.commit);
  assert.equal(await num(page, "#curve-count"), table.ids.length);
  const wins = Array.from(table.success).filter((s) => s === 1).length;
  assert.match(await text(page, "#curve-success"), new RegExp(`^${wins} of ${table.ids.length} `));

  // the last episode opens first
  const last = table.ids.length - 1;
  const ep = loader.getEpisode(last);
  assert.equal(await text(page, "#episode-title"), `Episode ${last}`);
  assert.equal(await num(page, "#ep-spikes"), ep.attrs.total_spikes);
  assert.equal(await num(page, "#ep-steps"), ep.attrs.total_timesteps);
  assert.equal(await num(page, "#ep-reward"), ep.attrs.total_reward);
  assert.match(await text(page, "#raster-info"), new RegExp(`^${ep.attrs.total_spikes!.toLocaleString("en-US")} spikes in \\[0, 2,000\\)`));
  const events = ep.getEvents().length;
  assert.match(await text(page, "#events-count"), new RegExp(`^${events} event`));
  await page.screenshot({ path: join(SCREENSHOTS, "viewer-demo.png"), fullPage: true });
  await page.locator("#episode-section").screenshot({ path: join(SCREENSHOTS, "viewer-episode.png") });

  // a code snapshot file opens in the file viewer with the stored text
  const files = loader.listCodeFiles().filter((f) => f.stored);
  if (files.length) {
    await page.locator("#code-files a").first().click();
    await page.waitForFunction(() => !document.getElementById("file-viewer").hidden, null, { timeout: WAIT });
    assert.equal(await page.locator("#file-text").textContent(), loader.getCodeFile(files[0].path));
    await page.locator("#file-close").click();
  }

  // open episode 1 through the input
  await page.fill("#episode-id", "1");
  const before = await page.evaluate(() => window.viewer.panel.drawn as number);
  await page.click("#episode-open");
  await page.waitForFunction((n) => window.viewer.panel.drawn > n && window.viewer.panel.info.id === 1, before, { timeout: WAIT });
  assert.equal(await num(page, "#ep-spikes"), loader.getEpisode(1).attrs.total_spikes);

  // zoom the raster: 4 wheel steps in around its middle, then a drag over part of it
  const box = (await page.locator("#raster-canvas").boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -100);
  await page.waitForFunction(() => {
    const p = window.viewer.panel;
    return p.lastRaster && p.lastRaster.to - p.lastRaster.from < 1000;
  }, null, { timeout: WAIT });
  const zoomed = await page.evaluate(() => window.viewer.panel.lastRaster);
  assert.ok(zoomed.to - zoomed.from < 2000 * 0.8 ** 3, JSON.stringify(zoomed));
  await page.mouse.move(box.x + box.width * 0.4, box.y + 20);
  await page.mouse.down({ button: "left" });
  await page.mouse.move(box.x + box.width * 0.6, box.y + 60, { steps: 5 });
  await page.mouse.up();
  // shift+drag: a neuron range
  await page.keyboard.down("Shift");
  await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.25);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.5, { steps: 5 });
  await page.mouse.up();
  await page.keyboard.up("Shift");
  await page.waitForFunction((z) => {
    const r = window.viewer.panel.lastRaster;
    return r && r.to - r.from < z.to - z.from && r.n1 - r.n0 < 200;
  }, zoomed, { timeout: WAIT });
  await sleep(300); // the last request of the gesture
  const final = await page.evaluate(() => window.viewer.panel.lastRaster);
  const want = loader.getEpisode(1).getSpikes({ from: final.from, to: final.to, neurons: { from: final.n0, to: final.n1 } });
  assert.equal(final.spikes, want.neuronIds.length);
  assert.match(await text(page, "#raster-info"), new RegExp(`^${want.neuronIds.length.toLocaleString("en-US")} spikes in \\[${final.from.toLocaleString("en-US")}, ${final.to.toLocaleString("en-US")}\\)`));
  // every raster request asked for a window at the pixels shown, and got at most the byte cap
  assert.ok(rasterRequests.length >= 3);
  for (const r of rasterRequests) {
    const q = new URL(r.url).searchParams;
    assert.ok(Number(q.get("w")) <= 4096 && Number(q.get("h")) <= 2048, r.url);
    assert.ok(q.has("from") && q.has("to") && q.has("n0") && q.has("n1"), r.url);
    assert.ok(r.bytes <= MAX_RESPONSE_BYTES, `${r.url}: ${r.bytes} bytes`);
  }
  const lastUrl = new URL(rasterRequests.at(-1)!.url).searchParams;
  assert.ok(Number(lastUrl.get("to")) - Number(lastUrl.get("from")) < 2000);
  await page.locator("#episode-section").screenshot({ path: join(SCREENSHOTS, "viewer-raster-zoomed.png") });

  // clicking the learning curve opens that episode
  const curve = (await page.locator("#curve .u-over").boundingBox())!;
  await page.locator("#curve .u-over").scrollIntoViewIfNeeded();
  const c2 = (await page.locator("#curve .u-over").boundingBox())!;
  await page.mouse.move(c2.x + 2, c2.y + c2.height / 2);
  await page.mouse.click(c2.x + 2, c2.y + c2.height / 2);
  await page.waitForFunction(() => window.viewer.panel.info.id === 0, null, { timeout: WAIT });
  assert.ok(curve.width > 0);
  assert.deepEqual(errors, []);
});

test("browser: the page follows a run while it is written (new episodes, the episode's plots extend) without a reload", async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  const base = tempDir(t, "snn-view-live-");
  // the demo writes 16,000-40,000 steps/s here: 3 episodes of 250,000 steps last 20 s or more
  // (enough for the page to load and see the file grow), a flush every second
  const writer = spawn(process.execPath, [MAIN, "demo", "--out", base, "--episodes", "3", "--steps", "250000", "--name", "live"], { stdio: ["ignore", "ignore", "pipe"] });
  let writerErr = "";
  writer.stderr!.on("data", (c: Buffer) => (writerErr += c.toString()));
  t.after(() => writer.kill("SIGKILL"));
  // wait until the file has its first flush (an exporter writes the root attributes then)
  let v: Viewer | null = null;
  const until = Date.now() + WAIT;
  while (v === null) {
    const dirs = existsSync(base) ? readdirSync(base).filter((d) => d.startsWith("live_")) : [];
    if (dirs.length) {
      try {
        v = await startViewer({ target: join(base, dirs[0]) });
      } catch (err) {
        if (Date.now() > until) throw err;
      }
    }
    if (v === null) {
      assert.ok(Date.now() < until, `no readable file in ${WAIT} ms: ${writerErr}`);
      await sleep(100);
    }
  }
  const viewer = v;
  t.after(() => viewer.close());
  const { page, errors } = await openPage(browser, viewer.url);
  assert.equal(writer.exitCode, null, "the writer ended before the page was loaded: nothing left to follow");
  assert.equal(await text(page, "#status-badge"), "open");
  const start = { episodes: await num(page, "#curve-count"), steps: await num(page, "#ep-steps"), episode: await page.evaluate(() => window.viewer.panel.info.id as number) };
  const polls0 = await page.evaluate(() => window.viewer.polls as number);
  // within a few seconds: more steps in the open episode, or a new episode opened
  await page.waitForFunction((s) => {
    const w = window.viewer;
    const steps = Number(document.getElementById("ep-steps").textContent.replace(/,/g, ""));
    return w.panel.info.id > s.episode || steps > s.steps;
  }, start, { timeout: WAIT });
  await page.screenshot({ path: join(SCREENSHOTS, "viewer-live.png"), fullPage: true });
  // the raster was drawn again for the longer episode (the window's end follows it), from an
  // answer for the episode shown (not a late answer for the one before)
  await page.waitForFunction(() => {
    const w = window.viewer;
    return w.panel.lastRaster && w.panel.lastRaster.to === w.panel.info.to && w.panel.lastRaster.url === `/api/episode/${w.panel.info.id}/raster`;
  }, null, { timeout: WAIT });
  // the writer ends: all 3 episodes and the status closed, still without a reload
  assert.equal(await exitOf(writer), 0, writerErr);
  await page.waitForFunction(() => document.getElementById("status-badge").textContent === "closed", null, { timeout: WAIT });
  await page.waitForFunction(() => document.getElementById("curve-count").textContent === "3", null, { timeout: WAIT });
  assert.ok(start.episodes <= 3);
  assert.ok((await page.evaluate(() => window.viewer.polls as number)) > polls0);
  const loader = await ExperimentLoader.open(viewer.filePath);
  t.after(() => loader.close());
  await page.waitForFunction((n) => window.viewer.panel.info.id === n, loader.episodeCount - 1, { timeout: WAIT });
  await page.waitForFunction((s) => document.getElementById("ep-spikes").textContent.replace(/,/g, "") === String(s), loader.getEpisode(loader.episodeCount - 1).attrs.total_spikes, { timeout: WAIT });
  const shown = await page.evaluate(() => ({ raster: window.viewer.panel.lastRaster, id: window.viewer.panel.info.id }));
  await page.waitForFunction((id) => window.viewer.panel.lastRaster?.url === `/api/episode/${id}/raster` && window.viewer.panel.lastRaster.to === window.viewer.panel.info.to, shown.id, { timeout: WAIT });
  assert.deepEqual(errors, []);
});

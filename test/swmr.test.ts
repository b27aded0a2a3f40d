/** enableSwmr: readers (h5py in SWMR mode, our loader in live mode) watch an episode grow while it is written (format 2.0: its rows of the experiment-wide streams, named by the episode table). */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { test, type TestContext } from "node:test";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ExperimentLoader, isSnnExportError } from "#lib/index.js";
import { tempDir } from "./helpers.js";

const WRITER = fileURLToPath(new URL("./fixtures/swmr-writer.js", import.meta.url));
const PY = "/usr/bin/python3";
const hasH5py = spawnSync(PY, ["-c", "import h5py"]).status === 0;

/** Every wait of these tests ends: the writer is killed after this long. */
const WRITER_TIMEOUT_MS = 120_000;

/** Starts the writer; with `readyFile` it waits after its first flush until that file exists. */
function startWriter(t: TestContext, dir: string, steps: number, readyFile?: string): Promise<{ path: string; done: Promise<unknown> }> {
  const child = spawn(process.execPath, [WRITER, dir, String(steps), ...(readyFile ? [readyFile] : [])], { stdio: ["ignore", "pipe", "inherit"], timeout: WRITER_TIMEOUT_MS });
  t.after(() => void child.kill());
  const exited = once(child, "exit");
  let out = "";
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += String(d);
      const nl = out.indexOf("\n");
      if (nl > 0) resolve({ path: out.slice(0, nl), done: exited });
    });
    child.on("error", reject);
    void exited.then(([code, signal]) => reject(new Error(`the writer exited (${code ?? signal}) before naming its file`)), reject);
  });
}

/**
 * Follows episode 0 the way FORMAT.md describes (format 2.0): its row of the episode table
 * (`step_rows`, `status`), then its slice of the streams `/timesteps` and `/behavior/x`, each
 * dataset refreshed. A flush updates the datasets one after another, so a reader may see the table
 * or one stream a flush ahead of another; it reads the rows present in all of them. After its first
 * read it creates the ready file (argv[3]) the writer waits for.
 */
const READER = `
import h5py, numpy as np, sys, time, json
f = h5py.File(sys.argv[1], "r", swmr=True)
lengths, bad, statuses = [], [], set()
steps = int(sys.argv[2])
deadline = time.time() + 30
while time.time() < deadline:
    try:
        rows, status = f["episodes/step_rows"], f["episodes/status"]
        t = f["timesteps"]; x = f["behavior/x"]
    except KeyError:
        f.close(); time.sleep(0.05); f = h5py.File(sys.argv[1], "r", swmr=True); continue
    rows.refresh(); status.refresh(); t.refresh(); x.refresh()
    if rows.shape[0] == 0 or status.shape[0] == 0:
        time.sleep(0.02); continue
    a, b = (int(v) for v in rows[0])
    s = int(status[0]); statuses.add(s)
    if a != 0 or b < 0 or s not in (0, 1):  # FORMAT.md: 0 running, 1 completed
        bad.append(["episode row", a, b, s])
    n = min(b, t.shape[0], x.shape[0])
    tv, xv = t[a:a + n], x[a:a + n]
    if not (np.array_equal(tv, np.arange(n)) and np.array_equal(xv, np.arange(n) * 0.5)): bad.append(n)
    lengths.append(n)
    if len(lengths) == 1: open(sys.argv[3], "w").close()
    if n >= steps and s == 1: break
    time.sleep(0.02)
print(json.dumps({"lengths": lengths, "bad": bad, "statuses": sorted(statuses)}))
`;

test("h5py in SWMR mode sees the episode grow and never reads torn values", { timeout: 2 * WRITER_TIMEOUT_MS, skip: !hasH5py && process.env.CI !== "true" ? "python3-h5py is not installed" : false }, async (t) => {
  assert.ok(hasH5py, "CI needs python3-h5py (apt-get install python3-h5py)");
  const dir = tempDir(t);
  const steps = 3000;
  const ready = join(dir, "reader-ready");
  const { path, done } = await startWriter(t, dir, steps, ready);
  const r = spawnSync(PY, ["-c", READER, path, String(steps), ready], { encoding: "utf8", timeout: 60_000 });
  await done;
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { lengths: number[]; bad: unknown[]; statuses: number[] };
  assert.deepEqual(res.bad, []);
  assert.deepEqual(res.statuses, [0, 1], "the episode's row is seen running (0) while written, completed (1) at the end");
  assert.equal(res.lengths.at(-1), steps, "the reader sees every step in the end");
  const distinct = new Set(res.lengths);
  assert.ok(distinct.size >= 2 && res.lengths.some((n) => n > 0 && n < steps), `the reader saw no growth: lengths ${[...distinct].join(", ")}`);
  assert.ok(res.lengths.every((n, i) => i === 0 || n >= res.lengths[i - 1]), "lengths only grow");
});

test("ExperimentLoader live mode re-reads growing streams while the writer runs", { timeout: 2 * WRITER_TIMEOUT_MS }, async (t) => {
  const dir = tempDir(t);
  const steps = 3000;
  const ready = join(dir, "reader-ready"); // created after the first read that sees steps: the writer waits for it
  const { path, done } = await startWriter(t, dir, steps, ready);
  const seen: number[] = [];
  let failures = 0;
  let finished = false;
  void done.then(() => (finished = true));
  const until = Date.now() + WRITER_TIMEOUT_MS;
  while (!finished) {
    assert.ok(Date.now() < until, `the writer did not finish within ${WRITER_TIMEOUT_MS} ms: lengths seen ${[...new Set(seen)].join(", ")}`);
    try {
      await using loader = await ExperimentLoader.open(path, { live: true });
      if (loader.episodeCount > 0) {
        const ep = loader.getEpisode(0);
        const beh = ep.getBehavior();
        const n = beh.timesteps.length;
        for (let i = 0; i < n; i++) {
          assert.equal(beh.timesteps[i], i);
          assert.equal(beh.variables.x.data[i], i * 0.5);
        }
        const sp = ep.getSpikes();
        for (let i = 0; i < sp.neuronIds.length; i += 2) {
          const t = sp.timesteps[i];
          assert.deepEqual([sp.timesteps[i + 1], sp.neuronIds[i], sp.neuronIds[i + 1]], [t, t % 5, 5 + (t % 3)]);
        }
        seen.push(n);
        if (n > 0 && !existsSync(ready)) writeFileSync(ready, "");
      }
    } catch (err) {
      // a read that meets metadata being rewritten fails with a typed error and is simply tried
      // again at the next poll; it must never return wrong values (checked above)
      if (!isSnnExportError(err)) throw err;
      failures++;
    }
    await new Promise((r) => setTimeout(r, 40));
  }
  await done;
  assert.ok(new Set(seen).size >= 2 && seen.some((n) => n > 0 && n < steps), `the loader saw no growth: lengths ${[...new Set(seen)].join(", ")}`);
  assert.ok(failures <= seen.length, `${failures} failed polls against ${seen.length} good ones`);
  await using loader = await ExperimentLoader.open(path);
  assert.equal(loader.getEpisode(0).getBehavior().timesteps.length, steps);
});

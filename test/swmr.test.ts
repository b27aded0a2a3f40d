/** enableSwmr: readers (h5py in SWMR mode, our loader in live mode) watch an episode grow while it is written. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ExperimentLoader, isSnnExportError } from "../src/index.js";
import { tempDir } from "./helpers.js";

const WRITER = fileURLToPath(new URL("./fixtures/swmr-writer.js", import.meta.url));
const PY = "/usr/bin/python3";
const hasH5py = spawnSync(PY, ["-c", "import h5py"]).status === 0;

function startWriter(dir: string, steps: number): Promise<{ path: string; done: Promise<unknown> }> {
  const child = spawn(process.execPath, [WRITER, dir, String(steps)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += String(d);
      const nl = out.indexOf("\n");
      if (nl > 0) resolve({ path: out.slice(0, nl), done: once(child, "exit") });
    });
    child.on("error", reject);
  });
}

const READER = `
import h5py, numpy as np, sys, time, json
f = h5py.File(sys.argv[1], "r", swmr=True)
lengths, bad = [], []
deadline = time.time() + 30
while time.time() < deadline:
    try:
        ep = f["episodes/episode_0000"]
        t = ep["timesteps"]; x = ep["behavior/x"]
    except KeyError:
        f.close(); time.sleep(0.05); f = h5py.File(sys.argv[1], "r", swmr=True); continue
    t.refresh(); x.refresh()
    n = min(t.shape[0], x.shape[0])
    tv, xv = t[:n], x[:n]
    if not (np.array_equal(tv, np.arange(n)) and np.array_equal(xv, np.arange(n) * 0.5)): bad.append(n)
    lengths.append(n)
    if n >= int(sys.argv[2]): break
    time.sleep(0.02)
print(json.dumps({"lengths": lengths, "bad": bad}))
`;

test("h5py in SWMR mode sees the episode grow and never reads torn values", { skip: !hasH5py && process.env.CI !== "true" ? "python3-h5py is not installed" : false }, async (t) => {
  assert.ok(hasH5py, "CI needs python3-h5py (apt-get install python3-h5py)");
  const dir = tempDir(t);
  const steps = 3000;
  const { path, done } = await startWriter(dir, steps);
  const r = spawnSync(PY, ["-c", READER, path, String(steps)], { encoding: "utf8", timeout: 60_000 });
  await done;
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { lengths: number[]; bad: number[] };
  assert.deepEqual(res.bad, []);
  const distinct = new Set(res.lengths);
  assert.ok(distinct.size >= 2 && res.lengths.some((n) => n > 0 && n < steps), `the reader saw no growth: lengths ${[...distinct].join(", ")}`);
  assert.ok(res.lengths.every((n, i) => i === 0 || n >= res.lengths[i - 1]), "lengths only grow");
});

test("ExperimentLoader live mode re-reads growing streams while the writer runs", async (t) => {
  const dir = tempDir(t);
  const steps = 3000;
  const { path, done } = await startWriter(dir, steps);
  const seen: number[] = [];
  let failures = 0;
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
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

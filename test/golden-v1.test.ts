/**
 * Golden files of format 1.0 (test/fixtures/golden/v1.0/): files written once by the 1.0 writer
 * (test/golden/make-v1.ts) with what the 1.0 loader returned for them (`<name>.expected.json`).
 * Every later loader must read them and return exactly the same view (test/golden/view.ts):
 * 1.x files are read forever. When this test fails, the loader changed what it returns for an
 * old file: fix the loader (or, for a deliberate API change, say so in the commit that edits the
 * JSON by hand); never regenerate the golden files.
 *
 * A second part reads a few values with h5py (needs /usr/bin/python3 with h5py and numpy; skipped
 * with the reason when missing, except on CI (CI=true), where it fails).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ExperimentLoader } from "#lib/index.js";
import { GOLDEN_V1_DIR, GOLDEN_V1_NAMES, goldenView, type Json } from "./golden/view.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url)); // dist/test -> repository root
const DIR = join(ROOT, GOLDEN_V1_DIR);
const PYTHON = "/usr/bin/python3";

interface Expected {
  about: Record<string, string>;
  view: Json;
}

function expected(name: string): Expected {
  return JSON.parse(readFileSync(join(DIR, `${name}.expected.json`), "utf8")) as Expected;
}

const sha256 = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");

/** Path and values of the first place where `a` and `b` differ, or null (JSON data only). */
function firstDifference(a: Json, b: Json, path = "view"): string | null {
  const show = (x: Json) => {
    const s = JSON.stringify(x);
    return s === undefined ? "undefined" : s.length > 200 ? `${s.slice(0, 200)}…` : s;
  };
  if (a === b) return null;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object" || Array.isArray(a) !== Array.isArray(b)) {
    return `${path}: got ${show(a)}, expected ${show(b)}`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return a.length === b.length ? null : `${path}: got ${a.length} elements, expected ${b.length}`;
  }
  const ao = a as Record<string, Json>;
  const bo = b as Record<string, Json>;
  for (const k of new Set([...Object.keys(bo), ...Object.keys(ao)])) {
    if (!(k in ao)) return `${path}.${k}: missing, expected ${show(bo[k])}`;
    if (!(k in bo)) return `${path}.${k}: got ${show(ao[k])}, not expected`;
    const d = firstDifference(ao[k], bo[k], `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

for (const name of GOLDEN_V1_NAMES) {
  test(`golden v1.0 ${name}.h5: the loader returns the recorded view`, async () => {
    const file = join(DIR, `${name}.h5`);
    assert.ok(existsSync(file), `golden file ${file} is missing`);
    const exp = expected(name);
    assert.equal(exp.about.format_version, "1.0");
    const before = sha256(file);
    const loader = await ExperimentLoader.open(file);
    let view: Json;
    try {
      view = goldenView(loader);
    } finally {
      loader.close();
    }
    assert.equal(sha256(file), before, "reading must not change a golden file");
    const diff = firstDifference(view, exp.view);
    assert.equal(diff, null, `${name}.h5 is read differently than format 1.0 recorded: ${diff}`);
    assert.deepStrictEqual(view, exp.view);
  });
}

test("golden v1.0: what the files hold (a check of the recorded views themselves)", () => {
  type V = { metadata: Record<string, Json>; episodes: Array<{ attrs: Record<string, Json> }> };
  const view = (n: string) => expected(n).view as unknown as V;
  for (const n of GOLDEN_V1_NAMES) assert.equal(view(n).metadata.formatVersion, "1.0", n);
  assert.equal(view("optimized").metadata.layout, "optimized");
  assert.equal(view("standard").metadata.layout, "standard");
  assert.equal(view("interrupted").metadata.status, "interrupted");
  assert.deepEqual(view("interrupted").episodes.map((e) => e.attrs.status), ["completed", "completed", "interrupted"]);
  assert.deepEqual(view("optimized").episodes.map((e) => [e.attrs.status, e.attrs.success]), [
    ["completed", true], ["completed", false], ["completed", null], ["incomplete", null],
  ]);
  assert.deepEqual(view("empty").episodes, []);
});

test("golden v1.0: the comparison sees a one-ulp change, a NaN, a dtype and a missing key", () => {
  const exp = expected("optimized").view;
  const mutate = (f: (v: any) => void): Json => {
    const copy = structuredClone(exp) as any;
    f(copy);
    return copy as Json;
  };
  const v = (x: any) => x.episodes[0].neuralStates.variables.w.data.values;
  const cases: Array<[string, Json]> = [
    ["one ulp", mutate((x) => { const a = v(x); const i = a.findIndex((y: unknown) => typeof y === "number" && y > 0); a[i] = nextUp(a[i]); })],
    ["NaN", mutate((x) => { v(x)[2] = { $number: "NaN" }; })],
    ["dtype", mutate((x) => { x.episodes[0].neuralStates.variables.w.dtype = "float32"; })],
    ["typed class", mutate((x) => { x.episodes[0].spikes.neuronIds.$typed = "Int32Array"; })],
    ["missing key", mutate((x) => { delete x.episodes[1].attrs.success; })],
  ];
  for (const [what, changed] of cases) {
    assert.notEqual(firstDifference(changed, exp), null, what);
    assert.throws(() => assert.deepStrictEqual(changed, exp), what);
  }
});

/** The next float64 above a positive `x`. */
function nextUp(x: number): number {
  const f = new Float64Array([x]);
  new BigInt64Array(f.buffer)[0] += 1n;
  return f[0];
}

/** h5py reads a few values of every golden file and compares them with the recorded views. */
const PY = String.raw`
import json, sys
import h5py, numpy as np

d = sys.argv[1]
def view(n): return json.load(open(f"{d}/{n}.expected.json"))["view"]
def arr(t):
    return np.array([float(x["$number"]) if isinstance(x, dict) else x for x in t["values"]], dtype=np.float64)
def same(a, b): return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
out = []
def check(what, ok): out.append({"what": what, "ok": bool(ok)})

for n in ["optimized", "standard", "interrupted", "empty"]:
    v = view(n)
    with h5py.File(f"{d}/{n}.h5", "r") as f:
        check(f"{n}: format_version", f.attrs["format_version"] == "1.0")
        check(f"{n}: status", f.attrs["status"] == ("open" if n == "interrupted" else "closed"))
        check(f"{n}: episodes", sorted(f["episodes"].keys()) == [f"episode_{i:04d}" for i in v["episodeIds"]])
        for ep in v["episodes"]:
            g = f["episodes"][ep["path"].split("/")[-1]]
            check(f"{n} {ep['id']}: timesteps", same(g["timesteps"][:].astype(np.float64), arr(ep["timesteps"])))
            vv = ep["neuralStates"]["variables"]["v"]
            check(f"{n} {ep['id']}: neural_states/v", g["neural_states/v"].dtype == np.float32 and
                  same(g["neural_states/v"][:].astype(np.float64).ravel(), arr(vv["data"])) and list(g["neural_states/v"].shape) == vv["shape"])
            sp = g["spikes"]
            if "spike_matrix" in sp:
                rows, ids = np.nonzero(sp["spike_matrix"][:])
                times = sp["timesteps"][:][rows]
            else:
                ids = sp["neuron_ids"][:]
                times = np.repeat(sp["timesteps"][:], sp["counts"][:])
            check(f"{n} {ep['id']}: spikes", same(times.astype(np.float64), arr(ep["spikes"]["timesteps"])) and
                  same(ids.astype(np.float64), arr(ep["spikes"]["neuronIds"])))
            y = ep["behavior"]["variables"]["y"]
            check(f"{n} {ep['id']}: behavior/y (NaN where left out)", same(g["behavior/y"][:], arr(y["data"])))
            r = g["rewards"]
            vals = r["values"][:]
            t = r["timesteps"][:]
            if r.attrs["encoding"] == "dense":
                t, vals = t[vals != 0], vals[vals != 0]
            check(f"{n} {ep['id']}: rewards", same(t.astype(np.float64), arr(ep["rewards"]["timesteps"])) and same(vals, arr(ep["rewards"]["values"])))
print(json.dumps(out))
`;

test("golden v1.0: h5py reads the same values", (t) => {
  if (process.env.SNN_SKIP_STRUCTURE === "1") {
    t.skip("SNN_SKIP_STRUCTURE=1 (mutation testing): h5py reads the golden files, not the loader's answers");
    return;
  }
  const probe = spawnSync(PYTHON, ["-c", "import h5py, numpy"], { encoding: "utf8" });
  const missing = probe.error ? `${PYTHON} not runnable (${probe.error.message})` : probe.status !== 0 ? `${PYTHON} cannot import h5py/numpy` : null;
  if (missing) {
    if (process.env.CI === "true") assert.fail(`h5py is required on CI: ${missing}`);
    t.skip(`h5py missing: ${missing} (apt-get install python3-h5py)`);
    return;
  }
  const r = spawnSync(PYTHON, ["-c", PY, DIR], { encoding: "utf8", timeout: 300_000, maxBuffer: 16 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const checks = JSON.parse(r.stdout) as Array<{ what: string; ok: boolean }>;
  assert.ok(checks.length > 30, `only ${checks.length} checks ran`);
  assert.deepEqual(checks.filter((c) => !c.ok).map((c) => c.what), []);
});

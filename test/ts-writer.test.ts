/**
 * The pure-TypeScript write engine (src/h5/ts/): what a flush costs, what the global heap keeps in
 * memory, and how HDF5 itself (h5py, h5stat, h5repack, h5diff, h5dump) sees the attributes and
 * hard links of its files. Costs are counted (headers encoded, chunk indexes flushed, blocks
 * written, heap objects held), never timed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { H5Reader } from "#lib/h5/reader.js";
import { ChunkIndex } from "#lib/h5/ts/btree.js";
import { utf8 } from "#lib/h5/ts/bytes.js";
import { TsWriter } from "#lib/h5/ts/writer.js";
import { tempDir } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const NONE = { kind: "none", level: 0 } as const;

/** A full garbage collection, without starting node with --expose-gc. */
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Counts the calls of ChunkIndex.flush (every dataset's chunk index) while `fn` runs. */
function countIndexFlushes(fn: () => void): number {
  const proto = ChunkIndex.prototype;
  const orig = proto.flush;
  let calls = 0;
  proto.flush = function (this: ChunkIndex, ...args: Parameters<typeof orig>) {
    calls++;
    return orig.apply(this, args);
  };
  try {
    fn();
  } finally {
    proto.flush = orig;
  }
  return calls;
}

test("a flush after one change to a file of 2,000 groups encodes and writes O(1) blocks", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "many.h5");
  const w = await TsWriter.create(file, { compressInline: true });
  const N = 2000;
  for (let i = 0; i < N; i++) {
    const g = `/episodes/e${Math.floor(i / 100)}/g${i}`;
    w.createGroup(g);
    w.setAttr(g, "index", i);
    w.writeArray(`${g}/d`, Float64Array.from({ length: 8 }, (_, j) => i + j), [8], { kind: "gzip", level: 4 });
  }
  const first = countIndexFlushes(() => w.flush());
  assert.equal(first, N, "the first flush writes every new chunk index");

  // one attribute of one group changes
  const calls = countIndexFlushes(() => {
    w.setAttr("/episodes/e3/g321", "status", 1);
    w.flush();
  });
  assert.equal(calls, 0, "no chunk index changed, none is flushed");
  assert.deepEqual(w.lastFlush, { headers: 1, indexes: 0, writes: 1 }, "one header, rewritten in place");

  // nothing changed
  assert.equal(countIndexFlushes(() => w.flush()), 0);
  assert.deepEqual(w.lastFlush, { headers: 0, indexes: 0, writes: 0 });

  // a dataset grows: its chunk index, its header (row count) and nothing else
  const col = w.createColumn("/episodes/e0/g7/grow", { dtype: "int32", rowShape: [], chunkRows: 4, compression: NONE });
  w.flush();
  assert.ok(w.lastFlush.headers <= 2, `a new dataset: itself and its group, got ${JSON.stringify(w.lastFlush)}`);
  col.append(Int32Array.from([1, 2, 3]), 3);
  assert.equal(countIndexFlushes(() => w.flush()), 1);
  assert.equal(w.lastFlush.headers, 1);
  assert.ok(w.lastFlush.writes <= 4, `chunk index node, header, superblock: ${JSON.stringify(w.lastFlush)}`);

  // a new group deep in the tree: itself and its parent; a parent's parent does not change
  w.createGroup("/episodes/e19/g1999/new");
  w.flush();
  assert.equal(w.lastFlush.headers, 2);
  assert.equal(w.lastFlush.indexes, 0);

  // the order of the writes: new space, the superblock, then headers in place, every object
  // before its ancestors (also when the groups between them did not change)
  const internals = w as unknown as { write(addr: number, bytes: Uint8Array): void; find(path: string): { addr: number } };
  const addrs: number[] = [];
  const write = internals.write;
  internals.write = function (this: unknown, addr: number, bytes: Uint8Array) {
    addrs.push(addr);
    write.call(this, addr, bytes);
  };
  w.setAttr("/episodes", "episodes", 20); // an ancestor, changed first
  col.append(Int32Array.from([4]), 1); // completes the chunk of a dataset three groups below it
  w.createGroup("/episodes/e5/g500/fresh"); // new: its header goes to new space, its parent's in place
  w.flush();
  internals.write = write;
  const at = (path: string) => addrs.indexOf(internals.find(path).addr);
  const superblock = addrs.indexOf(0);
  assert.ok(at("/episodes/e5/g500/fresh") >= 0 && at("/episodes/e5/g500/fresh") < superblock, `new header before the superblock: ${addrs}`);
  assert.ok(superblock < at("/episodes/e0/g7/grow"), "in-place headers after the superblock");
  assert.ok(superblock < at("/episodes/e5/g500"));
  assert.ok(at("/episodes/e0/g7/grow") < at("/episodes"), "a dataset before its ancestor group");
  assert.ok(at("/episodes/e5/g500") < at("/episodes"), "a group before its ancestor group");
  assert.equal(w.lastFlush.headers, 4);
  w.close();

  // and the file holds all of it
  const r = await H5Reader.open(file);
  try {
    assert.deepEqual(r.attrs("/episodes/e3/g321"), { index: 321, status: 1 });
    assert.deepEqual(r.attrs("/episodes/e19/g1999"), { index: 1999 });
    assert.deepEqual([...(r.readRows("/episodes/e0/g7/grow", 0, 4) as Int32Array)], [1, 2, 3, 4]);
    assert.deepEqual(r.attrs("/episodes"), { episodes: 20 });
    assert.deepEqual([...(r.readRows("/episodes/e19/g1999/d", 0, 8) as Float64Array)], [1999, 2000, 2001, 2002, 2003, 2004, 2005, 2006]);
    assert.equal(r.kind("/episodes/e19/g1999/new"), "group");
  } finally {
    r.close();
  }
});

test("the global heap drops collections that are full and written: 200,000 strings keep one collection", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "strings.h5");
  const w = await TsWriter.create(file, { compressInline: true });
  const col = w.createStringColumn("/events/types", 1024);
  const value = (i: number) => `event ${i}`;
  // every 100th string's encoded bytes (what the heap stores) is watched through a WeakRef
  const watched: WeakRef<Uint8Array>[] = [];
  const encode = utf8.encode;
  let n = 0;
  utf8.encode = (s?: string) => {
    const bytes = encode.call(utf8, s);
    if (s?.startsWith("event ") && n++ % 100 === 0) watched.push(new WeakRef(bytes));
    return bytes;
  };
  t.after(() => void (utf8.encode = encode));
  for (let b = 0; b < 200; b++) {
    col.append(Array.from({ length: 1000 }, (_, j) => value(b * 1000 + j)));
    w.flush();
  }
  utf8.encode = encode;
  await new Promise((r) => setImmediate(r)); // WeakRef targets are kept to the end of the job that made them
  gc();
  const alive = watched.filter((r) => r.deref() !== undefined).length;
  // a 4 KiB collection holds 4096 / 32 = 128 such strings: at most 2 of the 2,000 watched
  assert.equal(watched.length, 2000);
  assert.ok(alive <= 2, `${alive} of ${watched.length} watched strings are still held in memory`);
  const heap = (w as unknown as { heap: { retained: number } }).heap;
  assert.ok(heap.retained > 0 && heap.retained <= 128, `heap objects held after a flush: ${heap.retained}`);

  w.writeText("/note", "x".repeat(10_000)); // one larger than a collection
  w.close();
  const r = await H5Reader.open(file);
  try {
    const all = r.readStrings("/events/types");
    assert.equal(all.length, 200_000);
    for (const i of [0, 1, 127, 128, 129, 99_999, 150_000, 199_999]) assert.equal(all[i], value(i));
    assert.equal(r.readText("/note"), "x".repeat(10_000));
  } finally {
    r.close();
  }
});

// ------------------------------------------------------------------ HDF5's own view (h5py, tools)

type Tool = "h5py" | "h5stat" | "h5repack" | "h5diff" | "h5dump";

/** Why `tool` is unusable, or null when it works. */
function toolProblem(tool: Tool): string | null {
  const r = tool === "h5py"
    ? spawnSync(PYTHON, ["-c", "import h5py, numpy"], { encoding: "utf8" })
    : spawnSync(tool, tool === "h5repack" || tool === "h5diff" ? ["-V"] : ["--version"], { encoding: "utf8" });
  if (r.error) return `${tool} is not runnable (${r.error.message})`;
  if (r.status !== 0) return tool === "h5py" ? `${PYTHON} cannot import h5py/numpy` : `${tool} --version failed`;
  return null;
}

/** True when every tool works; otherwise skips the test with the reason (fails it on CI=true). */
function requireTools(t: TestContext, ...tools: Tool[]): boolean {
  const problems = tools.map(toolProblem).filter((p): p is string => p !== null);
  if (problems.length === 0) return true;
  const reason = `${problems.join("; ")}: install python3-h5py / hdf5-tools`;
  if (process.env.CI === "true") assert.fail(`tools missing on CI: ${reason}`);
  t.skip(reason);
  return false;
}

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Per object: h5py's len(attrs), the names iteration finds, and the hard link count. */
const DESCRIBE = `
import h5py, json, sys
out = {}
with h5py.File(sys.argv[1], "r") as f:
    for path in json.loads(sys.argv[2]):
        o = f[path]
        out[path] = {"len": len(o.attrs), "names": sorted(o.attrs), "links": h5py.h5o.get_info(o.id).rc, "addr": h5py.h5o.get_info(o.id).addr,
                     "values": {k: (v.decode() if isinstance(v, bytes) else v.tolist() if hasattr(v, "tolist") else v) for k, v in o.attrs.items()}}
print(json.dumps(out))
`;

interface Described { len: number; names: string[]; links: number; addr: number; values: Record<string, unknown> }

function describe(file: string, paths: string[]): Record<string, Described> {
  const r = run(PYTHON, ["-c", DESCRIBE, file, JSON.stringify(paths)]);
  assert.equal(r.status, 0, `h5py failed on ${file}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, Described>;
}

/** What was set: attribute names per path, and hard link counts. */
const ATTRS: Record<string, string[]> = {
  "/": ["experiment_name", "format_version"],
  "/episodes": [],
  "/episodes/episode_0000": ["episode_id", "status", "success", "weights"],
  "/episodes/episode_0000/timesteps": ["units"],
  "/episodes/episode_0000/behavior/timesteps": ["units"], // the same dataset, hard-linked
  "/episodes/episode_0000/behavior/x": ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10"],
  "/shared": ["kind"],
  "/shared_again": ["kind"], // the same group, hard-linked
  "/config/json": ["schema"],
};
const LINKS: Record<string, number> = { "/episodes/episode_0000/timesteps": 3, "/shared": 2, "/episodes/episode_0000/behavior/x": 1, "/": 1 };
/** Paths that name one object. */
const SAME = [["/episodes/episode_0000/timesteps", "/episodes/episode_0000/behavior/timesteps"], ["/shared", "/shared_again"]];

async function writeAttrFile(file: string): Promise<void> {
  const w = await TsWriter.create(file, { compressInline: true });
  w.setAttr("/", "experiment_name", "attrs ✓");
  w.setAttr("/", "format_version", "1.0");
  const ep = "/episodes/episode_0000";
  w.createGroup(ep);
  w.setAttr(ep, "episode_id", 0n);
  w.setAttr(ep, "status", "running");
  const t = w.createColumn(`${ep}/timesteps`, { dtype: "int64", rowShape: [], chunkRows: 16, compression: { kind: "gzip", level: 4 } });
  const x = w.createColumn(`${ep}/behavior/x`, { dtype: "float64", rowShape: [], chunkRows: 16, compression: { kind: "gzip", level: 4 } });
  t.append(BigInt64Array.from({ length: 40 }, (_, i) => BigInt(i)), 40);
  x.append(Float64Array.from({ length: 40 }, (_, i) => i / 2), 40);
  w.setAttr(`${ep}/timesteps`, "units", "steps");
  w.link(`${ep}/timesteps`, `${ep}/behavior/timesteps`);
  w.link(`${ep}/timesteps`, `${ep}/spikes/timesteps`);
  for (let i = 1; i <= 10; i++) w.setAttr(`${ep}/behavior/x`, `a${i}`, i); // more than HDF5's 8 compact attributes
  w.writeText("/config/json", "{}");
  w.setAttr("/config/json", "schema", "x");
  w.createGroup("/shared");
  w.setAttr("/shared", "kind", "group linked twice");
  w.writeText("/shared/text", "hello");
  w.setAttr("/shared", "temporary", 1);
  w.link("/shared", "/shared_again");
  w.flush(); // attributes set after a flush go to headers rewritten in place
  w.setAttr(ep, "status", "completed");
  w.setAttr(ep, "success", true);
  w.setAttr(ep, "weights", Float32Array.from([0.5, 1.5]));
  w.deleteAttr("/shared", "temporary");
  w.close();
}

test("h5py and h5stat count the attributes that were set, on groups and datasets, and the hard links", async (t) => {
  if (!requireTools(t, "h5py", "h5stat")) return;
  const dir = tempDir(t);
  const file = join(dir, "attrs.h5");
  await writeAttrFile(file);
  const got = describe(file, Object.keys(ATTRS));
  for (const [path, names] of Object.entries(ATTRS)) {
    assert.deepEqual(got[path].names, [...names].sort(), `attributes iterated at ${path}`);
    assert.equal(got[path].len, names.length, `h5py len(attrs) at ${path}`);
  }
  for (const [path, n] of Object.entries(LINKS)) assert.equal(got[path].links, n, `hard links to ${path}`);
  for (const [a, b] of SAME) assert.equal(got[a].addr, got[b].addr, `${a} and ${b} are one object`);
  assert.deepEqual(got["/episodes/episode_0000"].values, { episode_id: 0, status: "completed", success: 1, weights: [0.5, 1.5] });

  const objectsWithAttrs = 6; // /, episode, timesteps (once), x, shared (once), config/json
  const stat = run("h5stat", ["-A", file]);
  assert.equal(stat.status, 0, stat.stderr);
  assert.match(stat.stdout, new RegExp(`Total # of objects with attributes: ${objectsWithAttrs}\\b`), stat.stdout);
  assert.match(stat.stdout, /Max\. # of attributes to objects: 10\b/, stat.stdout);
});

test("h5repack copies every attribute and hard link: h5diff finds no difference, h5dump -A shows them", async (t) => {
  if (!requireTools(t, "h5py", "h5repack", "h5diff", "h5dump")) return;
  const dir = tempDir(t);
  const file = join(dir, "in.h5");
  const out = join(dir, "out.h5");
  await writeAttrFile(file);
  const repack = run("h5repack", [file, out]);
  assert.equal(repack.status, 0, `h5repack failed:\n${repack.stdout}${repack.stderr}`);
  const diff = run("h5diff", ["-v", file, out]);
  assert.equal(diff.status, 0, `h5diff found differences:\n${diff.stdout}${diff.stderr}`);
  assert.match(diff.stdout, /attribute: <status of <\/episodes\/episode_0000>>/, "h5diff compared the attributes");

  const before = describe(file, Object.keys(ATTRS));
  const after = describe(out, Object.keys(ATTRS));
  for (const path of Object.keys(ATTRS)) {
    assert.equal(after[path].len, ATTRS[path].length, `len(attrs) at ${path} after h5repack`);
    assert.deepEqual(after[path].values, before[path].values, `attribute values at ${path} after h5repack`);
  }
  for (const [path, n] of Object.entries(LINKS)) assert.equal(after[path].links, n, `hard links to ${path} after h5repack`);
  for (const [a, b] of SAME) assert.equal(after[a].addr, after[b].addr, `${a} and ${b} are still one object after h5repack`);
  const dump = run("h5dump", ["-A", out]);
  assert.equal(dump.status, 0, dump.stderr);
  for (const name of ["experiment_name", "status", "success", "weights", "units", "a10", "kind", "schema"]) {
    assert.ok(dump.stdout.includes(`ATTRIBUTE "${name}"`), `h5dump -A of the repacked file lacks ATTRIBUTE "${name}"`);
  }
});

// ------------------------------------------------------------------ HDF5's tools as oracles on a demo file

const CLI = new URL(import.meta.resolve("#cli/cli/main.js")).pathname;

/** Every object's attributes (path -> name -> value as text), and every dataset's values as text. */
const ALL = `
import h5py, json, sys, numpy as np
def text(v):
    if isinstance(v, bytes): return v.decode()
    if isinstance(v, np.ndarray): return repr([text(x) for x in v.tolist()]) if v.dtype.kind == "O" else repr(v.tolist())
    return repr(v.tolist() if hasattr(v, "tolist") else v)
attrs, data = {}, {}
with h5py.File(sys.argv[1], "r") as f:
    def visit(name, o):
        attrs["/" + name] = {k: text(v) for k, v in o.attrs.items()}
        if isinstance(o, h5py.Dataset): data["/" + name] = text(o[()])
    attrs["/"] = {k: text(v) for k, v in f.attrs.items()}
    f.visititems(visit)
print(json.dumps({"attrs": attrs, "data": data}))
`;

/** Edits of a copy with h5py: one attribute, or one value of a dataset. */
const EDIT = `
import h5py, sys
with h5py.File(sys.argv[1], "r+") as f:
    kind = sys.argv[2]
    if kind == "root attribute": f.attrs["experiment_name"] = "edited with h5py"
    elif kind == "dataset attribute": f["neural_states/v"].attrs["first_row"] = 7
    elif kind == "stream value": d = f["timesteps"]; d[5] = d[5] + 1000
    elif kind == "episode table value": d = f["episodes/total_reward"]; d[1] = d[1] + 0.5
`;

test("a demo file through h5repack: h5diff finds 0 differences, every attribute and value is kept; edits made with h5py are reported", { timeout: 300_000 }, async (t) => {
  if (!requireTools(t, "h5py", "h5repack", "h5diff")) return;
  const dir = tempDir(t);
  const demo = run(process.execPath, [CLI, "demo", "--episodes", "2", "--steps", "300", "--neurons", "60", "--seed", "3", "--out", dir, "--json"]);
  assert.equal(demo.status, 0, demo.stderr);
  const file = (JSON.parse(demo.stdout) as { filePath: string }).filePath;
  const out = join(dir, "repacked.h5");
  const repack = run("h5repack", [file, out]);
  assert.equal(repack.status, 0, `h5repack failed:\n${repack.stdout}${repack.stderr}`);
  const diff = run("h5diff", ["-v", file, out]);
  assert.equal(diff.status, 0, `h5diff found differences after h5repack:\n${diff.stdout.slice(-4000)}${diff.stderr}`);
  assert.match(diff.stdout, /^0 differences found$/m, diff.stdout.slice(-2000));
  // h5diff compared the attributes (they are not silently dropped): e.g. the root's and the episode table's
  assert.match(diff.stdout, /attribute: <format_version of <\/>> and <format_version of <\/>>/);
  assert.match(diff.stdout, /attribute: <codes of <\/episodes\/status>>/);

  const read = (f: string) => {
    const r = run(PYTHON, ["-c", ALL, f]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { attrs: Record<string, Record<string, string>>; data: Record<string, string> };
  };
  const before = read(file);
  const after = read(out);
  const count = (a: Record<string, Record<string, string>>) => Object.values(a).reduce((n, x) => n + Object.keys(x).length, 0);
  assert.ok(count(before.attrs) >= 20, `the demo file has only ${count(before.attrs)} attributes`);
  assert.deepEqual(after.attrs, before.attrs, "h5repack kept every attribute, with its value");
  assert.deepEqual(after.data, before.data, "h5repack kept every dataset, with its values");

  for (const [kind, where] of [["root attribute", /experiment_name/], ["dataset attribute", /first_row/], ["stream value", /\/timesteps/], ["episode table value", /\/episodes\/total_reward/]] as const) {
    const edited = join(dir, `edited-${kind.replaceAll(" ", "-")}.h5`);
    const cp = run("cp", [file, edited]);
    assert.equal(cp.status, 0, cp.stderr);
    const e = run(PYTHON, ["-c", EDIT, edited, kind]);
    assert.equal(e.status, 0, e.stderr);
    const d = run("h5diff", ["-v", file, edited]);
    assert.equal(d.status, 1, `h5diff did not report the ${kind} edited with h5py (exit ${d.status}):\n${d.stdout.slice(-3000)}${d.stderr}`);
    // one object differs (a string attribute counts its differing characters), and it is the edited one
    const blocks = d.stdout.split(/\n(?=attribute: |dataset: |group {2}: )/).filter((b) => /^[1-9]\d* differences? found$/m.test(b));
    assert.equal(blocks.length, 1, `${kind}: h5diff reports ${blocks.length} differing objects:\n${blocks.join("\n").slice(0, 3000)}`);
    assert.match(blocks[0], where, `${kind}: h5diff names another object:\n${blocks[0]}`);
  }
});

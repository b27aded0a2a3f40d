/**
 * The TypeScript reader's answers, checked against what was written (not against another reader):
 * attributes in name order, dataset info (shape, dtype, chunks, filters), string datasets, and the
 * typed errors of reads of the wrong kind of object, of a missing object and of a damaged or
 * version-1 object header.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSnnExportError } from "#lib/index.js";
import { createWriter } from "#lib/h5/index.js";
import { H5Reader } from "#lib/h5/reader.js";
import { TsReader } from "#lib/h5/ts/reader.js";
import { ChunkTrees } from "#lib/h5/ts/read-btree.js";
import { FileSource } from "#lib/h5/ts/read-io.js";
import { buildObject } from "#lib/h5/ts/read-object.js";
import { readObjectHeader } from "#lib/h5/ts/read-object-header.js";
import { skipStructureCheck, tempDir } from "./helpers.js";

const GZIP = { kind: "gzip", level: 4 } as const;
const NONE = { kind: "none", level: 0 } as const;

async function sample(dir: string): Promise<string> {
  const file = join(dir, "sample.h5");
  const w = await createWriter(file, "ts");
  for (const name of ["zeta", "alpha", "Mid", "beta"]) w.setAttr("/", name, name.length);
  w.createGroup("/g");
  w.writeArray("/g/packed", Float32Array.from({ length: 600 }, (_, i) => i / 4), [200, 3], GZIP, 64);
  w.writeArray("/g/plain", Int16Array.from([5, -6, 7]), [3], NONE);
  w.writeText("/g/text", "hello, wörld");
  w.writeStrings("/g/list", ["a", "", "ccc"]);
  w.close();
  return file;
}

const typed = (code: string, message: RegExp) => (e: unknown) => {
  assert.ok(isSnnExportError(e, code as never), `${code}: ${String(e)}`);
  assert.match((e as Error).message, message);
  return true;
};

test("TypeScript reader: attributes in name order, info as written, strings, typed errors for the wrong kind of object", async (t) => {
  const dir = tempDir(t);
  const file = await sample(dir);
  const r = await H5Reader.open(file, { engine: "ts" });
  r.trustUnchanged(); // written and closed above: errors without the hint for files being written
  try {
    assert.equal(r.engine, "ts");
    assert.deepEqual(Object.keys(r.attrs("/")), ["Mid", "alpha", "beta", "zeta"]);
    assert.deepEqual(r.attrs("/"), { Mid: 3, alpha: 5, beta: 4, zeta: 4 });
    assert.deepEqual(r.attrs("/nothing/here"), {});
    assert.deepEqual(r.info("/g/packed"), { shape: [200, 3], dtype: "float32", chunks: [64, 3], filters: ["shuffle", "deflate"] });
    assert.deepEqual(r.info("/g/plain"), { shape: [3], dtype: "int16", chunks: [3], filters: [] });
    assert.deepEqual(r.info("/g/text"), { shape: [], dtype: "string", chunks: null, filters: [] });
    assert.deepEqual(Array.from(r.readRows("/g/packed", 199, 500) as Float32Array), [597 / 4, 598 / 4, 599 / 4]);
    assert.deepEqual(Array.from(r.readRows("/g/plain", 0, 3) as Int16Array), [5, -6, 7]);
    assert.equal(r.readText("/g/text"), "hello, wörld");
    assert.deepEqual(r.readStrings("/g/list"), ["a", "", "ccc"]);
    assert.deepEqual(r.readStringRows("/g/list", 1, 9), ["", "ccc"]);
    assert.deepEqual(r.readStringRows("/g/text", 0, 1), [], "a scalar has no rows");
    assert.deepEqual(r.keys("/g"), ["list", "packed", "plain", "text"]);
    assert.deepEqual(r.keys("/g/plain"), []);
    assert.equal(r.kind("/g/missing"), null);
    assert.equal(r.kind("/g/plain/below"), null, "a path through a dataset");
    assert.equal(r.kind("/g/missing/below"), null);
    assert.equal(r.kind("/g/"), "group");
    assert.equal(r.kind("/g/plain"), "dataset");

    assert.throws(() => r.readRows("/g", 0, 1), typed("NOT_FOUND", new RegExp(`^no dataset /g in ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`)));
    assert.throws(() => r.info("/g/missing"), typed("NOT_FOUND", /^no dataset \/g\/missing in /));
    assert.throws(() => r.readText("/g/list"), typed("NOT_SNN_EXPORT", /^\/g\/list is not a text dataset$/));
    assert.throws(() => r.readStrings("/g/text"), typed("NOT_SNN_EXPORT", /^\/g\/text is not a string list$/));
    assert.throws(() => r.readStrings("/g/plain"), typed("NOT_SNN_EXPORT", /^\/g\/plain is not a string list$/));
    assert.throws(() => r.readText("/g/packed"), typed("NOT_SNN_EXPORT", /^\/g\/packed is not a text dataset$/));
    assert.throws(() => r.readRows("/g/list", 0, 1), typed("NOT_SNN_EXPORT", /^\/g\/list holds strings, not numbers$/));
  } finally {
    r.close();
  }
});

test("TypeScript reader: an object header without its signature is CORRUPT; one that looks like version 1 is outside the profile", async (t) => {
  const dir = tempDir(t);
  const file = await sample(dir);
  const bytes = readFileSync(file);
  const r = new TsReader(file);
  const at = Number(r.objectAddress("/g/plain"));
  assert.equal(r.objectAddress("/g/none"), null);
  assert.equal(r.objectAddress("/g/plain/below"), null);
  r.close();
  assert.equal(bytes.toString("latin1", at, at + 4), "OHDR");

  const broken = join(dir, "broken.h5");
  skipStructureCheck(broken, "damaged on purpose");
  const b = Buffer.from(bytes);
  b[at + 1] ^= 0x20; // "OhDR"
  writeFileSync(broken, b);
  const r2 = await H5Reader.open(broken, { engine: "ts" });
  try {
    assert.deepEqual(Array.from(r2.readRows("/g/packed", 0, 1) as Float32Array), [0, 0.25, 0.5]);
    assert.throws(() => r2.readRows("/g/plain", 0, 3), typed("CORRUPT", new RegExp(`: /g/plain: no object header at address ${at} \\(the file is damaged\\)`)));
  } finally {
    r2.close();
  }

  const v1 = join(dir, "v1.h5");
  skipStructureCheck(v1, "damaged on purpose");
  const c = Buffer.from(bytes);
  c.set([1, 0, 0, 0], at); // version 1, reserved 0: the start of a version-1 header
  writeFileSync(v1, c);
  const r3 = await H5Reader.open(v1, { engine: "ts" });
  try {
    assert.throws(() => r3.readRows("/g/plain", 0, 3), typed("NOT_SNN_EXPORT", /uses HDF5 features the TypeScript reader does not read \(a version-1 object header\)/));
  } finally {
    r3.close();
  }
});

test("TypeScript reader: a damaged chunk is CORRUPT, naming the file, the dataset and the chunk's row", async (t) => {
  const dir = tempDir(t);
  const file = await sample(dir);
  const r = new TsReader(file);
  const at = Number(r.objectAddress("/g/packed"));
  r.close();
  // the chunk index, found with the reader's own parts (the addresses are the writer's to choose)
  const src = new FileSource(file);
  let chunk: { addr: number; size: number };
  try {
    const layout = buildObject(at, readObjectHeader(src, at, "x"), "x").dataset!.layout;
    assert.equal(layout.kind, "chunked");
    const refs = new ChunkTrees(src).find({ root: (layout as { btree: number }).btree, rank: 2, chunkRows: 64, where: "x" }, 64, 128);
    assert.equal(refs.length, 1);
    chunk = refs[0];
  } finally {
    src.close();
  }
  const broken = join(dir, "chunk.h5");
  skipStructureCheck(broken, "damaged on purpose");
  const b = readFileSync(file);
  b[chunk.addr + Math.floor(chunk.size / 2)] ^= 0xff;
  writeFileSync(broken, b);
  const r2 = await H5Reader.open(broken, { engine: "ts" });
  try {
    assert.deepEqual(Array.from(r2.readRows("/g/packed", 0, 1) as Float32Array), [0, 0.25, 0.5], "other chunks read");
    const escaped = broken.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    assert.throws(() => r2.readRows("/g/packed", 70, 71), typed("CORRUPT", new RegExp(`^${escaped}: /g/packed: chunk at row 64: the compressed chunk (does not inflate|inflates to)`)));
  } finally {
    r2.close();
  }
});

/**
 * The pure-TypeScript HDF5 engine (src/h5/ts/), fast enough to run for every mutant of
 * `npm run mutate` (a few seconds). Expected values come from the HDF5 File Format Specification
 * (the byte layouts of the messages and structures, written out by hand here) and from the inputs;
 * whole files are read back with h5py (test/py/expect.py) and checked by check_structure.py (the
 * tempDir hook), never with our own reader.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test, type TestContext } from "node:test";
import { Bytes, UNDEF, SIG_GCOL, SIG_OHDR, SIG_TREE } from "#lib/h5/ts/bytes.js";
import { ChunkIndex } from "#lib/h5/ts/btree.js";
import { CHECKSUM_MAGIC, CHECKSUM_MARK, GlobalHeap } from "#lib/h5/ts/heap.js";
import { lookup3 } from "#lib/h5/ts/lookup3.js";
import * as M from "#lib/h5/ts/messages.js";
import { FreeSpace } from "#lib/h5/ts/space.js";
import { sizeClass, TsWriter } from "#lib/h5/ts/writer.js";
import type { NumericArray } from "#lib/dtypes.js";
import { isSnnExportError } from "#lib/errors.js";
import { checkAsKilled, GOLDEN, PYTHON, rng, skipOrFail, structureCheckerProblem, tempDir } from "./helpers.js";

const EXPECT = fileURLToPath(new URL("../../test/py/expect.py", import.meta.url));
const u8 = (...xs: number[]) => Uint8Array.from(xs);
const le = (v: number, n: number) => Array.from({ length: n }, (_, i) => Math.floor(v / 2 ** (8 * i)) % 256);
const ones = (n: number) => Array<number>(n).fill(0xff);
/** The first `n` bytes of a file. */
function head(file: string, n: number): Uint8Array {
  const b = new Uint8Array(n);
  const fd = openSync(file, "r");
  try {
    readSync(fd, b, 0, n, 0);
  } finally {
    closeSync(fd);
  }
  return b;
}

// ------------------------------------------------------------------ bytes.ts

test("Bytes: little-endian integers of every width (64-bit beyond 2^32, UNDEF), zeros, patches, growth; a reused buffer leaks nothing", () => {
  const b = new Bytes().u8(0x12).u16(0xbeef).u32(0xdeadbeef).u32(-2).u64(2 ** 40 + 0x01020304).u64(UNDEF).u64(7).zeros(3).bytes(u8(9, 8));
  assert.equal(b.length, 1 + 2 + 4 + 4 + 8 + 8 + 8 + 3 + 2);
  b.setU32(1, 0x0a0b0c0d);
  // u8, u16 and u32 (the u16 and the u32's first half patched by setU32), u32 of -2, the 64-bit ones, zeros, bytes
  assert.deepEqual([...b.done()], [0x12, 0x0d, 0x0c, 0x0b, 0x0a, 0xad, 0xde, 0xfe, 0xff, 0xff, 0xff, 4, 3, 2, 1, 0, 1, 0, 0, ...ones(8), 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 8]);
  // the next builder reuses that buffer: it must not show the old bytes
  const c = new Bytes().u8(1).zeros(2);
  assert.deepEqual([...c.done()], [1, 0, 0]);
  // growth past the first buffer (and past twice its size at once), content intact
  const big = new Bytes();
  for (let i = 0; i < 3000; i++) big.u16(i);
  big.bytes(new Uint8Array(5000).fill(7));
  const out = big.done();
  assert.equal(out.length, 11_000);
  for (let i = 0; i < 3000; i++) assert.equal(out[2 * i] | (out[2 * i + 1] << 8), i);
  assert.ok(out.subarray(6000).every((x) => x === 7));
  assert.deepEqual([...SIG_TREE, ...SIG_GCOL, ...SIG_OHDR], [..."TREEGCOLOHDR"].map((ch) => ch.charCodeAt(0)));
});

// ------------------------------------------------------------------ space.ts, sizeClass

test("free space: exact and partial takes, best fit, merging with either or both neighbours, overlaps refused, the block at the end", () => {
  const s = new FreeSpace();
  assert.equal(s.take(1), -1, "nothing free");
  s.give(1000, 0); // nothing
  assert.equal(s.count, 0);
  s.give(100, 10);
  s.give(300, 30);
  s.give(200, 20);
  assert.deepEqual([s.count, s.total], [3, 60]);
  assert.equal(s.take(15), 200, "best fit: the 20-byte block");
  assert.deepEqual([s.count, s.total], [3, 45], "a partial take keeps the rest");
  assert.equal(s.take(5), 215, "the rest of it starts after what was taken");
  assert.equal(s.count, 2, "an exact take removes the block");
  assert.equal(s.take(10), 100);
  assert.equal(s.take(30), 300);
  assert.deepEqual([s.count, s.total], [0, 0]);
  // merging
  s.give(100, 10);
  s.give(110, 10); // after its left neighbour
  assert.equal(s.count, 1);
  s.give(90, 10); // before its right neighbour
  assert.deepEqual([s.count, s.total], [1, 30]);
  s.give(130, 10);
  assert.equal(s.count, 2, "a gap of 10 bytes: no merge");
  s.give(120, 10); // closes the gap: one block 90..140
  assert.deepEqual([s.count, s.total], [1, 50]);
  assert.equal(s.take(50), 90);
  // overlaps are refused, on either side
  s.give(100, 10);
  s.give(200, 10);
  assert.throws(() => s.give(105, 10), /overlaps free block 100\+10/);
  assert.throws(() => s.give(195, 10), /overlaps free block 200\+10/);
  assert.throws(() => s.give(150, 51), /overlaps/);
  s.give(150, 50); // touches the right one exactly
  assert.equal(s.count, 2);
  // a block ending at the end of the file
  assert.equal(s.takeEndingAt(199), 0);
  assert.equal(s.takeEndingAt(210), 60);
  assert.equal(s.takeEndingAt(210), 0, "taken");
  assert.equal(s.takeEndingAt(110), 10);
  assert.equal(s.count, 0);
  assert.equal(s.takeEndingAt(0), 0, "none at all");
  // best fit among many: the smallest that holds it, the first of equals
  for (const [a, n] of [[1000, 64], [2000, 48], [3000, 48], [4000, 100]] as const) s.give(a, n);
  assert.equal(s.take(40), 2000);
  assert.equal(s.take(48), 3000);
  assert.equal(s.take(64), 1000);
  assert.equal(s.take(101), -1);
});

test("size classes: 256 up to 256 bytes, then quarters of the power of two below", () => {
  const want: [number, number][] = [[0, 256], [1, 256], [255, 256], [256, 256], [257, 320], [320, 320], [321, 384], [511, 512], [512, 512], [513, 640],
    [1000, 1024], [1024, 1024], [1025, 1280], [1537, 1792], [4097, 5120], [65_535, 65_536], [1_000_000, 1_048_576], [1_048_577, 1_310_720]];
  for (const [n, c] of want) assert.equal(sizeClass(n), c, `sizeClass(${n})`);
});

// ------------------------------------------------------------------ messages.ts (File Format Specification IV.A.2)

test("object header messages: the bytes the HDF5 specification defines", () => {
  const int = (cls: number, bits0: number, size: number) => [cls, bits0, 0, 0, ...le(size, 4), 0, 0, ...le(size * 8, 2)];
  assert.deepEqual([...M.datatype("int8")], int(0x10, 0x08, 1));
  assert.deepEqual([...M.datatype("uint8")], int(0x10, 0x00, 1));
  assert.deepEqual([...M.datatype("int16")], int(0x10, 0x08, 2));
  assert.deepEqual([...M.datatype("uint16")], int(0x10, 0x00, 2));
  assert.deepEqual([...M.datatype("int32")], int(0x10, 0x08, 4));
  assert.deepEqual([...M.datatype("uint32")], int(0x10, 0x00, 4));
  assert.deepEqual([...M.datatype("int64")], int(0x10, 0x08, 8));
  assert.deepEqual([...M.datatype("uint64")], int(0x10, 0x00, 8));
  // IEEE floats: class 1, sign at bit 31/63, exponent at 23/52 of 8/11 bits, mantissa at 0, bias 127/1023
  assert.deepEqual([...M.datatype("float32")], [0x11, 0x20, 31, 0, 4, 0, 0, 0, 0, 0, 32, 0, 23, 8, 0, 23, 127, 0, 0, 0]);
  assert.deepEqual([...M.datatype("float64")], [0x11, 0x20, 63, 0, 8, 0, 0, 0, 0, 0, 64, 0, 52, 11, 0, 52, 0xff, 0x03, 0, 0]);
  // variable-length string (class 9, type 1, null terminated, UTF-8) of unsigned bytes
  assert.deepEqual([...M.datatype("vlen-string")], [0x19, 0x01, 0x01, 0x00, 16, 0, 0, 0, ...int(0x10, 0x00, 1)]);
  assert.deepEqual([1, 2, 4, 8].map((n) => M.elemSize(n === 1 ? "int8" : n === 2 ? "uint16" : n === 4 ? "float32" : "int64")), [1, 2, 4, 8]);
  assert.equal(M.elemSize("vlen-string"), 16);
  assert.equal(M.elemSize("uint32") + M.elemSize("int32") + M.elemSize("uint64") + M.elemSize("float64") + M.elemSize("uint8") + M.elemSize("int16"), 4 + 4 + 8 + 8 + 1 + 2);

  assert.deepEqual([...M.dataspace(null)], [2, 0, 0, 0], "scalar");
  assert.deepEqual([...M.dataspace([5])], [2, 1, 0, 1, ...le(5, 8)]);
  assert.deepEqual([...M.dataspace([3, 2], [UNDEF, 2])], [2, 2, 1, 1, ...le(3, 8), ...le(2, 8), ...ones(8), ...le(2, 8)]);
  assert.deepEqual([...M.fillValue()], [3, 0x0b]);
  assert.deepEqual([...M.chunkedLayout(0x1234, [4, 2], 8)], [3, 2, 3, ...le(0x1234, 8), 4, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0]);
  assert.deepEqual([...M.chunkedLayout(UNDEF, [7], 1)], [3, 2, 2, ...ones(8), 7, 0, 0, 0, 1, 0, 0, 0]);
  assert.deepEqual([...M.compactLayout(u8(1, 2, 3))], [3, 0, 3, 0, 1, 2, 3]);
  // shuffle (id 2, optional, one value: the element size), then deflate (id 1, optional, the level)
  assert.deepEqual([...M.filters(8, 4)], [2, 2, 2, 0, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 4, 0, 0, 0]);
  assert.deepEqual([...M.filters(2, 9)], [2, 2, 2, 0, 1, 0, 1, 0, 2, 0, 0, 0, 1, 0, 1, 0, 1, 0, 9, 0, 0, 0]);
  assert.deepEqual([...M.filters(1, 6)], [2, 1, 1, 0, 1, 0, 1, 0, 6, 0, 0, 0], "no shuffle for bytes");
  // link messages: version 1, flags (size of the length field, charset present), hard link
  assert.deepEqual([...M.link("ab", 0x10)], [1, 0, 2, 0x61, 0x62, ...le(0x10, 8)]);
  assert.deepEqual([...M.link("µ", 7)], [1, 0x10, 1, 2, 0xc2, 0xb5, ...le(7, 8)], "UTF-8: charset byte 1");
  const long = "n".repeat(300);
  assert.deepEqual([...M.link(long, 9)], [1, 0x01, ...le(300, 2), ...Array(300).fill(0x6e), ...le(9, 8)], "a name of 300 bytes: 2-byte length");
  const n255 = "x".repeat(255);
  assert.deepEqual([...M.link(n255, 1)].slice(0, 3), [1, 0, 255]);
  assert.deepEqual([...M.link("y".repeat(256), 1)].slice(0, 4), [1, 0x01, ...le(256, 2)], "256 bytes: no longer a 1-byte length");
  assert.deepEqual([...M.link("z".repeat(65_535), 1)].slice(0, 4), [1, 0x01, ...le(65_535, 2)]);
  assert.deepEqual([...M.link("z".repeat(65_536), 1)].slice(0, 6), [1, 0x02, ...le(65_536, 4)], "65,536 bytes: no longer a 2-byte length");
  const huge = "h".repeat(70_000);
  assert.deepEqual([...M.link(huge, 2)].slice(0, 6), [1, 0x02, ...le(70_000, 4)], "4-byte length");
  assert.deepEqual([...M.linkInfo()], [0, 0, ...ones(8), ...ones(8)]);
  assert.deepEqual([...M.groupInfo()], [0, 0]);
  assert.deepEqual([...M.attributeInfo()], [0, 0, ...ones(8), ...ones(8)]);
  assert.deepEqual([...M.refCount(3)], [0, 3, 0, 0, 0]);
  // attribute message version 3: name with its NUL, datatype, dataspace, encoding 1 (UTF-8), data
  assert.deepEqual([...M.attribute("é", u8(7, 7), u8(8), u8(9, 9, 9))], [3, 0, 3, 0, 2, 0, 1, 0, 1, 0xc3, 0xa9, 0, 7, 7, 8, 9, 9, 9]);
  assert.deepEqual(M.MSG, { NIL: 0, DATASPACE: 1, LINFO: 2, DATATYPE: 3, FILL: 5, LINK: 6, LAYOUT: 8, GINFO: 10, FILTERS: 11, ATTRIBUTE: 12, AINFO: 21, REFCOUNT: 22 });
});

// ------------------------------------------------------------------ btree.ts

interface Node { addr: number; level: number; entries: number; left: number; right: number; keys: { size: number; offset: number[] }[]; children: number[] }

const u64at = (b: Uint8Array, at: number) => {
  let v = 0;
  for (let i = 7; i >= 0; i--) v = v * 256 + b[at + i];
  return v === 2 ** 64 - 1 || b.subarray(at, at + 8).every((x) => x === 0xff) ? UNDEF : v;
};
const u32at = (b: Uint8Array, at: number) => b[at] + b[at + 1] * 2 ** 8 + b[at + 2] * 2 ** 16 + b[at + 3] * 2 ** 24;

/** A version-1 B-tree node (type 1: chunks; keys of `n` offsets: the dataset's dimensions and the element's), as the specification lays it out. */
function parseNode(addr: number, b: Uint8Array, n: number): Node {
  assert.deepEqual([...b.subarray(0, 5)], [...SIG_TREE, 1], "TREE, node type 1");
  const entries = b[6] | (b[7] << 8);
  const keySize = 8 + 8 * n;
  const keys: Node["keys"] = [];
  const children: number[] = [];
  for (let i = 0; i <= entries; i++) {
    const at = 24 + i * (keySize + 8);
    const offset = Array.from({ length: n }, (_, d) => u64at(b, at + 8 + 8 * d));
    keys.push({ size: u32at(b, at), offset });
    assert.equal(u32at(b, at + 4), 0, "filter mask 0");
    if (i < entries) children.push(u64at(b, at + keySize));
  }
  return { addr, level: b[5], entries, left: u64at(b, 8), right: u64at(b, 16), keys, children };
}

test("chunk B-tree: nodes of 64 entries, keys at the chunk offsets with the next chunk's offset last, siblings linked, in-place updates keep the old count until the count write", () => {
  assert.equal(new ChunkIndex(10, []).nodeSize, 24 + 65 * (8 + 16) + 64 * 8);
  assert.equal(new ChunkIndex(10, [3]).nodeSize, 24 + 65 * (8 + 24) + 64 * 8);
  const idx = new ChunkIndex(10, [3]);
  assert.equal(idx.root, UNDEF, "no chunk, no tree");
  assert.throws(() => idx.set(1, 5000, 10), /chunk 1 written before chunk 0/);
  const disk = new Map<number, Uint8Array>(); // the "file": node address -> bytes
  let next = 100_000;
  const alloc = (n: number) => ((next += n), next - n);
  const apply = (r: ReturnType<ChunkIndex["flush"]>) => {
    for (const [a, bytes] of [...r.fresh, ...r.inPlace]) disk.set(a, bytes.slice());
    for (const [a, bytes] of r.counts) {
      const node = [...disk.keys()].find((n) => a === n + 6)!;
      assert.ok(node !== undefined, "a count write lands at a node's entry count");
      disk.get(node)!.set(bytes, 6);
    }
  };
  for (let k = 0; k < 100; k++) assert.equal(idx.set(k, 1000 * (k + 1), 50 + k), undefined);
  const first = idx.flush(alloc);
  assert.equal(first.fresh.length, 3, "two leaves and their parent, all new");
  assert.deepEqual([first.inPlace.length, first.counts.length], [0, 0]);
  apply(first);
  const read = (a: number) => parseNode(a, disk.get(a)!, 3);
  const root = read(idx.root);
  assert.deepEqual([root.level, root.entries, root.left, root.right], [1, 2, UNDEF, UNDEF]);
  const [l0, l1] = root.children.map(read);
  assert.deepEqual([l0.level, l0.entries, l0.left, l0.right], [0, 64, UNDEF, l1.addr]);
  assert.deepEqual([l1.level, l1.entries, l1.left, l1.right], [0, 36, l0.addr, UNDEF]);
  assert.deepEqual(l0.keys.map((k) => k.offset), Array.from({ length: 65 }, (_, i) => [10 * i, 0, 0]), "keys: chunk offsets (rows, then 0s), the last one the next chunk's");
  assert.deepEqual(l0.keys.slice(0, 64).map((k) => k.size), Array.from({ length: 64 }, (_, k) => 50 + k));
  assert.equal(l0.keys[64].size, 0);
  assert.deepEqual(l0.children, Array.from({ length: 64 }, (_, k) => 1000 * (k + 1)));
  assert.deepEqual(l1.keys.map((k) => k.offset[0]), Array.from({ length: 37 }, (_, i) => 10 * (64 + i)));
  assert.deepEqual(root.keys.map((k) => k.offset[0]), [0, 640, 1000], "the parent's keys: its children's first keys and the end");

  // nothing changed: nothing to write
  const none = idx.flush(alloc);
  assert.deepEqual([none.fresh.length, none.inPlace.length, none.counts.length], [0, 0, 0]);

  // a replaced chunk: the old entry is returned, its leaf rewritten in place (same count)
  assert.deepEqual(idx.set(99, 777_000, 999, 1024), { addr: 100_000, size: 149, cap: 149 });
  const repl = idx.flush(alloc);
  assert.deepEqual(repl.inPlace.map(([a]) => a), [l1.addr, idx.root], "the leaf, and its parent (every level on the path is rewritten)");
  assert.deepEqual([repl.fresh.length, repl.counts.length], [0, 0]);
  apply(repl);
  assert.equal(read(l1.addr).children[35], 777_000);

  // 4,000 more chunks: a third level; the old right leaf gets a right sibling, nodes their new
  // entries with their old count first (a reader meanwhile sees the old entries), then the count
  for (let k = 100; k < 4200; k++) idx.set(k, 1000 * (k + 1), 7);
  const grow = idx.flush(alloc);
  assert.ok(grow.inPlace.some(([a, bytes]) => a === l1.addr && (bytes[6] | (bytes[7] << 8)) === 36), "the old leaf is rewritten with its old count");
  assert.ok(grow.counts.some(([a, bytes]) => a === l1.addr + 6 && (bytes[0] | (bytes[1] << 8)) === 64), "then its count");
  assert.ok(grow.inPlace.every(([a]) => a !== idx.root), "the new root is new");
  apply(grow);
  const top = read(idx.root);
  assert.deepEqual([top.level, top.entries, top.left, top.right], [2, 2, UNDEF, UNDEF]);
  // walk: every level's nodes linked left to right, every chunk once, in order
  let level = [top];
  for (let depth = 2; depth >= 0; depth--) {
    level.forEach((n, i) => {
      assert.equal(n.level, depth);
      assert.equal(n.left, i > 0 ? level[i - 1].addr : UNDEF, `level ${depth} node ${i}: left sibling`);
      assert.equal(n.right, i + 1 < level.length ? level[i + 1].addr : UNDEF, `level ${depth} node ${i}: right sibling`);
      for (let e = 0; e < n.entries; e++) assert.ok(n.keys[e].offset[0] < n.keys[e + 1].offset[0]);
    });
    if (depth > 0) level = level.flatMap((n) => n.children.map(read));
  }
  assert.equal(level.length, Math.ceil(4200 / 64));
  assert.deepEqual(level.flatMap((n) => n.children), Array.from({ length: 4200 }, (_, k) => (k === 99 ? 777_000 : 1000 * (k + 1))));
  assert.deepEqual(level.flatMap((n) => n.keys.slice(0, n.entries).map((k) => k.offset[0])), Array.from({ length: 4200 }, (_, k) => 10 * k));
  assert.equal(level.at(-1)!.keys.at(-1)!.offset[0], 42_000);

  // a flush that ends at a full leaf: the next chunk opens a new leaf, and the full one, unchanged
  // otherwise, is rewritten for its right sibling
  const idx2 = new ChunkIndex(1, []);
  for (let k = 0; k < 128; k++) idx2.set(k, 10 + k, 1);
  const f1 = idx2.flush(alloc);
  const leaves = f1.fresh.map(([a, bytes]) => parseNode(a, bytes, 2)).filter((n) => n.level === 0);
  assert.equal(leaves.length, 2);
  idx2.set(128, 999, 1);
  const f2 = idx2.flush(alloc);
  const fresh2 = f2.fresh.map(([a, bytes]) => parseNode(a, bytes, 2));
  const newLeaf = fresh2.find((n) => n.level === 0)!;
  assert.deepEqual([newLeaf.entries, newLeaf.left, newLeaf.right, newLeaf.children], [1, leaves[1].addr, UNDEF, [999]]);
  const old = f2.inPlace.map(([a, bytes]) => parseNode(a, bytes, 2)).find((n) => n.addr === leaves[1].addr);
  assert.ok(old, "the full leaf is rewritten");
  assert.deepEqual([old.entries, old.left, old.right], [64, leaves[0].addr, newLeaf.addr]);
  assert.ok(f2.counts.every(([a]) => a !== leaves[1].addr + 6), "its count did not change");
});

test("chunk B-tree, copy-on-write (atomic columns): when anything changed every node goes to new space and the old ones are released; nothing when nothing changed", () => {
  const idx = new ChunkIndex(4, []);
  idx.copyOnWrite = true;
  assert.deepEqual(idx.released, [], "nothing released yet");
  let next = 1000;
  const alloc = (n: number) => ((next += n), next - n);
  const empty = idx.flush(alloc);
  assert.deepEqual([empty.fresh, empty.inPlace, empty.counts, next], [[], [], [], 1000], "no chunk: nothing written or allocated");
  for (let k = 0; k < 70; k++) idx.set(k, 10 * k, 5);
  const n = idx.nodeSize;
  const f1 = idx.flush(alloc);
  assert.deepEqual(f1.fresh.map(([a]) => a), [1000, 1000 + n, 1000 + 2 * n], "two leaves, then their parent");
  assert.deepEqual([f1.inPlace.length, f1.counts.length, idx.released.length, idx.root], [0, 0, 0, 1000 + 2 * n]);
  const nodes = f1.fresh.map(([a, b]) => parseNode(a, b, 2));
  assert.deepEqual(nodes.map((x) => [x.level, x.entries, x.left, x.right]), [[0, 64, UNDEF, 1000 + n], [0, 6, 1000, UNDEF], [1, 2, UNDEF, UNDEF]]);
  assert.deepEqual(nodes[2].children, [1000, 1000 + n]);
  // nothing changed: nothing written, nothing released
  const f2 = idx.flush(alloc);
  assert.deepEqual([f2.fresh.length, f2.inPlace.length, idx.released.length, next], [0, 0, 0, 1000 + 3 * n]);
  // one chunk replaced: every node moves, the old ones are released
  assert.deepEqual(idx.set(3, 99, 7), { addr: 30, size: 5, cap: 5 });
  const f3 = idx.flush(alloc);
  assert.deepEqual(f3.fresh.map(([a]) => a), [1000 + 3 * n, 1000 + 4 * n, 1000 + 5 * n]);
  assert.deepEqual(f3.inPlace.length + f3.counts.length, 0);
  assert.deepEqual(idx.released, [[1000, n], [1000 + n, n], [1000 + 2 * n, n]]);
  const leaf = parseNode(f3.fresh[0][0], f3.fresh[0][1], 2);
  assert.deepEqual([leaf.children[3], leaf.keys[3].size, leaf.right], [99, 7, 1000 + 4 * n]);
  idx.flush(alloc);
  assert.deepEqual(idx.released, [], "only what the last flush replaced");
});

// ------------------------------------------------------------------ heap.ts

/**
 * A global heap collection as the specification lays it out: objects by index, then the free
 * space; our checksum object (FORMAT.md) last before the free space, checked and left out of `objects`.
 */
function parseCollection(b: Uint8Array): { size: number; objects: Map<number, Uint8Array>; free: number } {
  assert.deepEqual([...b.subarray(0, 8)], [...SIG_GCOL, 1, ...CHECKSUM_MARK]);
  const size = u64at(b, 8);
  assert.equal(b.length, size);
  const objects = new Map<number, Uint8Array>();
  let p = 16;
  let free = 0;
  let checksum = -1;
  while (p + 16 <= size) {
    const index = b[p] | (b[p + 1] << 8);
    const n = u64at(b, p + 8);
    if (index === 0) {
      free = n;
      break;
    }
    const data = b.slice(p + 16, p + 16 + n);
    if (data[0] === 0xff) {
      assert.equal(checksum, -1, "one checksum object");
      assert.deepEqual([b[p + 2] | (b[p + 3] << 8), n, ...data.subarray(0, 4)], [0, 8, ...CHECKSUM_MAGIC], "reference count 0, 8 bytes, the magic");
      assert.equal(index, objects.size + 1, "the next index");
      assert.equal(new DataView(data.buffer).getUint32(4, true), lookup3(b.subarray(16, p)) >>> 0, "lookup3 of every object before it");
      checksum = p;
    } else {
      assert.equal(checksum, -1, "nothing after the checksum object but the free space");
      assert.equal(b[p + 2] | (b[p + 3] << 8), 1, "reference count 1");
      objects.set(index, data);
    }
    p += 16 + Math.ceil(n / 8) * 8;
  }
  assert.ok(checksum > 0, "a checksum object");
  return { size, objects, free };
}

test("global heap: 4 KiB collections with objects padded to 8 bytes, a checksum object and a free-space object, larger ones for large objects, full ones forgotten once written", () => {
  const allocs: number[] = [];
  let next = 5000;
  const heap = new GlobalHeap((n) => (allocs.push(n), (next += n) - n));
  const enc = new TextEncoder();
  const a = heap.add(enc.encode("abc"));
  const b = heap.add(new Uint8Array(0));
  assert.deepEqual([a, b], [{ length: 3, addr: 5000, index: 1 }, { length: 0, addr: 5000, index: 2 }]);
  assert.equal(heap.retained, 2);
  let r = heap.flush();
  assert.deepEqual([r.fresh.length, r.inPlace.length], [1, 0]);
  let c = parseCollection(r.fresh[0][1]);
  assert.equal(c.size, 4096);
  assert.deepEqual([...c.objects].map(([i, d]) => [i, [...d]]), [[1, [0x61, 0x62, 0x63]], [2, []]]);
  assert.equal(c.free, 4096 - 16 - 24 - 16 - 24, "the free-space object covers the rest, its header included");
  assert.equal(heap.retained, 2, "the current collection is kept");
  // more objects: the same collection, rewritten in place
  heap.add(enc.encode("defgh"));
  r = heap.flush();
  assert.deepEqual([r.fresh.length, r.inPlace.length], [0, 1]);
  c = parseCollection(r.inPlace[0][1]);
  assert.deepEqual([...c.objects.keys()], [1, 2, 3]);
  // fill it: objects of 8 bytes (16 + 8) fit with room for the checksum object (24) and the free-space object (16)
  const refs = Array.from({ length: 200 }, (_, i) => heap.add(enc.encode(`s${String(i).padStart(6, "0")}`)));
  const firstOther = refs.findIndex((x) => x.addr !== 5000);
  assert.equal(firstOther, Math.floor((4096 - 16 - 16 - 24 - 16 - 24 - 16 - 24) / 24), "as many as fit with 40 bytes left for the checksum and free-space objects");
  assert.deepEqual(refs[firstOther], { length: 7, addr: 5000 + 4096, index: 1 });
  r = heap.flush();
  assert.deepEqual([r.fresh.length, r.inPlace.length], [1, 1]);
  const full = parseCollection(r.inPlace[0][1]);
  assert.equal(full.objects.size, 3 + firstOther);
  assert.ok(full.free < 16 + 24, "full");
  assert.equal(heap.retained, 200 - firstOther, "the full collection is forgotten");
  // a large object gets a collection of its own size (rounded to 8, with room for the checksum and free-space objects)
  const large = heap.add(new Uint8Array(5001).fill(3));
  assert.equal(allocs.at(-1), Math.ceil((16 + 16 + 5008 + 24 + 16) / 8) * 8);
  r = heap.flush();
  const own = parseCollection(r.fresh.find(([addr]) => addr === large.addr)![1]);
  assert.equal(own.objects.get(1)!.length, 5001);
  assert.equal(own.free, 16);
  // an object that fills a collection but for the checksum object and the free-space object's 16 bytes
  const h2 = new GlobalHeap(() => 0);
  h2.add(new Uint8Array(4096 - 16 - 16 - 24 - 16));
  const exact = parseCollection(h2.flush().fresh[0][1]);
  assert.deepEqual([exact.size, exact.objects.get(1)!.length, exact.free], [4096, 4096 - 72, 16]);
  h2.add(new Uint8Array(1));
  assert.equal(h2.flush().fresh.length, 1, "the next object needs a new collection");
});

// ------------------------------------------------------------------ whole files, read back with h5py

type Attr = { dtype: string; value: unknown; shape?: number[] };
type Obj = { kind: "group"; attrs?: Record<string, Attr>; links?: string[] }
  | { kind: "dataset"; dtype: string; shape: number[]; data?: unknown[]; chunks?: number[]; filters?: string[]; attrs?: Record<string, Attr> }
  | { kind: "strings"; shape: number[]; data: string[]; attrs?: Record<string, Attr> }
  | { kind: "text"; value: string; attrs?: Record<string, Attr> };
interface FileSpec { objects: Record<string, Obj>; same?: [string, string][]; complete?: boolean }

function h5pyExpect(t: TestContext, dir: string, files: Record<string, FileSpec>): void {
  // mutation testing: the files are compared with the golden digests of files that passed this check (helpers.ts)
  if (GOLDEN && !GOLDEN.record) return;
  const problem = structureCheckerProblem();
  if (problem) return skipOrFail(t, problem);
  const spec = join(dir, "spec.json");
  writeFileSync(spec, JSON.stringify({ files }, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
  // a timeout: HDF5's own traversal (h5py visit) loops forever on a cycle of links whose reference counts are wrong
  const r = spawnSync(PYTHON, [EXPECT, spec], { encoding: "utf8", maxBuffer: 64 << 20, timeout: 60_000 });
  assert.ok(!r.error, `expect.py did not finish: ${r.error?.message}`);
  assert.equal(r.status, 0, `h5py disagrees with what was written:\n${r.stdout.slice(0, 4000)}${r.stderr}`);
}

const flat = (a: NumericArray) => Array.from(a as ArrayLike<number | bigint>, (x) => (typeof x === "bigint" ? x.toString() : x));
const GZ = (level: number) => ({ kind: "gzip", level }) as const;
const NONE = { kind: "none", level: 0 } as const;

test("a file of every feature the engine writes reads back in h5py exactly as written; its structure passes check_structure.py", { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t, "snn-ts-engine-");
  const file = join(dir, "all.h5");
  const w = await TsWriter.create(file, { compressInline: true });
  assert.equal(w.isOpen, true);
  const objects: Record<string, Obj> = {};
  const attrs: Record<string, Record<string, Attr>> = {};
  const setAttr = (path: string, name: string, value: Parameters<TsWriter["setAttr"]>[2], want: Attr, numberDtype?: "float64" | "int8") => {
    w.setAttr(path, name, value, numberDtype);
    (attrs[path] ??= {})[name] = want;
  };

  // attributes of every kind on the root, one replaced, one deleted, one never there
  setAttr("/", "name", "experiment ✓ µs", { dtype: "string", value: "experiment ✓ µs" });
  setAttr("/", "pi", Math.PI, { dtype: "float64", value: Math.PI });
  setAttr("/", "small", -3, { dtype: "int8", value: -3 }, "int8");
  setAttr("/", "flag", true, { dtype: "int8", value: 1 });
  setAttr("/", "off", false, { dtype: "int8", value: 0 });
  setAttr("/", "count", 2n ** 40n + 3n, { dtype: "int64", value: (2n ** 40n + 3n).toString() });
  const f32attr = Float32Array.from([0.5, -1.25, 3]);
  setAttr("/", "f32", f32attr, { dtype: "float32", value: [0.5, -1.25, 3], shape: [3] });
  f32attr[0] = 99; // the attribute holds a copy: changing the array afterwards changes nothing
  setAttr("/", "u16", Uint16Array.from([1, 65535]), { dtype: "uint16", value: [1, 65535], shape: [2] });
  setAttr("/", "i64", BigInt64Array.from([-(2n ** 62n), 5n]), { dtype: "int64", value: [(-(2n ** 62n)).toString(), "5"], shape: [2] });
  setAttr("/", "u64", BigUint64Array.from([2n ** 63n + 5n]), { dtype: "uint64", value: [(2n ** 63n + 5n).toString()], shape: [1] });
  setAttr("/", "temp", 1, { dtype: "float64", value: 1 });
  w.deleteAttr("/", "temp");
  delete attrs["/"].temp;
  w.deleteAttr("/", "never-set");
  setAttr("/", "pi", "replaced", { dtype: "string", value: "replaced" });

  // groups: deep paths created at once, a group outgrowing its header after a flush
  w.createGroup("/a/b/c");
  w.createGroup("/a/b"); // exists: nothing
  assert.ok(w.exists("/a/b/c") && w.exists("/a") && !w.exists("/a/x") && !w.exists("/a/b/c/d"));
  objects["/a"] = { kind: "group", links: ["b", "up", "wide"] };
  objects["/a/b"] = { kind: "group", links: ["c", "loop"] };
  objects["/a/b/c"] = { kind: "group", links: [] };

  // numeric columns of every dtype, appended across flushes in uneven blocks, some rows rewritten
  const dtypes = [
    ["int8", Int8Array], ["uint8", Uint8Array], ["int16", Int16Array], ["uint16", Uint16Array], ["int32", Int32Array], ["uint32", Uint32Array],
    ["float32", Float32Array], ["float64", Float64Array],
  ] as const;
  const cols = dtypes.map(([dtype, Arr], i) => {
    const level = i % 3 === 2 ? 0 : 1 + i; // every gzip level from 1 to 8 but some without compression
    const path = `/cols/${dtype}`;
    const col = w.createColumn(path, { dtype, rowShape: [], chunkRows: 5, compression: level ? GZ(level) : NONE });
    return { dtype, Arr, path, col, level, data: [] as number[] };
  });
  const big = [
    { dtype: "int64", path: "/cols/int64", col: w.createColumn("/cols/int64", { dtype: "int64", rowShape: [], chunkRows: 5, compression: GZ(9) }), data: [] as bigint[] },
    { dtype: "uint64", path: "/cols/uint64", col: w.createColumn("/cols/uint64", { dtype: "uint64", rowShape: [], chunkRows: 5, compression: GZ(4) }), data: [] as bigint[] },
  ];
  let v = 0;
  for (const block of [2, 3, 1, 7, 5, 10, 4, 0, 1, 6]) {
    for (const c of cols) {
      const xs = Array.from({ length: block }, () => (v = (v * 31 + 7) % 120) - (c.dtype.startsWith("u") ? 0 : 60));
      c.col.append(c.Arr.from(xs), block);
      c.data.push(...(c.dtype === "float32" ? xs.map((x) => Math.fround(x / 8)) : xs).map((x) => x));
    }
    for (const c of big) {
      const xs = Array.from({ length: block }, (_, i) => BigInt(v + i) * (c.dtype === "int64" ? -(2n ** 40n) : 2n ** 56n));
      c.col.append(c.dtype === "int64" ? BigInt64Array.from(xs) : BigUint64Array.from(xs), block);
      c.data.push(...xs);
    }
    w.flush();
  }
  // float32 data was appended as integers: rewrite it as the fractions recorded above
  const f32 = cols.find((c) => c.dtype === "float32")!;
  f32.col.writeAt(Float32Array.from(f32.data), f32.data.length, 0);
  for (const c of cols) objects[c.path] = { kind: "dataset", dtype: c.dtype, shape: [c.data.length], data: c.data, chunks: [5], filters: c.level ? (c.dtype.endsWith("8") ? ["deflate"] : ["shuffle", "deflate"]) : [] };
  for (const c of big) objects[c.path] = { kind: "dataset", dtype: c.dtype, shape: [c.data.length], data: c.data.map(String), chunks: [5], filters: ["shuffle", "deflate"] };

  // a 2-D column written with writeAt past its end, then inside its partial last chunk
  const grid = w.createColumn("/grid", { dtype: "int32", rowShape: [2, 3], chunkRows: 4, compression: GZ(6) });
  const rows = (from: number, n: number) => Int32Array.from({ length: n * 6 }, (_, i) => from * 6 + i);
  grid.append(rows(0, 3), 3);
  w.flush();
  grid.writeAt(rows(3, 4), 4, 3); // completes chunk 0 from its tail, starts chunk 1
  grid.writeAt(rows(7, 2), 2, 7); // continues chunk 1 (held as its tail)
  assert.equal(grid.length, 9);
  assert.throws(() => grid.writeAt(rows(1, 1), 1, 1), (e: unknown) => isSnnExportError(e, "HDF5_ERROR") && /^internal: rows 1-2 would rewrite part of an earlier chunk in /.test((e as Error).message));
  objects["/grid"] = { kind: "dataset", dtype: "int32", shape: [9, 2, 3], data: flat(rows(0, 9)), chunks: [4, 2, 3], filters: ["shuffle", "deflate"] };

  // a column written only from chunk starts: each flush rewrites its partial chunk whole
  const whole = w.createColumn("/whole", { dtype: "float64", rowShape: [], chunkRows: 8, compression: GZ(1), fromChunkStart: true, family: "f" });
  const wd: number[] = [];
  for (let n = 1; n <= 20; n++) {
    wd.push(n / 3);
    const start = Math.floor((wd.length - 1) / 8) * 8;
    whole.writeAt(Float64Array.from(wd.slice(start)), wd.length - start, start);
    if (n % 3 === 0) w.flush();
  }
  objects["/whole"] = { kind: "dataset", dtype: "float64", shape: [20], data: wd, chunks: [8], filters: ["shuffle", "deflate"] };
  // another column of the same family, and one never written (no chunk index)
  const sib = w.createColumn("/sibling", { dtype: "float64", rowShape: [], chunkRows: 8, compression: GZ(1), family: "f" });
  sib.append(Float64Array.from([1, 2]), 2);
  sib.append(new Float64Array(0), 0);
  objects["/sibling"] = { kind: "dataset", dtype: "float64", shape: [2], data: [1, 2], chunks: [8] };
  w.createColumn("/empty", { dtype: "uint16", rowShape: [3], chunkRows: 2.7, compression: NONE });
  objects["/empty"] = { kind: "dataset", dtype: "uint16", shape: [0, 3], data: [], chunks: [2, 3], filters: [] };

  // 4,200 one-row chunks: a chunk B-tree of three levels, grown over flushes; some flushes end
  // exactly at a full leaf (64 chunks) or a full level-1 node (4,096), so that the next flush adds
  // a node whose left neighbour has not changed otherwise
  const many = w.createColumn("/many", { dtype: "uint8", rowShape: [], chunkRows: 1, compression: NONE });
  const md: number[] = [];
  for (const n of [100, 28, 64, 1, 63, 300, 3540, 1, 40, 63]) {
    const xs = Array.from({ length: n }, (_, i) => (md.length + i) % 251);
    many.append(Uint8Array.from(xs), n);
    md.push(...xs);
    w.flush();
  }
  assert.deepEqual([md.length, many.length], [4200, 4200]);
  objects["/many"] = { kind: "dataset", dtype: "uint8", shape: [4200], data: md, chunks: [1], filters: [] };

  // whole arrays: a 2-D one of more than 1 MiB (chunks of at most 1 MiB), a short one
  const mat = Float64Array.from({ length: 2000 * 80 }, (_, i) => (i % 977) * 0.25);
  w.writeArray("/arrays/matrix", mat, [2000, 80], GZ(3));
  w.writeArray("/arrays/short", Int16Array.from([5, -5, 7]), [3], NONE, 2);
  assert.throws(() => w.writeArray("/arrays/bad", Int16Array.from([1, 2, 3]), [2, 2], NONE), (e: unknown) => isSnnExportError(e, "HDF5_ERROR") && /^internal: 3 elements do not fill shape \[2,2\] at \/arrays\/bad$/.test((e as Error).message));
  objects["/arrays"] = { kind: "group", links: ["matrix", "short"] };
  objects["/arrays/matrix"] = { kind: "dataset", dtype: "float64", shape: [2000, 80], data: flat(mat), chunks: [Math.floor((1 << 20) / 640), 80] };
  objects["/arrays/short"] = { kind: "dataset", dtype: "int16", shape: [3], data: [5, -5, 7], chunks: [2], filters: [] };

  // strings: a column over several heap collections and flushes, texts (one rewritten, one large), lists
  const sc = w.createStringColumn("/strings/col", 64);
  const sd: string[] = [];
  for (let b = 0; b < 6; b++) {
    const xs = Array.from({ length: 250 }, (_, i) => (i % 50 === 0 ? "" : `${b}:${i} ${"ü".repeat(i % 7)}`));
    sc.append(xs);
    sc.append([]);
    sd.push(...xs);
    assert.equal(sc.length, sd.length);
    w.flush();
  }
  w.writeText("/strings/text", "first");
  w.flush();
  w.writeText("/strings/text", "second ✓");
  w.writeText("/strings/large", "L".repeat(9000));
  w.writeStrings("/strings/list", ["x", "yy", "zzz"]);
  w.writeStrings("/strings/many", Array.from({ length: 1500 }, (_, i) => `m${i}`));
  objects["/strings"] = { kind: "group", links: ["col", "text", "large", "list", "many"] };
  objects["/strings/col"] = { kind: "strings", shape: [sd.length], data: sd };
  objects["/strings/text"] = { kind: "text", value: "second ✓" };
  objects["/strings/large"] = { kind: "text", value: "L".repeat(9000) };
  objects["/strings/list"] = { kind: "strings", shape: [3], data: ["x", "yy", "zzz"] };
  objects["/strings/many"] = { kind: "strings", shape: [1500], data: Array.from({ length: 1500 }, (_, i) => `m${i}`) };

  // hard links: a dataset with three names, a group linked a second time, a cycle; attributes through a link
  w.link("/grid", "/a/grid2");
  w.link("/grid", "/a/b/c/grid3");
  w.link("/a/b", "/a/up");
  w.link("/a", "/a/b/loop");
  setAttr("/a/grid2", "units", "mV", { dtype: "string", value: "mV" });
  attrs["/grid"] = attrs["/a/grid2"];
  // a group whose header outgrows its space after it was written: 40 more links
  w.flush();
  for (let i = 0; i < 40; i++) w.createGroup(`/a/wide/g${String(i).padStart(2, "0")}`);
  setAttr("/a/wide", "n", 40, { dtype: "float64", value: 40 });
  objects["/a/wide"] = { kind: "group", links: Array.from({ length: 40 }, (_, i) => `g${String(i).padStart(2, "0")}`) };
  for (let i = 0; i < 40; i++) objects[`/a/wide/g${String(i).padStart(2, "0")}`] = { kind: "group", links: [] };
  objects["/a"] = { kind: "group", links: ["b", "up", "wide", "grid2"] };
  objects["/a/b/c"] = { kind: "group", links: ["grid3"] };
  objects["/cols"] = { kind: "group", links: [...cols.map((c) => c.dtype), "int64", "uint64"] };
  objects["/"] = { kind: "group", links: ["a", "cols", "grid", "whole", "sibling", "empty", "many", "arrays", "strings"] };

  // refused calls: HDF5_ERROR, the message naming the object
  const hdf5Error = (re: RegExp) => (e: unknown) => isSnnExportError(e, "HDF5_ERROR") && re.test((e as Error).message);
  assert.throws(() => w.createColumn("/bad", { dtype: "int8", rowShape: [0], chunkRows: 4, compression: NONE }), hdf5Error(/empty rows/));
  assert.throws(() => w.createColumn("/", { dtype: "int8", rowShape: [], chunkRows: 4, compression: NONE }), hdf5Error(/invalid object path/));
  assert.throws(() => w.createColumn("/grid", { dtype: "int8", rowShape: [], chunkRows: 4, compression: NONE }), hdf5Error(/\/grid already exists/));
  assert.throws(() => w.createGroup("/grid/sub"), hdf5Error(/grid is a dataset, not a group/));
  assert.throws(() => w.setAttr("/nothing", "x", 1), hdf5Error(/cannot set attribute x: \/nothing does not exist/));
  assert.throws(() => w.deleteAttr("/nothing", "x"), hdf5Error(/cannot delete attribute x/));
  assert.throws(() => w.link("/nothing", "/a/n"), hdf5Error(/cannot link \/a\/n: \/nothing does not exist/));
  assert.throws(() => w.setAttr("/grid/x", "a", 1), hdf5Error(/does not exist/), "a path through a dataset");

  for (const [path, a] of Object.entries(attrs)) if (objects[path]) objects[path] = { ...objects[path], attrs: a } as Obj;
  assert.equal(w.flushIfIdle(), true, "nothing is being compressed: it flushed");
  // the file is kept longer than its stated end while it is written
  const sb = head(file, 48);
  const eof = u64at(sb, 28);
  assert.ok(statSync(file).size >= eof + (16 << 20), `open file ${statSync(file).size} bytes, stated end ${eof}`);
  assert.equal(sb[8], 2, "superblock version 2");
  w.close();
  w.close(); // idempotent
  assert.equal(w.isOpen, false);
  assert.equal(statSync(file).size, eof, "cut to its stated end at close (nothing changed since the last flush)");
  w.setAttr("/", "late", 1);
  assert.throws(() => w.flush(), /already closed/);

  h5pyExpect(t, dir, { [file]: { objects, complete: true, same: [["/grid", "/a/grid2"], ["/grid", "/a/b/c/grid3"], ["/a/b", "/a/up"], ["/a", "/a/b/loop"]] } });
});

test("space superseded by a flush is reused two flushes later, never sooner, and never in SWMR files", async (t) => {
  const dir = tempDir(t, "snn-ts-engine-");
  for (const swmr of [false, true]) {
    const file = join(dir, `reuse-${swmr}.h5`);
    const w = await TsWriter.create(file, { compressInline: true, swmr });
    const col = w.createColumn("/x", { dtype: "uint8", rowShape: [], chunkRows: 4096, compression: GZ(1) });
    const space = (w as unknown as { space: FreeSpace }).space;
    const addrOf = () => (w as unknown as { find(p: string): { index: ChunkIndex } }).find("/x").index.entries[0];
    col.append(new Uint8Array(300).fill(1), 300);
    w.flush();
    const first = addrOf();
    assert.equal(first.cap, sizeClass(first.size), "a partial chunk reserves its size class");
    col.append(new Uint8Array(300).fill(2), 300); // the partial chunk is rewritten: the first copy is superseded
    w.flush();
    assert.equal(space.total, 0, "superseded one flush ago: not free yet");
    col.append(new Uint8Array(10).fill(3), 10);
    w.flush();
    assert.equal(space.total, swmr ? 0 : first.cap, swmr ? "SWMR: never reused" : "two flushes later: free");
    const before = addrOf();
    col.append(new Uint8Array(4).fill(4), 4);
    w.flush();
    if (!swmr) assert.equal(addrOf().addr, first.addr, "the freed space is taken again");
    else assert.ok(addrOf().addr > before.addr, "SWMR: always new space");
    w.close();
    assert.equal(head(file, 9)[8], swmr ? 3 : 2, "superblock version");
  }
  await assert.rejects(TsWriter.create(join(dir, "no", "such", "dir.h5")), (e: unknown) => isSnnExportError(e, "IO_ERROR") && /^could not create HDF5 file .*dir\.h5: ENOENT/.test((e as Error).message) && (e as Error).cause instanceof Error);
});

test("atomic columns: a flush that changes one writes its header, its chunk index and its ancestors' headers to new space, freed two flushes later; not in SWMR files", async (t) => {
  const dir = tempDir(t, "snn-ts-engine-");
  for (const swmr of [false, true]) {
    const file = join(dir, `atomic-${swmr}.h5`);
    const w = await TsWriter.create(file, { compressInline: true, swmr });
    // the first flush: the root's header, then the superblock that points to it
    assert.deepEqual(w.lastFlush, { headers: 1, indexes: 0, writes: 2 });
    const x = w.createColumn("/g/x", { dtype: "int32", rowShape: [], chunkRows: 2, compression: GZ(1), atomic: true });
    const y = w.createColumn("/g/y", { dtype: "int32", rowShape: [], chunkRows: 2, compression: NONE });
    type Internal = { addr: number; cap: number; index: ChunkIndex };
    const find = (p: string) => (w as unknown as { find(p: string): Internal }).find(p);
    const space = (w as unknown as { space: FreeSpace }).space;
    const where = () => [find("/").addr, find("/g").addr, find("/g/x").addr, find("/g/x").index.root, find("/g/y").addr];
    x.append(Int32Array.from([1, 2]), 2);
    y.append(Int32Array.from([5, 6]), 2);
    w.flush();
    const first = where();
    const old = [...["/", "/g", "/g/x"].map((p) => [find(p).addr, find(p).cap]), [find("/g/x").index.root, find("/g/x").index.nodeSize]];
    x.append(Int32Array.from([3, 4]), 2);
    w.flush();
    const second = where();
    const freed = () => (w as unknown as { freed: [number, number][][] }).freed[1];
    // writes: SWMR, the leaf in place with its old count, then the count, the header in place, the
    // superblock (new end of file); else the new B-tree node and the three moved headers, the
    // superblock with the old root (new end of file), the superblock with the new root
    assert.deepEqual(w.lastFlush, swmr ? { headers: 1, indexes: 1, writes: 4 } : { headers: 3, indexes: 1, writes: 6 });
    if (swmr) assert.deepEqual(second, first, "SWMR: atomic is ignored, everything stays in place");
    else {
      for (let i = 0; i < 4; i++) assert.ok(second[i] > first[i], `moved to new space: ${["/", "/g", "/g/x", "its B-tree root"][i]}`);
      assert.equal(second[4], first[4], "the other column stays");
      assert.deepEqual(freed().slice().sort((a, b) => a[0] - b[0]), old.sort((a, b) => a[0] - b[0]), "the old headers and B-tree node are superseded");
    }
    y.append(Int32Array.from([7, 8]), 2);
    const free = space.total;
    w.flush();
    assert.deepEqual(where(), second, "only the other column changed: nothing moves");
    // its leaf, its count, its header in place; and (SWMR) the superblock: without SWMR the new chunk
    // took space freed two flushes ago (the root's first header), the end of file did not change
    assert.deepEqual(w.lastFlush, { headers: 1, indexes: 1, writes: swmr ? 4 : 3 });
    assert.equal(space.total - free, swmr ? 0 : old.reduce((sum, [, n]) => sum + n, 0), "free two flushes later");
    w.close();
    const objects: Record<string, Obj> = {
      "/": { kind: "group", links: ["g"] },
      "/g": { kind: "group", links: ["x", "y"] },
      "/g/x": { kind: "dataset", dtype: "int32", shape: [4], data: [1, 2, 3, 4], chunks: [2], filters: ["shuffle", "deflate"] },
      "/g/y": { kind: "dataset", dtype: "int32", shape: [4], data: [5, 6, 7, 8], chunks: [2], filters: [] },
    };
    h5pyExpect(t, dir, { [file]: { objects, complete: true } });
  }
});

test("object headers are padded to their reserved size (a NIL message, or zeros for a gap under 4 bytes); a header that fits its space exactly stays", async (t) => {
  const dir = tempDir(t, "snn-ts-engine-");
  const file = join(dir, "pad.h5");
  const w = await TsWriter.create(file, { compressInline: true });
  const find = (p: string) => (w as unknown as { find(p: string): { addr: number } }).find(p);
  const names = Array.from({ length: 10 }, (_, i) => `d${i}`);
  for (const n of names) {
    w.createColumn(`/${n}`, { dtype: "float64", rowShape: [], chunkRows: 4, compression: NONE }).append(Float64Array.from([1]), 1);
    w.setAttr(`/${n}`, "x", 1);
  }
  w.flush(); // a new dataset header gets 64 bytes more than it needs
  const before = names.map((n) => find(`/${n}`).addr);
  // a second float64 attribute with a name of 12 to 21 bytes: a message of 4 + 9 + (12..21 + 1) + 20 + 4 + 8 = 58..67 bytes
  names.forEach((n, i) => w.setAttr(`/${n}`, "a".repeat(12 + i), 2));
  w.flush();
  // gaps left: 6, 5, 4 (NIL messages), 3, 2, 1 (zeros), 0 (exactly full: stays); then too large: moved
  assert.deepEqual(names.map((n, i) => find(`/${n}`).addr !== before[i]), [false, false, false, false, false, false, false, true, true, true]);
  w.close();
  const objects: Record<string, Obj> = { "/": { kind: "group", links: names } };
  names.forEach((n, i) => (objects[`/${n}`] = { kind: "dataset", dtype: "float64", shape: [1], data: [1], chunks: [4], filters: [],
    attrs: { x: { dtype: "float64", value: 1 }, ["a".repeat(12 + i)]: { dtype: "float64", value: 2 } } }));
  h5pyExpect(t, dir, { [file]: { objects, complete: true } });
});

test("a failed write stops the writer (fail-stop): the same typed error at every later call and at close; the file keeps its last flush", async (t) => {
  const dir = tempDir(t, "snn-ts-engine-");
  const file = join(dir, "failed.h5");
  const w = await TsWriter.create(file, { compressInline: true });
  const col = w.createColumn("/x", { dtype: "int32", rowShape: [], chunkRows: 4, compression: GZ(1) });
  col.append(Int32Array.from([1, 2, 3, 4, 5, 6]), 6);
  w.setAttr("/x", "units", "ms");
  w.flush();
  // from now on every write fails: the writer's descriptor is swapped for a read-only one
  const internals = w as unknown as { fd: number };
  const writable = internals.fd;
  internals.fd = openSync(file, "r");
  t.after(() => closeSync(writable));
  w.setAttr("/x", "units", "s");
  let first: unknown;
  // the chunk is written as soon as it is compressed (inline here): the append fails
  assert.throws(() => col.append(Int32Array.from([7, 8]), 2), (e: unknown) => {
    first = e;
    return isSnnExportError(e, "IO_ERROR") && e.message.includes(file) && /EBADF.*nothing more is written to it, and it holds everything up to its last successful flush/.test(e.message);
  });
  assert.throws(() => w.flush(), (e: unknown) => e === first, "the same error again");
  assert.throws(() => col.append(Int32Array.from([9]), 1), (e: unknown) => e === first, "no more rows are taken");
  assert.throws(() => w.flushIfIdle(), (e: unknown) => e === first);
  assert.throws(() => w.close(), (e: unknown) => e === first, "close reports it");
  assert.equal(w.isOpen, false);
  w.close(); // closed: nothing more
  checkAsKilled(file); // not truncated at close: as a killed writer leaves it
  h5pyExpect(t, dir, { [file]: { objects: {
    "/": { kind: "group", links: ["x"] },
    "/x": { kind: "dataset", dtype: "int32", shape: [6], data: [1, 2, 3, 4, 5, 6], chunks: [4], attrs: { units: { dtype: "string", value: "ms" } } },
  }, complete: true } });
});

test("deflate strategy by family: the trial on the family's first chunk decides for all its columns, tried again every 16th chunk", async (t) => {
  const dir = tempDir(t, "snn-ts-engine-");
  const w = await TsWriter.create(join(dir, "family.h5"), { compressInline: true });
  const noisy = (n: number, seed: number) => {
    const r = rng(seed);
    return Float64Array.from({ length: n }, () => r());
  };
  const a = w.createColumn("/a", { dtype: "float64", rowShape: [], chunkRows: 4096, compression: GZ(4), family: "noise" });
  const b = w.createColumn("/b", { dtype: "float64", rowShape: [], chunkRows: 4096, compression: GZ(4), family: "noise" });
  const c = w.createColumn("/c", { dtype: "int64", rowShape: [], chunkRows: 4096, compression: GZ(4) });
  const families = (w as unknown as { families: Map<string, { rle: boolean; chunks: number }> }).families;
  a.append(noisy(4096, 1), 4096);
  assert.deepEqual(families.get("noise"), { rle: true, chunks: 1 }, "shuffled noisy floats: Z_RLE won the trial");
  b.append(noisy(8192, 2), 8192);
  assert.deepEqual(families.get("noise"), { rle: true, chunks: 3 }, "one choice for the family");
  c.append(BigInt64Array.from({ length: 4096 }, (_, i) => BigInt(i)), 4096);
  assert.deepEqual(families.get("/c"), { rle: false, chunks: 1 }, "timesteps: the default strategy; the family is the path");
  // chunks 4 to 16 of the family follow the choice; the 17th is a trial again, which steps win
  a.append(noisy(13 * 4096, 3), 13 * 4096);
  assert.deepEqual(families.get("noise"), { rle: true, chunks: 16 });
  b.append(Float64Array.from({ length: 4096 }, (_, i) => i), 4096);
  assert.deepEqual(families.get("noise"), { rle: false, chunks: 17 }, "the second trial chose the default strategy");
  w.close();
  assert.equal(families.size, 2);
});

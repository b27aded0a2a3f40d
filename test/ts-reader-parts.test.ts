/**
 * The TypeScript reader's parsers on structures built here by hand from the HDF5 File Format
 * Specification (the parts snn-export's own writer never produces, so no written file reaches
 * them): object headers that track message creation order and continue in "OCHK" blocks, heads
 * that are too short or look like version 1, filter pipelines of version 1 (names padded to 8
 * bytes, client data padded to an even count), global heap collections and chunk B-tree keys.
 * Expected values are the bytes put in; damage is a typed error whose message says what and where.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSnnExportError } from "#lib/index.js";
import { lookup3 } from "#lib/h5/ts/lookup3.js";
import { ChunkTrees } from "#lib/h5/ts/read-btree.js";
import { GlobalHeaps } from "#lib/h5/ts/read-heap.js";
import { Cursor, FileSource, Unsupported } from "#lib/h5/ts/read-io.js";
import { decodeFilters } from "#lib/h5/ts/read-messages.js";
import { readObjectHeader } from "#lib/h5/ts/read-object-header.js";
import { tempDir } from "./helpers.js";

const typed = (code: string, message: RegExp) => (e: unknown) => {
  assert.ok(isSnnExportError(e, code as never), `${code}: ${String(e)}`);
  assert.match((e as Error).message, message);
  return true;
};
const unsupported = (message: RegExp) => (e: unknown) => {
  assert.ok(e instanceof Unsupported, String(e));
  assert.match((e as Error).message, message);
  return true;
};

/** Little-endian bytes of `v` in `n` bytes. */
function le(v: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Number((BigInt(v) >> BigInt(8 * i)) & 0xffn));
  return out;
}
const ascii = (s: string) => Array.from(s, (ch) => ch.charCodeAt(0));

interface Msg {
  type: number;
  flags: number;
  body: number[];
}

/** Header messages: type, size, flags, (creation order when tracked), body. */
function messages(list: Msg[], order: boolean): number[] {
  return list.flatMap((m, i) => [m.type, ...le(m.body.length, 2), m.flags, ...(order ? le(i + 7, 2) : []), ...m.body]);
}

const withSum = (b: number[]) => [...b, ...le(lookup3(Uint8Array.from(b)), 4)];

/** A version-2 object header: "OHDR", version 2, flags (chunk-size width 1 byte), size, messages, checksum. */
function ohdr(list: Msg[], order: boolean): number[] {
  const area = messages(list, order);
  return withSum([...ascii("OHDR"), 2, order ? 0x04 : 0, area.length, ...area]);
}

/** A continuation block: "OCHK", messages, checksum. */
const ochk = (list: Msg[], order: boolean) => withSum([...ascii("OCHK"), ...messages(list, order)]);

const continuation = (addr: number, len: number): Msg => ({ type: 0x10, flags: 0, body: [...le(addr, 8), ...le(len, 8)] });

function source(dir: string, name: string, bytes: number[]): FileSource {
  const file = join(dir, `${name}.bin`);
  writeFileSync(file, Uint8Array.from(bytes));
  return new FileSource(file);
}

function parsed(src: FileSource, addr = 0): { type: number; flags: number; body: number[] }[] {
  try {
    return readObjectHeader(src, addr, "here").map((m) => ({ type: m.type, flags: m.flags, body: Array.from(m.body) }));
  } finally {
    src.close();
  }
}

const A: Msg = { type: 0x0c, flags: 1, body: [1, 2, 3] };
const B: Msg = { type: 0x08, flags: 0, body: [9, 8, 7, 6, 5] };
const C: Msg = { type: 0x01, flags: 2, body: [] };

test("object header: messages with creation order fields, and continuation blocks with and without them", (t) => {
  const dir = tempDir(t);
  for (const order of [false, true]) {
    // header at 0 (A, continuation), continuation block right after it (B, C)
    const tail = ochk([B, C], order);
    const probe = ohdr([A, continuation(0, tail.length)], order);
    const head = ohdr([A, continuation(probe.length, tail.length)], order);
    assert.equal(head.length, probe.length);
    assert.deepEqual(parsed(source(dir, `cont-${order}`, [...head, ...tail])), [A, B, C], `order ${order}`);
    // a header without a continuation
    assert.deepEqual(parsed(source(dir, `plain-${order}`, ohdr([B, A], order))), [B, A], `order ${order}`);
  }
});

test("object header: damaged continuations are CORRUPT, each saying what", (t) => {
  const dir = tempDir(t);
  const tail = ochk([B], false);
  const size = ohdr([A, continuation(0, 0)], false).length;
  const cases: [string, number[], RegExp][] = [
    ["self", ohdr([A, continuation(0, 40)], false), /^here: object header continuation at 0 is visited twice \(the file is damaged\)$/],
    ["short", [...ohdr([A, continuation(size, 7)], false), ...tail], /^here: object header continuation of 7 bytes/],
    ["outside", [...ohdr([A, continuation(size, 400)], false), ...tail], /^here: object header continuation at \d+ \(\+400 bytes\) lies outside the file/],
    ["signature", [...ohdr([A, continuation(size, tail.length)], false), ...ascii("OCHX"), ...tail.slice(4)], /^here: no continuation block \("OCHK"\) at \d+/],
    ["checksum", [...ohdr([A, continuation(size, tail.length)], false), ...tail.slice(0, -1), tail[tail.length - 1] ^ 1], /^here: object header continuation checksum mismatch/],
  ];
  for (const [name, bytes, message] of cases) {
    assert.throws(() => parsed(source(dir, name, bytes)), typed("CORRUPT", message), name);
  }
});

test("object header: heads too short, of another version, or claiming more than the file", (t) => {
  const dir = tempDir(t);
  const pad = (head: number[], n: number) => [...head, ...new Array(n - head.length).fill(0)];
  // the start of a version-1 header: version 1, reserved 0, at least the 16-byte prefix
  assert.throws(() => parsed(source(dir, "v1", pad([1, 0, 2, 0], 16))), unsupported(/^a version-1 object header$/));
  assert.throws(() => parsed(source(dir, "v1-long", pad([1, 0, 2, 0], 40))), unsupported(/^a version-1 object header$/));
  const none = /^here: no object header at address 0 \(the file is damaged\)$/;
  assert.throws(() => parsed(source(dir, "v1-short", pad([1, 0, 2, 0], 15))), typed("CORRUPT", none), "15 bytes: not even a version-1 prefix");
  assert.throws(() => parsed(source(dir, "v1-reserved", pad([1, 5, 2, 0], 16))), typed("CORRUPT", none), "reserved byte not 0");
  assert.throws(() => parsed(source(dir, "v2-ish", pad([2, 0, 2, 0], 16))), typed("CORRUPT", none), "version 2 without the signature");
  // a signature cut short by the end of the file, and one that ends exactly there
  assert.throws(() => parsed(source(dir, "cut", ascii("OHD"))), typed("CORRUPT", none));
  assert.throws(() => parsed(source(dir, "sig-only", ascii("OHDR"))), typed("CORRUPT", /^here: object header ends early \(1 more bytes needed at 4 of 4\)/));
  // a header whose stated size runs past the end of the file (read beyond the first 512 bytes)
  const big = [...ascii("OHDR"), 2, 0x02, ...le(3000, 4)];
  assert.throws(() => parsed(source(dir, "big", pad(big, 600))), typed("CORRUPT", /^here: object header at 0 \(\+3014 bytes\) lies outside the file \(600 bytes\)/));
  // a file cut short after it was opened: an I/O error naming what was being read
  const file = join(dir, "cut-later.bin");
  writeFileSync(file, Uint8Array.from(ohdr([A, B], false)));
  const src = new FileSource(file);
  truncateSync(file, 3);
  assert.throws(() => parsed(src), typed("IO_ERROR", /cut-later\.bin ended at 3 while reading object header \(was it truncated while open\?\)$/));
});

test("filter pipeline: version 1 (names padded to 8, odd client data padded) and version 2, unknown filters outside the profile", () => {
  const filter = (v: 1 | 2, id: number, name: string, cd: number[]) => {
    const nameBytes = name ? [...ascii(name), 0] : [];
    const padded = v === 1 ? [...nameBytes, ...new Array(((nameBytes.length + 7) & ~7) - nameBytes.length).fill(0)] : nameBytes;
    const hasName = v === 1 || id >= 256;
    return [
      ...le(id, 2),
      ...(hasName ? le(nameBytes.length, 2) : []),
      ...le(1, 2), // flags: optional
      ...le(cd.length, 2),
      ...padded,
      ...cd.flatMap((x) => le(x, 4)),
      ...(v === 1 && cd.length % 2 ? [0, 0, 0, 0] : []),
    ];
  };
  const decode = (bytes: number[]) => {
    const c = new Cursor(Uint8Array.from(bytes), "here", "filter pipeline message");
    const out = decodeFilters(c);
    assert.equal(c.left, 0, "the whole message is read");
    return out;
  };
  // version 1: version, count, 6 reserved bytes
  const v1 = [1, 3, 0, 0, 0, 0, 0, 0, ...filter(1, 2, "shuffle", [4]), ...filter(1, 1, "deflate", [6, 1]), ...filter(1, 1, "", [9])];
  assert.deepEqual(decode(v1), [
    { id: 2, name: "shuffle", cd: [4] },
    { id: 1, name: "deflate", cd: [6, 1] },
    { id: 1, name: "deflate", cd: [9] },
  ]);
  // a name of exactly 8 bytes with its NUL is 8 bytes, not 16; one of 9 is 16
  const v1b = [1, 2, 0, 0, 0, 0, 0, 0, ...filter(1, 2, "shuffle", [2]), ...filter(1, 1, "deflate!", [3])];
  assert.deepEqual(decode(v1b), [
    { id: 2, name: "shuffle", cd: [2] },
    { id: 1, name: "deflate", cd: [3] },
  ]);
  // version 2: no reserved bytes, names only for ids >= 256 and not padded, no client data padding
  const v2 = [2, 2, ...filter(2, 2, "", [8]), ...filter(2, 1, "", [4])];
  assert.deepEqual(decode(v2), [
    { id: 2, name: "shuffle", cd: [8] },
    { id: 1, name: "deflate", cd: [4] },
  ]);
  assert.throws(() => decode([2, 1, ...filter(2, 32001, "blosc", [1, 2, 3])]), unsupported(/^filter 32001$/));
  assert.throws(() => decode([1, 1, 0, 0, 0, 0, 0, 0, ...filter(1, 3, "fletcher32", [])]), unsupported(/^filter 3$/));
  assert.throws(() => decode([3, 1, ...filter(2, 1, "", [4])]), typed("CORRUPT", /^here: filter pipeline version 3/));
  assert.throws(() => decode([2, 33]), typed("CORRUPT", /^here: 33 filters/));
});

/** A global heap collection: "GCOL", version 1, reserved, size; objects (index, refcount, reserved, size, data padded to 8); free space. */
function gcol(objects: [number, number[]][], reserved = [0, 0, 0]): number[] {
  const body = objects.flatMap(([index, data]) => [...le(index, 2), ...le(1, 2), 0, 0, 0, 0, ...le(data.length, 8), ...data, ...new Array(((data.length + 7) & ~7) - data.length).fill(0)]);
  const size = 16 + body.length + 16 + 16;
  return [...ascii("GCOL"), 1, ...reserved, ...le(size, 8), ...body, ...le(0, 2), 0, 0, 0, 0, 0, 0, ...le(16, 8), ...new Array(16).fill(0)];
}
const ref = (length: number, addr: number, index: number) => Uint8Array.from([...le(length, 4), ...le(addr, 8), ...le(index, 4)]);

test("global heap: strings by reference; damaged reserved bytes are CORRUPT; clear() forgets what was read", (t) => {
  const dir = tempDir(t);
  const file = join(dir, "heap.bin");
  writeFileSync(file, Uint8Array.from(gcol([[1, ascii("spike")], [2, ascii("reward!!x")]])));
  const src = new FileSource(file);
  try {
    const heaps = new GlobalHeaps(src);
    assert.equal(heaps.text(ref(5, 0, 1), 0, "here"), "spike");
    assert.equal(heaps.text(ref(9, 0, 2), 0, "here"), "reward!!x");
    assert.equal(heaps.text(ref(0, 0, 7), 0, "here"), "", "length 0: no heap read");
    // the same file rewritten in place: the collection read stays until clear()
    writeFileSync(file, Uint8Array.from(gcol([[1, ascii("Spike")], [2, ascii("reward!!y")]])));
    assert.equal(heaps.text(ref(5, 0, 1), 0, "here"), "spike");
    heaps.clear();
    assert.equal(heaps.text(ref(5, 0, 1), 0, "here"), "Spike");
    assert.equal(heaps.text(ref(9, 0, 2), 0, "here"), "reward!!y");
  } finally {
    src.close();
  }
  for (const reserved of [[1, 0, 0], [0, 0, 2]]) {
    const name = join(dir, `reserved-${reserved.join("")}.bin`);
    writeFileSync(name, Uint8Array.from(gcol([[1, ascii("spike")]], reserved)));
    const s = new FileSource(name);
    try {
      assert.throws(
        () => new GlobalHeaps(s).text(ref(5, 0, 1), 0, "here"),
        typed("CORRUPT", new RegExp(`^here: global heap collection at 0: reserved bytes of the collection header are ${reserved.join(", ")} \\(the file is damaged\\)$`)),
      );
    } finally {
      s.close();
    }
  }
});

/** A version-1 chunk B-tree leaf (rank-1 dataset): keys are chunk size, filter mask, row, element offset. */
function treeLeaf(keys: [number, number][], children: number[]): number[] {
  const key = ([row, elem]: [number, number]) => [...le(100, 4), ...le(0, 4), ...le(row, 8), ...le(elem, 8)];
  const body: number[] = [];
  for (let i = 0; i < children.length; i++) body.push(...key(keys[i]), ...le(children[i], 8));
  body.push(...key(keys[children.length]));
  return [...ascii("TREE"), 1, 0, ...le(children.length, 2), ...le(-1, 8), ...le(-1, 8), ...body];
}

test("chunk B-tree keys: offsets on chunk boundaries and increasing, later dimensions 0 except in the right key", (t) => {
  const dir = tempDir(t);
  const spec = { root: 0, rank: 1, chunkRows: 10, where: "here" };
  const find = (name: string, keys: [number, number][]) => {
    const src = source(dir, name, treeLeaf(keys, [1000, 2000, 3000]));
    try {
      return new ChunkTrees(src).find(spec, 0, 30).map((c) => [c.row, c.addr]);
    } finally {
      src.close();
    }
  };
  const rows = [[0, 1000], [10, 2000], [20, 3000]];
  assert.deepEqual(find("good", [[0, 0], [10, 0], [20, 0], [30, 8]]), rows, "the right key may hold the element size");
  assert.deepEqual(find("right-equal", [[0, 0], [10, 0], [20, 0], [20, 0]]), rows, "the right key may equal the last chunk's offset");
  const bad = (name: string, keys: [number, number][], message: RegExp) =>
    assert.throws(() => find(name, keys), typed("CORRUPT", message), name);
  bad("elem", [[0, 0], [10, 4], [20, 0], [30, 0]], /^here: chunk B-tree node at 0: a chunk offset beyond the first dimension is not 0 \(the file is damaged\)$/);
  bad("boundary", [[0, 0], [15, 0], [20, 0], [30, 0]], /^here: chunk B-tree node at 0: chunk offset 15 is not on a chunk boundary/);
  bad("huge", [[0, 0], [10, 0], [2 ** 60, 0], [2 ** 60 + 10, 0]], new RegExp(`^here: chunk B-tree node at 0: chunk offset ${2 ** 60} is not on a chunk boundary`));
  bad("equal", [[0, 0], [10, 0], [10, 0], [30, 0]], /^here: chunk B-tree node at 0: chunk offsets do not increase \(10, 10\)/);
  bad("back", [[0, 0], [20, 0], [10, 0], [30, 0]], /^here: chunk B-tree node at 0: chunk offsets do not increase \(20, 10\)/);
  bad("right-back", [[0, 0], [10, 0], [20, 0], [10, 0]], /^here: chunk B-tree node at 0: chunk offsets do not increase \(20, 10\)/);
});

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
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { join } from "node:path";
import { isSnnExportError } from "#lib/index.js";
import { lookup3 } from "#lib/h5/ts/lookup3.js";
import { ChunkTrees } from "#lib/h5/ts/read-btree.js";
import { ChunkReader } from "#lib/h5/ts/read-chunks.js";
import { GlobalHeaps } from "#lib/h5/ts/read-heap.js";
import { Cursor, FileSource, ReadJournal, Unsupported } from "#lib/h5/ts/read-io.js";
import { type Layout, checkCompact, decodeAttribute, decodeDataspace, decodeDatatype, decodeFilters, decodeLayout, decodeLink } from "#lib/h5/ts/read-messages.js";
import { attrValue, buildObject } from "#lib/h5/ts/read-object.js";
import { readSuperblock } from "#lib/h5/ts/read-superblock.js";
import { readObjectHeader } from "#lib/h5/ts/read-object-header.js";
import { skipStructureCheck, tempDir } from "./helpers.js";

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
  assert.equal(decode([2, 32, ...new Array(32).fill(filter(2, 1, "", [5])).flat()]).length, 32, "32 filters, the most a pipeline has");
  // ids from 256 have a name length (and a name) in version 2 as well: read past it, then outside the profile
  for (const id of [256, 300]) {
    const named = [...le(id, 2), ...le(6, 2), ...le(5, 2), ...le(0, 2), ...ascii("blosc"), 0];
    assert.throws(() => decode([2, 1, ...named]), unsupported(new RegExp(`^filter ${id}$`)), `id ${id}`);
  }
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

const cursor = (bytes: number[], what = "message") => new Cursor(Uint8Array.from(bytes), "here", what);
const UNDEF64 = new Array(8).fill(0xff);
const u64s = (xs: number[]) => xs.flatMap((x) => (x === -1 ? UNDEF64 : le(x, 8)));

/** Dataspace message: version 1 (5 reserved bytes) or 2 (a type byte: 0 scalar, 1 simple, 2 null). */
function dataspace(version: number, dims: number[], max: number[] | null, type = dims.length ? 1 : 0): number[] {
  const head = version === 1 ? [1, dims.length, max ? 1 : 0, 0, 0, 0, 0, 0] : [version, dims.length, max ? 1 : 0, type];
  return [...head, ...u64s(dims), ...(max ? u64s(max) : [])];
}

test("dataspace message: versions 1 and 2, maximum dimensions, and what is refused", () => {
  const ds = (bytes: number[]) => decodeDataspace(cursor(bytes));
  assert.deepEqual(ds(dataspace(1, [3, 4], [-1, 4])), { dims: [3, 4], max: [-1, 4] });
  assert.deepEqual(ds(dataspace(2, [7], null)), { dims: [7], max: null });
  assert.deepEqual(ds(dataspace(2, [], null)), { dims: [], max: null });
  assert.deepEqual(ds(dataspace(2, [5], [5])), { dims: [5], max: [5] }, "a dimension at its maximum");
  assert.deepEqual(ds(dataspace(2, new Array(32).fill(1), null)).dims.length, 32);
  assert.throws(() => ds(dataspace(2, [], null, 2)), unsupported(/^a null dataspace$/));
  assert.throws(() => ds(dataspace(2, [1], null, 3)), typed("CORRUPT", /^here: dataspace type 3 /));
  assert.throws(() => ds([3, 0, 0, 0]), typed("CORRUPT", /^here: dataspace version 3 /));
  assert.throws(() => ds([0, 0, 0, 0]), typed("CORRUPT", /^here: dataspace version 0 /));
  assert.throws(() => ds(dataspace(2, new Array(33).fill(1), null)), typed("CORRUPT", /^here: dataspace rank 33 \(at most 32\)/));
  assert.throws(() => ds(dataspace(2, [2 ** 60], null)), typed("CORRUPT", new RegExp(`^here: dataspace dimension ${2 ** 60} `)));
  assert.throws(() => ds(dataspace(2, [-1], null)), typed("CORRUPT", /^here: dataspace dimension -1 /));
  assert.throws(() => ds(dataspace(1, [6], [5])), typed("CORRUPT", /^here: dataspace dimension 6 exceeds its maximum 5/));
  assert.throws(() => ds(dataspace(2, [3, 4], null).slice(0, -1)), typed("CORRUPT", /^here: message ends early/));
});

/** Datatype message header: class and version 1, three bit-field bytes, size. */
const dtHead = (cls: number, bf: [number, number, number], size: number) => [0x10 | cls, ...bf, ...le(size, 4)];
const dtInt = (size: number, signed: boolean, { order = 0, offset = 0, precision = size * 8 } = {}) =>
  [...dtHead(0, [order | (signed ? 0x08 : 0), 0, 0], size), ...le(offset, 2), ...le(precision, 2)];
const IEEE: Record<number, number[]> = { 4: [31, 0, 32, 23, 8, 0, 23, 127], 8: [63, 0, 64, 52, 11, 0, 52, 1023] };
/** Floating point: [sign location, offset, precision, exponent location, exponent size, mantissa location, mantissa size, bias]. */
function dtFloat(size: number, p = IEEE[size], bf0 = 0x20): number[] {
  const [sign, offset, precision, expLoc, expSize, mantLoc, mantSize, bias] = p;
  return [...dtHead(1, [bf0, sign, 0], size), ...le(offset, 2), ...le(precision, 2), expLoc, expSize, mantLoc, mantSize, ...le(bias, 4)];
}
const dtString = (charset = 1, base = dtInt(1, false), size = 16, kind = 1) => [...dtHead(9, [kind, charset, 0], size), ...base];

test("datatype message: integers, IEEE floats and variable-length strings; other types outside the profile", () => {
  const dt = (bytes: number[]) => decodeDatatype(cursor(bytes));
  for (const [size, u, s] of [[1, "uint8", "int8"], [2, "uint16", "int16"], [4, "uint32", "int32"], [8, "uint64", "int64"]] as const) {
    assert.deepEqual(dt(dtInt(size, false)), { dtype: u, size });
    assert.deepEqual(dt(dtInt(size, true)), { dtype: s, size });
  }
  assert.deepEqual(dt(dtFloat(4)), { dtype: "float32", size: 4 });
  assert.deepEqual(dt(dtFloat(8)), { dtype: "float64", size: 8 });
  assert.deepEqual(dt(dtString()), { dtype: "string", size: 16 });
  assert.deepEqual(dt(dtString(0)), { dtype: "string", size: 16 }, "ASCII");
  const noInt = /^integer type of/;
  assert.throws(() => dt(dtInt(3, false)), unsupported(/^integer type of 3 bytes, flags 0, bits 0\+24$/));
  assert.throws(() => dt(dtInt(4, true, { order: 1 })), unsupported(/^integer type of 4 bytes, flags 9, bits 0\+32$/), "big-endian");
  assert.throws(() => dt(dtInt(4, false, { offset: 1 })), unsupported(noInt));
  assert.throws(() => dt(dtInt(4, false, { precision: 31 })), unsupported(/bits 0\+31$/));
  assert.throws(() => dt([...dtHead(0, [0x02, 0, 0], 2), 0, 0, 16, 0]), unsupported(noInt), "padding bits set");
  const notIeee = (size: number) => new RegExp(`^floating-point type of ${size} bytes that is not IEEE little-endian$`);
  for (const size of [4, 8]) {
    for (let i = 0; i < 8; i++) {
      const p = [...IEEE[size]];
      p[i] += 1;
      assert.throws(() => dt(dtFloat(size, p)), unsupported(notIeee(size)), `field ${i} of a ${size}-byte float`);
    }
    assert.throws(() => dt(dtFloat(size, IEEE[size], 0x21)), unsupported(notIeee(size)), "big-endian");
  }
  assert.throws(() => dt(dtFloat(2, [15, 0, 16, 10, 5, 0, 10, 15])), unsupported(notIeee(2)));
  assert.throws(() => dt(dtString(1, dtInt(1, false), 16, 0)), unsupported(/^a variable-length sequence that is not a string$/));
  assert.throws(() => dt(dtString(2)), typed("CORRUPT", /^here: string character set 2 /));
  assert.throws(() => dt(dtString(1, dtInt(1, false), 8)), typed("CORRUPT", /^here: variable-length string element of 8 bytes \(expected 16\)/));
  assert.throws(() => dt(dtString(1, dtInt(2, false))), typed("CORRUPT", /^here: variable-length string whose characters are not bytes/));
  assert.throws(() => dt(dtHead(3, [0, 0, 0], 10)), unsupported(/^datatype class 3$/), "fixed-length strings");
  assert.throws(() => dt(dtHead(6, [0, 0, 0], 10)), unsupported(/^datatype class 6$/), "compounds");
});

const layoutChunked = (btree: number, dims: number[], rank = dims.length) => [3, 2, rank, ...u64s([btree]), ...dims.flatMap((d) => le(d, 4))];

test("data layout message (version 3): compact, contiguous, chunked; other versions and classes refused", () => {
  const lay = (bytes: number[]) => decodeLayout(cursor(bytes));
  const compact = lay([3, 0, ...le(3, 2), 7, 8, 9]);
  assert.equal(compact.kind, "compact");
  assert.deepEqual(compact.kind === "compact" && Array.from(compact.data), [7, 8, 9]);
  assert.deepEqual(lay([3, 1, ...u64s([4096, 80])]), { kind: "contiguous", addr: 4096, size: 80 });
  assert.deepEqual(lay(layoutChunked(800, [64, 3, 4])), { kind: "chunked", btree: 800, chunk: [64, 3], elemSize: 4 });
  assert.deepEqual(lay(layoutChunked(-1, [1])), { kind: "chunked", btree: -1, chunk: [], elemSize: 1 });
  assert.equal((lay(layoutChunked(8, new Array(33).fill(2))) as { chunk: number[] }).chunk.length, 32);
  assert.throws(() => lay([4, 2]), unsupported(/^data layout version 4$/));
  assert.throws(() => lay([2, 2]), unsupported(/^data layout version 2$/));
  assert.throws(() => lay([3, 3]), unsupported(/^data layout class 3$/), "virtual");
  assert.throws(() => lay(layoutChunked(8, [])), typed("CORRUPT", /^here: chunk rank 0 /));
  assert.throws(() => lay(layoutChunked(8, new Array(34).fill(2))), typed("CORRUPT", /^here: chunk rank 34 /));
  assert.throws(() => lay(layoutChunked(8, [4, 0, 8])), typed("CORRUPT", /^here: chunk dimensions 4x0x8 include 0 /));
  assert.throws(() => lay(layoutChunked(8, [0, 4])), typed("CORRUPT", /^here: chunk dimensions 0x4 include 0 /));
});

/** Link message, version 1: flags say the name length's width and which optional fields follow. */
function link(name: string, addr: number, { width = 0, order = false, charset = -1, type = -1, reserved = 0 } = {}): number[] {
  const bytes = Array.from(Buffer.from(name, "utf8"));
  const flags = width | (order ? 0x04 : 0) | (type >= 0 ? 0x08 : 0) | (charset >= 0 ? 0x10 : 0) | reserved;
  return [1, flags, ...(type >= 0 ? [type] : []), ...(order ? le(12, 8) : []), ...(charset >= 0 ? [charset] : []), ...le(bytes.length, 1 << width), ...bytes, ...u64s([addr])];
}

test("link message: name length widths, optional fields, and what is refused", () => {
  const ln = (bytes: number[]) => decodeLink(cursor(bytes));
  for (const width of [0, 1, 2, 3]) assert.deepEqual(ln(link("spikes", 900 + width, { width })), { name: "spikes", addr: 900 + width });
  assert.deepEqual(ln(link("wörld", 77, { order: true, charset: 1, type: 0 })), { name: "wörld", addr: 77 });
  assert.deepEqual(ln(link("a", 5, { charset: 0 })), { name: "a", addr: 5 });
  assert.throws(() => ln(link("a", 5, { charset: 2 })), typed("CORRUPT", /^here: link name character set /));
  assert.throws(() => ln(link("soft", 5, { type: 1 })), unsupported(/^link type 1 \(soft\)$/));
  assert.throws(() => ln(link("ext", 5, { type: 64 })), unsupported(/^link type 64 \(ext\)$/));
  assert.throws(() => ln(link("a", 5, { reserved: 0x20 })), typed("CORRUPT", /^here: link flags 32 has reserved bits set/));
  assert.throws(() => ln(link("a", 5, { reserved: 0x80 })), typed("CORRUPT", /^here: link flags 128 has reserved bits set/));
  assert.throws(() => ln([2, ...link("a", 5).slice(1)]), typed("CORRUPT", /^here: link message version 2 /));
  assert.throws(() => ln([1, 0, 0, ...u64s([5])]), typed("CORRUPT", /^here: link with an empty name/));
});

test("link info and attribute info messages: compact storage passes, dense storage is outside the profile", () => {
  const info = (what: "link" | "attribute", bytes: number[]) => checkCompact(cursor(bytes), what);
  info("link", [0, 0, ...UNDEF64, ...UNDEF64]);
  info("link", [0, 1, ...le(9, 8), ...UNDEF64, ...UNDEF64]); // with the largest creation index (8 bytes)
  info("attribute", [0, 1, ...le(9, 2), ...UNDEF64, ...UNDEF64]); // (2 bytes for attributes)
  assert.throws(() => info("link", [0, 0, ...le(4000, 8), ...le(4100, 8)]), unsupported(/^dense link storage \(fractal heap\)$/));
  assert.throws(() => info("attribute", [0, 0, ...le(4000, 8), ...le(4100, 8)]), unsupported(/^dense attribute storage \(fractal heap\)$/));
  assert.throws(() => info("attribute", [0, 1, ...le(9, 8), ...UNDEF64]), unsupported(/^dense attribute storage/), "an attribute's creation index is 2 bytes, not 8");
  assert.throws(() => info("link", [0, 1, ...le(9, 2), ...UNDEF64, ...le(4100, 8)]), unsupported(/^dense link storage/), "a link's creation index is 8 bytes, not 2");
  assert.throws(() => info("link", [1, 0, ...UNDEF64]), typed("CORRUPT", /^here: link info version 1 /));
  assert.throws(() => info("attribute", [1, 0, ...UNDEF64]), typed("CORRUPT", /^here: attribute info version 1 /));
});

/** Attribute message: version 1 pads name, datatype and dataspace to 8 bytes; version 3 adds the name's character set. */
function attribute(version: number, name: string, type: number[], space: number[], data: number[], flags = 0): number[] {
  const nameBytes = [...Buffer.from(name, "utf8"), 0];
  const pad = (b: number[]) => (version === 1 ? [...b, ...new Array(((b.length + 7) & ~7) - b.length).fill(0)] : b);
  return [version, flags, ...le(nameBytes.length, 2), ...le(type.length, 2), ...le(space.length, 2), ...(version === 3 ? [1] : []), ...pad(nameBytes), ...pad(type), ...pad(space), ...data];
}

test("attribute message: versions 1 to 3, scalar and array values; shared parts outside the profile", () => {
  const at = (bytes: number[]) => {
    const a = decodeAttribute(cursor(bytes));
    return { name: a.name, type: a.type, dims: a.space.dims, data: Array.from(a.data) };
  };
  const i16 = dtInt(2, true);
  for (const version of [1, 2, 3]) {
    assert.deepEqual(at(attribute(version, "gain", i16, dataspace(1, [3], null), [1, 0, 2, 0, 0xff, 0xff])), { name: "gain", type: { dtype: "int16", size: 2 }, dims: [3], data: [1, 0, 2, 0, 0xff, 0xff] }, `version ${version}`);
    assert.deepEqual(at(attribute(version, "seed", dtInt(1, false), dataspace(2, [], null), [42])), { name: "seed", type: { dtype: "uint8", size: 1 }, dims: [], data: [42] }, `version ${version}`);
    assert.deepEqual(at(attribute(version, "größe", dtFloat(4), dataspace(2, [2, 1], null), [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40])).data.length, 8);
  }
  // a version-1 name of 7 bytes + NUL fills exactly 8: no padding after it
  assert.equal(at(attribute(1, "elapsed", i16, dataspace(1, [1], null), [9, 0])).name, "elapsed");
  // a name stored without its NUL
  const noNul = [2, 0, ...le(3, 2), ...le(i16.length, 2), ...le(dataspace(2, [], null).length, 2), ...ascii("abc"), ...i16, ...dataspace(2, [], null), 5, 0];
  assert.deepEqual(at(noNul), { name: "abc", type: { dtype: "int16", size: 2 }, dims: [], data: [5, 0] });
  for (const flags of [1, 2, 3]) {
    assert.throws(() => at(attribute(3, "x", i16, dataspace(2, [], null), [0, 0], flags)), unsupported(/^a shared attribute datatype or dataspace$/), `flags ${flags}`);
  }
  assert.throws(() => at(attribute(0, "x", i16, dataspace(2, [], null), [0, 0])), typed("CORRUPT", /^here: attribute message version 0 /));
  assert.throws(() => at(attribute(4, "x", i16, dataspace(2, [], null), [0, 0])), typed("CORRUPT", /^here: attribute message version 4 /));
  assert.throws(() => at(attribute(2, "x", i16, dataspace(2, [4], null), [0, 0, 0, 0])), typed("CORRUPT", /^here: message ends early \(8 more bytes needed/), "data shorter than 4 elements");
});

/** A version-2 or -3 superblock (48 bytes) with 8-byte offsets and lengths, checksummed. */
function superblock({ version = 2, offsets = 8, lengths = 8, flags = 0, base = 0, ext = -1, eof = 4096, root = 48 } = {}): number[] {
  return withSum([0x89, ...ascii("HDF\r\n\x1a\n"), version, offsets, lengths, flags, ...u64s([base, ext, eof, root])]);
}

test("superblock: versions 2 and 3 read; others, extensions, flags and a truncated file refused", (t) => {
  const dir = tempDir(t);
  skipStructureCheck(dir, "superblocks made by hand, with no objects after them");
  const sb = (name: string, bytes: number[], size = 4096) => {
    const src = source(dir, name, [...bytes, ...new Array(Math.max(0, size - bytes.length)).fill(0)]);
    try {
      return readSuperblock(src);
    } finally {
      src.close();
    }
  };
  assert.deepEqual(sb("v2", superblock()), { version: 2, eof: 4096, root: 48 });
  assert.deepEqual(sb("v3", superblock({ version: 3, eof: 3000, root: 2999 })), { version: 3, eof: 3000, root: 2999 });
  const corruptSb = (name: string, bytes: number[], message: RegExp, size?: number) =>
    assert.throws(() => sb(name, bytes, size), typed("CORRUPT", new RegExp(`${name}\\.bin: superblock: ${message.source}`)), name);
  const outside = (name: string, bytes: number[], message: RegExp) => assert.throws(() => sb(name, bytes), unsupported(message), name);
  outside("none", [0, ...superblock().slice(1)], /^no HDF5 signature at offset 0 \(user block\)$/);
  outside("v0", superblock({ version: 0 }), /^superblock version 0$/);
  outside("v1", superblock({ version: 1 }), /^superblock version 1$/);
  outside("v4", superblock({ version: 4 }), /^superblock version 4$/);
  outside("offsets", superblock({ offsets: 4 }), /^4-byte offsets and 8-byte lengths$/);
  outside("lengths", superblock({ lengths: 4 }), /^8-byte offsets and 4-byte lengths$/);
  outside("base", superblock({ base: 512 }), /^base address 512$/);
  outside("ext", superblock({ ext: 100 }), /^a superblock extension$/);
  outside("flags", superblock({ flags: 1 }), /^superblock status flags 1 \(open for writing\)$/);
  outside("swmr", superblock({ version: 3, flags: 5 }), /^superblock status flags 5 /);
  corruptSb("sig-only", superblock().slice(0, 8), /the superblock ends early/, 8);
  corruptSb("short", superblock().slice(0, 20), /the file ends inside the superblock \(20 of 48 bytes\)/, 20);
  corruptSb("short47", superblock().slice(0, 47), /the file ends inside the superblock \(47 of 48 bytes\)/, 47);
  const flipped = superblock();
  flipped[30] ^= 1;
  corruptSb("sum", flipped, /superblock checksum mismatch/);
  corruptSb("truncated", superblock({ eof: 5000 }), /the superblock's end of file \(5000\) lies past the file's size \(4096 bytes\): the file is truncated/);
  corruptSb("eof-past", superblock({ eof: 4097 }), /the superblock's end of file \(4097\) lies past the file's size \(4096 bytes\)/);
  corruptSb("eof-undef", superblock({ eof: -1 }), /the superblock's end of file \(-1\)/);
  assert.deepEqual(sb("eof-at-size", superblock({ eof: 4096, root: 4095 })), { version: 2, eof: 4096, root: 4095 });
  corruptSb("root-low", superblock({ root: 47 }), /root object header address 47 is outside the file/);
  corruptSb("root-eof", superblock({ root: 4096 }), /root object header address 4096 is outside the file/);
  corruptSb("root-undef", superblock({ root: -1 }), /root object header address -1 is outside the file/);
});

const msg = (type: number, body: number[], flags = 0) => ({ type, flags, body: Uint8Array.from(body) });
const LINFO = msg(0x02, [0, 0, ...UNDEF64, ...UNDEF64]);

test("objects from their messages: groups, datasets, and the combinations that are damage or outside the profile", () => {
  const build = (msgs: ReturnType<typeof msg>[]) => buildObject(100, msgs, "here");
  const group = build([LINFO, msg(0x06, link("b", 300)), msg(0x06, link("a", 200)), msg(0x0c, attribute(3, "n", dtInt(1, false), dataspace(2, [], null), [4])), msg(0x0a, [0, 0]), msg(0x12, [1, 0, 0, 0, 0, 0, 0, 0])]);
  assert.equal(group.kind, "group");
  assert.deepEqual([...group.links], [["b", 300], ["a", 200]]);
  assert.deepEqual(group.attrs.map((a) => a.name), ["n"]);
  assert.equal(group.dataset, null);
  const space = msg(0x01, dataspace(2, [10, 3], [-1, 3]));
  const type = msg(0x03, dtFloat(4));
  const chunked = msg(0x08, layoutChunked(800, [4, 3, 4]));
  const filters = msg(0x0b, [2, 1, ...le(1, 2), ...le(0, 2), ...le(1, 2), ...le(6, 4)]);
  const ds = build([space, type, chunked, filters, msg(0x05, [3, 2, 0, 0]), msg(0x00, [0, 0, 0, 0])]);
  assert.equal(ds.kind, "dataset");
  assert.deepEqual(ds.dataset, { type: { dtype: "float32", size: 4 }, dims: [10, 3], layout: { kind: "chunked", btree: 800, chunk: [4, 3], elemSize: 4 }, filters: [{ id: 1, name: "deflate", cd: [6] }] });
  const contiguous = build([space, type, msg(0x08, [3, 1, ...u64s([4096, 120])])]);
  assert.deepEqual(contiguous.dataset?.layout, { kind: "contiguous", addr: 4096, size: 120 });
  assert.deepEqual(contiguous.dataset?.filters, []);
  const empty = build([msg(0x12, [1, 0, 0, 0, 0, 0, 0, 0])]);
  assert.equal(empty.kind, null, "neither a group nor a dataset");
  assert.equal(build([space, msg(0x08, [3, 1, ...u64s([4096, 120])])]).kind, null, "no datatype: not a dataset");

  const bad = (msgs: ReturnType<typeof msg>[], message: RegExp) => assert.throws(() => build(msgs), typed("CORRUPT", new RegExp(`^here: ${message.source}`)));
  bad([LINFO, msg(0x06, link("a", 200)), msg(0x06, link("a", 300))], /two links named "a"/);
  bad([LINFO, msg(0x0c, attribute(2, "n", dtInt(1, false), dataspace(2, [], null), [4])), msg(0x0c, attribute(3, "n", dtInt(1, false), dataspace(2, [], null), [5]))], /two attributes named "n"/);
  bad([space, type, chunked, space], /two messages of type 1 in one object header/);
  bad([space, type, type, chunked], /two messages of type 3 in one object header/);
  bad([space, type, chunked, chunked], /two messages of type 8 in one object header/);
  bad([space, type, chunked, filters, filters], /two messages of type 11 in one object header/);
  bad([msg(0x06, link("a", 200))], /links in an object that is not a group/);
  bad([space, type, chunked, msg(0x06, link("a", 200))], /links in an object that is not a group/);
  bad([space, type], /a dataset without a data layout message/);
  bad([space, type, msg(0x08, layoutChunked(800, [4, 4]))], /chunks of rank 1 for a dataset of rank 2/);
  bad([space, type, msg(0x08, layoutChunked(800, [4, 3, 8]))], /chunk element size 8 for 4-byte elements/);
  bad([space, type, msg(0x08, [3, 1, ...u64s([4096, 120])]), filters], /filters on a dataset that is not chunked/);
  const outside = (msgs: ReturnType<typeof msg>[], message: RegExp) => assert.throws(() => build(msgs), unsupported(message));
  outside([space, type, msg(0x08, layoutChunked(800, [4, 1, 4]))], /^chunks that split a row$/);
  outside([space, msg(0x03, dtFloat(4), 0x02), chunked], /^a shared message of type 3$/);
  outside([msg(0x11, new Array(16).fill(0))], /^a symbol-table group$/);
  outside([msg(0x07, [0])], /^object header message type 7$/);
  outside([msg(0x10 + 0x0c, [0])], /^object header message type 28$/);
});

test("attribute values: scalars unwrapped, arrays as typed arrays, strings through the global heap", (t) => {
  const dir = tempDir(t);
  const file = join(dir, "attr-heap.bin");
  writeFileSync(file, Uint8Array.from(gcol([[1, ascii("tau")], [2, ascii("")], [3, ascii("ms")]])));
  const src = new FileSource(file);
  try {
    const heaps = new GlobalHeaps(src);
    const value = (type: number[], dims: number[], data: number[]) => attrValue(decodeAttribute(cursor(attribute(3, "v", type, dataspace(2, dims, null), data))), heaps, "here");
    assert.equal(value(dtInt(2, true), [], [0xfe, 0xff]), -2);
    assert.equal(value(dtInt(8, true), [], [...new Array(8).fill(0xff)]), -1n);
    assert.deepEqual(value(dtInt(1, false), [3], [1, 2, 3]), Uint8Array.from([1, 2, 3]));
    assert.deepEqual(value(dtFloat(8), [1, 2], [...le(0, 4), 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40]), Float64Array.from([1, 2]));
    const refs = (...xs: [number, number][]) => xs.flatMap(([len, index]) => [...le(len, 4), ...le(0, 8), ...le(index, 4)]);
    assert.equal(value(dtString(), [], refs([3, 1])), "tau");
    assert.deepEqual(value(dtString(), [3], refs([3, 1], [0, 2], [2, 3])), ["tau", "", "ms"]);
    assert.throws(() => value(dtString(), [], refs([3, 9])), typed("CORRUPT", /^here: attribute v: global heap collection at 0 has no object 9 /));
    assert.throws(() => value(dtString(), [], refs([4, 1])), typed("CORRUPT", /^here: attribute v: string of 4 bytes refers to a heap object of 3 bytes/));
  } finally {
    src.close();
  }
});

/** A version-1 chunk B-tree node of a rank-1 dataset at any level, with every field settable. */
function treeNode({ type = 1, level = 0, rows, children, sizes = children.map(() => 100), entries = children.length }: { type?: number; level?: number; rows: number[]; children: number[]; sizes?: number[]; entries?: number }): number[] {
  const key = (i: number) => [...le(sizes[i] ?? 0, 4), ...le(0, 4), ...le(rows[i], 8), ...le(0, 8)];
  const body: number[] = [];
  for (let i = 0; i < children.length; i++) body.push(...key(i), ...le(children[i], 8));
  body.push(...key(children.length));
  return [...ascii("TREE"), type, level, ...le(entries, 2), ...UNDEF64, ...UNDEF64, ...body];
}

/** A file holding `parts` at their addresses (zeros between). */
function placed(parts: [number, number[]][]): number[] {
  const end = Math.max(...parts.map(([a, b]) => a + b.length));
  const out = new Array(end).fill(0);
  for (const [a, b] of parts) out.splice(a, b.length, ...b);
  return out;
}

test("chunk B-tree nodes: two levels walked; cycles, wrong levels, ranges, types, entry counts and empty chunks are CORRUPT", (t) => {
  const dir = tempDir(t);
  const spec = { root: 0, rank: 1, chunkRows: 10, where: "here" };
  let nodesRead: number[] = [];
  const find = (name: string, parts: [number, number[]][], lo = 0, hi = 40) => {
    const src = source(dir, name, placed(parts));
    nodesRead = [];
    try {
      return new ChunkTrees(src, (addr) => nodesRead.push(addr)).find(spec, lo, hi).map((c) => [c.row, c.addr, c.size]);
    } finally {
      src.close();
    }
  };
  const leafA = treeNode({ rows: [0, 10, 20], children: [5000, 5100], sizes: [60, 70] });
  const leafB = treeNode({ rows: [20, 30, 40], children: [5200, 5300], sizes: [80, 90] });
  const root = (rows = [0, 20, 40], children = [1000, 2000], level = 1) => treeNode({ level, rows, children });
  assert.deepEqual(find("two-levels", [[0, root()], [1000, leafA], [2000, leafB]]), [[0, 5000, 60], [10, 5100, 70], [20, 5200, 80], [30, 5300, 90]]);
  assert.deepEqual(find("two-levels-part", [[0, root()], [1000, leafA], [2000, leafB]], 15, 25), [[10, 5100, 70], [20, 5200, 80]]);
  assert.deepEqual(find("two-levels-right", [[0, root()], [1000, leafA], [2000, leafB]], 31, 32), [[30, 5300, 90]]);
  assert.deepEqual(nodesRead, [0, 2000], "only the right subtree is read");
  assert.deepEqual(find("two-levels-left", [[0, root()], [1000, leafA], [2000, leafB]], 0, 20), [[0, 5000, 60], [10, 5100, 70]]);
  assert.deepEqual(nodesRead, [0, 1000], "only the left subtree is read");
  // HDF5's right keys: the last chunk's offset, in the leaf and in the root
  const hdf5Leaf = treeNode({ rows: [20, 30, 30], children: [5200, 5300], sizes: [80, 90] });
  assert.deepEqual(find("right-keys", [[0, root([0, 20, 30])], [1000, leafA], [2000, hdf5Leaf]], 35, 40), [[30, 5300, 90]]);

  const bad = (name: string, parts: [number, number[]][], message: RegExp) =>
    assert.throws(() => find(name, parts), typed("CORRUPT", new RegExp(`^here: ${message.source}`)), name);
  bad("cycle", [[0, root([0, 20, 40], [1000, 0])], [1000, leafA]], /chunk B-tree node at 0 is reached twice \(a cycle\)/);
  bad("level", [[0, root()], [1000, leafA], [2000, treeNode({ level: 1, rows: [20, 30, 40], children: [5200, 5300] })]], /chunk B-tree node at 2000 has level 1, its parent says 0/);
  bad("start", [[0, root()], [1000, leafA], [2000, treeNode({ rows: [30, 40, 50], children: [5200, 5300] })]], /chunk B-tree node at 2000 starts at row 30, its parent says 20/);
  bad("end", [[0, root()], [1000, treeNode({ rows: [0, 10, 30], children: [5000, 5100] })], [2000, leafB]], /chunk B-tree node at 1000 ends after its parent's range/);
  bad("type", [[0, treeNode({ type: 0, rows: [0, 10], children: [5000] })]], /B-tree node at 0 has type 0, expected 1 \(chunks\)/);
  bad("deep", [[0, treeNode({ level: 16, rows: [0, 10], children: [5000] })]], /chunk B-tree node at 0 has level 16/);
  bad("no-entries", [[0, treeNode({ rows: [0], children: [] })]], /chunk B-tree node at 0 has 0 entries/);
  bad("too-many", [[0, treeNode({ rows: Array.from({ length: 66 }, (_, i) => i * 10), children: Array.from({ length: 65 }, (_, i) => 9000 + i) })]], /chunk B-tree node at 0 has 65 entries/);
  bad("empty-chunk", [[0, treeNode({ rows: [0, 10, 20], children: [5000, 5100], sizes: [60, 0] })]], /chunk B-tree node at 0: a chunk of 0 bytes/);
  bad("signature", [[0, [...ascii("TRE!"), ...leafA.slice(4)]]], /no chunk B-tree node \("TREE"\) at 0/);
  bad("short", [[0, leafA.slice(0, 60)]], /chunk B-tree node at 24 \(\+\d+ bytes\) lies outside the file/);
  // the largest node and the deepest level accepted
  const full = treeNode({ rows: Array.from({ length: 65 }, (_, i) => i * 10), children: Array.from({ length: 64 }, (_, i) => 9000 + i) });
  assert.equal(find("full", [[0, full]], 0, 640).length, 64);
});

/** Bytes of `n` elements of `size` bytes, each byte different from its neighbours. */
const elementBytes = (n: number, size: number) => Array.from({ length: n * size }, (_, k) => (k * 31 + Math.floor(k / size) * 7 + 3) & 0xff);

/** HDF5's shuffle, written out here: byte j of element i goes to position j * n + i. */
function shuffled(bytes: number[], size: number): number[] {
  const n = bytes.length / size;
  const out = new Array(bytes.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < size; j++) out[j * n + i] = bytes[i * size + j];
  return out;
}

type Pipeline = "" | "1" | "2" | "2,1";
const FILTERS: Record<string, { id: number; name: string; cd: number[] }> = { 1: { id: 1, name: "deflate", cd: [4] }, 2: { id: 2, name: "shuffle", cd: [] } };

test("chunk reader: compact, contiguous and chunked rows through every pipeline snn-export writes, edge chunks, long reads", (t) => {
  const dir = tempDir(t);
  let files = 0;
  /** A rank-1 dataset of `rows` elements of `size` bytes in chunks of `R` rows, stored through `pipeline`. */
  const dataset = (rows: number, size: number, R: number, pipeline: Pipeline) => {
    const all = elementBytes(Math.ceil(rows / R) * R, size); // the edge chunk is stored whole
    const parts: [number, number[]][] = [];
    const children: number[] = [];
    const sizes: number[] = [];
    for (let k = 0; k * R < rows; k++) {
      let chunk = all.slice(k * R * size, (k + 1) * R * size);
      if (pipeline.startsWith("2")) chunk = shuffled(chunk, size);
      if (pipeline.endsWith("1")) chunk = Array.from(deflateSync(Uint8Array.from(chunk)));
      const addr = 8192 + k * 1024;
      parts.push([addr, chunk]);
      children.push(addr);
      sizes.push(chunk.length);
    }
    const keys = children.map((_, k) => k * R);
    parts.push([0, treeNode({ rows: [...keys, keys[keys.length - 1]], children, sizes })]);
    const src = source(dir, `chunks-${files++}`, placed(parts));
    const desc = { id: files, where: "here", dims: [rows], elemSize: size, layout: { kind: "chunked" as const, btree: 0, chunk: [R], elemSize: size }, filters: pipeline ? pipeline.split(",").map((id) => FILTERS[id]) : [] };
    return { src, desc, values: all.slice(0, rows * size) };
  };
  for (const pipeline of ["", "1", "2", "2,1"] as Pipeline[]) {
    for (const size of [1, 2, 3, 4, 8]) {
      const { src, desc, values } = dataset(25, size, 10, pipeline);
      try {
        const r = new ChunkReader(src);
        const rows = (s: number, e: number) => Array.from(r.rows(desc, s, e));
        const what = `pipeline "${pipeline}", ${size}-byte elements`;
        assert.deepEqual(rows(0, 25), values, what);
        assert.deepEqual(rows(7, 23), values.slice(7 * size, 23 * size), what);
        assert.deepEqual(rows(21, 25), values.slice(21 * size), `${what}: inside the edge chunk`);
        assert.deepEqual(rows(5, 5), [], what);
        // into a given buffer at an odd offset (no word-aligned fast path)
        const out = new Uint8Array(1 + 10 * size);
        r.rows(desc, 10, 20, out.subarray(1));
        assert.deepEqual(Array.from(out.subarray(1)), values.slice(10 * size, 20 * size), `${what}, unaligned output`);
      } finally {
        src.close();
      }
    }
  }
  // a long read (more than eight chunks) decodes whole chunks straight into the output
  for (const pipeline of ["", "2,1"] as Pipeline[]) {
    const { src, desc, values } = dataset(125, 4, 10, pipeline);
    try {
      const r = new ChunkReader(src);
      assert.deepEqual(Array.from(r.rows(desc, 3, 125)), values.slice(12), pipeline);
      assert.equal(r.chunksRead, 13, "each chunk read once");
      assert.deepEqual(Array.from(r.rows(desc, 3, 125)), values.slice(12), pipeline);
      // the whole chunks of a shuffle + deflate read were not kept: read again
      assert.equal(r.chunksRead, pipeline === "" ? 13 : 24, "decoded straight into the output: not cached");
    } finally {
      src.close();
    }
  }
  // ... also into an output at an odd offset, where no element can be written as one word
  for (const size of [2, 4, 8]) {
    const { src, desc, values } = dataset(120, size, 10, "2,1");
    try {
      const out = new Uint8Array(1 + 120 * size);
      new ChunkReader(src).rows(desc, 0, 120, out.subarray(1));
      assert.deepEqual(Array.from(out.subarray(1)), values, `${size}-byte elements`);
    } finally {
      src.close();
    }
  }
  // a long read takes a chunk already decoded from the cache, and checks each chunk it decodes itself
  {
    const { src, desc, values } = dataset(125, 4, 10, "2,1");
    try {
      const r = new ChunkReader(src);
      assert.deepEqual(Array.from(r.rows(desc, 52, 53)), values.slice(52 * 4, 53 * 4));
      assert.equal(r.chunksRead, 1);
      assert.deepEqual(Array.from(r.rows(desc, 0, 125)), values);
      assert.equal(r.chunksRead, 13, "chunk 5 came from the cache");
    } finally {
      src.close();
    }
    const long = (name: string, damage: (parts: number[]) => void, message: RegExp) => {
      const { src: s0, desc: d0 } = dataset(125, 4, 10, "2,1");
      const bytes = Array.from(readFileSync(s0.filePath));
      s0.close();
      damage(bytes);
      const s1 = source(dir, name, bytes);
      try {
        assert.throws(() => new ChunkReader(s1).rows(d0, 0, 125), typed("CORRUPT", new RegExp(`^here: ${message.source}`)), name);
      } finally {
        s1.close();
      }
    };
    // the leaf's key k: 24-byte node header, then (24-byte key + 8-byte child) per chunk
    const key = (k: number) => 24 + k * 32;
    long("long-mask", (b) => b.splice(key(7) + 4, 4, ...le(2, 4)), /chunk at row 70: filter mask 2 \(snn-export never skips a filter\)/);
    long("long-outside", (b) => b.splice(key(7) + 24, 8, ...le(10 ** 7, 8)), /chunk at row 70: chunk at 10000000 \(\+\d+ bytes\) lies outside the file/);
    long("long-damaged", (b) => b.splice(8192 + 3 * 1024, 4, 0, 0, 0, 0), /chunk at row 30: the compressed chunk does not inflate/);
  }

  // compact and contiguous layouts: rows straight from the message or the file
  const raw = elementBytes(6, 2);
  const src = source(dir, "contiguous", placed([[300, raw]]));
  try {
    const r = new ChunkReader(src);
    const desc = (layout: Layout, dims = [6]) => ({ id: 1, where: "here", dims, elemSize: 2, layout, filters: [] });
    assert.deepEqual(Array.from(r.rows(desc({ kind: "contiguous", addr: 300, size: 12 }), 2, 5)), raw.slice(4, 10));
    assert.deepEqual(Array.from(r.rows(desc({ kind: "compact", data: Uint8Array.from(raw) }), 1, 6)), raw.slice(2));
    assert.deepEqual(Array.from(r.rows(desc({ kind: "compact", data: Uint8Array.from([4, 5]) }, []), 0, 1)), [4, 5], "a scalar");
    assert.deepEqual(Array.from(r.rows(desc({ kind: "contiguous", addr: 300, size: 2 }, []), 0, 1)), raw.slice(0, 2), "a scalar");
    assert.deepEqual(Array.from(r.rows(desc({ kind: "contiguous", addr: 300, size: 12 }, [3, 2]), 1, 3)), raw.slice(4, 12), "two elements a row");
    const bad = (layout: Layout, message: RegExp) => assert.throws(() => r.rows(desc(layout), 0, 6), typed("CORRUPT", new RegExp(`^here: ${message.source}`)));
    bad({ kind: "compact", data: Uint8Array.from(raw.slice(1)) }, /compact data of 11 bytes, expected 12/);
    bad({ kind: "contiguous", addr: 300, size: 10 }, /contiguous data of 10 bytes at 300, expected 12/);
    bad({ kind: "contiguous", addr: -1, size: 12 }, /contiguous data of 12 bytes at -1, expected 12/);
    bad({ kind: "contiguous", addr: 305, size: 12 }, /raw data at 305 \(\+12 bytes\) lies outside the file \(312 bytes\)/);
  } finally {
    src.close();
  }
});

test("chunk reader: decoded chunks kept up to the budget, least recently used first out", (t) => {
  const dir = tempDir(t);
  const chunks = Array.from({ length: 6 }, (_, k) => elementBytes(10, 4).map((b) => (b + k) & 0xff));
  const parts: [number, number[]][] = chunks.map((c, k) => [8192 + k * 1024, c]);
  parts.push([0, treeNode({ rows: [0, 10, 20, 30, 40, 50, 50], children: chunks.map((_, k) => 8192 + k * 1024), sizes: chunks.map((c) => c.length) })]);
  const src = source(dir, "cache", placed(parts));
  try {
    const desc = { id: 9, where: "here", dims: [60], elemSize: 4, layout: { kind: "chunked" as const, btree: 0, chunk: [10], elemSize: 4 }, filters: [] };
    const r = new ChunkReader(src, 160); // four 40-byte chunks
    const read = (k: number) => {
      assert.deepEqual(Array.from(r.rows(desc, k * 10 + 2, k * 10 + 3)), chunks[k].slice(8, 12));
      return r.chunksRead;
    };
    assert.deepEqual([0, 1, 2, 3].map(read), [1, 2, 3, 4]);
    assert.deepEqual([0, 1, 2, 3].map(read), [4, 4, 4, 4], "all four kept");
    assert.equal(read(4), 5, "a fifth pushes out the least recently used (0)");
    assert.equal(read(1), 5, "1 is still there");
    assert.equal(read(0), 6, "0 was pushed out");
    assert.equal(read(2), 7, "2 was the least recently used when 0 came back");
    r.clear();
    assert.equal(read(1), 8, "clear() forgets every chunk");
    const small = new ChunkReader(src, 159); // a chunk over a quarter of the budget is not kept
    small.rows(desc, 0, 1);
    small.rows(desc, 0, 1);
    assert.equal(small.chunksRead, 2);
  } finally {
    src.close();
  }
});

test("chunk reader: a chunk missing from the index, skipped filters, other pipelines and chunks of the wrong size are CORRUPT", (t) => {
  const dir = tempDir(t);
  const values = elementBytes(30, 4);
  const chunk = (k: number) => values.slice(k * 40, (k + 1) * 40);
  const read = (name: string, stored: number[][], filters: { id: number; name: string; cd: number[] }[], { rows = stored.map((_, k) => k * 10), masks = [] as number[] } = {}) => {
    const children = stored.map((_, k) => 8192 + k * 1024);
    const node = treeNode({ rows: [...rows, rows[rows.length - 1]], children, sizes: stored.map((c) => c.length) });
    for (const [k, m] of masks.entries()) node.splice(24 + k * 32 + 4, 4, ...le(m, 4)); // key k's filter mask
    const src = source(dir, name, placed([[0, node], ...stored.map((c, k): [number, number[]] => [children[k], c])]));
    try {
      const desc = { id: 1, where: "here", dims: [30], elemSize: 4, layout: { kind: "chunked" as const, btree: 0, chunk: [10], elemSize: 4 }, filters };
      return Array.from(new ChunkReader(src).rows(desc, 0, 30));
    } finally {
      src.close();
    }
  };
  const bad = (name: string, message: RegExp, ...args: Parameters<typeof read> extends [string, ...infer R] ? R : never) =>
    assert.throws(() => read(name, ...args), typed("CORRUPT", new RegExp(`^here${message.source}`)), name);
  const deflated = (b: number[]) => Array.from(deflateSync(Uint8Array.from(b)));
  assert.deepEqual(read("ok", [0, 1, 2].map((k) => deflated(shuffled(chunk(k), 4))), [FILTERS[2], FILTERS[1]]), values);
  assert.deepEqual(read("cd", [0, 1, 2].map((k) => shuffled(chunk(k), 4)), [{ id: 2, name: "shuffle", cd: [4] }]), values, "shuffle's element size stated");
  bad("hole", /: chunks 0\.\.2 hold rows 0\.\.29, but the chunk index has 0, 2/, [chunk(0), chunk(2)], [], { rows: [0, 20] });
  bad("short-index", /: chunks 0\.\.2 hold rows 0\.\.29, but the chunk index has 0, 1/, [chunk(0), chunk(1)], []);
  bad("mask", /: chunk at row 10: filter mask 1 \(snn-export never skips a filter\)/, [0, 1, 2].map((k) => deflated(chunk(k))), [FILTERS[1]], { masks: [0, 1] });
  bad("shuffle-size", /: chunk at row 0: shuffle of 2-byte elements on 4-byte data/, [0, 1, 2].map((k) => shuffled(chunk(k), 4)), [{ id: 2, name: "shuffle", cd: [2] }]);
  bad("order", /: chunk at row 0: filter pipeline 1,2 \(snn-export writes shuffle then deflate\)/, [0, 1, 2].map((k) => deflated(chunk(k))), [FILTERS[1], FILTERS[2]]);
  bad("long", /: chunk at row 0: chunk of 44 bytes, expected 40/, [[...chunk(0), 0, 0, 0, 0], chunk(1), chunk(2)], []);
  bad("short-shuffled", /: chunk at row 10: chunk of 36 bytes, expected 40/, [chunk(0), chunk(1).slice(4), chunk(2)], [FILTERS[2]]);
  bad("inflates-short", /: chunk at row 0: the compressed chunk inflates to 36 bytes, expected 40/, [deflated(chunk(0).slice(4)), deflated(chunk(1)), deflated(chunk(2))], [FILTERS[1]]);
  bad("inflates-long", /: chunk at row 20: the compressed chunk inflates to more than 40 bytes, expected 40/, [deflated(chunk(0)), deflated(chunk(1)), deflated([...chunk(2), 1])], [FILTERS[2], FILTERS[1]]);
  bad("garbage", /: chunk at row 0: the compressed chunk does not inflate \(/, [[1, 2, 3, 4, 5], chunk(1), chunk(2)], [FILTERS[1]]);
});

const SNC = [0x53, 0x4e, 0x43];
/** A collection as snn-export's writer marks it: reserved bytes "SNC", then a checksum object (0xff "SNC", lookup3 of the objects before it). */
function markedGcol(objects: [number, number[]][], { sum = true, after = [] as [number, number[]][], extraSum = false, size }: { sum?: boolean; after?: [number, number[]][]; extraSum?: boolean; size?: number } = {}): number[] {
  const obj = ([index, data]: [number, number[]]) => [...le(index, 2), ...le(1, 2), 0, 0, 0, 0, ...le(data.length, 8), ...data, ...new Array(((data.length + 7) & ~7) - data.length).fill(0)];
  const body = objects.flatMap(obj);
  const sumObj = (index: number) => obj([index, [0xff, ...SNC, ...le(lookup3(Uint8Array.from(body)), 4)]]);
  const tail = [...(sum ? sumObj(objects.length + 1) : []), ...(extraSum ? sumObj(objects.length + 2) : []), ...after.flatMap(obj)];
  const total = size ?? 16 + body.length + tail.length + 16;
  return [...ascii("GCOL"), 1, ...SNC, ...le(total, 8), ...body, ...tail, ...le(0, 2), 0, 0, 0, 0, 0, 0, ...le(16, 8)];
}

test("global heap: checksummed collections, and damaged collections and references, each CORRUPT with its reason", (t) => {
  const dir = tempDir(t);
  const text = (name: string, bytes: number[], r = ref(5, 0, 1)) => {
    const src = source(dir, name, [...bytes, ...new Array(64).fill(0)]);
    try {
      return new GlobalHeaps(src).text(r, 0, "here");
    } finally {
      src.close();
    }
  };
  const objects: [number, number[]][] = [[1, ascii("spike")], [2, ascii("rew")]];
  assert.equal(text("marked", markedGcol(objects)), "spike");
  assert.equal(text("marked-2", markedGcol(objects), ref(3, 0, 2)), "rew");
  assert.equal(text("plain", gcol(objects)), "spike", "a collection without the mark (HDF5's own) is read as it is");
  const bad = (name: string, bytes: number[], message: RegExp, r?: ReturnType<typeof ref>) => assert.throws(() => text(name, bytes, r), typed("CORRUPT", new RegExp(`^here: ${message.source}`)), name);
  const flipped = markedGcol(objects);
  flipped[16 + 16 + 1] ^= 0x20; // "sPike"
  bad("flipped", flipped, /global heap collection at 0: the strings of the collection do not match its checksum/);
  bad("no-sum", markedGcol(objects, { sum: false }), /global heap collection at 0: the collection is marked as checksummed but has no checksum object/);
  bad("two-sums", markedGcol(objects, { extraSum: true }), /global heap collection at 0: two checksum objects/);
  bad("after-sum", markedGcol(objects, { after: [[4, ascii("x")]] }), /global heap collection at 0: heap object 4 follows the checksum object/);
  bad("twice", gcol([[1, ascii("spike")], [1, ascii("other")]]), /global heap collection at 0: heap object index 1 appears twice/);
  const runs = gcol(objects);
  runs.splice(16 + 8, 8, ...le(4000, 8)); // object 1 claims 4,000 bytes
  bad("runs-past", runs, /global heap collection at 0: heap object 1 of 4000 bytes runs past the collection/);
  bad("utf8", gcol([[1, [0x73, 0xff, 0xfe, 0x6b, 0x65]]]), /string in heap object 1 at 0 is not valid UTF-8/);
  bad("signature", [...ascii("GCOX"), ...gcol(objects).slice(4)], /no global heap collection \("GCOL"\) at 0/);
  bad("version", [...ascii("GCOL"), 2, ...gcol(objects).slice(5)], /global heap collection at 0 has version 2/);
  bad("tiny", [...gcol(objects).slice(0, 8), ...le(15, 8), ...gcol(objects).slice(16)], /global heap collection at 0 claims 15 bytes/);
  bad("huge", [...gcol(objects).slice(0, 8), ...le(2 ** 30 + 1, 8), ...gcol(objects).slice(16)], new RegExp(`global heap collection at 0 claims ${2 ** 30 + 1} bytes`));
  bad("outside", [...gcol(objects).slice(0, 8), ...le(2 ** 20, 8), ...gcol(objects).slice(16)], /global heap collection at 0 \(\+1048576 bytes\) lies outside the file/);
  bad("missing", gcol(objects), /global heap collection at 0 has no object 3/, ref(2, 0, 3));
  bad("length", gcol(objects), /string of 4 bytes refers to a heap object of 3 bytes/, ref(4, 0, 2));
});

test("object header: optional times and attribute phase values skipped, chunk-size widths, reserved flags and overrunning messages refused", (t) => {
  const dir = tempDir(t);
  const header = (flags: number, area: number[], sizeBytes = 1 << (flags & 3)) =>
    withSum([...ascii("OHDR"), 2, flags, ...(flags & 0x20 ? new Array(16).fill(7) : []), ...(flags & 0x10 ? [8, 0, 6, 0] : []), ...le(area.length, sizeBytes), ...area]);
  const area = messages([A, B], false);
  for (const flags of [0x00, 0x01, 0x02, 0x03, 0x10, 0x20, 0x30, 0x31]) {
    assert.deepEqual(parsed(source(dir, `flags-${flags}`, header(flags, area))), [A, B], `flags ${flags}`);
  }
  assert.deepEqual(parsed(source(dir, "gap", header(0, [...area, 0, 0, 0]))), [A, B], "a gap of fewer than 4 bytes at the end");
  for (const flags of [0x40, 0x80]) {
    assert.throws(() => parsed(source(dir, `reserved-${flags}`, header(flags, area))), typed("CORRUPT", new RegExp(`^here: object header flags ${flags} has reserved bits set`)));
  }
  const over = [...messages([A], false), 0x08, ...le(4, 2), 0, 1, 2, 3]; // 4 bytes claimed, 3 left
  assert.throws(() => parsed(source(dir, "over", header(0, over))), typed("CORRUPT", /^here: object header message of type 8 \(4 bytes\) runs past its block/));
  const sum = header(0, area);
  sum[8] ^= 1;
  assert.throws(() => parsed(source(dir, "sum", sum)), typed("CORRUPT", /^here: object header checksum mismatch/));
  // a chain of continuation blocks: 256 are read, the 257th is refused
  const chain = (blocks: number) => {
    const head = ohdr([A, continuation(64, 0)], false);
    const parts: [number, number[]][] = [];
    for (let i = 0; i < blocks; i++) {
      const last = i === blocks - 1;
      const block = ochk(last ? [B] : [continuation(64 + (i + 1) * 64, 0)], false);
      parts.push([64 + i * 64, block]);
    }
    const lens = parts.map(([, b]) => b.length);
    // lengths are known only now: rebuild with them
    const first = ohdr([A, continuation(64, lens[0])], false);
    const rebuilt = parts.map(([addr], i): [number, number[]] => [addr, ochk(i === blocks - 1 ? [B] : [continuation(64 + (i + 1) * 64, lens[i + 1])], false)]);
    assert.equal(first.length, head.length);
    return placed([[0, first], ...rebuilt]);
  };
  assert.deepEqual(parsed(source(dir, "chain-256", chain(256))), [A, B]);
  assert.throws(() => parsed(source(dir, "chain-257", chain(257))), typed("CORRUPT", /^here: object header has more than 256 continuation blocks/));
});

test("read journal: ranges read are checked again byte for byte (copies up to 4 KiB, digests above); a change, a cut or a missing file fails the check", (t) => {
  const dir = tempDir(t);
  const file = join(dir, "journal.bin");
  const bytes = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 13) & 0xff);
  for (const len of [1, 4096, 4097, 10_000]) {
    writeFileSync(file, bytes);
    const j = new ReadJournal();
    j.record(100, bytes.subarray(100, 100 + len));
    j.record(0, bytes.subarray(0, 8));
    assert.equal(j.size, 2);
    assert.equal(j.unchanged(file), true, `${len} bytes unchanged`);
    const fd = openSync(file, "r");
    try {
      assert.equal(j.unchanged(fd), true, `${len} bytes unchanged, through a descriptor`);
    } finally {
      closeSync(fd);
    }
    for (const at of [100, 100 + len - 1]) {
      const changed = Uint8Array.from(bytes);
      changed[at] ^= 1;
      writeFileSync(file, changed);
      assert.equal(j.unchanged(file), false, `${len} bytes, byte ${at - 100} changed`);
    }
    const outside = Uint8Array.from(bytes);
    outside[99] ^= 1;
    outside[100 + len] ^= 1;
    writeFileSync(file, outside);
    assert.equal(j.unchanged(file), true, `${len} bytes: changes next to the range do not count`);
    writeFileSync(file, bytes.subarray(0, 100 + len - 1));
    assert.equal(j.unchanged(file), false, `${len} bytes: the file now ends inside the range`);
  }
  const j = new ReadJournal();
  j.record(0, bytes.subarray(0, 4));
  assert.equal(j.unchanged(join(dir, "missing.bin")), false);
  assert.equal(new ReadJournal().unchanged(join(dir, "missing.bin")), false, "a file that cannot be opened is not unchanged");
});

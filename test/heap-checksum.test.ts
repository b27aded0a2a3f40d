/**
 * Strings that HDF5 guards with nothing (issue 13): variable-length strings live in global heap
 * collections, which carry no checksum in HDF5. The TypeScript engine adds one per collection
 * (FORMAT.md, "Global heap checksums") and the TypeScript reader checks it: a changed byte of any
 * string is CORRUPT, never a different string. Collections without the mark (files written before
 * it, or by HDF5) read as before. On the h5wasm path: an object header HDF5 rejects (its checksum)
 * is CORRUPT, never read as an empty group.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeValidFile } from "../bench/fuzz.js";
import { readEverything } from "../bench/fuzz-worker.js";
import { CHECKSUM_MAGIC, CHECKSUM_MARK } from "#lib/h5/ts/heap.js";
import { H5Reader } from "#lib/h5/reader.js";
import { ExperimentLoader, SnnExportError } from "#lib/index.js";
import { skipStructureCheck, tempDir } from "./helpers.js";

interface HeapObject { index: number; at: number; size: number; checksum: boolean }
interface Collection { addr: number; size: number; objects: HeapObject[] }

const u64 = (b: Uint8Array, at: number): number => Number(Buffer.from(b.buffer, b.byteOffset + at, 8).readBigUInt64LE());

/** The global heap collections of `b` (found by signature) and their objects. */
function collections(b: Uint8Array): Collection[] {
  const out: Collection[] = [];
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  for (let addr = buf.indexOf("GCOL"); addr >= 0; addr = buf.indexOf("GCOL", addr + 1)) {
    const size = u64(b, addr + 8);
    if (b[addr + 4] !== 1 || size < 16 || addr + size > b.length) continue;
    const objects: HeapObject[] = [];
    for (let p = addr + 16; p + 16 <= addr + size;) {
      const index = b[p] | (b[p + 1] << 8);
      const n = u64(b, p + 8);
      if (index === 0) break;
      objects.push({ index, at: p + 16, size: n, checksum: n === 8 && CHECKSUM_MAGIC.every((x, i) => b[p + 16 + i] === x) });
      p += 16 + Math.ceil(n / 8) * 8;
    }
    out.push({ addr, size, objects });
  }
  return out;
}

function damaged(dir: string, name: string, bytes: Uint8Array, change: (copy: Uint8Array) => void): string {
  const copy = bytes.slice();
  change(copy);
  const file = join(dir, `${name}.h5`);
  writeFileSync(file, copy);
  skipStructureCheck(file, "bytes changed on purpose");
  return file;
}

async function outcome(file: string, expect: string): Promise<string> {
  try {
    return (await readEverything(file)) === expect ? "exact" : "silent";
  } catch (err) {
    return err instanceof SnnExportError ? `typed ${err.code}` : `untyped ${(err as Error).message}`;
  }
}

test("global heap checksums: a changed byte in any string of the file is CORRUPT through the loader; without the mark a collection reads as before", { timeout: 300_000 }, async (t) => {
  const dir = tempDir(t, "snn-heap-sum-");
  const valid = await writeValidFile(join(dir, "valid"));
  const bytes = new Uint8Array(readFileSync(valid));
  const expect = await readEverything(valid);
  const cols = collections(bytes);
  assert.ok(cols.length > 0);
  for (const c of cols) {
    assert.deepEqual([...bytes.subarray(c.addr + 5, c.addr + 8)], CHECKSUM_MARK, `collection at ${c.addr}: the mark`);
    assert.equal(c.objects.filter((o) => o.checksum).length, 1, `collection at ${c.addr}: one checksum object`);
    assert.ok(c.objects.at(-1)!.checksum, `collection at ${c.addr}: the checksum object is the last`);
  }
  // one bit of a byte in the middle of every string (the low bit keeps ASCII text valid UTF-8)
  const strings = cols.flatMap((c) => c.objects.filter((o) => !o.checksum && o.size > 0));
  assert.ok(strings.length >= 20, `${strings.length} strings`);
  const results: string[] = [];
  for (const s of strings) {
    const file = damaged(dir, `string_${s.at}`, bytes, (b) => void (b[s.at + (s.size >> 1)] ^= 1));
    results.push(await outcome(file, expect));
  }
  const counts: Record<string, number> = {};
  for (const r of results) counts[r] = (counts[r] ?? 0) + 1;
  t.diagnostic(`${strings.length} strings in ${cols.length} collections: ${JSON.stringify(counts)}`);
  assert.deepEqual(Object.keys(counts).filter((k) => k !== "typed CORRUPT" && k !== "exact"), [], "only CORRUPT or the undamaged data");
  assert.ok((counts["typed CORRUPT"] ?? 0) >= strings.length * 0.9, "nearly every string is read by the loader: CORRUPT");

  // the mark, the checksum object's magic or its hash changed: CORRUPT
  const first = cols.find((c) => c.objects.some((o) => !o.checksum && o.size > 0))!;
  const sum = first.objects.find((o) => o.checksum)!;
  for (const [name, change] of [
    ["mark", (b: Uint8Array) => void (b[first.addr + 6] ^= 4)],
    ["magic", (b: Uint8Array) => void (b[sum.at] ^= 0x80)],
    ["hash", (b: Uint8Array) => void (b[sum.at + 5] ^= 0x10)],
  ] as const) {
    assert.equal(await outcome(damaged(dir, name, bytes, change), expect), "typed CORRUPT", name);
  }
  // without the mark (as HDF5 and earlier versions write collections): read as before, the
  // checksum object is then an object nothing refers to
  const plain = damaged(dir, "plain", bytes, (b) => {
    for (const c of cols) b.fill(0, c.addr + 5, c.addr + 8);
  });
  assert.equal(await outcome(plain, expect), "exact");
});

test("h5wasm path: a changed byte in an object header HDF5 rejects is a typed error or exactly the data, never a missing config", { timeout: 600_000 }, async (t) => {
  const dir = tempDir(t, "snn-heap-wasm-");
  const valid = await writeValidFile(join(dir, "valid"), "h5wasm");
  const bytes = new Uint8Array(readFileSync(valid));
  const config = async (file: string): Promise<string> => {
    try {
      const loader = await ExperimentLoader.open(file);
      try {
        return JSON.stringify(loader.getConfig());
      } finally {
        loader.close();
      }
    } catch (err) {
      return err instanceof SnnExportError ? "typed" : `untyped ${(err as Error).message}`;
    }
  };
  const expect = await config(valid);
  assert.ok(expect.includes("seed"));
  const r = await H5Reader.open(valid);
  const addr = Number(r.objectAddress("/config/json"));
  r.close();
  assert.deepEqual([...bytes.subarray(addr, addr + 4)], [...Buffer.from("OHDR")]);
  const bad: string[] = [];
  // bytes of the header's prefix and first messages set to 158 (the fuzz case was byte 59): any
  // change fails the header's checksum in HDF5, which h5wasm's get_type answered with "group"
  // (each open starts the h5wasm worker: a few positions only)
  for (const at of [5, 24, 31, 45, 59].map((k) => addr + k)) {
    if (bytes[at] === 158) continue;
    const got = await config(damaged(dir, `ohdr_${at}`, bytes, (b) => void (b[at] = 158)));
    if (got !== "typed" && got !== expect) bad.push(`byte ${at - addr} of the header: ${got}`);
  }
  assert.deepEqual(bad, []);
});

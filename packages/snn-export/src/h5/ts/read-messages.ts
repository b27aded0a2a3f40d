/**
 * Decoders of the object header messages the TypeScript reader reads: dataspace, datatype, data
 * layout, filter pipeline, link, link info, attribute info and attribute. Each reads only its own
 * bytes (a {@link Cursor} over the message body); anything valid but outside the profile is
 * {@link Unsupported}, anything inconsistent is CORRUPT.
 */
import type { Dtype } from "../../dtypes.js";
import { corrupt, Cursor, Unsupported, UNDEF } from "./read-io.js";

/** Element type: a numeric dtype or a variable-length string. */
export type ReadType = { dtype: Dtype; size: number } | { dtype: "string"; size: 16 };

/** Dimensions (`[]` for a scalar) and maximum dimensions (UNDEF = unlimited; null when not stored). */
export interface Space {
  dims: number[];
  max: number[] | null;
}

/** Where a dataset's raw data is. */
export type Layout =
  | { kind: "compact"; data: Uint8Array }
  | { kind: "contiguous"; addr: number; size: number }
  | { kind: "chunked"; btree: number; chunk: number[]; elemSize: number };

/** One filter of a pipeline. */
export interface Filter {
  id: number;
  name: string;
  cd: number[];
}

/** An attribute as stored: its type, space and raw data bytes. */
export interface RawAttr {
  name: string;
  type: ReadType;
  space: Space;
  data: Uint8Array;
}

const MAX_RANK = 32;
const utf8 = new TextDecoder();

/** Dataspace message, version 1 or 2. */
export function decodeDataspace(c: Cursor): Space {
  const version = c.u8();
  const rank = c.u8();
  const flags = c.u8();
  if (version === 1) c.skip(5);
  else if (version === 2) {
    const type = c.u8();
    if (type === 2) throw new Unsupported("a null dataspace");
    if (type > 2) throw corrupt(c.where, `dataspace type ${type}`);
  } else throw corrupt(c.where, `dataspace version ${version}`);
  if (rank > MAX_RANK) throw corrupt(c.where, `dataspace rank ${rank} (at most ${MAX_RANK})`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(c.u64());
  let max: number[] | null = null;
  if (flags & 1) {
    max = [];
    for (let i = 0; i < rank; i++) max.push(c.u64());
  }
  for (const [i, d] of dims.entries()) {
    if (!Number.isSafeInteger(d) || d < 0) throw corrupt(c.where, `dataspace dimension ${d}`);
    if (max && max[i] !== UNDEF && max[i] < d) throw corrupt(c.where, `dataspace dimension ${d} exceeds its maximum ${max[i]}`);
  }
  return { dims, max };
}

const INT_DTYPES: Record<number, [Dtype, Dtype]> = { 1: ["uint8", "int8"], 2: ["uint16", "int16"], 4: ["uint32", "int32"], 8: ["uint64", "int64"] };

/** Datatype message: little-endian integers, IEEE floats, variable-length strings. */
export function decodeDatatype(c: Cursor): ReadType {
  const cv = c.u8();
  const cls = cv & 0x0f;
  const bf0 = c.u8();
  const bf1 = c.u8();
  c.u8();
  const size = c.u32();
  if (cls === 0) return fixedPoint(c, bf0, size);
  if (cls === 1) return floatingPoint(c, bf0, bf1, size);
  if (cls === 9) return vlenString(c, bf0, bf1, size);
  throw new Unsupported(`datatype class ${cls}`);
}

function fixedPoint(c: Cursor, bf0: number, size: number): ReadType {
  const offset = c.u16();
  const precision = c.u16();
  const pair = INT_DTYPES[size];
  if (!pair || (bf0 & 0xf7) !== 0 || offset !== 0 || precision !== size * 8) {
    throw new Unsupported(`integer type of ${size} bytes, flags ${bf0}, bits ${offset}+${precision}`);
  }
  return { dtype: pair[bf0 & 0x08 ? 1 : 0], size };
}

function floatingPoint(c: Cursor, bf0: number, bf1: number, size: number): ReadType {
  const offset = c.u16();
  const precision = c.u16();
  const expLoc = c.u8();
  const expSize = c.u8();
  const mantLoc = c.u8();
  const mantSize = c.u8();
  const bias = c.u32();
  const ieee: Record<number, number[]> = { 4: [31, 23, 8, 23, 127], 8: [63, 52, 11, 52, 1023] };
  const want = ieee[size];
  const got = [bf1, expLoc, expSize, mantSize, bias];
  if (!want || bf0 !== 0x20 || offset !== 0 || precision !== size * 8 || mantLoc !== 0 || want.some((v, i) => v !== got[i])) {
    throw new Unsupported(`floating-point type of ${size} bytes that is not IEEE little-endian`);
  }
  return { dtype: size === 4 ? "float32" : "float64", size };
}

function vlenString(c: Cursor, bf0: number, bf1: number, size: number): ReadType {
  if ((bf0 & 0x0f) !== 1) throw new Unsupported("a variable-length sequence that is not a string");
  if ((bf1 & 0x0f) > 1) throw corrupt(c.where, `string character set ${bf1 & 0x0f}`);
  if (size !== 16) throw corrupt(c.where, `variable-length string element of ${size} bytes (expected 16)`);
  const base = decodeDatatype(c);
  if (base.size !== 1) throw corrupt(c.where, "variable-length string whose characters are not bytes");
  return { dtype: "string", size: 16 };
}

/** Data layout message, version 3. */
export function decodeLayout(c: Cursor): Layout {
  const version = c.u8();
  if (version !== 3) throw new Unsupported(`data layout version ${version}`);
  const cls = c.u8();
  if (cls === 0) return { kind: "compact", data: c.bytes(c.u16()) };
  if (cls === 1) return { kind: "contiguous", addr: c.u64(), size: c.u64() };
  if (cls !== 2) throw new Unsupported(`data layout class ${cls}`);
  const rank = c.u8();
  if (rank < 1 || rank > MAX_RANK + 1) throw corrupt(c.where, `chunk rank ${rank}`);
  const btree = c.u64();
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(c.u32());
  if (dims.some((d) => d === 0)) throw corrupt(c.where, `chunk dimensions ${dims.join("x")} include 0`);
  return { kind: "chunked", btree, chunk: dims.slice(0, -1), elemSize: dims[rank - 1] };
}

const FILTER_NAMES: Record<number, string> = { 1: "deflate", 2: "shuffle" };

/** Filter pipeline message, version 1 or 2: only deflate (1) and shuffle (2) are read. */
export function decodeFilters(c: Cursor): Filter[] {
  const version = c.u8();
  const n = c.u8();
  if (version !== 1 && version !== 2) throw corrupt(c.where, `filter pipeline version ${version}`);
  if (n > 32) throw corrupt(c.where, `${n} filters`);
  if (version === 1) c.skip(6);
  const out: Filter[] = [];
  for (let i = 0; i < n; i++) {
    const id = c.u16();
    const nameLen = version === 1 || id >= 256 ? c.u16() : 0;
    c.u16(); // flags
    const ncd = c.u16();
    c.skip(version === 1 ? (nameLen + 7) & ~7 : nameLen);
    const cd: number[] = [];
    for (let k = 0; k < ncd; k++) cd.push(c.u32());
    if (version === 1 && ncd % 2) c.skip(4);
    const name = FILTER_NAMES[id];
    if (!name) throw new Unsupported(`filter ${id}`);
    out.push({ id, name, cd });
  }
  return out;
}

/** Link message: a hard link's name and object header address. */
export function decodeLink(c: Cursor): { name: string; addr: number } {
  const version = c.u8();
  if (version !== 1) throw corrupt(c.where, `link message version ${version}`);
  const flags = c.u8();
  if (flags & 0xe0) throw corrupt(c.where, `link flags ${flags} has reserved bits set`);
  const type = flags & 0x08 ? c.u8() : 0;
  if (flags & 0x04) c.skip(8);
  if (flags & 0x10 && c.u8() > 1) throw corrupt(c.where, "link name character set");
  const len = c.uint(1 << (flags & 3));
  if (len === 0) throw corrupt(c.where, "link with an empty name");
  const name = utf8.decode(c.bytes(len));
  if (type !== 0) throw new Unsupported(`link type ${type} (${name})`);
  return { name, addr: c.u64() };
}

/** Link info or attribute info message: {@link Unsupported} when it names dense storage (a fractal heap). */
export function checkCompact(c: Cursor, what: "link" | "attribute"): void {
  const version = c.u8();
  if (version !== 0) throw corrupt(c.where, `${what} info version ${version}`);
  const flags = c.u8();
  if (flags & 1) c.skip(what === "link" ? 8 : 2);
  if (c.u64() !== UNDEF) throw new Unsupported(`dense ${what} storage (fractal heap)`);
}

/** Attribute message, versions 1-3 (shared datatypes and dataspaces are {@link Unsupported}). */
export function decodeAttribute(c: Cursor): RawAttr {
  const version = c.u8();
  if (version < 1 || version > 3) throw corrupt(c.where, `attribute message version ${version}`);
  const flags = c.u8();
  if (flags & 0x03) throw new Unsupported("a shared attribute datatype or dataspace");
  const nameSize = c.u16();
  const typeSize = c.u16();
  const spaceSize = c.u16();
  if (version === 3) c.u8(); // name character set
  const pad = (n: number) => (version === 1 ? (n + 7) & ~7 : n);
  const nameBytes = c.bytes(pad(nameSize)).subarray(0, nameSize);
  const end = nameBytes.indexOf(0);
  const name = utf8.decode(end >= 0 ? nameBytes.subarray(0, end) : nameBytes);
  const type = decodeDatatype(new Cursor(c.bytes(pad(typeSize)), c.where, `attribute ${name} datatype`));
  const space = decodeDataspace(new Cursor(c.bytes(pad(spaceSize)), c.where, `attribute ${name} dataspace`));
  const count = space.dims.reduce((a, b) => a * b, 1);
  const data = c.bytes(count * type.size);
  return { name, type, space, data };
}

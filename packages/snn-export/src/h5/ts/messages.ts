/** Encoders of the HDF5 object header messages snn-export's pure-TypeScript engine writes. */
import type { Dtype } from "../../dtypes.js";
import type { Block, VirtualMapping } from "../types.js";
import { Bytes, UNDEF, utf8 } from "./bytes.js";
import { lookup3 } from "./lookup3.js";

export const MSG = { NIL: 0x00, DATASPACE: 0x01, LINFO: 0x02, DATATYPE: 0x03, FILL: 0x05, LINK: 0x06, LAYOUT: 0x08, GINFO: 0x0a, FILTERS: 0x0b, ATTRIBUTE: 0x0c, AINFO: 0x15, REFCOUNT: 0x16 } as const;

/** Element type of a dataset or attribute: a numeric dtype or a variable-length UTF-8 string. */
export type ElemType = Dtype | "vlen-string";

/** Size in the file of one element. */
export function elemSize(t: ElemType): number {
  if (t === "vlen-string") return 16;
  return { int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8 }[t];
}

/** Datatype message (version 1). */
export function datatype(t: ElemType): Uint8Array {
  const b = new Bytes();
  if (t === "vlen-string") {
    // class 9 (variable-length), type 1 = string, null-terminated, UTF-8; size of a heap reference;
    // base type: unsigned 8-bit integer
    b.u8(0x19).u8(0x01).u8(0x01).u8(0x00).u32(16);
    b.bytes(datatype("uint8"));
    return b.done();
  }
  const size = elemSize(t);
  if (t === "float32" || t === "float64") {
    const f64 = t === "float64";
    b.u8(0x11).u8(0x20).u8(f64 ? 63 : 31).u8(0).u32(size);
    b.u16(0).u16(size * 8).u8(f64 ? 52 : 23).u8(f64 ? 11 : 8).u8(0).u8(f64 ? 52 : 23).u32(f64 ? 1023 : 127);
    return b.done();
  }
  const signed = t.startsWith("int");
  b.u8(0x10).u8(signed ? 0x08 : 0x00).u8(0).u8(0).u32(size).u16(0).u16(size * 8);
  return b.done();
}

/** Datatype message of an object reference (class 7, version 1, type 0): an 8-byte object header address. */
export function objectReferenceType(): Uint8Array {
  return new Bytes().u8(0x17).u8(0x00).u8(0x00).u8(0x00).u32(8).done();
}

/**
 * Datatype message of an enumeration (class 8, version 3): an unsigned 8-bit base type and the
 * members' names (not padded in version 3) followed by their values, in the order given.
 */
export function enumType(members: [string, number][]): Uint8Array {
  const n = members.length;
  const b = new Bytes().u8(0x38).u8(n & 0xff).u8((n >> 8) & 0xff).u8(0).u32(1);
  b.bytes(datatype("uint8"));
  for (const [name] of members) b.bytes(utf8.encode(name)).u8(0);
  for (const [, value] of members) b.u8(value);
  return b.done();
}

/** Dataspace message (version 2): scalar for `dims === null`; `maxRows` UNDEF = unlimited first dimension. */
export function dataspace(dims: number[] | null, maxdims?: number[]): Uint8Array {
  const b = new Bytes();
  if (dims === null) return b.u8(2).u8(0).u8(0).u8(0).done();
  b.u8(2).u8(dims.length).u8(maxdims ? 1 : 0).u8(1);
  for (const d of dims) b.u64(d);
  if (maxdims) for (const d of maxdims) b.u64(d);
  return b.done();
}

/** Fill value message (version 3): default fill, incremental allocation, fill written if set. */
export function fillValue(): Uint8Array {
  return Uint8Array.from([3, 0x0b]);
}

/** Data layout message (version 3), chunked, indexed by a version-1 B-tree at `btree` (UNDEF when empty). */
export function chunkedLayout(btree: number, chunk: number[], elem: number): Uint8Array {
  const b = new Bytes().u8(3).u8(2).u8(chunk.length + 1).u64(btree);
  for (const c of chunk) b.u32(c);
  return b.u32(elem).done();
}

/** Data layout message (version 3), compact: the raw data lives in the message. */
export function compactLayout(raw: Uint8Array): Uint8Array {
  return new Bytes().u8(3).u8(0).u16(raw.length).bytes(raw).done();
}

/** Filter pipeline message (version 2): shuffle (for elements wider than a byte) then deflate. */
export function filters(elem: number, level: number): Uint8Array {
  const b = new Bytes().u8(2).u8(elem > 1 ? 2 : 1);
  if (elem > 1) b.u16(2).u16(1).u16(1).u32(elem); // shuffle, optional, cd = element size
  b.u16(1).u16(1).u16(1).u32(level); // deflate, optional, cd = level
  return b.done();
}

/** Link message (version 1) for a hard link. */
export function link(name: string, addr: number): Uint8Array {
  const nb = utf8.encode(name);
  const ascii = nb.length === name.length;
  const sizeCode = nb.length < 256 ? 0 : nb.length < 65536 ? 1 : 2;
  const b = new Bytes().u8(1).u8(sizeCode | (ascii ? 0 : 0x10));
  if (!ascii) b.u8(1);
  if (sizeCode === 0) b.u8(nb.length);
  else if (sizeCode === 1) b.u16(nb.length);
  else b.u32(nb.length);
  return b.bytes(nb).u64(addr).done();
}

/** Link info message (version 0): compact links, no creation order. */
export function linkInfo(): Uint8Array {
  return new Bytes().u8(0).u8(0).u64(UNDEF).u64(UNDEF).done();
}

/** Group info message (version 0), defaults. */
export function groupInfo(): Uint8Array {
  return Uint8Array.from([0, 0]);
}

/**
 * Attribute info message (version 0): attributes stored compactly (in the header), creation order
 * neither tracked nor indexed. With version-2 object headers HDF5 takes an object's attribute
 * count from this message alone (0 without it, although iteration still finds the attribute
 * messages), so every header that has attributes carries one, as the HDF5 library writes it.
 */
export function attributeInfo(): Uint8Array {
  return new Bytes().u8(0).u8(0).u64(UNDEF).u64(UNDEF).done();
}

/** Object reference count message (version 0). */
export function refCount(n: number): Uint8Array {
  return new Bytes().u8(0).u32(n).done();
}

/** Attribute message (version 3). */
export function attribute(name: string, type: Uint8Array, space: Uint8Array, data: Uint8Array): Uint8Array {
  const nb = utf8.encode(name);
  return new Bytes().u8(3).u8(0).u16(nb.length + 1).u16(type.length).u16(space.length).u8(1)
    .bytes(nb).u8(0).bytes(type).bytes(space).bytes(data).done();
}

/**
 * Link message (version 1) for an external link: link type 64, then the link information
 * (2-byte length; a version-and-flags byte, 0; the file name and the object path, each
 * NUL-terminated). HDF5 resolves a relative file name against the linking file's directory.
 */
export function externalLink(name: string, file: string, objPath: string): Uint8Array {
  const nb = utf8.encode(name);
  const ascii = nb.length === name.length;
  const sizeCode = nb.length < 256 ? 0 : nb.length < 65536 ? 1 : 2;
  const b = new Bytes().u8(1).u8(sizeCode | 0x08 | (ascii ? 0 : 0x10)).u8(64);
  if (!ascii) b.u8(1);
  if (sizeCode === 0) b.u8(nb.length);
  else if (sizeCode === 1) b.u16(nb.length);
  else b.u32(nb.length);
  const fb = utf8.encode(file);
  const pb = utf8.encode(objPath);
  return b.bytes(nb).u16(1 + fb.length + 1 + pb.length + 1).u8(0).bytes(fb).u8(0).bytes(pb).u8(0).done();
}

/** Fill value message (version 3) with a defined fill value (`value`: its bytes in the dataset's type). */
export function fillValueDefined(value: Uint8Array): Uint8Array {
  return new Bytes().u8(3).u8(0x0b | 0x20).u32(value.length).bytes(value).done();
}

/** Data layout message (version 4), virtual: the mappings are one global heap object. */
export function virtualLayout(heapAddr: number, heapIndex: number): Uint8Array {
  return new Bytes().u8(4).u8(3).u64(heapAddr).u32(heapIndex).done();
}


/** A serialized "all" selection (type 3, version 1, no body). */
const ALL_SELECTION = new Bytes().u32(3).u32(1).u32(0).u32(0).done();

/** A serialized hyperslab selection (version 1: a list of blocks, 4-byte corners, the end inclusive). */
function hyperslabSelection(blocks: Block[]): Uint8Array {
  const rank = blocks[0]?.start.length ?? 1;
  const b = new Bytes().u32(2).u32(1).u32(0).u32(8 + blocks.length * rank * 8).u32(rank).u32(blocks.length);
  for (const blk of blocks) {
    for (let d = 0; d < rank; d++) b.u32(blk.start[d]);
    for (let d = 0; d < rank; d++) b.u32(blk.start[d] + blk.count[d] - 1);
  }
  return b.done();
}


/**
 * The global heap object of a virtual layout (encoding version 0): the mapping count (8 bytes),
 * per mapping the source file and dataset names (NUL-terminated; `%` is HDF5's printf-style
 * escape, written `%%`) and the source and virtual selections, then the lookup3 checksum of it all.
 */
export function virtualMappings(maps: VirtualMapping[]): Uint8Array {
  const b = new Bytes().u8(0).u64(maps.length);
  const esc = (s: string) => utf8.encode(s.replace(/%/g, "%%"));
  for (const m of maps) {
    if (m.target.count.some((c) => c <= 0)) throw new Error(`internal: an empty virtual mapping from ${m.file}`);
    b.bytes(esc(m.file)).u8(0).bytes(esc(m.dataset)).u8(0);
    b.bytes(m.source === "all" ? ALL_SELECTION : hyperslabSelection([m.source])).bytes(hyperslabSelection([m.target]));
  }
  const body = b.done();
  return new Bytes().bytes(body).u32(lookup3(body)).done();
}

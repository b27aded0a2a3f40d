/**
 * The viewer's binary responses: a JSON header and typed arrays in one body, so that the page gets
 * large columns (episode table, raster bins, spike lists) without JSON number parsing.
 *
 * Layout (little-endian): u32 header byte length, the header as UTF-8 JSON, zero padding to a
 * multiple of 8, then each array's bytes, each padded to a multiple of 8. The header is
 * `{ meta, arrays: [{ name, type, offset, length }] }` with offsets from the body's start.
 */

import { dtypeOf, type Dtype } from "snn-export/dtypes";

export type ArrayType = "f64" | "f32" | "u32" | "u16" | "u8" | "i8";
export type PackedArray = Float64Array | Float32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array;

export interface ArrayInfo {
  name: string;
  type: ArrayType;
  /** Byte offset of the first element from the start of the body. */
  offset: number;
  /** Number of elements. */
  length: number;
}

export interface PackedHeader {
  meta: unknown;
  arrays: ArrayInfo[];
}

/** The page's short name of each dtype a packed array may have. */
const WIRE_TYPE: Partial<Record<Dtype, ArrayType>> = { float64: "f64", float32: "f32", uint32: "u32", uint16: "u16", uint8: "u8", int8: "i8" };

function typeOf(a: PackedArray): ArrayType {
  return WIRE_TYPE[dtypeOf(a)]!;
}

const pad8 = (n: number) => (n + 7) & ~7;

/** Packs `meta` and the named arrays into one body. */
export function pack(meta: unknown, arrays: Record<string, PackedArray>): Buffer {
  const names = Object.keys(arrays);
  // offsets depend on the header's length, which depends on the offsets' digits: lay the arrays
  // out relative to the data start, then fix the header length by iterating once more if needed
  let dataStart = 0;
  let header = "";
  for (let attempt = 0; attempt < 4; attempt++) {
    let at = dataStart;
    const infos: ArrayInfo[] = names.map((name) => {
      const a = arrays[name];
      const info = { name, type: typeOf(a), offset: at, length: a.length };
      at += pad8(a.byteLength);
      return info;
    });
    header = JSON.stringify({ meta, arrays: infos } satisfies PackedHeader);
    const start = pad8(4 + Buffer.byteLength(header));
    if (start === dataStart) break;
    dataStart = start;
  }
  const headerBytes = Buffer.from(header, "utf8");
  let total = dataStart;
  for (const name of names) total += pad8(arrays[name].byteLength);
  const out = Buffer.alloc(total);
  out.writeUInt32LE(headerBytes.length, 0);
  headerBytes.copy(out, 4);
  let at = dataStart;
  for (const name of names) {
    const a = arrays[name];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += pad8(a.byteLength);
  }
  return out;
}

/** Reads a packed body back (the page has its own copy of this for the browser; used by tests). */
export function unpack(body: ArrayBuffer | Uint8Array): { meta: unknown; arrays: Record<string, PackedArray> } {
  const bytes = body instanceof Uint8Array ? body : new Uint8Array(body);
  // copy to a buffer of our own (a Node Buffer may be a view of a shared pool): typed array views
  // need offsets aligned from the buffer's start
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const buf = copy.buffer;
  const view = new DataView(buf);
  const n = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n))) as PackedHeader;
  const arrays: Record<string, PackedArray> = {};
  const ctor = { f64: Float64Array, f32: Float32Array, u32: Uint32Array, u16: Uint16Array, u8: Uint8Array, i8: Int8Array } as const;
  for (const a of header.arrays) arrays[a.name] = new ctor[a.type](buf, a.offset, a.length);
  return { meta: header.meta, arrays };
}

/**
 * An object (group or dataset) as the TypeScript reader sees it, built from its header's messages,
 * and attribute values decoded as the h5wasm reader returns them.
 */
import { allocate, type Dtype, type NumericArray } from "../../dtypes.js";
import type { GlobalHeaps } from "./read-heap.js";
import { corrupt, Cursor, Unsupported } from "./read-io.js";
import * as D from "./read-messages.js";
import type { RawMessage } from "./read-object-header.js";

/** A parsed object header. */
export interface H5Object {
  addr: number;
  kind: "group" | "dataset" | null;
  /** Link name → object header address (groups). */
  links: Map<string, number>;
  attrs: D.RawAttr[];
  dataset: DatasetMeta | null;
}

/** What a dataset is: type, extent, layout and filters. */
export interface DatasetMeta {
  type: D.ReadType;
  dims: number[];
  layout: D.Layout;
  filters: D.Filter[];
}

/** Message types (HDF5 File Format Specification, IV.A.2). */
const T = { NIL: 0x00, SPACE: 0x01, LINFO: 0x02, TYPE: 0x03, FILL_OLD: 0x04, FILL: 0x05, LINK: 0x06, LAYOUT: 0x08, GINFO: 0x0a, FILTERS: 0x0b, ATTR: 0x0c, COMMENT: 0x0d, MTIME_OLD: 0x0e, STAB: 0x11, MTIME: 0x12, AINFO: 0x15, REFCOUNT: 0x16 };
/** Messages read or known to be irrelevant to reading; any other type is Unsupported. */
const SKIPPED = new Set([T.NIL, T.FILL_OLD, T.FILL, T.GINFO, T.COMMENT, T.MTIME_OLD, T.MTIME, T.REFCOUNT]);

/** Builds the object at `addr` from its messages (`where`: file and path, for errors). */
export function buildObject(addr: number, msgs: RawMessage[], where: string): H5Object {
  const obj: H5Object = { addr, kind: null, links: new Map(), attrs: [], dataset: null };
  const found = new Map<number, Uint8Array>();
  for (const m of msgs) {
    const c = new Cursor(m.body, where, `message of type ${m.type}`);
    if (m.flags & 0x02) throw new Unsupported(`a shared message of type ${m.type}`);
    if (m.type === T.LINK) addLink(obj, D.decodeLink(c), where);
    else if (m.type === T.ATTR) addAttr(obj, D.decodeAttribute(c), where);
    else if (m.type === T.LINFO) D.checkCompact(c, "link");
    else if (m.type === T.AINFO) D.checkCompact(c, "attribute");
    else if (m.type === T.STAB) throw new Unsupported("a symbol-table group");
    else if (m.type === T.SPACE || m.type === T.TYPE || m.type === T.LAYOUT || m.type === T.FILTERS) {
      if (found.has(m.type)) throw corrupt(where, `two messages of type ${m.type} in one object header`);
      found.set(m.type, m.body);
    } else if (!SKIPPED.has(m.type)) throw new Unsupported(`object header message type ${m.type}`);
  }
  if (found.has(T.TYPE) && found.has(T.SPACE) && !msgs.some((m) => m.type === T.LINFO)) obj.dataset = datasetMeta(found, where);
  obj.kind = msgs.some((m) => m.type === T.LINFO) ? "group" : obj.dataset ? "dataset" : null;
  if (obj.kind !== "group" && obj.links.size) throw corrupt(where, "links in an object that is not a group");
  return obj;
}

function addLink(obj: H5Object, link: { name: string; addr: number }, where: string): void {
  if (obj.links.has(link.name)) throw corrupt(where, `two links named ${JSON.stringify(link.name)}`);
  obj.links.set(link.name, link.addr);
}

function addAttr(obj: H5Object, attr: D.RawAttr, where: string): void {
  if (obj.attrs.some((a) => a.name === attr.name)) throw corrupt(where, `two attributes named ${JSON.stringify(attr.name)}`);
  obj.attrs.push(attr);
}

function datasetMeta(found: Map<number, Uint8Array>, where: string): DatasetMeta {
  const body = (t: number, what: string) => new Cursor(found.get(t)!, where, what);
  const type = D.decodeDatatype(body(T.TYPE, "datatype message"));
  const space = D.decodeDataspace(body(T.SPACE, "dataspace message"));
  if (!found.has(T.LAYOUT)) throw corrupt(where, "a dataset without a data layout message");
  const layout = D.decodeLayout(body(T.LAYOUT, "data layout message"));
  const filters = found.has(T.FILTERS) ? D.decodeFilters(body(T.FILTERS, "filter pipeline message")) : [];
  if (layout.kind === "chunked") {
    if (layout.chunk.length !== space.dims.length) throw corrupt(where, `chunks of rank ${layout.chunk.length} for a dataset of rank ${space.dims.length}`);
    if (layout.elemSize !== type.size) throw corrupt(where, `chunk element size ${layout.elemSize} for ${type.size}-byte elements`);
    if (layout.chunk.some((c, i) => i > 0 && c !== space.dims[i])) throw new Unsupported("chunks that split a row");
  } else if (filters.length) throw corrupt(where, "filters on a dataset that is not chunked");
  return { type, dims: space.dims, layout, filters };
}

/** An attribute's value as the h5wasm reader gives it: scalars unwrapped (64-bit integers as bigint), arrays as typed arrays, strings as strings. */
export function attrValue(a: D.RawAttr, heaps: GlobalHeaps, where: string): unknown {
  const n = a.space.dims.reduce((x, y) => x * y, 1);
  const scalar = a.space.dims.length === 0;
  const w = `${where}: attribute ${a.name}`;
  if (a.type.dtype === "string") {
    const list = Array.from({ length: n }, (_, i) => heaps.text(a.data, 16 * i, w));
    return scalar ? list[0] : list;
  }
  const arr = numbers(a.type.dtype, a.data, n);
  return scalar ? arr[0] : arr;
}

/** `n` elements of `dtype` from little-endian `bytes` (copied: the result owns its buffer). */
export function numbers(dtype: Dtype, bytes: Uint8Array, n: number): NumericArray {
  const out = allocate(dtype, n);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.byteLength));
  return out;
}

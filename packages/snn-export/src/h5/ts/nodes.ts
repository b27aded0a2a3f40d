/**
 * The objects of a file as the TypeScript writer holds them (groups, datasets, virtual datasets,
 * with their attributes and links) and their version-2 object headers: the messages each one
 * carries, the header's size and bytes (with a NIL message padding it to its reserved space).
 */
import { ChunkIndex } from "./btree.js";
import { Bytes, UNDEF, SIG_OHDR } from "./bytes.js";
import { lookup3 } from "./lookup3.js";
import type { HeapRef } from "./heap.js";
import * as M from "./messages.js";

/** An attribute; `ref` makes it an object reference to that object (its data is the address, encoded at flush). */
export type Attr = { type: Uint8Array; space: Uint8Array; data: Uint8Array; ref?: ObjNode };

export abstract class ObjNode {
  addr = UNDEF;
  cap = 0;
  refs = 1;
  readonly attrs = new Map<string, Attr>();
  readonly parents = new Set<GroupNode>();
  /** Objects with an attribute that references this one: rewritten when this one moves. */
  readonly referrers = new Set<ObjNode>();
  abstract messages(): [number, Uint8Array][];
}

export class GroupNode extends ObjNode {
  readonly links = new Map<string, ObjNode>();
  /** External links: name -> [file, object path]. */
  readonly externals = new Map<string, [string, string]>();
  messages(): [number, Uint8Array][] {
    const out: [number, Uint8Array][] = [[M.MSG.LINFO, M.linkInfo()], [M.MSG.GINFO, M.groupInfo()]];
    for (const [name, child] of this.links) out.push([M.MSG.LINK, M.link(name, child.addr)]);
    for (const [name, [file, obj]] of this.externals) out.push([M.MSG.LINK, M.externalLink(name, file, obj)]);
    return out;
  }
}

/** A virtual dataset (VDS): fixed dims, a fill value for what no mapping covers, the mappings in a global heap object. */
export class VirtualNode extends ObjNode {
  constructor(readonly type: M.ElemType, readonly dims: number[], readonly fill: Uint8Array, readonly heap: HeapRef) {
    super();
  }
  messages(): [number, Uint8Array][] {
    return [
      [M.MSG.DATATYPE, M.datatype(this.type)],
      [M.MSG.DATASPACE, M.dataspace(this.dims, this.dims)],
      [M.MSG.FILL, M.fillValueDefined(this.fill)],
      [M.MSG.LAYOUT, M.virtualLayout(this.heap.addr, this.heap.index)],
    ];
  }
}

/**
 * The deflate strategy of a family of columns (deflate.ts): every {@link TRIAL_EVERY}th chunk,
 * from the first, is deflated both ways and the winner is kept for the chunks that follow.
 */
export interface DeflateChoice {
  rle: boolean;
  chunks: number;
}
export const TRIAL_EVERY = 16;

export class DatasetNode extends ObjNode {
  rows = 0;
  /** Changes commit with the superblock (ColumnSpec.atomic): the header and chunk index move at every flush that changes them. */
  atomic = false;
  readonly index: ChunkIndex | null;
  compact: Uint8Array | null = null;
  /** The data of the last chunk when it is partial (its rows written so far), for appends that start inside it. */
  tail: { k: number; data: Uint8Array } | null = null;
  /** The tail's storage, reused from flush to flush (a copy per flush was garbage that outlived the young generation). */
  private tailBuf = new Uint8Array(0);
  /** False for columns written from chunk starts only (ColumnSpec.fromChunkStart): no tail is kept. */
  keepsTail = true;

  /** How its chunks are deflated; shared by the columns of one family (ColumnSpec.family). */
  deflate: DeflateChoice | null = null;

  keepTail(k: number, data: Uint8Array): void {
    if (!this.keepsTail) return;
    if (this.tailBuf.length < data.length) this.tailBuf = new Uint8Array(Math.min(this.chunkRows * this.rowBytes, Math.max(data.length, 2 * this.tailBuf.length)));
    if (data.buffer !== this.tailBuf.buffer || data.byteOffset !== 0) this.tailBuf.set(data);
    this.tail = { k, data: this.tailBuf.subarray(0, data.length) };
  }
  constructor(readonly type: M.ElemType, readonly rowShape: number[] | null, readonly chunkRows: number, readonly level: number) {
    super();
    this.index = rowShape ? new ChunkIndex(chunkRows, rowShape) : null;
  }
  get rowBytes(): number {
    return (this.rowShape ?? []).reduce((a, b) => a * b, 1) * M.elemSize(this.type);
  }
  messages(): [number, Uint8Array][] {
    const out: [number, Uint8Array][] = [[M.MSG.DATATYPE, M.datatype(this.type)]];
    if (!this.rowShape) {
      out.push([M.MSG.DATASPACE, M.dataspace(null)], [M.MSG.FILL, M.fillValue()], [M.MSG.LAYOUT, M.compactLayout(this.compact!)]);
    } else {
      out.push([M.MSG.DATASPACE, M.dataspace([this.rows, ...this.rowShape], [UNDEF, ...this.rowShape])]);
      out.push([M.MSG.FILL, M.fillValue()]);
      out.push([M.MSG.LAYOUT, M.chunkedLayout(this.index!.root, [this.chunkRows, ...this.rowShape], M.elemSize(this.type))]);
      if (this.level > 0) out.push([M.MSG.FILTERS, M.filters(M.elemSize(this.type), this.level)]);
    }
    return out;
  }
}

export function vlenRef(r: HeapRef): Uint8Array {
  return new Bytes().u32(r.length).u64(r.addr).u32(r.index).done();
}

/** Message flag "do not share": HDF5 sets it on the attribute info message. */
const DONT_SHARE = 0x04;

/** The messages of a node's version-2 object header: type, body and message flags. */
function headerMessages(node: ObjNode): [number, Uint8Array, number?][] {
  const msgs: [number, Uint8Array, number?][] = node.messages();
  // hard links to the object (groups too: h5repack copies a group it sees once per link otherwise)
  if (node.refs > 1) msgs.push([M.MSG.REFCOUNT, M.refCount(node.refs)]);
  // without the attribute info message HDF5 counts 0 attributes (H5Oget_info, h5repack, h5py len())
  if (node.attrs.size > 0) msgs.push([M.MSG.AINFO, M.attributeInfo(), DONT_SHARE]);
  for (const [name, a] of node.attrs) {
    const data = a.ref ? new Bytes().u64(a.ref.addr).done() : a.data;
    msgs.push([M.MSG.ATTRIBUTE, M.attribute(name, a.type, a.space, data)]);
  }
  return msgs;
}

/**
 * The length of the longest chain of links from the root to `node` (memoized in `memo`). An
 * object is deeper than each of its ancestors, so sorting by it puts children before parents
 * without walking the tree. A cycle of links (a group linked below itself) is cut where it closes.
 */
export function depthOf(node: ObjNode, memo: Map<ObjNode, number>): number {
  let d = memo.get(node);
  if (d !== undefined) return d;
  memo.set(node, 0);
  d = 0;
  for (const p of node.parents) d = Math.max(d, depthOf(p, memo) + 1);
  memo.set(node, d);
  return d;
}

/** Signature, version, flags, chunk size, checksum. */
const HEADER_FIXED = 4 + 1 + 1 + 4 + 4;

/** Size of a node's object header unpadded; it does not depend on where its children are. */
export function headerSize(node: ObjNode): number {
  let size = HEADER_FIXED;
  for (const [, data] of headerMessages(node)) size += 4 + data.length;
  return size;
}

/** Encodes a version-2 object header; `cap` pads it (NIL message) to a fixed size when larger. */
export function objectHeader(node: ObjNode, cap: number): Uint8Array {
  const body = new Bytes();
  for (const [type, data, flags = 0] of headerMessages(node)) body.u8(type).u16(data.length).u8(flags).bytes(data);
  const total = HEADER_FIXED + body.length;
  if (cap > total) {
    const pad = cap - total;
    if (pad >= 4) body.u8(M.MSG.NIL).u16(pad - 4).u8(0).zeros(pad - 4);
    else body.zeros(pad); // a gap shorter than a message header
  }
  const bytes = new Bytes().bytes(SIG_OHDR).u8(2).u8(0x02).u32(body.length).bytes(body.done()).done();
  return new Bytes().bytes(bytes).u32(lookup3(bytes)).done();
}

/**
 * The pure-TypeScript HDF5 write engine. It writes the subset of the HDF5 format that snn-export
 * needs — superblock 2, version-2 object headers, compact groups with hard links, chunked
 * datasets indexed by version-1 B-trees with the shuffle + deflate filters (node:zlib), compact
 * scalar strings and variable-length strings in global heaps — readable by HDF5 1.8 and later.
 *
 * Crash safety: chunks and new metadata are written to new space at the end of the file; a flush
 * then writes the superblock (new end of file) and finally updates existing metadata in place,
 * children before parents, each block in one write. A writer killed at any moment leaves a file
 * that opens with everything up to its last completed flush.
 */
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { allocate, dtypeOf, dtypeSize, type Dtype, type NumericArray } from "../../dtypes.js";
import { StorageError } from "../../errors.js";
import type { AppendColumn, AttrValue, ColumnSpec, Compression, StringColumn, VirtualMapping, Writer } from "../types.js";
import { pathParts } from "../path.js";
import { FreeSpace } from "./space.js";
import { Bytes, UNDEF, utf8 } from "./bytes.js";
import { lookup3 } from "./lookup3.js";
import { GlobalHeap } from "./heap.js";
import * as M from "./messages.js";
import { CompressionQueue } from "./pool.js";
import { DatasetNode, depthOf, GroupNode, headerSize, objectHeader, ObjNode, TRIAL_EVERY, VirtualNode, vlenRef, type Attr, type DeflateChoice } from "./nodes.js";
import { MODE_DEFAULT, MODE_RLE, MODE_TRIAL } from "./deflate.js";

/** A chunk handed to the compression queue: which chunk of which dataset, and whether it is partial. */
interface ChunkJob {
  node: DatasetNode;
  k: number;
  trial: boolean;
  partial: boolean;
}

/**
 * The space reserved for `n` bytes of a partial chunk: `n` rounded up to a quarter power of two
 * (at most 25 % more). Without it a partial chunk, a little larger at every flush, never fit the
 * space an earlier one left: at a 50 ms flush interval two thirds of a 100 MB file were such holes.
 */
export function sizeClass(n: number): number {
  if (n <= 256) return 256;
  const step = 2 ** (Math.floor(Math.log2(n)) - 2);
  return Math.ceil(n / step) * step;
}

/** How far ahead of its stated end the file is grown (sparse), see TsWriter.extendAhead. */
const PAD = 32 << 20;

/** An HDF5 file written by the pure-TypeScript engine. */
export class TsWriter implements Writer {
  readonly filePath: string;
  private fd: number | null;
  private eof = 48; // after the superblock
  private readonly root = new GroupNode();
  private readonly heap: GlobalHeap;
  /**
   * Objects whose header changed since the last flush (an attribute, a link, the row count, the
   * chunk index, a compact value; new objects): a flush encodes these and no others.
   */
  private readonly dirty = new Set<ObjNode>();
  /** Blocks written so far (chunks and metadata). */
  private writes = 0;
  /** @internal What the last flush did, for tests: headers encoded, chunk indexes flushed, blocks written (chunks written before it not counted). */
  lastFlush = { headers: 0, indexes: 0, writes: 0 };
  private rootAddrOnDisk = UNDEF;
  /** Chunks being shuffled + deflated on other threads; written (in order) when done. */
  private readonly queue: CompressionQueue<ChunkJob>;
  /** Deflate strategy per column family (ColumnSpec.family, else the path). */
  private readonly families = new Map<string, DeflateChoice>();

  private makeQueue(parallel: boolean): CompressionQueue<ChunkJob> {
    return new CompressionQueue<ChunkJob>((stored, { node, k, trial, partial }, rle) => {
      if (trial) node.deflate!.rle = rle;
      // a partial chunk is rewritten at every flush until it is full: its space is reserved in
      // size classes, so that the space it leaves (reusable two flushes later) fits the next one
      const cap = partial ? sizeClass(stored.length) : stored.length;
      const addr = this.alloc(cap);
      this.write(addr, stored);
      const old = node.index!.set(k, addr, stored.length, cap);
      if (old) this.freed[0].push([old.addr, old.cap]);
      this.dirty.add(node);
    }, parallel);
  }

  private constructor(filePath: string, fd: number, parallel: boolean) {
    this.filePath = filePath;
    this.fd = fd;
    this.queue = this.makeQueue(parallel);
    this.heap = new GlobalHeap((n) => this.alloc(n));
    this.dirty.add(this.root);
  }

  /** Creates (truncates) `filePath`; `swmr` writes superblock 3 so that SWMR readers may open it while it grows. */
  static async create(filePath: string, options: { swmr?: boolean; compressInline?: boolean } = {}): Promise<TsWriter> {
    let fd: number;
    try {
      fd = openSync(filePath, "w+");
    } catch (err) {
      throw new StorageError("IO_ERROR", `could not create HDF5 file ${filePath}: ${(err as Error).message}`, { cause: err });
    }
    // the compression threads start once this process has compressed enough inline (pool.ts)
    const parallel = !options.compressInline && process.env.SNN_EXPORT_COMPRESS_THREADS !== "0";
    const w = new TsWriter(filePath, fd, parallel);
    if (options.swmr) w.superblockVersion = 3;
    w.flush();
    return w;
  }

  get isOpen(): boolean {
    return this.fd !== null;
  }

  /**
   * Space of superseded chunks (a partial chunk rewritten whole): freed[0] since the last flush,
   * freed[1] since the one before. Space becomes reusable two flushes after it was superseded,
   * when no metadata on disk, and no reader that opened the file since the previous flush, can
   * still point into it. SWMR files never reuse space (a reader may hold older metadata).
   */
  private freed: [number, number][][] = [[], []];
  private readonly space = new FreeSpace();
  /** The first write error: after it nothing more is written (fail-stop), the file keeps its last flush. */
  private failure: StorageError | null = null;

  private alloc(n: number): number {
    const reused = this.space.take(n);
    if (reused >= 0) return reused;
    // new space at the end of the file, starting inside a free block that ends there
    const at = this.eof - this.space.takeEndingAt(this.eof);
    this.eof = at + n;
    return at;
  }

  /** Fails with the first write error again, and refuses to write once it happened. */
  private stop(err: unknown): never {
    this.failure ??= err instanceof StorageError ? err : new StorageError("IO_ERROR", `writing ${this.filePath} failed: ${(err as Error)?.message ?? err}`, { cause: err });
    throw this.failure;
  }

  private write(addr: number, bytes: Uint8Array): void {
    if (this.fd === null) throw new StorageError("IO_ERROR", `HDF5 file ${this.filePath} is already closed`);
    if (this.failure) throw this.failure;
    this.writes++;
    try {
      let done = 0;
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, addr + done);
    } catch (err) {
      this.stop(new StorageError(
        "IO_ERROR",
        `writing ${this.filePath} failed: ${(err as Error).message}; nothing more is written to it, and it holds everything up to its last successful flush`,
        { cause: err },
      ));
    }
  }

  private find(path: string): ObjNode | null {
    let node: ObjNode = this.root;
    for (const part of pathParts(path)) {
      if (!(node instanceof GroupNode)) return null;
      const next = node.links.get(part);
      if (!next) return null;
      node = next;
    }
    return node;
  }

  private parentAndName(path: string): [GroupNode, string] {
    const parts = pathParts(path);
    const name = parts.pop();
    if (!name) throw new StorageError("HDF5_ERROR", `invalid object path ${JSON.stringify(path)}`);
    const parent = this.createGroupNode(parts);
    if (parent.links.has(name) || parent.externals.has(name)) throw new StorageError("HDF5_ERROR", `${path} already exists in ${this.filePath}`);
    return [parent, name];
  }

  private attach(parent: GroupNode, name: string, node: ObjNode): void {
    parent.links.set(name, node);
    node.parents.add(parent);
    this.dirty.add(parent);
    this.dirty.add(node);
  }

  private createGroupNode(parts: string[]): GroupNode {
    let node: GroupNode = this.root;
    for (const part of parts) {
      const next = node.links.get(part);
      if (next && !(next instanceof GroupNode)) throw new StorageError("HDF5_ERROR", `${part} is a dataset, not a group, in ${this.filePath}`);
      if (next) node = next as GroupNode;
      else {
        const g = new GroupNode();
        this.attach(node, part, g);
        node = g;
      }
    }
    return node;
  }

  exists(path: string): boolean {
    return this.find(path) !== null;
  }

  createGroup(path: string): void {
    this.createGroupNode(pathParts(path));
  }

  private obj(path: string, what: string): ObjNode {
    const node = this.find(path);
    if (!node) throw new StorageError("HDF5_ERROR", `cannot ${what}: ${path} does not exist in ${this.filePath}`);
    return node;
  }

  setAttr(path: string, name: string, value: AttrValue, numberDtype: "float64" | "int8" = "float64"): void {
    const node = this.obj(path, `set attribute ${name}`);
    let attr: Attr;
    if (typeof value === "string") {
      attr = { type: M.datatype("vlen-string"), space: M.dataspace(null), data: vlenRef(this.heap.add(utf8.encode(value))) };
    } else if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
      const [dtype, arr] = typeof value === "bigint" ? (["int64", new BigInt64Array([value])] as const)
        : typeof value === "boolean" ? (["int8", new Int8Array([value ? 1 : 0])] as const)
        : numberDtype === "int8" ? (["int8", new Int8Array([value])] as const) : (["float64", new Float64Array([value])] as const);
      attr = { type: M.datatype(dtype), space: M.dataspace(null), data: new Uint8Array(arr.buffer) };
    } else {
      const dtype = dtypeOf(value);
      attr = { type: M.datatype(dtype), space: M.dataspace([value.length]), data: new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice() };
    }
    node.attrs.set(name, attr);
    this.dirty.add(node);
  }

  /** A scalar numeric attribute of the given dtype (64-bit integers from a number below 2^53 or a bigint). */
  setScalarAttr(path: string, name: string, value: number | bigint, dtype: Dtype): void {
    const node = this.obj(path, `set attribute ${name}`);
    const arr = allocate(dtype, 1);
    if (arr instanceof BigInt64Array || arr instanceof BigUint64Array) arr[0] = BigInt(value);
    else arr[0] = Number(value);
    node.attrs.set(name, { type: M.datatype(dtype), space: M.dataspace(null), data: new Uint8Array(arr.buffer) });
    this.dirty.add(node);
  }

  /** A 1-D attribute of variable-length UTF-8 strings (e.g. a DynamicTable's `colnames`). */
  setStringsAttr(path: string, name: string, values: string[]): void {
    const node = this.obj(path, `set attribute ${name}`);
    const b = new Bytes();
    for (const v of values) b.bytes(vlenRef(this.heap.add(utf8.encode(v))));
    node.attrs.set(name, { type: M.datatype("vlen-string"), space: M.dataspace([values.length]), data: b.done() });
    this.dirty.add(node);
  }

  /**
   * A scalar attribute holding an HDF5 object reference to `target` (datatype class 7: the address
   * of the target's object header, h5py's `h5py.Reference`). The address is written at each flush,
   * so it follows the target if its header moves.
   */
  setRefAttr(path: string, name: string, target: string): void {
    const node = this.obj(path, `set attribute ${name}`);
    const to = this.obj(target, `reference it from ${path}`);
    const old = node.attrs.get(name)?.ref;
    if (old) old.referrers.delete(node);
    node.attrs.set(name, { type: M.objectReferenceType(), space: M.dataspace(null), data: new Uint8Array(8), ref: to });
    to.referrers.add(node);
    this.dirty.add(node);
  }

  /** A scalar enumeration attribute (uint8 base type) with the given members, holding `value`. */
  setEnumAttr(path: string, name: string, members: [string, number][], value: number): void {
    const node = this.obj(path, `set attribute ${name}`);
    if (!members.some(([, v]) => v === value)) throw new StorageError("HDF5_ERROR", `internal: ${value} is no member of the enumeration of attribute ${name}`);
    node.attrs.set(name, { type: M.enumType(members), space: M.dataspace(null), data: Uint8Array.of(value) });
    this.dirty.add(node);
  }

  deleteAttr(path: string, name: string): void {
    const node = this.obj(path, `delete attribute ${name}`);
    if (node.attrs.delete(name)) this.dirty.add(node);
  }

  createColumn(path: string, spec: ColumnSpec): AppendColumn {
    const rowSize = spec.rowShape.reduce((a, b) => a * b, 1);
    if (rowSize === 0) throw new StorageError("HDF5_ERROR", `column ${path} would have empty rows (shape ${JSON.stringify(spec.rowShape)})`);
    const [parent, name] = this.parentAndName(path);
    const chunkRows = Math.max(1, Math.floor(spec.chunkRows));
    const level = spec.compression.kind === "gzip" ? spec.compression.level : 0;
    const node = new DatasetNode(spec.dtype, spec.rowShape, chunkRows, level);
    node.keepsTail = !spec.fromChunkStart;
    // SWMR readers refresh a dataset at the address they know: there, atomic columns stay in place
    if (spec.atomic && this.superblockVersion === 2) {
      node.atomic = true;
      node.index!.copyOnWrite = true;
    }
    if (level > 0) {
      const family = spec.family ?? path;
      let choice = this.families.get(family);
      if (!choice) this.families.set(family, (choice = { rle: false, chunks: 0 }));
      node.deflate = choice;
    }
    this.attach(parent, name, node);
    return new Column(this, node, path, { ...spec, chunkRows });
  }

  /** @internal writes rows [offset, offset+rows) of a chunked dataset, chunk by chunk. */
  writeRows(node: DatasetNode, bytes: Uint8Array, rows: number, offset: number): void {
    const rb = node.rowBytes;
    const R = node.chunkRows;
    const end = offset + rows;
    for (let k = Math.floor(offset / R); k * R < end; k++) {
      const cs = k * R;
      const ws = Math.max(offset, cs);
      const we = Math.min(end, cs + R);
      const tail = node.tail?.k === k ? node.tail.data : null;
      const upto = (we - cs) * rb;
      let data: Uint8Array; // the chunk's rows from its start; its rows past them are zero
      if (ws === cs && (tail ? tail.length <= upto : we === cs + R || we >= node.rows)) {
        data = bytes.subarray((ws - offset) * rb, (we - offset) * rb); // no copy
      } else if (tail || cs >= node.rows) {
        data = new Uint8Array(Math.max(upto, tail?.length ?? 0));
        if (tail) data.set(tail);
        data.set(bytes.subarray((ws - offset) * rb, (we - offset) * rb), (ws - cs) * rb);
      } else throw new StorageError("HDF5_ERROR", `internal: rows ${ws}-${we} would rewrite part of an earlier chunk in ${this.filePath}`);
      if (this.failure) throw this.failure;
      try {
        const d = node.deflate;
        const trial = d !== null && d.chunks++ % TRIAL_EVERY === 0;
        this.queue.submit(data, M.elemSize(node.type), node.level, { node, k, trial, partial: data.length < R * rb }, R * rb, trial ? MODE_TRIAL : d?.rle ? MODE_RLE : MODE_DEFAULT);
      } catch (err) {
        this.stop(err);
      }
      node.rows = Math.max(node.rows, we);
      if (data.length < R * rb) node.keepTail(k, data);
      else if (tail) node.tail = null;
    }
    this.dirty.add(node);
  }

  writeArray(path: string, data: NumericArray, shape: number[], compression: Compression, chunkRows = 65536): void {
    const rowShape = shape.slice(1);
    const rowSize = rowShape.reduce((a, b) => a * b, 1);
    const rows = shape[0] ?? 0;
    if (rows * rowSize !== data.length) throw new StorageError("HDF5_ERROR", `internal: ${data.length} elements do not fill shape ${JSON.stringify(shape)} at ${path}`);
    const dtype = dtypeOf(data);
    const per = Math.max(1, Math.min(chunkRows, rows, Math.floor((1 << 20) / Math.max(1, rowSize * dtypeSize(dtype)))));
    const col = this.createColumn(path, { dtype, rowShape, chunkRows: per, compression });
    col.append(data, rows);
  }

  /** Writes (or overwrites) a scalar UTF-8 string dataset (compact layout). */
  writeText(path: string, text: string): void {
    const existing = this.find(path);
    const ref = vlenRef(this.heap.add(utf8.encode(text)));
    if (existing instanceof DatasetNode && !existing.rowShape) {
      existing.compact = ref;
      this.dirty.add(existing);
      return;
    }
    const [parent, name] = this.parentAndName(path);
    const node = new DatasetNode("vlen-string", null, 1, 0);
    node.compact = ref;
    this.attach(parent, name, node);
  }

  createStringColumn(path: string, chunkRows = 1024, options: { atomic?: boolean } = {}): StringColumn {
    const col = this.createColumn(path, { dtype: "uint8", rowShape: [], chunkRows, compression: { kind: "none", level: 0 }, atomic: options.atomic });
    const node = (col as Column).node;
    (node as { type: M.ElemType }).type = "vlen-string";
    return new Strings(this, node, path);
  }

  /** @internal */
  stringRows(node: DatasetNode, values: string[], offset: number): void {
    const enc = utf8;
    const b = new Bytes();
    for (const v of values) b.bytes(vlenRef(this.heap.add(enc.encode(v))));
    this.writeRows(node, b.done(), values.length, offset);
  }

  writeStrings(path: string, list: string[]): void {
    const col = this.createStringColumn(path, Math.max(1, Math.min(list.length, 1024)));
    col.append(list);
  }

  /**
   * An external link at `path` to the object `objPath` of the file `file` (a path relative to this
   * file's directory keeps working when the folder moves as a whole).
   */
  externalLink(path: string, file: string, objPath = "/"): void {
    const [parent, name] = this.parentAndName(path);
    parent.externals.set(name, [file, objPath]);
    this.dirty.add(parent);
  }

  /**
   * A virtual dataset of fixed `dims`: each mapping shows a block of a dataset of another (or
   * this, ".") file in a block of it, read through without copying; elements no mapping covers
   * read as `fill`. Readable by HDF5 1.10 and later (layout message version 4).
   */
  createVirtualDataset(path: string, dtype: Dtype, dims: number[], fill: number, maps: VirtualMapping[]): void {
    const [parent, name] = this.parentAndName(path);
    const one = allocate(dtype, 1);
    one[0] = (one instanceof BigInt64Array || one instanceof BigUint64Array ? BigInt(fill) : fill) as never;
    const fillBytes = new Uint8Array(one.buffer);
    const heap = this.heap.add(M.virtualMappings(maps));
    this.attach(parent, name, new VirtualNode(dtype, dims, fillBytes, heap));
  }

  link(target: string, name: string): void {
    const node = this.obj(target, `link ${name}`);
    const [parent, leaf] = this.parentAndName(name);
    this.attach(parent, leaf, node);
    node.refs++;
  }

  /** {@link Writer.flushIfIdle}: a flush that never waits for a compression thread. */
  flushIfIdle(): boolean {
    this.drainQueue(false);
    if (this.queue.pending > 0) return false;
    this.flush();
    return true;
  }

  /** Every call is applied when it returns (chunks still compressing are the flush's to wait for). */
  waitIdle(): void {}

  /** Writes the compressed chunks that are ready (with `wait`, all of them); a failure stops the writer. */
  private drainQueue(wait: boolean): void {
    if (this.failure) throw this.failure;
    try {
      this.queue.drain(wait);
    } catch (err) {
      this.stop(err);
    }
  }

  /**
   * Makes everything written so far readable: new metadata to new space, then the superblock,
   * then in-place updates of existing metadata, children before parents. Only what changed since
   * the last flush is encoded and written (the dirty objects, their new chunk index nodes and heap
   * collections), so a flush costs what changed, not the size of the file.
   */
  flush(): void {
    this.drainQueue(true);
    const writesBefore = this.writes;
    const { fresh, inPlace, indexes } = this.flushIndexes();
    const { headers, moved } = this.placeHeaders();
    const heap = this.heap.flush();
    // 1. new space
    for (const [addr, bytes] of [...heap.fresh, ...fresh]) this.write(addr, bytes);
    for (const [node, bytes] of headers) if (moved.has(node)) this.write(node.addr, bytes);
    // 2. superblock: the new end of file, still the old root (the first flush: nothing to keep)
    this.writeSuperblock(this.rootAddrOnDisk === UNDEF ? this.root.addr : this.rootAddrOnDisk);
    // 3. in place: heap, B-tree nodes, then headers (children first)
    for (const [addr, bytes] of [...heap.inPlace, ...inPlace]) this.write(addr, bytes);
    for (const [node, bytes] of headers) if (!moved.has(node)) this.write(node.addr, bytes);
    // 4. superblock: the new root, which commits every object that moved (the atomic columns)
    this.writeSuperblock(this.root.addr);
    // superseded space ages one flush; after two it may be reused
    if (this.superblockVersion === 2) for (const [addr, size] of this.freed[1]) this.space.give(addr, size);
    this.freed = [[], this.freed[0]];
    this.lastFlush = { headers: headers.length, indexes, writes: this.writes - writesBefore };
  }

  /** The chunk indexes of the dirty datasets: their new nodes (new space) and in-place updates (B-tree nodes, then row counts). */
  private flushIndexes(): { fresh: [number, Uint8Array][]; inPlace: [number, Uint8Array][]; indexes: number } {
    const fresh: [number, Uint8Array][] = [];
    const inPlace: [number, Uint8Array][] = [];
    const counts: [number, Uint8Array][] = [];
    let indexes = 0;
    for (const node of this.dirty) {
      if (!(node instanceof DatasetNode) || !node.index) continue;
      const r = node.index.flush((n) => this.alloc(n));
      fresh.push(...r.fresh);
      inPlace.push(...r.inPlace);
      counts.push(...r.counts);
      indexes++;
    }
    return { fresh, inPlace: [...inPlace, ...counts], indexes };
  }

  /**
   * Gives every dirty object header its place and encodes it (children before parents); clears
   * the dirty set. Headers that move get new space: new ones, those that outgrew their space,
   * atomic datasets, and every ancestor of a moved atomic dataset (so that the new versions
   * become reachable only through the new root, which the superblock commits last). Objects whose
   * object references point at a moved header are rewritten too (same size, in place).
   */
  private placeHeaders(): { headers: [ObjNode, Uint8Array][]; moved: Set<ObjNode> } {
    // deepest first: a node's parents are decided after it
    const depth = new Map<ObjNode, number>();
    const byDepth: ObjNode[][] = [];
    const bucket = (node: ObjNode) => (byDepth[depthOf(node, depth)] ??= []);
    for (const node of this.dirty) bucket(node).push(node);
    const moved = new Set<ObjNode>();
    const mustMove = new Set<ObjNode>();
    for (let d = byDepth.length - 1; d >= 0; d--) {
      for (const node of byDepth[d] ?? []) {
        const size = headerSize(node);
        const copy = (node instanceof DatasetNode && node.atomic) || mustMove.has(node);
        if (node.addr !== UNDEF && size <= node.cap && !copy) continue;
        if (node.addr !== UNDEF) this.freed[0].push([node.addr, node.cap]);
        node.cap = node instanceof GroupNode ? Math.max(256, size * 2) : size + 64;
        node.addr = this.alloc(node.cap);
        moved.add(node);
        for (const p of node.parents) {
          if (copy) mustMove.add(p);
          if (!this.dirty.has(p)) {
            this.dirty.add(p);
            bucket(p).push(p);
          }
        }
      }
    }
    for (const node of this.dirty) if (node instanceof DatasetNode && node.index?.copyOnWrite) this.freed[0].push(...node.index.released);
    for (const node of moved) {
      for (const r of node.referrers) {
        if (this.dirty.has(r) || r.addr === UNDEF) continue;
        this.dirty.add(r);
        bucket(r).push(r);
      }
    }
    this.dirty.clear();
    const headers: [ObjNode, Uint8Array][] = [];
    for (let d = byDepth.length - 1; d >= 0; d--) for (const node of byDepth[d] ?? []) headers.push([node, objectHeader(node, node.cap)]);
    return { headers, moved };
  }

  /**
   * Keeps the file longer than the end of file the superblock states. A reader opening the file
   * takes its size first and reads the superblock after; were the superblock to name an end
   * beyond the size it saw, HDF5 would call the file truncated. The file is grown ahead in steps
   * of {@link PAD} bytes (sparse zeros) and cut to its exact end at close.
   */
  private extendAhead(): void {
    if (this.physical - this.eof >= PAD / 2) return;
    this.physical = this.eof + PAD;
    try {
      ftruncateSync(this.fd!, this.physical);
    } catch (err) {
      this.stop(new StorageError("IO_ERROR", `growing ${this.filePath} failed: ${(err as Error).message}`, { cause: err }));
    }
  }

  private writeSuperblock(root: number): void {
    if (this.rootAddrOnDisk === root && this.lastEof === this.eof) return;
    this.extendAhead();
    const b = new Bytes().bytes(Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]));
    b.u8(this.superblockVersion).u8(8).u8(8).u8(0).u64(0).u64(UNDEF).u64(this.eof).u64(root);
    const bytes = b.done();
    this.write(0, new Bytes().bytes(bytes).u32(lookup3(bytes)).done());
    this.rootAddrOnDisk = root;
    this.lastEof = this.eof;
  }

  private lastEof = -1;
  private physical = 0;
  /** 2 by default; 3 lets HDF5 1.10 readers open the file in SWMR mode (its flags stay 0: never "open for write"). */
  superblockVersion: 2 | 3 = 2;

  close(): void {
    if (this.fd === null) return;
    try {
      if (this.failure) throw this.failure;
      this.flush();
      ftruncateSync(this.fd, this.eof);
    } finally {
      const fd = this.fd;
      this.fd = null;
      closeSync(fd);
    }
  }
}

class Column implements AppendColumn {
  constructor(private readonly w: TsWriter, readonly node: DatasetNode, readonly path: string, readonly spec: ColumnSpec) {}
  get length(): number {
    return this.node.rows;
  }
  append(block: NumericArray, rows: number): void {
    this.writeAt(block, rows, this.node.rows);
  }
  writeAt(block: NumericArray, rows: number, offset: number): void {
    if (rows <= 0) return;
    const nbytes = rows * this.node.rowBytes;
    const bytes = new Uint8Array(block.buffer, block.byteOffset, nbytes);
    this.w.writeRows(this.node, bytes, rows, offset);
  }
}

class Strings implements StringColumn {
  constructor(private readonly w: TsWriter, private readonly node: DatasetNode, readonly path: string) {}
  get length(): number {
    return this.node.rows;
  }
  append(values: string[]): void {
    if (values.length === 0) return;
    this.w.stringRows(this.node, values, this.node.rows);
  }
}

/**
 * The pure-TypeScript HDF5 reader for the profile snn-export's writer produces (superblock 2/3,
 * version-2 object headers, compact links and attributes, integer/float/variable-length string
 * types, compact, contiguous and chunked layouts with version-1 B-trees, shuffle + deflate, global
 * heaps). Opening reads the superblock and the root object header; other objects are read when a
 * path first reaches them and kept. Every structure is checked: a damaged file gives a
 * FormatError `CORRUPT`, never a hang or different data. Valid HDF5 outside the profile gives
 * {@link Unsupported} (the h5wasm reader is used for such files).
 */
import { allocate, type Dtype, type NumericArray } from "../../dtypes.js";
import { FormatError } from "../../errors.js";
import type { DatasetInfo } from "../types.js";
import { ChunkReader, type DataDesc } from "./read-chunks.js";
import { GlobalHeaps } from "./read-heap.js";
import { FileSource, type ReadJournal } from "./read-io.js";
import { attrValue, buildObject, type H5Object } from "./read-object.js";
import { readObjectHeader } from "./read-object-header.js";
import { readSuperblock } from "./read-superblock.js";

/** Parsed object headers kept per file. */
const OBJECT_CACHE = 65536;

function parts(path: string): string[] {
  return path.split("/").filter((p) => p !== "" && p !== ".");
}

function norm(path: string): string {
  return "/" + parts(path).join("/");
}

/** An HDF5 file of snn-export's profile, open read-only. */
export class TsReader {
  private readonly src: FileSource;
  private root = 0;
  private readonly objects = new Map<number, H5Object>();
  /** Path → object (null: nothing there) and path → chunk reader description, so a path is walked once. */
  private readonly paths = new Map<string, H5Object | null>();
  private readonly descs = new Map<string, DataDesc>();
  private readonly heaps: GlobalHeaps;
  private readonly chunks: ChunkReader;

  /**
   * Opens `filePath` and reads its superblock and root object header (Unsupported / CORRUPT /
   * NOT_HDF5 errors); with `journal`, every read is recorded in it until {@link setJournal}.
   */
  constructor(readonly filePath: string, journal: ReadJournal | null = null) {
    this.src = new FileSource(filePath);
    this.src.journal = journal;
    try {
      this.heaps = new GlobalHeaps(this.src);
      this.chunks = new ChunkReader(this.src);
      this.start();
    } catch (err) {
      this.src.close();
      throw err;
    }
  }

  private start(): void {
    const sb = readSuperblock(this.src);
    this.src.limit = sb.eof;
    this.root = sb.root;
    this.object(this.root, "/");
  }

  /** The descriptor the file is read through. */
  get fd(): number {
    return this.src.fd;
  }

  /** Records every read of the file in `journal` from now on (null: stops recording). */
  setJournal(journal: ReadJournal | null): void {
    this.src.journal = journal;
  }

  /** True when every range `journal` recorded still holds the bytes recorded (read through this reader's own descriptor). */
  unchanged(journal: ReadJournal): boolean {
    return journal.unchanged(this.src.fd);
  }

  /** Chunks read from the file (cache misses) since open. */
  get chunksRead(): number {
    return this.chunks.chunksRead;
  }

  private object(addr: number, path: string): H5Object {
    let obj = this.objects.get(addr);
    if (!obj) {
      const where = `${this.filePath}: ${path}`;
      obj = buildObject(addr, readObjectHeader(this.src, addr, where), where);
      if (this.objects.size >= OBJECT_CACHE) this.objects.clear();
      this.objects.set(addr, obj);
    }
    return obj;
  }

  /** The object at `path`, or null when a link on the way is missing or a member is not a group. */
  private find(path: string): H5Object | null {
    let found = this.paths.get(path);
    if (found === undefined) {
      found = this.walk(path);
      if (this.paths.size >= OBJECT_CACHE) this.paths.clear();
      this.paths.set(path, found);
    }
    return found;
  }

  private walk(path: string): H5Object | null {
    let obj = this.object(this.root, "/");
    let at = "";
    for (const name of parts(path)) {
      if (obj.kind !== "group") return null;
      const addr = obj.links.get(name);
      if (addr === undefined) return null;
      at += "/" + name;
      obj = this.object(addr, at);
    }
    return obj;
  }

  private dataset(path: string): [H5Object, DataDesc, NonNullable<H5Object["dataset"]>] {
    const obj = this.find(path);
    if (!obj || obj.kind !== "dataset" || !obj.dataset) throw new FormatError("NOT_FOUND", `no dataset ${norm(path)} in ${this.filePath}`);
    const m = obj.dataset;
    let desc = this.descs.get(path);
    if (!desc) {
      desc = { id: obj.addr, where: `${this.filePath}: ${norm(path)}`, dims: m.dims, elemSize: m.type.size, layout: m.layout, filters: m.filters };
      if (this.descs.size >= OBJECT_CACHE) this.descs.clear();
      this.descs.set(path, desc);
    }
    return [obj, desc, m];
  }

  /** "group", "dataset" or null when nothing is at `path`. */
  kind(path: string): "group" | "dataset" | null {
    return this.find(path)?.kind ?? null;
  }

  /** Sorted member names of the group at `path` ([] when it is not a group). */
  keys(path: string): string[] {
    const obj = this.find(path);
    return obj?.kind === "group" ? [...obj.links.keys()].sort() : [];
  }

  /** Attribute values, sorted by name ({} when nothing is at `path`). */
  attrs(path: string): Record<string, unknown> {
    const obj = this.find(path);
    const out: Record<string, unknown> = {};
    if (!obj) return out;
    const where = `${this.filePath}: ${norm(path)}`;
    for (const a of [...obj.attrs].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) out[a.name] = attrValue(a, this.heaps, where);
    return out;
  }

  /** Shape, dtype, chunk shape and filter names of the dataset at `path`. */
  info(path: string): DatasetInfo {
    const [, , m] = this.dataset(path);
    return { shape: [...m.dims], dtype: m.type.dtype, chunks: m.layout.kind === "chunked" ? [...m.layout.chunk] : null, filters: m.filters.map((f) => f.name) };
  }

  /** Rows `[start, end)` (clamped) of a numeric dataset as a flat typed array; a scalar gives its one element. */
  readRows(path: string, start: number, end: number): NumericArray {
    const [, desc, m] = this.dataset(path);
    if (m.type.dtype === "string") throw new FormatError("NOT_SNN_EXPORT", `${norm(path)} holds strings, not numbers`);
    const dtype: Dtype = m.type.dtype;
    const [s, e] = this.clamp(m.dims, start, end);
    const out = allocate(dtype, ((e - s) * ChunkReader.rowBytes(desc)) / m.type.size);
    this.chunks.rows(desc, s, e, new Uint8Array(out.buffer));
    return out;
  }

  private clamp(dims: number[], start: number, end: number): [number, number] {
    if (dims.length === 0) return [0, 1];
    const s = Math.max(0, Math.min(start, dims[0]));
    return [s, Math.max(s, Math.min(end, dims[0]))];
  }

  private strings(path: string, start: number, end: number, scalar: boolean): string[] {
    const [, desc, m] = this.dataset(path);
    const what = scalar ? "a text dataset" : "a string list";
    if (m.type.dtype !== "string" || (m.dims.length === 0) !== scalar) throw new FormatError("NOT_SNN_EXPORT", `${norm(path)} is not ${what}`);
    const [s, e] = this.clamp(m.dims, start, end);
    const refs = this.chunks.rows(desc, s, e);
    const out: string[] = [];
    for (let at = 0; at < refs.length; at += 16) out.push(this.heaps.text(refs, at, desc.where));
    return out;
  }

  /** A scalar string dataset's text. */
  readText(path: string): string {
    return this.strings(path, 0, 1, true)[0];
  }

  /** A 1-D string dataset's values. */
  readStrings(path: string): string[] {
    return this.strings(path, 0, Number.MAX_SAFE_INTEGER, false);
  }

  /** Rows `[start, end)` (clamped) of a 1-D string dataset. */
  readStringRows(path: string, start: number, end: number): string[] {
    if (this.dataset(path)[2].dims.length === 0) return []; // as the h5wasm reader: a scalar has no rows
    return this.strings(path, start, end, false);
  }

  /** The object header address of `path`, or null when nothing is there. */
  objectAddress(path: string): bigint | null {
    const obj = this.find(path);
    return obj && obj.kind ? BigInt(obj.addr) : null;
  }

  /** Forgets everything read and reads the superblock and root again (the file may have grown). */
  refresh(): void {
    this.objects.clear();
    this.paths.clear();
    this.descs.clear();
    this.heaps.clear();
    this.chunks.clear();
    this.src.restat();
    this.start();
  }

  /** Closes the file. */
  close(): void {
    this.src.close();
  }
}

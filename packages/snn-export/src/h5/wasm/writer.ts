/**
 * The h5wasm write engine (the HDF5 C library compiled to WebAssembly): groups, attributes,
 * appendable columns, small whole datasets, text, hard and external links. Every engine status is
 * checked and becomes a StorageError.
 */
import { allocate, dtypeOf, dtypeSize, type Dtype, type NumericArray } from "../../dtypes.js";
import { StorageError } from "../../errors.js";
import { check, engine, h5lib, loadEngine, scratch, type H5Lib } from "./engine.js";
import { absolutePath, parentPath } from "../path.js";
import type { AppendColumn, AttrValue, ColumnSpec, Compression, StringColumn, VirtualMapping, Writer } from "../types.js";

type H5File = InstanceType<H5Lib["File"]>;
type H5Object = InstanceType<H5Lib["Group"]>;

const H5_DTYPE: Record<Dtype, string> = {
  int8: "<b", uint8: "<B", int16: "<h", uint16: "<H", int32: "<i", uint32: "<I",
  int64: "<q", uint64: "<Q", float32: "<f", float64: "<d",
};

function bytesOf(a: NumericArray, elements: number): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, elements * a.BYTES_PER_ELEMENT);
}

/** An HDF5 file open for writing through h5wasm. Create with {@link H5Writer.create}. */
export class H5Writer implements Writer {
  readonly filePath: string;
  private file: H5File | null;
  private readonly columns = new Map<string, Column>();

  private constructor(filePath: string, file: H5File) {
    this.filePath = filePath;
    this.file = file;
  }

  /**
   * Creates (truncates) `filePath` with library version bounds [v108, v110]: HDF5 1.10 (and 1.8)
   * readers open it, and the superblock (version 2) carries no "open for write" consistency flag,
   * so a file whose writer was killed still opens directly in h5py, with everything up to the
   * last flush. (Bounds [v110, v110] write superblock 3, whose flag makes h5py 3.7 refuse such a
   * file until `h5clear -s`; measured.)
   */
  static async create(filePath: string): Promise<H5Writer> {
    await loadEngine();
    const file = new (h5lib().File)(filePath, "w", { libver: ["v108", "v110"] });
    if (file.file_id < 0n) {
      throw new StorageError("IO_ERROR", `could not create HDF5 file ${filePath}: check that the directory exists and is writable`);
    }
    return new H5Writer(filePath, file);
  }

  get isOpen(): boolean {
    return this.file !== null;
  }

  private get id(): bigint {
    if (!this.file) throw new StorageError("IO_ERROR", `HDF5 file ${this.filePath} is already closed`);
    return this.file.file_id;
  }

  /** True if a group or dataset exists at `path`. */
  exists(path: string): boolean {
    return engine().get_type(this.id, absolutePath(path)) >= 0;
  }

  /** Creates a group and any missing parents; no-op if it exists. */
  createGroup(path: string): void {
    const p = absolutePath(path);
    if (p === "/" || this.exists(p)) return;
    this.createGroup(parentPath(p));
    check(engine().create_group(this.id, p, false), `create group ${p}`, this.filePath);
  }

  /** Sets (replaces) an attribute on the group or dataset at `path`. */
  setAttr(path: string, name: string, value: AttrValue, numberDtype: "float64" | "int8" = "float64"): void {
    this.replaceAttr(path, name, (obj) => {
      if (typeof value === "string") obj.create_attribute(name, value);
      else if (typeof value === "number" && numberDtype === "int8") obj.create_attribute(name, new Int8Array([value]), [], "<b");
      else if (typeof value === "number") obj.create_attribute(name, new Float64Array([value]), [], "<d");
      else if (typeof value === "bigint") obj.create_attribute(name, new BigInt64Array([value]), [], "<q");
      else if (typeof value === "boolean") obj.create_attribute(name, new Int8Array([value ? 1 : 0]), [], "<b");
      else obj.create_attribute(name, value as never, [value.length], H5_DTYPE[dtypeOf(value)]);
    });
  }

  /** A scalar numeric attribute of the given dtype. */
  setScalarAttr(path: string, name: string, value: number | bigint, dtype: Dtype): void {
    const one = allocate(dtype, 1);
    one[0] = (one instanceof BigInt64Array || one instanceof BigUint64Array ? BigInt(value) : Number(value)) as never;
    this.replaceAttr(path, name, (obj) => obj.create_attribute(name, one as never, [], H5_DTYPE[dtype]));
  }

  /** A 1-D attribute of variable-length UTF-8 strings. */
  setStringsAttr(path: string, name: string, values: string[]): void {
    this.replaceAttr(path, name, (obj) => obj.create_attribute(name, values, [values.length], "S"));
  }

  /** A scalar object reference attribute pointing at `target`. */
  setRefAttr(path: string, name: string, target: string): void {
    const to = this.file!.get(absolutePath(target)) as H5Object | null;
    if (!to) throw new StorageError("HDF5_ERROR", `cannot reference ${target} from ${path}: it does not exist in ${this.filePath}`);
    const ref = to.create_reference();
    this.replaceAttr(path, name, (obj) => obj.create_attribute(name, [ref] as never, [], "Reference"));
  }

  /** Not in h5wasm: it cannot make enumeration types. */
  setEnumAttr(path: string, name: string): void {
    throw new StorageError("HDF5_ERROR", `the h5wasm engine cannot write enumeration attributes (${name} of ${path} in ${this.filePath}); use the "ts" engine`);
  }

  /** Deletes attribute `name` of the object at `path` if it exists, lets `create` make it, and checks that it did. */
  private replaceAttr(path: string, name: string, create: (obj: H5Object) => void): void {
    const p = absolutePath(path);
    const m = engine();
    const names = m.get_attribute_names(this.id, p) as string[];
    if (names.includes(name)) check(m.delete_attribute(this.id, p, name), `replace attribute ${name} of ${p}`, this.filePath);
    const obj = this.file!.get(p) as H5Object | null;
    if (!obj) throw new StorageError("HDF5_ERROR", `cannot set attribute ${name}: ${p} does not exist in ${this.filePath}`);
    create(obj);
    if (!(m.get_attribute_names(this.id, p) as string[]).includes(name)) {
      throw new StorageError("HDF5_ERROR", `HDF5 failed to write attribute ${name} of ${p} in ${this.filePath}`);
    }
  }

  /** Removes an attribute if it exists. */
  deleteAttr(path: string, name: string): void {
    const p = absolutePath(path);
    const m = engine();
    if ((m.get_attribute_names(this.id, p) as string[]).includes(name)) {
      check(m.delete_attribute(this.id, p, name), `delete attribute ${name} of ${p}`, this.filePath);
    }
  }

  /** Creates an appendable chunked column (shape [0, ...rowShape], unlimited first dimension). */
  createColumn(path: string, spec: ColumnSpec): AppendColumn {
    const p = absolutePath(path);
    this.createGroup(parentPath(p));
    const rowSize = spec.rowShape.reduce((a, b) => a * b, 1);
    const chunkRows = Math.max(1, Math.floor(spec.chunkRows));
    const args: Parameters<H5File["create_dataset"]>[0] = {
      name: p,
      data: allocate(spec.dtype, 0) as never,
      shape: [0, ...spec.rowShape],
      maxshape: [null, ...spec.rowShape],
      chunks: [chunkRows, ...spec.rowShape],
      dtype: H5_DTYPE[spec.dtype],
    };
    if (spec.compression.kind === "gzip") {
      args.compression = "gzip";
      args.compression_opts = spec.compression.level;
    }
    if (rowSize === 0) throw new StorageError("HDF5_ERROR", `column ${p} would have empty rows (shape ${JSON.stringify(spec.rowShape)})`);
    this.file!.create_dataset(args);
    if (engine().get_type(this.id, p) !== engine().H5G_DATASET) {
      throw new StorageError("HDF5_ERROR", `HDF5 failed to create dataset ${p} in ${this.filePath}`);
    }
    const col = new Column(this, p, { ...spec, chunkRows }, rowSize);
    this.columns.set(p, col);
    return col;
  }

  /** @internal resize + write `rows` rows at `offset` of a column. */
  writeRows(col: Column, block: NumericArray, rows: number, offset: number): void {
    const m = engine();
    const elements = rows * col.rowSize;
    if (block.length < elements) {
      throw new StorageError("HDF5_ERROR", `internal: block of ${block.length} elements is shorter than ${rows} rows of ${col.path}`);
    }
    const nbytes = elements * dtypeSize(col.spec.dtype);
    if (offset + rows > col.length) {
      const newShape = [BigInt(offset + rows), ...col.spec.rowShape.map(BigInt)];
      check(m.resize_dataset(this.id, col.path, newShape), `grow ${col.path} to ${offset + rows} rows`, this.filePath);
    }
    const ptr = scratch(nbytes);
    m.HEAPU8.set(bytesOf(block, elements), ptr);
    const count = [BigInt(rows), ...col.spec.rowShape.map(BigInt)];
    const start = [BigInt(offset), ...col.spec.rowShape.map(() => 0n)];
    const stride = count.map(() => 1n);
    check(m.set_dataset_data(this.id, col.path, count, start, stride, BigInt(ptr)), `write ${rows} rows to ${col.path}`, this.filePath);
  }

  /** Creates an appendable, chunked 1-D variable-length UTF-8 string column. */
  createStringColumn(path: string, chunkRows = 1024): StringColumn {
    const p = absolutePath(path);
    this.createGroup(parentPath(p));
    this.file!.create_dataset({ name: p, data: [] as string[], shape: [0], maxshape: [null], chunks: [chunkRows], dtype: "S" });
    if (engine().get_type(this.id, p) !== engine().H5G_DATASET) {
      throw new StorageError("HDF5_ERROR", `HDF5 failed to create string dataset ${p} in ${this.filePath}`);
    }
    return new Strings(this, p);
  }

  /** @internal grows a string column and writes `values` at `offset` (HDF5 reads char* pointers from the heap). */
  writeStringRows(p: string, values: string[], offset: number): void {
    const m = engine();
    const enc = new TextEncoder();
    const encoded = values.map((v) => enc.encode(v));
    const ptrBytes = 4 * values.length;
    const total = ptrBytes + encoded.reduce((a, b) => a + b.length + 1, 0);
    const base = scratch(total);
    const view = new DataView(m.HEAPU8.buffer);
    let at = base + ptrBytes;
    encoded.forEach((b, i) => {
      m.HEAPU8.set(b, at);
      m.HEAPU8[at + b.length] = 0;
      view.setUint32(base + 4 * i, at, true);
      at += b.length + 1;
    });
    check(m.resize_dataset(this.id, p, [BigInt(offset + values.length)]), `grow ${p}`, this.filePath);
    check(m.set_dataset_data(this.id, p, [BigInt(values.length)], [BigInt(offset)], [1n], BigInt(base)), `write ${values.length} strings to ${p}`, this.filePath);
  }

  /** Writes a whole numeric array as a chunked, compressed dataset of `shape` (written in chunk-sized blocks). */
  writeArray(path: string, data: NumericArray, shape: number[], compression: Compression, chunkRows = 65536): void {
    const rowShape = shape.slice(1);
    const rowSize = rowShape.reduce((a, b) => a * b, 1);
    const rows = shape[0] ?? 0;
    if (rows * rowSize !== data.length) {
      throw new StorageError("HDF5_ERROR", `internal: ${data.length} elements do not fill shape ${JSON.stringify(shape)} at ${path}`);
    }
    const dtype = dtypeOf(data);
    const perChunk = Math.max(1, Math.min(chunkRows, rows, Math.floor((1 << 20) / Math.max(1, rowSize * dtypeSize(dtype)))));
    const col = this.createColumn(path, { dtype, rowShape, chunkRows: perChunk, compression: rowSize === 0 ? { kind: "none", level: 0 } : compression });
    const step = perChunk * 16;
    for (let r = 0; r < rows; r += step) {
      const n = Math.min(step, rows - r);
      col.append(data.subarray(r * rowSize, (r + n) * rowSize), n);
    }
  }

  /** Writes (or overwrites) a scalar variable-length UTF-8 string dataset. */
  writeText(path: string, text: string): void {
    const p = absolutePath(path);
    if (this.exists(p)) {
      this.overwriteText(p, text);
      return;
    }
    this.createGroup(parentPath(p));
    this.file!.create_dataset({ name: p, data: text });
    if (engine().get_type(this.id, p) !== engine().H5G_DATASET) {
      throw new StorageError("HDF5_ERROR", `HDF5 failed to write text dataset ${p} in ${this.filePath}`);
    }
  }

  /** Overwrites an existing scalar vlen string dataset in place (HDF5 reads a char* from the heap). */
  private overwriteText(p: string, text: string): void {
    const m = engine();
    const bytes = new TextEncoder().encode(text);
    const ptr = scratch(bytes.length + 1 + 8);
    const strPtr = ptr + 8;
    m.HEAPU8.set(bytes, strPtr);
    m.HEAPU8[strPtr + bytes.length] = 0;
    new DataView(m.HEAPU8.buffer).setUint32(ptr, strPtr, true);
    check(m.set_dataset_data(this.id, p, null, null, null, BigInt(ptr)), `overwrite ${p}`, this.filePath);
  }

  /** Writes a 1-D variable-length UTF-8 string dataset (may be empty). */
  writeStrings(path: string, list: string[]): void {
    const p = absolutePath(path);
    this.createGroup(parentPath(p));
    if (list.length === 0) {
      this.file!.create_dataset({ name: p, data: [] as string[], shape: [0], dtype: "S" });
    } else {
      this.file!.create_dataset({ name: p, data: list });
    }
    if (engine().get_type(this.id, p) !== engine().H5G_DATASET) {
      throw new StorageError("HDF5_ERROR", `HDF5 failed to write string dataset ${p} in ${this.filePath}`);
    }
  }

  /** Creates a hard link `name` to the existing object `target`. */
  link(target: string, name: string): void {
    const p = absolutePath(name);
    this.createGroup(parentPath(p));
    check(engine().create_hard_link(this.id, absolutePath(target), p), `link ${p} to ${target}`, this.filePath);
  }

  /** An external link at `path` to `objPath` in `file`. */
  externalLink(path: string, file: string, objPath = "/"): void {
    const p = absolutePath(path);
    this.createGroup(parentPath(p));
    check(engine().create_external_link(this.id, file, objPath, p), `link ${p} to ${file}:${objPath}`, this.filePath);
  }

  /** Not in h5wasm: it cannot make virtual datasets. */
  createVirtualDataset(path: string, _dtype: Dtype, _dims: number[], _fill: number, _maps: VirtualMapping[]): void {
    throw new StorageError("HDF5_ERROR", `the h5wasm engine cannot write virtual datasets (${path} in ${this.filePath}); use the "ts" engine`);
  }

  /** Flushes HDF5's caches to the file. */
  flush(): void {
    check(engine().flush(this.id), "flush", this.filePath);
  }

  /** h5wasm compresses on the calling thread: every flush can be done at once. */
  flushIfIdle(): boolean {
    this.flush();
    return true;
  }

  /** Every call is applied when it returns. */
  waitIdle(): void {}

  /** Closes the file; idempotent. */
  close(): void {
    if (!this.file) return;
    const f = this.file;
    this.file = null;
    check(f.close(), "close the file", this.filePath);
  }
}

/** @internal */
class Column implements AppendColumn {
  length = 0;
  constructor(private readonly w: H5Writer, readonly path: string, readonly spec: ColumnSpec, readonly rowSize: number) {}
  append(block: NumericArray, rows: number): void {
    this.writeAt(block, rows, this.length);
  }
  writeAt(block: NumericArray, rows: number, offset: number): void {
    if (rows <= 0) return;
    this.w.writeRows(this, block, rows, offset);
    this.length = Math.max(this.length, offset + rows);
  }
}

/** @internal */
class Strings implements StringColumn {
  length = 0;
  constructor(private readonly w: H5Writer, readonly path: string) {}
  append(values: string[]): void {
    if (values.length === 0) return;
    this.w.writeStringRows(this.path, values, this.length);
    this.length += values.length;
  }
}

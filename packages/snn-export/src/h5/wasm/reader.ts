/**
 * The h5wasm side of {@link H5Reader}: files outside the TypeScript reader's profile (written by
 * h5py or the h5wasm engine) and live (SWMR) reads. Group walks, attributes, row-slice reads and
 * strings through the HDF5 C library compiled to WebAssembly.
 */
import { allocate, dtypeSize, type Dtype, type NumericArray } from "../../dtypes.js";
import { FormatError, StorageError } from "../../errors.js";
import { absolutePath } from "../path.js";
import { engine, h5lib, loadEngine, scratch, type H5Lib } from "./engine.js";

/** A negative engine status is a StorageError naming the call (the host adds what HDF5 said). */
function check(status: number | bigint, what: string, file: string): void {
  if (status < 0) throw new StorageError("HDF5_ERROR", `HDF5 failed to ${what} in ${file} (status ${status}); the file may be damaged`);
}
import type { DatasetInfo } from "../types.js";

type H5File = InstanceType<H5Lib["File"]>;
interface H5Meta { type: number; size: number; signed: boolean; vlen: boolean; shape: number[] | null; chunks: number[] | null }

function dtypeFromMeta(m: H5Meta): Dtype | "string" {
  if (m.type === 3) return "string";
  if (m.type === 1) return m.size === 4 ? "float32" : "float64";
  if (m.type === 0) {
    const bits = m.size * 8;
    return `${m.signed ? "int" : "uint"}${bits}` as Dtype;
  }
  throw new FormatError("NOT_SNN_EXPORT", `unsupported HDF5 datatype class ${m.type} (only integers, floats and strings are used by snn-export)`);
}

/** Runs an engine call that may throw a plain Error (h5wasm's own checks) and makes it a StorageError. */
function guard<T>(file: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof StorageError || err instanceof FormatError) throw err;
    throw new StorageError("HDF5_ERROR", `HDF5 could not ${what} in ${file}: ${(err as Error)?.message ?? err}`, { cause: err });
  }
}

/** An HDF5 file open read-only through h5wasm (the HDF5 C library). */
export class WasmReader {
  readonly filePath: string;
  private file: H5File | null;

  private constructor(filePath: string, file: H5File) {
    this.filePath = filePath;
    this.file = file;
  }

  /** Opens `filePath` (whose signature was checked) once the engine is loaded. */
  static async open(filePath: string, swmr: boolean): Promise<WasmReader> {
    await loadEngine();
    const file = new (h5lib().File)(filePath, swmr ? "Sr" : "r");
    if (file.file_id < 0n) {
      throw new StorageError(
        "HDF5_ERROR",
        `HDF5 could not open ${filePath}; it may be damaged, or still open for writing by a process that died ` +
          `(HDF5's diagnostics follow)`,
      );
    }
    return new WasmReader(filePath, file);
  }

  private get f(): H5File {
    if (!this.file) throw new StorageError("IO_ERROR", `HDF5 file ${this.filePath} is already closed`);
    return this.file;
  }

  private get id(): bigint {
    return this.f.file_id;
  }

  /**
   * "group", "dataset" or null when nothing is at `path`. An object that its group lists but HDF5
   * cannot open is a FormatError `CORRUPT`, not an absence.
   */
  kind(path: string): "group" | "dataset" | null {
    const p = absolutePath(path);
    const t = engine().get_type(this.id, p);
    if (t === engine().H5G_GROUP) {
      // h5wasm's get_type reports a group (type 0) also when HDF5 fails to read the object's
      // header (a checksum error leaves its answer unset): a group is an object HDF5 can open
      if (p !== "/") {
        try {
          engine().get_attribute_names(this.id, p);
        } catch {
          throw new FormatError("CORRUPT", `${this.filePath}: HDF5 cannot open ${p} (the file is damaged)`);
        }
      }
      return "group";
    }
    if (t === engine().H5G_DATASET) return "dataset";
    if (p === "/") throw new FormatError("CORRUPT", `${this.filePath}: HDF5 cannot open the root group (the file is damaged)`);
    const cut = p.lastIndexOf("/");
    const parent = cut <= 0 ? "/" : p.slice(0, cut);
    if (this.kind(parent) !== "group") return null;
    const names = guard(this.filePath, `list ${parent}`, () => engine().get_names(this.id, parent, false) as string[]);
    if (!names.includes(p.slice(cut + 1))) return null;
    throw new FormatError("CORRUPT", `${this.filePath}: ${p} is a member of ${parent} but HDF5 cannot open it as a group or dataset (the file is damaged)`);
  }

  /** Names of the members of the group at `path`, sorted. */
  keys(path: string): string[] {
    if (this.kind(path) !== "group") return [];
    return guard(this.filePath, `list ${absolutePath(path)}`, () => [...(engine().get_names(this.id, absolutePath(path), false) as string[])].sort());
  }

  /** All attributes of the object at `path` as plain values (scalars unwrapped, bigint as bigint). */
  attrs(path: string): Record<string, unknown> {
    if (this.kind(path) === null) return {};
    const obj = this.f.get(absolutePath(path)) as InstanceType<H5Lib["Group"]> | null;
    if (!obj) throw new FormatError("CORRUPT", `${this.filePath}: HDF5 cannot open ${absolutePath(path)} to read its attributes (the file is damaged)`);
    const out: Record<string, unknown> = {};
    guard(this.filePath, `read the attributes of ${absolutePath(path)}`, () => {
      for (const [name, attr] of Object.entries(obj.attrs)) out[name] = attr.value;
    });
    return out;
  }

  /** Shape, dtype, chunking and filters of the dataset at `path`. */
  info(path: string): DatasetInfo {
    const p = absolutePath(path);
    if (this.kind(p) !== "dataset") throw new FormatError("NOT_FOUND", `no dataset ${p} in ${this.filePath}`);
    const [m, filters] = guard(this.filePath, `read the description of ${p}`, () => [
      engine().get_dataset_metadata(this.id, p) as unknown as H5Meta,
      (engine().get_dataset_filters(this.id, p) as { name: string }[]).map((f) => f.name),
    ] as const);
    return { shape: m.shape ?? [], dtype: dtypeFromMeta(m), chunks: m.chunks, filters };
  }

  /** Rows `[start, end)` of a numeric dataset, all other dimensions whole, as a flat row-major array. */
  readRows(path: string, start: number, end: number): NumericArray {
    const p = absolutePath(path);
    const { shape, dtype } = this.info(p);
    if (dtype === "string") throw new FormatError("NOT_SNN_EXPORT", `${p} holds strings, not numbers`);
    if (shape.length === 0) {
      return this.readBlock(p, dtype, [], [], 1);
    }
    const rows = shape[0];
    const s = Math.max(0, Math.min(start, rows));
    const e = Math.max(s, Math.min(end, rows));
    const rowShape = shape.slice(1);
    const rowSize = rowShape.reduce((a, b) => a * b, 1);
    return this.readBlock(p, dtype, [e - s, ...rowShape], [s, ...rowShape.map(() => 0)], (e - s) * rowSize);
  }

  private readBlock(p: string, dtype: Dtype, count: number[], offset: number[], elements: number): NumericArray {
    const out = allocate(dtype, elements);
    if (elements === 0) return out;
    const nbytes = elements * dtypeSize(dtype);
    const ptr = scratch(nbytes);
    const m = engine();
    const c = count.length ? count.map(BigInt) : null;
    const o = offset.length ? offset.map(BigInt) : null;
    const st = c ? c.map(() => 1n) : null;
    check(m.get_dataset_data(this.id, p, c, o, st, BigInt(ptr)), `read ${p}`, this.filePath);
    new Uint8Array(out.buffer).set(m.HEAPU8.subarray(ptr, ptr + nbytes));
    return out;
  }

  /** A scalar string dataset's text. */
  readText(path: string): string {
    const ds = this.f.get(absolutePath(path)) as InstanceType<H5Lib["Dataset"]> | null;
    if (!ds || this.kind(path) !== "dataset") throw new FormatError("NOT_FOUND", `no dataset ${absolutePath(path)} in ${this.filePath}`);
    const v = guard(this.filePath, `read ${absolutePath(path)}`, () => ds.value);
    if (typeof v !== "string") throw new FormatError("NOT_SNN_EXPORT", `${absolutePath(path)} is not a text dataset`);
    return v;
  }

  /** A 1-D string dataset's values. */
  readStrings(path: string): string[] {
    const ds = this.f.get(absolutePath(path)) as InstanceType<H5Lib["Dataset"]> | null;
    if (!ds || this.kind(path) !== "dataset") throw new FormatError("NOT_FOUND", `no dataset ${absolutePath(path)} in ${this.filePath}`);
    if (guard(this.filePath, `read ${absolutePath(path)}`, () => ds.shape ?? [0])[0] === 0) return [];
    const v = guard(this.filePath, `read ${absolutePath(path)}`, () => ds.value);
    if (!Array.isArray(v)) throw new FormatError("NOT_SNN_EXPORT", `${absolutePath(path)} is not a string list`);
    return v.map(String);
  }

  /**
   * Rows `[start, end)` of a 1-D string dataset (clamped to its length), without reading the rest.
   */
  readStringRows(path: string, start: number, end: number): string[] {
    const p = absolutePath(path);
    const ds = this.f.get(p) as InstanceType<H5Lib["Dataset"]> | null;
    if (!ds || this.kind(p) !== "dataset") throw new FormatError("NOT_FOUND", `no dataset ${p} in ${this.filePath}`);
    const rows = guard(this.filePath, `read ${p}`, () => ds.shape ?? [0])[0] ?? 0;
    const s = Math.max(0, Math.min(start, rows));
    const e = Math.max(s, Math.min(end, rows));
    if (e === s) return [];
    const v = ds.slice([[s, e]]);
    if (!Array.isArray(v)) throw new FormatError("NOT_SNN_EXPORT", `${p} is not a string list`);
    return v.map(String);
  }

  /**
   * The file address of the object header at `path` (what an HDF5 object reference holds), or
   * null when nothing is there. Two paths with the same address are hard links to one object.
   */
  objectAddress(path: string): bigint | null {
    const p = absolutePath(path);
    if (this.kind(p) === null) return null;
    const ref = engine().create_object_reference(this.id, p) as unknown as ArrayLike<number>;
    if (!ref || ref.length < 8) return null;
    let a = 0n;
    for (let i = 7; i >= 0; i--) a = (a << 8n) | BigInt(ref[i]);
    return a;
  }

  /** Re-reads the extent of a dataset written by another process (SWMR readers). */
  refresh(path: string): void {
    check(engine().refresh_dataset(this.id, absolutePath(path)), `refresh ${path}`, this.filePath);
  }

  /** Closes the file; idempotent. */
  close(): void {
    if (!this.file) return;
    const f = this.file;
    this.file = null;
    check(f.close(), "close the file", this.filePath);
  }
}

/**
 * Storing provenance in the HDF5 file (`metadata/runtime`, `metadata/git`, `metadata/git_diff`,
 * `metadata/code_snapshot/`) and reading code files back.
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { FormatError, ValidationError } from "../errors.js";
import type { H5Reader } from "../h5/reader.js";
import type { Compression } from "../h5/types.js";
import type { Writer } from "../h5/types.js";
import { replaceHome, toPosix } from "./paths.js";
import { collectCodeSnapshot, type SnapshotOptions } from "./snapshot.js";
import type { CodeIndexEntry, CodeSnapshot, GitInfo, GitPending, StoredProvenance } from "./types.js";

/**
 * Group of the code snapshot.
 *
 * @example
 * ```ts
 * reader.keys(`/${CODE_SNAPSHOT_GROUP}`); // ["file_0000", "index"]
 * ```
 */
export const CODE_SNAPSHOT_GROUP = "metadata/code_snapshot";
/** HDF5 filter of the gzip payloads when no setting was given: the exporter's default. */
const DEFAULT_COMPRESSION: Compression = { kind: "gzip", level: 4 };
const SLICE_BYTES = 4 << 20;

interface WriterState {
  index: CodeIndexEntry[];
  next: number;
  root: string | null;
  realRoot?: string;
  fileCap?: number;
  totalCap?: number;
  compression?: Compression;
}

/** Per open writer: the index written so far, so later snapshots append to it. */
const states = new WeakMap<Writer, WriterState>();

function stateOf(w: Writer): WriterState {
  let s = states.get(w);
  if (!s) {
    s = { index: [], next: 0, root: null };
    states.set(w, s);
  }
  return s;
}

/**
 * Dataset name of the `i`-th stored code file: `file_0000`, `file_0001`, ... (at least four digits).
 *
 * @example
 * ```ts
 * codeDatasetName(12); // "file_0012"
 * ```
 */
export function codeDatasetName(i: number): string {
  return `file_${String(i).padStart(4, "0")}`;
}

/**
 * Writes the captured parts: `metadata/runtime` and `metadata/git` as JSON text, the diff as the
 * text dataset `metadata/git_diff` (only when non-empty), and the code snapshot (see
 * {@link appendCodeSnapshot}); then flushes. Absent parts are not written. Uses only Writer
 * methods. `compression` is the HDF5 chunk filter of the `file_NNNN` datasets (FORMAT.md: every
 * chunked dataset carries the file's filter), remembered for later {@link addCodeFiles} calls.
 * Call it even with nothing captured (`p = {}`) so later snapshots use the file's setting.
 *
 * @example
 * ```ts
 * const w = await createWriter("run.h5");
 * writeProvenance(w, await captureProvenance({ snnExport: VERSION, h5wasm: "0.10.3", hdf5: "2.0.0" }), { kind: "gzip", level: 4 });
 * w.close();
 * ```
 */
export function writeProvenance(w: Writer, p: StoredProvenance, compression: Compression): void {
  stateOf(w).compression = compression;
  if (p.runtime) w.writeText("metadata/runtime", JSON.stringify(p.runtime));
  if (p.git) writeGitInfo(w, p.git);
  if (p.code) writeCodeSnapshot(w, p.code);
  w.flush();
}

/**
 * What `metadata/git` says until the git capture has answered (see {@link GitPending}).
 *
 * @example
 * ```ts
 * writeProvenance(w, { runtime, git: GIT_PENDING, code }, compression); // later: writeGitInfo(w, await git)
 * ```
 */
export const GIT_PENDING: Readonly<GitPending> = Object.freeze({
  available: false,
  reason: "pending",
  detail: "git had not answered when the file was last flushed",
});

/**
 * Writes (or replaces) `metadata/git` as JSON text, and the diff as `metadata/git_diff` when it is
 * not empty; does not flush. The part of {@link writeProvenance} the exporter repeats when git
 * answers after the file was created.
 *
 * @example
 * ```ts
 * writeGitInfo(w, await captureGit(process.cwd()));
 * w.flush();
 * ```
 */
export function writeGitInfo(w: Writer, git: GitInfo | GitPending): void {
  const { diff, ...rest } = git as { diff?: string };
  w.writeText("metadata/git", JSON.stringify(rest));
  if (diff) w.writeText("metadata/git_diff", diff.replace(/\0/g, "\uFFFD"));
}

/**
 * Appends a code snapshot to `metadata/code_snapshot/`: one uint8 dataset of gzip bytes per stored
 * file (`file_NNNN`, numbering from `startIndex`, by default after the files already written
 * through this writer, skipping names that exist) with attributes `path`, `sha256`, `size`
 * (int64) and `encoding` = `gzip`, and rewrites `index` (JSON text) with every entry so far;
 * then flushes. `compression` (the HDF5 chunk filter) defaults to the one given to
 * {@link writeProvenance}, else gzip level 4. Returns the next free file number.
 *
 * @example
 * ```ts
 * // exporter.saveCodeSnapshot(paths) on an open file:
 * appendCodeSnapshot(w, collectCodeSnapshot(["analysis/*.ts"], { root: "/home/ada/proj", includeEntry: false }));
 * ```
 */
export function appendCodeSnapshot(w: Writer, code: CodeSnapshot, startIndex?: number, compression?: Compression): number {
  const next = writeCodeSnapshot(w, code, startIndex, compression);
  w.flush();
  return next;
}

/** {@link appendCodeSnapshot} without the flush (writeProvenance flushes once for all parts). */
function writeCodeSnapshot(w: Writer, code: CodeSnapshot, startIndex?: number, compression?: Compression): number {
  const st = stateOf(w);
  const comp = compression ?? st.compression ?? DEFAULT_COMPRESSION;
  const root = toPosix(replaceHome(code.root));
  w.createGroup(CODE_SNAPSHOT_GROUP);
  if (st.root === null) {
    st.root = root;
    st.realRoot = code.root;
    w.setAttr(CODE_SNAPSHOT_GROUP, "root", root);
  }
  if (code.fileCap !== undefined) st.fileCap ??= code.fileCap;
  if (code.totalCap !== undefined) st.totalCap ??= code.totalCap;
  let i = startIndex ?? st.next;
  for (const f of code.files) {
    const entry: CodeIndexEntry = { path: f.path, size: f.size, sha256: f.sha256, stored: f.stored && f.gz !== undefined };
    if (f.reason !== undefined) entry.reason = f.reason;
    if (root !== st.root) entry.root = root;
    if (entry.stored && f.gz) {
      while (w.exists(`${CODE_SNAPSHOT_GROUP}/${codeDatasetName(i)}`)) i++;
      const name = codeDatasetName(i++);
      const ds = `${CODE_SNAPSHOT_GROUP}/${name}`;
      const gz = new Uint8Array(f.gz.buffer, f.gz.byteOffset, f.gz.length);
      w.writeArray(ds, gz, [gz.length], comp);
      w.setAttr(ds, "path", f.path);
      w.setAttr(ds, "sha256", f.sha256 ?? "");
      w.setAttr(ds, "size", BigInt(f.size));
      w.setAttr(ds, "encoding", "gzip");
      entry.dataset = name;
    }
    st.index.push(entry);
  }
  st.next = Math.max(st.next, i);
  w.writeText(`${CODE_SNAPSHOT_GROUP}/index`, JSON.stringify(st.index));
  return st.next;
}

/**
 * Collects `paths` (files or globs, without the entry script) with the root and caps of the
 * snapshot already written through `w` (unless `options` overrides them; without a snapshot the
 * root is `options.cwd`, else the working directory) and appends them with `options.compression`
 * (default: as for {@link appendCodeSnapshot}): the body of an exporter's `saveCodeSnapshot(paths)`.
 * Returns the new index entries.
 *
 * @example
 * ```ts
 * const added = addCodeFiles(w, ["analysis/**\/*.ts"]);
 * console.log(added.filter((e) => e.stored).length, "files stored");
 * ```
 */
export function addCodeFiles(w: Writer, paths: string[], options: Partial<SnapshotOptions> & { compression?: Compression } = {}): CodeIndexEntry[] {
  const st = stateOf(w);
  const { compression, ...rest } = options;
  const code = collectCodeSnapshot(paths, {
    root: st.realRoot ?? rest.cwd ?? process.cwd(),
    fileCap: st.fileCap,
    totalCap: st.totalCap,
    ...rest,
    includeEntry: rest.includeEntry ?? false,
  });
  const before = st.index.length;
  appendCodeSnapshot(w, code, undefined, compression);
  return st.index.slice(before).map((e) => ({ ...e }));
}

/**
 * What {@link readCodeFile} needs from a reader; an H5Reader qualifies.
 *
 * @example
 * ```ts
 * const src: CodeSource = await H5Reader.open("experiment_data.h5");
 * ```
 */
export type CodeSource = Pick<H5Reader, "readRows" | "info" | "attrs" | "readText" | "keys" | "kind">;

/**
 * The entries of `metadata/code_snapshot/index` ([] when the file has no code snapshot).
 *
 * @example
 * ```ts
 * readCodeIndex(reader).filter((e) => e.stored).map((e) => e.path); // ["src/run.ts", ...]
 * ```
 */
export function readCodeIndex(src: CodeSource): CodeIndexEntry[] {
  const path = `/${CODE_SNAPSHOT_GROUP}/index`;
  if (src.kind(path) !== "dataset") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(src.readText(path));
  } catch (err) {
    throw new FormatError("INVALID_DATA", `${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new FormatError("INVALID_DATA", `${path} is not a JSON list`);
  return parsed as CodeIndexEntry[];
}

function normPath(p: string): string {
  return toPosix(p).replace(/^(\.\/)+/, "");
}

/** The dataset holding `path`: from the index (the latest stored entry), else by the `path` attribute. */
function findDataset(src: CodeSource, path: string): string {
  const index = readCodeIndex(src);
  const hits = index.filter((e) => e.path === path);
  const stored = hits.filter((e) => e.stored && e.dataset);
  if (stored.length > 0) return `/${CODE_SNAPSHOT_GROUP}/${stored[stored.length - 1].dataset}`;
  if (hits.length > 0) {
    throw new ValidationError("NOT_FOUND", `code file ${JSON.stringify(path)} was recorded but not stored: ${hits[hits.length - 1].reason ?? "no reason given"}`);
  }
  const names = src.keys(`/${CODE_SNAPSHOT_GROUP}`).filter((k) => k.startsWith("file_")).reverse();
  for (const k of names) {
    if (src.attrs(`/${CODE_SNAPSHOT_GROUP}/${k}`).path === path) return `/${CODE_SNAPSHOT_GROUP}/${k}`;
  }
  const available = index.filter((e) => e.stored).map((e) => e.path);
  const list = available.length === 0 ? "the file has no stored code files" : `stored: ${available.slice(0, 20).join(", ")}${available.length > 20 ? ", ..." : ""}`;
  throw new ValidationError("NOT_FOUND", `no code file ${JSON.stringify(path)} in the snapshot; ${list}`);
}

/**
 * The original bytes of a stored code file: reads the gzip bytes in slices of at most 4 MiB,
 * decompresses them and checks size and sha256. Errors: ValidationError `NOT_FOUND` (not in the
 * snapshot, or skipped: the message gives the recorded reason), FormatError `INVALID_DATA`
 * (damaged bytes).
 *
 * @example
 * ```ts
 * const bytes = readCodeBytes(reader, "data/params.bin");
 * ```
 */
export function readCodeBytes(src: CodeSource, path: string): Uint8Array {
  const want = normPath(path);
  const ds = findDataset(src, want);
  const info = src.info(ds);
  if (info.dtype !== "uint8" || info.shape.length !== 1) throw new FormatError("INVALID_DATA", `${ds} is not a 1-D uint8 dataset`);
  const n = info.shape[0];
  const gz = new Uint8Array(n);
  for (let s = 0; s < n; s += SLICE_BYTES) {
    const e = Math.min(n, s + SLICE_BYTES);
    gz.set(src.readRows(ds, s, e) as Uint8Array, s);
  }
  const attrs = src.attrs(ds);
  const size = attrs.size === undefined ? undefined : Number(attrs.size);
  let bytes: Buffer;
  try {
    bytes = gunzipSync(gz, size === undefined ? {} : { maxOutputLength: Math.max(1, size) });
  } catch (err) {
    throw new FormatError("INVALID_DATA", `${ds} (code file ${want}) does not decompress: ${(err as Error).message}`);
  }
  if (size !== undefined && bytes.length !== size) {
    throw new FormatError("INVALID_DATA", `${ds} (code file ${want}) decompresses to ${bytes.length} bytes, its size attribute says ${size}`);
  }
  const sha = createHash("sha256").update(bytes).digest("hex");
  if (typeof attrs.sha256 === "string" && attrs.sha256 !== "" && attrs.sha256 !== sha) {
    throw new FormatError("INVALID_DATA", `${ds} (code file ${want}) has sha256 ${sha}, its sha256 attribute says ${attrs.sha256}`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * A stored code file's text (UTF-8), e.g. for the loader's `getCodeFile(path)`. `path` is as in
 * the index: relative to the snapshot root, `/`-separated (a leading `./` is ignored). When a
 * path was stored more than once (later `saveCodeSnapshot` calls), the latest copy is returned.
 *
 * @example
 * ```ts
 * const reader = await H5Reader.open("experiments/run_20240101_120000/experiment_data.h5");
 * console.log(readCodeFile(reader, "src/train.ts"));
 * ```
 */
export function readCodeFile(src: CodeSource, path: string): string {
  return new TextDecoder("utf-8").decode(readCodeBytes(src, path));
}

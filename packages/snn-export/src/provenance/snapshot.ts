/**
 * Code snapshot: reads the entry script and the files or globs the user names, and keeps their
 * gzip bytes with size and sha256. Files outside the project root or over a size cap are skipped
 * with a recorded reason and a process warning (code `SNN_EXPORT_SNAPSHOT`), never silently.
 */
import { createHash } from "node:crypto";
import { readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { ValidationError } from "../errors.js";
import { expandGlob, hasGlob } from "./glob.js";
import { replaceHome, toPosix } from "./paths.js";
import { checkNameList } from "./runtime.js";
import type { CodeFile, CodeSnapshot } from "./types.js";

/**
 * Default cap on one snapshot file: 1 MiB.
 *
 * @example
 * ```ts
 * collectCodeSnapshot(["data/*.json"], { root: "/home/ada/proj", fileCap: 4 * DEFAULT_FILE_CAP });
 * ```
 */
export const DEFAULT_FILE_CAP = 1 << 20;
/**
 * Default cap on the original bytes of one snapshot: 20 MiB.
 *
 * @example
 * ```ts
 * collectCodeSnapshot(["src/**\/*.ts"], { root: "/home/ada/proj", totalCap: DEFAULT_TOTAL_CAP / 2 });
 * ```
 */
export const DEFAULT_TOTAL_CAP = 20 << 20;
/**
 * Warning code of skipped snapshot files.
 *
 * @example
 * ```ts
 * process.on("warning", (w) => { if ((w as { code?: string }).code === SNAPSHOT_WARNING_CODE) log(w.message); });
 * ```
 */
export const SNAPSHOT_WARNING_CODE = "SNN_EXPORT_SNAPSHOT";

/**
 * Options of {@link collectCodeSnapshot}.
 *
 * @example
 * ```ts
 * const opts: SnapshotOptions = { root: await projectRoot(process.cwd()), fileCap: 256 * 1024, includeEntry: false };
 * ```
 */
export interface SnapshotOptions {
  /** Paths are stored relative to this directory (relative: to `cwd`); files outside it are skipped. See `projectRoot`. */
  root: string;
  /** Largest file stored, in bytes [1 MiB]. */
  fileCap?: number;
  /** Largest sum of stored original bytes [20 MiB]. */
  totalCap?: number;
  /** Also store the entry script, `process.argv[1]` [true]. */
  includeEntry?: boolean;
  /** Relative paths and patterns are resolved against this directory [`process.cwd()`]. */
  cwd?: string;
}

function cap(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new ValidationError("INVALID_OPTION", `code snapshot option ${name} must be a non-negative integer number of bytes, got ${JSON.stringify(v)}`);
  }
  return v;
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Reads the files of a code snapshot: `process.argv[1]` (unless `includeEntry: false`) and every
 * file or glob of `paths` (`*`, `?`, `**`; see {@link expandGlob}), each once, in that order.
 * Each stored file keeps its gzip bytes, size and sha256 of the original bytes. A file that is
 * missing, outside `root`, over `fileCap`, or would push the total over `totalCap` is listed
 * with `stored: false` and a `reason`, and one warning (code `SNN_EXPORT_SNAPSHOT`) names them.
 *
 * @example
 * ```ts
 * const snap = collectCodeSnapshot(["src/**\/*.ts", "config.yaml"], { root: await projectRoot(process.cwd()), fileCap: 512 * 1024 });
 * snap.files.filter((f) => !f.stored).forEach((f) => console.log(f.path, f.reason));
 * ```
 */
export function collectCodeSnapshot(paths: string[], options: SnapshotOptions): CodeSnapshot {
  checkNameList(paths, "code snapshot paths");
  if (typeof options?.root !== "string" || options.root === "") {
    throw new ValidationError("INVALID_OPTION", `code snapshot option root must be a directory path (projectRoot(cwd) gives the git top level), got ${JSON.stringify(options?.root)}`);
  }
  const fileCap = cap(options.fileCap ?? DEFAULT_FILE_CAP, "fileCap");
  const totalCap = cap(options.totalCap ?? DEFAULT_TOTAL_CAP, "totalCap");
  const cwd = resolve(options.cwd ?? process.cwd());
  const root = realOrSelf(resolve(cwd, options.root));
  const display = (abs: string): string => {
    const rel = relative(root, abs);
    return rel && !rel.startsWith("..") && !isAbsolute(rel) ? toPosix(rel) : toPosix(replaceHome(abs));
  };

  const files: CodeFile[] = [];
  const seen = new Set<string>();
  const candidates: Array<{ abs: string } | { pattern: string }> = [];
  const entry = process.argv[1];
  if (options.includeEntry !== false && entry) candidates.push({ abs: resolve(entry) });
  for (const p of paths) {
    if (!hasGlob(p)) {
      candidates.push({ abs: resolve(cwd, p) });
      continue;
    }
    const matches = expandGlob(p, cwd);
    if (matches.length === 0) candidates.push({ pattern: p });
    for (const abs of matches) candidates.push({ abs });
  }

  let total = 0;
  for (const c of candidates) {
    if ("pattern" in c) {
      files.push({ path: toPosix(c.pattern), size: 0, sha256: null, stored: false, reason: "no file matches the pattern" });
      continue;
    }
    const real = realOrSelf(c.abs);
    if (seen.has(real)) continue;
    seen.add(real);
    const skip = (reason: string, size = 0): void => {
      files.push({ path: display(real), size, sha256: null, stored: false, reason });
    };
    let size: number;
    try {
      const st = statSync(real);
      if (st.isDirectory()) {
        skip("is a directory; name its files or use a pattern such as dir/**");
        continue;
      }
      if (!st.isFile()) {
        skip("not a regular file");
        continue;
      }
      size = st.size;
    } catch (err) {
      skip(`not found (${(err as NodeJS.ErrnoException).code ?? "error"})`);
      continue;
    }
    const rel = relative(root, real);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
      skip(`outside the project root ${toPosix(replaceHome(root))}`, size);
      continue;
    }
    if (size > fileCap) {
      skip(`larger than the per-file cap of ${fileCap} bytes`, size);
      continue;
    }
    if (total + size > totalCap) {
      skip(`would exceed the total cap of ${totalCap} bytes (${total} bytes already stored)`, size);
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = readFileSync(real);
    } catch (err) {
      skip(`unreadable (${(err as NodeJS.ErrnoException).code ?? "error"})`, size);
      continue;
    }
    total += bytes.length;
    const gz = gzipSync(bytes);
    files.push({
      path: toPosix(rel),
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      stored: true,
      gz: new Uint8Array(gz.buffer, gz.byteOffset, gz.length),
    });
  }
  warnSkipped(files);
  return { root, fileCap, totalCap, files };
}

function warnSkipped(files: CodeFile[]): void {
  const skipped = files.filter((f) => !f.stored);
  if (skipped.length === 0) return;
  const listed = skipped.slice(0, 10).map((f) => `${f.path} (${f.reason})`);
  if (skipped.length > 10) listed.push(`and ${skipped.length - 10} more (see metadata/code_snapshot/index)`);
  process.emitWarning(`code snapshot: ${skipped.length} file${skipped.length === 1 ? "" : "s"} not stored: ${listed.join("; ")}`, {
    code: SNAPSHOT_WARNING_CODE,
  });
}

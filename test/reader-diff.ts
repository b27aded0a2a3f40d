/** Test helper: everything a reader gives for every object of a file, to compare the TypeScript and h5wasm readers. */
import type { H5Reader } from "#lib/h5/reader.js";

/** One object as a reader sees it: kind, attributes, dataset info and all its data (or the error it gave). */
export interface ObjectDump {
  path: string;
  kind: "group" | "dataset" | null;
  keys: string[];
  attrs: Record<string, unknown>;
  address: bigint | null;
  info?: unknown;
  data?: unknown;
  slices?: unknown[];
}

/** The error a call gave, as name + code (readers word their messages differently). */
function attempt(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    return { error: (err as Error).name, code: (err as { code?: string }).code };
  }
}

/** Paths of every object under `path`, depth first, sorted. */
export function allPaths(r: H5Reader, path = "/"): string[] {
  const out = [path];
  for (const k of r.keys(path)) {
    const p = path === "/" ? `/${k}` : `${path}/${k}`;
    if (r.kind(p) === "group") out.push(...allPaths(r, p));
    else out.push(p);
  }
  return out;
}

/** Everything `r` gives for `path`; with `slices`, also a few row ranges (clamped, empty, past the end). */
export function dumpObject(r: H5Reader, path: string, slices = true): ObjectDump {
  const kind = r.kind(path);
  const d: ObjectDump = { path, kind, keys: r.keys(path), attrs: r.attrs(path), address: r.objectAddress(path) };
  if (kind !== "dataset") return d;
  const info = r.info(path);
  d.info = info;
  const rows = info.shape[0] ?? 1;
  if (info.dtype === "string") {
    d.data = info.shape.length === 0 ? attempt(() => r.readText(path)) : attempt(() => r.readStrings(path));
    if (slices) d.slices = [[0, 1], [1, 3], [rows - 2, rows + 5], [rows, rows + 1], [5, 2]].map(([s, e]) => attempt(() => r.readStringRows(path, s, e)));
  } else {
    d.data = attempt(() => r.readRows(path, 0, rows));
    if (slices) d.slices = [[0, 1], [1, 3], [rows - 2, rows + 5], [rows, rows + 1], [5, 2], [-3, 2]].map(([s, e]) => attempt(() => r.readRows(path, s, e)));
  }
  return d;
}

/** Dumps of every object of the file. */
export function dumpFile(r: H5Reader, slices = true): ObjectDump[] {
  return allPaths(r).map((p) => dumpObject(r, p, slices));
}

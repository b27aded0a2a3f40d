/**
 * The one place that loads the HDF5 engine (h5wasm: the HDF5 C library compiled to WebAssembly).
 * Everything else in `src/h5/` gets the module from here; nothing outside `src/h5/` imports h5wasm.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type H5wasmDefault from "h5wasm/node";
import { StorageError } from "../../errors.js";

/** The h5wasm high-level library (File, Group, Dataset, ready). */
export type H5Lib = typeof H5wasmDefault;
export type H5Module = Awaited<H5Lib["ready"]>;

let modulePromise: Promise<H5Module> | undefined;
let mod: H5Module | undefined;
let lib: H5Lib | undefined;

/**
 * Loads (once) and returns the HDF5 engine. h5wasm compiles its WebAssembly as soon as it is
 * imported, so it is imported here, on first use, never at package import: a process that only
 * writes with the pure-TypeScript engine never pays for it.
 */
export async function loadEngine(): Promise<H5Module> {
  modulePromise ??= import("h5wasm/node").then(async (m) => {
    lib = m.default;
    mod = await lib.ready;
    return mod;
  });
  return modulePromise;
}

/** The loaded h5wasm library; throws if {@link loadEngine} has not resolved yet. */
export function h5lib(): H5Lib {
  if (!lib) throw new StorageError("HDF5_ERROR", "the HDF5 engine is not loaded yet: await loadEngine() first");
  return lib;
}

/** The loaded engine; throws if {@link loadEngine} has not resolved yet. */
export function engine(): H5Module {
  if (!mod) throw new StorageError("HDF5_ERROR", "the HDF5 engine is not loaded yet: await loadEngine() first");
  return mod;
}

/** Throws a StorageError when an engine call returned a negative status. */
export function check(status: number | bigint, what: string, file: string): void {
  if (status < 0) {
    throw new StorageError(
      "HDF5_ERROR",
      `HDF5 failed to ${what} in ${file} (status ${status}); the HDF5 error stack was printed to stderr. ` +
        `Check free disk space and file permissions.`,
    );
  }
}

/**
 * The HDF5 C library compiled into h5wasm 0.10.x. h5wasm does not expose it (no `H5get_libversion`);
 * a test checks it against the "HDF5 library version" string built into the installed h5wasm.
 */
const HDF5_IN_H5WASM = "2.0.0";
let versions: { h5wasm: string; hdf5: string } | undefined;

/** The version in the package.json of the installed package `name`, found as Node looks for it ("unknown" if not). */
function installedVersion(name: string): string {
  for (const dir of createRequire(import.meta.url).resolve.paths(name) ?? []) {
    try {
      const v = (JSON.parse(readFileSync(join(dir, name, "package.json"), "utf8")) as { version?: unknown }).version;
      if (typeof v === "string") return v;
    } catch {
      // not in this node_modules
    }
  }
  return "unknown";
}

/** Versions of the engine, for provenance: h5wasm's from its package.json, without loading it. */
export function engineVersions(): { h5wasm: string; hdf5: string } {
  versions ??= { h5wasm: installedVersion("h5wasm"), hdf5: HDF5_IN_H5WASM };
  return { ...versions };
}

let scratchPtr = 0;
let scratchSize = 0;

/** A reusable buffer inside the wasm heap of at least `nbytes`. Never hold it across engine calls that allocate. */
export function scratch(nbytes: number): number {
  const m = engine();
  if (nbytes > scratchSize) {
    if (scratchPtr) m._free(scratchPtr);
    const size = Math.max(nbytes, 1 << 16);
    const ptr = m._malloc(size);
    if (!ptr) {
      scratchPtr = 0;
      scratchSize = 0;
      throw new StorageError("HDF5_ERROR", `the wasm heap could not allocate ${size} bytes (it is capped at 2 GiB)`);
    }
    scratchPtr = ptr;
    scratchSize = size;
  }
  return scratchPtr;
}

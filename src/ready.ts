import { loadEngine } from "./h5/index.js";

/**
 * Resolves when the HDF5 engine (WebAssembly) is compiled and ready. Importing the package starts
 * loading it; awaiting `ready()` first makes the first `DataExporter.create` fast, and is what a
 * benchmark should do before starting its clock (as `import h5py` does for the h5py peer).
 *
 * @example
 * ```ts
 * import { ready, DataExporter } from "snn-export";
 * await ready();
 * const exporter = await DataExporter.create("run");
 * ```
 */
export async function ready(): Promise<void> {
  await loadEngine();
}

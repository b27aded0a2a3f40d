import { loadEngine } from "./h5/index.js";

/**
 * Resolves when the HDF5 C library (WebAssembly, used by the loader and by `engine: "h5wasm"`) is
 * compiled and ready. It loads on first use otherwise; awaiting `ready()` first moves that cost
 * out of the first `ExperimentLoader.open` — what a benchmark does before starting its clock (as
 * `import h5py` does for the h5py peer). The default write engine does not need it.
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

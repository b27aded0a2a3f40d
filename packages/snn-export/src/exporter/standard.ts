/**
 * StandardDataExporter: the straightforward first version, kept as the honest baseline of the
 * benchmark. Same API and validation as DataExporter; every `log` call goes straight to HDF5
 * (resize + write of every stream, no buffering), spikes are a dense [T, N] uint8 matrix and the
 * reward of every step is stored.
 */
import { DataExporter } from "./exporter.js";
import type { Layout } from "./steps.js";

/**
 * The naive baseline exporter (layout `standard` in FORMAT.md). Use DataExporter for real work.
 *
 * @example
 * ```ts
 * await using exporter = await StandardDataExporter.create("baseline", { outputBaseDir: "experiments" });
 * exporter.saveNetworkStructure({ neurons: { ids: Int32Array.from([0, 1, 2]) } });
 * exporter.startEpisode();
 * exporter.log({ timestep: 0, spikes: [1], reward: 0 });
 * exporter.endEpisode();
 * ```
 */
export class StandardDataExporter extends DataExporter {
  protected override get layout(): Layout {
    return "standard";
  }
}

/**
 * The in-process contenders the benchmark child can time: a name and a loader returning the
 * exporter class. Loaders import lazily, so listing the names (the parent does) never loads the
 * HDF5 engine, and the import is done before the clock starts.
 *
 * Adding a contender is one line, e.g.
 *   standard: async () => (await import("#lib/index.js")).StandardDataExporter,
 */
import type { EndEpisodeInput, ExporterOptions, NetworkInput, StepInput, WeightChangeInput } from "#lib/index.js";

/** What the benchmark calls on an exporter. */
export interface BenchExporter {
  readonly filePath: string;
  saveNetworkStructure(network: NetworkInput): void;
  startEpisode(): number;
  log(step: StepInput): void;
  logWeightChange(change: WeightChangeInput): void;
  endEpisode(result?: EndEpisodeInput): void;
  close(): Promise<void>;
}

/** An exporter class: `create(name, options)` like DataExporter's. */
export interface ExporterClass {
  create(name: string, options?: ExporterOptions): Promise<BenchExporter>;
}

/** Contender name → loader of its exporter class. */
export const CONTENDERS: Readonly<Record<string, () => Promise<ExporterClass>>> = {
  "snn-export": async () => {
    // the default write engine is pure TypeScript: nothing to load before the clock starts
    return (await import("#lib/index.js")).DataExporter;
  },
  standard: async () => {
    return (await import("#lib/index.js")).StandardDataExporter;
  },
};

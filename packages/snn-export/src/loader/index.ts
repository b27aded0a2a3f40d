/**
 * The loader: reads snn-export experiment files back into TypedArrays and plain objects.
 *
 * @example
 * ```ts
 * import { ExperimentLoader, quickLoad } from "snn-export";
 * const { episode } = await quickLoad("experiments/run_20240101_120000");
 * ```
 */
export { ExperimentLoader, EXPERIMENT_FILE, resolveExperimentFile } from "./experiment.js";
export { EpisodeData } from "./episode.js";
export { ExperimentCollection, type CollectionOptions, type ConfigFilter, type EpisodeColumnName, type RunInfo } from "./collection.js";
export { findRunFiles, readRun, type ReadRunOptions } from "./runs.js";
export { readSweepTable, type RunRow, type SweepTable } from "./sweep-table.js";
export { quickLoad, type QuickLoadOptions, type QuickLoadResult } from "./quick.js";
export {
  DEFAULT_SLICE_BYTES, readNumeric, readNumericRows, bigToFloat64, toFloat64, toUint32,
  type SliceOptions, type SliceSource, type NumberArray,
} from "./read.js";
export { isCsrMatrix, isNdArray } from "./values.js";
export type {
  Checkpoint, CsrMatrix, EpisodeAttributes, EpisodeTable, ExperimentEvent, ExperimentMetadata, FieldRecord, NdArray,
  NeuronSelection, SpikeBlockOptions, SpikeWindow, StateWindow, TimeWindow,
  NetworkStructure, OpenOptions, Rewards, SpikeTrain, StoredValue, TimeSeries, WeightChanges,
} from "./types.js";

/**
 * snn-export: stream spiking-neural-network experiments into HDF5 files that h5py reads, and
 * load them back.
 *
 * @example
 * ```ts
 * import { DataExporter, ExperimentLoader } from "snn-export";
 * await using exporter = await DataExporter.create("my_experiment");
 * ```
 */
export { DataExporter, FORMAT_VERSION } from "./exporter/exporter.js";
export { StandardDataExporter } from "./exporter/standard.js";
export type {
  ArrayInput, CooWeights, CsrWeights, DenseWeights, EndEpisodeInput, EventInput, ExporterOptions, NdArrayInput,
  NetworkInput, RecordOfArrays, StepInput, VariableInput, WeightChangeInput, WeightsInput,
} from "./exporter/types.js";
export type { ResolvedOptions } from "./exporter/options.js";
export {
  SnnExportError, ValidationError, StateError, StorageError, FormatError, isSnnExportError, type ErrorCode,
} from "./errors.js";
export type { Dtype, NumericArray } from "./dtypes.js";
export { VERSION } from "./version.js";
export { exportNwb, NWB_VERSION, type NwbExportOptions, type ExportSummary } from "./export/nwb.js";
export { exportSonata, type SonataExportOptions, type SonataSummary } from "./export/sonata.js";
export { ready } from "./ready.js";
export { parseEpisodeList } from "./export/timeline.js";
export { timeStep, neuronCount, neuronTypes, type TimeStep } from "./loader/facts.js";
export { ExperimentLoader, EpisodeData, quickLoad, type QuickLoadOptions, type QuickLoadResult } from "./loader/index.js";
export {
  ExperimentCollection, findRunFiles, readSweepTable,
  type CollectionOptions, type ConfigFilter, type EpisodeColumnName, type RunInfo, type RunRow, type SweepTable,
} from "./loader/index.js";
export { collect, type CollectOptions, type CollectResult } from "./sweep/collect.js";
export { learningCurves, type CurveGroup, type CompareOptions } from "./sweep/compare.js";
export type {
  Checkpoint, CsrMatrix, EpisodeAttributes, EpisodeTable, ExperimentEvent, ExperimentMetadata, FieldRecord, NdArray,
  NeuronSelection, SpikeBlockOptions, SpikeWindow, StateWindow, TimeWindow,
  NetworkStructure, OpenOptions, Rewards, SpikeTrain, StoredValue, TimeSeries, WeightChanges,
} from "./loader/index.js";

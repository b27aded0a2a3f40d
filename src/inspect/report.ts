/**
 * What `snn-export inspect` reports: every group and dataset of an experiment file with shape,
 * dtype, chunks, filters, raw and stored size, and the episode table.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { dtypeSize, type Dtype } from "../dtypes.js";
import { H5Reader } from "../h5/reader.js";
import { ExperimentLoader } from "../loader/experiment.js";
import { episodeRow, neuronCount, timeStep, type EpisodeRow, type TimeStep } from "./experiment.js";
import { StorageReader } from "./storage.js";

export interface DatasetEntry {
  path: string;
  /** [] for a scalar. */
  shape: number[];
  dtype: string;
  chunks: number[] | null;
  filters: string[];
  /** "compact", "contiguous", "chunked", ... as read from the file. */
  layout: string;
  /** Elements × element size; null for variable-length strings (their text lives in the global heap). */
  rawBytes: number | null;
  /**
   * Bytes of the dataset's own storage in the file, after compression (as `H5Dget_storage_size`:
   * for strings, the heap references only). null when it could not be read (`storedNote` says why).
   */
  storedBytes: number | null;
  storedNote?: string;
  /** Set when this path is a hard link to a dataset listed earlier: its data is stored once. */
  linkTo?: string;
}

export interface InspectReport {
  file: string;
  fileBytes: number;
  experimentName: string | null;
  formatVersion: string | null;
  layout: string | null;
  status: string | null;
  startTime: string | null;
  endTime: string | null;
  nNeurons: number | null;
  timeStep: TimeStep;
  episodes: EpisodeRow[];
  checkpoints: string[];
  groups: string[];
  datasets: DatasetEntry[];
  totals: {
    datasets: number;
    /** Sum of rawBytes over datasets that have one (links counted once). */
    rawBytes: number;
    /** Sum of storedBytes over datasets stored in their own right (links counted once). */
    storedBytes: number;
    /** rawBytes over the datasets whose storedBytes is known, for the ratio. */
    rawBytesOfStored: number;
    /** Stored bytes of those same datasets. */
    storedBytesOfRaw: number;
  };
}

/** Opens `dirOrFile` (loader checks: exists, HDF5, snn-export format) and builds the report. */
export async function inspectExperiment(dirOrFile: string): Promise<InspectReport> {
  const loader = await ExperimentLoader.open(dirOrFile);
  try {
    const file = loader.filePath;
    const meta = loader.getMetadata();
    const root = loader.rootAttributes;
    const config = loader.getConfig();
    const dt = timeStep(config);
    const nNeurons = neuronCount(loader);
    const episodes = loader.listEpisodes().map((id) => episodeRow(loader.getEpisode(id), nNeurons, dt));
    const { groups, datasets } = await walkFile(file);
    const totals = { datasets: datasets.length, rawBytes: 0, storedBytes: 0, rawBytesOfStored: 0, storedBytesOfRaw: 0 };
    for (const d of datasets) {
      if (d.linkTo) continue;
      if (d.rawBytes !== null) totals.rawBytes += d.rawBytes;
      if (d.storedBytes !== null) totals.storedBytes += d.storedBytes;
      if (d.rawBytes !== null && d.storedBytes !== null) {
        totals.rawBytesOfStored += d.rawBytes;
        totals.storedBytesOfRaw += d.storedBytes;
      }
    }
    return {
      file: resolve(file),
      fileBytes: statSync(file).size,
      experimentName: meta.experimentName,
      formatVersion: meta.formatVersion,
      layout: meta.layout,
      // as stored: "open" while written (or when the writer died), "closed" after close()
      status: typeof root.status === "string" ? root.status : null,
      startTime: meta.startTime,
      endTime: meta.endTime,
      nNeurons,
      timeStep: dt,
      episodes,
      checkpoints: loader.listCheckpoints(),
      groups,
      datasets,
      totals,
    };
  } finally {
    loader.close();
  }
}

/** Every group and dataset under `/`, depth first in name order. */
async function walkFile(file: string): Promise<{ groups: string[]; datasets: DatasetEntry[] }> {
  const reader = await H5Reader.open(file);
  const storage = new StorageReader(file);
  try {
    const groups: string[] = ["/"];
    const datasets: DatasetEntry[] = [];
    const seen = new Map<bigint, string>();
    const visit = (group: string) => {
      for (const name of reader.keys(group)) {
        const path = group === "/" ? `/${name}` : `${group}/${name}`;
        const kind = reader.kind(path);
        if (kind === "group") {
          groups.push(path);
          visit(path);
        } else if (kind === "dataset") {
          datasets.push(describe(reader, storage, seen, path));
        }
      }
    };
    visit("/");
    return { groups, datasets };
  } finally {
    storage.close();
    reader.close();
  }
}

function describe(reader: H5Reader, storage: StorageReader, seen: Map<bigint, string>, path: string): DatasetEntry {
  const info = reader.info(path);
  const elements = info.shape.reduce((a, b) => a * b, 1);
  const rawBytes = info.dtype === "string" ? null : elements * dtypeSize(info.dtype as Dtype);
  const entry: DatasetEntry = {
    path,
    shape: info.shape,
    dtype: info.dtype,
    chunks: info.chunks,
    filters: info.filters,
    layout: "unknown",
    rawBytes,
    storedBytes: null,
  };
  const address = reader.objectAddress(path);
  if (address === null) {
    entry.storedNote = "no object address";
    return entry;
  }
  const first = seen.get(address);
  if (first !== undefined) entry.linkTo = first;
  else seen.set(address, path);
  const s = storage.datasetStorage(address);
  entry.layout = s.layout;
  entry.storedBytes = s.storedBytes;
  if (s.reason) entry.storedNote = s.reason;
  return entry;
}

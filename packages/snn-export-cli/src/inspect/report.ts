/**
 * What `snn-export inspect` reports: every group and dataset of an experiment file with shape,
 * dtype, chunks, filters, raw and stored size, a summary of the episode table, and the events by
 * type. Episode groups (format 1.x) beyond the first of their parent are summarised, not listed.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { dtypeSize, type Dtype } from "snn-export/dtypes";
import { H5Reader, StorageReader } from "snn-export/h5";
import { GROUPS, STREAMS, V1 } from "snn-export/schema";
import { ExperimentLoader, neuronCount, timeStep, type TimeStep } from "snn-export";
import { summarizeEpisodes, type EpisodeSummary, type EpisodeTable } from "./episodes.js";

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

/**
 * Episode groups of one parent beyond the first (format 1.x `/episodes/episode_NNNN`, 2.x
 * `/episode_static/episode_NNNN`), summarised instead of listed. Their sizes are read when there
 * are at most {@link WALK_COLLAPSED} of them, else not (null).
 */
export interface CollapsedGroups {
  parent: string;
  /** Names of the first and last collapsed group. */
  first: string;
  last: string;
  groups: number;
  datasets: number | null;
  rawBytes: number | null;
  storedBytes: number | null;
}

/** Event counts by type, over the whole experiment. */
export interface EventSummary {
  /** Events in the file; null when they were not counted (`note` says why). */
  total: number | null;
  /** Events whose types were counted: all of them, or (without `all`) the first {@link COUNT_EVENTS}. */
  counted: number;
  /** Types by count (most first), at most {@link MAX_EVENT_TYPES}. */
  types: Array<{ type: string; count: number }>;
  /** Distinct types beyond those listed. */
  moreTypes: number;
  note?: string;
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
  episodes: EpisodeSummary;
  events: EventSummary;
  checkpoints: string[];
  groups: string[];
  datasets: DatasetEntry[];
  /** Episode groups not listed one by one (empty with `all`). */
  collapsed: CollapsedGroups[];
  totals: {
    datasets: number;
    /** Sum of rawBytes over datasets that have one (links counted once), collapsed groups included when read. */
    rawBytes: number;
    /** Sum of storedBytes over datasets stored in their own right (links counted once). */
    storedBytes: number;
    /** rawBytes over the datasets whose storedBytes is known, for the ratio. */
    rawBytesOfStored: number;
    /** Stored bytes of those same datasets. */
    storedBytesOfRaw: number;
    /** True when some collapsed groups were not read: the totals leave them out. */
    partial: boolean;
  };
}

/** Collapsed episode groups are read for their sizes up to this many. */
const WALK_COLLAPSED = 100;
/** Event types listed. */
const MAX_EVENT_TYPES = 1000;
/** Event types counted without `all` (reading a type costs about 3 µs: 200,000 take 0.6 s). */
const COUNT_EVENTS = 200_000;
/** Format 1.x files: without `all`, events are counted when there are at most this many episode groups. */
const COUNT_EVENTS_V1 = 1000;

/** What {@link inspectExperiment} returns: the report, and the episode table it summarises. */
export interface Inspection {
  report: InspectReport;
  table: EpisodeTable;
}

/**
 * Opens `dirOrFile` (loader checks: exists, HDF5, snn-export format) and builds the report. The
 * episode table is read once (`loader.episodes()`); no episode is opened. `all`: list the
 * datasets of every episode group (format 1.x) instead of the first.
 */
export async function inspectExperiment(dirOrFile: string, options: { all?: boolean } = {}): Promise<Inspection> {
  const loader = await ExperimentLoader.open(dirOrFile);
  try {
    const file = loader.filePath;
    const meta = loader.getMetadata();
    const root = loader.rootAttributes;
    const config = loader.getConfig();
    const dt = timeStep(config);
    const nNeurons = neuronCount(loader);
    const table = loader.episodes();
    const walk = await walkFile(file, options.all === true);
    const { groups, datasets, collapsed } = walk;
    const totals = { datasets: datasets.length, rawBytes: 0, storedBytes: 0, rawBytesOfStored: 0, storedBytesOfRaw: 0, partial: false };
    for (const d of datasets) {
      if (d.linkTo) continue;
      if (d.rawBytes !== null) totals.rawBytes += d.rawBytes;
      if (d.storedBytes !== null) totals.storedBytes += d.storedBytes;
      if (d.rawBytes !== null && d.storedBytes !== null) {
        totals.rawBytesOfStored += d.rawBytes;
        totals.storedBytesOfRaw += d.storedBytes;
      }
    }
    for (const c of collapsed) {
      if (c.datasets === null) {
        totals.partial = true;
        continue;
      }
      totals.datasets += c.datasets;
      totals.rawBytes += c.rawBytes ?? 0;
      totals.storedBytes += c.storedBytes ?? 0;
    }
    const report: InspectReport = {
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
      episodes: summarizeEpisodes(table),
      events: walk.events,
      checkpoints: loader.listCheckpoints(),
      groups,
      datasets,
      collapsed,
      totals,
    };
    return { report, table };
  } finally {
    loader.close();
  }
}

/** Every group and dataset under `/`, depth first in name order; episode groups after the first collapsed unless `all`. */
async function walkFile(file: string, all: boolean): Promise<{ groups: string[]; datasets: DatasetEntry[]; collapsed: CollapsedGroups[]; events: EventSummary }> {
  const reader = await H5Reader.open(file);
  const storage = new StorageReader(file);
  try {
    const groups: string[] = ["/"];
    const datasets: DatasetEntry[] = [];
    const collapsed: CollapsedGroups[] = [];
    const seen = new Map<bigint, string>();
    const join = (group: string, name: string) => (group === "/" ? `/${name}` : `${group}/${name}`);
    const visit = (group: string, into: { groups: string[]; datasets: DatasetEntry[] }) => {
      const names = reader.keys(group);
      const episodeGroups = all ? [] : names.filter((n) => V1.episodeRe.test(n) && reader.kind(join(group, n)) === "group");
      const hidden = new Set(episodeGroups.slice(1));
      for (const name of names) {
        if (hidden.has(name)) continue;
        const path = join(group, name);
        const kind = reader.kind(path);
        if (kind === "group") {
          into.groups.push(path);
          visit(path, into);
        } else if (kind === "dataset") {
          into.datasets.push(describe(reader, storage, seen, path));
        }
      }
      if (hidden.size === 0) return;
      const rest = episodeGroups.slice(1);
      const c: CollapsedGroups = { parent: group, first: rest[0], last: rest[rest.length - 1], groups: rest.length, datasets: null, rawBytes: null, storedBytes: null };
      if (rest.length <= WALK_COLLAPSED) {
        const inner = { groups: [] as string[], datasets: [] as DatasetEntry[] };
        for (const name of rest) visit(join(group, name), inner);
        const own = inner.datasets.filter((d) => !d.linkTo);
        c.datasets = inner.datasets.length;
        c.rawBytes = own.reduce((a, d) => a + (d.rawBytes ?? 0), 0);
        c.storedBytes = own.reduce((a, d) => a + (d.storedBytes ?? 0), 0);
      }
      collapsed.push(c);
    };
    visit("/", { groups, datasets });
    return { groups, datasets, collapsed, events: countEvents(reader, all) };
  } finally {
    storage.close();
    reader.close();
  }
}

/**
 * Event counts by type: the experiment-wide `/events/types` (2.x), else each episode group's (1.x,
 * up to {@link COUNT_EVENTS_V1} groups unless `all`). Without `all`, the types of the first
 * {@link COUNT_EVENTS} events only.
 */
function countEvents(reader: H5Reader, all: boolean): EventSummary {
  const counts = new Map<string, number>();
  const limit = all ? Infinity : COUNT_EVENTS;
  let total = 0;
  let counted = 0;
  const count = (path: string) => {
    if (reader.kind(path) !== "dataset") return;
    const rows = reader.info(path).shape[0] ?? 0;
    total += rows;
    const end = Math.min(rows, Math.max(0, limit - counted));
    for (let s = 0; s < end; s += 65536) {
      for (const t of reader.readStringRows(path, s, Math.min(end, s + 65536))) counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    counted += end;
  };
  if (reader.kind(STREAMS.events.types) === "dataset") count(STREAMS.events.types);
  else {
    const groups = reader.keys(GROUPS.episodes).filter((n) => V1.episodeRe.test(n));
    if (!all && groups.length > COUNT_EVENTS_V1) {
      return { total: null, counted: 0, types: [], moreTypes: 0, note: `not counted: ${groups.length} episode groups (format 1.x keeps events per episode); --all counts them` };
    }
    for (const g of groups) count(`${GROUPS.episodes}/${g}/events/types`);
  }
  const types = [...counts].map(([type, n]) => ({ type, count: n })).sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : 1));
  return { total, counted, types: types.slice(0, MAX_EVENT_TYPES), moreTypes: Math.max(0, types.length - MAX_EVENT_TYPES) };
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

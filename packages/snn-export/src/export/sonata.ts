/**
 * Export of an experiment's spikes to a SONATA spike file (the format of bmtk, libsonata and the
 * NEST/NEURON tooling):
 *
 *   / attributes magic (uint32 0x0A7A) and version (uint32 [0, 1])
 *   /spikes/<population>/timestamps  float64 [S], attribute units = "ms"
 *   /spikes/<population>/node_ids    uint64 [S]
 *   /spikes/<population> attribute sorting: the HDF5 enum {none 0, by_id 1, by_time 2} = by_time
 *   /snn_export/episodes/            the exported episodes' boundaries (outside /spikes, which SONATA readers read)
 *
 * Episodes are laid one after another on one time axis (timeline.ts), in milliseconds; within a
 * step the spikes keep the file's order (ascending neuron id). One pass over the spikes, in time
 * order, written as it is read.
 */
import { ValidationError } from "../errors.js";
import { createWriter, type Compression, type Writer } from "../h5/index.js";
import { ExperimentLoader } from "../loader/experiment.js";
import { ChunkAppender } from "./appender.js";
import { checkOutput, discardOutput, timeline } from "./timeline.js";

const SONATA_SORTING: [string, number][] = [["none", 0], ["by_id", 1], ["by_time", 2]];

export interface SonataExportOptions {
  episodes?: number[];
  /** The population name (default `snn`). */
  population?: string;
  compression?: Compression;
}

export interface SonataSummary {
  out: string;
  population: string;
  episodes: number;
  spikes: number;
  dtMs: number;
  dtSource: string;
}

const CHUNK = 1 << 17;
const BLOCK_SPIKES = 1 << 20;

/** Exports the spikes of the experiment at `dirOrFile` to the SONATA spike file `out`. */
export async function exportSonata(dirOrFile: string, out: string, options: SonataExportOptions = {}): Promise<SonataSummary> {
  const population = options.population ?? "snn";
  if (population === "" || population.includes("/") || population === "." || population === "..") {
    throw new ValidationError("INVALID_DATA", `population ${JSON.stringify(population)} must be a non-empty name without "/"`);
  }
  const compression = options.compression ?? { kind: "gzip", level: 4 };
  checkOutput(dirOrFile, out);
  const loader = await ExperimentLoader.open(dirOrFile);
  let w: Writer | null = null;
  try {
    const tl = timeline(loader, options.episodes);
    w = await createWriter(out, "ts");
    w.createGroup("/");
    w.setScalarAttr("/", "magic", 0x0a7a, "uint32");
    w.setAttr("/", "version", Uint32Array.of(0, 1));
    const g = `/spikes/${population}`;
    w.createGroup(g);
    w.setEnumAttr(g, "sorting", SONATA_SORTING, 2);
    const times = new ChunkAppender(w.createColumn(`${g}/timestamps`, { dtype: "float64", rowShape: [], chunkRows: CHUNK, compression }), "float64");
    const nodes = new ChunkAppender(w.createColumn(`${g}/node_ids`, { dtype: "uint64", rowShape: [], chunkRows: CHUNK, compression }), "uint64");
    w.setAttr(`${g}/timestamps`, "units", "ms");
    const n = tl.episodes.length;
    const epId = new BigInt64Array(n), startMs = new Float64Array(n), stopMs = new Float64Array(n), rows = new BigInt64Array(2 * n);
    let total = 0;
    let tBuf = new Float64Array(0);
    let idBuf = new BigUint64Array(0);
    let idWords = new Uint32Array(0); // idBuf's 32-bit halves (little-endian): low = id, high = 0
    tl.episodes.forEach((e, i) => {
      epId[i] = BigInt(e.id);
      startMs[i] = e.offsetSteps * tl.dt.ms;
      stopMs[i] = (e.offsetSteps + e.lengthSteps) * tl.dt.ms;
    });
    for (let i = 0; i < n; i++) {
      const span = tl.episodes[i];
      rows[2 * i] = BigInt(total);
      if (span.totalSpikes > 0 && span.totalTimesteps > 0) {
        const steps = Math.max(1, Math.min(1 << 20, Math.floor(BLOCK_SPIKES / Math.max(span.totalSpikes / span.totalTimesteps, 1e-9))));
        const base = span.offsetSteps - span.firstTimestep;
        for await (const b of loader.getEpisode(span.id).spikeBlocks({ steps })) {
          const k = b.neuronIds.length;
          if (k === 0) continue;
          if (tBuf.length < k) {
            tBuf = new Float64Array(k);
            idBuf = new BigUint64Array(k);
            idWords = new Uint32Array(idBuf.buffer);
          }
          const ts = b.timesteps, ids = b.neuronIds, dtMs = tl.dt.ms;
          for (let j = 0; j < k; j++) {
            tBuf[j] = (base + ts[j]) * dtMs;
            idWords[2 * j] = ids[j];
          }
          times.push(tBuf, k);
          nodes.push(idBuf, k);
          total += k;
        }
      }
      rows[2 * i + 1] = BigInt(total);
    }
    times.finish();
    nodes.finish();
    const eg = "/snn_export/episodes";
    w.createGroup(eg);
    w.setAttr(eg, "description", "the exported snn-export episodes, one after another on the time axis of /spikes (ms); spike_rows: [first, end) rows of the population's datasets");
    w.setAttr("/snn_export", "dt_ms", tl.dt.ms);
    w.setAttr("/snn_export", "dt_source", tl.dt.source);
    w.writeArray(`${eg}/episode_id`, epId, [n], compression);
    w.writeArray(`${eg}/start_ms`, startMs, [n], compression);
    w.writeArray(`${eg}/stop_ms`, stopMs, [n], compression);
    w.writeArray(`${eg}/spike_rows`, rows, [n, 2], compression);
    w.close();
    w = null;
    return { out, population, episodes: n, spikes: total, dtMs: tl.dt.ms, dtSource: tl.dt.source };
  } catch (err) {
    discardOutput(w, out);
    throw err;
  } finally {
    loader.close();
  }
}

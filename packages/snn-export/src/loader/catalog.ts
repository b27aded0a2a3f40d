/**
 * The episodes of an open file, found once when it is opened: 1.x by listing the episode groups,
 * 2.x by reading the episode table. Looking an episode up is then O(1).
 */
import { V1, GROUPS } from "../schema.js";
import type { EpisodeBackend } from "./backend.js";
import { V1Episode, v1Attrs } from "./episode-v1.js";
import { V2Episode, V2Streams } from "./episode-v2.js";
import type { Source } from "./read.js";
import { isoToUnix, V2Table } from "./table.js";
import type { EpisodeTable } from "./types.js";

/**
 * The episodes of a file as one format version finds them.
 *
 * @example
 * ```ts
 * const catalog = openCatalog(src, 2);
 * if (catalog.has(0)) console.log(catalog.backend(0).timesteps());
 * ```
 */
export interface EpisodeCatalog {
  /** Number of episodes. */
  readonly count: number;
  /** Their ids, ascending. */
  ids(): number[];
  has(id: number): boolean;
  /** The episode `id` (which must exist). */
  backend(id: number): EpisodeBackend;
  /** The episode table as columns. */
  table(): EpisodeTable;
}

/**
 * The catalog of a file of format major `major` (1 or 2).
 *
 * @example
 * ```ts
 * const catalog = openCatalog(src, 1);
 * ```
 */
export function openCatalog(src: Source, major: number): EpisodeCatalog {
  return major === 1 ? new V1Catalog(src) : new V2Catalog(src);
}

/** 1.x: the `episode_NNNN` groups, listed once. */
class V1Catalog implements EpisodeCatalog {
  private readonly groups: Map<number, string>;

  constructor(private readonly src: Source) {
    const found: Array<[number, string]> = [];
    for (const name of src.keys(GROUPS.episodes)) {
      const m = V1.episodeRe.exec(name);
      const path = `${GROUPS.episodes}/${name}`;
      if (m && src.kind(path) === "group") found.push([Number(m[1]), path]);
    }
    this.groups = new Map(found.sort((a, b) => a[0] - b[0]));
  }

  get count(): number {
    return this.groups.size;
  }

  ids(): number[] {
    return [...this.groups.keys()];
  }

  has(id: number): boolean {
    return this.groups.has(id);
  }

  backend(id: number): EpisodeBackend {
    return new V1Episode(this.src, id, this.groups.get(id) as string);
  }

  /** Built from every episode group's attributes (one attribute read per episode). */
  table(): EpisodeTable {
    const n = this.groups.size;
    const f = () => new Float64Array(n).fill(NaN);
    const t: EpisodeTable = {
      ids: Float64Array.from(this.groups.keys()), status: [], success: new Int8Array(n).fill(-1),
      totalTimesteps: f(), totalSpikes: f(), totalReward: f(), firstTimestep: f(), lastTimestep: f(),
      neuralSamplingRate: f(), startTime: f(), endTime: f(),
    };
    let i = 0;
    for (const path of this.groups.values()) {
      const a = v1Attrs(this.src, path);
      t.status.push(typeof a.status === "string" ? a.status : "");
      if (typeof a.success === "boolean") t.success[i] = a.success ? 1 : 0;
      const put = (col: Float64Array, v: unknown) => (col[i] = typeof v === "number" ? v : NaN);
      put(t.totalTimesteps, a.total_timesteps);
      put(t.totalSpikes, a.total_spikes);
      put(t.totalReward, a.total_reward);
      put(t.firstTimestep, a.first_timestep);
      put(t.lastTimestep, a.last_timestep);
      put(t.neuralSamplingRate, a.neural_sampling_rate);
      t.startTime[i] = isoToUnix(a.start_time);
      t.endTime[i] = isoToUnix(a.end_time);
      i++;
    }
    return t;
  }
}

/** 2.x: the episode table, read once; row i is episode i. */
class V2Catalog implements EpisodeCatalog {
  private readonly tableV2: V2Table;
  private readonly streams: V2Streams;

  constructor(private readonly src: Source) {
    this.tableV2 = V2Table.read(src);
    this.streams = V2Streams.read(src);
  }

  get count(): number {
    return this.tableV2.length;
  }

  ids(): number[] {
    return Array.from({ length: this.tableV2.length }, (_, i) => i);
  }

  has(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.tableV2.length;
  }

  backend(id: number): EpisodeBackend {
    return new V2Episode(this.src, this.tableV2, this.streams, id);
  }

  table(): EpisodeTable {
    return this.tableV2.columns();
  }
}

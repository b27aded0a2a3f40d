/**
 * The episode table (`/episodes/<column>`): one row per episode with its status, totals, times and
 * the rows it owns in every stream. An ended episode's row is final; the open episode's row is
 * written provisionally at each flush (status `running`, counters as of the flush) and rewritten
 * when the episode ends.
 */
import type { AttrValue, Compression, StringColumn, Writer } from "../h5/index.js";
import { EPISODE_CHUNK_ROWS, EPISODE_COLUMNS, EPISODES, RANGE_COLUMNS, type EpisodeStatusName, type RangeName } from "../schema.js";
import { ChunkedStream } from "./stream.js";

/** Where an episode's rows start or end in each stream. */
export type StreamRows = Record<RangeName, number>;

/** Everything the table stores about one episode. */
export interface EpisodeRecord {
  id: number;
  status: EpisodeStatusName;
  /** true, false, or undefined (not given). */
  success: boolean | undefined;
  steps: number;
  totalSpikes: number;
  totalReward: number;
  firstTimestep: number;
  lastTimestep: number;
  samplingRate: number;
  /** Unix seconds. */
  startTime: number;
  /** Unix seconds, NaN while running. */
  endTime: number;
  start: StreamRows;
  end: StreamRows;
  /** JSON text, "" when none. */
  summary: string;
}

const RANGE_BY_COLUMN = new Map<string, RangeName>(Object.entries(RANGE_COLUMNS).map(([k, v]) => [v, k as RangeName]));

export class EpisodeTable {
  private readonly cols = new Map<string, ChunkedStream>();
  private summaries: StringColumn | null = null;
  private pendingSummaries: string[] = [];
  private provisional = false;

  constructor(private readonly writer: Writer, compression: Compression) {
    for (const c of EPISODE_COLUMNS) {
      const attrs: Record<string, AttrValue> | undefined = c.name === "status" ? { [EPISODES.statusCodesAttr]: JSON.stringify(Object.fromEntries(EPISODES.statusCodes.map((s, i) => [i, s]))) }
        : c.name === "start_time" || c.name === "end_time" ? { [EPISODES.timeUnitAttr]: EPISODES.timeUnit } : undefined;
      this.cols.set(c.name, new ChunkedStream(writer, `${EPISODES.group}/${c.name}`, {
        bufDtype: "float64", diskDtype: c.dtype, rowShape: c.range ? [2] : [], chunkRows: EPISODE_CHUNK_ROWS, compression, attrs, atomic: true,
      }));
    }
  }

  /** Appends the final row of an ended episode. */
  commit(r: EpisodeRecord): void {
    this.put(r);
    for (const s of this.cols.values()) s.commitStaged();
    this.pendingSummaries.push(r.summary);
    this.provisional = false;
  }

  /** Writes everything committed, plus `open` (the open episode, as it stands) provisionally. */
  flush(open: EpisodeRecord | null): void {
    if (open) this.put(open);
    for (const s of this.cols.values()) s.flushPartial(open ? 1 : 0);
    this.provisional = open !== null;
    this.writeSummaries();
  }

  /** Writes every row and creates the columns of an empty table (at close). */
  finish(): void {
    for (const s of this.cols.values()) s.finish();
    this.writeSummaries();
  }

  /** Whether the last flush wrote a provisional row (the open episode's). */
  get hasProvisional(): boolean {
    return this.provisional;
  }

  private writeSummaries(): void {
    this.summaries ??= this.writer.createStringColumn(EPISODES.summary, EPISODE_CHUNK_ROWS, { atomic: true });
    this.summaries.append(this.pendingSummaries);
    this.pendingSummaries = [];
  }

  /** Stages `r` as every column's next row, without appending it. */
  private put(r: EpisodeRecord): void {
    const value: Record<string, number> = {
      episode_id: r.id,
      status: EPISODES.statusCodes.indexOf(r.status),
      success: r.success === undefined ? -1 : r.success ? 1 : 0,
      total_timesteps: r.steps,
      total_spikes: r.totalSpikes,
      total_reward: r.totalReward,
      first_timestep: r.firstTimestep,
      last_timestep: r.lastTimestep,
      neural_sampling_rate: r.samplingRate,
      start_time: r.startTime,
      end_time: r.endTime,
    };
    for (const [name, s] of this.cols) {
      const range = RANGE_BY_COLUMN.get(name);
      if (range) {
        s.stage(0, r.start[range]);
        s.stage(1, r.end[range]);
      } else s.stage(0, value[name]);
    }
  }
}

/**
 * The format 2.x episode table (`/episodes/<column>`, row i = episode i), read once when the file
 * is opened and kept, so that every episode's rows and counters are an array lookup.
 */
import { FormatError } from "../errors.js";
import { LIVE_HINT } from "../h5/reader.js";
import { EPISODES, EPISODE_COLUMNS, RANGE_COLUMNS, type RangeName } from "../schema.js";
import { parseJson, type NumberArray, type Source } from "./read.js";
import type { EpisodeAttributes, EpisodeTable } from "./types.js";
import { commonLength } from "./values.js";

/** Rows `[start, end)` of a stream. */
export type Rows = [start: number, end: number];

/**
 * The episode table of a 2.x file, every numeric column read in one pass (the `summary` text
 * column is read row by row when asked for).
 *
 * @example
 * ```ts
 * const table = V2Table.read(src);
 * const [first, end] = table.rows(3, "steps");
 * ```
 */
export class V2Table {
  private constructor(
    private readonly src: Source,
    private readonly cols: Map<string, NumberArray>,
    /** Episodes in the table. */
    readonly length: number,
    private readonly statusNames: readonly string[],
  ) {}

  /**
   * Reads every numeric column of `/episodes`, all as of one moment of a file being written
   * ({@link Source.together}). A file without any column has no episodes, and so has a file
   * opened live whose writer is creating them (an `enableSwmr` writer adds them one by one).
   */
  static read(src: Source): V2Table {
    return src.together(() => V2Table.readColumns(src));
  }

  private static readColumns(src: Source): V2Table {
    const present = EPISODE_COLUMNS.filter((c) => src.kind(column(c.name)) === "dataset");
    if (present.length === 0 || (src.live && present.length < EPISODE_COLUMNS.length)) {
      return new V2Table(src, new Map(EPISODE_COLUMNS.map((c) => [c.name, new Float64Array(0)])), 0, EPISODES.statusCodes);
    }
    if (present.length < EPISODE_COLUMNS.length) {
      const missing = EPISODE_COLUMNS.filter((c) => !present.includes(c)).map((c) => c.name);
      const hint = src.partial ? `; ${LIVE_HINT}` : "";
      throw new FormatError("INVALID_DATA", `the episode table ${EPISODES.group} of ${src.filePath} has no column ${missing.join(", ")}${hint}`);
    }
    const cols = new Map<string, NumberArray>();
    const lengths: Record<string, number> = {};
    for (const c of EPISODE_COLUMNS) {
      const a = src.numeric(column(c.name));
      const ok = c.range ? a.shape.length === 2 && a.shape[1] === 2 : a.shape.length === 1;
      if (!ok) {
        throw new FormatError("INVALID_DATA", `${column(c.name)} in ${src.filePath} has shape ${JSON.stringify(a.shape)}, expected ${c.range ? "[N, 2]" : "[N]"}`);
      }
      cols.set(c.name, a.data as NumberArray);
      lengths[c.name] = a.shape[0];
    }
    // a writer killed mid-flush may leave columns of different lengths: the rows all of them have
    const n = commonLength(lengths, src.partial, EPISODES.group);
    return new V2Table(src, cols, n, statusNames(src));
  }

  private col(name: string): NumberArray {
    return this.cols.get(name) as NumberArray;
  }

  /** The rows of the stream `range` that episode `i` owns, as stored. */
  rows(i: number, range: RangeName): Rows {
    const c = this.col(RANGE_COLUMNS[range]);
    return [c[2 * i], c[2 * i + 1]];
  }

  /** Stored status of episode `i` (`running`, `completed`, `incomplete`). */
  status(i: number): string {
    const code = this.col("status")[i];
    return this.statusNames[code] ?? `unknown status code ${code}`;
  }

  /** The status to report: a `running` episode of an interrupted file is `interrupted`. */
  reportedStatus(i: number): string {
    const s = this.status(i);
    return s === "running" && this.src.interrupted ? "interrupted" : s;
  }

  /** Episode `i`'s attributes, with the keys and types of a 1.x episode group's. */
  attrs(i: number): EpisodeAttributes {
    const num = (name: string) => this.col(name)[i];
    const success = num("success");
    const out: EpisodeAttributes = {
      episode_id: num("episode_id"),
      status: this.reportedStatus(i),
      success: success < 0 ? null : success > 0,
      total_timesteps: num("total_timesteps"),
      total_spikes: num("total_spikes"),
      total_reward: num("total_reward"),
      first_timestep: num("first_timestep"),
      last_timestep: num("last_timestep"),
      neural_sampling_rate: num("neural_sampling_rate"),
    };
    const start = unixToIso(num("start_time"));
    const end = unixToIso(num("end_time"));
    if (start !== undefined) out.start_time = start;
    if (end !== undefined) out.end_time = end;
    return out;
  }

  /** Episode `i`'s summary (JSON text, `""` for none): parsed, or null. */
  summary(i: number): unknown {
    const [text] = this.src.stringRows(EPISODES.summary, i, i + 1);
    return text === undefined || text === "" ? null : parseJson(text, `${EPISODES.summary}[${i}]`);
  }

  /** The table as the public {@link EpisodeTable} (copies: the caller may change them). */
  columns(): EpisodeTable {
    const n = this.length;
    const f = (name: string) => Float64Array.from(this.col(name).subarray(0, n));
    return {
      ids: f("episode_id"),
      status: Array.from({ length: n }, (_, i) => this.reportedStatus(i)),
      success: Int8Array.from(this.col("success").subarray(0, n), (s) => (s < 0 ? -1 : s > 0 ? 1 : 0)),
      totalTimesteps: f("total_timesteps"),
      totalSpikes: f("total_spikes"),
      totalReward: f("total_reward"),
      firstTimestep: f("first_timestep"),
      lastTimestep: f("last_timestep"),
      neuralSamplingRate: f("neural_sampling_rate"),
      startTime: f("start_time"),
      endTime: f("end_time"),
    };
  }
}

function column(name: string): string {
  return `${EPISODES.group}/${name}`;
}

/** The code -> name map of the `status` column: its `codes` attribute, else the schema's. */
function statusNames(src: Source): readonly string[] {
  const attr = src.attrs(column("status"))[EPISODES.statusCodesAttr];
  if (typeof attr !== "string") return EPISODES.statusCodes;
  const map = parseJson(attr, `attribute ${EPISODES.statusCodesAttr} of ${column("status")}`);
  if (Array.isArray(map)) return map.map(String);
  if (typeof map !== "object" || map === null) return EPISODES.statusCodes;
  const names: string[] = [...EPISODES.statusCodes];
  for (const [code, name] of Object.entries(map)) if (/^\d+$/.test(code)) names[Number(code)] = String(name);
  return names;
}

/**
 * Seconds since the Unix epoch as an ISO 8601 UTC string (millisecond precision, as 1.x wrote
 * them); undefined for NaN.
 *
 * @example
 * ```ts
 * unixToIso(1704110401.5); // "2024-01-01T12:00:01.500Z"
 * ```
 */
export function unixToIso(seconds: number): string | undefined {
  return Number.isFinite(seconds) ? new Date(Math.round(seconds * 1000)).toISOString() : undefined;
}

/**
 * An ISO 8601 string as seconds since the Unix epoch; NaN when absent or not a date.
 *
 * @example
 * ```ts
 * isoToUnix("2024-01-01T12:00:01.500Z"); // 1704110401.5
 * ```
 */
export function isoToUnix(iso: unknown): number {
  return typeof iso === "string" ? Date.parse(iso) / 1000 : NaN;
}

/**
 * The experiment-wide streams of things that happen now and then: weight changes and events.
 * Rows are appended in the order they are logged; nothing is kept once it is on disk.
 */
import { ValidationError } from "../errors.js";
import { toJsonText } from "../encoding/json.js";
import type { Compression, StringColumn, Writer } from "../h5/index.js";
import { STREAMS, WEIGHT_CHANGE_COLUMNS } from "../schema.js";
import { ChunkedStream } from "./stream.js";
import type { EventInput, WeightChangeInput } from "./types.js";
import { checkFinite, checkKnownKeys, checkText, checkTimestep, shown } from "./validate.js";

/** The keys of `logWeightChange()`'s argument. */
const WEIGHT_CHANGE_KEYS = ["timestep", "synapseId", "sourceId", "targetId", "oldWeight", "newWeight"] as const;

/** Rows per chunk of the weight-change and event columns (at most the chunk size). */
const RECORD_CHUNK_ROWS = 4096;

/** Throws the error of a bad weight-change id (`limit`: the network size it must be below, when checked). */
function badId(v: unknown, what: string, limit: number | null, of: string): never {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new ValidationError("INVALID_DATA", `logWeightChange(): ${what} ${shown(v)} is not an integer; ids are integers from 0`);
  }
  if (v < 0) throw new ValidationError("OUT_OF_RANGE", `logWeightChange(): ${what} ${v} is not a non-negative integer`);
  if (!Number.isSafeInteger(v)) throw new ValidationError("OUT_OF_RANGE", `logWeightChange(): ${what} ${v} is not below 2^53`);
  throw new ValidationError("OUT_OF_RANGE", `logWeightChange(): ${what} ${v} is not below ${limit}, the size of the saved network (its number of ${of})`);
}

/** `/weight_changes/*`: one row per change, six columns. */
export class WeightChangeStreams {
  private readonly cols: ChunkedStream[];

  constructor(w: Writer, chunkSize: number, compression: Compression) {
    const chunkRows = Math.min(chunkSize, RECORD_CHUNK_ROWS);
    this.cols = WEIGHT_CHANGE_COLUMNS.map(([name, dtype]) =>
      new ChunkedStream(w, `${STREAMS.weightChanges.group}/${name}`, { bufDtype: "float64", diskDtype: dtype, rowShape: [], chunkRows, compression }));
  }

  /** Rows so far. */
  get length(): number {
    return this.cols[0].length;
  }

  /**
   * Validates a weight change, then appends it. With `validate`, weights must be finite and ids
   * below the network's sizes where known (`neurons`, `synapses`: null when not known).
   */
  add(c: WeightChangeInput, validate: boolean, neurons: number | null, synapses: number | null): void {
    if (c === null || typeof c !== "object") throw new ValidationError("INVALID_DATA", "logWeightChange() takes { timestep, synapseId | sourceId+targetId, oldWeight, newWeight }");
    checkKnownKeys(c, WEIGHT_CHANGE_KEYS, "logWeightChange()");
    const t = checkTimestep(c.timestep, "logWeightChange()");
    const { synapseId: syn, sourceId: src, targetId: dst } = c;
    // a synapse id, a (source, target) pair, or both; never half a pair
    if ((src === undefined) !== (dst === undefined) || (syn === undefined && src === undefined)) {
      throw new ValidationError("INVALID_DATA", "logWeightChange(): give either synapseId, or both sourceId and targetId");
    }
    const nSyn = validate ? synapses : null;
    const nNeu = validate ? neurons : null;
    if (syn !== undefined && !(Number.isSafeInteger(syn) && syn >= 0 && (nSyn === null || syn < nSyn))) badId(syn, "synapseId", nSyn, "synapses");
    if (src !== undefined && !(Number.isSafeInteger(src) && src >= 0 && (nNeu === null || src < nNeu))) badId(src, "sourceId", nNeu, "neurons");
    if (dst !== undefined && !(Number.isSafeInteger(dst) && dst >= 0 && (nNeu === null || dst < nNeu))) badId(dst, "targetId", nNeu, "neurons");
    const oldWeight = validate ? checkFinite(c.oldWeight, "logWeightChange(): oldWeight") : Number(c.oldWeight);
    const newWeight = validate ? checkFinite(c.newWeight, "logWeightChange(): newWeight") : Number(c.newWeight);
    const [timestep, synapse, source, target, before, after] = this.cols;
    timestep.push(t);
    synapse.push(syn ?? -1);
    source.push(src ?? -1);
    target.push(dst ?? -1);
    before.push(oldWeight);
    after.push(newWeight);
  }

  flush(): void {
    for (const s of this.cols) s.flushPartial();
  }

  finish(): void {
    for (const s of this.cols) s.finish();
  }
}

/**
 * `/events/*`: timestep, type and JSON data of each event. The strings wait here until a chunk's
 * worth or a flush, then go to the file in one append (a string is stored once, never rewritten).
 */
export class EventStreams {
  private readonly timesteps: ChunkedStream;
  private types: StringColumn | null = null;
  private data: StringColumn | null = null;
  private pendingTypes: string[] = [];
  private pendingData: string[] = [];

  constructor(private readonly writer: Writer, chunkSize: number, compression: Compression) {
    this.timesteps = new ChunkedStream(writer, STREAMS.events.timesteps, { bufDtype: "float64", diskDtype: "int64", rowShape: [], chunkRows: Math.min(chunkSize, RECORD_CHUNK_ROWS), compression });
  }

  /** Rows so far. */
  get length(): number {
    return this.timesteps.length;
  }

  /** Validates an event, then appends it. */
  add(e: EventInput): void {
    if (e === null || typeof e !== "object") throw new ValidationError("INVALID_DATA", "logEvent() takes { timestep, type, data }");
    checkKnownKeys(e, ["timestep", "type", "data"], "logEvent()");
    const t = checkTimestep(e.timestep, "logEvent()");
    if (typeof e.type !== "string" || e.type === "") throw new ValidationError("INVALID_DATA", `logEvent(): type must be a non-empty string, got ${JSON.stringify(e.type)}`);
    checkText(e.type, "logEvent(): type");
    const data = toJsonText(e.data ?? null, "logEvent(): data");
    this.pendingTypes.push(e.type);
    this.pendingData.push(data);
    this.timesteps.push(t);
    if (this.pendingTypes.length >= RECORD_CHUNK_ROWS) this.writeStrings();
  }

  private writeStrings(): void {
    this.types ??= this.writer.createStringColumn(STREAMS.events.types, RECORD_CHUNK_ROWS);
    this.data ??= this.writer.createStringColumn(STREAMS.events.data, RECORD_CHUNK_ROWS);
    this.types.append(this.pendingTypes);
    this.data.append(this.pendingData);
    this.pendingTypes = [];
    this.pendingData = [];
  }

  flush(): void {
    this.timesteps.flushPartial();
    this.writeStrings();
  }

  finish(): void {
    this.timesteps.finish();
    this.writeStrings();
  }
}

/**
 * A column buffered in whole chunks: rows are pushed into its buffer, and every full chunk goes to
 * disk in one write. The on-disk dtype may differ from the buffer's (timesteps are
 * buffered as float64 and stored as int64; spike ids buffered as uint32 and stored in the
 * smallest unsigned type for the neuron count) and may change until the first write creates
 * the dataset.
 */
import { allocate, type Dtype, type NumericArray } from "../dtypes.js";
import { numbersToInt64 } from "../encoding/arrays.js";
import type { AppendColumn, AttrValue, Compression, Writer } from "../h5/index.js";

export interface StreamSpec {
  /** dtype of the in-memory buffer. */
  bufDtype: Dtype;
  /** dtype on disk (see ChunkedStream.setDiskDtype). */
  diskDtype: Dtype;
  rowShape: number[];
  /** Rows per HDF5 chunk on disk. */
  chunkRows: number;
  /** Rows held in memory before a write [chunkRows]; 1 writes every row as it comes (the standard layout). */
  bufferRows?: number;
  compression: Compression;
  /** Attributes set on the dataset when it is created. */
  attrs?: Record<string, AttrValue>;
  /** Commit the column's changes atomically with the other atomic columns (ColumnSpec.atomic). */
  atomic?: boolean;
}

/**
 * Buffers of finished streams, for the streams of the next episode. A stream's buffer lives for a
 * whole episode, long enough to reach V8's old generation, where a dead one waits for a rare
 * full collection: without reuse a long run's RSS crept up by ~2 MiB per episode (quickstart x 10).
 */
const spare = new Map<string, NumericArray[]>();
const SPARE_PER_KIND = 16;

function takeBuffer(dtype: Dtype, n: number): NumericArray {
  return spare.get(`${dtype}:${n}`)?.pop() ?? allocate(dtype, n);
}

function giveBuffer(dtype: Dtype, buf: NumericArray): void {
  const key = `${dtype}:${buf.length}`;
  const list = spare.get(key) ?? [];
  if (list.length < SPARE_PER_KIND) list.push(buf);
  spare.set(key, list);
}

export class ChunkedStream {
  readonly rowSize: number;
  /** Rows the buffer holds; a full buffer is written at once. */
  private readonly chunkRows: number;
  /** The buffered rows, row-major, from the start (`rows * rowSize` elements). */
  private buf: NumericArray;
  /** Rows in the buffer, not yet durable (a flush may have written them as a partial chunk). */
  private rows = 0;
  /** Rows written by full-buffer writes; the buffer's rows go after them. */
  private written = 0;
  /** Buffered rows already written by the last {@link flushPartial}. */
  private partial = 0;
  private col: AppendColumn | null = null;
  private convert: NumericArray | null = null;
  private diskDtype: Dtype;

  constructor(private readonly writer: Writer, readonly path: string, private readonly spec: StreamSpec) {
    this.rowSize = spec.rowShape.reduce((a, b) => a * b, 1);
    this.chunkRows = spec.bufferRows ?? spec.chunkRows;
    this.buf = takeBuffer(spec.bufDtype, this.chunkRows * this.rowSize);
    this.diskDtype = spec.diskDtype;
  }

  /** The dtype on disk from now on; a dataset already created keeps its own. */
  setDiskDtype(dtype: Dtype): void {
    this.diskDtype = dtype;
  }

  /** Rows logged so far (on disk + buffered). */
  get length(): number {
    return this.released ? this.written : this.written + this.rows;
  }

  /** Appends a row of one element. */
  push(value: number): void {
    (this.buf as Float64Array)[this.rows] = value;
    if (++this.rows >= this.chunkRows) this.flush();
  }

  /** Appends a row (`rowSize` elements of the buffer's type). */
  pushRow(row: NumericArray): void {
    (this.buf as Float64Array).set(row as Float64Array, this.rows * this.rowSize);
    if (++this.rows >= this.chunkRows) this.flush();
  }

  /** Appends `rows` rows of `value` in every element (NaN or 0 for steps without a value). */
  pushFill(value: number | bigint, rows: number): void {
    while (rows > 0) {
      const n = Math.min(rows, this.chunkRows - this.rows);
      this.buf.fill(value as never, this.rows * this.rowSize, (this.rows + n) * this.rowSize);
      rows -= n;
      this.advance(n);
    }
  }

  /** Appends the first `count` values of `values` as rows of one element, chunk by chunk. */
  pushMany(values: Uint32Array, count: number): void {
    const buf = this.buf as Uint32Array;
    for (let i = 0; i < count; ) {
      const n = Math.min(this.chunkRows - this.rows, count - i);
      // a few values: a plain loop (a subarray per step cost more than the copy); many: set()
      if (n <= 64) for (let k = 0, at = this.rows; k < n; k++) buf[at + k] = values[i + k];
      else buf.set(values.subarray(i, i + n), this.rows);
      i += n;
      this.advance(n);
    }
  }

  /** Appends a row of zeros with a 1 at each of the first `count` `indices` (a dense spike row). */
  pushOnes(indices: Uint32Array, count: number): void {
    const base = this.rows * this.rowSize;
    const row = this.buf as Uint8Array;
    row.fill(0, base, base + this.rowSize);
    for (let i = 0; i < count; i++) row[base + indices[i]] = 1;
    if (++this.rows >= this.chunkRows) this.flush();
  }

  /**
   * Puts `value` at element `element` of the row after the buffered ones without appending it: a
   * provisional row that {@link flushPartial} writes and {@link commitStaged} appends.
   */
  stage(element: number, value: number): void {
    (this.buf as Float64Array)[this.rows * this.rowSize + element] = value;
  }

  /** Appends the row put together with {@link stage}. */
  commitStaged(): void {
    if (++this.rows >= this.chunkRows) this.flush();
  }

  private advance(n: number): void {
    this.rows += n;
    if (this.rows >= this.chunkRows) this.flush();
  }

  /** Writes the buffered rows (a partial chunk at the end) to disk. */
  flush(): void {
    // a finished stream's buffer is empty and its row count past any chunk: a row committed after
    // finish() comes here at once
    if (this.released) throw new Error(`internal: ${this.path} was written after it was finished`);
    if (this.rows === 0) return;
    const col = this.ensureColumn();
    col.writeAt(this.toDisk(this.rows), this.rows, this.written);
    this.written += this.rows;
    this.rows = 0;
    this.partial = 0;
  }

  /**
   * Makes the buffered rows readable on disk without giving up the buffer: they are written as a
   * partial chunk now and rewritten (as part of the whole chunk) when the buffer fills.
   * `provisional` rows written into the buffer after `rows` (not committed) go to disk with them
   * (the episode table's row of the open episode); they are rewritten at the next flush.
   */
  flushPartial(provisional = 0): void {
    // nothing logged yet: the dataset waits for its first row (or close()), so that its dtype is
    // decided by what is known then (the spike columns' dtypes follow the neuron count)
    if (!this.col && this.rows === 0 && provisional === 0) return;
    const col = this.ensureColumn();
    if (this.rows === this.partial && provisional === 0) return;
    const n = this.rows + provisional;
    col.writeAt(this.toDisk(n), n, this.written);
    this.partial = provisional === 0 ? this.rows : -1;
  }

  /** Flushes and makes sure the dataset exists even when no row was ever logged; the buffers go to the next streams. */
  finish(): void {
    this.finishing = true;
    this.flush();
    this.ensureColumn();
    if (this.released) return;
    this.released = true;
    giveBuffer(this.spec.bufDtype, this.buf);
    if (this.convert) giveBuffer(this.col!.spec.dtype, this.convert);
    this.buf = allocate(this.spec.bufDtype, 0);
    this.convert = null;
    this.rows = this.chunkRows; // (rows = 0 after the flush above): the next advance goes to flush(), which throws
  }

  private released = false;
  private finishing = false;

  private ensureColumn(): AppendColumn {
    if (!this.col) {
      const { rowShape, compression } = this.spec;
      const dtype = this.diskDtype;
      // A dataset first written when its stream finishes (an episode shorter than a chunk and than
      // the flush interval) gets one chunk of exactly its rows: no zero padding to compress and
      // store (an episode of 100 steps would otherwise pad every chunk to chunkSize rows).
      const whole = this.finishing && this.written === 0 && this.rows < this.spec.chunkRows;
      const chunkRows = whole ? Math.max(1, this.rows) : this.spec.chunkRows;
      // a buffer of whole chunks is always written from a chunk start (a flush rewrites the partial one whole)
      this.col = this.writer.createColumn(this.path, { dtype, rowShape, chunkRows, compression, fromChunkStart: whole || this.chunkRows === chunkRows, atomic: this.spec.atomic });
      for (const [name, value] of Object.entries(this.spec.attrs ?? {})) this.writer.setAttr(this.path, name, value);
    }
    return this.col;
  }

  private toDisk(rows: number): NumericArray {
    const n = rows * this.rowSize;
    const dtype = this.col!.spec.dtype;
    if (dtype === this.spec.bufDtype) return this.buf.subarray(0, n);
    if (!this.convert || this.convert.length < this.buf.length) this.convert = takeBuffer(dtype, this.buf.length);
    if (dtype === "int64") return numbersToInt64(this.buf as Float64Array, n, this.convert as BigInt64Array).subarray(0, n);
    (this.convert as Float64Array).set(this.buf.subarray(0, n) as Float64Array);
    return this.convert.subarray(0, n);
  }
}

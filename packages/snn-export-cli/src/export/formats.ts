/**
 * Writers of row sources: CSV (a header line, then one line per row), JSON Lines (one JSON object
 * per row) and NumPy .npy (a structured array, one record per row, header first, then the rows).
 * Everything is written block by block through a {@link Sink} that respects back-pressure.
 */
import type { Dtype, NumericArray } from "snn-export/dtypes";
import { countRows, fieldSize, type Block, type Field, type RowSource } from "./rows.js";

const FORMATS = ["csv", "json", "npy"] as const;
export type FormatName = (typeof FORMATS)[number];

/** A writable stream with back-pressure and a remembered error (EPIPE: the reader went away). */
export class Sink {
  private error: NodeJS.ErrnoException | null = null;
  private buffered: string[] = [];
  private bufferedLength = 0;
  bytes = 0;

  constructor(private readonly out: NodeJS.WritableStream) {
    out.on("error", (err: NodeJS.ErrnoException) => {
      this.error = err;
    });
  }

  /** True once the stream failed because its reader closed it (`| head`). */
  get closedByReader(): boolean {
    return this.error?.code === "EPIPE";
  }

  private check(): void {
    if (this.error && !this.closedByReader) throw this.error;
  }

  /** Queues text; written in ~64 KiB pieces. */
  async text(s: string): Promise<void> {
    this.buffered.push(s);
    this.bufferedLength += s.length;
    if (this.bufferedLength >= 1 << 16) await this.flushText();
  }

  private async flushText(): Promise<void> {
    if (this.buffered.length === 0) return;
    const s = this.buffered.join("");
    this.buffered = [];
    this.bufferedLength = 0;
    await this.bytesOut(Buffer.from(s, "utf8"));
  }

  async bytesOut(b: Buffer): Promise<void> {
    this.check();
    if (this.closedByReader) return;
    this.bytes += b.length;
    if (!this.out.write(b)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.out.off("drain", done);
          this.out.off("error", done);
          this.out.off("close", done);
          resolve();
        };
        this.out.on("drain", done);
        this.out.on("error", done);
        this.out.on("close", done);
      });
    }
    this.check();
  }

  /** Writes what is queued. */
  async flush(): Promise<void> {
    await this.flushText();
    this.check();
  }
}

/** Column names: a scalar field keeps its name; `v` of shape [3] gives v_0, v_1, v_2; [2, 2] gives v_0_0 ... */
function columnNames(fields: Field[]): string[] {
  const out: string[] = [];
  for (const f of fields) {
    if (f.shape.length === 0) {
      out.push(f.name);
      continue;
    }
    const n = fieldSize(f);
    for (let i = 0; i < n; i++) {
      const idx: number[] = [];
      let rest = i;
      for (let d = f.shape.length - 1; d >= 0; d--) {
        idx.unshift(rest % f.shape[d]);
        rest = Math.floor(rest / f.shape[d]);
      }
      out.push(`${f.name}_${idx.join("_")}`);
    }
  }
  return out;
}

/** The shortest decimal text that reads back as the same float32. */
function float32Text(v: number): string {
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}

function numberText(v: number | bigint, dtype: Dtype | "string"): string {
  if (typeof v === "bigint") return v.toString();
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  return dtype === "float32" ? float32Text(v) : String(v);
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function jsonValue(v: number | bigint, dtype: Dtype | "string"): number | string | null {
  if (typeof v === "bigint") return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (!Number.isFinite(v)) return null;
  return dtype === "float32" ? Number(float32Text(v)) : v;
}

/** Writes `source` as CSV: a header line of column names, then one line per row. */
async function writeCsv(source: RowSource, sink: Sink): Promise<number> {
  await sink.text(`${columnNames(source.fields).map(csvCell).join(",")}\n`);
  let rows = 0;
  for (const block of source.blocks()) {
    if (sink.closedByReader) break;
    const sizes = source.fields.map(fieldSize);
    for (let r = 0; r < block.rows; r++) {
      const cells: string[] = [];
      source.fields.forEach((f, i) => {
        const col = block.columns[i];
        if (f.dtype === "string") cells.push(csvCell((col as string[])[r]));
        else for (let k = 0; k < sizes[i]; k++) cells.push(numberText((col as NumericArray)[r * sizes[i] + k], f.dtype));
      });
      await sink.text(`${cells.join(",")}\n`);
    }
    rows += block.rows;
  }
  await sink.flush();
  return rows;
}

/**
 * Writes `source` as JSON Lines: one object per row, keyed by field name; a field with a row shape
 * is a (nested) array. NaN and ±Infinity become null; 64-bit integers beyond 2^53 become strings.
 */
async function writeJsonLines(source: RowSource, sink: Sink): Promise<number> {
  let rows = 0;
  const sizes = source.fields.map(fieldSize);
  for (const block of source.blocks()) {
    if (sink.closedByReader) break;
    for (let r = 0; r < block.rows; r++) {
      const obj: Record<string, unknown> = {};
      source.fields.forEach((f, i) => {
        const col = block.columns[i];
        if (f.dtype === "string") obj[f.name] = (col as string[])[r];
        else if (f.shape.length === 0) obj[f.name] = jsonValue((col as NumericArray)[r], f.dtype);
        else {
          const flat: Array<number | string | null> = [];
          for (let k = 0; k < sizes[i]; k++) flat.push(jsonValue((col as NumericArray)[r * sizes[i] + k], f.dtype));
          obj[f.name] = nest(flat, f.shape);
        }
      });
      await sink.text(`${JSON.stringify(obj)}\n`);
    }
    rows += block.rows;
  }
  await sink.flush();
  return rows;
}

function nest(flat: unknown[], shape: number[]): unknown[] {
  if (shape.length <= 1) return flat;
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  const out: unknown[] = [];
  for (let i = 0; i < shape[0]; i++) out.push(nest(flat.slice(i * inner, (i + 1) * inner), shape.slice(1)));
  return out;
}

const NPY_TYPES: Record<Dtype, string> = {
  int8: "|i1", uint8: "|u1", int16: "<i2", uint16: "<u2", int32: "<i4", uint32: "<u4",
  int64: "<i8", uint64: "<u8", float32: "<f4", float64: "<f8",
};

/** Thrown by {@link writeNpy} for a source with text fields (events). */
class NpyTextError extends Error {}

/** The .npy header (format version 1.0, or 2.0 when the header does not fit 64 KiB) of a structured array of `rows` records. */
function npyHeader(fields: Field[], rows: number): Buffer {
  const descr = fields
    .map((f) => {
      if (f.dtype === "string") throw new NpyTextError(`field ${f.name} holds text`);
      const shape = f.shape.length === 0 ? "" : `, (${f.shape.join(", ")}${f.shape.length === 1 ? "," : ""})`;
      return `('${f.name.replace(/'/g, "")}', '${NPY_TYPES[f.dtype]}'${shape})`;
    })
    .join(", ");
  const dict = `{'descr': [${descr}], 'fortran_order': False, 'shape': (${rows},), }`;
  for (const [major, lenBytes] of [[1, 2], [2, 4]] as const) {
    const prefix = 6 + 2 + lenBytes;
    const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
    const headerLen = total - prefix;
    if (major === 1 && headerLen > 0xffff) continue;
    const b = Buffer.alloc(total, 0x20);
    Buffer.from([0x93]).copy(b, 0);
    b.write("NUMPY", 1, "latin1");
    b[6] = major;
    b[7] = 0;
    if (lenBytes === 2) b.writeUInt16LE(headerLen, 8);
    else b.writeUInt32LE(headerLen, 8);
    b.write(dict, prefix, "latin1");
    b[total - 1] = 0x0a;
    return b;
  }
  throw new Error("unreachable");
}

/**
 * Writes `source` as a .npy structured array: one record per row, one named field per column
 * (a field with a row shape is a sub-array field), little-endian, packed. The row count goes in
 * the header first, so a source that does not know it is counted first (spikes: from `counts`).
 */
async function writeNpy(source: RowSource, sink: Sink): Promise<number> {
  const rows = countRows(source);
  await sink.bytesOut(npyHeader(source.fields, rows));
  const sizes = source.fields.map((f) => fieldSize(f) * bytesOf(f.dtype as Dtype));
  const recordBytes = sizes.reduce((a, b) => a + b, 0);
  let written = 0;
  for (const block of source.blocks()) {
    if (sink.closedByReader) break;
    const n = Math.min(block.rows, rows - written);
    if (n <= 0) break;
    const out = Buffer.alloc(n * recordBytes);
    let offset = 0;
    source.fields.forEach((_, i) => {
      const col = block.columns[i] as NumericArray;
      const src = Buffer.from(col.buffer, col.byteOffset, col.byteLength);
      const size = sizes[i];
      for (let r = 0; r < n; r++) src.copy(out, r * recordBytes + offset, r * size, (r + 1) * size);
      offset += size;
    });
    await sink.bytesOut(out);
    written += n;
  }
  await sink.flush();
  if (written !== rows && !sink.closedByReader) {
    throw new Error(`the .npy header promised ${rows} rows but ${written} were read; was the file changed while exporting?`);
  }
  return written;
}

function bytesOf(d: Dtype): number {
  return { int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8 }[d];
}

/** Writes `source` in `format`; returns the rows written. */
export function writeRows(source: RowSource, format: FormatName, sink: Sink): Promise<number> {
  switch (format) {
    case "csv": return writeCsv(source, sink);
    case "json": return writeJsonLines(source, sink);
    case "npy": return writeNpy(source, sink);
  }
}

export type { Block };

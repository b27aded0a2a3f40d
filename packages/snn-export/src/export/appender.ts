/**
 * Appends rows to a column in whole chunks: rows are gathered in a chunk-sized buffer and handed
 * to the engine when it is full (and the rest at `finish()`). Appending a stream of small blocks
 * straight to a column would compress its partial last chunk again at every append.
 */
import { allocate, type Dtype, type NumericArray } from "../dtypes.js";
import type { AppendColumn } from "../h5/index.js";

export class ChunkAppender {
  private readonly buf: NumericArray;
  private rows = 0;
  private readonly chunkRows: number;
  private readonly rowSize: number;

  constructor(readonly column: AppendColumn, dtype: Dtype) {
    this.chunkRows = column.spec.chunkRows;
    this.rowSize = column.spec.rowShape.reduce((a, b) => a * b, 1);
    this.buf = allocate(dtype, this.chunkRows * this.rowSize);
  }

  /** Appends `rows` rows from the start of `data` (row-major). */
  push(data: NumericArray, rows: number): void {
    let done = 0;
    while (done < rows) {
      const take = Math.min(rows - done, this.chunkRows - this.rows);
      (this.buf as Float64Array).set((data as Float64Array).subarray(done * this.rowSize, (done + take) * this.rowSize), this.rows * this.rowSize);
      this.rows += take;
      done += take;
      if (this.rows === this.chunkRows) {
        this.column.append(this.buf, this.rows);
        this.rows = 0;
      }
    }
  }

  /** Appends the rows still buffered. */
  finish(): void {
    if (this.rows > 0) this.column.append(this.buf, this.rows);
    this.rows = 0;
  }
}

/**
 * deflate for chunk compression, on the writing thread and on the compression workers.
 *
 * Every `deflateSync` leaves its output buffers and zlib state as garbage outside the JS heap,
 * which V8 collects late (measured: a loop of 80 kB chunks settles ~36 MiB above its start;
 * with one output buffer per call and a minor collection after every 8 MiB of input, ~7 MiB).
 * `gc` comes from src/gc.ts.
 */
import { constants, deflateSync } from "node:zlib";
import { collector } from "../../gc.js";

const GC_EVERY_BYTES = 8 << 20;
let sinceGc = 0;

/** deflate (zlib format) of `data` at `level`, into one output buffer; `rle`: zlib's run-length-only strategy (Z_RLE). */
export function deflate(data: Uint8Array, level: number, rle = false): Uint8Array {
  const out = deflateSync(data, { level, strategy: rle ? constants.Z_RLE : constants.Z_DEFAULT_STRATEGY, chunkSize: Math.max(16 << 10, data.length + (data.length >> 10) + 64) });
  sinceGc += data.length;
  if (sinceGc >= GC_EVERY_BYTES) {
    sinceGc = 0;
    collector()?.({ type: "minor" });
  }
  return out;
}

/**
 * How a chunk is deflated. Both are plain deflate (the HDF5 filter and every reader are the same);
 * they differ in what the encoder searches for. Z_RLE looks only for runs (distance 1): on
 * shuffled floats and wide integer ids, whose high byte planes are runs and whose low planes are
 * noise, it gives the same size 2–3x faster; on data with longer repeats (timesteps, sorted or
 * repeating values) it is much larger. So it is chosen per stream by trial ({@link deflateChunk}).
 */
export const MODE_DEFAULT = 0;
export const MODE_RLE = 1;
/** Deflate both ways and keep Z_RLE when it is at most {@link RLE_SLACK} times the size of the default. */
export const MODE_TRIAL = 2;
export const RLE_SLACK = 1.03;

export interface Deflated {
  bytes: Uint8Array;
  /** Whether the bytes are Z_RLE's. */
  rle: boolean;
}

/** Deflates `data` at `level` the way `mode` says (MODE_DEFAULT, MODE_RLE or MODE_TRIAL). */
export function deflateChunk(data: Uint8Array, level: number, mode: number): Deflated {
  if (mode === MODE_RLE) return { bytes: deflate(data, level, true), rle: true };
  const plain = deflate(data, level);
  if (mode !== MODE_TRIAL) return { bytes: plain, rle: false };
  const rle = deflate(data, level, true);
  return rle.length <= plain.length * RLE_SLACK ? { bytes: rle, rle: true } : { bytes: plain, rle: false };
}

/**
 * deflate for chunk compression, on the writing thread and on the compression workers.
 *
 * One zlib stream per (level, strategy) and thread is kept and reset between chunks, writing into
 * one output buffer that is reused: no allocation per chunk. `deflateSync` instead creates a
 * stream per call, whose ~270 kB of zlib state and output buffers come fresh from the allocator
 * and go back to the system when the call ends, so every chunk faulted its memory in again
 * (26 page faults per 80 kB chunk, measured; ~12 µs a fault on this project's VMs, where the
 * hypervisor does the paging), and left garbage outside the JS heap that V8 collected late.
 *
 * The stream is driven through the handle Node's own `deflateSync` uses (`writeSync`, `reset`),
 * not a public API: where a Node release lacks it, {@link deflate} falls back to `deflateSync`
 * (same bytes; test/pool.test.ts checks that they are identical, and fails when the fallback is
 * in use, so that a Node upgrade that loses the handle is seen). Kept because it is measurably
 * faster: with the fallback, paired runs (Node 20) took +7.5 % CPU on quickstart and +6 % on
 * medium_normal, wall +4 to +14 % on small_high_freq, many_episodes and quickstart.
 */
import { constants, createDeflate, deflateSync } from "node:zlib";
import { collector } from "../../gc.js";

/** Node's native zlib handle, as lib/zlib.js drives it synchronously. */
interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  onerror: ((message: string, errno: number) => void) | undefined;
}

interface Deflater {
  /** Its key in {@link deflaters}. */
  key: number;
  handle: ZlibHandle;
  /** [0] output bytes left, [1] input bytes left, after each writeSync. */
  state: Uint32Array;
  out: Uint8Array;
  error: string | null;
}

/** Persistent deflaters by `level * 8 + strategy`. */
const deflaters = new Map<number, Deflater>();
/** False once Node's zlib turned out not to have the handle: `deflateSync` from then on. */
let nativeUsable = true;

function deflater(level: number, strategy: number): Deflater | null {
  const key = level * 8 + strategy;
  const known = deflaters.get(key);
  if (known) return known;
  if (!nativeUsable) return null;
  const stream = createDeflate({ level, strategy }) as unknown as { _handle?: ZlibHandle; _writeState?: unknown };
  const handle = stream._handle;
  const state = stream._writeState;
  if (!handle || typeof handle.writeSync !== "function" || typeof handle.reset !== "function" || !(state instanceof Uint32Array) || state.length < 2) {
    nativeUsable = false;
    return null;
  }
  const d: Deflater = { key, handle, state, out: new Uint8Array(64 << 10), error: null };
  // zlib reports failures through this callback (lib/zlib.js would destroy the stream): kept here, thrown by deflate()
  handle.onerror = (message: string, errno: number) => {
    d.error = `zlib error ${errno}: ${message}`;
  };
  deflaters.set(key, d);
  return d;
}

const GC_EVERY_BYTES = 8 << 20;
let sinceGc = 0;

/**
 * deflate (zlib format) of `data` at `level`; `rle`: zlib's run-length-only strategy (Z_RLE).
 * The result is a view of a buffer reused by the next call with the same level and strategy on
 * this thread: use or copy it before then.
 */
export function deflate(data: Uint8Array, level: number, rle = false): Uint8Array {
  const strategy = rle ? constants.Z_RLE : constants.Z_DEFAULT_STRATEGY;
  const d = deflater(level, strategy);
  if (d) return deflateWith(d, data);
  const out = deflateSync(data, { level, strategy, chunkSize: Math.max(16 << 10, data.length + (data.length >> 10) + 64) });
  // deflateSync's buffers and zlib state are garbage outside the JS heap, which V8 collects late
  // (a loop of 80 kB chunks settled ~36 MiB above its start; with a minor collection after every
  // 8 MiB of input, ~7 MiB)
  sinceGc += data.length;
  if (sinceGc >= GC_EVERY_BYTES) {
    sinceGc = 0;
    collector()?.({ type: "minor" });
  }
  return out;
}

function deflateWith(d: Deflater, data: Uint8Array): Uint8Array {
  const bound = data.length + (data.length >> 10) + 64; // above zlib's deflateBound: one call finishes
  if (d.out.length < bound) d.out = new Uint8Array(Math.max(bound, d.out.length * 2));
  const { handle, state } = d;
  handle.reset(); // also after a call that failed half-way
  let inOff = 0;
  let produced = 0;
  for (;;) {
    const inLen = data.length - inOff;
    const room = d.out.length - produced;
    handle.writeSync(constants.Z_FINISH, data, inOff, inLen, d.out, produced, room);
    if (d.error) {
      const msg = d.error;
      deflaters.delete(d.key); // a fresh stream next time
      throw new Error(`deflate failed: ${msg}`);
    }
    produced += room - state[0];
    inOff += inLen - state[1];
    if (state[0] !== 0) break; // room left: the stream is finished
    const grown = new Uint8Array(d.out.length * 2); // not expected with the bound above
    grown.set(d.out.subarray(0, produced));
    d.out = grown;
  }
  return d.out.subarray(0, produced);
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

/**
 * Deflates `data` at `level` the way `mode` says (MODE_DEFAULT, MODE_RLE or MODE_TRIAL). The bytes
 * are valid until the next deflate on this thread (see {@link deflate}).
 */
export function deflateChunk(data: Uint8Array, level: number, mode: number): Deflated {
  if (mode === MODE_RLE) return { bytes: deflate(data, level, true), rle: true };
  const plain = deflate(data, level);
  if (mode !== MODE_TRIAL) return { bytes: plain, rle: false };
  const rle = deflate(data, level, true);
  return rle.length <= plain.length * RLE_SLACK ? { bytes: rle, rle: true } : { bytes: plain, rle: false };
}

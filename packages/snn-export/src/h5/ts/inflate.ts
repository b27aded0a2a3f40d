/**
 * inflate for the reader: one zlib inflate stream kept and reset between chunks (as deflate.ts
 * keeps its deflate streams), writing straight into the buffer the caller gives: no zlib state and
 * no output buffers allocated per chunk. Falls back to `inflateSync` where Node's zlib handle is
 * not there. The stream must end exactly at the size the caller expects.
 *
 * The handle is not a public API. Kept because it is measurably faster: with the fallback, reading
 * everything of medium_normal's file took +10 % wall and +10.5 % CPU (quickstart's: no difference;
 * medians of 7 paired runs of bench/read-child.ts, Node 20). The fallback also accepts stored bytes
 * after the end of a stream, which this path refuses: test/inflate.test.ts fails when the fallback
 * is in use, so a Node upgrade that loses the handle is seen.
 */
import { constants, createInflate, inflateSync } from "node:zlib";

/** Node's native zlib handle, as lib/zlib.js drives it synchronously. */
interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  onerror: ((message: string, errno: number) => void) | undefined;
}

interface Inflater {
  handle: ZlibHandle;
  /** [0] output bytes left, [1] input bytes left, after each writeSync. */
  state: Uint32Array;
  error: string | null;
}

let inflater: Inflater | null = null;
let nativeUsable = true;

function get(): Inflater | null {
  if (inflater || !nativeUsable) return inflater;
  const stream = createInflate() as unknown as { _handle?: ZlibHandle; _writeState?: unknown };
  const handle = stream._handle;
  const state = stream._writeState;
  if (!handle || typeof handle.writeSync !== "function" || typeof handle.reset !== "function" || !(state instanceof Uint32Array) || state.length < 2) {
    nativeUsable = false;
    return null;
  }
  const d: Inflater = { handle, state, error: null };
  handle.onerror = (message: string, errno: number) => {
    d.error = `zlib error ${errno}: ${message}`;
  };
  inflater = d;
  return d;
}

/**
 * Inflates the zlib stream `data` into `out[0, n)`, `out` having at least `n + 1` bytes (the extra
 * byte shows a stream that is too long). Returns the bytes produced; throws on a damaged stream,
 * and on one that ends before `data` does (a chunk's stored size is exactly its stream's).
 */
export function inflateInto(data: Uint8Array, out: Uint8Array, n: number): number {
  const d = get();
  if (!d) return fallback(data, out, n);
  d.handle.reset();
  d.error = null;
  d.handle.writeSync(constants.Z_FINISH, data, 0, data.length, out, 0, n + 1);
  if (d.error) {
    const msg = d.error;
    inflater = null; // a fresh stream next time
    throw new Error(msg);
  }
  const produced = n + 1 - d.state[0];
  if (d.state[1] !== 0 && produced === n) throw new Error(`the stream ends ${d.state[1]} bytes before the stored chunk does`);
  return produced;
}

function fallback(data: Uint8Array, out: Uint8Array, n: number): number {
  const r = inflateSync(data, { maxOutputLength: n + 1, chunkSize: Math.max(64, n + 1) });
  out.set(r.subarray(0, n + 1));
  return r.length;
}

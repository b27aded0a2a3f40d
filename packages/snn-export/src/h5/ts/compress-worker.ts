/**
 * A compression worker of the pure-TypeScript engine: shuffles and deflates chunks handed to it
 * in a SharedArrayBuffer and writes the result back into the same buffer, so that the writing
 * thread can collect it synchronously (Atomics.wait) without running its event loop.
 *
 * Job buffer layout (Int32 header, then bytes):
 *   [0] state: 0 queued, 1 done, 2 failed, 3 claimed   [1] input length   [2] output length
 *   [3] element size for shuffle (1 = none)  [4] deflate level (0 = store as is)
 *   [5] bytes of the input that are data (the rest is zero: not read by the shuffle)
 *   [6] deflate mode (MODE_DEFAULT, MODE_RLE, MODE_TRIAL of deflate.ts)  [7] result: 1 if Z_RLE's bytes
 *
 * A job is claimed by compare-and-swap 0 → 3 before work starts: the writing thread may have
 * claimed it first (it compresses queued jobs itself when it would otherwise wait), and a message
 * may be stale (its buffer since reused); either way the message is dropped.
 *   bytes 32 .. 32+input: the raw chunk, replaced by the result (or an error message) when done;
 *   the buffer has room for deflate's worst case
 */
import { parentPort, workerData } from "node:worker_threads";
import { deflateChunk } from "./deflate.js";
import { shuffle } from "./shuffle.js";

let scratch = new Uint8Array(0);



if (workerData?.started) {
  const started = new Int32Array(workerData.started as SharedArrayBuffer);
  Atomics.add(started, 0, 1);
}

export const HEADER = 32;

parentPort?.on("message", (sab: SharedArrayBuffer) => {
  const head = new Int32Array(sab, 0, 8);
  if (Atomics.compareExchange(head, 0, 0, 3) !== 0) return;
  const inLen = head[1];
  const bytes = new Uint8Array(sab);
  try {
    const raw = bytes.subarray(HEADER, HEADER + inLen);
    if (scratch.length < inLen) scratch = new Uint8Array(inLen);
    let out: Uint8Array = raw;
    head[7] = 0;
    if (head[4] > 0) {
      const d = deflateChunk(head[3] > 1 ? shuffle(raw.subarray(0, head[5]), head[3], inLen, scratch.subarray(0, inLen)) : raw, head[4], head[6]);
      out = d.bytes;
      head[7] = d.rle ? 1 : 0;
    }
    if (HEADER + out.length > sab.byteLength) throw new Error(`compressed chunk (${out.length} bytes) exceeds its buffer`);
    bytes.set(out, HEADER); // the input is no longer needed
    head[2] = out.length;
    Atomics.store(head, 0, 1);
  } catch (err) {
    const msg = new TextEncoder().encode(String((err as Error)?.message ?? err)).subarray(0, Math.max(0, sab.byteLength - HEADER));
    bytes.set(msg, HEADER);
    head[2] = msg.length;
    Atomics.store(head, 0, 2);
  }
  Atomics.notify(head, 0);
});

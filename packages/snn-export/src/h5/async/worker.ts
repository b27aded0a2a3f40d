/**
 * The write-engine thread of `asyncWrite`: owns a TsWriter and applies the calls the exporter's
 * thread posts, in order. Progress and errors go back through shared memory so that the
 * exporter's thread can wait for them synchronously (Atomics.wait) without an event loop turn.
 *
 * Shared state (Int32Array over `state`): [0] last applied call, [1] bytes posted but not yet
 * applied (decremented here), [2] error flag, [3] error message length; bytes 64.. the message.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { AppendColumn, StringColumn } from "../types.js";
import { TsWriter } from "../ts/writer.js";

export interface Call {
  seq: number;
  op: string;
  args: unknown[];
  bytes: number;
}

const state = new Int32Array(workerData.state as SharedArrayBuffer);
const errorBytes = new Uint8Array(workerData.state as SharedArrayBuffer, 64);
const columns = new Map<string, AppendColumn>();
const strings = new Map<string, StringColumn>();
let writer: TsWriter | null = null;
let failed = false;

function fail(err: unknown): void {
  failed = true;
  const msg = new TextEncoder().encode(String((err as Error)?.message ?? err)).subarray(0, errorBytes.length);
  errorBytes.set(msg);
  Atomics.store(state, 3, msg.length);
  Atomics.store(state, 2, 1);
}

function apply(w: TsWriter, c: Call): void {
  const a = c.args as never[];
  switch (c.op) {
    case "createColumn": columns.set(a[0], w.createColumn(a[0], a[1])); break;
    case "createStringColumn": strings.set(a[0], w.createStringColumn(a[0], a[1], a[2])); break;
    case "writeAt": columns.get(a[0])!.writeAt(a[1], a[2], a[3]); break;
    case "appendStrings": strings.get(a[0])!.append(a[1]); break;
    case "createGroup": w.createGroup(a[0]); break;
    case "setAttr": w.setAttr(a[0], a[1], a[2], a[3]); break;
    case "setScalarAttr": w.setScalarAttr(a[0], a[1], a[2], a[3]); break;
    case "setStringsAttr": w.setStringsAttr(a[0], a[1], a[2]); break;
    case "setRefAttr": w.setRefAttr(a[0], a[1], a[2]); break;
    case "setEnumAttr": w.setEnumAttr(a[0], a[1], a[2], a[3]); break;
    case "deleteAttr": w.deleteAttr(a[0], a[1]); break;
    case "writeArray": w.writeArray(a[0], a[1], a[2], a[3], a[4]); break;
    case "writeText": w.writeText(a[0], a[1]); break;
    case "writeStrings": w.writeStrings(a[0], a[1]); break;
    case "link": w.link(a[0], a[1]); break;
    case "externalLink": w.externalLink(a[0], a[1], a[2]); break;
    case "createVirtualDataset": w.createVirtualDataset(a[0], a[1], a[2], a[3], a[4]); break;
    case "flush": w.flush(); break;
    case "close": w.close(); break;
    default: throw new Error(`unknown call ${c.op}`);
  }
}

const ready = TsWriter.create(workerData.filePath as string, { swmr: workerData.swmr as boolean, compressInline: true });
ready.then((w) => (writer = w), fail);

parentPort!.on("message", async (c: Call) => {
  if (!writer && !failed) {
    try {
      writer = await ready;
    } catch {
      /* reported by fail() */
    }
  }
  if (!failed && writer) {
    try {
      apply(writer, c);
    } catch (err) {
      fail(err);
    }
  }
  Atomics.sub(state, 1, c.bytes);
  Atomics.store(state, 0, c.seq);
  Atomics.notify(state, 0);
  Atomics.notify(state, 1);
});

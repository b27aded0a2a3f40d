/**
 * Version-2 object headers ("OHDR") and their continuation blocks ("OCHK"), checksums verified,
 * split into raw messages. Version-1 object headers are {@link Unsupported}.
 */
import { lookup3 } from "./lookup3.js";
import { corrupt, Cursor, hasSignature, u32At, Unsupported, type FileSource } from "./read-io.js";

/** A message of an object header: its type, flags and body bytes. */
export interface RawMessage {
  type: number;
  flags: number;
  body: Uint8Array;
}

/** Message type of a header continuation. */
const CONTINUATION = 0x10;
/** Bytes read at once for a header whose size is not known yet. */
const FIRST_READ = 512;
/** Continuation blocks one header may have. */
const MAX_BLOCKS = 256;

/** Messages of the object header at `addr` (`where`: file and object path, for errors). */
export function readObjectHeader(src: FileSource, addr: number, where: string): RawMessage[] {
  const head = src.readUpTo(addr, FIRST_READ, where, "object header");
  if (!hasSignature(head, 0, "OHDR")) {
    if (head[0] === 1 && head.length >= 16 && head[1] === 0) throw new Unsupported("a version-1 object header");
    throw corrupt(where, `no object header at address ${addr}`);
  }
  const c = new Cursor(head, where, "object header");
  c.skip(4);
  const version = c.u8();
  const flags = c.u8();
  if (version !== 2) throw corrupt(where, `object header version ${version} (expected 2)`);
  if (flags & 0xc0) throw corrupt(where, `object header flags ${flags} has reserved bits set`);
  if (flags & 0x20) c.skip(16); // access, modification, change and birth times
  if (flags & 0x10) c.skip(4); // attribute storage phase change values
  const chunkSize = c.uint(1 << (flags & 3));
  const start = c.pos;
  const total = start + chunkSize + 4;
  const block = total <= head.length ? head.subarray(0, total) : src.read(addr, total, where, "object header");
  checkSum(block, where, "object header");
  const out: RawMessage[] = [];
  const pending: [number, number][] = [];
  splitMessages(block.subarray(start, total - 4), (flags & 0x04) !== 0, where, out, pending);
  readContinuations(src, pending, (flags & 0x04) !== 0, where, out, addr);
  return out;
}

function checkSum(block: Uint8Array, where: string, what: string): void {
  const n = block.length - 4;
  if (lookup3(block.subarray(0, n)) !== u32At(block, n)) throw corrupt(where, `${what} checksum mismatch`);
}

/** Follows continuation messages (each block once, at most {@link MAX_BLOCKS}). */
function readContinuations(src: FileSource, pending: [number, number][], order: boolean, where: string, out: RawMessage[], first: number): void {
  const seen = new Set<number>([first]);
  while (pending.length) {
    const [addr, len] = pending.shift()!;
    if (seen.has(addr)) throw corrupt(where, `object header continuation at ${addr} is visited twice`);
    seen.add(addr);
    if (seen.size - 1 > MAX_BLOCKS) throw corrupt(where, `object header has more than ${MAX_BLOCKS} continuation blocks`);
    if (len < 8) throw corrupt(where, `object header continuation of ${len} bytes`);
    const block = src.read(addr, len, where, "object header continuation");
    if (!hasSignature(block, 0, "OCHK")) throw corrupt(where, `no continuation block ("OCHK") at ${addr}`);
    checkSum(block, where, "object header continuation");
    splitMessages(block.subarray(4, len - 4), order, where, out, pending);
  }
}

/** Splits a block's message area into messages; continuations go to `pending`. */
function splitMessages(area: Uint8Array, order: boolean, where: string, out: RawMessage[], pending: [number, number][]): void {
  const hdr = order ? 6 : 4;
  const c = new Cursor(area, where, "object header messages");
  while (c.left >= hdr) {
    const type = c.u8();
    const size = c.u16();
    const flags = c.u8();
    if (order) c.skip(2);
    if (size > c.left) throw corrupt(where, `object header message of type ${type} (${size} bytes) runs past its block`);
    const body = c.bytes(size);
    if (type === CONTINUATION) {
      const m = new Cursor(body, where, "continuation message");
      pending.push([m.u64(), m.u64()]);
    } else {
      out.push({ type, flags, body });
    }
  }
}

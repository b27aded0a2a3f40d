/**
 * An append-only version-1 B-tree (node type 1) indexing the chunks of one chunked dataset whose
 * chunks are numbered along the first dimension. Each level is a list of nodes with fixed
 * addresses; entries are only ever added at the right edge or replaced (a partial chunk
 * rewritten), so existing nodes are updated in place and new nodes go to new space.
 */
import { Bytes, UNDEF, SIG_TREE } from "./bytes.js";

/** Children per node: 2K with the library default K = 32 for chunk B-trees. */
const FANOUT = 64;

export interface ChunkEntry {
  addr: number;
  /** Stored bytes (what the index says). */
  size: number;
  /** Bytes reserved at `addr` (at least `size`): what becomes free when the chunk is replaced. */
  cap: number;
}

interface Node {
  addr: number;
  /** Children count as last written (in-place updates write the entries first, the count last). */
  diskCount: number;
}

export class ChunkIndex {
  readonly entries: ChunkEntry[] = [];
  /** levels[0] = leaves (children: chunks), levels[1] = their parents, ... */
  private levels: Node[][] = [];
  /** Per level, the positions of the nodes that changed since the last flush (new nodes included). */
  private changed: Set<number>[] = [];
  private readonly keySize: number;
  readonly nodeSize: number;

  /** `rowShape` is the chunk shape after the first dimension, `chunkRows` the rows per chunk. */
  constructor(private readonly chunkRows: number, private readonly rowShape: number[]) {
    this.keySize = 4 + 4 + 8 * (rowShape.length + 2);
    this.nodeSize = 24 + (FANOUT + 1) * this.keySize + FANOUT * 8;
  }

  /** Records chunk `k` (rows k*chunkRows ...) at `addr` with `size` stored bytes. */
  /** Returns the entry it replaces (a partial chunk completed), whose space is free once the change is on disk. */
  set(k: number, addr: number, size: number, cap = size): ChunkEntry | undefined {
    if (k > this.entries.length) throw new Error(`internal: chunk ${k} written before chunk ${this.entries.length}`);
    const old = this.entries[k];
    this.entries[k] = { addr, size, cap };
    let n = k;
    for (let level = 0; ; level++) {
      n = Math.floor(n / FANOUT);
      this.levels[level] ??= [];
      this.changed[level] ??= new Set();
      const nodes = this.levels[level];
      while (nodes.length <= n) {
        this.changed[level].add(nodes.length);
        nodes.push({ addr: UNDEF, diskCount: 0 });
      }
      this.changed[level].add(n);
      if (nodes.length === 1) {
        this.levels.length = level + 1;
        this.changed.length = level + 1;
        break;
      }
    }
    return old;
  }

  /** Address of the root node (UNDEF when no chunk exists yet). */
  get root(): number {
    const top = this.levels[this.levels.length - 1];
    return top && top.length ? top[0].addr : UNDEF;
  }

  /**
   * Gives addresses to new nodes (via `alloc`) and returns the encoded nodes to write: `fresh`
   * (new space) and `inPlace` (existing nodes whose entries changed). Only the nodes that changed
   * since the last flush are looked at.
   */
  flush(alloc: (n: number) => number): { fresh: [number, Uint8Array][]; inPlace: [number, Uint8Array][]; counts: [number, Uint8Array][] } {
    const fresh: [number, Uint8Array][] = [];
    const inPlace: [number, Uint8Array][] = [];
    const counts: [number, Uint8Array][] = [];
    if (this.copyOnWrite) return { fresh: this.rewriteAll(alloc), inPlace, counts };
    for (let level = 0; level < this.levels.length; level++) {
      const nodes = this.levels[level];
      const changed = this.changed[level];
      const newNodes = new Set<number>();
      for (const i of changed) {
        if (nodes[i].addr !== UNDEF) continue;
        nodes[i].addr = alloc(this.nodeSize);
        newNodes.add(i);
        if (i > 0) changed.add(i - 1); // its right sibling changes
      }
      for (const i of [...changed].sort((a, b) => a - b)) {
        const node = nodes[i];
        const bytes = this.encode(level, i);
        const count = bytes[6] | (bytes[7] << 8);
        if (newNodes.has(i)) fresh.push([node.addr, bytes]);
        else {
          // a reader that reads this node meanwhile sees the old count with valid entries
          bytes[6] = node.diskCount & 0xff;
          bytes[7] = node.diskCount >> 8;
          inPlace.push([node.addr, bytes]);
          if (count !== node.diskCount) counts.push([node.addr + 6, Uint8Array.from([count & 0xff, count >> 8])]);
        }
        node.diskCount = count;
      }
      changed.clear();
    }
    return { fresh, inPlace, counts };
  }

  /**
   * Copy-on-write (an index whose changes must become visible at once, with the superblock that
   * commits them): when anything changed, every node goes to new space (the trees this is used for
   * have a handful of nodes); the old nodes are in {@link released} until the caller frees them.
   */
  copyOnWrite = false;
  /** [address, size] of nodes replaced by the last copy-on-write flush. */
  released: [number, number][] = [];

  private rewriteAll(alloc: (n: number) => number): [number, Uint8Array][] {
    this.released = [];
    if (!this.changed.some((c) => c.size > 0)) return [];
    for (const nodes of this.levels) {
      for (const node of nodes) {
        if (node.addr !== UNDEF) this.released.push([node.addr, this.nodeSize]);
        node.addr = alloc(this.nodeSize);
      }
    }
    const out: [number, Uint8Array][] = [];
    this.levels.forEach((nodes, level) => nodes.forEach((node, i) => {
      const bytes = this.encode(level, i);
      node.diskCount = bytes[6] | (bytes[7] << 8);
      out.push([node.addr, bytes]);
    }));
    for (const c of this.changed) c.clear();
    return out;
  }

  /** Number of chunks under node `i` of `level`, and the first chunk number. */
  private span(level: number, i: number): [number, number] {
    const per = FANOUT ** (level + 1);
    const first = i * per;
    return [first, Math.min(this.entries.length, first + per) - first];
  }

  private key(b: Bytes, chunk: number, size: number): void {
    b.u32(size).u32(0).u64(chunk * this.chunkRows);
    for (let d = 0; d < this.rowShape.length; d++) b.u64(0);
    b.u64(0);
  }

  /** The key after the last child: the left key the next chunk will have, so appending never changes it. */
  private rightKey(b: Bytes, lastChunk: number): void {
    this.key(b, lastChunk + 1, 0);
  }

  private encode(level: number, i: number): Uint8Array {
    const nodes = this.levels[level];
    const b = new Bytes();
    const [first, count] = this.span(level, i);
    const childPer = FANOUT ** level;
    const children = level === 0 ? count : Math.ceil(count / childPer);
    b.bytes(SIG_TREE).u8(1).u8(level).u16(children);
    b.u64(i > 0 ? nodes[i - 1].addr : UNDEF).u64(i + 1 < nodes.length ? nodes[i + 1].addr : UNDEF);
    for (let c = 0; c < children; c++) {
      const chunk = first + c * childPer;
      this.key(b, chunk, this.entries[chunk].size);
      // a key is followed by its child pointer
      const addr = level === 0 ? this.entries[chunk].addr : this.levels[level - 1][i * FANOUT + c].addr;
      b.u64(addr);
    }
    this.rightKey(b, first + count - 1);
    b.zeros(this.nodeSize - b.length);
    return b.done();
  }
}

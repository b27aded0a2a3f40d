/**
 * Lookups in the version-1 B-tree (node type 1) that indexes a chunked dataset's chunks: only the
 * nodes on the way to the chunks that overlap a row range are read. Every node is checked: its
 * signature, type and level, its entry count, keys strictly increasing and inside the parent's
 * range, offsets on chunk boundaries; depth is bounded and a node met twice is a cycle. Version-1
 * B-trees have no checksum, so these checks are what stands between a damaged tree and wrong data.
 */
import { corrupt, Cursor, hasSignature, UNDEF, type FileSource } from "./read-io.js";

/** A chunk as its index records it. */
export interface ChunkRef {
  /** First row of the chunk. */
  row: number;
  addr: number;
  /** Stored (filtered) bytes. */
  size: number;
  /** Filters skipped for this chunk (bit i: filter i). */
  mask: number;
}

/** A node as read: its level, first rows of its children (plus the right key), children. */
interface Node {
  level: number;
  rows: number[];
  sizes: number[];
  masks: number[];
  children: number[];
}

/** Children per node: HDF5's default 2K with K = 32 (superblocks 2 and 3 without extension). */
const MAX_ENTRIES = 64;
const MAX_DEPTH = 16;
/** Nodes kept per reader (a node is 6 kB on disk, far less parsed). */
const NODE_CACHE = 4096;

/** The B-tree of one dataset: `rank` dimensions plus the element dimension in every key. */
export interface TreeSpec {
  root: number;
  rank: number;
  chunkRows: number;
  where: string;
}

/** Reads and caches chunk B-tree nodes of one file. */
export class ChunkTrees {
  private readonly nodes = new Map<string, Node>();
  /** Chunks of the leaf nodes read so far, per tree (root address): entry k is the chunk at row k × chunk rows. */
  private readonly leaves = new Map<number, ChunkRef[]>();
  private leafCount = 0;

  /** `onNode` is told of every node read from the file (address and bytes; tests map the file with it). */
  constructor(private readonly src: FileSource, private readonly onNode?: (addr: number, bytes: number) => void) {}

  /** Forgets every node read (the file may have changed). */
  clear(): void {
    this.nodes.clear();
    this.leaves.clear();
    this.leafCount = 0;
  }

  /** Chunks that overlap rows `[lo, hi)`, in row order. */
  find(t: TreeSpec, lo: number, hi: number): ChunkRef[] {
    const out: ChunkRef[] = [];
    if (t.root === UNDEF || hi <= lo) return out;
    // every chunk already seen in a leaf of this tree: no walk
    const known = this.leaves.get(t.root);
    if (known) {
      for (let k = Math.floor(lo / t.chunkRows), last = Math.floor((hi - 1) / t.chunkRows); k <= last; k++) {
        const ref = known[k];
        if (!ref) break;
        out.push(ref);
        if (k === last) return out;
      }
      out.length = 0;
    }
    this.walk(t, t.root, -1, lo, hi, [0, Number.MAX_SAFE_INTEGER], new Set(), out);
    return out;
  }

  /** Remembers the chunks of a leaf node (at most NODE_CACHE × MAX_ENTRIES in all). */
  private remember(t: TreeSpec, node: Node): void {
    if (this.leafCount >= NODE_CACHE * MAX_ENTRIES) {
      this.leaves.clear();
      this.leafCount = 0;
    }
    let known = this.leaves.get(t.root);
    if (!known) this.leaves.set(t.root, (known = []));
    for (let i = 0; i < node.children.length; i++) {
      const k = node.rows[i] / t.chunkRows;
      if (known[k]) continue;
      known[k] = { row: node.rows[i], addr: node.children[i], size: node.sizes[i], mask: node.masks[i] };
      this.leafCount++;
    }
  }

  private walk(t: TreeSpec, addr: number, level: number, lo: number, hi: number, range: [number, number], seen: Set<number>, out: ChunkRef[]): void {
    if (seen.has(addr)) throw corrupt(t.where, `chunk B-tree node at ${addr} is reached twice (a cycle)`);
    seen.add(addr);
    if (seen.size > MAX_DEPTH * MAX_ENTRIES * 4) throw corrupt(t.where, "chunk B-tree has too many nodes on one lookup");
    const node = this.node(t, addr);
    if (level >= 0 && node.level !== level) throw corrupt(t.where, `chunk B-tree node at ${addr} has level ${node.level}, its parent says ${level}`);
    if (node.rows[0] !== range[0] && level >= 0) throw corrupt(t.where, `chunk B-tree node at ${addr} starts at row ${node.rows[0]}, its parent says ${range[0]}`);
    if (node.rows[node.rows.length - 1] > range[1]) throw corrupt(t.where, `chunk B-tree node at ${addr} ends after its parent's range`);
    const n = node.children.length;
    if (node.level === 0) this.remember(t, node);
    for (let i = 0; i < n; i++) {
      const start = node.rows[i];
      if (node.level === 0) {
        if (start < hi && start + t.chunkRows > lo) out.push({ row: start, addr: node.children[i], size: node.sizes[i], mask: node.masks[i] });
      } else if (start < hi && (i === n - 1 || node.rows[i + 1] > lo)) {
        // (HDF5's own right key is the last chunk's offset: the last child may hold rows past it)
        this.walk(t, node.children[i], node.level - 1, lo, hi, [start, node.rows[i + 1]], seen, out);
      }
    }
  }

  private node(t: TreeSpec, addr: number): Node {
    const key = `${addr}:${t.rank}:${t.chunkRows}`;
    let node = this.nodes.get(key);
    if (!node) {
      node = this.readNode(t, addr);
      if (this.nodes.size >= NODE_CACHE) this.nodes.clear();
      this.nodes.set(key, node);
    }
    return node;
  }

  private readNode(t: TreeSpec, addr: number): Node {
    const head = this.src.read(addr, 24, t.where, "chunk B-tree node");
    if (!hasSignature(head, 0, "TREE")) throw corrupt(t.where, `no chunk B-tree node ("TREE") at ${addr}`);
    const type = head[4];
    const level = head[5];
    const entries = head[6] | (head[7] << 8);
    if (type !== 1) throw corrupt(t.where, `B-tree node at ${addr} has type ${type}, expected 1 (chunks)`);
    if (level >= MAX_DEPTH) throw corrupt(t.where, `chunk B-tree node at ${addr} has level ${level}`);
    if (entries < 1 || entries > MAX_ENTRIES) throw corrupt(t.where, `chunk B-tree node at ${addr} has ${entries} entries`);
    const keySize = 8 + 8 * (t.rank + 1);
    const body = this.src.read(addr + 24, entries * (keySize + 8) + keySize, t.where, "chunk B-tree node");
    this.onNode?.(addr, 24 + body.length);
    const c = new Cursor(body, t.where, `chunk B-tree node at ${addr}`);
    const node: Node = { level, rows: [], sizes: [], masks: [], children: [] };
    for (let i = 0; i <= entries; i++) {
      this.key(t, c, node, i === entries);
      if (i < entries) node.children.push(c.u64());
    }
    return node;
  }

  /** One key: chunk size, filter mask, offsets (the first on a chunk boundary, the others 0 but in the right key). */
  private key(t: TreeSpec, c: Cursor, node: Node, right: boolean): void {
    const size = c.u32();
    const mask = c.u32();
    const row = c.u64();
    for (let d = 0; d < t.rank; d++) {
      // HDF5 ends a node with the key after its last chunk in every dimension (row + chunk rows, row size, element size)
      if (c.u64() !== 0 && !right) throw corrupt(t.where, `${c.what}: a chunk offset beyond the first dimension is not 0`);
    }
    const prev = node.rows[node.rows.length - 1];
    if (!Number.isSafeInteger(row) || row % t.chunkRows !== 0) throw corrupt(t.where, `${c.what}: chunk offset ${row} is not on a chunk boundary`);
    // a right key may equal the last chunk's offset (HDF5 writes that), a left key must increase
    if (prev !== undefined && (row < prev || (row === prev && !right))) throw corrupt(t.where, `${c.what}: chunk offsets do not increase (${prev}, ${row})`);
    node.rows.push(row);
    if (right) return;
    if (node.level === 0 && size === 0) throw corrupt(t.where, `${c.what}: a chunk of 0 bytes`);
    node.sizes.push(size);
    node.masks.push(mask);
  }
}

/**
 * Free space of a file being written: blocks that no metadata on disk points to any more, kept
 * sorted by address with neighbours merged, handed out best-fit. Merging matters: the partial
 * chunks of one flush lie side by side and are freed together two flushes later; merged, they
 * hold the next full chunks too (unmerged, two thirds of a file flushed every 50 ms were holes).
 */
export class FreeSpace {
  /** [address, size], ascending by address, no two touching. */
  private blocks: [number, number][] = [];

  /** Bytes free. */
  get total(): number {
    return this.blocks.reduce((sum, b) => sum + b[1], 0);
  }

  /** Blocks free. */
  get count(): number {
    return this.blocks.length;
  }

  /** The address of `n` free bytes (the smallest block that holds them), or -1 when none does. */
  take(n: number): number {
    let best = -1;
    for (let i = 0; i < this.blocks.length; i++) {
      const size = this.blocks[i][1];
      if (size >= n && (best < 0 || size < this.blocks[best][1])) best = i;
    }
    if (best < 0) return -1;
    const [at, size] = this.blocks[best];
    if (size === n) this.blocks.splice(best, 1);
    else this.blocks[best] = [at + n, size - n];
    return at;
  }

  /** Frees `size` bytes at `addr`, merged with the blocks it touches. */
  give(addr: number, size: number): void {
    if (size <= 0) return;
    const b = this.blocks;
    let i = 0; // first block after addr
    let lo = 0, hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (b[mid][0] < addr) lo = mid + 1;
      else hi = mid;
    }
    i = lo;
    const prev = i > 0 ? b[i - 1] : null;
    const next = i < b.length ? b[i] : null;
    if (prev && prev[0] + prev[1] > addr) throw new Error(`internal: freeing ${addr}+${size} overlaps free block ${prev[0]}+${prev[1]}`);
    if (next && addr + size > next[0]) throw new Error(`internal: freeing ${addr}+${size} overlaps free block ${next[0]}+${next[1]}`);
    const joinsPrev = prev !== null && prev[0] + prev[1] === addr;
    const joinsNext = next !== null && addr + size === next[0];
    if (joinsPrev && joinsNext) {
      prev![1] += size + next![1];
      b.splice(i, 1);
    } else if (joinsPrev) prev![1] += size;
    else if (joinsNext) b[i] = [addr, size + next![1]];
    else b.splice(i, 0, [addr, size]);
  }

  /** Removes and returns the size of a free block that ends exactly at `end` (0 when none does). */
  takeEndingAt(end: number): number {
    const last = this.blocks[this.blocks.length - 1];
    if (!last || last[0] + last[1] !== end) return 0;
    this.blocks.pop();
    return last[1];
  }
}

/**
 * Bytes a dataset occupies in the file ("stored size", what HDF5's `H5Dget_storage_size` returns,
 * which h5wasm does not expose), read from the file's own structures with the TypeScript reader's
 * parsers: the superblock, the dataset's object header and data layout message, and for a chunked
 * layout the leaves of its chunk B-tree, whose keys hold each chunk's size after filters.
 *
 * Files and objects outside that reader's profile (superblock 0 or 1, version-1 object headers,
 * data layout version 4, virtual datasets), and structures that do not read, give `null` with the
 * reason, never a guess.
 */
import { SnnExportError } from "../../errors.js";
import { ChunkTrees } from "./read-btree.js";
import { FileSource, UNDEF, Unsupported } from "./read-io.js";
import { buildObject } from "./read-object.js";
import { readObjectHeader } from "./read-object-header.js";
import { readSuperblock } from "./read-superblock.js";

export interface StorageSize {
  /** "compact", "contiguous", "chunked" or "unknown". */
  layout: string;
  /** Bytes stored for the dataset's raw data (after filters), or null when they could not be read. */
  storedBytes: number | null;
  /** Chunks allocated (chunked layouts whose index was read). */
  chunks?: number;
  /** Why `storedBytes` is null. */
  reason?: string;
}

/** Stored sizes of the datasets of one file; keep it open for many datasets, then close it. */
export class StorageReader implements Disposable {
  private readonly src: FileSource;
  private readonly trees: ChunkTrees;
  /** Why the file cannot be read (outside the profile, damaged), or null. */
  private readonly unreadable: string | null = null;

  constructor(readonly filePath: string) {
    this.src = new FileSource(filePath);
    this.trees = new ChunkTrees(this.src);
    try {
      this.src.limit = readSuperblock(this.src).eof;
    } catch (err) {
      this.unreadable = reasonOf(err);
    }
  }

  /** Stored size of the dataset whose object header is at `address` (as in an object reference). */
  datasetStorage(address: bigint): StorageSize {
    if (this.unreadable) return { layout: "unknown", storedBytes: null, reason: this.unreadable };
    const where = `${this.filePath}: object at ${address}`;
    try {
      const at = Number(address);
      const dataset = buildObject(at, readObjectHeader(this.src, at, where), where).dataset;
      if (!dataset) return { layout: "unknown", storedBytes: null, reason: "not a dataset" };
      const layout = dataset.layout;
      if (layout.kind === "compact") return { layout: "compact", storedBytes: layout.data.length };
      if (layout.kind === "contiguous") return { layout: "contiguous", storedBytes: layout.addr === UNDEF ? 0 : layout.size };
      if (layout.btree === UNDEF) return { layout: "chunked", storedBytes: 0, chunks: 0 };
      // every chunk the index holds, as HDF5 counts them (a killed writer's may lie past the extent)
      const chunks = this.trees.find({ root: layout.btree, rank: layout.chunk.length, chunkRows: layout.chunk[0], where }, 0, Number.MAX_SAFE_INTEGER);
      return { layout: "chunked", storedBytes: chunks.reduce((a, c) => a + c.size, 0), chunks: chunks.length };
    } catch (err) {
      return { layout: "unknown", storedBytes: null, reason: reasonOf(err) };
    }
  }

  close(): void {
    this.src.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof Unsupported) return `outside what snn-export reads itself: ${err.message}`;
  if (err instanceof SnnExportError) return err.message;
  throw err;
}

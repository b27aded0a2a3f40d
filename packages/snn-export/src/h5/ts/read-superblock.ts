/**
 * The superblock (versions 2 and 3, 48 bytes with 8-byte offsets and lengths) as the TypeScript
 * reader reads it: checksum verified, end of file and root object header address.
 */
import { lookup3 } from "./lookup3.js";
import { corrupt, Cursor, hasSignature, u32At, Unsupported, UNDEF, type FileSource } from "./read-io.js";

const SIGNATURE = "\x89HDF\r\n\x1a\n";
const SIZE = 48;

/** What the reader needs from the superblock. */
export interface Superblock {
  version: 2 | 3;
  /** End-of-file address: every structure lies before it. */
  eof: number;
  /** Address of the root group's object header. */
  root: number;
}

/**
 * Reads the superblock at offset 0. Versions 0 and 1, a superblock elsewhere (user block), offsets
 * or lengths other than 8 bytes, a base address, an extension or status flags are
 * {@link Unsupported}; a bad checksum or an end of file past the file's size is CORRUPT.
 */
export function readSuperblock(src: FileSource): Superblock {
  const where = `${src.filePath}: superblock`;
  const b = src.readUpTo(0, SIZE, where, "superblock");
  if (!hasSignature(b, 0, SIGNATURE)) throw new Unsupported("no HDF5 signature at offset 0 (user block)");
  if (b.length < 9) throw corrupt(where, "the superblock ends early");
  const version = b[8];
  if (version !== 2 && version !== 3) throw new Unsupported(`superblock version ${version}`);
  if (b.length < SIZE) throw corrupt(where, `the file ends inside the superblock (${b.length} of ${SIZE} bytes)`);
  if (lookup3(b.subarray(0, SIZE - 4)) !== u32At(b, SIZE - 4)) throw corrupt(where, "superblock checksum mismatch");
  const c = new Cursor(b, where, "superblock");
  c.skip(9);
  const offsets = c.u8();
  const lengths = c.u8();
  const flags = c.u8();
  const base = c.u64();
  const ext = c.u64();
  const eof = c.u64();
  const root = c.u64();
  if (offsets !== 8 || lengths !== 8) throw new Unsupported(`${offsets}-byte offsets and ${lengths}-byte lengths`);
  if (base !== 0) throw new Unsupported(`base address ${base}`);
  if (ext !== UNDEF) throw new Unsupported("a superblock extension");
  if (flags !== 0) throw new Unsupported(`superblock status flags ${flags} (open for writing)`);
  if (eof === UNDEF || eof > src.size) {
    throw corrupt(where, `the superblock's end of file (${eof}) lies past the file's size (${src.size} bytes): the file is truncated`);
  }
  if (root === UNDEF || root < SIZE || root >= eof) throw corrupt(where, `root object header address ${root} is outside the file`);
  return { version, eof, root };
}

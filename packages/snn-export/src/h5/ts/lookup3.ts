/** Bob Jenkins' lookup3 `hashlittle`, the checksum of HDF5's version-2 metadata (superblock, object headers). */

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const tail = new Uint8Array(12);

/**
 * lookup3 hashlittle of `data` with `initval` (HDF5 uses 0). All arithmetic is on int32 (`| 0`):
 * the same bits as unsigned 32-bit arithmetic, without the heap numbers `>>> 0` makes of values
 * above 2^31 before the function is optimized (a flush checksums every header it writes).
 */
export function lookup3(data: Uint8Array, initval = 0): number {
  let length = data.length;
  let a = (0xdeadbeef + length + initval) | 0;
  let b = a;
  let c = a;
  let o = 0;
  while (length > 12) {
    a = (a + (data[o] | (data[o + 1] << 8) | (data[o + 2] << 16) | (data[o + 3] << 24))) | 0;
    b = (b + (data[o + 4] | (data[o + 5] << 8) | (data[o + 6] << 16) | (data[o + 7] << 24))) | 0;
    c = (c + (data[o + 8] | (data[o + 9] << 8) | (data[o + 10] << 16) | (data[o + 11] << 24))) | 0;
    // mix
    a = (a - c) | 0; a ^= rot(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rot(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 4); b = (b + a) | 0;
    length -= 12;
    o += 12;
  }
  if (length === 0) return c >>> 0;
  // last block: up to 12 bytes, missing bytes are zero
  tail.fill(0);
  tail.set(data.subarray(o, o + length));
  a = (a + (tail[0] | (tail[1] << 8) | (tail[2] << 16) | (tail[3] << 24))) | 0;
  b = (b + (tail[4] | (tail[5] << 8) | (tail[6] << 16) | (tail[7] << 24))) | 0;
  c = (c + (tail[8] | (tail[9] << 8) | (tail[10] << 16) | (tail[11] << 24))) | 0;
  // final
  c ^= b; c = (c - rot(b, 14)) | 0;
  a ^= c; a = (a - rot(c, 11)) | 0;
  b ^= a; b = (b - rot(a, 25)) | 0;
  c ^= b; c = (c - rot(b, 16)) | 0;
  a ^= c; a = (a - rot(c, 4)) | 0;
  b ^= a; b = (b - rot(a, 14)) | 0;
  c ^= b; c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}

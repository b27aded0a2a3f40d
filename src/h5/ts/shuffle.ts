/**
 * Byte shuffle (HDF5 filter 2): byte j of element i goes to position j * n + i.
 *
 * Elements of 2, 4 and 8 bytes are read a word at a time (when the input is aligned), one pass
 * over the input writing every byte plane sequentially: ~4x the plain strided loop. Only the
 * first `used` bytes are shuffled (a chunk's rows past the data are zero, and zeros shuffle to
 * zeros); the rest of the output is zero-filled.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function shuffle(raw: Uint8Array, size: number, into?: Uint8Array, used = raw.length): Uint8Array {
  if (size <= 1) return raw;
  const n = raw.length / size;
  const m = Math.min(n, Math.ceil(used / size));
  const out = into ?? new Uint8Array(raw.length);
  if (m < n && into) for (let j = 0; j < size; j++) out.fill(0, j * n + m, (j + 1) * n);
  const aligned = LITTLE_ENDIAN && raw.byteOffset % 4 === 0;
  if (size === 4 && aligned) {
    const w = new Uint32Array(raw.buffer, raw.byteOffset, n);
    const n2 = 2 * n, n3 = 3 * n;
    for (let i = 0; i < m; i++) {
      const x = w[i];
      out[i] = x;
      out[n + i] = x >>> 8;
      out[n2 + i] = x >>> 16;
      out[n3 + i] = x >>> 24;
    }
    return out;
  }
  if (size === 8 && aligned) {
    const w = new Uint32Array(raw.buffer, raw.byteOffset, 2 * n);
    for (let i = 0; i < m; i++) {
      const lo = w[2 * i], hi = w[2 * i + 1];
      out[i] = lo;
      out[n + i] = lo >>> 8;
      out[2 * n + i] = lo >>> 16;
      out[3 * n + i] = lo >>> 24;
      out[4 * n + i] = hi;
      out[5 * n + i] = hi >>> 8;
      out[6 * n + i] = hi >>> 16;
      out[7 * n + i] = hi >>> 24;
    }
    return out;
  }
  if (size === 2 && LITTLE_ENDIAN && raw.byteOffset % 2 === 0) {
    const w = new Uint16Array(raw.buffer, raw.byteOffset, n);
    for (let i = 0; i < m; i++) {
      const x = w[i];
      out[i] = x;
      out[n + i] = x >>> 8;
    }
    return out;
  }
  for (let j = 0; j < size; j++) {
    const base = j * n;
    for (let i = 0, s = j; i < m; i++, s += size) out[base + i] = raw[s];
  }
  return out;
}

/** Byte shuffle (HDF5 filter 2): byte j of element i goes to position j * n + i. */
export function shuffle(raw: Uint8Array, size: number, into?: Uint8Array): Uint8Array {
  if (size <= 1) return raw;
  const n = raw.length / size;
  const out = into ?? new Uint8Array(raw.length);
  for (let j = 0; j < size; j++) {
    const base = j * n;
    for (let i = 0, s = j; i < n; i++, s += size) out[base + i] = raw[s];
  }
  return out;
}

/** The page's side of the data API: requests with the access token, JSON and packed binary answers. */

export type Arrays = Record<string, Float64Array | Float32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array>;

/** The token comes from the page's own URL (`/?token=...`), as printed by `snn-export view`. */
const TOKEN = new URLSearchParams(location.search).get("token") ?? "";

/** Bytes received per API path prefix, for the tests and the status line. */
export const transfer = { requests: 0, bytes: 0, last: new Map<string, { bytes: number; url: string; serverMs: number }>() };

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function request(path: string, params: Record<string, string | number | undefined>, signal?: AbortSignal): Promise<Response> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const url = q.size ? `${path}?${q}` : path;
  const res = await fetch(url, { headers: { "x-snn-token": TOKEN }, signal, cache: "no-store" });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      message = ((await res.json()) as { error?: string }).error ?? message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, message);
  }
  return res;
}

function note(path: string, url: string, bytes: number, res: Response): void {
  transfer.requests++;
  transfer.bytes += bytes;
  const timing = /dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "");
  const kind = path.replace(/\/\d+/g, "/:id");
  transfer.last.set(kind, { bytes, url, serverMs: timing ? Number(timing[1]) : NaN });
}

export async function getJson<T>(path: string, params: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<T> {
  const res = await request(path, params, signal);
  const text = await res.text();
  note(path, res.url, text.length, res);
  return JSON.parse(text) as T;
}

/** A packed answer (src/viewer/binary.ts): u32 header length, JSON header, 8-aligned arrays. */
export async function getPacked<M>(path: string, params: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<{ meta: M; arrays: Arrays; bytes: number }> {
  const res = await request(path, params, signal);
  const buf = await res.arrayBuffer();
  note(path, res.url, buf.byteLength, res);
  const n = new DataView(buf).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n))) as {
    meta: M;
    arrays: { name: string; type: keyof typeof CTORS; offset: number; length: number }[];
  };
  const arrays: Arrays = {};
  for (const a of header.arrays) arrays[a.name] = new CTORS[a.type](buf, a.offset, a.length);
  return { meta: header.meta, arrays, bytes: buf.byteLength };
}

const CTORS = { f64: Float64Array, f32: Float32Array, u32: Uint32Array, u16: Uint16Array, u8: Uint8Array, i8: Int8Array } as const;

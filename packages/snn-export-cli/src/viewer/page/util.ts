/** Small DOM and number helpers of the page. */

/** Creates an element with attributes / text and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page: no #${id}`);
  return e as T;
}

/** 12345 -> "12,345"; fractions to 4 significant decimals. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  if (Number.isInteger(x)) return String(x).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return String(Number(x.toPrecision(6)));
}

export function fmtBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** A two-column table of label / value rows. */
export function table(rows: [string, Node | string][], cls = "kv"): HTMLTableElement {
  const t = el("table", { class: cls });
  for (const [k, v] of rows) t.append(el("tr", {}, el("th", { text: k }), el("td", {}, v)));
  return t;
}

/** Nice tick step (1, 2 or 5 x 10^k) for about `count` ticks over `span`. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** Trailing moving average over `w` entries, NaN-aware (entries that are NaN do not count). */
export function movingAverage(values: ArrayLike<number>, w: number): Float64Array {
  const out = new Float64Array(values.length);
  let sum = 0;
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isFinite(x)) {
      sum += x;
      k++;
    }
    const j = i - w;
    if (j >= 0 && Number.isFinite(values[j])) {
      sum -= values[j];
      k--;
    }
    out[i] = k > 0 ? sum / k : NaN;
  }
  return out;
}

/** About a fiftieth of the run, rounded up to 1, 2 or 5 x 10^k (as `snn-export plot`'s default). */
export function defaultWindow(episodes: number): number {
  const x = episodes / 50;
  if (x <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return Math.min(10_000, m * p);
  return Math.min(10_000, 10 * p);
}

/** uPlot reads gaps as null (a NaN would spoil its scale's range): the values with NaN as null. */
export function withGaps(a: ArrayLike<number>): (number | null)[] {
  const out = new Array<number | null>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number.isNaN(a[i]) ? null : a[i];
  return out;
}

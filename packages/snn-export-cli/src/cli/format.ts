/** Small text helpers of the CLI: colours, numbers, sizes, paths. */
import { isAbsolute, relative } from "node:path";

/** Colour functions; identity functions when colour is off. */
export interface Style {
  enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
}

/**
 * Colour is on only for a TTY, when NO_COLOR is unset or empty (https://no-color.org) and TERM is
 * not "dumb".
 */
export function colorWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

export function makeStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    red: wrap(31, 39),
    cyan: wrap(36, 39),
  };
}

/** 12345 -> "12,345". */
export function formatInt(n: number): string {
  // as toLocaleString("en-US") writes it, without loading ICU's locale data (~100 ms at a first call)
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Bytes with binary units: 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} bytes` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** Seconds: "0.42 s", "12.3 s", "2 min 5 s". */
export function formatSeconds(s: number): string {
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** A path for display: relative to `cwd` when it is inside it, absolute otherwise. */
export function displayPath(p: string, cwd = process.cwd()): string {
  const rel = relative(cwd, p);
  if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) return rel;
  return p;
}

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(s: string): string {
  if (/^[\w./@%+=:,-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Levenshtein distance, for "did you mean" hints. */
function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The closest candidate within distance 2 (or a prefix match), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 1 : editDistance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= 2 ? best : undefined;
}

/**
 * Characters a terminal may act on instead of showing: C0 controls (ESC, BEL, CR, backspace,
 * newline, tab, ...), DEL, C1 controls (U+0080–U+009F; U+009B is CSI on some terminals), the
 * line and paragraph separators, and the bidirectional overrides and isolates that reorder
 * what is shown (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text read from a file, made safe to print on a terminal: every character of {@link UNSAFE}
 * becomes a visible escape (`\x1b`, `\n`, `\u202e`), so a file cannot send escape sequences
 * (colours, cursor moves, window titles, hyperlinks) or rewrite lines by printing its strings.
 * Other text (any language, emoji) is unchanged.
 */
export function safeText(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

// eslint-disable-next-line no-control-regex
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON text with the characters of {@link UNSAFE} that JSON.stringify leaves as they are (DEL,
 * C1 controls, separators, bidi controls) written as `\uXXXX` escapes: still the same JSON value,
 * and safe on a terminal. JSON.stringify already escapes U+0000–U+001F inside strings; the raw
 * newlines of its indentation are left alone.
 */
export function safeJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

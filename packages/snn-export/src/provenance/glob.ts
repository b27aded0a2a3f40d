/**
 * A small glob matcher for code snapshots (Node 20 has no fs.glob): `*` (any characters but `/`),
 * `?` (one character but `/`) and `**` (any number of directories, zero included). Wildcards do
 * not match names starting with `.`, and `**` does not enter `.git` or `node_modules`, unless the
 * pattern names them literally. Symbolic links to directories are not followed.
 */
import { readdirSync, statSync, type Dirent } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { toPosix } from "./paths.js";

/**
 * True when `pattern` contains a glob wildcard.
 *
 * @example
 * ```ts
 * hasGlob("src/**\/*.ts"); // true
 * hasGlob("src/main.ts");  // false
 * ```
 */
export function hasGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

const segmentCache = new Map<string, RegExp>();

function segmentRegExp(seg: string): RegExp {
  let re = segmentCache.get(seg);
  if (!re) {
    const body = seg.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
    re = new RegExp(`^${body}$`, process.platform === "win32" ? "i" : "");
    segmentCache.set(seg, re);
  }
  return re;
}

function segmentMatches(pat: string, name: string): boolean {
  if (!hasGlob(pat)) return pat === name;
  if (name.startsWith(".") && !pat.startsWith(".")) return false;
  return segmentRegExp(pat).test(name);
}

const SKIPPED_DIRS = new Set([".git", "node_modules"]);

/** Matches path segments against pattern segments; `partial` accepts a path that could still grow into a match. */
function matchSegments(pat: string[], i: number, path: string[], j: number, partial: boolean): boolean {
  if (j === path.length) return partial || pat.slice(i).every((p) => p === "**");
  if (i === pat.length) return false;
  if (pat[i] === "**") {
    if (matchSegments(pat, i + 1, path, j, partial)) return true;
    if (path[j].startsWith(".") || SKIPPED_DIRS.has(path[j])) return false;
    return matchSegments(pat, i, path, j + 1, partial);
  }
  return segmentMatches(pat[i], path[j]) && matchSegments(pat, i + 1, path, j + 1, partial);
}

/**
 * True when the `/`-separated relative `path` matches the relative glob `pattern`.
 *
 * @example
 * ```ts
 * globMatch("src/**\/*.ts", "src/a/b.ts"); // true
 * globMatch("src/*.ts", "src/a/b.ts");     // false
 * globMatch("src/?.ts", "src/a.ts");       // true
 * ```
 */
export function globMatch(pattern: string, path: string): boolean {
  return matchSegments(pattern.split("/").filter(Boolean), 0, path.split("/").filter(Boolean), 0, false);
}

/**
 * The files matching `pattern`, as sorted absolute paths. A relative pattern is taken relative to
 * `cwd`. The walk starts at the pattern's longest wildcard-free directory prefix.
 *
 * @example
 * ```ts
 * expandGlob("src/**\/*.ts", "/home/ada/proj"); // ["/home/ada/proj/src/a.ts", "/home/ada/proj/src/lib/b.ts"]
 * ```
 */
export function expandGlob(pattern: string, cwd: string): string[] {
  const abs = toPosix(isAbsolute(pattern) ? pattern : resolve(cwd, pattern));
  const segs = abs.split("/");
  const firstWild = segs.findIndex(hasGlob);
  if (firstWild < 0) return [];
  const base = segs.slice(0, firstWild).join("/") || "/";
  const pat = segs.slice(firstWild).filter(Boolean);
  const found: string[] = [];
  const walk = (dir: string, rel: string[]): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      const path = [...rel, e.name];
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          isFile = statSync(full).isFile();
        } catch {
          isFile = false;
        }
        isDir = false;
      }
      if (isFile && matchSegments(pat, 0, path, 0, false)) found.push(full);
      else if (isDir && matchSegments(pat, 0, path, 0, true)) walk(full, path);
    }
  };
  walk(base, []);
  return found.sort();
}

/**
 * Making recorded paths and URLs safe to share: the home directory becomes `~`, credentials are
 * removed from URLs.
 */
import { homedir } from "node:os";
import { sep } from "node:path";

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function homeDir(): string {
  try {
    return homedir();
  } catch {
    return "";
  }
}

/**
 * Replaces every occurrence of the home directory that is a whole path prefix (followed by a
 * separator or the end of the string) with `~`. A home of `/` or `""` is left alone.
 *
 * @example
 * ```ts
 * replaceHome("/home/ada/proj/run.js", "/home/ada");        // "~/proj/run.js"
 * replaceHome("--out=/home/ada/x", "/home/ada");            // "--out=~/x"
 * replaceHome("/home/adam/x", "/home/ada");                 // unchanged
 * ```
 */
export function replaceHome(text: string, home: string = homeDir()): string {
  const h = home.replace(/[\\/]+$/, "");
  if (h === "" || text === "") return text;
  const re = new RegExp(escapeRegExp(h) + "(?=[\\\\/]|$)", process.platform === "win32" ? "gi" : "g");
  return text.replace(re, "~");
}

/**
 * Removes credentials from a remote URL:
 * - `http(s)://user:token@host/x` and `https://user@host/x` → `https://host/x`;
 * - other schemes (`ssh://git:pw@host/x`) keep the user name and lose the password;
 * - scp-style `git@host:path` and local paths are returned as they are (local paths with `~`).
 *
 * @example
 * ```ts
 * stripUrlCredentials("https://ada:ghp_123@github.com/ada/snn.git"); // "https://github.com/ada/snn.git"
 * stripUrlCredentials("git@github.com:ada/snn.git");                 // unchanged
 * ```
 */
export function stripUrlCredentials(url: string): string {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*)(.*)$/s.exec(url);
  if (!m) return replaceHome(url);
  const [, scheme, authority, rest] = m;
  const at = authority.lastIndexOf("@");
  if (at < 0) return url;
  const userinfo = authority.slice(0, at);
  const host = authority.slice(at + 1);
  if (/^https?:\/\/$/i.test(scheme)) return scheme + host + rest;
  const colon = userinfo.indexOf(":");
  const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
  return scheme + (user ? user + "@" : "") + host + rest;
}

/**
 * `\` → `/` on Windows (paths recorded in the file always use `/`).
 *
 * @example
 * ```ts
 * toPosix("src\\a.ts"); // "src/a.ts" on Windows
 * ```
 */
export function toPosix(p: string): string {
  return sep === "\\" ? p.split(sep).join("/") : p;
}

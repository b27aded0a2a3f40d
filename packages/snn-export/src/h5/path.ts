/**
 * Object paths inside an HDF5 file, as every engine takes them: "/a/b", "a/b" and "/a//b/" name
 * the same object; "" and "/" name the root group.
 */

/** The names along `path`, root first (none for the root group). */
export function pathParts(path: string): string[] {
  return path.split("/").filter((p) => p !== "");
}

/** `path` as an absolute path without empty parts ("/" for the root group). */
export function absolutePath(path: string): string {
  return "/" + pathParts(path).join("/");
}

/** The absolute path of the group that holds `path` ("/" for the root group and its members). */
export function parentPath(path: string): string {
  return "/" + pathParts(path).slice(0, -1).join("/");
}

import { readFileSync } from "node:fs";

/** The version in package.json, two directories above the compiled `dist/src/version.js` (as in the published package). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  if (typeof pkg.version !== "string") throw new Error("snn-export: package.json has no version");
  return pkg.version;
}

/** The package version: package.json's, its one source. */
export const VERSION: string = packageVersion();

/**
 * Worker of the corruption test: reads damaged copies of a file with the TypeScript reader and
 * reports, per copy, every read whose answer is neither the original's nor a typed error. Runs in
 * a worker so that the test can end it if a read ever hangs (it reports after every copy).
 */
import { parentPort, workerData } from "node:worker_threads";
import { isDeepStrictEqual } from "node:util";
import { writeFileSync } from "node:fs";
import { FormatError, StorageError } from "#lib/errors.js";
import { H5Reader } from "#lib/h5/reader.js";
import { allPaths } from "./reader-diff.js";

interface Job { original: string; copies: { name: string; bytes: Uint8Array }[]; scratch: string }

/** Every read the test makes of one object, each on its own. */
function reads(r: H5Reader, p: string): [string, () => unknown][] {
  return [
    ["kind", () => r.kind(p)],
    ["keys", () => r.keys(p)],
    ["attrs", () => r.attrs(p)],
    ["info", () => r.info(p)],
    ["data", () => {
      const info = r.info(p);
      if (info.dtype !== "string") return r.readRows(p, 0, info.shape[0] ?? 1);
      return info.shape.length ? r.readStrings(p) : r.readText(p);
    }],
  ];
}

function outcome(fn: () => unknown): { value?: unknown; error?: unknown } {
  try {
    return { value: fn() };
  } catch (error) {
    return { error };
  }
}

async function snapshot(file: string): Promise<Map<string, { value?: unknown; error?: unknown }>> {
  const out = new Map<string, { value?: unknown; error?: unknown }>();
  const r = await H5Reader.open(file, { engine: "ts" });
  for (const p of allPaths(r)) {
    for (const [what, fn] of reads(r, p)) {
      const o = outcome(fn);
      if (o.error === undefined) out.set(`${p} ${what}`, o); // reads that fail on the original (info of a group) are not compared
    }
  }
  r.close();
  return out;
}

async function main(job: Job): Promise<void> {
const base = await snapshot(job.original);
for (const copy of job.copies) {
  writeFileSync(job.scratch, copy.bytes);
  const bad: string[] = [];
  let typed = 0;
  let same = 0;
  const typedOk = (e: unknown) => e instanceof FormatError || e instanceof StorageError;
  let r: H5Reader | null = null;
  try {
    r = await H5Reader.open(job.scratch, { engine: "ts" });
  } catch (e) {
    if (typedOk(e)) typed++;
    else bad.push(`open: ${(e as Error)?.stack ?? e}`);
  }
  if (r) {
    for (const [key, orig] of base) {
      const [p, what] = key.split(" ");
      const got = outcome(reads(r, p).find(([w]) => w === what)![1]);
      if (got.error === undefined && orig.error === undefined && isDeepStrictEqual(got.value, orig.value)) same++;
      else if (got.error !== undefined && typedOk(got.error)) typed++;
      else bad.push(`${key}: ${got.error ? (got.error as Error).stack : "different data"}`);
    }
    r.close();
  }
  parentPort!.postMessage({ name: copy.name, bad, typed, same });
}
parentPort!.postMessage({ done: true });
}

// node --test runs every file of dist/test/: outside a worker this file does nothing
if (parentPort) await main(workerData as Job);

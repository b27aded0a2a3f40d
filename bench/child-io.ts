/** A child process's stdout as JSON lines (one object per line; other lines are skipped): writing and reading them. */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeSync } from "node:fs";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

type WriteSync = (fd: number, buf: Uint8Array, off?: number, len?: number) => number;

/**
 * Writes `obj` as one line on fd 1 before returning (so it is in the pipe before the next call),
 * retried on EAGAIN (a non-blocking pipe that is momentarily full). `write` defaults to
 * fs.writeSync; a child that patches fs.writeSync passes the original.
 */
export function sayJsonLine(obj: Record<string, unknown>, write: WriteSync = writeSync): void {
  const buf = Buffer.from(JSON.stringify(obj) + "\n");
  let off = 0;
  while (off < buf.length) {
    try {
      off += write(1, buf, off, buf.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    }
  }
}

/** Calls `onEvent` with every JSON object line the stream prints, in order. */
export function onJsonLines(stream: Readable, onEvent: (e: Record<string, unknown>) => void): void {
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith("{")) onEvent(JSON.parse(line) as Record<string, unknown>);
    }
  });
}

/**
 * Starts a crash-writer.ts child with `spec` (its JSON argument); resolves with the child and its
 * file once the file exists and a first flush is durable, or kills it and fails after 30 s.
 */
export async function startCrashWriter(spec: Record<string, unknown>): Promise<{ child: ChildProcess; file: string }> {
  const writer = fileURLToPath(new URL("./crash-writer.js", import.meta.url));
  const child = spawn(process.execPath, [writer, JSON.stringify(spec)], { stdio: ["ignore", "pipe", "pipe"] });
  child.stderr!.resume();
  let file: string | null = null;
  let durable = false;
  onJsonLines(child.stdout!, (e) => {
    if (e.ev === "file") file = e.path as string;
    if (e.ev === "durable") durable = true;
  });
  const until = Date.now() + 30_000;
  while (!(file && durable && existsSync(file)) && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  if (!file || !durable) {
    child.kill("SIGKILL");
    throw new Error("the writer child did not start writing within 30 s");
  }
  return { child, file };
}

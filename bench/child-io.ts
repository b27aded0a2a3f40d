/** Reading a child process's stdout as JSON lines (one object per line; other lines are skipped). */
import type { Readable } from "node:stream";

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

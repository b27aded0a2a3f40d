/**
 * `snn-export view`: serves a page that shows an experiment (overview, learning curve, episode
 * raster / traces / behaviour / markers) and follows it while it is written. The server and its
 * data API are in src/viewer/; the page is built from src/viewer/page/ by `npm run build`.
 */
import { spawn } from "node:child_process";
import { BIN, intFlag, parseWithPositionals, requirePositional, type Io, type Options } from "./args.js";
import { colorWanted, displayPath, makeStyle } from "./format.js";

const OPTIONS = {
  port: { type: "string", short: "p" },
  host: { type: "string" },
  "no-open": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
} satisfies Options;

export function viewHelp(): string {
  return `Usage:
  ${BIN} view <experiment dir or .h5 file> [options]

Serves a page that shows the experiment in the browser: overview (status, config, provenance,
network), the learning curve of all episodes, and an episode's spike raster, neural traces,
behaviour, rewards, events and weight changes on one time axis. While an exporter writes the
file, the page follows it: new episodes appear and the running episode's plots extend.

The first line on stdout is the page's URL with its access token; every request needs the token.
The server listens on loopback only unless --host says otherwise, and serves only its own page
and this experiment's data. Ctrl-C stops it (exit 0).

Options:
  -p, --port <n>       Port to listen on, 1-65535 (default: a free one)
      --host <addr>    Address to listen on (default 127.0.0.1); anything but loopback makes
                       the experiment readable from the network by whoever has the URL (warned)
      --no-open        Do not open the browser, only print the URL
  -h, --help           Show this help
      --debug          Show stack traces on errors

Examples:
  ${BIN} view experiments/demo_20240101_120000
  ${BIN} view run/experiment_data.h5 --port 8765 --no-open
  ${BIN} view experiments/big_run --no-open | head -1     (the URL, for a browser elsewhere on this machine)
`;
}

export async function viewCommand(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseWithPositionals(args, OPTIONS, "view", 1);
  if (v.help) {
    io.stdout.write(viewHelp());
    return 0;
  }
  const target = requirePositional(positionals, "view", "the experiment directory or .h5 file");
  const port = intFlag("view", "port", v.port, 0, 1, 65_535);
  const host = v.host ?? "127.0.0.1";
  const err = makeStyle(colorWanted(io.stderr, io.env));
  const { startViewer, isLoopback } = await import("../viewer/server.js");
  const viewer = await startViewer({ target, host, port });
  io.stdout.write(`${viewer.url}\n`);
  io.stderr.write(err.dim(`serving ${displayPath(viewer.filePath)} at ${viewer.url.split("?")[0]} (Ctrl-C to stop)\n`));
  if (!isLoopback(host)) {
    io.stderr.write(err.yellow(`warning: listening on ${host}, not loopback: anyone who can reach this machine and has the URL (its token) can read the experiment\n`));
  }
  if (v["no-open"] !== true) openBrowser(viewer.url, io);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await viewer.close();
  io.stderr.write(err.dim("viewer stopped\n"));
  return 0;
}

/** Opens `url` in the default browser; a failure is a note, not an error (the URL is printed). */
function openBrowser(url: string, io: Io): void {
  const [cmd, args] =
    process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  try {
    const child = spawn(cmd, args as string[], { detached: true, stdio: "ignore" });
    child.on("error", () => io.stderr.write(`could not start ${cmd} to open the browser: open the URL above yourself\n`));
    child.unref();
  } catch {
    io.stderr.write(`could not start ${cmd} to open the browser: open the URL above yourself\n`);
  }
}

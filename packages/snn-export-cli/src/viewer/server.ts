/**
 * The viewer's HTTP server: the page's three built assets and the experiment's data API, on
 * loopback by default, every request checked against a random access token.
 *
 * Nothing in a URL names a file: the assets are read into memory at start from the build output
 * next to this module, the data comes from the one experiment opened at start (code snapshot
 * files by their number in the snapshot's list). A path that is not one of the fixed routes is a
 * 404; a path with `..`, an encoded byte or a character outside [A-Za-z0-9/_.-] is a 400.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SnnExportError, StorageError, ValidationError } from "snn-export";
import { ExperimentView, MAX_SERIES, type Answer, type DIRECT_SPIKES } from "./data.js";

export interface ViewerOptions {
  /** Experiment directory or .h5 file. */
  target: string;
  /** Interface to listen on [127.0.0.1]. */
  host?: string;
  /** Port; 0 lets the system choose a free one [0]. */
  port?: number;
  /** Access token; a random one by default. */
  token?: string;
  /** Raster windows with more spikes are drawn from an overview ({@link DIRECT_SPIKES}; smaller in tests). */
  directSpikes?: number;
}

export interface Viewer {
  /** The page's URL with the token. */
  url: string;
  host: string;
  port: number;
  token: string;
  filePath: string;
  /** Stops listening and closes the file. */
  close(): Promise<void>;
}

/** Pixel columns / rows the data API accepts. */
export const MAX_WIDTH = 4096;
export const MAX_HEIGHT = 2048;

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A request the server refuses, with its HTTP status. */
class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface Assets {
  index: string;
  js: Buffer;
  css: Buffer;
}

/** The built page (esbuild output of src/viewer/page/, written by `npm run build`). */
function loadAssets(): Assets {
  const dir = new URL("./page/", import.meta.url);
  try {
    return {
      index: readFileSync(new URL("index.html", dir), "utf8"),
      js: readFileSync(new URL("app.js", dir)),
      css: readFileSync(new URL("app.css", dir)),
    };
  } catch (err) {
    throw new StorageError("NOT_FOUND", `the viewer's page is not built (${dir.pathname} has no index.html, app.js and app.css): run 'npm run build'`, { cause: err });
  }
}

/** Opens the experiment and starts serving it. */
export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? randomBytes(24).toString("base64url");
  const assets = loadAssets();
  const view = await ExperimentView.open(options.target, { directSpikes: options.directSpikes });
  const server = createServer((req, res) => {
    handle(req, res, { view, token, assets, checkHost: isLoopback(host) }).catch((err: unknown) => {
      // handle() answers every error itself; this is the last resort, never a crash
      if (!res.headersSent) send(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });
  try {
    await listen(server, host, options.port ?? 0);
  } catch (err) {
    view.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    host,
    port,
    token,
    filePath: view.filePath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        view.close();
      }),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (err.code === "EADDRINUSE") reject(new SnnExportError("IO_ERROR", `port ${port} on ${host} is in use: choose another with --port, or leave --port out for a free one`, { cause: err }));
      else if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") reject(new SnnExportError("IO_ERROR", `cannot listen on ${host}: not an address of this machine`, { cause: err }));
      else if (err.code === "EACCES") reject(new SnnExportError("IO_ERROR", `not allowed to listen on port ${port} of ${host} (ports below 1024 need privileges)`, { cause: err }));
      else reject(new SnnExportError("IO_ERROR", `cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

interface Context {
  view: ExperimentView;
  token: string;
  assets: Assets;
  checkHost: boolean;
}

const SAFE_PATH = /^[A-Za-z0-9/_.-]*$/;

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  const started = performance.now();
  try {
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "only GET and HEAD");
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const path = q < 0 ? raw : raw.slice(0, q);
    const params = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
    checkToken(req, params, ctx.token);
    if (ctx.checkHost) checkHostHeader(req);
    if (!SAFE_PATH.test(path) || path.split("/").some((seg) => seg === ".." || seg === ".")) {
      throw new HttpError(400, "bad path: only the viewer's own routes are served");
    }
    const answer = await route(path, params, ctx);
    const ms = performance.now() - started;
    if ("asset" in answer) {
      send(res, 200, answer.asset, answer.type, ms);
    } else if ("binary" in answer) {
      send(res, 200, answer.binary, "application/octet-stream", ms);
    } else {
      send(res, 200, answer.json, undefined, ms);
    }
  } catch (err) {
    const ms = performance.now() - started;
    if (err instanceof HttpError) send(res, err.status, { error: err.message }, undefined, ms);
    else if (err instanceof ValidationError) send(res, err.code === "NOT_FOUND" ? 404 : 400, { error: err.message, code: err.code }, undefined, ms);
    else if (err instanceof SnnExportError) send(res, 500, { error: err.message, code: err.code }, undefined, ms);
    else send(res, 500, { error: err instanceof Error ? err.message : String(err) }, undefined, ms);
  }
}

/** Missing token: 401; a wrong one: 403. Compared in constant time. */
function checkToken(req: IncomingMessage, params: URLSearchParams, token: string): void {
  const header = req.headers["x-snn-token"];
  const given = typeof header === "string" ? header : params.get("token");
  if (given === null || given === "") throw new HttpError(401, "missing access token: open the URL the view command printed");
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new HttpError(403, "wrong access token");
}

/** On loopback, a Host header naming another machine means a page of another site (DNS rebinding). */
function checkHostHeader(req: IncomingMessage): void {
  const host = req.headers.host ?? "";
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.split(":")[0];
  if (!isLoopback(name)) throw new HttpError(403, `unexpected Host header ${JSON.stringify(host)}: the viewer answers on loopback only`);
}

type RouteAnswer = Answer | { asset: string | Buffer; type: string };

async function route(path: string, params: URLSearchParams, ctx: Context): Promise<RouteAnswer> {
  const { view } = ctx;
  switch (path) {
    case "/":
    case "/index.html":
      return { asset: ctx.assets.index.replaceAll("__TOKEN__", ctx.token), type: "text/html; charset=utf-8" };
    case "/app.js":
      return { asset: ctx.assets.js, type: "text/javascript; charset=utf-8" };
    case "/app.css":
      return { asset: ctx.assets.css, type: "text/css; charset=utf-8" };
    case "/api/status":
      await view.refresh();
      return { json: view.status() };
    case "/api/overview":
      return { json: view.overview() };
    case "/api/episodes":
      await view.refresh();
      return view.episodes(intParam(params, "from", 0, 0, Number.MAX_SAFE_INTEGER));
    case "/api/git-diff":
      return { json: view.gitDiff() };
  }
  let m = /^\/api\/code\/(\d{1,9})$/.exec(path);
  if (m) return { json: view.codeFile(Number(m[1])) };
  m = /^\/api\/episode\/(\d{1,15})(?:\/(raster|traces|behavior|markers))?$/.exec(path);
  if (m) {
    const id = Number(m[1]);
    const width = intParam(params, "w", 800, 1, MAX_WIDTH);
    const window = { from: optionalInt(params, "from"), to: optionalInt(params, "to"), width };
    switch (m[2]) {
      case undefined:
        return { json: view.episode(id) };
      case "raster":
        return view.raster(id, {
          ...window,
          height: intParam(params, "h", 400, 1, MAX_HEIGHT),
          n0: optionalInt(params, "n0", 0),
          n1: optionalInt(params, "n1", 0),
        });
      case "traces": {
        const variables = listParam(params, "vars");
        const neurons = listParam(params, "neurons").map((s) => toInt("neurons", s, 0));
        if (variables.length === 0) throw new HttpError(400, "traces need vars=<name>[,<name>...]");
        if (neurons.length === 0) throw new HttpError(400, "traces need neurons=<id>[,<id>...]");
        return view.traces(id, { ...window, width: Math.min(width, 3000), variables, neurons });
      }
      case "behavior":
        return view.behavior(id, { ...window, width: Math.min(width, 3000) });
      case "markers":
        return view.markers(id, window);
    }
  }
  throw new HttpError(404, `not found: ${path}`);
}

function toInt(name: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^-?\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new HttpError(400, `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw.slice(0, 40))}`);
  return n;
}

function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  return raw === null ? fallback : toInt(name, raw, min, max);
}

function optionalInt(params: URLSearchParams, name: string, min = Number.MIN_SAFE_INTEGER): number | undefined {
  const raw = params.get(name);
  return raw === null ? undefined : toInt(name, raw, min);
}

function listParam(params: URLSearchParams, name: string): string[] {
  const raw = params.get(name);
  if (raw === null || raw === "") return [];
  const parts = raw.split(",");
  if (parts.length > MAX_SERIES) throw new HttpError(400, `${name}: at most ${MAX_SERIES} values`);
  return parts;
}

const SECURITY_HEADERS = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Resource-Policy": "same-origin",
};
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function send(res: ServerResponse, status: number, body: unknown, type?: string, ms?: number): void {
  let bytes: Buffer;
  let contentType = type;
  if (Buffer.isBuffer(body)) bytes = body;
  else if (typeof body === "string") bytes = Buffer.from(body, "utf8");
  else {
    bytes = Buffer.from(JSON.stringify(body, jsonSafe), "utf8");
    contentType = "application/json; charset=utf-8";
  }
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...(contentType?.startsWith("text/html") ? { "Content-Security-Policy": CSP } : {}),
    "Content-Type": contentType ?? "application/octet-stream",
    "Content-Length": bytes.length,
    ...(ms !== undefined ? { "Server-Timing": `app;dur=${ms.toFixed(1)}` } : {}),
  });
  res.end(res.req.method === "HEAD" ? undefined : bytes);
}

/** JSON of loader values: typed arrays as lists, non-finite numbers as null, BigInts as numbers. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number | bigint>, (x) => (typeof x === "bigint" ? Number(x) : x));
  return value;
}

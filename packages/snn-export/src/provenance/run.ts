/**
 * Runs one child process with an argument list (never a shell), a timeout and capped output, and
 * reports what happened instead of throwing: the provenance capture records failures, it never
 * fails because of them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";

/**
 * Options of {@link run}.
 *
 * @example
 * ```ts
 * const opts: RunOptions = { cwd: "/repo", timeoutMs: 10_000, stdoutCap: 1 << 20 };
 * ```
 */
export interface RunOptions {
  cwd: string;
  /** The child's whole environment [this process's]. */
  env?: NodeJS.ProcessEnv;
  /** SIGTERM after this many ms of event-loop time (see {@link run}); 0: no timeout. */
  timeoutMs: number;
  /** Written to the child's stdin, which is then closed; without it stdin is not connected. */
  input?: string;
  /** Bytes of stdout kept [64 MiB]; the rest is read and counted, not kept. */
  stdoutCap?: number;
  /** Bytes of stderr kept [64 KiB]. */
  stderrCap?: number;
}

/**
 * What {@link run} reports.
 *
 * @example
 * ```ts
 * const r = await run("git", ["--version"], { cwd: ".", timeoutMs: 1000 });
 * if (r.error === null && r.status === 0) console.log(r.stdout.toString());
 * ```
 */
export interface RunResult {
  /** Exit code; null when the child did not start, was stopped at the timeout or ended by a signal. */
  status: number | null;
  /** The first `stdoutCap` bytes of stdout. */
  stdout: Buffer;
  /** All bytes the child wrote to stdout (more than `stdout.length` when the cap cut it). */
  stdoutBytes: number;
  /** The first `stderrCap` bytes of stderr, as text. */
  stderr: string;
  /** Why the child did not run to its end: a spawn error (`ENOENT`, `EACCES`, ...) or `ETIMEDOUT`. */
  error: { code: string; message: string } | null;
}

const DEFAULT_STDOUT_CAP = 64 << 20;
const DEFAULT_STDERR_CAP = 64 << 10;
/** A timer firing this much after it was due means the event loop was blocked. */
const LATE_MS = 20;

/** Appends `chunk` to `parts` within `cap` bytes in all; returns the bytes kept so far. */
function keep(parts: Buffer[], kept: number, chunk: Buffer, cap: number): number {
  const room = cap - kept;
  if (room <= 0) return kept;
  const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
  parts.push(part);
  return kept + part.length;
}

/**
 * Runs `bin args` and resolves when it has ended; never rejects. stdout is read as it comes, so
 * any amount is counted while only its first `stdoutCap` bytes are kept.
 *
 * The timeout counts event-loop time: a child's output and exit are only seen when the loop
 * runs, so a caller that blocks the loop (a synchronous training loop right after `create()`)
 * must not turn a child that answered, or one waiting for its full pipe to be read, into a
 * timeout. When the timer fires, the decision waits for this loop turn's I/O, and a timer that
 * fired late gives that time back to the child.
 *
 * @example
 * ```ts
 * const r = await run("git", ["rev-parse", "--show-toplevel"], { cwd: process.cwd(), timeoutMs: 10_000 });
 * ```
 */
export function run(bin: string, args: string[], options: RunOptions): Promise<RunResult> {
  const stdoutCap = options.stdoutCap ?? DEFAULT_STDOUT_CAP;
  const stderrCap = options.stderrCap ?? DEFAULT_STDERR_CAP;
  return new Promise((done) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let kept = 0;
    let bytes = 0;
    let errKept = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (status: number | null, error: RunResult["error"]): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done({ status, stdout: Buffer.concat(out, kept), stdoutBytes: bytes, stderr: Buffer.concat(err, errKept).toString(), error });
    };
    let child: ChildProcess;
    try {
      child = spawn(bin, args, {
        cwd: options.cwd,
        env: options.env,
        windowsHide: true,
        stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
    } catch (e) {
      const x = e as NodeJS.ErrnoException;
      return finish(null, { code: x.code ?? "ERR", message: x.message });
    }
    child.stdout!.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      kept = keep(out, kept, chunk, stdoutCap);
    });
    child.stderr!.on("data", (chunk: Buffer) => void (errKept = keep(err, errKept, chunk, stderrCap)));
    if (child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE when the child exits without reading
      child.stdin.end(options.input);
    }
    child.on("error", (e: NodeJS.ErrnoException) => finish(null, { code: e.code ?? "ERR", message: e.message }));
    child.on("close", (status) => finish(status, null));
    const stop = (): void => {
      child.kill("SIGTERM");
      child.stdout!.destroy(); // do not wait for a grandchild that holds the pipes
      child.stderr!.destroy();
      finish(null, { code: "ETIMEDOUT", message: `timed out after ${options.timeoutMs} ms` });
    };
    const arm = (ms: number): void => {
      const due = performance.now() + ms;
      timer = setTimeout(() => {
        setImmediate(() => {
          if (settled || child.exitCode !== null || child.signalCode !== null) return; // it answered
          const late = performance.now() - due;
          if (late > LATE_MS) arm(late);
          else stop();
        });
      }, ms);
    };
    if (options.timeoutMs > 0) arm(options.timeoutMs);
  });
}

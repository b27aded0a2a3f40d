/**
 * Node options for the library's worker threads: none. Our workers run only our own compiled
 * JavaScript, so they need none of the process's options, and passing those on breaks things:
 * - by default a worker inherits `process.execArgv`, and `node --input-type=module -e "…"` (a
 *   script given on the command line) then fails the worker (ERR_INPUT_TYPE_NOT_ALLOWED, which
 *   killed the process);
 * - passed explicitly, any V8 or process-wide option (`--max-old-space-size=4096`,
 *   `--stack-size`, `--expose-gc`, `--trace-gc`), all common in simulation scripts, makes
 *   `new Worker` throw ERR_WORKER_INVALID_EXEC_ARGV.
 * V8 options are process-wide anyway, so the workers still run under them.
 */
export const WORKER_EXEC_ARGV: string[] = [];

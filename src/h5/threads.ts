/**
 * Options for the library's worker threads. A worker inherits the process's `execArgv`, and
 * `node --input-type=module -e "…"` (a script given on the command line) passes flags a worker
 * started from a file rejects (ERR_INPUT_TYPE_NOT_ALLOWED, which killed the process): they are
 * left out.
 */
const WITH_VALUE = new Set(["--input-type", "-e", "--eval", "-p", "--print"]);

export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--input-type=")) continue;
    if (WITH_VALUE.has(a)) {
      i++; // and its value
      continue;
    }
    out.push(a);
  }
  return out;
}

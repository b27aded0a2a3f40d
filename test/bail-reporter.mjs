/**
 * A node:test reporter for mutation testing (stryker.config.mjs): the process exits with 1 at the
 * first failed test, so that a killed mutant does not wait for the tests after it. Nothing else
 * is reported. `t.after` hooks do not run after a bail: the command points TMPDIR at a directory
 * of its own, emptied before every run.
 */
export default async function* bail(source) {
  for await (const event of source) {
    if (event.type === "test:fail") {
      process.stderr.write(`failed: ${event.data.name}\n`);
      process.exit(1);
    }
  }
}

/**
 * Live reading against a writer that flushes without pause: a writer child (crash-writer.ts)
 * writes the deterministic experiment of crash-data.ts, flushing every `--flush-every` steps with
 * no pause between steps or episodes, while this process opens the file again and again for
 * `--seconds`, plain and `{ live: true }` in turn, and reads every stream of every episode
 * (crash-verify.ts recomputes every value from the seed). Prints one JSON object: opens, errors
 * by message, and the verifier's problems by kind (values never written would be `wrong value`).
 *
 *   node dist/bench/live-stress.js [--seconds 60] [--flush-every 1] [--steps 60] [--options '{"asyncWrite":true}']
 *
 * A live open keeps the stored status `running` of the episode being written; the verifier, made
 * for files of killed writers, expects `interrupted` there: that problem is counted apart.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startCrashWriter } from "./child-io.js";
import { verifyWithLoader } from "./crash-verify.js";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: "string", default: "60" }, "flush-every": { type: "string", default: "1" }, steps: { type: "string", default: "60" }, options: { type: "string", default: "{}" } },
  });
  const seconds = Number(values.seconds);
  const steps = Number(values.steps);
  const dir = mkdtempSync(join(tmpdir(), "snn-live-stress-"));
  const spec = {
    dir, seed: 5, episodes: 1_000_000, steps, flushEverySteps: Number(values["flush-every"]), flushIntervalMs: 0, chunkSize: 64, betweenMs: 0,
    checkpointEvery: 0, engine: "ts", exporterOptions: JSON.parse(values.options!),
  };
  const { child, file } = await startCrashWriter(spec).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  try {
    const errors: Record<string, number> = {};
    const problems: Record<string, number> = {};
    let opens = 0;
    let wrongValues = 0;
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
      for (const live of [false, true]) {
        const r = await verifyWithLoader(
          { file, seed: 5, episodes: 1_000_000, profile: { steps }, durable: { setup: false, endedThrough: -1, episodes: [], checkpoints: [], closed: false } },
          { live },
        );
        opens++;
        wrongValues += r.wrongValues;
        const mode = live ? "live" : "plain";
        if (r.error) {
          const k = `${mode}: ${r.error.split(file).join("FILE").slice(0, 200)}`;
          errors[k] = (errors[k] ?? 0) + 1;
        }
        for (const e of r.episodes) {
          for (const p of e.problems) {
            const k = `${mode}: ${p.replace(/\d+/g, "N").slice(0, 160)}`;
            problems[k] = (problems[k] ?? 0) + 1;
          }
        }
      }
    }
    process.stdout.write(`${JSON.stringify({ seconds, flushEverySteps: spec.flushEverySteps, options: spec.exporterOptions, opens, wrongValues, errors, problems }, null, 1)}\n`);
  } finally {
    child.kill("SIGKILL");
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once("exit", r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`live-stress: ${(err as Error).message}\n`);
  process.exitCode = 1;
});

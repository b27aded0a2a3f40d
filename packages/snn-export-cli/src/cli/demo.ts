/** `snn-export demo`: runs the demo experiment (src/demo/) and prints where it went and a summary. */
import type { DemoResult, EpisodeResult } from "../demo/run.js";
import { BIN, UsageError, intFlag, parse, type Io, type Options } from "./args.js";
import { colorWanted, displayPath, formatBytes, formatInt, formatSeconds, makeStyle, shellQuote } from "./format.js";
import { EpisodeProgress } from "./progress.js";

const DEMO_OPTIONS = {
  episodes: { type: "string", short: "e" },
  steps: { type: "string", short: "s" },
  neurons: { type: "string", short: "n" },
  seed: { type: "string" },
  out: { type: "string", short: "o" },
  name: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  debug: { type: "boolean" },
} satisfies Options;

export function demoHelp(): string {
  return `Usage:
  ${BIN} demo [options]

Runs a small spiking neural network and streams it into an HDF5 file. Leaky integrate-and-fire
neurons (80% excitatory, 20% inhibitory, ~10% random connectivity) steer an agent to a goal in
the unit square: sensory neurons encode the direction to the goal, four motor populations move
the agent, reward-modulated STDP changes weights at each reward. Every step (membrane
potentials every 10th step, spikes, position, rewards, weight changes, events) is written to
  <out>/<name>_<YYYYmmdd_HHMMSS>/experiment_data.h5
The same seed gives the same data.

Options:
  -e, --episodes <n>   Episodes to run, 1-10000 (default 5)
  -s, --steps <n>      Steps of 1 ms per episode, 1-10000000 (default 2000)
  -n, --neurons <n>    Neurons in the network, 20-5000 (default 200)
      --seed <n>       Seed of everything random, 0-4294967295 (default 1)
  -o, --out <dir>      Where experiment directories are created (default ./experiments)
      --name <name>    Experiment name, the start of the directory name (default demo)
      --json           Print the result as JSON on stdout, nothing else
  -h, --help           Show this help
      --debug          Show stack traces on errors

Progress goes to stderr: a bar per episode on a terminal, one line per episode otherwise.
NO_COLOR=1 turns colours off.

Examples:
  ${BIN} demo
  ${BIN} demo --episodes 10 --steps 5000 --seed 7
  ${BIN} demo -n 1000 -o /tmp/runs --name big
  ${BIN} demo --json > result.json
`;
}

export async function demoCommand(args: string[], io: Io): Promise<number> {
  const { values: v } = parse(args, DEMO_OPTIONS, "demo");
  if (v.help) {
    io.stdout.write(demoHelp());
    return 0;
  }
  const episodes = intFlag("demo", "episodes", v.episodes, 5, 1, 10_000);
  const steps = intFlag("demo", "steps", v.steps, 2000, 1, 10_000_000);
  const neurons = intFlag("demo", "neurons", v.neurons, 200, 20, 5000);
  const seed = intFlag("demo", "seed", v.seed, 1, 0, 0xffffffff);
  const outputBaseDir = v.out ?? "experiments";
  if (outputBaseDir.trim() === "") throw new UsageError(`demo: --out needs a directory; see '${BIN} demo --help'`);
  const name = v.name ?? "demo";
  const json = v.json === true;

  const errStyle = makeStyle(colorWanted(io.stderr, io.env));
  const outStyle = makeStyle(colorWanted(io.stdout, io.env));
  const progress = json ? undefined : new EpisodeProgress(io.stderr, { episodes, style: errStyle, tty: io.stderr.isTTY === true });

  // Loaded here so that --help and --version never load the HDF5 engine.
  const { runDemo } = await import("../demo/run.js");

  // Ctrl-C: finish the current step, end the episode, close the file. A second Ctrl-C quits at once.
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    progress?.line(errStyle.yellow("interrupted: closing the file (Ctrl-C again to quit at once)"));
  };
  process.on("SIGINT", onSigint);

  let result: DemoResult;
  try {
    result = await runDemo({
      episodes,
      steps,
      neurons,
      seed,
      outputBaseDir,
      name,
      signal: controller.signal,
      onStart: progress
        ? (info) =>
            progress.line(
              errStyle.dim(
                `writing ${displayPath(info.filePath)}: ${formatInt(episodes)} episode${episodes === 1 ? "" : "s"} × ` +
                  `${formatInt(steps)} steps, ${formatInt(info.neurons)} neurons, seed ${seed}`,
              ),
            )
        : undefined,
      onProgress: progress ? (e, s, n) => progress.update(e, s, n) : undefined,
      onEpisodeEnd: progress ? (ep) => progress.episodeDone(ep.episode, episodeLine(ep, errStyle)) : undefined,
    });
  } finally {
    progress?.clear();
    process.off("SIGINT", onSigint);
  }

  if (json) {
    const { params, ...rest } = result;
    const stepsPerSecond = result.seconds > 0 ? result.steps / result.seconds : null;
    io.stdout.write(`${JSON.stringify({ ...rest, stepsPerSecond, seed, stepsPerEpisode: steps, params }, null, 2)}\n`);
  } else {
    io.stdout.write(summary(result, steps, outStyle));
  }
  return result.aborted ? 130 : 0;
}

function episodeLine(ep: EpisodeResult, s: ReturnType<typeof makeStyle>): string {
  const goals = `${ep.goalsReached} goal${ep.goalsReached === 1 ? "" : "s"}`;
  return [
    `${formatInt(ep.steps)} steps`,
    `${formatInt(ep.spikes)} spikes (${ep.meanRateHz.toFixed(1)} Hz)`,
    ep.goalsReached > 0 ? s.green(goals) : goals,
    `reward ${Number(ep.reward.toFixed(3))}`,
    `${formatInt(ep.weightChanges)} weight changes`,
  ].join(", ");
}

function summary(r: DemoResult, stepsPerEpisode: number, s: ReturnType<typeof makeStyle>): string {
  const dir = displayPath(r.outputDir);
  const file = displayPath(r.filePath);
  const q = shellQuote(file);
  const rateHz = r.steps > 0 ? (r.spikes / r.neurons / r.steps) * (1000 / r.params.network.dt) : 0;
  const speed = r.seconds > 0 ? r.steps / r.seconds : 0;
  const exportSeconds = Math.max(0, r.seconds - r.simulationSeconds);
  const row = (label: string, value: string) => `  ${s.dim(label.padEnd(10))}${value}\n`;
  const title = r.aborted
    ? s.yellow(`Interrupted; the partial experiment is in ${dir}/`)
    : `${s.green("✔")} ${s.bold(`Experiment written to ${dir}/`)}`;
  return (
    `\n${title}\n` +
    row("file", `${file}  (${formatBytes(r.fileBytes)})`) +
    row(
      "episodes",
      r.aborted
        ? `${formatInt(r.episodes)} (interrupted): ${formatInt(r.steps)} steps of ${formatInt(stepsPerEpisode)} per episode`
        : `${formatInt(r.episodes)} × ${formatInt(stepsPerEpisode)} steps = ${formatInt(r.steps)} steps`,
    ) +
    row("network", `${formatInt(r.neurons)} neurons, ${formatInt(r.synapses)} synapses, seed ${r.params.seed}`) +
    row("spikes", `${formatInt(r.spikes)} (${rateHz.toFixed(1)} Hz per neuron)`) +
    row("rewards", `${formatInt(r.goalsReached)} goal${r.goalsReached === 1 ? "" : "s"} reached, total reward ${Number(r.rewards.toFixed(3))}`) +
    row("weights", `${formatInt(r.weightChanges)} weight changes, ${formatInt(r.events)} events`) +
    row("time", `${formatSeconds(r.seconds)} (simulation ${formatSeconds(r.simulationSeconds)}, export ${formatSeconds(exportSeconds)})`) +
    row("speed", `${s.bold(formatInt(speed))} steps/s written (${formatBytes(r.seconds > 0 ? r.fileBytes / r.seconds : 0)}/s)`) +
    `\n${s.bold("Look at it:")}\n` +
    `  ${BIN} inspect ${shellQuote(dir)}\n` +
    `  ${BIN} plot ${shellQuote(dir)} --episode 0 --kind raster --out raster.png\n` +
    `  ${BIN} export ${shellQuote(dir)} --episode 0 --stream spikes --format csv | head\n` +
    `  h5ls -r ${q}\n` +
    `  h5dump -d /episodes/summary ${q}\n` +
    `  python3 -c 'import h5py, sys; f = h5py.File(sys.argv[1], "r"); f.visit(print)' ${q}\n`
  );
}


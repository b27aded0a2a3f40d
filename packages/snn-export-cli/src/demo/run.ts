/**
 * Runs the demo experiment (see `sim.ts`) and streams it into an HDF5 file with {@link DataExporter}.
 *
 * @example
 * ```ts
 * const r = await runDemo({ episodes: 2, steps: 1000, outputBaseDir: "/tmp/experiments" });
 * console.log(`${r.steps} steps, ${r.spikes} spikes -> ${r.filePath}`);
 * ```
 */
import { stat } from "node:fs/promises";
import { DataExporter, ValidationError } from "snn-export";
import { MOTOR_POPULATIONS, MIN_NEURONS } from "./network.js";
import { DemoSimulation, defaultDemoParams, type DemoParams } from "./sim.js";

export interface DemoOptions {
  /** Episodes to run [5]. */
  episodes?: number;
  /** Steps per episode, 1 ms each [2000]. */
  steps?: number;
  /** Neurons in the network, at least 20 [200]. */
  neurons?: number;
  /** Seed of everything random [1]. */
  seed?: number;
  /** Where the experiment directory is created ["experiments"]. */
  outputBaseDir?: string;
  /** Experiment name, the start of the directory name ["demo"]. */
  name?: string;
  /** Learning rate of the reward-modulated STDP [0.005]. */
  learningRate?: number;
  /** More top-level config keys saved with the run (a sweep's parameters, e.g. `{ sweep: "lr" }`). */
  extraConfig?: Record<string, unknown>;
  /** Keep the membrane potentials every this many steps [10]. */
  neuralSamplingRate?: number;
  /** Called once the experiment file exists, before the first episode. */
  onStart?: (info: { outputDir: string; filePath: string; neurons: number; synapses: number }) => void;
  /** Called every 100 steps and at the end of each episode; `episode` counts from 0, `step` is the steps done. */
  onProgress?: (episode: number, step: number, steps: number) => void;
  /** Called after each episode. */
  onEpisodeEnd?: (episode: EpisodeResult) => void;
  /** Stops the run at the next step boundary (checked every 100 steps); the open episode is ended as unsuccessful, the file is closed. */
  signal?: AbortSignal;
}

export interface EpisodeResult {
  episode: number;
  steps: number;
  spikes: number;
  reward: number;
  goalsReached: number;
  weightChanges: number;
  /** Mean firing rate over all neurons, Hz. */
  meanRateHz: number;
}

export interface DemoResult {
  /** The experiment directory and its HDF5 file. */
  outputDir: string;
  filePath: string;
  /** Episodes run (fewer than asked if aborted). */
  episodes: number;
  neurons: number;
  synapses: number;
  /** Steps logged over all episodes. */
  steps: number;
  spikes: number;
  /** Sum of all rewards (goals +1 each, wall bumps -0.1 each). */
  rewards: number;
  goalsReached: number;
  weightChanges: number;
  events: number;
  /** Wall-clock seconds of the whole run, from creating the exporter to closing the file. */
  seconds: number;
  /** Of these, seconds spent in the simulation itself. */
  simulationSeconds: number;
  /** Size of the HDF5 file. */
  fileBytes: number;
  /** True when `signal` stopped the run early. */
  aborted: boolean;
  /** The parameters the run used (also saved as config). */
  params: DemoParams;
}

const PROGRESS_EVERY = 100;
const MOTOR_NAMES = ["east", "north", "west", "south"];

function checkInt(name: string, v: number, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) {
    throw new ValidationError("INVALID_OPTION", `runDemo(): ${name} must be an integer >= ${min}, got ${v}`);
  }
  return v;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const round = (x: number, digits = 4) => Number(x.toFixed(digits));

/** The run's config, metadata and network structure: what it is, saved before its first episode. */
function describeRun(exporter: DataExporter, sim: DemoSimulation, run: DemoOptions & { seed: number; episodes: number; steps: number; neuralSamplingRate: number }): void {
  const { net, params } = sim;
  const { seed, episodes, steps, neuralSamplingRate } = run;
  exporter.saveConfig({
    experiment: "snn-export demo: LIF network steering an agent to a goal",
    ...run.extraConfig,
    seed,
    learning_rate: params.plasticity.learningRate,
    episodes,
    steps_per_episode: steps,
    n_neurons: net.n,
    n_synapses: net.nSynapses,
    n_plastic_synapses: sim.stdp.synapses.length,
    dt_ms: params.network.dt,
    neural_sampling_rate: neuralSamplingRate,
    network: params.network,
    world: params.world,
    plasticity: params.plasticity,
    motor: params.motor,
  });
  exporter.saveMetadata({
    description:
      "Leaky integrate-and-fire network (80% excitatory, 20% inhibitory, ~10% random connectivity). " +
      "Sensory neurons encode the direction to the goal, four motor populations move the agent. " +
      "Reward-modulated STDP changes the excitatory weights onto motor neurons at every non-zero reward.",
    created_by: "snn-export demo",
    units: { time: "ms (one step = dt_ms)", voltage: "mV", position: "unit square [0, 1]^2", weight: "mV/ms jump of the synaptic current" },
    neuron_blocks: {
      sensory: [0, net.hiddenStart],
      hidden: [net.hiddenStart, net.motorStart],
      motor: [net.motorStart, net.inhibitoryStart],
      inhibitory: [net.inhibitoryStart, net.n],
    },
    motor_populations: MOTOR_NAMES.slice(0, MOTOR_POPULATIONS),
    behavior: { x: "agent x", y: "agent y", goal_x: "goal x", goal_y: "goal y" },
    events: {
      goal_reached: "the agent came within goalRadius of the goal; the goal then moved",
      wall_hit: "the agent ran into the border",
      episode_midpoint: "halfway through the episode: progress so far",
    },
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  });
  const plastic = new Uint8Array(net.nSynapses);
  for (let k = 0; k < net.nSynapses; k++) plastic[k] = net.isPlastic(k) ? 1 : 0;
  exporter.saveNetworkStructure({
    neurons: {
      ids: Int32Array.from({ length: net.n }, (_, i) => i),
      types: net.types(),
      roles: net.roles(),
      positions: { data: net.positions, shape: [net.n, 2] },
      preferred_angle: net.preferredAngle,
      motor_population: net.motorPopulation,
    },
    connections: { sourceIds: net.sourceIds, targetIds: net.targetIds, plastic },
    weights: { sourceIds: net.sourceIds, targetIds: net.targetIds, values: net.initialWeights, shape: [net.n, net.n] },
  });
}

/** Logs step `t`, just simulated, with its weight changes and events; returns how many events. */
function logStep(exporter: DataExporter, sim: DemoSimulation, t: number, midpoint: number, before: { goalX: number; goalY: number; lastGoal: number }): number {
  const { net, world, params } = sim;
  let events = 0;
  exporter.log({
    timestep: t,
    neuralState: { v: net.v },
    spikes: net.spikeIds.subarray(0, net.spikeCount),
    behavior: { x: world.x, y: world.y, goal_x: world.goalX, goal_y: world.goalY },
    reward: sim.reward,
  });
  for (const change of sim.weightChanges) exporter.logWeightChange(change);
  if (sim.reachedGoal) {
    exporter.logEvent({
      timestep: t,
      type: "goal_reached",
      data: {
        goal_number: sim.episodeGoals,
        goal: [round(before.goalX), round(before.goalY)],
        position: [round(world.x), round(world.y)],
        steps_taken: t - before.lastGoal,
        weight_changes: sim.weightChanges.length,
        next_goal: [round(world.goalX), round(world.goalY)],
      },
    });
    events++;
  }
  if (sim.hitWall) {
    exporter.logEvent({ timestep: t, type: "wall_hit", data: { position: [round(world.x), round(world.y)] } });
    events++;
  }
  if (t === midpoint) {
    exporter.logEvent({
      timestep: t,
      type: "episode_midpoint",
      data: {
        goals_reached: sim.episodeGoals,
        reward: round(sim.episodeReward),
        spikes: sim.episodeSpikes,
        mean_rate_hz: round((sim.episodeSpikes / net.n / (t + 1)) * (1000 / params.network.dt), 2),
        distance_to_goal: round(world.goalDistance()),
        distance_travelled: round(world.distanceTravelled),
      },
    });
    events++;
  }
  return events;
}

/** The summary stored with an episode at its end. */
function episodeSummary(sim: DemoSimulation, e: { aborted: boolean; done: number; events: number; meanRateHz: number }): Record<string, unknown> {
  const { world } = sim;
  return {
    aborted: e.aborted,
    steps: e.done,
    goals_reached: sim.episodeGoals,
    total_reward: round(sim.episodeReward),
    spikes: sim.episodeSpikes,
    mean_rate_hz: round(e.meanRateHz, 2),
    weight_changes: sim.episodeWeightChanges,
    events: e.events,
    distance_travelled: round(world.distanceTravelled),
    final_position: [round(world.x), round(world.y)],
    final_distance_to_goal: round(world.goalDistance()),
    motor_rates_hz: Object.fromEntries(MOTOR_NAMES.map((m, i) => [m, round(sim.motorRates[i], 2)])),
  };
}

/**
 * Simulates and logs one episode of `steps` steps, reporting progress and stopping early when
 * `signal` aborts; adds the simulation's own time to `clock.simMs`.
 */
async function runEpisode(
  exporter: DataExporter, sim: DemoSimulation, steps: number, opts: Pick<DemoOptions, "onProgress" | "signal">, clock: { simMs: number },
): Promise<{ episodeId: number; done: number; events: number; stopped: boolean }> {
  const { onProgress, signal } = opts;
  const { world } = sim;
  const midpoint = Math.floor(steps / 2);
  const episodeId = exporter.startEpisode();
  sim.startEpisode();
  let events = 0;
  let done = 0;
  onProgress?.(episodeId, 0, steps);
  for (let t = 0; t < steps; t++) {
    if (t > 0 && t % PROGRESS_EVERY === 0) {
      onProgress?.(episodeId, t, steps);
      await yieldToEventLoop();
      if (signal?.aborted) return { episodeId, done, events, stopped: true };
    }
    const before = { goalX: world.goalX, goalY: world.goalY, lastGoal: sim.lastGoalTimestep };
    const s0 = performance.now();
    sim.step();
    clock.simMs += performance.now() - s0;
    done++;
    events += logStep(exporter, sim, t, midpoint, before);
  }
  onProgress?.(episodeId, steps, steps);
  return { episodeId, done, events, stopped: false };
}

/** Runs the demo and writes `<outputBaseDir>/<name>_<timestamp>/experiment_data.h5`. Deterministic for a seed (except timestamps). */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const episodes = checkInt("episodes", opts.episodes ?? 5, 1);
  const steps = checkInt("steps", opts.steps ?? 2000, 1);
  const neurons = checkInt("neurons", opts.neurons ?? 200, MIN_NEURONS);
  const seed = opts.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new ValidationError("INVALID_OPTION", `runDemo(): seed must be an integer, got ${seed}`);
  const neuralSamplingRate = checkInt("neuralSamplingRate", opts.neuralSamplingRate ?? 10, 1);
  const name = opts.name ?? "demo";
  const { onStart, onEpisodeEnd, signal } = opts;

  // Build the network before creating any file, so bad parameters leave nothing behind.
  const params = defaultDemoParams({ neurons, seed });
  if (opts.learningRate !== undefined) {
    if (!(Number.isFinite(opts.learningRate) && opts.learningRate >= 0)) throw new ValidationError("INVALID_OPTION", `runDemo(): learningRate must be a finite number >= 0, got ${opts.learningRate}`);
    params.plasticity.learningRate = opts.learningRate;
  }
  const sim = new DemoSimulation(params);
  const net = sim.net;

  const t0 = performance.now();
  const clock = { simMs: 0 };
  const exporter = await DataExporter.create(name, {
    outputBaseDir: opts.outputBaseDir ?? "experiments",
    neuralSamplingRate,
    compression: "gzip",
    compressionLevel: 4,
    chunkSize: Math.min(steps, 10000),
  });
  const totals = { episodes: 0, steps: 0, spikes: 0, rewards: 0, goals: 0, weightChanges: 0, events: 0 };
  let aborted = false;
  try {
    describeRun(exporter, sim, { ...opts, seed, episodes, steps, neuralSamplingRate });

    onStart?.({ outputDir: exporter.outputDir, filePath: exporter.filePath, neurons: net.n, synapses: net.nSynapses });
    for (let e = 0; e < episodes && !aborted; e++) {
      if (signal?.aborted) {
        aborted = true;
        break;
      }
      const { episodeId, done, events, stopped } = await runEpisode(exporter, sim, steps, opts, clock);
      aborted = stopped;
      const meanRateHz = done > 0 ? (sim.episodeSpikes / net.n / done) * (1000 / params.network.dt) : 0;
      await exporter.endEpisode({ success: !aborted && sim.episodeGoals > 0, summary: episodeSummary(sim, { aborted, done, events, meanRateHz }) });
      totals.episodes++;
      totals.steps += done;
      totals.spikes += sim.episodeSpikes;
      totals.rewards += sim.episodeReward;
      totals.goals += sim.episodeGoals;
      totals.weightChanges += sim.episodeWeightChanges;
      totals.events += events;
      onEpisodeEnd?.({
        episode: episodeId,
        steps: done,
        spikes: sim.episodeSpikes,
        reward: sim.episodeReward,
        goalsReached: sim.episodeGoals,
        weightChanges: sim.episodeWeightChanges,
        meanRateHz,
      });
    }

    await exporter.saveCheckpoint("final_weights", {
      weights: { sourceIds: net.sourceIds, targetIds: net.targetIds, values: net.weights, shape: [net.n, net.n] },
      episodes_completed: totals.episodes,
    });
    await exporter.close();
  } catch (err) {
    // Keep what was written readable; the original error is the one worth reporting.
    try {
      await exporter.close();
    } catch {
      /* already failing */
    }
    throw err;
  }
  const seconds = (performance.now() - t0) / 1000;
  const { size } = await stat(exporter.filePath);
  return {
    outputDir: exporter.outputDir,
    filePath: exporter.filePath,
    episodes: totals.episodes,
    neurons: net.n,
    synapses: net.nSynapses,
    steps: totals.steps,
    spikes: totals.spikes,
    rewards: round(totals.rewards, 6),
    goalsReached: totals.goals,
    weightChanges: totals.weightChanges,
    events: totals.events,
    seconds,
    simulationSeconds: clock.simMs / 1000,
    fileBytes: size,
    aborted,
    params,
  };
}

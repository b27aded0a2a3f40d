/**
 * The demo experiment without any I/O: network + world + plasticity, one `step()` at a time.
 *
 * Loop of one step:
 * 1. sensory neurons get Poisson input tuned to the direction from the agent to the goal;
 * 2. the LIF network advances by `dt`;
 * 3. the four motor populations' smoothed firing rates give the agent's velocity
 *    (east − west, north − south), the world moves the agent and hands out reward;
 * 4. R-STDP updates eligibilities and, on non-zero reward, the weights onto motor neurons.
 *
 * Everything random comes from one seed, so a seed fixes the whole run.
 */
import { defaultNetworkParams, MOTOR_POPULATIONS, Network, ROLE_SENSORY, type NetworkParams } from "./network.js";
import { defaultPlasticityParams, RewardModulatedStdp, type PlasticityParams, type WeightChange } from "./plasticity.js";
import { mulberry32, type Rng } from "./rng.js";
import { defaultWorldParams, World, type WorldParams } from "./world.js";

export interface MotorParams {
  /** Time constant of the motor populations' rate estimate, ms [50]. */
  tauRate: number;
  /** Agent speed per Hz of rate difference between opposite populations, units/s/Hz [0.1]. */
  speedGain: number;
}

/** Every parameter of the demo; saved as the experiment's config. */
export interface DemoParams {
  seed: number;
  network: NetworkParams;
  world: WorldParams;
  plasticity: PlasticityParams;
  motor: MotorParams;
}

export function defaultDemoParams(opts: { neurons?: number; seed?: number } = {}): DemoParams {
  return {
    seed: opts.seed ?? 1,
    network: defaultNetworkParams(opts.neurons ?? 200),
    world: defaultWorldParams(),
    plasticity: defaultPlasticityParams(),
    motor: { tauRate: 50, speedGain: 0.1 },
  };
}

export class DemoSimulation {
  readonly params: DemoParams;
  readonly net: Network;
  readonly world: World;
  readonly stdp: RewardModulatedStdp;

  /** Timestep within the current episode of the last `step()` (-1 before the first). */
  timestep = -1;
  /** Results of the last step. */
  reward = 0;
  reachedGoal = false;
  hitWall = false;
  vx = 0;
  vy = 0;
  /** Weight changes made in the last step (empty most of the time). */
  readonly weightChanges: WeightChange[] = [];
  /** Smoothed firing rate (Hz) of each motor population: east, north, west, south. */
  readonly motorRates = new Float64Array(MOTOR_POPULATIONS);

  /** Totals of the current episode. */
  episodeSpikes = 0;
  episodeReward = 0;
  episodeGoals = 0;
  episodeWeightChanges = 0;
  /** Timestep at which the last goal was reached (-1: none yet this episode). */
  lastGoalTimestep = -1;

  private readonly noise: Rng;
  private readonly episodeRng: Rng;
  private readonly drive: Float32Array;
  private readonly motorCounts = new Int32Array(MOTOR_POPULATIONS);
  private readonly motorSizes = new Int32Array(MOTOR_POPULATIONS);
  private readonly rateDecay: number;
  private readonly sensoryScale: number;

  constructor(params: DemoParams) {
    this.params = params;
    const root = mulberry32(params.seed);
    this.net = new Network(params.network, root.fork());
    this.world = new World(params.world, root.fork());
    this.stdp = new RewardModulatedStdp(this.net, params.plasticity);
    this.noise = root.fork();
    this.episodeRng = root.fork();
    this.drive = new Float32Array(this.net.n);
    for (let i = this.net.motorStart; i < this.net.inhibitoryStart; i++) this.motorSizes[this.net.motorPopulation[i]]++;
    this.rateDecay = Math.exp(-params.network.dt / params.motor.tauRate);
    this.sensoryScale = Math.min(1, (params.network.sensoryMaxRate * params.network.dt) / 1000);
  }

  /** Starts an episode: network state randomised, agent to the centre, new goal, traces cleared. Weights carry over. */
  startEpisode(): void {
    this.net.reset(this.episodeRng);
    this.world.reset();
    this.stdp.reset();
    this.motorRates.fill(0);
    this.timestep = -1;
    this.reward = 0;
    this.reachedGoal = false;
    this.hitWall = false;
    this.vx = 0;
    this.vy = 0;
    this.weightChanges.length = 0;
    this.episodeSpikes = 0;
    this.episodeReward = 0;
    this.episodeGoals = 0;
    this.episodeWeightChanges = 0;
    this.lastGoalTimestep = -1;
  }

  /** Advances one step. Spikes are in `net.spikeIds[0 .. net.spikeCount)`. */
  step(): void {
    const net = this.net;
    const world = this.world;
    this.timestep++;

    // 1. Sensory input: von Mises tuning to the goal direction.
    const goal = world.goalAngle();
    const kappa = net.params.sensoryTuning;
    for (let i = 0; i < net.hiddenStart; i++) {
      this.drive[i] = net.role[i] === ROLE_SENSORY ? this.sensoryScale * Math.exp(kappa * (Math.cos(goal - net.preferredAngle[i]) - 1)) : 0;
    }

    // 2. Network.
    const count = net.step(this.drive, this.noise);
    this.episodeSpikes += count;

    // 3. Motor readout and world.
    const mc = this.motorCounts;
    mc.fill(0);
    for (let s = 0; s < count; s++) {
      const pop = net.motorPopulation[net.spikeIds[s]];
      if (pop >= 0) mc[pop]++;
    }
    const toHz = 1000 / net.params.dt;
    for (let p = 0; p < MOTOR_POPULATIONS; p++) {
      this.motorRates[p] = this.rateDecay * this.motorRates[p] + (1 - this.rateDecay) * (mc[p] / this.motorSizes[p]) * toHz;
    }
    const gain = this.params.motor.speedGain;
    this.vx = gain * (this.motorRates[0] - this.motorRates[2]);
    this.vy = gain * (this.motorRates[1] - this.motorRates[3]);
    const out = world.step(this.vx, this.vy, net.params.dt);
    this.reward = out.reward;
    this.reachedGoal = out.reachedGoal;
    this.hitWall = out.hitWall;
    this.episodeReward += out.reward;
    if (out.reachedGoal) {
      this.episodeGoals++;
      this.lastGoalTimestep = this.timestep;
    }

    // 4. Plasticity.
    this.stdp.observe();
    this.weightChanges.length = 0;
    if (out.reward !== 0) this.episodeWeightChanges += this.stdp.applyReward(out.reward, this.timestep, this.weightChanges);
  }
}

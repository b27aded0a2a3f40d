/**
 * A small recurrent network of leaky integrate-and-fire (LIF) neurons.
 *
 * Layout of the neuron ids (contiguous blocks):
 *
 * | ids                          | role         | sign       |
 * |------------------------------|--------------|------------|
 * | `[0, nSensory)`              | `sensory`    | excitatory |
 * | `[.., + nHidden)`            | `hidden`     | excitatory |
 * | `[.., + nMotor)`             | `motor`      | excitatory |
 * | `[nExcitatory, nNeurons)`    | `inhibitory` | inhibitory |
 *
 * Sensory neurons have a preferred direction (evenly spaced angles) and receive Poisson input
 * tuned to the direction of the goal. Motor neurons form four populations (east, north, west,
 * south); their firing rates move the agent (see `sim.ts`).
 *
 * Connectivity is sparse and random (Erdős–Rényi, probability `connectionProbability`, no
 * self-connections), except that sensory → motor synapses are denser and their initial weight
 * follows how well the two preferred directions agree. Weights obey Dale's law: positive from
 * excitatory, negative from inhibitory neurons. They are kept in COO order sorted by source,
 * then target, so the same arrays are also the CSR propagation structure (`rowPtr`).
 *
 * Units: time in ms, voltage in mV. The synaptic input `g` is a current in mV/ms that jumps by
 * the weight on a presynaptic spike and decays with `tauSynapse`.
 */
import type { Rng } from "./rng.js";

export type Role = "sensory" | "hidden" | "motor" | "inhibitory";

export const ROLE_SENSORY = 0;
const ROLE_HIDDEN = 1;
export const ROLE_MOTOR = 2;
export const ROLE_INHIBITORY = 3;
const ROLE_NAMES: readonly Role[] = ["sensory", "hidden", "motor", "inhibitory"];

/** Number of motor populations and their preferred directions (radians): east, north, west, south. */
export const MOTOR_POPULATIONS = 4;
const MOTOR_ANGLES: readonly number[] = [0, Math.PI / 2, Math.PI, (3 * Math.PI) / 2];

/** Parameters of the network; see {@link defaultNetworkParams}. */
export interface NetworkParams {
  nNeurons: number;
  /** Fraction of excitatory neurons [0.8]. */
  excitatoryFraction: number;
  /** Fraction of all neurons that are sensory (excitatory) [0.2]. */
  sensoryFraction: number;
  /** Fraction of all neurons that are motor (excitatory), split into 4 populations [0.2]. */
  motorFraction: number;
  /** Probability of a synapse between any two distinct neurons [0.1]. */
  connectionProbability: number;
  /** Probability of a sensory → motor synapse [0.25]. */
  sensoryMotorProbability: number;
  /** Integration step, ms [1]. */
  dt: number;
  tauMembrane: number;
  tauSynapse: number;
  vRest: number;
  vReset: number;
  vThreshold: number;
  /** Absolute refractory period, ms. */
  refractoryPeriod: number;
  /**
   * Mean weights (mV/ms jump of `g`) for the reference in-degree of 20 inputs; they are scaled by
   * 20 / (connectionProbability · nNeurons) so that networks of other sizes stay in a similar regime.
   */
  weightExcitatory: number;
  weightInhibitory: number;
  weightSensoryMotor: number;
  /** Upper bound of plastic excitatory weights (before scaling). */
  weightMax: number;
  /** Background Poisson input to every neuron: rate (Hz) and voltage kick (mV). */
  backgroundRate: number;
  backgroundWeight: number;
  /** Sensory input: peak rate (Hz) at the preferred direction, kick (mV), tuning concentration κ. */
  sensoryMaxRate: number;
  sensoryWeight: number;
  sensoryTuning: number;
}

export function defaultNetworkParams(nNeurons = 200): NetworkParams {
  return {
    nNeurons,
    excitatoryFraction: 0.8,
    sensoryFraction: 0.2,
    motorFraction: 0.2,
    connectionProbability: 0.1,
    sensoryMotorProbability: 0.25,
    dt: 1,
    tauMembrane: 20,
    tauSynapse: 5,
    vRest: -65,
    vReset: -70,
    vThreshold: -50,
    refractoryPeriod: 2,
    weightExcitatory: 0.1,
    weightInhibitory: 0.4,
    weightSensoryMotor: 0.25,
    weightMax: 0.6,
    backgroundRate: 400,
    backgroundWeight: 1.5,
    sensoryMaxRate: 300,
    sensoryWeight: 2.5,
    sensoryTuning: 2,
  };
}

/** The smallest network that still has every role (4 motor populations need ≥ 4 motor neurons). */
export const MIN_NEURONS = 20;

/** Checks parameters; throws a RangeError naming the first bad one. */
function checkNetworkParams(p: NetworkParams): void {
  if (!Number.isInteger(p.nNeurons) || p.nNeurons < MIN_NEURONS) {
    throw new RangeError(`nNeurons must be an integer >= ${MIN_NEURONS}, got ${p.nNeurons}`);
  }
  for (const key of ["excitatoryFraction", "sensoryFraction", "motorFraction", "connectionProbability", "sensoryMotorProbability"] as const) {
    if (!(p[key] > 0 && p[key] <= 1)) throw new RangeError(`${key} must be in (0, 1], got ${p[key]}`);
  }
  if (p.sensoryFraction + p.motorFraction >= p.excitatoryFraction) {
    throw new RangeError("sensoryFraction + motorFraction must be below excitatoryFraction (hidden neurons are needed)");
  }
  for (const key of ["dt", "tauMembrane", "tauSynapse"] as const) {
    if (!(p[key] > 0)) throw new RangeError(`${key} must be > 0, got ${p[key]}`);
  }
  if (!(p.vThreshold > p.vReset)) throw new RangeError("vThreshold must be above vReset");
}

/** A built network: static structure plus mutable state. */
export class Network {
  readonly params: NetworkParams;
  readonly n: number;
  readonly nSensory: number;
  readonly nHidden: number;
  readonly nMotor: number;
  readonly nExcitatory: number;
  readonly nInhibitory: number;
  /** First id of each block. */
  readonly hiddenStart: number;
  readonly motorStart: number;
  readonly inhibitoryStart: number;

  /** Per neuron: role code (ROLE_*), preferred angle (sensory/motor; 0 otherwise), motor population (-1 if none). */
  readonly role: Uint8Array;
  readonly preferredAngle: Float32Array;
  readonly motorPopulation: Int8Array;
  /** Per neuron 2-D position for drawing, row-major `[n, 2]`. */
  readonly positions: Float32Array;

  /** Synapses in COO order sorted by (source, target). `weights` changes with plasticity. */
  readonly sourceIds: Int32Array;
  readonly targetIds: Int32Array;
  readonly weights: Float32Array;
  /** Initial weights (a copy taken when the network was built). */
  readonly initialWeights: Float32Array;
  /** CSR row pointers over `sourceIds`: the synapses of source `j` are `rowPtr[j] .. rowPtr[j+1]`. */
  readonly rowPtr: Int32Array;
  /** Scale applied to all weights (reference in-degree / actual in-degree). */
  readonly weightScale: number;

  /** State. */
  readonly v: Float32Array;
  readonly g: Float32Array;
  readonly refractory: Int32Array;
  /** Ids of the neurons that spiked in the last step: `spikeIds[0 .. spikeCount)`. */
  readonly spikeIds: Int32Array;
  spikeCount = 0;

  private readonly synDecay: number;
  private readonly leak: number;
  private readonly refractorySteps: number;
  private readonly backgroundProb: number;

  constructor(params: NetworkParams, rng: Rng) {
    checkNetworkParams(params);
    this.params = params;
    const n = (this.n = params.nNeurons);
    this.nExcitatory = Math.round(n * params.excitatoryFraction);
    this.nInhibitory = n - this.nExcitatory;
    this.nSensory = Math.max(2, Math.round(n * params.sensoryFraction));
    this.nMotor = Math.max(MOTOR_POPULATIONS, MOTOR_POPULATIONS * Math.round((n * params.motorFraction) / MOTOR_POPULATIONS));
    this.nHidden = this.nExcitatory - this.nSensory - this.nMotor;
    if (this.nHidden < 1 || this.nInhibitory < 1) {
      throw new RangeError(`a network of ${n} neurons leaves no hidden or inhibitory neurons with these fractions`);
    }
    this.hiddenStart = this.nSensory;
    this.motorStart = this.hiddenStart + this.nHidden;
    this.inhibitoryStart = this.nExcitatory;

    this.role = new Uint8Array(n);
    this.preferredAngle = new Float32Array(n);
    this.motorPopulation = new Int8Array(n).fill(-1);
    this.positions = new Float32Array(2 * n);
    const structureRng = rng.fork();
    for (let i = 0; i < n; i++) {
      let x: number;
      let y: number;
      if (i < this.hiddenStart) {
        this.role[i] = ROLE_SENSORY;
        const a = (2 * Math.PI * i) / this.nSensory;
        this.preferredAngle[i] = a;
        x = 0.15 + 0.1 * Math.cos(a);
        y = 0.5 + 0.1 * Math.sin(a);
      } else if (i < this.motorStart) {
        this.role[i] = ROLE_HIDDEN;
        x = structureRng.uniform(0.3, 0.7);
        y = structureRng.uniform(0.1, 0.9);
      } else if (i < this.inhibitoryStart) {
        this.role[i] = ROLE_MOTOR;
        const k = i - this.motorStart;
        const pop = k % MOTOR_POPULATIONS;
        this.motorPopulation[i] = pop;
        const a = MOTOR_ANGLES[pop];
        this.preferredAngle[i] = a;
        const r = 0.04 + (0.08 * Math.floor(k / MOTOR_POPULATIONS)) / Math.max(1, this.nMotor / MOTOR_POPULATIONS);
        x = 0.85 + r * Math.cos(a);
        y = 0.5 + r * Math.sin(a);
      } else {
        this.role[i] = ROLE_INHIBITORY;
        x = structureRng.uniform(0.35, 0.65);
        y = structureRng.uniform(0.05, 0.95);
      }
      this.positions[2 * i] = x;
      this.positions[2 * i + 1] = y;
    }

    this.weightScale = 20 / (params.connectionProbability * n);
    const built = this.buildSynapses(rng.fork());
    this.sourceIds = built.src;
    this.targetIds = built.tgt;
    this.weights = built.w;
    this.initialWeights = built.w.slice();
    this.rowPtr = new Int32Array(n + 1);
    for (let k = 0; k < this.sourceIds.length; k++) this.rowPtr[this.sourceIds[k] + 1]++;
    for (let j = 0; j < n; j++) this.rowPtr[j + 1] += this.rowPtr[j];

    this.v = new Float32Array(n);
    this.g = new Float32Array(n);
    this.refractory = new Int32Array(n);
    this.spikeIds = new Int32Array(n);
    this.synDecay = Math.exp(-params.dt / params.tauSynapse);
    this.leak = params.dt / params.tauMembrane;
    this.refractorySteps = Math.max(0, Math.round(params.refractoryPeriod / params.dt));
    this.backgroundProb = Math.min(1, (params.backgroundRate * params.dt) / 1000);
  }

  /** Number of synapses. */
  get nSynapses(): number {
    return this.sourceIds.length;
  }

  /** "excitatory" / "inhibitory" per neuron. */
  types(): string[] {
    return Array.from(this.role, (r) => (r === ROLE_INHIBITORY ? "inhibitory" : "excitatory"));
  }

  /** Role name per neuron. */
  roles(): Role[] {
    return Array.from(this.role, (r) => ROLE_NAMES[r]);
  }

  /** Puts every neuron at a random voltage between reset and threshold, clears synaptic input. */
  reset(rng: Rng): void {
    const { vReset, vThreshold } = this.params;
    for (let i = 0; i < this.n; i++) {
      this.v[i] = vReset + (vThreshold - vReset) * 0.8 * rng.next();
      this.g[i] = 0;
      this.refractory[i] = 0;
    }
    this.spikeCount = 0;
  }

  /**
   * Advances one step of `dt`.
   * `driveProb[i]` is the probability that neuron `i` receives an extra input kick of
   * `sensoryWeight` mV in this step (the sensory input); every neuron also gets background kicks.
   * Spikes of this step are in `spikeIds[0 .. spikeCount)` and reach their targets from the next step.
   */
  step(driveProb: Float32Array, rng: Rng): number {
    const p = this.params;
    const { n, v, g, refractory, spikeIds } = this;
    const { vRest, vReset, vThreshold, backgroundWeight, sensoryWeight } = p;
    const leak = this.leak;
    const dt = p.dt;
    const synDecay = this.synDecay;
    const bgProb = this.backgroundProb;
    const refSteps = this.refractorySteps;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const gi = g[i] * synDecay;
      g[i] = gi;
      if (refractory[i] > 0) {
        refractory[i]--;
        continue;
      }
      let vi = v[i];
      vi += leak * (vRest - vi) + dt * gi;
      if (rng.next() < bgProb) vi += backgroundWeight;
      const d = driveProb[i];
      if (d > 0 && rng.next() < d) vi += sensoryWeight;
      if (vi >= vThreshold) {
        vi = vReset;
        refractory[i] = refSteps;
        spikeIds[count++] = i;
      }
      v[i] = vi;
    }
    // Propagate through the CSR rows of the neurons that spiked.
    const { rowPtr, targetIds, weights } = this;
    for (let s = 0; s < count; s++) {
      const j = spikeIds[s];
      for (let k = rowPtr[j], end = rowPtr[j + 1]; k < end; k++) g[targetIds[k]] += weights[k];
    }
    this.spikeCount = count;
    return count;
  }

  /** Is synapse `k` plastic? Excitatory synapses onto motor neurons are. */
  isPlastic(k: number): boolean {
    return this.role[this.sourceIds[k]] !== ROLE_INHIBITORY && this.role[this.targetIds[k]] === ROLE_MOTOR;
  }

  /** Largest weight a plastic synapse may reach (after scaling). */
  get plasticWeightMax(): number {
    return this.params.weightMax * this.weightScale;
  }

  private buildSynapses(rng: Rng): { src: Int32Array; tgt: Int32Array; w: Float32Array } {
    const p = this.params;
    const n = this.n;
    const scale = this.weightScale;
    const src: number[] = [];
    const tgt: number[] = [];
    const w: number[] = [];
    // Target blocks: [start, end, role].
    const blocks: Array<[number, number, number]> = [
      [0, this.hiddenStart, ROLE_SENSORY],
      [this.hiddenStart, this.motorStart, ROLE_HIDDEN],
      [this.motorStart, this.inhibitoryStart, ROLE_MOTOR],
      [this.inhibitoryStart, n, ROLE_INHIBITORY],
    ];
    for (let j = 0; j < n; j++) {
      const preRole = this.role[j];
      for (const [start, end, postRole] of blocks) {
        const sensoryMotor = preRole === ROLE_SENSORY && postRole === ROLE_MOTOR;
        const prob = sensoryMotor ? p.sensoryMotorProbability : p.connectionProbability;
        // Geometric skipping: O(synapses) instead of O(pairs).
        const logq = Math.log(1 - prob);
        let i = start - 1;
        for (;;) {
          if (prob >= 1) i += 1;
          else {
            let u = rng.next();
            while (u === 0) u = rng.next();
            i += 1 + Math.floor(Math.log(u) / logq);
          }
          if (i >= end) break;
          if (i === j) continue;
          let weight: number;
          if (preRole === ROLE_INHIBITORY) {
            weight = -p.weightInhibitory * rng.uniform(0.5, 1.5);
          } else if (sensoryMotor) {
            const agreement = Math.cos(this.preferredAngle[j] - this.preferredAngle[i]);
            weight = p.weightSensoryMotor * Math.max(0.05, agreement) * rng.uniform(0.8, 1.2);
          } else {
            weight = p.weightExcitatory * rng.uniform(0.5, 1.5);
          }
          src.push(j);
          tgt.push(i);
          w.push(weight * scale);
        }
      }
    }
    return { src: Int32Array.from(src), tgt: Int32Array.from(tgt), w: Float32Array.from(w) };
  }
}

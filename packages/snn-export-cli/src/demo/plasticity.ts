/**
 * Reward-modulated spike-timing-dependent plasticity (R-STDP) with eligibility traces, on the
 * excitatory synapses onto motor neurons.
 *
 * Every step:
 * - presynaptic traces `xPre` and postsynaptic traces `yPost` decay with `tauPlus` / `tauMinus`;
 * - a postsynaptic spike adds `aPlus · xPre` to the eligibility of each incoming plastic synapse
 *   (pre before post), a presynaptic spike subtracts `aMinus · yPost` (post before pre);
 * - eligibilities decay with `tauEligibility`.
 *
 * Whenever the world hands out a non-zero reward `R`, each plastic weight changes by
 * `learningRate · R · eligibility` (clipped to [0, weightMax]). Changes smaller than `minChange`
 * are skipped, so weight changes happen now and then, in bursts at rewards and wall bumps.
 */
import type { Network } from "./network.js";

export interface PlasticityParams {
  learningRate: number;
  tauPlus: number;
  tauMinus: number;
  tauEligibility: number;
  aPlus: number;
  aMinus: number;
  /** Smallest |Δw| that is applied and recorded. */
  minChange: number;
}

export function defaultPlasticityParams(): PlasticityParams {
  return { learningRate: 0.005, tauPlus: 20, tauMinus: 20, tauEligibility: 500, aPlus: 1, aMinus: 1.05, minChange: 1e-3 };
}

/** One recorded weight change. */
export interface WeightChange {
  timestep: number;
  sourceId: number;
  targetId: number;
  oldWeight: number;
  newWeight: number;
}

export class RewardModulatedStdp {
  readonly params: PlasticityParams;
  /** Synapse index (into the network's COO arrays) of each plastic synapse. */
  readonly synapses: Int32Array;
  readonly eligibility: Float32Array;
  private readonly net: Network;
  private readonly xPre: Float32Array;
  private readonly yPost: Float32Array;
  /** Plastic synapses by source (`outPtr`/`outIdx`) and by target (`inPtr`/`inIdx`); values index `synapses`. */
  private readonly outPtr: Int32Array;
  private readonly outIdx: Int32Array;
  private readonly inPtr: Int32Array;
  private readonly inIdx: Int32Array;
  private readonly decayPlus: number;
  private readonly decayMinus: number;
  private readonly decayElig: number;
  /** Scratch: tentative new weights, in `inIdx` order. */
  private readonly tentative: Float64Array;

  constructor(net: Network, params: PlasticityParams) {
    this.params = params;
    this.net = net;
    const plastic: number[] = [];
    for (let k = 0; k < net.nSynapses; k++) if (net.isPlastic(k)) plastic.push(k);
    this.synapses = Int32Array.from(plastic);
    const m = plastic.length;
    this.eligibility = new Float32Array(m);
    this.xPre = new Float32Array(net.n);
    this.yPost = new Float32Array(net.n);

    // Synapses are sorted by source, so plastic ones are too: a CSR by source is a running count.
    this.outPtr = new Int32Array(net.n + 1);
    this.inPtr = new Int32Array(net.n + 1);
    for (let p = 0; p < m; p++) {
      this.outPtr[net.sourceIds[plastic[p]] + 1]++;
      this.inPtr[net.targetIds[plastic[p]] + 1]++;
    }
    for (let i = 0; i < net.n; i++) {
      this.outPtr[i + 1] += this.outPtr[i];
      this.inPtr[i + 1] += this.inPtr[i];
    }
    this.tentative = new Float64Array(m);
    this.outIdx = new Int32Array(m);
    this.inIdx = new Int32Array(m);
    const outFill = this.outPtr.slice(0, net.n);
    const inFill = this.inPtr.slice(0, net.n);
    for (let p = 0; p < m; p++) {
      this.outIdx[outFill[net.sourceIds[plastic[p]]]++] = p;
      this.inIdx[inFill[net.targetIds[plastic[p]]]++] = p;
    }
    const dt = net.params.dt;
    this.decayPlus = Math.exp(-dt / params.tauPlus);
    this.decayMinus = Math.exp(-dt / params.tauMinus);
    this.decayElig = Math.exp(-dt / params.tauEligibility);
  }

  /** Clears traces and eligibilities (start of an episode). */
  reset(): void {
    this.xPre.fill(0);
    this.yPost.fill(0);
    this.eligibility.fill(0);
  }

  /** Updates traces and eligibilities with the network's spikes of the current step. */
  observe(): void {
    const { xPre, yPost, eligibility: e, outPtr, outIdx, inPtr, inIdx, synapses } = this;
    const { spikeIds, spikeCount, sourceIds, targetIds } = this.net;
    const { aPlus, aMinus } = this.params;
    const dp = this.decayPlus;
    const dm = this.decayMinus;
    const de = this.decayElig;
    for (let i = 0; i < xPre.length; i++) {
      xPre[i] *= dp;
      yPost[i] *= dm;
    }
    for (let p = 0; p < e.length; p++) e[p] *= de;
    for (let s = 0; s < spikeCount; s++) {
      const i = spikeIds[s];
      // i as postsynaptic neuron: potentiate by the presynaptic traces.
      for (let q = inPtr[i], end = inPtr[i + 1]; q < end; q++) {
        const p = inIdx[q];
        e[p] += aPlus * xPre[sourceIds[synapses[p]]];
      }
      // i as presynaptic neuron: depress by the postsynaptic traces.
      for (let q = outPtr[i], end = outPtr[i + 1]; q < end; q++) {
        const p = outIdx[q];
        e[p] -= aMinus * yPost[targetIds[synapses[p]]];
      }
    }
    for (let s = 0; s < spikeCount; s++) {
      const i = spikeIds[s];
      xPre[i] += 1;
      yPost[i] += 1;
    }
  }

  /**
   * Applies reward `reward`: each plastic weight moves by `learningRate · reward · eligibility`,
   * then the plastic weights onto each motor neuron are rescaled so that their sum stays what it
   * was (synaptic scaling: synapses compete, the total drive of a motor neuron does not run away),
   * and clipped to [0, weightMax]. Changes of at least `minChange` are applied and pushed onto
   * `out`. Returns the number of changes.
   */
  applyReward(reward: number, timestep: number, out: WeightChange[]): number {
    if (reward === 0) return 0;
    const { synapses, eligibility: e, inPtr, inIdx } = this;
    const { weights, sourceIds, targetIds } = this.net;
    const wMax = this.net.plasticWeightMax;
    const eta = this.params.learningRate * this.net.weightScale;
    const minChange = this.params.minChange * this.net.weightScale;
    const tentative = this.tentative;
    let changes = 0;
    for (let i = 0; i < this.net.n; i++) {
      const start = inPtr[i];
      const end = inPtr[i + 1];
      if (start === end) continue;
      let sumOld = 0;
      let sumNew = 0;
      for (let q = start; q < end; q++) {
        const p = inIdx[q];
        const w = weights[synapses[p]];
        const t = Math.max(0, w + eta * reward * e[p]);
        tentative[q] = t;
        sumOld += w;
        sumNew += t;
      }
      const scale = sumNew > 0 ? sumOld / sumNew : 1;
      for (let q = start; q < end; q++) {
        const k = synapses[inIdx[q]];
        const oldWeight = weights[k];
        const newWeight = Math.fround(Math.min(wMax, tentative[q] * scale));
        if (!(Math.abs(newWeight - oldWeight) >= minChange)) continue;
        weights[k] = newWeight;
        out.push({ timestep, sourceId: sourceIds[k], targetId: targetIds[k], oldWeight, newWeight });
        changes++;
      }
    }
    return changes;
  }
}

/** The benchmark's per-workload loop, shared by the contender and the flush-cost study. */
import type { BenchExporter } from "./contenders.js";
import { stepIndex, type WorkloadData } from "./data.js";
import type { Workload } from "./workloads.js";

/** Logs the whole workload; returns after `close()`. */
export async function logWorkload(ex: BenchExporter, w: Workload, d: WorkloadData, steps: number): Promise<void> {
  ex.saveNetworkStructure({ weights: { sourceIds: d.sourceIds, targetIds: d.targetIds, values: d.weights, shape: [d.neurons, d.neurons] } });
  const nConn = d.sourceIds.length;
  for (let e = 0; e < w.episodes; e++) {
    ex.startEpisode();
    for (let t = 0; t < steps; t++) {
      const i = stepIndex(d, steps, e, t);
      ex.log({ timestep: t, neuralState: { v: d.v[i] }, spikes: d.spikes[i], behavior: { x: d.x[i], y: d.y[i] }, reward: d.reward[i] });
      if (d.weightChange[i]) {
        for (let k = 0; k < 5; k++) {
          const sid = (t * 7 + k) % nConn;
          ex.logWeightChange({ timestep: t, synapseId: sid, oldWeight: d.weights[sid], newWeight: d.weights[sid] + 0.001 });
        }
      }
    }
    ex.endEpisode();
  }
  await ex.close();
}

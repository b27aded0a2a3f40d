/** The demo simulation on its own: no exporter, no files. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mulberry32 } from "#cli/demo/rng.js";
import { defaultNetworkParams, Network, ROLE_INHIBITORY, ROLE_MOTOR } from "#cli/demo/network.js";
import { DemoSimulation, defaultDemoParams } from "#cli/demo/sim.js";
import { defaultWorldParams, World } from "#cli/demo/world.js";
import type { WeightChange } from "#cli/demo/plasticity.js";

interface RunRecord {
  spikeHash: number;
  spikes: number;
  spikesPerNeuron: Int32Array;
  goals: number;
  reward: number;
  rewardSteps: number[];
  changes: WeightChange[];
  positions: number[];
  distance: number[];
  finalWeights: Float32Array;
  seconds: number;
}

/** Runs `episodes` × `steps` and records everything observable. */
function run(seed: number, episodes = 2, steps = 2000, neurons = 200): RunRecord {
  const t0 = performance.now();
  const sim = new DemoSimulation(defaultDemoParams({ seed, neurons }));
  const rec: RunRecord = {
    spikeHash: 0x811c9dc5,
    spikes: 0,
    spikesPerNeuron: new Int32Array(sim.net.n),
    goals: 0,
    reward: 0,
    rewardSteps: [],
    changes: [],
    positions: [],
    distance: [],
    finalWeights: new Float32Array(0),
    seconds: 0,
  };
  for (let e = 0; e < episodes; e++) {
    sim.startEpisode();
    for (let t = 0; t < steps; t++) {
      sim.step();
      assert.equal(sim.timestep, t);
      for (let s = 0; s < sim.net.spikeCount; s++) {
        const id = sim.net.spikeIds[s];
        rec.spikesPerNeuron[id]++;
        rec.spikeHash = Math.imul(rec.spikeHash ^ (id + 1), 0x01000193) >>> 0;
      }
      rec.spikeHash = Math.imul(rec.spikeHash ^ 0xffff, 0x01000193) >>> 0;
      rec.spikes += sim.net.spikeCount;
      if (sim.reward !== 0) rec.rewardSteps.push(e * steps + t);
      rec.changes.push(...sim.weightChanges);
      if (t % 100 === 0) rec.positions.push(sim.world.x, sim.world.y);
    }
    rec.goals += sim.episodeGoals;
    rec.reward += sim.episodeReward;
    rec.distance.push(sim.world.distanceTravelled);
  }
  rec.finalWeights = sim.net.weights.slice();
  rec.seconds = (performance.now() - t0) / 1000;
  return rec;
}

const base = run(1);

test("mulberry32 is deterministic, in [0, 1), and seeds differ", () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const c = mulberry32(43);
  let same = 0;
  let sum = 0;
  for (let i = 0; i < 10000; i++) {
    const x = a.next();
    assert.equal(x, b.next());
    assert.ok(x >= 0 && x < 1);
    if (x === c.next()) same++;
    sum += x;
  }
  assert.ok(same < 5, "seed 42 and 43 give different sequences");
  assert.ok(Math.abs(sum / 10000 - 0.5) < 0.02, `mean ${sum / 10000} is close to 0.5`);
  const n = mulberry32(7);
  let m = 0;
  let m2 = 0;
  for (let i = 0; i < 20000; i++) {
    const z = n.normal();
    m += z;
    m2 += z * z;
  }
  assert.ok(Math.abs(m / 20000) < 0.05 && Math.abs(m2 / 20000 - 1) < 0.05, "normal() has mean 0, variance 1");
});

test("the network: 80/20 excitatory/inhibitory, ~10% sparse connectivity, Dale's law, CSR order", () => {
  const net = new Network(defaultNetworkParams(200), mulberry32(1));
  assert.equal(net.n, 200);
  assert.equal(net.nExcitatory, 160);
  assert.equal(net.nInhibitory, 40);
  assert.equal(net.types().filter((t) => t === "inhibitory").length, 40);
  assert.equal(net.nSensory + net.nHidden + net.nMotor, 160);
  assert.equal(net.nMotor % 4, 0);
  const density = net.nSynapses / (200 * 199);
  assert.ok(density > 0.08 && density < 0.13, `connection density ${density} is about 10%`);
  assert.equal(net.positions.length, 400);
  assert.equal(net.rowPtr[0], 0);
  assert.equal(net.rowPtr[200], net.nSynapses);
  for (let k = 0; k < net.nSynapses; k++) {
    const s = net.sourceIds[k];
    const t = net.targetIds[k];
    assert.notEqual(s, t, "no self-connections");
    assert.ok(k >= net.rowPtr[s] && k < net.rowPtr[s + 1], "rowPtr brackets every synapse of its source");
    if (k > 0) {
      const ps = net.sourceIds[k - 1];
      assert.ok(ps < s || (ps === s && net.targetIds[k - 1] < t), "sorted by (source, target), no duplicates");
    }
    const w = net.weights[k];
    if (net.role[s] === ROLE_INHIBITORY) assert.ok(w < 0, "inhibitory weights are negative");
    else assert.ok(w > 0, "excitatory weights are positive");
  }
  assert.deepEqual(net.initialWeights, net.weights);
  assert.throws(() => new Network(defaultNetworkParams(10), mulberry32(1)), RangeError);
});

test("network sizes other than 200 keep a similar regime", () => {
  for (const n of [20, 60, 500]) {
    const r = run(3, 1, 1000, n);
    const hz = r.spikes / n / 1.0;
    assert.ok(hz > 2 && hz < 60, `${n} neurons fire at ${hz.toFixed(1)} Hz`);
  }
});

test("the same seed gives the same run", () => {
  const again = run(1);
  assert.equal(again.spikeHash, base.spikeHash);
  assert.equal(again.spikes, base.spikes);
  assert.deepEqual(again.positions, base.positions);
  assert.deepEqual(again.rewardSteps, base.rewardSteps);
  assert.deepEqual(again.changes, base.changes);
  assert.deepEqual(again.finalWeights, base.finalWeights);
});

test("different seeds give different networks and runs", () => {
  const other = run(2);
  assert.notEqual(other.spikeHash, base.spikeHash);
  assert.notDeepEqual(other.positions, base.positions);
  const a = new Network(defaultNetworkParams(200), mulberry32(1));
  const b = new Network(defaultNetworkParams(200), mulberry32(2));
  assert.notDeepEqual(a.targetIds.subarray(0, 50), b.targetIds.subarray(0, 50));
});

test("neurons spike at plausible rates", () => {
  const seconds = 2 * 2; // 2 episodes of 2000 steps of 1 ms
  const meanHz = base.spikes / 200 / seconds;
  assert.ok(meanHz > 3 && meanHz < 40, `mean rate ${meanHz.toFixed(1)} Hz is cortex-like`);
  const net = new DemoSimulation(defaultDemoParams({ seed: 1 })).net;
  let silent = 0;
  let inhSpikes = 0;
  let motorSpikes = 0;
  for (let i = 0; i < 200; i++) {
    const hz = base.spikesPerNeuron[i] / seconds;
    assert.ok(hz < 200, `neuron ${i} fires at ${hz} Hz, below the refractory limit`);
    if (hz === 0) silent++;
    if (net.role[i] === ROLE_INHIBITORY) inhSpikes += base.spikesPerNeuron[i];
    if (net.role[i] === ROLE_MOTOR) motorSpikes += base.spikesPerNeuron[i];
  }
  assert.ok(silent < 20, `${silent} neurons never fired`);
  assert.ok(inhSpikes > 0 && motorSpikes > 0, "inhibitory and motor neurons fire");
});

test("the agent moves, stays in the unit square, and reaches goals", () => {
  for (const d of base.distance) assert.ok(d > 0.2, `the agent travelled ${d.toFixed(3)} in an episode`);
  for (const p of base.positions) assert.ok(p >= 0 && p <= 1);
  const distinct = new Set(base.positions.map((p) => p.toFixed(3)));
  assert.ok(distinct.size > 20, "positions change over time");
  assert.ok(base.goals >= 1, `reached ${base.goals} goals in 2 episodes`);
  assert.ok(base.reward >= base.goals - 0.1 * base.rewardSteps.length);
});

test("reward-modulated plasticity changes plastic weights, only at rewards", () => {
  assert.ok(base.changes.length > 0, "weight changes happen");
  const sim = new DemoSimulation(defaultDemoParams({ seed: 1 }));
  const net = sim.net;
  const plastic = new Set<string>();
  for (let k = 0; k < net.nSynapses; k++) if (net.isPlastic(k)) plastic.add(`${net.sourceIds[k]}:${net.targetIds[k]}`);
  const rewardTimes = new Set(base.rewardSteps.map((s) => s % 2000));
  const wMax = net.plasticWeightMax;
  for (const c of base.changes) {
    assert.ok(plastic.has(`${c.sourceId}:${c.targetId}`), `synapse ${c.sourceId}->${c.targetId} is plastic`);
    assert.notEqual(c.oldWeight, c.newWeight);
    assert.ok(c.newWeight >= 0 && c.newWeight <= wMax);
    assert.ok(rewardTimes.has(c.timestep), `change at ${c.timestep} happens at a rewarded step`);
  }
  // Most steps have no change: "now and then".
  const stepsWithChanges = new Set(base.changes.map((c) => c.timestep)).size;
  assert.ok(stepsWithChanges <= base.rewardSteps.length);
  // The final weights agree with the last recorded change of each synapse.
  const last = new Map<string, number>();
  for (const c of base.changes) last.set(`${c.sourceId}:${c.targetId}`, c.newWeight);
  for (let k = 0; k < net.nSynapses; k++) {
    const key = `${net.sourceIds[k]}:${net.targetIds[k]}`;
    assert.equal(base.finalWeights[k], last.get(key) ?? net.initialWeights[k]);
  }
});

test("the world: goal reward, goal moves, wall penalty on arrival only", () => {
  const world = new World(defaultWorldParams(), mulberry32(5));
  world.x = 0.5;
  world.y = 0.5;
  world.goalX = 0.52;
  world.goalY = 0.5;
  const hit = world.step(0, 0, 1);
  assert.equal(hit.reachedGoal, true);
  assert.equal(hit.reward, 1);
  assert.ok(world.goalDistance() >= defaultWorldParams().minGoalJump, "the goal jumped away");
  world.goalX = 0.5;
  world.goalY = 0.9;
  world.x = 0.9995;
  world.y = 0.5;
  const bump = world.step(1, 0, 1);
  assert.equal(bump.hitWall, true);
  assert.equal(bump.reward, -0.1);
  assert.equal(world.x, 1);
  const again = world.step(1, 0, 1);
  assert.equal(again.hitWall, false, "staying at the wall is not another bump");
  assert.equal(again.reward, 0);
});

test("5 episodes x 2000 steps x 200 neurons simulate, continuing the 2-episode run (time reported, not asserted)", (t) => {
  const r = run(1, 5, 2000);
  // timing belongs to the benchmarks (node dist/src/cli/main.js demo prints steps/s); here only a diagnostic
  t.diagnostic(`simulation: ${(r.seconds * 1000).toFixed(0)} ms for 10,000 steps (${r.spikes} spikes)`);
  // the first two episodes are those of the 2-episode run with the same seed
  assert.deepEqual(r.rewardSteps.filter((s) => s < 2 * 2000), base.rewardSteps);
  assert.deepEqual(r.distance.slice(0, 2), base.distance);
  assert.ok(r.spikes > base.spikes, "three more episodes add spikes");
});

/**
 * One random experiment of the property-based round-trip test: ops (each with its own seed) are
 * turned into calls of the public DataExporter API that fit the experiment so far — or, for a
 * "bad" op, into one call with exactly one thing wrong, which must be refused with the code the
 * input rules name. The model keeps what the accepted calls logged; {@link verifyWithLoader}
 * compares it with everything the loader reads back, {@link expectationForPy} hands it to h5py.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import {
  DataExporter, ExperimentLoader, isSnnExportError, type ErrorCode, type ExporterOptions, type NumericArray,
} from "#lib/index.js";
import {
  BAD_NAMES, KINDS, Rand, asJson, badJson, dtypeOfArray, dtypeOfKind, element, forPy, fromValues, isBigKind, isFloatKind,
  jsonObject, jsonValue, loaded, numericArray, otherKind, randomName, randomString, rowsOf, sameArray, sameJson, sameNd, toCsrExp,
  type CsrExp, type Kind, type NdExp, type StoredExp,
} from "./roundtrip-model.js";

export const OP_KINDS = ["log", "log", "log", "log", "log", "log", "burst", "start", "end", "end", "flush", "config", "metadata", "network", "wc", "wc", "event", "event", "static", "checkpoint"] as const;
export type OpKind = (typeof OP_KINDS)[number];
export interface Op { kind: OpKind; bad: boolean; seed: number }

export interface Scenario {
  name: number;
  options: {
    chunkSize: number; neuralSamplingRate: number; compression: "gzip" | "none" | null | undefined; compressionLevel?: number;
    engine: "ts" | "h5wasm"; asyncWrite: boolean; enableSwmr: boolean; allowNonFinite: boolean; flushEverySteps: number; flushIntervalMs: number;
  };
  badCreate: number;
  ops: Op[];
}

const GOOD_EXPERIMENT_NAMES = ["exp", "ψ-run 🧠", "a b", "x".repeat(200), "é".repeat(100), "run.1", "日本語の実験"];
const BAD_EXPERIMENT_NAMES: unknown[] = ["", "a/b", "..", ".hidden", "tab\tx", "nl\nx", "é".repeat(101), 5, "esc\u001b", "a\\b"];
const BAD_OPTIONS: Record<string, unknown>[] = [
  { chunkSize: 0 }, { chunkSize: 1.5 }, { compression: "lzf" }, { engine: "x" }, { neuralSamplingRate: 0 }, { unknownOption: 1 },
  { asyncWrite: true, engine: "h5wasm" }, { enableSwmr: true, engine: "h5wasm" }, { compressionLevel: 10 }, { flushIntervalMs: -1 }, { allowNonFinite: "yes" },
];

interface VarSpec { name: string; kind: Kind; shape: number[]; size: number; first: number }
interface BehSpec { key: string; kind: Kind | "num"; size: number; first: number }
type Rows = { steps: number; spikes: number; states: number; rewards: number; wc: number; events: number };
interface EpModel {
  id: number; status: "completed" | "incomplete"; success: boolean | undefined; summary: unknown; hasSummary: boolean;
  steps: number; lastT: number; totalSpikes: number; totalReward: number; firstT: number;
  start: Rows; end: Rows | null; staticData: Map<string, StoredExp>;
}
interface Wc { t: number; syn: number; src: number; dst: number; old: number; neu: number }

/** Own enumerable property, also for "__proto__". */
function put(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

const SAFE = Number.MAX_SAFE_INTEGER;

/** What happened: counts of accepted and refused calls by kind (reported by the test). */
export interface Tally { accepted: number; refused: Record<string, number> }

export class Experiment {
  ex!: DataExporter;
  readonly log: string[] = [];
  // model
  config: Record<string, unknown> | null = null;
  metadata: Record<string, unknown> | null = null;
  networkSaved = false;
  networkAttrN: number | null = null;
  neurons: Record<string, NdExp | string[]> = {};
  connections: Record<string, NdExp | string[]> = {};
  weights: CsrExp | null = null;
  n: number | null = null;
  nSyn: number | null = null;
  maxSpikeId = -1;
  vars = new Map<string, VarSpec>();
  beh = new Map<string, BehSpec>();
  episodes: EpModel[] = [];
  open: EpModel | null = null;
  timesteps: number[] = [];
  counts: number[] = [];
  ids: number[] = [];
  stateT: number[] = [];
  stateRows: Map<string, NumericArray>[] = [];
  behRows: Map<string, number | NumericArray>[] = [];
  rewardT: number[] = [];
  rewardV: number[] = [];
  wcs: Wc[] = [];
  events: { t: number; type: string; data: unknown }[] = [];
  checkpoints = new Map<string, { episodeCount: number; entries: Map<string, StoredExp> }>();
  closed = false;
  tally: Tally = { accepted: 0, refused: {} };

  constructor(readonly sc: Scenario, readonly baseDir: string) {}

  get opts() {
    return this.sc.options;
  }

  // ---------------------------------------------------------------- calls

  /** Runs `fn`; `expect` null: must be accepted; a code: must be refused with a typed error of that code. */
  private call(what: string, expect: ErrorCode | null, fn: () => unknown): boolean {
    this.log.push(`${what}${expect ? ` → ${expect}` : ""}`);
    try {
      fn();
    } catch (err) {
      if (expect === null) throw new Error(`refused a valid call: ${what}: ${isSnnExportError(err) ? err.code : "untyped"} ${(err as Error)?.stack ?? err}`);
      if (!isSnnExportError(err)) throw new Error(`${what}: threw an untyped error (expected ${expect}): ${(err as Error)?.stack ?? err}`);
      if (err.code !== expect) throw new Error(`${what}: refused with ${err.code}, expected ${expect}: ${err.message}`);
      if (/(count|below|than|of|limit) (null|undefined|NaN)\b/.test(err.message)) {
        throw new Error(`${what}: message names a missing value: ${err.message}`);
      }
      this.tally.refused[expect] = (this.tally.refused[expect] ?? 0) + 1;
      return false;
    }
    if (expect !== null) throw new Error(`accepted a call that must be refused with ${expect}: ${what}`);
    this.tally.accepted++;
    return true;
  }

  async create(): Promise<void> {
    const r = new Rand(this.sc.name);
    const o = this.opts;
    const options: ExporterOptions = {
      outputBaseDir: this.baseDir, provenance: false, chunkSize: o.chunkSize, neuralSamplingRate: o.neuralSamplingRate, engine: o.engine,
      asyncWrite: o.asyncWrite, enableSwmr: o.enableSwmr, allowNonFinite: o.allowNonFinite, flushEverySteps: o.flushEverySteps, flushIntervalMs: o.flushIntervalMs,
    };
    if (o.compression !== undefined) options.compression = o.compression;
    if (o.compressionLevel !== undefined) options.compressionLevel = o.compressionLevel;
    // refused creates first: typed errors, and nothing made on disk
    for (let i = 0; i < this.sc.badCreate; i++) {
      const badName = r.chance(0.5);
      const name = badName ? r.pick(BAD_EXPERIMENT_NAMES) : "exp";
      const opts = badName ? options : { ...options, ...r.pick(BAD_OPTIONS) };
      const code: ErrorCode = badName ? "INVALID_NAME" : "INVALID_OPTION";
      let err: unknown = null;
      try {
        const ex = await DataExporter.create(name as string, opts as ExporterOptions);
        await ex.close();
      } catch (e) {
        err = e;
      }
      this.log.push(`create(${JSON.stringify(name)}, ${JSON.stringify(opts)}) → ${code}`);
      if (!isSnnExportError(err, code)) throw new Error(`create(${JSON.stringify(name)}, ${JSON.stringify(opts)}): expected ${code}, got ${isSnnExportError(err) ? err.code : err}`);
      if (readdirSync(this.baseDir).length !== 0) throw new Error(`a refused create left ${readdirSync(this.baseDir).join(", ")} in the output directory`);
    }
    this.experimentName = r.pick(GOOD_EXPERIMENT_NAMES);
    this.ex = await DataExporter.create(this.experimentName, options);
    this.log.push(`create(${JSON.stringify(this.experimentName)}, ${JSON.stringify(options)})`);
  }

  experimentName = "";

  run(op: Op): void {
    const r = new Rand(op.seed);
    switch (op.kind) {
      case "log": return this.opLog(r, op.bad);
      case "burst": return this.opBurst(r);
      case "start": return this.opStart(op.bad);
      case "end": return this.opEnd(r, op.bad);
      case "flush": return void this.call("flush()", null, () => this.ex.flush());
      case "config": return this.opConfig(r, op.bad, "config");
      case "metadata": return this.opConfig(r, op.bad, "metadata");
      case "network": return this.opNetwork(r, op.bad);
      case "wc": return this.opWeightChange(r, op.bad);
      case "event": return this.opEvent(r, op.bad);
      case "static": return this.opStatic(r, op.bad);
      case "checkpoint": return this.opCheckpoint(r, op.bad);
    }
  }

  private rows(): Rows {
    return { steps: this.timesteps.length, spikes: this.ids.length, states: this.stateT.length, rewards: this.rewardV.length, wc: this.wcs.length, events: this.events.length };
  }

  private startEpisode(): void {
    const id = this.episodes.length;
    this.call("startEpisode()", null, () => {
      const got = this.ex.startEpisode();
      if (got !== id) throw new Error(`startEpisode() returned ${got}, expected ${id}`);
    });
    const ep: EpModel = {
      id, status: "incomplete", success: undefined, summary: null, hasSummary: false, steps: 0, lastT: 0, firstT: -1, totalSpikes: 0, totalReward: 0,
      start: this.rows(), end: null, staticData: new Map(),
    };
    this.episodes.push(ep);
    this.open = ep;
  }

  /** The open episode; a good op without one starts one. */
  private episode(): EpModel {
    if (!this.open) this.startEpisode();
    return this.open!;
  }

  private opStart(bad: boolean): void {
    if (bad) {
      if (this.open) this.call("startEpisode() while open", "EPISODE_OPEN", () => this.ex.startEpisode());
      else this.call("endEpisode() without an episode", "NO_EPISODE", () => this.ex.endEpisode());
      return;
    }
    if (this.open) this.endEpisode(new Rand(1), false);
    this.startEpisode();
  }

  private opEnd(r: Rand, bad: boolean): void {
    if (!this.open) {
      if (bad) this.call("endEpisode() without an episode", "NO_EPISODE", () => this.ex.endEpisode());
      else this.startEpisode();
      return;
    }
    this.endEpisode(r, bad);
  }

  private endEpisode(r: Rand, bad: boolean): void {
    const ep = this.open!;
    if (bad) {
      const c = r.int(0, 3);
      if (c === 3) this.call("endEpisode({ succes: true })", "INVALID_DATA", () => this.ex.endEpisode({ succes: true } as never));
      else if (c === 0) this.call("endEpisode({ success: 1 })", "INVALID_DATA", () => this.ex.endEpisode({ success: 1 as never }));
      else if (c === 1) this.call("endEpisode(summary with NaN)", "INVALID_DATA", () => this.ex.endEpisode({ summary: badJson(r) }));
      else this.call("endEpisode(5)", "INVALID_DATA", () => this.ex.endEpisode(5 as never));
      return;
    }
    const success = r.pick([true, false, undefined]);
    const summary = r.chance(0.6) ? (r.chance(0.5) ? jsonObject(r) : jsonValue(r)) : undefined;
    const arg: Record<string, unknown> = {};
    if (success !== undefined || r.chance(0.5)) arg.success = success;
    if (summary !== undefined || r.chance(0.3)) arg.summary = summary;
    this.call(`endEpisode(${JSON.stringify(arg)})`, null, () => (r.chance(0.1) && success === undefined && summary === undefined ? this.ex.endEpisode() : this.ex.endEpisode(arg)));
    ep.status = "completed";
    ep.success = success;
    ep.hasSummary = summary !== undefined;
    ep.summary = summary === undefined ? null : asJson(summary);
    ep.end = this.rows();
    this.open = null;
  }

  // ---------------------------------------------------------------- log

  private opBurst(r: Rand): void {
    const ep = this.episode();
    const c = this.opts.chunkSize;
    const n = Math.min(r.pick([c - 1, c, c + 1, 1, 2 * c + 1]), 40);
    for (let i = 0; i < n; i++) this.logGood(new Rand(r.int(0, 2 ** 31)), ep);
  }

  private opLog(r: Rand, bad: boolean): void {
    if (!this.open && bad) {
      this.call("log() without an episode", "NO_EPISODE", () => this.ex.log({ timestep: 0 }));
      return;
    }
    const ep = this.episode();
    if (bad) this.logBad(r, ep);
    else this.logGood(r, ep);
  }

  private nextTimestep(r: Rand, ep: EpModel): number {
    if (ep.steps === 0) return r.pick([0, 0, 0, 1, -5, 1000, SAFE - 40, -SAFE]);
    return ep.lastT + r.pick([1, 1, 1, 2, 7, 1000]);
  }

  /** A valid step and how the model changes when it is accepted. */
  private goodStep(r: Rand, ep: EpModel): { step: Record<string, unknown>; apply: () => void; sampled: boolean } | null {
    const t = this.nextTimestep(r, ep);
    if (t > SAFE) return null;
    const step: Record<string, unknown> = { timestep: t };
    const applies: (() => void)[] = [];
    const sampled = ep.steps % this.opts.neuralSamplingRate === 0;
    // neural state
    if (r.chance(0.7)) {
      const ns: Record<string, unknown> = {};
      const given = new Map<string, NumericArray>();
      const fresh: VarSpec[] = [];
      for (const spec of this.vars.values()) {
        if (!r.chance(0.8)) continue;
        const { input, stored } = this.varValue(r, spec);
        put(ns, spec.name, input);
        given.set(spec.name, stored);
      }
      if (this.vars.size < 4 && r.chance(sampled ? 0.3 : 0.1)) {
        const name = randomName(r);
        if (!this.vars.has(name) && !given.has(name) && name !== "timesteps") {
          const kind = r.pick(KINDS);
          const shape = r.pick([[r.int(1, 5)], [r.int(1, 5)], [r.int(1, 3), 2], [], [1]]);
          const spec: VarSpec = { name, kind, shape, size: shape.reduce((a, b) => a * b, 1), first: -1 };
          const { input, stored } = this.varValue(r, spec);
          put(ns, name, input);
          given.set(name, stored);
          fresh.push(spec);
        }
      }
      if (!sampled && r.chance(0.2)) put(ns, "ignored", "not checked at a step whose state is not kept");
      step.neuralState = ns;
      if (sampled) {
        applies.push(() => {
          for (const spec of fresh) {
            spec.first = this.stateT.length;
            this.vars.set(spec.name, spec);
          }
          this.stateT.push(t);
          this.stateRows.push(given);
        });
      }
    }
    // spikes
    if (r.chance(0.6)) {
      const s = this.goodSpikes(r);
      if (s) {
        step.spikes = s.input;
        applies.push(() => {
          if (s.maskLength !== null && this.n === null) this.n = s.maskLength;
          for (const id of s.ids) this.maxSpikeId = Math.max(this.maxSpikeId, id);
          this.counts.push(s.ids.length);
          this.ids.push(...s.ids);
          ep.totalSpikes += s.ids.length;
        });
      }
    }
    if (!step.spikes) applies.push(() => this.counts.push(0));
    // behaviour
    const behGiven = new Map<string, number | NumericArray>();
    const behFresh: BehSpec[] = [];
    const mustGive = [...this.beh.values()].filter((b) => b.kind !== "num" && !isFloatKind(b.kind));
    if (r.chance(0.6) || mustGive.length > 0) {
      const b: Record<string, unknown> = {};
      for (const spec of this.beh.values()) {
        const required = spec.kind !== "num" && !isFloatKind(spec.kind);
        if (!required && !r.chance(0.8)) continue;
        const v = this.behValue(r, spec);
        put(b, spec.key, v.input);
        behGiven.set(spec.key, v.stored);
      }
      if (this.beh.size < 4 && r.chance(0.2)) {
        const key = randomName(r);
        if (!this.beh.has(key)) {
          let kind: Kind | "num" = r.chance(0.5) ? "num" : r.pick(KINDS);
          if (kind !== "num" && !isFloatKind(kind) && ep.steps > 0) kind = "num";
          const spec: BehSpec = { key, kind, size: kind === "num" ? 1 : r.int(1, 4), first: -1 };
          const v = this.behValue(r, spec);
          put(b, key, v.input);
          behGiven.set(key, v.stored);
          behFresh.push(spec);
        }
      }
      step.behavior = b;
    }
    // reward
    let reward = 0;
    if (r.chance(0.5)) {
      const v = r.pick([0, -0, 1, -1, 0.5, 5e-324, -5e-324, 1e308, -1e-300, 0.1, null]);
      step.reward = v;
      reward = v ?? 0;
    }
    const apply = () => {
      for (const a of applies) a();
      for (const spec of behFresh) {
        spec.first = this.timesteps.length;
        this.beh.set(spec.key, spec);
      }
      this.behRows.push(behGiven);
      if (reward !== 0) {
        this.rewardT.push(t);
        this.rewardV.push(reward);
        ep.totalReward += reward;
      }
      this.timesteps.push(t);
      if (ep.steps === 0) ep.firstT = t;
      ep.lastT = t;
      ep.steps++;
    };
    return { step, apply, sampled };
  }

  private varValue(r: Rand, spec: VarSpec): { input: unknown; stored: NumericArray } {
    const { input, stored } = numericArray(r, spec.kind, spec.size, { nonFinite: this.opts.allowNonFinite });
    if (spec.shape.length === 1 && r.chance(0.7)) return { input, stored };
    if (spec.kind === "numbers" && spec.shape.length === 2 && r.chance(0.5)) {
      const [a, b] = spec.shape;
      return { input: Array.from({ length: a }, (_, i) => (input as number[]).slice(i * b, (i + 1) * b)), stored };
    }
    return { input: { data: input, shape: [...spec.shape] }, stored };
  }

  private behValue(r: Rand, spec: BehSpec): { input: unknown; stored: number | NumericArray } {
    if (spec.kind === "num") {
      const v = r.pick([0, -0, 1, -1, 0.25, 5e-324, 1.7976931348623157e308, -123.5, 2 ** 53 + 2]);
      return { input: v, stored: v };
    }
    const { input, stored } = numericArray(r, spec.kind, spec.size);
    return { input, stored };
  }

  private goodSpikes(r: Rand): { input: unknown; ids: number[]; maskLength: number | null } | null {
    const n = this.n;
    if (n !== null) {
      const c = r.int(0, 4);
      if (c <= 1 && n > 0) {
        const mask = new Uint8Array(n);
        const ids: number[] = [];
        for (let i = 0; i < n; i++) if (r.chance(0.3)) { mask[i] = r.pick([1, 1, 2, 255]); ids.push(i); }
        if (c === 1) return { input: Array.from(mask, (x) => x !== 0), ids, maskLength: n };
        return { input: mask, ids, maskLength: n };
      }
      const ids = [...new Set(Array.from({ length: r.int(0, Math.min(n, 6)) }, () => r.int(0, n - 1)))];
      return { input: this.idsInput(r, ids, n <= 65536), ids: [...ids].sort((a, b) => a - b), maskLength: null };
    }
    if (r.chance(0.3) && this.maxSpikeId < 1000) {
      const len = r.int(this.maxSpikeId + 1, this.maxSpikeId + 6);
      const mask = new Uint8Array(len);
      const ids: number[] = [];
      for (let i = 0; i < len; i++) if (r.chance(0.3)) { mask[i] = 1; ids.push(i); }
      return { input: mask, ids, maskLength: len };
    }
    const pool = () => (r.chance(0.05) ? r.pick([300, 70000, 4294967295]) : r.int(0, 19));
    const ids = [...new Set(Array.from({ length: r.int(0, 5) }, pool))];
    const max = Math.max(-1, ...ids);
    return { input: this.idsInput(r, ids, max < 65536), ids: [...ids].sort((a, b) => a - b), maskLength: null };
  }

  private idsInput(r: Rand, ids: number[], u16: boolean): unknown {
    const list = r.chance(0.5) ? [...ids].sort((a, b) => a - b) : r.shuffle([...ids]);
    const max = Math.max(-1, ...list);
    const c = r.int(0, 3);
    if (c === 0 && max < 2 ** 31) return Int32Array.from(list);
    if (c === 1) return Uint32Array.from(list);
    if (c === 2 && u16) return Uint16Array.from(list);
    return list;
  }

  private logGood(r: Rand, ep: EpModel): void {
    const g = this.goodStep(r, ep);
    if (!g) {
      this.call("log({ timestep: 2^53 })", "INVALID_DATA", () => this.ex.log({ timestep: SAFE + 1 }));
      return;
    }
    this.call(`log(t=${g.step.timestep})`, null, () => this.ex.log(g.step as never));
    g.apply();
  }

  private logBad(r: Rand, ep: EpModel): void {
    const g = this.goodStep(r, ep);
    if (!g) {
      this.call("log({ timestep: 2^53 })", "INVALID_DATA", () => this.ex.log({ timestep: SAFE + 1 }));
      return;
    }
    const step = g.step;
    const cases: (() => [string, ErrorCode, unknown])[] = [
      () => ["log(not an object)", "INVALID_DATA", r.pick([5, null, "step", undefined])],
      () => { const t = r.pick([1.5, NaN, "3", undefined, SAFE + 1, Infinity, null]); return [`log(timestep ${String(t)})`, "INVALID_DATA", { ...step, timestep: t }]; },
      () => { const t = step.timestep as number; return ["log(bad reward)", "INVALID_DATA", { ...step, timestep: t, reward: r.pick([NaN, Infinity, -Infinity, "1", {}]) }]; },
      () => { const k = r.pick(["neural_state", "behaviour", "rewards", "spike", "time"]); return [`log(misspelt key ${k})`, "INVALID_DATA", { ...step, [k]: r.pick([1, [1], { v: [1] }]) }]; },
    ];
    if (ep.steps > 0) cases.push(() => ["log(timestep not after the previous)", "TIMESTEP_ORDER", { ...step, timestep: Math.max(-SAFE, ep.lastT - r.pick([0, 0, 1, 5])) }]);
    if (g.sampled) {
      cases.push(() => this.badState(r, step));
      cases.push(() => this.badState(r, step));
    }
    cases.push(() => this.badSpikes(r, step));
    cases.push(() => this.badSpikes(r, step));
    cases.push(() => this.badBehavior(r, step, ep));
    const [what, code, input] = r.pick(cases)();
    this.call(what, code, () => this.ex.log(input as never));
  }

  private badState(r: Rand, step: Record<string, unknown>): [string, ErrorCode, unknown] {
    const known = [...this.vars.values()];
    const with_ = (name: string, v: unknown): Record<string, unknown> => {
      const ns: Record<string, unknown> = {};
      for (const [k, x] of Object.entries((step.neuralState as Record<string, unknown>) ?? {})) if (k !== name) put(ns, k, x);
      put(ns, name, v);
      return { ...step, neuralState: ns };
    };
    const c = r.int(0, 8);
    if (c === 0) return ["log(neural state variable \"timesteps\")", "INVALID_DATA", with_("timesteps", new Float32Array(3))];
    if (c === 1) { const name = r.pick(BAD_NAMES); return [`log(neural state variable ${JSON.stringify(name)})`, "INVALID_DATA", with_(name, new Float32Array(2))]; }
    if (c === 2) return ["log(neuralState not an object)", "INVALID_DATA", { ...step, neuralState: r.pick([7, "x", null, [new Float32Array(2)]]) }];
    if (c === 3) return ["log(new empty variable)", "INVALID_DATA", with_("fresh_empty", r.pick([new Float32Array(0), [], { data: [], shape: [0] }]))];
    if (c === 4) return ["log(variable is a string)", "INVALID_DATA", with_("fresh_str", "abc")];
    if (c === 5) return ["log(ragged nested variable)", "SHAPE_MISMATCH", with_("fresh_ragged", [[1, 2], [3]])];
    if (known.length === 0) return ["log(new empty variable)", "INVALID_DATA", with_("fresh_empty", new Float64Array(0))];
    const spec = r.pick(known);
    if (c === 6) {
      const shape = spec.shape.length === 1 ? [spec.shape[0] + 1] : [spec.size + 1];
      const { input } = numericArray(r, spec.kind, shape[0]);
      return [`log(${spec.name} of shape ${JSON.stringify(shape)}, was ${JSON.stringify(spec.shape)})`, "SHAPE_MISMATCH", with_(spec.name, input)];
    }
    if (c === 7) {
      const k = otherKind(r, spec.kind);
      const { input } = numericArray(r, k, spec.size);
      return [`log(${spec.name} as ${dtypeOfKind(k)}, was ${dtypeOfKind(spec.kind)})`, "INVALID_DATA", with_(spec.name, { data: input, shape: spec.shape })];
    }
    if (isFloatKind(spec.kind) && !this.opts.allowNonFinite) {
      const values = Array.from({ length: spec.size }, () => element(r, spec.kind));
      values[r.int(0, spec.size - 1)] = r.pick([NaN, Infinity, -Infinity]);
      return [`log(${spec.name} with a non-finite value)`, "INVALID_DATA", with_(spec.name, { data: fromValues(spec.kind, values).input, shape: spec.shape })];
    }
    return ["log(neural state variable \"timesteps\")", "INVALID_DATA", with_("timesteps", [1, 2])];
  }

  private badSpikes(r: Rand, step: Record<string, unknown>): [string, ErrorCode, unknown] {
    const n = this.n;
    const c = r.int(0, 7);
    const w = (sp: unknown) => ({ ...step, spikes: sp });
    if (c === 0 && n !== null) return [`log(spike id ${n} with ${n} neurons)`, "OUT_OF_RANGE", w(r.pick([[n], Int32Array.from([0, n].filter((x, i) => i === 1 || x < n)), Uint32Array.from([n])]))];
    if (c === 0 && n === null) return ["log(spike id 2^32)", "OUT_OF_RANGE", w([2 ** 32])];
    if (c === 1) return ["log(spike id -1)", "OUT_OF_RANGE", w(r.pick([[-1], Int32Array.from([-1])]))];
    if (c === 2) return ["log(spike id not an integer)", "INVALID_DATA", w(r.pick([[1.5], [NaN], ["3"], [null]]))];
    if (c === 3 && (n === null || n >= 2)) return ["log(a spike id twice)", "INVALID_DATA", w(r.pick([[0, 0], Uint32Array.from([0, 0]), [0, 1, 0]]).slice(0))];
    if (c === 4 && n !== null) return [`log(spike mask of ${n + 1} with ${n} neurons)`, "SHAPE_MISMATCH", w(r.chance(0.5) ? new Uint8Array(n + 1) : new Array(n + 1).fill(false))];
    if (c === 4 && this.maxSpikeId >= 0) return [`log(spike mask of ${this.maxSpikeId} after id ${this.maxSpikeId})`, "SHAPE_MISMATCH", w(new Uint8Array(this.maxSpikeId))];
    if (c === 5) return ["log(spikes of a wrong type)", "INVALID_DATA", w(r.pick([new Float64Array([1]), "0,1", 3, new Int8Array([1]), { ids: [1] }, new Uint8ClampedArray(2)]))];
    if (c === 6 && (n === null || n >= 3)) return ["log(boolean mask with a number)", "INVALID_DATA", w(n === null ? [true, 1, false] : [true, 1, ...new Array(n - 2).fill(false)])];
    return ["log(spike id -1)", "OUT_OF_RANGE", w([0, -1].slice(n === 0 ? 1 : 0))];
  }

  private badBehavior(r: Rand, step: Record<string, unknown>, ep: EpModel): [string, ErrorCode, unknown] {
    const specs = [...this.beh.values()];
    const base = (step.behavior as Record<string, unknown>) ?? {};
    const with_ = (key: string, v: unknown, drop = false): Record<string, unknown> => {
      const b: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(base)) if (k !== key) put(b, k, x);
      // required integer keys of the step must be there
      for (const s of specs) if (s.kind !== "num" && !isFloatKind(s.kind) && !(s.key in b) && s.key !== key) put(b, s.key, numericArray(r, s.kind, s.size).input);
      if (!drop) put(b, key, v);
      return { ...step, behavior: b };
    };
    const c = r.int(0, 7);
    if (c === 0) return ["log(behavior NaN)", "INVALID_DATA", with_(r.pick(["x", "ψ"]).concat(specs.some((s) => s.key === "x" || s.key === "ψ") ? "_new" : ""), r.pick([NaN, Infinity, -Infinity]))];
    if (c === 1) return ["log(behavior float array with NaN)", "INVALID_DATA", with_("nanarr", Float64Array.from([1, NaN]))];
    if (c === 2) return ["log(behavior 2-D)", "SHAPE_MISMATCH", with_("two_d", [[1, 2], [3, 4]])];
    if (c === 3) return ["log(behavior empty array)", "SHAPE_MISMATCH", with_("empty_b", new Float32Array(0))];
    if (c === 4) return ["log(behavior not an object)", "INVALID_DATA", { ...step, behavior: r.pick([5, "x", null, [1, 2]]) }];
    if (c === 5 && ep.steps > 0 && !specs.some((s) => s.key === "late_int")) return ["log(integer behavior first after the episode's first step)", "INVALID_DATA", with_("late_int", new Int32Array([1]))];
    if (specs.length > 0) {
      const s = r.pick(specs);
      if (s.kind === "num") return [`log(behavior ${s.key} number -> array)`, "SHAPE_MISMATCH", with_(s.key, [1, 2])];
      const cc = r.int(0, 2);
      if (cc === 0) return [`log(behavior ${s.key} array -> number)`, "SHAPE_MISMATCH", with_(s.key, 1)];
      if (cc === 1) return [`log(behavior ${s.key} of ${s.size + 1} values)`, "SHAPE_MISMATCH", with_(s.key, numericArray(r, s.kind, s.size + 1).input)];
      if (!isFloatKind(s.kind)) return [`log(integer behavior ${s.key} missing)`, "INVALID_DATA", with_(s.key, undefined, true)];
      const k = otherKind(r, s.kind);
      return [`log(behavior ${s.key} as ${dtypeOfKind(k)})`, "INVALID_DATA", with_(s.key, numericArray(r, k, s.size).input)];
    }
    return ["log(behavior 2-D)", "SHAPE_MISMATCH", with_("two_d", { data: [1, 2], shape: [1, 2] })];
  }

  // ---------------------------------------------------------------- config, metadata

  private opConfig(r: Rand, bad: boolean, which: "config" | "metadata"): void {
    const save = (v: unknown) => (which === "config" ? this.ex.saveConfig(v as never) : this.ex.saveMetadata(v as never));
    if (bad) {
      if (r.chance(0.3)) this.call(`save${which}(not a plain object)`, "INVALID_DATA", () => save(r.pick([5, null, [1], new Map([["a", 1]]), "x"])));
      else this.call(`save${which}(value JSON cannot hold)`, "INVALID_DATA", () => save(badJson(r)));
      return;
    }
    const o = jsonObject(r);
    if (r.chance(0.2)) put(o, "w32", Float32Array.from([0.5, -0, 3.4028234663852886e38]));
    if (r.chance(0.1)) put(o, "when", new Date(Date.UTC(2026, 11, 6, 12, 0, 0)));
    if (r.chance(0.1)) put(o, "skipped", undefined);
    if (r.chance(0.1)) put(o, "big", 2n ** 52n);
    if (r.chance(0.1)) put(o, "i64", BigInt64Array.from([1n, -(2n ** 53n) + 1n]));
    this.call(`save${which}(${Object.keys(o).length} keys)`, null, () => save(o));
    const prev = which === "config" ? this.config : this.metadata;
    const merged: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(prev ?? {})) put(merged, k, v);
    for (const [k, v] of Object.entries(asJson(o) as Record<string, unknown>)) put(merged, k, v);
    // asJson turns a bigint scalar into... a bigint: JSON text holds it as a number
    for (const [k, v] of Object.entries(merged)) if (typeof v === "bigint") put(merged, k, Number(v));
    if (which === "config") this.config = merged;
    else this.metadata = merged;
  }

  // ---------------------------------------------------------------- network

  private opNetwork(r: Rand, bad: boolean): void {
    if (this.networkSaved) {
      if (bad || r.chance(0.5)) this.call("saveNetworkStructure() again", "ALREADY_EXISTS", () => this.ex.saveNetworkStructure({ neurons: { a: [1] } }));
      return;
    }
    let N: number;
    if (this.n !== null) N = this.n;
    else if (this.maxSpikeId > 200) {
      this.call(`saveNetworkStructure(${this.maxSpikeId} neurons, spike id ${this.maxSpikeId} logged)`, "OUT_OF_RANGE", () => this.ex.saveNetworkStructure({ neurons: { ids: new Int32Array(this.maxSpikeId) } }));
      return;
    } else N = r.int(this.maxSpikeId + 1, this.maxSpikeId + 6);
    const withNeurons = r.chance(0.8) || N === 0;
    const neurons: Record<string, unknown> = {};
    const neuronsExp: Record<string, NdExp | string[]> = {};
    if (withNeurons) for (let i = r.int(1, 4); i > 0; i--) {
      const name = randomName(r);
      if (name in neuronsExp) continue;
      const f = this.recordField(r, N);
      put(neurons, name, f.input);
      neuronsExp[name] = f.exp;
    }
    if (withNeurons && Object.keys(neurons).length === 0) { put(neurons, "ids", Int32Array.from({ length: N }, (_, i) => i)); neuronsExp.ids = { dtype: "int32", shape: [N], data: Int32Array.from({ length: N }, (_, i) => i) }; }
    let weights: { input: unknown; exp: CsrExp } | null = null;
    if (r.chance(0.7)) weights = this.weightsInput(r, N, withNeurons);
    const nnz = weights ? weights.exp.data.length : null;
    const M = nnz ?? r.int(0, 6);
    const connections: Record<string, unknown> = {};
    const connExp: Record<string, NdExp | string[]> = {};
    const withConn = r.chance(0.5);
    if (withConn) for (let i = r.int(1, 3); i > 0; i--) {
      const name = randomName(r);
      if (name in connExp) continue;
      const f = this.recordField(r, M);
      put(connections, name, f.input);
      connExp[name] = f.exp;
    }
    const input: Record<string, unknown> = {};
    if (withNeurons) input.neurons = neurons;
    if (withConn) input.connections = connections;
    if (weights) input.weights = weights.input;
    const nKnown = withNeurons ? N : weights ? Math.max(...weights.exp.shape) : null;
    if (bad) {
      const c = r.int(0, 9);
      const call = (what: string, code: ErrorCode, v: unknown) => this.call(`saveNetworkStructure(${what})`, code, () => this.ex.saveNetworkStructure(v as never));
      const withField = (v: unknown) => {
        const nn: Record<string, unknown> = { ...neurons };
        put(nn, "bad_field", v);
        return { ...input, neurons: nn };
      };
      if (c === 0) call("not an object or a misspelt key", "INVALID_DATA", r.pick([5, null, [1], "net", { ...input, weight: [[1]] }]));
      else if (c === 1 && N > 1 && withNeurons) call("field of another length", "SHAPE_MISMATCH", withField(new Float32Array(N - 1)));
      else if (c === 2) call("field that is not an array", "INVALID_DATA", withField(r.pick([{ a: 1 }, "text", 5, { sourceIds: [0], targetIds: [0], values: [1] }])));
      else if (c === 3 && N >= 2) call("ragged nested field", "SHAPE_MISMATCH", withField([[1, 2], [3], ...Array.from({ length: N - 2 }, () => [0, 0])]));
      else if (c === 4 && N >= 1) call("bad field name", "INVALID_DATA", { ...input, neurons: { ...neurons, [r.pick(BAD_NAMES.filter((b) => b !== ""))]: new Float32Array(N) } });
      else if (c === 5 && this.n !== null) call(`${this.n + 1} neurons after masks of ${this.n}`, "SHAPE_MISMATCH", { neurons: { ids: new Int32Array(this.n + 1) } });
      else if (c === 6 && this.n === null && this.maxSpikeId >= 0) call(`${this.maxSpikeId} neurons after spike id ${this.maxSpikeId}`, "OUT_OF_RANGE", { neurons: { ids: new Int32Array(this.maxSpikeId) } });
      else if (c === 7 && N >= 1) call("COO id beyond the shape", "OUT_OF_RANGE", { ...input, weights: { sourceIds: [N], targetIds: [0], values: [1], shape: [N, N] } });
      else if (c === 8 && N >= 1) call("CSR indptr too short", "SHAPE_MISMATCH", { ...input, weights: { indptr: [0], indices: [], data: [], shape: [N, N] } });
      else if (N >= 3) call("mixed booleans and numbers", "INVALID_DATA", withField([true, 2, ...new Array(N - 2).fill(false)]));
      else call("dense 1-D weights", "SHAPE_MISMATCH", { ...input, weights: { data: [1, 2, 3], shape: [3] } });
      return;
    }
    this.call(`saveNetworkStructure(N=${N}, neurons ${Object.keys(neurons).join(",")}, weights ${weights?.exp.sourceFormat ?? "none"})`, null, () => this.ex.saveNetworkStructure(input as never));
    this.networkSaved = true;
    this.neurons = withNeurons ? neuronsExp : {};
    this.connections = withConn ? connExp : {};
    this.weights = weights?.exp ?? null;
    if (nKnown !== null) {
      this.networkAttrN = nKnown;
      this.n = nKnown;
    }
    this.nSyn = nnz ?? (withConn && Object.keys(connections).length > 0 ? M : null);
  }

  /** A field of a neurons/connections record with `n` entries. */
  private recordField(r: Rand, n: number): { input: unknown; exp: NdExp | string[] } {
    const c = r.int(0, 5);
    if (c === 0 && n > 0) {
      const list = Array.from({ length: n }, () => this.goodString(r));
      return { input: list, exp: list };
    }
    if (c === 1 && n > 0) {
      const list = Array.from({ length: n }, () => r.chance(0.5));
      return { input: list, exp: { dtype: "int8", shape: [n], data: Int8Array.from(list, (b) => (b ? 1 : 0)), bool: true } };
    }
    if (c === 2) {
      const kind = r.pick(KINDS);
      const { input, stored } = numericArray(r, kind, n * 2, { nonFinite: true });
      return { input: { data: input, shape: [n, 2] }, exp: loaded({ dtype: dtypeOfKind(kind), shape: [n, 2], data: stored }) };
    }
    if (c === 3 && n > 0) {
      const { stored } = numericArray(r, "numbers", n * 3, { nonFinite: true });
      const nested = Array.from({ length: n }, (_, i) => Array.from(stored.subarray(i * 3, i * 3 + 3) as Float64Array));
      return { input: nested, exp: { dtype: "float64", shape: [n, 3], data: stored } };
    }
    const kind = r.pick(KINDS);
    const { input, stored } = numericArray(r, kind, n, { nonFinite: true });
    return { input, exp: loaded({ dtype: dtypeOfKind(kind), shape: [n], data: stored }) };
  }

  private goodString(r: Rand): string {
    return randomString(r);
  }

  /** Weights of an N-neuron network in one of the accepted forms, and the CSR they are stored as. */
  private weightsInput(r: Rand, N: number, withNeurons: boolean): { input: unknown; exp: CsrExp; dense?: NdExp } {
    const kind = r.pick(KINDS);
    const entries: { r: number; c: number; v: number | bigint }[] = [];
    if (N > 0) for (let i = r.int(0, 8); i > 0; i--) entries.push({ r: r.int(0, N - 1), c: r.int(0, N - 1), v: element(r, kind, { nonFinite: true }) });
    const values = fromValues(kind, entries.map((e) => e.v));
    const dt = dtypeOfKind(kind);
    const form = r.int(0, 2);
    if (form === 0) {
      // dense: the last value of a repeated pair wins; zeros (and -0) are not stored
      const dense = new Map<number, { r: number; c: number; v: number | bigint }>();
      for (const e of entries) dense.set(e.r * N + e.c, e);
      const all = Array.from({ length: N * N }, (_, k) => dense.get(k)?.v ?? (isBigKind(kind) ? 0n : 0));
      const { input, stored } = fromValues(kind, all);
      const nz = [...dense.values()].filter((e) => Number(e.v) !== 0).map((e) => ({ r: e.r, c: e.c, v: (stored as unknown as (number | bigint)[])[e.r * N + e.c] }));
      const nested = kind === "numbers" && N > 0 && r.chance(0.5);
      return {
        input: nested ? Array.from({ length: N }, (_, i) => (input as number[]).slice(i * N, (i + 1) * N)) : { data: input, shape: [N, N] },
        exp: toCsrExp(N, N, nz, dt, "dense"), dense: loaded({ dtype: dt, shape: [N, N], data: stored }),
      };
    }
    const stored = values.stored as unknown as (number | bigint)[];
    const storedEntries = entries.map((e, i) => ({ r: e.r, c: e.c, v: stored[i] }));
    if (form === 1) {
      const shape = withNeurons && r.chance(0.5) ? undefined : [N, N];
      const input: Record<string, unknown> = { sourceIds: this.idsArray(r, entries.map((e) => e.r)), targetIds: this.idsArray(r, entries.map((e) => e.c)), values: values.input };
      if (shape) input.shape = shape;
      return { input, exp: toCsrExp(N, N, storedEntries, dt, "coo") };
    }
    // CSR, columns within a row in any order (stored sorted, equal columns in input order)
    const byRow = Array.from({ length: N }, () => [] as number[]);
    entries.forEach((e, i) => byRow[e.r].push(i));
    const order: number[] = [];
    const indptr = [0];
    for (const row of byRow) {
      order.push(...(r.chance(0.5) ? r.shuffle(row) : row));
      indptr.push(order.length);
    }
    const csrValues = fromValues(kind, order.map((i) => entries[i].v));
    const inOrder = order.map((i, k) => ({ r: entries[i].r, c: entries[i].c, v: (csrValues.stored as unknown as (number | bigint)[])[k] }));
    return {
      input: { indptr: r.chance(0.5) ? indptr : BigInt64Array.from(indptr.map(BigInt)), indices: this.idsArray(r, order.map((i) => entries[i].c)), data: csrValues.input, shape: [N, N] },
      exp: toCsrExp(N, N, inOrder, dt, "csr"),
    };
  }

  private idsArray(r: Rand, ids: number[]): unknown {
    const c = r.int(0, 3);
    return c === 0 ? ids : c === 1 ? Int32Array.from(ids) : c === 2 ? Uint32Array.from(ids) : BigInt64Array.from(ids.map(BigInt));
  }

  // ---------------------------------------------------------------- weight changes, events

  private opWeightChange(r: Rand, bad: boolean): void {
    if (!this.open && bad) {
      this.call("logWeightChange() without an episode", "NO_EPISODE", () => this.ex.logWeightChange({ timestep: 0, synapseId: 0, oldWeight: 0, newWeight: 1 }));
      return;
    }
    this.episode();
    const t = r.pick([0, 1, -3, 17, SAFE, -SAFE, r.int(0, 100)]);
    const old = r.pick([0, -0, 0.5, 5e-324, -1e300, 1]);
    const neu = r.pick([0, -0, 0.25, 1.7976931348623157e308, -2]);
    const n = this.n, nSyn = this.nSyn;
    const canSyn = nSyn === null || nSyn > 0;
    const canPair = n === null || n > 0;
    if (bad) {
      const c = r.int(0, 9);
      const wc = (what: string, code: ErrorCode, v: unknown) => this.call(`logWeightChange(${what})`, code, () => this.ex.logWeightChange(v as never));
      if (c === 0) wc("no ids", "INVALID_DATA", { timestep: t, oldWeight: old, newWeight: neu });
      else if (c === 1) wc("half a pair", "INVALID_DATA", { timestep: t, sourceId: 0, oldWeight: old, newWeight: neu });
      else if (c === 2 && nSyn !== null) wc(`synapse ${nSyn} of ${nSyn}`, "OUT_OF_RANGE", { timestep: t, synapseId: nSyn, oldWeight: old, newWeight: neu });
      else if (c === 3 && n !== null) wc(`target ${n} of ${n}`, "OUT_OF_RANGE", { timestep: t, sourceId: 0, targetId: n, oldWeight: old, newWeight: neu });
      else if (c === 4) wc("id -1", "OUT_OF_RANGE", { timestep: t, synapseId: -1, oldWeight: old, newWeight: neu });
      else if (c === 5) wc("id not an integer", "INVALID_DATA", { timestep: t, synapseId: r.pick([1.5, NaN, "2", null]), oldWeight: old, newWeight: neu });
      else if (c === 6 && (canSyn || canPair)) wc("non-finite weight", "INVALID_DATA", { timestep: t, ...(canSyn ? { synapseId: 0 } : { sourceId: 0, targetId: 0 }), oldWeight: r.pick([NaN, Infinity, "1"]), newWeight: neu });
      else if (c === 8) wc("misspelt key", "INVALID_DATA", { timestep: t, synapseId: 0, oldWeight: old, newWeight: neu, [r.pick(["weight", "synapse", "source_id"])]: 1 });
      else if (c === 7) wc("timestep not an integer", "INVALID_DATA", { timestep: r.pick([0.5, NaN, SAFE + 1]), synapseId: 0, oldWeight: old, newWeight: neu });
      else wc("not an object", "INVALID_DATA", r.pick([null, 5, "wc"]));
      return;
    }
    if (!canSyn && !canPair) return;
    const mode = !canSyn ? 1 : !canPair ? 0 : r.int(0, 2);
    const syn = mode !== 1 ? r.int(0, nSyn === null ? 50 : nSyn - 1) : undefined;
    const src = mode !== 0 ? r.int(0, n === null ? 50 : n - 1) : undefined;
    const dst = mode !== 0 ? r.int(0, n === null ? 50 : n - 1) : undefined;
    const input: Record<string, unknown> = { timestep: t, oldWeight: old, newWeight: neu };
    if (syn !== undefined) input.synapseId = syn;
    if (src !== undefined) { input.sourceId = src; input.targetId = dst; }
    this.call(`logWeightChange(${JSON.stringify(input)})`, null, () => this.ex.logWeightChange(input as never));
    this.wcs.push({ t, syn: syn ?? -1, src: src ?? -1, dst: dst ?? -1, old, neu });
  }

  private opEvent(r: Rand, bad: boolean): void {
    if (!this.open && bad) {
      this.call("logEvent() without an episode", "NO_EPISODE", () => this.ex.logEvent({ timestep: 0, type: "x" }));
      return;
    }
    this.episode();
    const t = r.pick([0, 5, -1, SAFE, r.int(0, 1000)]);
    if (bad) {
      const c = r.int(0, 5);
      const ev = (what: string, v: unknown) => this.call(`logEvent(${what})`, "INVALID_DATA", () => this.ex.logEvent(v as never));
      if (c === 5) return void ev("misspelt key", { timestep: t, type: "x", dat: 1 });
      if (c === 0) ev("bad type", { timestep: t, type: r.pick(["", 5, undefined, null]) });
      else if (c === 1) ev("type with NUL or a lone surrogate", { timestep: t, type: r.pick(["a\u0000b", "lone\udc00"]) });
      else if (c === 2) ev("data JSON cannot hold", { timestep: t, type: "x", data: badJson(r) });
      else if (c === 3) ev("bad timestep", { timestep: r.pick([1.5, "1", NaN]), type: "x" });
      else ev("not an object", r.pick([null, "event", 3]));
      return;
    }
    let type = this.goodString(r);
    if (type === "") type = "reset";
    const data = r.chance(0.2) ? undefined : r.chance(0.5) ? jsonObject(r) : jsonValue(r);
    const input: Record<string, unknown> = { timestep: t, type };
    if (data !== undefined || r.chance(0.5)) input.data = data;
    this.call(`logEvent(${JSON.stringify(type)})`, null, () => this.ex.logEvent(input as never));
    this.events.push({ t, type, data: asJson(data ?? null) });
  }

  // ---------------------------------------------------------------- stored values

  /** A value for saveCheckpoint / logStaticEpisodeData and how it reads back. */
  private storedValue(r: Rand): { input: unknown; exp: StoredExp } {
    const c = r.int(0, 9);
    if (c === 0) {
      const list = Array.from({ length: r.int(1, 4) }, () => this.goodString(r));
      return { input: list, exp: { kind: "strings", list } };
    }
    if (c === 1) {
      const kind = r.pick(KINDS);
      const n = r.int(0, 5);
      const { input, stored } = numericArray(r, kind, n, { nonFinite: true });
      return { input, exp: { kind: "nd", nd: loaded({ dtype: dtypeOfKind(kind), shape: [n], data: stored }) } };
    }
    if (c === 2) {
      const kind = r.pick(KINDS);
      const shape = r.pick([[r.int(0, 3), r.int(1, 3)], [2, 2, 2], [1, 1]]);
      const { input, stored } = numericArray(r, kind, shape.reduce((a, b) => a * b, 1), { nonFinite: true });
      return { input: { data: input, shape }, exp: { kind: "nd", nd: loaded({ dtype: dtypeOfKind(kind), shape, data: stored }) } };
    }
    if (c === 3) {
      const a = r.int(1, 3), b = r.int(1, 3);
      const { stored } = numericArray(r, "numbers", a * b, { nonFinite: true });
      return { input: Array.from({ length: a }, (_, i) => Array.from(stored.subarray(i * b, (i + 1) * b) as Float64Array)), exp: { kind: "nd", nd: { dtype: "float64", shape: [a, b], data: stored } } };
    }
    if (c === 4) {
      const two = r.chance(0.3);
      const flat = Array.from({ length: two ? 4 : r.int(1, 4) }, () => r.chance(0.5));
      const input = two ? [flat.slice(0, 2), flat.slice(2)] : flat;
      return { input, exp: { kind: "nd", nd: { dtype: "int8", shape: two ? [2, 2] : [flat.length], data: Int8Array.from(flat, (b) => (b ? 1 : 0)), bool: true } } };
    }
    if (c === 5 || c === 6) {
      const N = r.int(1, 4);
      const w = this.weightsInput(r, N, false);
      if (w.dense) return { input: w.input, exp: { kind: "nd", nd: w.dense } };
      return { input: w.input, exp: { kind: "csr", csr: w.exp } };
    }
    const v = r.chance(0.7) ? jsonObject(r) : r.pick([null, true, 5, -0, "text", "ψ", 1e21, { nested: { a: [1, "x"] } }]);
    return { input: v, exp: { kind: "json", value: asJson(v) } };
  }

  /** A value that must be refused as a stored value, with its code. */
  private badStored(r: Rand): [string, ErrorCode, unknown] {
    const c = r.int(0, 7);
    if (c === 0) return ["ragged nested array", "SHAPE_MISMATCH", [[1, 2], [3]]];
    if (c === 1) return ["array with a zero-size inner dimension", "INVALID_DATA", r.pick([[[]], { data: [], shape: [2, 0] }, { data: new Float32Array(0), shape: [0, 0] }])];
    if (c === 2) return ["0-d { data, shape: [] }", "INVALID_DATA", { data: [1], shape: [] }];
    if (c === 3) return ["booleans mixed with numbers", "INVALID_DATA", r.pick([[true, 2], [1, false], [[true], [3]]])];
    if (c === 4) return ["numbers mixed with strings", "INVALID_DATA", [1, "a"]];
    if (c === 5) return ["COO id beyond the shape", "OUT_OF_RANGE", { sourceIds: [3], targetIds: [0], values: [1], shape: [2, 2] }];
    if (c === 6) return ["value JSON cannot hold", "INVALID_DATA", badJson(r)];
    return ["strings with NUL or a lone surrogate", "INVALID_DATA", r.pick([["a", "b\u0000c"], ["\ud800"]])];
  }

  private opStatic(r: Rand, bad: boolean): void {
    if (!this.open && bad) {
      this.call("logStaticEpisodeData() without an episode", "NO_EPISODE", () => this.ex.logStaticEpisodeData("x", 1));
      return;
    }
    const ep = this.episode();
    if (bad) {
      const c = r.int(0, 2);
      if (c === 0 && ep.staticData.size > 0) {
        const name = r.pick([...ep.staticData.keys()]);
        this.call(`logStaticEpisodeData(${JSON.stringify(name)}) again`, "ALREADY_EXISTS", () => this.ex.logStaticEpisodeData(name, 1));
      } else if (c === 1) {
        const name = r.pick(BAD_NAMES);
        this.call(`logStaticEpisodeData(${JSON.stringify(name)})`, "INVALID_DATA", () => this.ex.logStaticEpisodeData(name, 1));
      } else {
        const [what, code, v] = this.badStored(r);
        this.call(`logStaticEpisodeData(${what})`, code, () => this.ex.logStaticEpisodeData("bad_static", v));
      }
      return;
    }
    const name = randomName(r);
    if (ep.staticData.has(name)) return;
    const { input, exp } = this.storedValue(r);
    this.call(`logStaticEpisodeData(${JSON.stringify(name)}, ${exp.kind})`, null, () => this.ex.logStaticEpisodeData(name, input));
    ep.staticData.set(name, exp);
  }

  private opCheckpoint(r: Rand, bad: boolean): void {
    const entries = new Map<string, StoredExp>();
    const data: Record<string, unknown> = {};
    for (let i = r.int(0, 4); i > 0; i--) {
      const k = randomName(r);
      if (entries.has(k)) continue;
      const { input, exp } = this.storedValue(r);
      put(data, k, input);
      entries.set(k, exp);
    }
    if (r.chance(0.2)) put(data, "undefined_entry", undefined);
    const name = randomName(r);
    if (bad) {
      const c = r.int(0, 4);
      if (c === 0 && this.checkpoints.size > 0) {
        const old = r.pick([...this.checkpoints.keys()]);
        this.call(`saveCheckpoint(${JSON.stringify(old)}) again`, "ALREADY_EXISTS", () => this.ex.saveCheckpoint(old, data));
      } else if (c === 1) {
        const bn = r.pick(BAD_NAMES);
        this.call(`saveCheckpoint(${JSON.stringify(bn)})`, "INVALID_DATA", () => this.ex.saveCheckpoint(bn, data));
      } else if (c === 2) {
        this.call("saveCheckpoint(data not an object)", "INVALID_DATA", () => this.ex.saveCheckpoint(`${name}_x`, r.pick([5, null, [1]]) as never));
      } else if (c === 3) {
        const bad = { ...data };
        put(bad, r.pick(BAD_NAMES.filter((b) => b !== "")), 1);
        this.call("saveCheckpoint(bad entry name)", "INVALID_DATA", () => this.ex.saveCheckpoint(`${name}_x`, bad));
      } else {
        const [what, code, v] = this.badStored(r);
        const bad: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(data)) put(bad, k, x);
        put(bad, "zz_bad", v);
        this.call(`saveCheckpoint(entry: ${what})`, code, () => this.ex.saveCheckpoint(`${name}_x`, bad));
      }
      return;
    }
    if (this.checkpoints.has(name)) return;
    this.call(`saveCheckpoint(${JSON.stringify(name)}, ${[...entries.keys()].join(",")})`, null, () => this.ex.saveCheckpoint(name, data));
    this.checkpoints.set(name, { episodeCount: this.episodes.length, entries });
  }

  // ---------------------------------------------------------------- close

  async close(): Promise<void> {
    if (this.open) {
      this.open.end = this.rows();
      this.open.status = "incomplete";
      this.open = null;
    }
    await this.ex.close();
    this.closed = true;
    const calls: [string, () => unknown][] = [
      ["log", () => this.ex.log({ timestep: 0 })], ["startEpisode", () => this.ex.startEpisode()], ["endEpisode", () => this.ex.endEpisode()],
      ["flush", () => this.ex.flush()], ["saveConfig", () => this.ex.saveConfig({ a: 1 })], ["saveMetadata", () => this.ex.saveMetadata({ a: 1 })],
      ["saveNetworkStructure", () => this.ex.saveNetworkStructure({ neurons: { a: [1] } })], ["saveCheckpoint", () => this.ex.saveCheckpoint("late", { a: 1 })],
      ["logWeightChange", () => this.ex.logWeightChange({ timestep: 0, synapseId: 0, oldWeight: 0, newWeight: 1 })],
      ["logEvent", () => this.ex.logEvent({ timestep: 0, type: "x" })], ["logStaticEpisodeData", () => this.ex.logStaticEpisodeData("late", 1)],
      ["saveCodeSnapshot", () => this.ex.saveCodeSnapshot([])],
    ];
    for (const [what, fn] of calls) this.call(`${what}() after close()`, "CLOSED", fn);
    await this.ex.close(); // idempotent
  }

  // ---------------------------------------------------------------- expected content

  private padOf(kind: Kind): number | bigint {
    return isFloatKind(kind) ? NaN : isBigKind(kind) ? 0n : 0;
  }

  /** Column of a neural state variable over every sample row. */
  private varColumn(spec: VarSpec): NumericArray {
    const values: (number | bigint)[] = [];
    for (let k = 0; k < this.stateT.length; k++) {
      const row = k >= spec.first ? this.stateRows[k].get(spec.name) : undefined;
      if (row) values.push(...(Array.from(row as ArrayLike<number | bigint>)));
      else for (let i = 0; i < spec.size; i++) values.push(this.padOf(spec.kind));
    }
    return fromValues(spec.kind === "uint8c" ? "uint8" : spec.kind, values).stored;
  }

  private behColumn(spec: BehSpec): NumericArray {
    const values: (number | bigint)[] = [];
    const kind: Kind = spec.kind === "num" ? "float64" : spec.kind;
    for (let k = 0; k < this.timesteps.length; k++) {
      const v = k >= spec.first ? this.behRows[k].get(spec.key) : undefined;
      if (v === undefined) for (let i = 0; i < spec.size; i++) values.push(this.padOf(kind));
      else if (typeof v === "number") values.push(v);
      else values.push(...Array.from(v as ArrayLike<number | bigint>));
    }
    return fromValues(kind === "uint8c" ? "uint8" : kind, values).stored;
  }

  private varShape(spec: VarSpec, rows: number): number[] {
    return [rows, ...spec.shape];
  }

  private behShape(spec: BehSpec, rows: number): number[] {
    return spec.kind === "num" ? [rows] : [rows, spec.size];
  }

  /** The merged config's keys that are also attributes of `config/` (the input rules' convenience copy). */
  configAttrs(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const [k, v] of Object.entries(this.config ?? {})) {
      if (!usableName(k)) continue;
      const scalar = typeof v === "number" || typeof v === "boolean" || (typeof v === "string" && v.length <= 1024 && usableText(v));
      if (scalar && n < 256) {
        put(out, k, v);
        n++;
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- read back: loader

  async verifyWithLoader(dir: string): Promise<void> {
    const loader = await ExperimentLoader.open(dir);
    try {
      const meta = loader.getMetadata();
      eq(meta.status, "closed", "status");
      eq(meta.experimentName, this.experimentName, "experimentName");
      eq(meta.formatVersion, "2.0", "formatVersion");
      sameJson(meta.user, this.metadata ?? {}, "metadata.user");
      sameJson(loader.getConfig(), this.config ?? {}, "config");
      eq(Number(loader.rootAttributes.episode_count), this.episodes.length, "episode_count");
      const net = loader.getNetworkStructure();
      eq(net.nNeurons, this.networkAttrN, "network nNeurons");
      sameRecord(net.neurons, this.neurons, "neurons");
      sameRecord(net.connections, this.connections, "connections");
      if (this.weights === null) eq(net.weights, null, "weights");
      else sameCsr(net.weights, this.weights, "initial_weights");
      eq(loader.episodeCount, this.episodes.length, "episodeCount");
      const table = loader.episodes();
      for (const ep of this.episodes) {
        const w = `episode ${ep.id}`;
        const end = ep.end!;
        eq(table.status[ep.id], ep.status, `${w} status`);
        eq(table.success[ep.id], ep.success === undefined ? -1 : ep.success ? 1 : 0, `${w} success`);
        eq(table.totalTimesteps[ep.id], ep.steps, `${w} total_timesteps`);
        eq(table.totalSpikes[ep.id], ep.totalSpikes, `${w} total_spikes`);
        if (!Object.is(table.totalReward[ep.id], ep.totalReward)) throw new Error(`${w} total_reward ${table.totalReward[ep.id]}, expected ${ep.totalReward}`);
        eq(table.firstTimestep[ep.id], ep.steps ? ep.firstT : -1, `${w} first_timestep`);
        eq(table.lastTimestep[ep.id], ep.steps ? ep.lastT : -1, `${w} last_timestep`);
        eq(table.neuralSamplingRate[ep.id], this.opts.neuralSamplingRate, `${w} neural_sampling_rate`);
        const e = loader.getEpisode(ep.id);
        const steps = this.timesteps.slice(ep.start.steps, end.steps);
        sameArray(e.getTimesteps(), Float64Array.from(steps), `${w} timesteps`);
        // spikes
        const sp = e.getSpikes();
        const spikeT: number[] = [];
        for (let k = ep.start.steps; k < end.steps; k++) for (let i = 0; i < this.counts[k]; i++) spikeT.push(this.timesteps[k]);
        sameArray(sp.timesteps, Float64Array.from(spikeT), `${w} spike timesteps`);
        sameArray(sp.neuronIds, Uint32Array.from(this.ids.slice(ep.start.spikes, end.spikes)), `${w} spike ids`);
        // neural state
        const ns = e.getNeuralStates();
        const [s0, s1] = [ep.start.states, end.states];
        sameArray(ns.timesteps, Float64Array.from(s1 > s0 ? this.stateT.slice(s0, s1) : []), `${w} neural state timesteps`);
        const vars = s1 > s0 ? [...this.vars.values()].filter((v) => v.first < s1) : [];
        eq(Object.keys(ns.variables).sort().join("|"), vars.map((v) => v.name).sort().join("|"), `${w} neural state variables`);
        for (const v of vars) {
          sameNd(ns.variables[v.name], loaded({ dtype: dtypeOfKind(v.kind), shape: this.varShape(v, s1 - s0), data: rowsOf(this.varColumn(v), v.size, s0, s1) }), `${w} neural state ${v.name}`);
        }
        // behaviour
        const bh = e.getBehavior();
        const [b0, b1] = [ep.start.steps, end.steps];
        sameArray(bh.timesteps, Float64Array.from(b1 > b0 ? steps : []), `${w} behavior timesteps`);
        const bvars = b1 > b0 ? [...this.beh.values()].filter((b) => b.first < b1) : [];
        eq(Object.keys(bh.variables).sort().join("|"), bvars.map((b) => b.key).sort().join("|"), `${w} behavior keys`);
        for (const b of bvars) {
          const kind = b.kind === "num" ? "float64" : dtypeOfKind(b.kind);
          sameNd(bh.variables[b.key], loaded({ dtype: kind, shape: this.behShape(b, b1 - b0), data: rowsOf(this.behColumn(b), b.size, b0, b1) }), `${w} behavior ${b.key}`);
        }
        // rewards
        const rw = e.getRewards();
        sameArray(rw.timesteps, Float64Array.from(this.rewardT.slice(ep.start.rewards, end.rewards)), `${w} reward timesteps`);
        sameArray(rw.values, Float64Array.from(this.rewardV.slice(ep.start.rewards, end.rewards)), `${w} reward values`);
        // weight changes: sorted by timestep, stable
        const wcs = this.wcs.slice(ep.start.wc, end.wc).map((x, i) => ({ ...x, i })).sort((a, b) => a.t - b.t || a.i - b.i);
        const got = e.getWeightChanges();
        sameArray(got.timesteps, Float64Array.from(wcs, (x) => x.t), `${w} wc timesteps`);
        sameArray(got.synapseIds, Float64Array.from(wcs, (x) => x.syn), `${w} wc synapse ids`);
        sameArray(got.sourceIds, Float64Array.from(wcs, (x) => x.src), `${w} wc source ids`);
        sameArray(got.targetIds, Float64Array.from(wcs, (x) => x.dst), `${w} wc target ids`);
        sameArray(got.oldWeights, Float64Array.from(wcs, (x) => x.old), `${w} wc old weights`);
        sameArray(got.newWeights, Float64Array.from(wcs, (x) => x.neu), `${w} wc new weights`);
        // events
        const evs = e.getEvents();
        const want = this.events.slice(ep.start.events, end.events);
        eq(evs.length, want.length, `${w} events`);
        evs.forEach((x, i) => {
          eq(x.timestep, want[i].t, `${w} event ${i} timestep`);
          eq(x.type, want[i].type, `${w} event ${i} type`);
          sameJson(x.data, want[i].data, `${w} event ${i} data`);
        });
        // windows of time (and spike blocks): the rows whose timesteps lie in [from, to)
        if (steps.length > 0) {
          const r = new Rand(this.sc.name + ep.id);
          const pickT = () => r.pick(steps) + r.pick([0, 0, 1, -1]);
          let [from, to] = [pickT(), pickT()];
          if (from > to) [from, to] = [to, from];
          const inWin = (t: number) => t >= from && t < to;
          const ww = `${w} window [${from}, ${to})`;
          const spw = e.getSpikes({ from, to });
          const keep = spikeT.map(inWin);
          sameArray(spw.timesteps, Float64Array.from(spikeT.filter((_, i) => keep[i])), `${ww} spike timesteps`);
          sameArray(spw.neuronIds, Uint32Array.from(this.ids.slice(ep.start.spikes, end.spikes).filter((_, i) => keep[i])), `${ww} spike ids`);
          const blockSteps = r.int(1, 4);
          const blocks: number[] = [];
          for await (const b of e.spikeBlocks({ steps: blockSteps, from, to })) blocks.push(...b.neuronIds);
          sameArray(Uint32Array.from(blocks), spw.neuronIds, `${ww} spikeBlocks of ${blockSteps} steps`);
          const bw = e.getBehavior({ from, to });
          const bRows = steps.map((t, i) => (inWin(t) ? b0 + i : -1)).filter((x) => x >= 0);
          sameArray(bw.timesteps, Float64Array.from(bRows.map((k) => this.timesteps[k])), `${ww} behavior timesteps`);
          for (const b of bvars) {
            const kind = b.kind === "num" ? "float64" : dtypeOfKind(b.kind);
            const lo = bRows.length ? bRows[0] : b0, hi = bRows.length ? bRows[bRows.length - 1] + 1 : b0;
            sameNd(bw.variables[b.key], loaded({ dtype: kind, shape: this.behShape(b, hi - lo), data: rowsOf(this.behColumn(b), b.size, lo, hi) }), `${ww} behavior ${b.key}`);
          }
          const sw = e.getNeuralStates({ from, to });
          const sRows = this.stateT.slice(s0, s1).map((t, i) => (inWin(t) ? s0 + i : -1)).filter((x) => x >= 0);
          sameArray(sw.timesteps, Float64Array.from(sRows.map((k) => this.stateT[k])), `${ww} neural state timesteps`);
          for (const v of vars) {
            const lo = sRows.length ? sRows[0] : s0, hi = sRows.length ? sRows[sRows.length - 1] + 1 : s0;
            sameNd(sw.variables[v.name], loaded({ dtype: dtypeOfKind(v.kind), shape: this.varShape(v, hi - lo), data: rowsOf(this.varColumn(v), v.size, lo, hi) }), `${ww} neural state ${v.name}`);
          }
        }
        sameJson(e.getSummary(), ep.hasSummary ? ep.summary : null, `${w} summary`);
        eq([...e.listStaticData()].sort().join("|"), [...ep.staticData.keys()].sort().join("|"), `${w} static names`);
        for (const [name, exp] of ep.staticData) sameStored(e.getStaticData(name), exp, `${w} static ${name}`);
      }
      eq(loader.listCheckpoints().sort().join("|"), [...this.checkpoints.keys()].sort().join("|"), "checkpoints");
      for (const [name, cp] of this.checkpoints) {
        const got = loader.getCheckpoint(name);
        eq(got.attrs.episode_count, cp.episodeCount, `checkpoint ${name} episode_count`);
        eq(Object.keys(got.entries).sort().join("|"), [...cp.entries.keys()].sort().join("|"), `checkpoint ${name} entries`);
        for (const [k, exp] of cp.entries) sameStored(got.entries[k], exp, `checkpoint ${name}.${k}`);
      }
    } finally {
      loader.close();
    }
  }

  // ---------------------------------------------------------------- expectation for h5py

  /** Everything check_roundtrip.py compares with the file (FORMAT.md names), as JSON. */
  expectationForPy(): unknown {
    const int64 = (xs: number[]) => BigInt64Array.from(xs.map((x) => BigInt(x)));
    const varsOut: Record<string, unknown> = {};
    for (const v of this.vars.values()) put(varsOut, v.name, { first_row: v.first, shape: this.varShape(v, this.stateT.length), data: this.varColumn(v) });
    const behOut: Record<string, unknown> = {};
    for (const b of this.beh.values()) put(behOut, b.key, { first_row: b.first, shape: this.behShape(b, this.timesteps.length), data: this.behColumn(b) });
    const stored = (e: StoredExp): unknown => (e.kind === "nd" ? { kind: "nd", shape: e.nd.shape, bool: !!e.nd.bool, data: raw(e.nd) } : e);
    const record = (rec: Record<string, NdExp | string[]>) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(rec)) put(out, k, Array.isArray(v) ? { kind: "strings", list: v } : { kind: "nd", shape: v.shape, bool: !!v.bool, data: raw(v) });
      return out;
    };
    const maxId = Math.max(-1, ...this.ids);
    const n = this.n;
    const eps = this.episodes;
    const range = (k: keyof Rows) => int64(eps.flatMap((e) => [e.start[k], e.end![k]]));
    return forPy({
      experiment_name: this.experimentName,
      compression: this.opts.compression === "none" || this.opts.compression === null ? null : "gzip",
      chunk_size: this.opts.chunkSize,
      episode_count: eps.length,
      config: this.config, config_attrs: this.configAttrs(), metadata: this.metadata,
      network: {
        n_neurons: this.networkAttrN, neurons: record(this.neurons), connections: record(this.connections), weights: this.weights,
        saved: this.networkSaved,
      },
      timesteps: int64(this.timesteps),
      spikes: {
        n_neurons: n ?? -1, counts: this.counts, neuron_ids: this.ids,
        counts_dtypes: [...new Set(["uint32", n === null ? "uint32" : smallest(n)])],
        ids_dtypes: [...new Set(["uint32", n === null ? "uint32" : smallest(Math.max(0, n - 1, maxId))])],
      },
      neural_states: { timesteps: int64(this.stateT), vars: varsOut },
      behavior: behOut,
      rewards: { timesteps: int64(this.rewardT), values: Float64Array.from(this.rewardV) },
      weight_changes: {
        timesteps: int64(this.wcs.map((w) => w.t)), synapse_ids: int64(this.wcs.map((w) => w.syn)), source_ids: int64(this.wcs.map((w) => w.src)),
        target_ids: int64(this.wcs.map((w) => w.dst)), old_weights: Float64Array.from(this.wcs, (w) => w.old), new_weights: Float64Array.from(this.wcs, (w) => w.neu),
      },
      events: { timesteps: int64(this.events.map((e) => e.t)), types: this.events.map((e) => e.type), data: this.events.map((e) => e.data) },
      episodes: {
        episode_id: int64(eps.map((e) => e.id)), status: Int8Array.from(eps, (e) => (e.status === "completed" ? 1 : 2)),
        success: Int8Array.from(eps, (e) => (e.success === undefined ? -1 : e.success ? 1 : 0)),
        total_timesteps: int64(eps.map((e) => e.steps)), total_spikes: int64(eps.map((e) => e.totalSpikes)), total_reward: Float64Array.from(eps, (e) => e.totalReward),
        first_timestep: int64(eps.map((e) => (e.steps ? e.firstT : -1))), last_timestep: int64(eps.map((e) => (e.steps ? e.lastT : -1))),
        neural_sampling_rate: int64(eps.map(() => this.opts.neuralSamplingRate)),
        step_rows: range("steps"), spike_rows: range("spikes"), state_rows: range("states"), reward_rows: range("rewards"),
        weight_change_rows: range("wc"), event_rows: range("events"),
        summary: eps.map((e) => (e.hasSummary ? { json: e.summary } : "")),
      },
      static: Object.fromEntries(eps.filter((e) => e.staticData.size > 0).map((e) => {
        const o: Record<string, unknown> = {};
        for (const [k, v] of e.staticData) put(o, k, stored(v));
        return [`episode_${String(e.id).padStart(4, "0")}`, o];
      })),
      checkpoints: Object.fromEntries([...this.checkpoints].map(([name, cp]) => {
        const o: Record<string, unknown> = {};
        for (const [k, v] of cp.entries) put(o, k, stored(v));
        return [name, { episode_count: cp.episodeCount, entries: o }];
      })),
    });
  }
}

/** The array as stored on disk (64-bit integers as BigInt arrays, not as the loader converts them). */
function raw(nd: NdExp): NumericArray {
  if (nd.storedDtype === "int64") return BigInt64Array.from(nd.data as Float64Array, (x) => BigInt(x));
  if (nd.storedDtype === "uint64") return BigUint64Array.from(nd.data as Float64Array, (x) => BigInt(x));
  return nd.data;
}

function smallest(max: number): string {
  return max <= 0xff ? "uint8" : max <= 0xffff ? "uint16" : max <= 0xffffffff ? "uint32" : "uint64";
}

/** Usable as an HDF5 name: non-empty, no "/", NUL or lone surrogate. */
export function usableName(k: string): boolean {
  return k !== "" && !k.includes("/") && usableText(k);
}

/** Storable as an HDF5 string exactly: no NUL, no lone surrogate. */
export function usableText(s: string): boolean {
  return !s.includes("\u0000") && !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

function eq(a: unknown, e: unknown, where: string): void {
  if (!Object.is(a, e)) throw new Error(`${where}: ${JSON.stringify(a)}, expected ${JSON.stringify(e)}`);
}

function sameRecord(got: Record<string, unknown>, exp: Record<string, NdExp | string[]>, where: string): void {
  eq(Object.keys(got).sort().join("|"), Object.keys(exp).sort().join("|"), `${where} fields`);
  for (const [k, v] of Object.entries(exp)) {
    if (Array.isArray(v)) sameJson(got[k], v, `${where}.${k}`);
    else sameNd(got[k], { ...v, bool: undefined }, `${where}.${k}`);
  }
}

function sameCsr(got: unknown, exp: CsrExp, where: string): void {
  const g = got as { indptr: Float64Array; indices: NumericArray; data: NumericArray; shape: number[]; sourceFormat: string } | null;
  if (!g) throw new Error(`${where}: missing`);
  sameArray(g.indptr, Float64Array.from(exp.indptr), `${where}.indptr`);
  sameArray(g.indices, exp.indices, `${where}.indices`);
  const d = loaded({ dtype: dtypeOfArray(exp.data), shape: [exp.data.length], data: exp.data });
  sameArray(g.data, d.data, `${where}.data`);
  eq(JSON.stringify(g.shape), JSON.stringify(exp.shape), `${where}.shape`);
  eq(g.sourceFormat, exp.sourceFormat, `${where}.sourceFormat`);
}

function sameStored(got: unknown, exp: StoredExp, where: string): void {
  if (exp.kind === "nd") sameNd(got, { ...exp.nd, bool: undefined }, where);
  else if (exp.kind === "strings") sameJson(got, exp.list, where);
  else if (exp.kind === "csr") sameCsr(got, exp.csr, where);
  else sameJson(got, exp.value, where);
}

export { join };

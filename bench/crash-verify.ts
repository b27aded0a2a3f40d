/**
 * Checks a (possibly killed) crash-harness file against the deterministic data of crash-data.ts:
 * with our loader (every stream of every episode, config, network, checkpoints) and with h5py
 * (every dataset read fully, plus the timesteps prefix of every episode).
 *
 * As a program it verifies a batch of files in a fresh process (so that a loader failure cannot
 * take the harness down) and prints one JSON line per file:
 *
 *   node dist/bench/crash-verify.js jobs.json
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { fileURLToPath } from "node:url";
import { ExperimentLoader, isSnnExportError } from "#lib/index.js";
import * as D from "./crash-data.js";

/** What the writer announced as durable before it was killed. */
export interface Durable {
  /** Config, metadata and network were flushed. */
  setup: boolean;
  /** Episodes 0 .. endedThrough were ended and flushed after their end (-1: none). */
  endedThrough: number;
  /** Episodes after endedThrough: steps, weight changes and events made durable by the last completed flush. */
  episodes: { ep: number; steps: number; wc: number; events: number; done: boolean }[];
  checkpoints: string[];
  /** close() returned. */
  closed: boolean;
}

export type DurableEpisode = Durable["episodes"][number];

export interface VerifyJob {
  file: string;
  seed: number;
  episodes: number;
  /** Episode lengths, sampling and rates of the writer (crash-data.ts). */
  profile: D.Profile;
  durable: Durable;
}

/** What was durable of episode `ep`, or undefined when nothing was announced. */
export function durableOf(durable: Durable, ep: number, seed: number, profile: D.Profile): DurableEpisode | undefined {
  if (ep <= (durable.endedThrough ?? -1)) return { ep, steps: D.episodeSteps(seed, ep, profile), wc: -1, events: -1, done: true };
  return durable.episodes.find((x) => x.ep === ep);
}

/** Durable steps of the job, over all episodes. */
export function durableSteps(job: VerifyJob): number {
  let n = 0;
  for (let ep = 0; ep <= (job.durable.endedThrough ?? -1); ep++) n += D.episodeSteps(job.seed, ep, job.profile);
  for (const d of job.durable.episodes) if (d.ep > (job.durable.endedThrough ?? -1)) n += d.done ? D.episodeSteps(job.seed, d.ep, job.profile) : d.steps;
  return n;
}

/** Every episode something was announced durable for, with its durable steps. */
export function durableEpisodes(job: VerifyJob): { ep: number; steps: number }[] {
  const out: { ep: number; steps: number }[] = [];
  const through = job.durable.endedThrough ?? -1;
  for (let ep = 0; ep <= through; ep++) out.push({ ep, steps: D.episodeSteps(job.seed, ep, job.profile) });
  for (const d of job.durable.episodes) if (d.ep > through) out.push({ ep: d.ep, steps: d.done ? D.episodeSteps(job.seed, d.ep, job.profile) : d.steps });
  return out;
}

export interface EpisodeCheck {
  ep: number;
  status: string | null;
  /** Steps the writer reported durable. */
  durable: number;
  /** Steps [0, covered) are present and correct in every stream. */
  covered: number;
  /** Timesteps returned by the loader. */
  returned: number;
  lost: number;
  problems: string[];
}

export interface LoaderCheck {
  opened: boolean;
  error: string | null;
  errorCode: string | null;
  metadataStatus: string | null;
  episodes: EpisodeCheck[];
  /** Durable steps missing or wrong, over all episodes. */
  stepsLost: number;
  /** Values returned that are not the written ones (anywhere, also beyond the last flush). */
  wrongValues: number;
  problems: string[];
}

// ------------------------------------------------------------------ loader

/** Length of the common prefix of `got` with the expected sequence produced by `expected(i)`. */
function prefix<T>(got: ArrayLike<T> | T[], n: number, expected: (i: number) => T, eq: (a: T, b: T) => boolean = (a, b) => a === b): number {
  let i = 0;
  while (i < n && i < got.length && eq(got[i], expected(i))) i++;
  return i;
}

/** Sum of `count(i)` over steps i < n. */
function countBefore(n: number, count: (i: number) => number): number {
  let c = 0;
  for (let i = 0; i < n; i++) c += count(i);
  return c;
}

/** Checks one episode; returns steps [0, covered) correct in every stream and the problems found. */
function checkEpisode(loader: ExperimentLoader, ep: number, seed: number, profile: D.Profile, d: DurableEpisode | undefined): EpisodeCheck {
  const steps = D.episodeSteps(seed, ep, profile);
  const SAMPLING = D.sampling(profile);
  const e = loader.getEpisode(ep);
  const problems: string[] = [];
  const durable = d ? (d.done ? steps : d.steps) : 0;
  const status = typeof e.attrs.status === "string" ? e.attrs.status : null;
  let covered = steps;
  const limit = (c: number, what: string, complete: boolean) => {
    if (!complete) problems.push(`${what}: wrong value after ${c} steps`);
    covered = Math.min(covered, c);
  };

  // timesteps
  const ts = e.getTimesteps();
  const nts = prefix(ts, steps, (i) => i);
  if (nts < ts.length) limit(nts, `timesteps[${nts}] = ${ts[nts]}`, false);
  else covered = Math.min(covered, nts);

  // behaviour
  const beh = e.getBehavior();
  const bt = beh.timesteps;
  const bx = beh.variables.x?.data ?? new Float64Array(0);
  const by = beh.variables.y?.data ?? new Float64Array(0);
  const nb = Math.min(
    prefix(bt, steps, (i) => i),
    prefix(bx as Float64Array, steps, (i) => D.behaviorX(seed, ep, i)),
    prefix(by as Float64Array, steps, (i) => D.behaviorY(seed, ep, i)),
  );
  const nbRows = Math.max(bt.length, bx.length, by.length);
  if (nb < nbRows) limit(nb, `behavior row ${nb}`, false);
  else covered = Math.min(covered, nb);

  // neural state v, every SAMPLING steps
  const ns = e.getNeuralStates();
  const vt = ns.timesteps;
  const v = ns.variables.v;
  const samples = Math.ceil(steps / SAMPLING);
  let k = 0;
  const row = new Float32Array(D.N_NEURONS);
  for (; k < samples && k < vt.length && v && (v.shape[0] ?? 0) > k; k++) {
    if (vt[k] !== k * SAMPLING) break;
    D.membrane(seed, ep, k * SAMPLING, row);
    const got = (v.data as Float32Array).subarray(k * D.N_NEURONS, (k + 1) * D.N_NEURONS);
    if (!row.every((x, i) => Object.is(x, got[i]))) break;
  }
  const vRows = Math.max(vt.length, v ? v.shape[0] ?? 0 : 0);
  const vCovered = k >= samples ? steps : k * SAMPLING;
  if (k < vRows) limit(vCovered, `neural_states row ${k}`, false);
  else covered = Math.min(covered, vCovered);

  // spikes: walk the expected spike list step by step
  const sp = e.getSpikes();
  let s = 0;
  let t = 0;
  let bad = false;
  for (; t < steps; t++) {
    const ids = D.spikeIds(seed, ep, t);
    if (ids.length === 0) continue;
    if (s + ids.length > sp.neuronIds.length) {
      // the rest must be a prefix of this step's spikes, or nothing
      for (let i = 0; s + i < sp.neuronIds.length; i++) if (sp.neuronIds[s + i] !== ids[i] || sp.timesteps[s + i] !== t) bad = true;
      break;
    }
    for (let i = 0; i < ids.length; i++) if (sp.neuronIds[s + i] !== ids[i] || sp.timesteps[s + i] !== t) bad = true;
    if (bad) break;
    s += ids.length;
  }
  if (bad || (t >= steps && s !== sp.neuronIds.length)) limit(t, `spikes at step ${t}`, false);
  else covered = Math.min(covered, t);

  // sparse streams: rewards, weight changes, events (expected lists in step order)
  const rew = e.getRewards();
  const wcs = e.getWeightChanges();
  const evs = e.getEvents();
  let ri = 0, wi = 0, ei = 0;
  let rStop = steps, wStop = steps, eStop = steps;
  let wcGood = 0, evGood = 0;
  for (let i = 0; i < steps && (rStop === steps || wStop === steps || eStop === steps); i++) {
    const r = D.reward(seed, ep, i);
    if (r !== 0 && rStop === steps) {
      if (ri < rew.timesteps.length) {
        if (rew.timesteps[ri] !== i || rew.values[ri] !== r) { limit(i, `reward ${ri}`, false); rStop = i; }
        ri++;
      } else rStop = i;
    }
    for (const c of D.weightChanges(seed, ep, i, profile.wcRate)) {
      if (wStop !== steps) break;
      if (wi < wcs.timesteps.length) {
        const ok = wcs.timesteps[wi] === c.timestep && wcs.synapseIds[wi] === c.synapseId && wcs.sourceIds[wi] === -1 &&
          wcs.targetIds[wi] === -1 && wcs.oldWeights[wi] === c.oldWeight && wcs.newWeights[wi] === c.newWeight;
        if (!ok) { limit(i, `weight change ${wi}`, false); wStop = i; } else wcGood++;
        wi++;
      } else wStop = i;
    }
    const evt = D.event(seed, ep, i, profile.eventRate);
    if (evt && eStop === steps) {
      if (ei < evs.length) {
        const g = evs[ei];
        if (g.timestep !== evt.timestep || g.type !== evt.type || !isDeepStrictEqual(g.data, evt.data)) { limit(i, `event ${ei}`, false); eStop = i; } else evGood++;
        ei++;
      } else eStop = i;
    }
  }
  if (rStop === steps && ri !== rew.timesteps.length) limit(steps, `${rew.timesteps.length - ri} extra rewards`, false);
  if (wStop === steps && wi !== wcs.timesteps.length) limit(steps, `${wcs.timesteps.length - wi} extra weight changes`, false);
  if (eStop === steps && ei !== evs.length) limit(steps, `${evs.length - ei} extra events`, false);
  covered = Math.min(covered, rStop);

  // weight changes and events of step t are logged after log(t): the writer counts them, so they are
  // judged by count, not by step
  const wcOk = wcGood;
  const evOk = evGood;
  const wcDurable = d ? (d.done ? countBefore(steps, (i) => D.weightChanges(seed, ep, i, profile.wcRate).length) : d.wc) : 0;
  const evDurable = d ? (d.done ? countBefore(steps, (i) => (D.event(seed, ep, i, profile.eventRate) ? 1 : 0)) : d.events) : 0;
  if (wcOk < wcDurable) problems.push(`weight changes: ${wcOk} correct < ${wcDurable} durable`);
  if (evOk < evDurable) problems.push(`events: ${evOk} correct < ${evDurable} durable`);
  if (d?.done) {
    if (status !== "completed" && status !== "incomplete") problems.push(`status ${status} for a finished episode`);
    const a = e.attrs;
    if (a.total_timesteps !== steps) problems.push(`total_timesteps ${a.total_timesteps}`);
    if (!isDeepStrictEqual(e.getSummary(), D.summary(seed, ep, steps))) problems.push("summary differs");
  } else if (status === "completed") {
    // endEpisode() reported an error but its data reached the file after all (a later close())
    if (covered < steps) problems.push(`status "completed" but only ${covered} of ${steps} steps`);
  } else if (status !== "interrupted" && status !== "incomplete") {
    problems.push(`status ${JSON.stringify(status)} for an episode that was not ended (expected "interrupted")`);
  }
  let lost = Math.max(0, durable - covered);
  if (lost > 0) problems.push(`${lost} durable steps missing or wrong (durable ${durable}, correct ${covered})`);
  // a missing durable weight change or event loses (at least) its step
  if (lost === 0 && (wcOk < wcDurable || evOk < evDurable)) lost = 1;
  return { ep, status, durable, covered, returned: ts.length, lost, problems };
}

/** Opens `job.file` with the loader and checks everything in it. Never throws. */
export async function verifyWithLoader(job: VerifyJob, openOptions: { live?: boolean } = {}): Promise<LoaderCheck> {
  const out: LoaderCheck = { opened: false, error: null, errorCode: null, metadataStatus: null, episodes: [], stepsLost: 0, wrongValues: 0, problems: [] };
  let loader: ExperimentLoader;
  try {
    loader = await ExperimentLoader.open(job.file, openOptions);
  } catch (err) {
    out.error = (err as Error).message;
    out.errorCode = isSnnExportError(err) ? err.code : "UNTYPED";
    out.stepsLost = durableSteps(job);
    return out;
  }
  out.opened = true;
  try {
    const meta = loader.getMetadata();
    out.metadataStatus = meta.status;
    if (job.durable.closed && meta.status !== "closed") out.problems.push(`metadata status ${meta.status} after close()`);
    // killed inside close() after its last write the file is legitimately closed
    if (!job.durable.closed && meta.status !== "interrupted" && meta.status !== "closed") out.problems.push(`metadata status ${meta.status} of a killed file (expected "interrupted")`);
    if (job.durable.setup) {
      if (!isDeepStrictEqual(loader.getConfig(), D.config(job.seed, job.episodes, job.profile.steps))) out.problems.push("config differs");
      const w = loader.getNetworkStructure().weights;
      if (!w || w.data.length !== D.N_SYNAPSES) out.problems.push("network weights missing");
    }
    for (const name of job.durable.checkpoints) {
      const cp = loader.getCheckpoint(name);
      if (cp.entries.episode === undefined) out.problems.push(`checkpoint ${name} incomplete`);
    }
    const present = new Set(loader.listEpisodes());
    for (const d of durableEpisodes(job)) {
      if (!present.has(d.ep) && d.steps > 0) {
        out.problems.push(`episode ${d.ep} missing`);
        out.stepsLost += d.steps;
      }
    }
    for (const id of present) {
      const d = durableOf(job.durable, id, job.seed, job.profile);
      let c: EpisodeCheck;
      try {
        c = checkEpisode(loader, id, job.seed, job.profile, d);
      } catch (err) {
        const durable = d ? (d.done ? D.episodeSteps(job.seed, id, job.profile) : d.steps) : 0;
        c = { ep: id, status: null, durable, covered: 0, returned: 0, lost: durable, problems: [`loader failed: ${(err as Error).message}`] };
        if (!isSnnExportError(err)) c.problems.push("the error is not an SnnExportError");
      }
      out.episodes.push(c);
      out.stepsLost += c.lost;
      out.wrongValues += c.problems.filter((p) => p.includes("wrong value") || p.includes("extra")).length;
    }
  } catch (err) {
    out.error = (err as Error).message;
    out.errorCode = isSnnExportError(err) ? err.code : "UNTYPED";
  } finally {
    loader.close();
  }
  return out;
}

// ------------------------------------------------------------------ h5py

export const PYTHON = "/usr/bin/python3";

/**
 * Reads every dataset and attribute of each file. Format 2.x: checks the episode table (every row
 * range within its streams, each episode's ranges starting where the previous one's end,
 * `episode_id` = row) and `timesteps[a:a+n] == arange(n)` for the durable steps of every episode,
 * `a` from its `step_rows`, as FORMAT.md's recipe reads them. Format 1.x: the episode group's
 * `timesteps`.
 */
const PY = String.raw`
import json, sys
jobs = json.load(open(sys.argv[1]))
import h5py, numpy as np
STREAMS = {
    "step_rows": ["timesteps", "spikes/counts", "spikes/spike_matrix", "behavior/x", "behavior/y"],
    "spike_rows": ["spikes/neuron_ids"],
    "state_rows": ["neural_states/timesteps", "neural_states/v"],
    "reward_rows": ["rewards/timesteps", "rewards/values"],
    "weight_change_rows": ["weight_changes/" + c for c in ("timesteps", "synapse_ids", "source_ids", "target_ids", "old_weights", "new_weights")],
    "event_rows": ["events/timesteps", "events/types", "events/data"],
}
for job in jobs:
    out = {"file": job["file"], "ok": False, "error": None, "datasets": 0, "bad_timesteps": [], "range_issues": [], "open_row_notes": [], "table_rows": None}
    try:
        with h5py.File(job["file"], "r") as f:
            def visit(name, obj):
                for k in obj.attrs.keys():
                    obj.attrs[k]
                if isinstance(obj, h5py.Dataset):
                    obj[()]
                    out["datasets"] += 1
            for k in f.attrs.keys():
                f.attrs[k]
            f.visititems(visit)
            v2 = "episodes" in f and "step_rows" in f["episodes"]
            if v2:
                dense_rewards = "rewards" in f and f["rewards"].attrs.get("encoding") in ("dense", b"dense")
                streams = {c: [p for p in paths if not (p.startswith("rewards/") and (c == "reward_rows") == dense_rewards)] for c, paths in STREAMS.items()}
                if dense_rewards:
                    streams["step_rows"] += ["rewards/values"]
                ep = f["episodes"]
                rows = {c: ep[c][()] for c in STREAMS if c in ep}
                n_rows = len(rows["step_rows"])
                out["table_rows"] = int(n_rows)
                status = ep["status"][()] if "status" in ep else np.full(n_rows, -1)
                closed = f.attrs.get("status") in ("closed", b"closed")
                def issue(row, text):
                    # FORMAT.md: in a file whose writer died, the row of the open episode (running, or
                    # incomplete when killed inside close()) is as of some flush; the loader cuts it
                    st = int(status[row]) if 0 <= row < len(status) else -1
                    if not closed and st in (0, 2):
                        out["open_row_notes"].append("row %d (status %d): %s" % (row, st, text))
                    else:
                        out["range_issues"].append("row %d (status %d): %s" % (row, st, text))
                if "episode_id" in ep:
                    ids = ep["episode_id"][()]
                    if not np.array_equal(ids, np.arange(len(ids))):
                        out["range_issues"].append("episode_id is not the row number")
                for c, r in rows.items():
                    if len(r) != n_rows:
                        out["range_issues"].append("%s has %d rows, step_rows %d" % (c, len(r), n_rows))
                    if len(r) == 0:
                        continue
                    if r[0, 0] != 0:
                        out["range_issues"].append("%s: the first range starts at %d" % (c, int(r[0, 0])))
                    for i in np.flatnonzero(r[:, 1] < r[:, 0])[:3]:
                        issue(int(i), "%s ends before it starts" % c)
                    for i in (np.flatnonzero(r[1:, 0] != r[:-1, 1]) + 1)[:3]:
                        issue(int(i), "%s starts at %d, row %d ended at %d" % (c, int(r[i, 0]), i - 1, int(r[i - 1, 1])))
                    for path in streams[c]:
                        if path not in f:
                            continue
                        for i in np.flatnonzero(r[:, 1] > f[path].shape[0])[:3]:
                            issue(int(i), "%s ends at %d beyond %s (%d rows)" % (c, int(r[i, 1]), path, f[path].shape[0]))
                # one row, one flush: its counters, ranges, status and end time were written together
                if "total_timesteps" in ep and len(ep["total_timesteps"]) == n_rows and n_rows:
                    sr = rows["step_rows"]
                    tt = ep["total_timesteps"][()]
                    for i in np.flatnonzero(tt != sr[:, 1] - sr[:, 0])[:3]:
                        issue(int(i), "mixes two flushes: total_timesteps %d but step_rows holds %d" % (int(tt[i]), int(sr[i, 1] - sr[i, 0])))
                    if "end_time" in ep:
                        et = ep["end_time"][()]
                        for i in np.flatnonzero((status == 1) & np.isnan(et))[:3]:
                            issue(int(i), "mixes two flushes: status completed and no end_time")
                ts = f["timesteps"][()] if "timesteps" in f else np.zeros(0, dtype=np.int64)
            for e, n in job["durable"]:
                if n == 0:
                    continue
                if v2:
                    if e >= n_rows:
                        out["bad_timesteps"].append([e, "missing"])
                        continue
                    a, b = (int(x) for x in rows["step_rows"][e])
                    got = ts[a:min(b, a + n)]
                else:
                    name = "episodes/episode_%04d/timesteps" % e
                    if name not in f:
                        out["bad_timesteps"].append([e, "missing"])
                        continue
                    got = f[name][()][:n]
                if len(got) < n or not np.array_equal(got, np.arange(n)):
                    out["bad_timesteps"].append([e, int(len(got))])
        out["ok"] = True
    except Exception as e:
        out["error"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
    print(json.dumps(out), flush=True)
`;

export interface H5pyCheck {
  file: string;
  ok: boolean;
  error: string | null;
  datasets: number;
  /** [episode, rows found] where the durable timesteps are missing or wrong. */
  bad_timesteps: unknown[];
  /**
   * Inconsistencies of the episode table (2.x): ranges beyond their streams, gaps, overlaps, rows
   * mixing two flushes — in rows that FORMAT.md says are final (completed, or any row of a closed file).
   */
  range_issues: string[];
  /** The same found in the open episode's row of a file whose writer died (running, or incomplete inside close()): FORMAT.md lets the loader cut those. */
  open_row_notes: string[];
  table_rows: number | null;
}

/** Why h5py cannot be used here, or null when it can. */
export function h5pyProblem(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import h5py, numpy"], { encoding: "utf8" });
  if (r.error) return `${PYTHON} not runnable (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} cannot import h5py/numpy (${r.stderr.trim().split("\n").pop()})`;
  return null;
}

/** Runs the h5py check on a batch of files (one python process; a file that crashes python is retried alone). */
export function verifyWithH5py(jobs: VerifyJob[], jobsFile: string, write: (path: string, text: string) => void): H5pyCheck[] {
  const payload = jobs.map((j) => ({ file: j.file, durable: durableEpisodes(j).map((d) => [d.ep, d.steps]) }));
  write(jobsFile, JSON.stringify(payload));
  const r = spawnSync(PYTHON, ["-c", PY, jobsFile], { encoding: "utf8", maxBuffer: 64 << 20, timeout: 600_000 });
  const lines = (r.stdout ?? "").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as H5pyCheck);
  if (lines.length === jobs.length) return lines;
  // python died on some file: redo the rest one by one
  const out = [...lines];
  for (const j of jobs.slice(lines.length)) {
    if (jobs.length === 1) {
      out.push({ file: j.file, ok: false, error: `python exited with ${r.status ?? r.signal}: ${(r.stderr ?? "").trim().split("\n").pop()}`, datasets: 0, bad_timesteps: [], range_issues: [], open_row_notes: [], table_rows: null });
    } else out.push(...verifyWithH5py([j], jobsFile, write));
  }
  return out;
}

// ------------------------------------------------------------------ structure (test/py/check_structure.py)

const CHECKER = fileURLToPath(new URL("../../test/py/check_structure.py", import.meta.url));

/** One file's verdict of check_structure.py: `problems` as "[ID] text". */
export interface StructureCheck { ok: boolean; problems: string[] }

/**
 * Checks the HDF5 structure of killed files with check_structure.py --killed (independent of the
 * writer: superblock end of file, reference and attribute counts, B-tree chunk indexes, chunk
 * shapes of FORMAT.md, overlapping or unaccounted space; see its docstring), one Python process.
 */
export function verifyStructure(files: string[]): StructureCheck[] {
  if (files.length === 0) return [];
  const r = spawnSync(PYTHON, [CHECKER, "--json", "--killed", ...files], { encoding: "utf8", maxBuffer: 64 << 20, timeout: 600_000 });
  const byFile = new Map<string, StructureCheck>();
  for (const line of (r.stdout ?? "").split("\n")) {
    if (!line.startsWith("{")) continue;
    const j = JSON.parse(line) as { file: string; ok: boolean; problems: [string, string][] };
    byFile.set(j.file, { ok: j.ok, problems: j.problems.map(([id, text]) => `[${id}] ${text}`) });
  }
  const why = `check_structure.py gave no verdict (exit ${r.status ?? r.signal}): ${(r.stderr ?? r.error?.message ?? "").trim().split("\n").pop()}`;
  return files.map((f) => byFile.get(f) ?? { ok: false, problems: [why] });
}

// ------------------------------------------------------------------ program

async function main(): Promise<void> {
  const jobs = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as VerifyJob[];
  for (const job of jobs) {
    const r = await verifyWithLoader(job);
    process.stdout.write(JSON.stringify({ file: job.file, ...r }) + "\n");
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`crash-verify: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}

/**
 * The exporter's refusals and input rules, each with the error code and the message FORMAT.md /
 * the API documentation give for it, and a few facts of the accepted input that need no reader:
 * the neuron count taken from a network's first field, the directory name chosen next to an
 * existing entry. Fast (no Python): it is part of the exporter's mutation-testing command
 * (stryker.config.mjs) as well as of `npm test`.
 */
import assert from "node:assert/strict";
import { readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DataExporter, StandardDataExporter, isSnnExportError, type ErrorCode } from "#lib/index.js";
import { checkExperimentName, makeExperimentDir, resolveOptions } from "#lib/exporter/options.js";
import { tempDir } from "./helpers.js";

/** `f` throws the typed error `code` whose message matches every pattern. */
function refuses(f: () => unknown, code: ErrorCode, ...patterns: (RegExp | string)[]): void {
  assert.throws(f, (err: unknown) => {
    assert.ok(isSnnExportError(err, code), `expected ${code}, got ${String(err)}`);
    for (const p of patterns) {
      if (typeof p === "string") assert.ok((err as Error).message.includes(p), `message ${JSON.stringify((err as Error).message)} lacks ${JSON.stringify(p)}`);
      else assert.match((err as Error).message, p);
    }
    return true;
  });
}

const OPTS = { provenance: false, flushIntervalMs: 0 } as const;

test("options: integer options name themselves, their range and the value given; the top of the range is accepted", () => {
  refuses(() => resolveOptions({ chunkSize: "5" as unknown as number }), "INVALID_OPTION", 'option chunkSize must be an integer from 1 to 16777216, got "5"');
  refuses(() => resolveOptions({ chunkSize: 2.5 }), "INVALID_OPTION", "option chunkSize must be an integer from 1 to 16777216, got 2.5");
  refuses(() => resolveOptions({ chunkSize: 2 ** 24 + 1 }), "INVALID_OPTION", "got 16777217");
  refuses(() => resolveOptions({ compressionLevel: 0 }), "INVALID_OPTION", "option compressionLevel must be an integer from 1 to 9, got 0");
  assert.equal(resolveOptions({ chunkSize: 2 ** 24 }).chunkSize, 2 ** 24);
  assert.equal(resolveOptions({ compressionLevel: 9 }).compressionLevel, 9);
  assert.equal(resolveOptions({ neuralSamplingRate: 1e9 }).neuralSamplingRate, 1e9);
});

test("experiment directory: a name taken by a dangling symbolic link gets the suffix _1; a failure other than EEXIST is IO_ERROR", (t) => {
  const dir = tempDir(t);
  const when = new Date(2026, 0, 2, 3, 4, 5);
  const stem = "run_20260102_030405";
  // existsSync() says a dangling link does not exist, mkdir() says EEXIST: the next name is taken
  symlinkSync(join(dir, "nowhere"), join(dir, stem));
  assert.equal(makeExperimentDir(dir, "run", when), join(dir, `${stem}_1`));
  assert.equal(makeExperimentDir(dir, "run", when), join(dir, `${stem}_2`));
  assert.deepEqual(readdirSync(dir).sort(), [stem, `${stem}_1`, `${stem}_2`]);
  // a directory name over the file system's 255 bytes: ENAMETOOLONG
  refuses(() => makeExperimentDir(dir, "x".repeat(300), when), "IO_ERROR", `cannot create experiment directory ${join(dir, `${"x".repeat(300)}_20260102_030405`)}: `, "ENAMETOOLONG");
  assert.throws(() => makeExperimentDir(dir, "x".repeat(300), when), (e: unknown) => ((e as Error).cause as NodeJS.ErrnoException)?.code === "ENAMETOOLONG", "the system error is the cause");
});

test("saveCheckpoint: entries must be a plain object, a name is used once, the name must be usable, and not after close()", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("cp", { ...OPTS, outputBaseDir: dir });
  refuses(() => ex.saveCheckpoint("a", [] as unknown as Record<string, unknown>), "INVALID_DATA", "saveCheckpoint() takes a name and a plain object of entries");
  refuses(() => ex.saveCheckpoint("a", null as unknown as Record<string, unknown>), "INVALID_DATA", "saveCheckpoint() takes a name and a plain object of entries");
  ex.saveCheckpoint("a", { x: 1 });
  refuses(() => ex.saveCheckpoint("a", { x: 2 }), "ALREADY_EXISTS", 'checkpoint "a" already exists; use a new name for each checkpoint');
  refuses(() => ex.saveCheckpoint("b/c", { x: 2 }), "INVALID_DATA", 'checkpoint name "b/c" is not usable as an HDF5 name');
  ex.saveCheckpoint("b", { x: 2 });
  await ex.close();
  refuses(() => ex.saveCheckpoint("c", { x: 3 }), "CLOSED", "saveCheckpoint() called after close()");
});

test("logWeightChange: not an object, an unknown key and a bad timestep name the call", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("wc", { ...OPTS, outputBaseDir: dir });
  ex.startEpisode();
  refuses(() => ex.logWeightChange(null as never), "INVALID_DATA", "logWeightChange() takes { timestep, synapseId | sourceId+targetId, oldWeight, newWeight }");
  refuses(() => ex.logWeightChange(7 as never), "INVALID_DATA", "logWeightChange() takes {");
  refuses(() => ex.logWeightChange({ timestep: 0, synapseId: 0, oldWeight: 0, newWeight: 1, weight: 2 } as never), "INVALID_DATA", 'logWeightChange(): unknown key "weight"');
  refuses(() => ex.logWeightChange({ timestep: 0.5, synapseId: 0, oldWeight: 0, newWeight: 1 }), "INVALID_DATA", "logWeightChange(): timestep must be an integer (a safe integer, |t| < 2^53), got 0.5");
  refuses(() => ex.logWeightChange({ timestep: "1" as never, synapseId: 0, oldWeight: 0, newWeight: 1 }), "INVALID_DATA", 'logWeightChange(): timestep must be an integer (a safe integer, |t| < 2^53), got "1"');
  await ex.close();
});

test("numbers: a non-finite or non-number reward is refused, showing the value as given", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("num", { ...OPTS, outputBaseDir: dir });
  ex.startEpisode();
  refuses(() => ex.log({ timestep: 0, reward: Number.NaN }), "INVALID_DATA", "must be a finite number, got NaN");
  refuses(() => ex.log({ timestep: 0, reward: Number.POSITIVE_INFINITY }), "INVALID_DATA", "must be a finite number, got Infinity");
  refuses(() => ex.log({ timestep: 0, reward: "a" as never }), "INVALID_DATA", 'must be a finite number, got "a"');
  // a BigInt was a TypeError from JSON.stringify while the message was built
  refuses(() => ex.log({ timestep: 0, reward: 5n as never }), "INVALID_DATA", "must be a finite number, got 5n");
  refuses(() => ex.log({ timestep: 5n as never }), "INVALID_DATA", "timestep must be an integer (a safe integer, |t| < 2^53), got 5n");
  refuses(() => ex.logWeightChange({ timestep: 0, synapseId: 1n as never, oldWeight: 0, newWeight: 1 }), "INVALID_DATA", "logWeightChange(): synapseId 1n is not an integer");
  ex.log({ timestep: 0, reward: 1 });
  await ex.close();
});

test("text and names: NUL, a lone surrogate and names over 4096 UTF-8 bytes are refused with the reason", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("txt", { ...OPTS, outputBaseDir: dir });
  ex.startEpisode();
  refuses(() => ex.logEvent({ timestep: 0, type: "a\u0000b" }), "INVALID_DATA", 'logEvent(): type "a\\u0000b" contains NUL (U+0000), where HDF5 strings end; pass text without it');
  refuses(() => ex.logEvent({ timestep: 0, type: "ab\udc01" }), "INVALID_DATA", 'logEvent(): type "ab\\udc01" contains a lone surrogate (U+DC01) at index 2, which has no UTF-8 form; pass text without it');
  ex.logEvent({ timestep: 0, type: "ok \ud83e\udde0" }); // a surrogate pair is fine
  refuses(() => ex.saveCheckpoint("n\u0000", { x: 1 }), "INVALID_DATA", "checkpoint name", "is not usable as an HDF5 name: it contains NUL (U+0000)");
  refuses(() => ex.saveCheckpoint("\ud800x", { x: 1 }), "INVALID_DATA", "is not usable as an HDF5 name: it contains a lone surrogate (U+D800) at index 0");
  refuses(() => ex.saveCheckpoint("é".repeat(2049), { x: 1 }), "INVALID_DATA", "is not usable as an HDF5 name: it is 4098 bytes");
  ex.saveCheckpoint("é".repeat(2048), { x: 1 }); // 4096 bytes: the limit
  await ex.close();
});

test("network: the neuron count is the first field's length, or the first dimension of an [n, …] array", async (t) => {
  const dir = tempDir(t);
  for (const neurons of [
    { pos: { data: new Float64Array(10), shape: [5, 2] } },
    { ids: [0, 1, 2, 3, 4] },
    { ids: Int32Array.from([0, 1, 2, 3, 4]), pos: { data: new Float64Array(10), shape: [5, 2] } },
  ]) {
    const ex = await DataExporter.create("net", { ...OPTS, outputBaseDir: dir });
    ex.saveNetworkStructure({ neurons } as never);
    ex.startEpisode();
    refuses(() => ex.log({ timestep: 0, spikes: [5] }), "OUT_OF_RANGE", "5");
    ex.log({ timestep: 0, spikes: [4] });
    await ex.close();
  }
});

test("network: a field that is neither an array nor { data, shape } is INVALID_DATA, not a TypeError, wherever it stands", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("net", { ...OPTS, outputBaseDir: dir });
  for (const bad of [null, "x", 5, { data: [1] }, { shape: 3 }]) {
    refuses(() => ex.saveNetworkStructure({ neurons: { a: bad } } as never), "INVALID_DATA");
    refuses(() => ex.saveNetworkStructure({ neurons: { a: bad, ids: [0, 1] } } as never), "INVALID_DATA");
  }
  await ex.close();
});

test("standard layout: spike ids need the neuron count (a network or a mask) first", async (t) => {
  const dir = tempDir(t);
  const ex = await StandardDataExporter.create("std", { ...OPTS, outputBaseDir: dir });
  ex.startEpisode();
  refuses(() => ex.log({ timestep: 0, spikes: [1] }), "INVALID_DATA", "log(): StandardDataExporter stores spikes as a dense [T, N] matrix and needs the neuron count: call saveNetworkStructure() with neurons first, or pass spikes as a 0/1 mask");
  ex.log({ timestep: 0, spikes: Uint8Array.from([0, 1, 0]) }); // a mask gives the count
  ex.log({ timestep: 1, spikes: [2] });
  refuses(() => ex.log({ timestep: 2, spikes: [3] }), "OUT_OF_RANGE");
  await ex.close();
  const ok = await DataExporter.create("opt", { ...OPTS, outputBaseDir: dir });
  ok.startEpisode();
  ok.log({ timestep: 0, spikes: [1] }); // the optimized layout stores ids as they come
  await ok.close();
});

test("spike ids logged before the network: the largest id so far decides (none logged: any size fits)", async (t) => {
  const dir = tempDir(t);
  const a = await DataExporter.create("ids", { ...OPTS, outputBaseDir: dir });
  a.startEpisode();
  a.log({ timestep: 0, spikes: [] as number[] });
  a.log({ timestep: 1, spikes: [0] });
  a.saveNetworkStructure({ neurons: { ids: [0] } }); // 1 neuron: id 0 fits
  await a.close();
  const b = await DataExporter.create("ids", { ...OPTS, outputBaseDir: dir });
  b.startEpisode();
  b.log({ timestep: 0, spikes: [] as number[] });
  b.log({ timestep: 1, spikes: Uint8Array.from([1]) }); // a 1-entry mask: no id was logged before
  await b.close();
  const c = await DataExporter.create("ids", { ...OPTS, outputBaseDir: dir });
  c.startEpisode();
  c.log({ timestep: 0, spikes: [3, 1] });
  refuses(() => c.saveNetworkStructure({ neurons: { ids: [0, 1, 2] } }), "OUT_OF_RANGE", "the network has 3 neurons but spike id 3 was already logged; save a network of at least 4 neurons");
  await c.close();
});

test("options: each option's refusal names it and the value given; an options value that is not an object is refused", () => {
  refuses(() => resolveOptions(null as never), "INVALID_OPTION", "options must be an object (or left out), got null");
  refuses(() => resolveOptions([] as never), "INVALID_OPTION", "options must be an object (or left out), got an array");
  refuses(() => resolveOptions(5 as never), "INVALID_OPTION", "options must be an object (or left out), got number");
  refuses(() => resolveOptions({ startTime: new Date(NaN) }), "INVALID_OPTION", "option startTime must be a valid Date, got an invalid Date");
  refuses(() => resolveOptions({ startTime: "2026-01-01" as never }), "INVALID_OPTION", 'option startTime must be a valid Date, got "2026-01-01"');
  assert.equal(resolveOptions({ startTime: new Date(0) }).outputBaseDir, "experiments");
  refuses(() => resolveOptions({ colour: 1 } as never), "INVALID_OPTION", "unknown option colour; known options: outputBaseDir, neuralSamplingRate, validateData, compression, compressionLevel, chunkSize, enableSwmr, asyncWrite, allowNonFinite, startTime, flushEverySteps, flushIntervalMs, provenance, engine");
  refuses(() => resolveOptions({ compression: "lzf" as never }), "INVALID_OPTION", 'option compression must be "gzip", "none" or null (no compression), got "lzf"');
  assert.equal(resolveOptions({ compression: null as never }).compression, "none");
  assert.equal(resolveOptions({}).compression, "gzip");
  for (const name of ["flushEverySteps", "flushIntervalMs"] as const) {
    refuses(() => resolveOptions({ [name]: -1 }), "INVALID_OPTION", `option ${name} must be a non-negative integer (0 turns it off), got -1`);
    refuses(() => resolveOptions({ [name]: 1.5 }), "INVALID_OPTION", `option ${name} must be a non-negative integer (0 turns it off), got 1.5`);
    refuses(() => resolveOptions({ [name]: "9" as never }), "INVALID_OPTION", `option ${name} must be a non-negative integer (0 turns it off), got "9"`);
    assert.equal(resolveOptions({ [name]: 0 })[name], 0);
  }
  assert.deepEqual([resolveOptions({}).flushEverySteps, resolveOptions({}).flushIntervalMs], [0, 1000], "defaults");
  refuses(() => resolveOptions({ engine: "hdf5" as never }), "INVALID_OPTION", 'option engine must be "ts" or "h5wasm", got "hdf5"');
  refuses(() => resolveOptions({ asyncWrite: true, engine: "h5wasm" }), "INVALID_OPTION", 'option asyncWrite needs engine "ts"; leave engine at its default');
  refuses(() => resolveOptions({ enableSwmr: true, engine: "h5wasm" }), "INVALID_OPTION", 'option enableSwmr needs engine "ts" (h5wasm cannot create groups while in SWMR mode); leave engine at its default');
  assert.equal(resolveOptions({ asyncWrite: true, enableSwmr: true }).engine, "ts");
  assert.equal(resolveOptions({ engine: "h5wasm" }).engine, "h5wasm");
  refuses(() => resolveOptions({ outputBaseDir: "" }), "INVALID_OPTION", "option outputBaseDir must be a non-empty path");
  refuses(() => resolveOptions({ outputBaseDir: 5 as never }), "INVALID_OPTION", "option outputBaseDir must be a non-empty path");
  for (const k of ["validateData", "enableSwmr", "asyncWrite", "allowNonFinite"] as const) {
    refuses(() => resolveOptions({ [k]: "yes" as never }), "INVALID_OPTION", `option ${k} must be true or false, got "yes"`);
    refuses(() => resolveOptions({ [k]: 1 as never }), "INVALID_OPTION", `option ${k} must be true or false, got 1`);
  }
  assert.deepEqual(
    (({ validateData, enableSwmr, asyncWrite, allowNonFinite }) => [validateData, enableSwmr, asyncWrite, allowNonFinite])(resolveOptions({})),
    [true, false, false, false],
    "boolean defaults",
  );
});

test("experiment names: control characters, a leading dot and more than 200 bytes are refused; outputBaseDir must be a directory", (t) => {
  const dir = tempDir(t);
  refuses(() => checkExperimentName("run\u0007"), "INVALID_NAME", 'experiment name "run\\u0007" contains the control character U+0007; use printable characters only');
  refuses(() => checkExperimentName("a\u009fb"), "INVALID_NAME", "contains the control character U+009F");
  refuses(() => checkExperimentName("a\u007f"), "INVALID_NAME", "contains the control character U+007F");
  assert.equal(checkExperimentName("a\u00a0b"), "a\u00a0b", "U+00A0 is printable");
  refuses(() => checkExperimentName(".hidden"), "INVALID_NAME", 'experiment name ".hidden" starts with "."; that would make a hidden directory: start it with another character');
  assert.equal(checkExperimentName("a.b"), "a.b");
  refuses(() => checkExperimentName("é".repeat(101)), "INVALID_NAME", "experiment name is 202 bytes in UTF-8; use at most 200 bytes (the directory name adds a 16-byte date stamp, and file systems allow 255)");
  assert.equal(checkExperimentName("é".repeat(100)), "é".repeat(100), "200 bytes");
  refuses(() => checkExperimentName("  "), "INVALID_NAME", 'experiment name must be a non-empty string, got "  "');
  refuses(() => checkExperimentName("a/b"), "INVALID_NAME", 'experiment name "a/b" may not contain "/", "\\", ".." or NUL');
  refuses(() => checkExperimentName("a..b"), "INVALID_NAME", "may not contain");
  const file = join(dir, "plain-file");
  writeFileSync(file, "x");
  refuses(() => makeExperimentDir(file, "run", new Date(0)), "INVALID_OPTION", `outputBaseDir ${file} exists and is not a directory; pass a directory (it is created when missing)`);
  refuses(() => makeExperimentDir(join(file, "below"), "run", new Date(0)), "IO_ERROR", `cannot create outputBaseDir ${join(file, "below")}: `);
  const made = makeExperimentDir(join(dir, "new", "deeper"), "run", new Date(2026, 11, 6, 7, 8, 9));
  assert.equal(made, join(dir, "new", "deeper", "run_20261206_070809"), "outputBaseDir created when missing");
});

test("exporter calls: each refusal names the call and what it takes, and changes nothing", async (t) => {
  const dir = tempDir(t);
  const ex = await DataExporter.create("calls", { ...OPTS, outputBaseDir: dir });
  refuses(() => ex.saveConfig([] as never), "INVALID_DATA", "saveConfig() takes a plain object of settings");
  refuses(() => ex.saveMetadata("x" as never), "INVALID_DATA", "saveMetadata() takes a plain object");
  refuses(() => ex.saveCodeSnapshot("src" as never), "INVALID_DATA", "saveCodeSnapshot() takes an array of file paths or glob patterns");
  refuses(() => ex.saveCodeSnapshot([5] as never), "INVALID_DATA", "saveCodeSnapshot() takes an array of file paths or glob patterns");
  refuses(() => ex.saveNetworkStructure(null as never), "INVALID_DATA", "saveNetworkStructure() takes { neurons, connections, weights }");
  refuses(() => ex.saveNetworkStructure({ neurons: [1, 2] as never }), "INVALID_DATA", "saveNetworkStructure(): neurons must be a record of arrays");
  refuses(() => ex.saveNetworkStructure({ neurons: { id: [0, 1] }, connections: "x" as never }), "INVALID_DATA", "saveNetworkStructure(): connections must be a record of arrays");
  refuses(() => ex.endEpisode(), "NO_EPISODE", "endEpisode() needs an open episode; call startEpisode() first");
  ex.startEpisode();
  refuses(() => ex.startEpisode(), "EPISODE_OPEN", "startEpisode(): episode 0 is still open; call endEpisode() first");
  ex.log({ timestep: 0, spikes: new Uint8Array(3) });
  refuses(() => ex.saveNetworkStructure({ neurons: { id: [0, 1] } }), "SHAPE_MISMATCH", "saveNetworkStructure(): the network has 2 neurons but the spike masks logged so far had 3 entries; save a network of 3 neurons");
  ex.logStaticEpisodeData("layout", { x: [1, 2] });
  refuses(() => ex.logStaticEpisodeData("layout", { x: [3] }), "ALREADY_EXISTS", 'logStaticEpisodeData(): episode 0 already has "layout"; use a new name');
  refuses(() => ex.endEpisode(5 as never), "INVALID_DATA", "endEpisode() takes { success, summary }");
  refuses(() => ex.endEpisode({ success: "yes" as never }), "INVALID_DATA", 'endEpisode(): success must be true or false, got "yes"');
  ex.endEpisode({ success: true });
  ex.saveNetworkStructure({ neurons: { id: [0, 1, 2] } });
  refuses(() => ex.saveNetworkStructure({ neurons: { id: [0, 1, 2] } }), "ALREADY_EXISTS", "saveNetworkStructure() was already called; the network structure is saved once per experiment");
  await ex.close();
  await ex.close(); // a second close() is a no-op
  refuses(() => ex.saveConfig({}), "CLOSED", "saveConfig() called after close(); create a new DataExporter to write another experiment");
});

test("saveNetworkStructure after spike ids: the network must hold the largest id logged", async (t) => {
  const ex = await DataExporter.create("ids", { ...OPTS, outputBaseDir: tempDir(t) });
  ex.startEpisode();
  ex.log({ timestep: 0, spikes: [4, 1] });
  refuses(() => ex.saveNetworkStructure({ neurons: { id: [0, 1, 2, 3] } }), "OUT_OF_RANGE", "saveNetworkStructure(): the network has 4 neurons but spike id 4 was already logged; save a network of at least 5 neurons");
  ex.saveNetworkStructure({ neurons: { id: [0, 1, 2, 3, 4] } });
  await ex.close();
});

test("log(): every refusal of a step says what was wrong, and the step is not taken", async (t) => {
  const ex = await DataExporter.create("steps", { ...OPTS, outputBaseDir: tempDir(t) });
  ex.startEpisode();
  const v = new Float32Array([0.5, 0.25]);
  refuses(() => ex.log(null as never), "INVALID_DATA", "log() takes an object { timestep, neuralState, spikes, behavior, reward }, got null");
  refuses(() => ex.log(7 as never), "INVALID_DATA", "log() takes an object { timestep, neuralState, spikes, behavior, reward }, got number 7");
  refuses(() => ex.log({ timestep: 0, neuralState: [v] as never }), "INVALID_DATA", "log(): neuralState must be a plain object of named arrays ({ v: Float32Array, ... }), got an array of length 1");
  refuses(() => ex.log({ timestep: 0, neuralState: { timesteps: v } }), "INVALID_DATA", 'log(): neural state variable name "timesteps" is reserved by the file format (/neural_states/timesteps); rename the variable');
  refuses(() => ex.log({ timestep: 0, neuralState: { v: new Float32Array(0) } }), "INVALID_DATA", 'log(): neural state variable "v" is empty; pass one value per neuron');
  refuses(() => ex.log({ timestep: 0, spikes: [true, 1] as never }), "INVALID_DATA", "log(): spike mask entry 1 is number 1; a boolean[] mask holds only true and false (ids: pass numbers only)");
  refuses(() => ex.log({ timestep: 0, spikes: new Float32Array(2) as never }), "INVALID_DATA", "log(): spikes must be a 0/1 mask (Uint8Array, boolean[]) or neuron ids (Int32Array, Uint32Array, Uint16Array, number[]), got a float32 TypedArray");
  refuses(() => ex.log({ timestep: 0, spikes: [1.5] }), "INVALID_DATA", "log(): spike id 1.5 at index 0 is not an integer; spike ids are integers 0 <= id < 2^32");
  refuses(() => ex.log({ timestep: 0, spikes: [0, "2"] as never }), "INVALID_DATA", 'log(): spike id string 2 at index 1 is not an integer; spike ids are integers 0 <= id < 2^32');
  refuses(() => ex.log({ timestep: 0, spikes: [-1] }), "OUT_OF_RANGE", "log(): spike id -1 at index 0 is not a non-negative integer; spike ids are integers 0 <= id < 2^32");
  refuses(() => ex.log({ timestep: 0, spikes: [2 ** 32] }), "OUT_OF_RANGE", "log(): spike id 4294967296 at index 0 is not below 2^32 (the neuron count is not known yet); spike ids are integers 0 <= id < 2^32");
  refuses(() => ex.log({ timestep: 0, spikes: [3, 3] }), "INVALID_DATA", "log(): neuron 3 is listed twice in this step's spikes; list each spiking neuron once");
  refuses(() => ex.log({ timestep: 0, behavior: [1] as never }), "INVALID_DATA", "log(): behavior must be a plain object of named numbers or small arrays, got an array of length 1");
  refuses(() => ex.log({ timestep: 0, behavior: { x: Infinity } }), "INVALID_DATA", 'log(): behavior "x" is Infinity; pass finite numbers');
  refuses(() => ex.log({ timestep: 0, behavior: { pos: [0.5, NaN] } }), "INVALID_DATA", 'log(): behavior "pos" has NaN at index 1; pass finite numbers');
  refuses(() => ex.log({ timestep: 0, behavior: { pos: [] } }), "SHAPE_MISMATCH", 'log(): behavior "pos" must be a number or a non-empty 1-D array, got shape [0]');
  refuses(() => ex.log({ timestep: 0, behavior: { pos: [[1, 2]] as never } }), "SHAPE_MISMATCH", 'log(): behavior "pos" must be a number or a non-empty 1-D array, got shape [1,2]');
  // nothing refused above was taken: the first step is still timestep 0
  ex.log({ timestep: 0, neuralState: { v }, spikes: [true, false], behavior: { x: 1, pos: new Float64Array([1, 2]), action: new Int32Array([3]) } });
  refuses(() => ex.log({ timestep: 0 }), "TIMESTEP_ORDER", "log(): timestep 0 is not after the previous timestep 0; timesteps must increase within an episode");
  refuses(() => ex.log({ timestep: 1, neuralState: { v: new Float32Array(3) } }), "SHAPE_MISMATCH", 'log(): neural state variable "v" has shape [3] but had [2] at earlier steps; a variable\'s shape is fixed for the experiment after its first step');
  refuses(() => ex.log({ timestep: 1, neuralState: { v: new Float64Array(2) } }), "INVALID_DATA", 'log(): neural state variable "v" is float64 but was float32 at earlier steps; pass the same dtype every step');
  refuses(() => ex.log({ timestep: 1, spikes: [true, false, true] }), "SHAPE_MISMATCH", "log(): spike mask has 3 entries but the network has 2 neurons; pass one entry per neuron");
  refuses(() => ex.log({ timestep: 1, spikes: [2] }), "OUT_OF_RANGE", "log(): spike id 2 at index 0 is not below the neuron count 2; spike ids are integers 0 <= id < 2");
  refuses(() => ex.log({ timestep: 1, behavior: { action: new Int32Array([1]), pos: 3 } }), "SHAPE_MISMATCH", 'log(): behavior "pos" was an array of 2 values at earlier steps, now a number');
  refuses(() => ex.log({ timestep: 1, behavior: { action: new Int32Array([1]), pos: [1, 2, 3] } }), "SHAPE_MISMATCH", 'log(): behavior "pos" has 3 values but had 2 at earlier steps');
  refuses(() => ex.log({ timestep: 1, behavior: { action: new Int32Array([1]), x: [1, 2] } }), "SHAPE_MISMATCH", 'log(): behavior "x" has 2 values but had a single number at earlier steps');
  refuses(() => ex.log({ timestep: 1, behavior: { action: new Int32Array([1]), pos: new Float32Array([1, 2]) } }), "INVALID_DATA", 'log(): behavior "pos" is float32 but was float64 at earlier steps; pass the same dtype every step');
  refuses(() => ex.log({ timestep: 1, behavior: { x: 2 } }), "INVALID_DATA", 'log(): integer behavior "action" is missing at this step; once logged, an integer key must be given at every step (float keys may be left out and become NaN)');
  refuses(() => ex.log({ timestep: 1, behavior: { action: new Int32Array([1]), late: new Int16Array([1]) } }), "INVALID_DATA", 'log(): integer behavior "late" first appears after the episode\'s first step; integer keys must be present from an episode\'s first step');
  refuses(() => ex.log({ timestep: 1, behavior: { action: new Int32Array([1]), x: -Infinity } }), "INVALID_DATA", 'log(): behavior "x" is -Infinity; pass finite numbers');
  // float keys may be left out or appear late
  ex.log({ timestep: 1, behavior: { action: new Int32Array([2]), late: 0.5 } });
  ex.endEpisode();
  await ex.close();
});

test("log(): a neural state variable over 256 MiB in one step is refused before it is copied", async (t) => {
  const ex = await DataExporter.create("big", { ...OPTS, outputBaseDir: tempDir(t) });
  ex.startEpisode();
  const big = new Float64Array(2 ** 25 + 1); // 256 MiB + 8 bytes
  refuses(() => ex.log({ timestep: 0, neuralState: { v: big } }), "OUT_OF_RANGE", 'log(): neural state variable "v" has 33554433 elements (256.0 MiB) at one step; a row may hold at most 256 MiB (268435456 bytes): log it in parts or save it with saveCheckpoint()');
  refuses(() => ex.log({ timestep: 0, behavior: { wide: big } }), "OUT_OF_RANGE", 'log(): behavior "wide" has 33554433 elements (256.0 MiB) at one step');
  ex.log({ timestep: 0, neuralState: { v: big.subarray(0, 4) } }); // nothing of the refused steps was taken
  ex.endEpisode();
  await ex.close();
});

test("entries and network records: 0-d arrays, empty inner dimensions, fields of different lengths and non-array fields are refused", async (t) => {
  const ex = await DataExporter.create("records", { ...OPTS, outputBaseDir: tempDir(t) });
  ex.startEpisode();
  refuses(() => ex.logStaticEpisodeData("b", { data: new Float32Array(1), shape: [] }), "INVALID_DATA", 'logStaticEpisodeData("b"): shape [] (a 0-d array) is not stored as an array; give it shape [1], or pass the number itself (stored as JSON)');
  refuses(() => ex.logStaticEpisodeData("c", { data: new Float32Array(0), shape: [2, 0] }), "INVALID_DATA", 'logStaticEpisodeData("c") has shape [2,0]: only the first dimension may be 0 (an HDF5 chunked dataset needs rows of at least one element)');
  refuses(() => ex.logStaticEpisodeData("d", ["a", "b\u0000"]), "INVALID_DATA", 'logStaticEpisodeData("d")[1]');
  ex.logStaticEpisodeData("empty-rows", { data: new Float32Array(0), shape: [0, 2] });
  ex.logStaticEpisodeData("names", ["a", "b"]);
  ex.endEpisode();
  refuses(() => ex.saveNetworkStructure({ neurons: { x: [1, 2, 3], y: ["a", "b"] } }), "SHAPE_MISMATCH", "neurons.y has 2 entries but neurons.x has 3; every field holds one entry per item");
  refuses(() => ex.saveNetworkStructure({ neurons: { x: [1, 2], y: 5 as never } }), "INVALID_DATA", "neurons.y must be an array with one entry per item (a TypedArray, numbers, booleans, nested rows, { data, shape } or strings), got number 5");
  refuses(() => ex.saveNetworkStructure({ connections: { w: { sourceIds: [0], targetIds: [1], values: [0.5], shape: [2, 2] } as never } }), "INVALID_DATA", "connections.w must be an array with one entry per item");
  refuses(() => ex.saveNetworkStructure({ neurons: { x: { a: 1 } as never } }), "INVALID_DATA", "neurons.x must be an array with one entry per item", "got an object");
  ex.saveNetworkStructure({ neurons: { x: [1, 2], y: ["a", "b"], skipped: undefined as never, grid: [[1, 2], [3, 4]], on: [true, false] } });
  await ex.close();
});

test("unknown keys of a step or an event, names shown cut at 80 characters, events and weight-change ids refused with the call's name", async (t) => {
  const ex = await DataExporter.create("keys", { ...OPTS, outputBaseDir: tempDir(t) });
  ex.startEpisode();
  refuses(() => ex.log({ timestep: 0, behaviour: { x: 1 } } as never), "INVALID_DATA", 'log(): unknown key "behaviour"; the keys are timestep, neuralState, spikes, behavior, reward (check the spelling)');
  refuses(() => ex.log({ timestep: 0, reward: 1, neural_state: {} } as never), "INVALID_DATA", 'log(): unknown key "neural_state"; the keys are timestep, neuralState, spikes, behavior, reward (check the spelling)');
  ex.log({ timestep: 0, neuralState: { v: new Float32Array(1) }, spikes: [0], behavior: { x: 1 }, reward: 1 }); // every known key is accepted
  refuses(() => ex.logEvent(null as never), "INVALID_DATA", "logEvent() takes { timestep, type, data }");
  refuses(() => ex.logEvent({ timestep: 1, type: "a", colour: 1 } as never), "INVALID_DATA", 'logEvent(): unknown key "colour"; the keys are timestep, type, data (check the spelling)');
  refuses(() => ex.logEvent({ timestep: 1, type: "" }), "INVALID_DATA", 'logEvent(): type must be a non-empty string, got ""');
  refuses(() => ex.logEvent({ timestep: 1, type: 5 as never }), "INVALID_DATA", "logEvent(): type must be a non-empty string, got 5");
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  refuses(() => ex.logEvent({ timestep: 1, type: "a", data: loop }), "INVALID_DATA", "logEvent(): data");
  const long = "n".repeat(81) + "\u0000";
  refuses(() => ex.logStaticEpisodeData(long, [1]), "INVALID_DATA", `static episode data name "${"n".repeat(80)}…" is not usable as an HDF5 name: it `);
  const edge = "m".repeat(79) + "\u0000";
  refuses(() => ex.logStaticEpisodeData(edge, [1]), "INVALID_DATA", `static episode data name ${JSON.stringify(edge)} is not usable as an HDF5 name: it `);
  refuses(() => ex.logStaticEpisodeData("", [1]), "INVALID_DATA", 'static episode data name "" is not usable as an HDF5 name: use a non-empty name without "/" (and not "." or "..")');
  for (const [id, code, message] of [
    ["3", "INVALID_DATA", 'logWeightChange(): synapseId "3" is not an integer; ids are integers from 0'],
    [1.5, "INVALID_DATA", "logWeightChange(): synapseId 1.5 is not an integer; ids are integers from 0"],
    [-1, "OUT_OF_RANGE", "logWeightChange(): synapseId -1 is not a non-negative integer"],
    [2 ** 53, "OUT_OF_RANGE", `logWeightChange(): synapseId ${2 ** 53} is not below 2^53`],
  ] as const) {
    refuses(() => ex.logWeightChange({ timestep: 1, synapseId: id as never, oldWeight: 0, newWeight: 1 }), code, message);
  }
  ex.logWeightChange({ timestep: 1, synapseId: 0, oldWeight: 0, newWeight: 1 });
  ex.logEvent({ timestep: 1, type: "a" });
  ex.endEpisode();
  await ex.close();
});

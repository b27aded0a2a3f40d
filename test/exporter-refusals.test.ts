/**
 * The exporter's refusals and input rules, each with the error code and the message FORMAT.md /
 * the API documentation give for it, and a few facts of the accepted input that need no reader:
 * the neuron count taken from a network's first field, the directory name chosen next to an
 * existing entry. Fast (no Python): it is part of the exporter's mutation-testing command
 * (stryker.config.mjs) as well as of `npm test`.
 */
import assert from "node:assert/strict";
import { readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DataExporter, StandardDataExporter, isSnnExportError, type ErrorCode } from "#lib/index.js";
import { makeExperimentDir, resolveOptions } from "#lib/exporter/options.js";
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

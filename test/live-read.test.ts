/**
 * How the TypeScript reader reads a file that may be being written: every read records the byte
 * ranges it took from the file and counts only when they all still hold the same bytes at its end
 * (ReadJournal). A file whose times change without pause (a writer flushing every few steps) is
 * read as long as the bytes a read used hold still; a change of a byte a read used is seen.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, copyFileSync, openSync, readFileSync, readSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { DataExporter, ExperimentLoader } from "#lib/index.js";
import { ReadJournal } from "#lib/h5/ts/read-io.js";
import { TsReader } from "#lib/h5/ts/reader.js";
import { H5Reader } from "#lib/h5/reader.js";
import { createWriter } from "#lib/h5/index.js";
import { rng, tempDir } from "./helpers.js";

async function smallExperiment(dir: string, seed = 11): Promise<string> {
  const rand = rng(seed);
  const ex = await DataExporter.create("live", { outputBaseDir: dir, provenance: false, chunkSize: 16 });
  for (let e = 0; e < 12 + (seed % 7); e++) {
    ex.startEpisode();
    for (let t = 0; t < 40 + e; t++) {
      ex.log({ timestep: t, spikes: Uint8Array.from({ length: 10 }, () => (rand() < 0.3 ? 1 : 0)), neuralState: { v: Float32Array.from({ length: 10 }, rand) }, reward: rand() });
    }
    ex.endEpisode({ success: e % 2 === 0 });
  }
  await ex.close();
  return ex.filePath;
}

/** Everything a reader of the experiment sees, as plain values. */
function contents(loader: ExperimentLoader): unknown {
  const table = loader.episodes();
  return {
    table: JSON.parse(JSON.stringify(table, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as number[]) : v))),
    episodes: Array.from(table.ids, (id) => {
      const ep = loader.getEpisode(Number(id));
      const spikes = ep.getSpikes();
      return { spikes: JSON.stringify(spikes, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as number[]) : typeof v === "bigint" ? Number(v) : v)) };
    }),
  };
}

/**
 * A thread that, until stopped, writes the file's last 4 KiB back over themselves every 0.2 ms:
 * the file's change times move all the time (it never holds still for 20 ms), its bytes never.
 */
async function toucher(file: string): Promise<{ stop: () => Promise<void> }> {
  const size = statSync(file).size;
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { workerData, parentPort } = require("node:worker_threads");
     const fs = require("node:fs");
     const { file, at, len, flag } = workerData;
     const fd = fs.openSync(file, "r+");
     const buf = Buffer.alloc(len);
     fs.readSync(fd, buf, 0, len, at);
     const nap = new Int32Array(new SharedArrayBuffer(4));
     fs.writeSync(fd, buf, 0, len, at);
     parentPort.postMessage("writing");
     while (Atomics.load(flag, 0) === 0) { fs.writeSync(fd, buf, 0, len, at); Atomics.wait(nap, 0, 0, 0.2); }
     fs.closeSync(fd);`,
    { eval: true, workerData: { file, at: Math.max(0, size - 4096), len: Math.min(4096, size), flag: stopFlag } },
  );
  await new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  return {
    stop: () => {
      Atomics.store(stopFlag, 0, 1);
      return new Promise((resolve) => worker.once("exit", () => resolve()));
    },
  };
}

test("a file whose times change without pause is read (live and plain) with exactly its data: reads check the bytes they used, not the file's times", async (t) => {
  const dir = tempDir(t);
  const file = await smallExperiment(dir);
  const plain = await ExperimentLoader.open(file);
  const expected = contents(plain);
  plain.close();

  const touch = await toucher(file);
  try {
    // the times move: a reader that waited for the file to hold still would wait in vain
    const a = statSync(file, { bigint: true }).mtimeNs;
    await new Promise((r) => setTimeout(r, 30));
    assert.notEqual(statSync(file, { bigint: true }).mtimeNs, a, "the toucher thread does not change the file's times");
    for (const live of [true, false]) {
      const loader = await ExperimentLoader.open(file, { live });
      try {
        assert.deepEqual(contents(loader), expected, `live: ${live}`);
      } finally {
        loader.close();
      }
    }
    // the reader itself, every read checked (as until the loader sees the status closed)
    const r = await H5Reader.open(file);
    try {
      assert.equal(r.engine, "ts");
      for (let i = 0; i < 20; i++) assert.equal(r.kind("/episodes"), "group");
    } finally {
      r.close();
    }
  } finally {
    await touch.stop();
  }
});

test("ReadJournal: a range read that changed afterwards, or a file cut short, is seen; the same bytes written again are not a change", async (t) => {
  const dir = tempDir(t);
  const file = await smallExperiment(dir);
  const journal = new ReadJournal();
  const reader = new TsReader(file, journal);
  try {
    reader.keys("/episodes");
    reader.attrs("/");
  } finally {
    reader.setJournal(null);
    reader.close();
  }
  assert.ok(journal.size >= 2, `ranges recorded: ${journal.size}`);
  assert.equal(journal.unchanged(file), true);
  // flip a byte of the superblock's checksum (the first range read), then put it back
  const fd = openSync(file, "r+");
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, 44);
    writeSync(fd, Buffer.from([b[0] ^ 0xff]), 0, 1, 44);
    assert.equal(journal.unchanged(file), false, "a changed byte is not seen");
    writeSync(fd, b, 0, 1, 44);
    assert.equal(journal.unchanged(file), true, "the same bytes written back count as a change");
  } finally {
    closeSync(fd);
  }
  // a reader that stops recording records nothing more
  const quiet = new ReadJournal();
  const r2 = new TsReader(file, quiet);
  const n = quiet.size;
  r2.setJournal(null);
  r2.keys("/episodes/episode_0");
  r2.close();
  assert.equal(quiet.size, n);
  assert.equal(new ReadJournal().unchanged(`${file}.missing`), false, "a file that cannot be opened counts as changed");
  // cut short: the ranges past the new end cannot be read again
  const copy = `${file}.copy`;
  copyFileSync(file, copy);
  try {
    const j = new ReadJournal();
    const r3 = new TsReader(copy, j);
    r3.readRows("/episodes/total_reward", 0, 100);
    r3.close();
    assert.equal(j.unchanged(copy), true);
    truncateSync(copy, 100);
    assert.equal(j.unchanged(copy), false, "a truncated file is not seen");
  } finally {
    rmSync(copy, { force: true });
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("state kept from a settled moment is not used when the file changes during the read: the read is made again from the superblock", async (t) => {
  const dir = tempDir(t);
  const a = await smallExperiment(join(dir, "a"), 11);
  const b = await smallExperiment(join(dir, "b"), 12);
  const column = "/episodes/total_reward";
  const wanted = await H5Reader.open(b).then((r) => {
    try {
      return Array.from(r.readRows(column, 0, 1e9) as Float64Array);
    } finally {
      r.close();
    }
  });
  const bytesB = readFileSync(b);
  await sleep(40); // a's last write is 20 ms old or more: what the reader reads next is kept
  const r = await H5Reader.open(a);
  try {
    const before = Array.from(r.readRows(column, 0, 1e9) as Float64Array);
    assert.notDeepEqual(before, wanted);
    let runs = 0;
    // the "writer" replaces the file between the stamp the read starts with and its reads
    const got = r.together(() => {
      if (++runs === 1) writeFileSync(a, bytesB);
      return Array.from(r.readRows(column, 0, 1e9) as Float64Array);
    });
    assert.deepEqual(got, wanted);
    assert.equal(runs, 2, "the read was not made again");
  } finally {
    r.close();
  }
});

test("a range a read used that changes before the read ends makes it be read again (the file's times not consulted)", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "plain.h5");
  const w = await createWriter(file, "ts");
  const values = Float64Array.from({ length: 64 }, (_, i) => 1000.125 + i);
  w.writeArray("/d", values, [64], { compression: "none" } as never);
  w.close();
  const r = await H5Reader.open(file);
  try {
    r.refresh("/"); // the view is read afresh at the next read: only the recorded ranges can show a change
    let runs = 0;
    const got = r.together(() => {
      const v = Array.from(r.readRows("/d", 0, 64) as Float64Array);
      if (++runs === 1) {
        // change element 5 in place, after it was read
        const bytes = readFileSync(file);
        const at = bytes.indexOf(Buffer.from(new Float64Array([1005.125]).buffer));
        assert.ok(at > 0);
        const fd = openSync(file, "r+");
        writeSync(fd, Buffer.from(new Float64Array([-7.5]).buffer), 0, 8, at);
        closeSync(fd);
      }
      return v;
    });
    assert.equal(runs, 2, "the read was not made again");
    assert.equal(got[5], -7.5);
    assert.deepEqual(got.filter((_, i) => i !== 5), Array.from(values).filter((_, i) => i !== 5));
  } finally {
    r.close();
  }
});

test("together: reads that the file changes under on every attempt are made one by one after a while, each checked on its own", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "plain.h5");
  const w = await createWriter(file, "ts");
  const values = Float64Array.from({ length: 16 }, (_, i) => 2000.25 + i);
  w.writeArray("/d", values, [16], { compression: "none" } as never);
  w.close();
  const at = readFileSync(file).indexOf(Buffer.from(new Float64Array([2003.25]).buffer));
  assert.ok(at > 0);
  const r = await H5Reader.open(file);
  try {
    r.refresh("/");
    let runs = 0;
    const started = Date.now();
    const got = r.together(() => {
      const v = Array.from(r.readRows("/d", 0, 16) as Float64Array);
      // every run changes element 3 after reading it: no run as a whole sees one moment
      runs++;
      const fd = openSync(file, "r+");
      writeSync(fd, Buffer.from(new Float64Array([-runs]).buffer), 0, 8, at);
      closeSync(fd);
      return v;
    });
    assert.ok(runs > 2, `runs: ${runs}`);
    assert.ok(Date.now() - started >= 200, "gave up on reading as one too soon");
    // the last run's read was checked alone: it holds what the run before it wrote
    assert.equal(got[3], -(runs - 1));
    assert.deepEqual(got.filter((_, i) => i !== 3), Array.from(values).filter((_, i) => i !== 3));
  } finally {
    r.close();
  }
});

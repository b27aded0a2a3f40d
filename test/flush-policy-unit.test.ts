/**
 * The flush policy (src/exporter/flush-policy.ts) on its own, with a stand-in writer and node:test's
 * mocked timers: when a step says a flush is due, when an episode end flushes at once, by a timer,
 * or owes the flush to compression still running. No real waiting except where the policy reads the
 * clock itself (`performance.now()`), and then only a few milliseconds. Fast: part of the exporter's
 * mutation-testing command.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { FlushPolicy } from "#lib/exporter/flush-policy.js";
import type { Writer } from "#lib/h5/index.js";

/** A writer whose compression is busy until `idle` is set; counts its flushes. */
function fakeWriter() {
  const w = {
    idle: false,
    flushes: 0,
    idleFlushes: 0,
    flush() {
      w.flushes++;
    },
    flushIfIdle() {
      if (!w.idle) return false;
      w.idleFlushes++;
      return true;
    },
  };
  return w;
}

/** Steps logged until `stepLogged()` says a flush is due (at most `max`). */
function stepsUntilDue(p: FlushPolicy, max = 5000): number {
  for (let i = 1; i <= max; i++) if (p.stepLogged()) return i;
  return -1;
}

const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

function mockTimers(t: TestContext): void {
  t.mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  t.after(() => t.mock.timers.reset());
}

test("flush policy: flushEverySteps is due at exactly that step, checked at most every 256 steps otherwise", () => {
  for (const every of [1, 5, 255, 256, 257, 1000, 1300]) {
    const p = new FlushPolicy({ flushEverySteps: every, flushIntervalMs: 0 }, () => {});
    assert.equal(stepsUntilDue(p), every, `every ${every}`);
    p.flushed();
    assert.equal(stepsUntilDue(p), every, `every ${every}, after a flush`);
    // no flush taken: due again at the very next step
    assert.equal(stepsUntilDue(p), 1, `every ${every}, flush not taken`);
  }
  const never = new FlushPolicy({ flushEverySteps: 0, flushIntervalMs: 0 }, () => {});
  assert.equal(stepsUntilDue(never, 3000), -1, "neither steps nor time: never due from logging");
});

test("flush policy: flushIntervalMs makes a step due once the interval has passed, checked every 256 steps", () => {
  const p = new FlushPolicy({ flushEverySteps: 0, flushIntervalMs: 50 }, () => {});
  spin(55);
  assert.equal(stepsUntilDue(p), 256, "checked at step 256");
  p.flushed();
  const t0 = performance.now();
  const due = stepsUntilDue(p, 256);
  // (only when those steps took less than the interval: a preempted test process proves nothing)
  if (performance.now() - t0 < 50) assert.equal(due, -1, "a flush restarts the clock");
  const both = new FlushPolicy({ flushEverySteps: 1000, flushIntervalMs: 3 }, () => {});
  spin(4);
  assert.equal(stepsUntilDue(both), 256, "with flushEverySteps too, the clock is read at step 256");
});

test("flush policy: an episode end flushes at once with flushIntervalMs 0, when the interval has passed, or when steps are due", () => {
  let flushes = 0;
  const zero = new FlushPolicy({ flushEverySteps: 0, flushIntervalMs: 0 }, () => flushes++);
  zero.episodeEnded();
  zero.episodeEnded();
  assert.equal(flushes, 2);
  flushes = 0;
  const short = new FlushPolicy({ flushEverySteps: 0, flushIntervalMs: 2 }, () => flushes++);
  spin(3);
  short.episodeEnded();
  assert.equal(flushes, 1, "the interval has passed");
  short.stop();
  flushes = 0;
  const steps = new FlushPolicy({ flushEverySteps: 3, flushIntervalMs: 600_000 }, () => flushes++);
  steps.stepLogged();
  steps.stepLogged();
  steps.episodeEnded();
  assert.equal(flushes, 0, "2 of 3 steps: not due");
  steps.stop();
  steps.stepLogged();
  steps.stepLogged();
  steps.stepLogged();
  steps.episodeEnded();
  assert.equal(flushes, 1, "3 of 3 steps: due");
  steps.stop();
});

test("flush policy: an episode end within the interval is flushed by one timer when the interval ends", (t) => {
  mockTimers(t);
  let flushes = 0;
  const p = new FlushPolicy({ flushEverySteps: 0, flushIntervalMs: 60_000 }, () => flushes++);
  p.episodeEnded();
  p.episodeEnded();
  assert.equal(flushes, 0);
  t.mock.timers.tick(59_000);
  assert.equal(flushes, 0);
  t.mock.timers.tick(1_001);
  assert.equal(flushes, 1, "one timer for both episode ends");
  t.mock.timers.tick(120_000);
  assert.equal(flushes, 1);
  // a flush in between cancels the timer
  p.episodeEnded();
  p.flushed();
  t.mock.timers.tick(120_000);
  assert.equal(flushes, 1);
  // a failing flush from the timer is kept by the writer, not thrown from the timer
  const failing = new FlushPolicy({ flushEverySteps: 0, flushIntervalMs: 60_000 }, () => {
    flushes++;
    throw new Error("disk full");
  });
  failing.episodeEnded();
  t.mock.timers.tick(60_001);
  assert.equal(flushes, 2);
});

test("flush policy: an episode-end flush waits for compression (owed), paid when idle or when overdue; an episode ended meanwhile gets its own", (t) => {
  mockTimers(t);
  const w = fakeWriter();
  let episodeFlushes = 0;
  const p = new FlushPolicy({ flushEverySteps: 0, flushIntervalMs: 60_000 }, () => episodeFlushes++);
  w.idle = true;
  p.flushWhenIdle(w as unknown as Writer);
  assert.deepEqual([w.idleFlushes, p.owed], [1, false], "idle: flushed at once");
  w.idle = false;
  p.flushWhenIdle(w as unknown as Writer);
  assert.equal(p.owed, true, "busy: owed");
  assert.equal(p.stepLogged() || stepsUntilDue(p, 300) > 0, true, "an owed flush makes the next check due");
  p.episodeEnded(); // ended while the flush is owed: no flush of its own yet
  assert.equal(episodeFlushes, 0);
  t.mock.timers.tick(2);
  assert.deepEqual([w.idleFlushes, w.flushes, p.owed], [1, 0, true], "still busy: still owed");
  w.idle = true;
  t.mock.timers.tick(2);
  assert.deepEqual([w.idleFlushes, p.owed], [2, false], "paid by the 2 ms check once idle");
  // the episode that ended while owed is flushed within one more interval
  assert.equal(episodeFlushes, 0);
  t.mock.timers.tick(60_001);
  assert.equal(episodeFlushes, 1);
  t.mock.timers.tick(10);
  assert.equal(w.idleFlushes, 2, "the 2 ms check stopped once paid");

  // overdue: paid with a full flush after flushIntervalMs even while compression runs
  const w2 = fakeWriter();
  const q = new FlushPolicy({ flushEverySteps: 0, flushIntervalMs: 50 }, () => {});
  const t0 = performance.now();
  q.flushWhenIdle(w2 as unknown as Writer);
  q.payOwed(w2 as unknown as Writer);
  if (performance.now() - t0 < 50) assert.deepEqual([w2.flushes, q.owed], [0, true], "not overdue yet");
  spin(55);
  q.payOwed(w2 as unknown as Writer);
  assert.deepEqual([w2.flushes, q.owed], [1, false], "overdue: flushed");
  q.payOwed(w2 as unknown as Writer);
  assert.equal(w2.flushes, 1, "nothing owed: nothing done");
  q.stop();

  // a writer that fails while the flush is owed: the failure stays with the writer (raised at its
  // next call), the debt is dropped and the 2 ms check stops
  let calls = 0;
  const broken = {
    flush() {},
    flushIfIdle() {
      calls++;
      if (calls > 1) throw new Error("disk full");
      return false;
    },
  };
  const r = new FlushPolicy({ flushEverySteps: 0, flushIntervalMs: 60_000 }, () => {});
  r.flushWhenIdle(broken as unknown as Writer);
  assert.equal(r.owed, true);
  t.mock.timers.tick(2);
  assert.deepEqual([calls, r.owed], [2, false]);
  t.mock.timers.tick(20);
  assert.equal(calls, 2, "no more checks");
});

/**
 * When the exporter flushes. Everything logged becomes durable within one flush interval:
 * - while logging: every `flushEverySteps` steps, or when `flushIntervalMs` has passed (checked every 256 steps);
 * - at an episode's end: at once when the last flush is older than `flushIntervalMs` (every episode
 *   end when that is 0), else by a timer (for a process that pauses after the episode) or the next
 *   check of `log()`. Thousands of short episodes a second therefore cost one flush a second, not
 *   one each.
 * An episode-end flush does not wait for compression still running on other threads: it is owed
 * until the queue is found empty (checks of `log()`, a 2 ms timer while the event loop is free), a
 * later flush, or at the latest after `flushIntervalMs` (1000 ms when that is 0).
 */
import type { Writer } from "../h5/index.js";

const OWED_MAX_MS = 1000;

export interface FlushSettings {
  flushEverySteps: number;
  flushIntervalMs: number;
}

export class FlushPolicy {
  private sinceFlush = 0;
  private checkAt: number;
  private last = performance.now();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private owedTimer: ReturnType<typeof setInterval> | null = null;
  private owedSince = 0;
  /** An episode-end flush is waiting for compression to finish. */
  owed = false;
  /** An episode ended after the owed flush took the streams: it needs a flush of its own once that one is paid. */
  private endedWhileOwed = false;

  /** `flushEpisodes` is called when an episode end's flush is due (now, or later by the timer). */
  constructor(private readonly settings: FlushSettings, private readonly flushEpisodes: () => void) {
    this.checkAt = this.firstCheck();
  }

  private firstCheck(): number {
    const every = this.settings.flushEverySteps;
    return every > 0 ? Math.min(256, every) : 256;
  }

  /** After each logged step: true when a flush is due. */
  stepLogged(): boolean {
    if (++this.sinceFlush < this.checkAt) return false;
    const every = this.settings.flushEverySteps;
    this.checkAt = this.sinceFlush + (every > 0 ? Math.max(1, Math.min(256, every - this.sinceFlush)) : 256);
    return this.owed || this.due();
  }

  private due(): boolean {
    const { flushEverySteps, flushIntervalMs } = this.settings;
    if (flushEverySteps > 0 && this.sinceFlush >= flushEverySteps) return true;
    return flushIntervalMs > 0 && performance.now() - this.last >= flushIntervalMs;
  }

  /** An episode ended: flush now if due, else make sure a flush comes within the interval. */
  episodeEnded(): void {
    // a flush is already owed: it makes this episode durable too (handing the streams' partial
    // chunks to the writer again at every episode end while compression runs cost tens of MB of
    // superseded chunks a second)
    if (this.owed) {
      this.endedWhileOwed = true;
      return;
    }
    const interval = this.settings.flushIntervalMs;
    const wait = interval - (performance.now() - this.last);
    if (interval === 0 || wait <= 0 || this.due()) return this.flushEpisodes();
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.flushEpisodes();
      } catch {
        // the writer keeps its failure and raises it at the next call
      }
    }, Math.ceil(wait));
    this.timer.unref();
  }

  /** Flushes `w` unless compression is still running; then the flush is owed (see the module comment). */
  flushWhenIdle(w: Writer): void {
    if (w.flushIfIdle()) return this.flushed();
    if (!this.owed) this.owedSince = performance.now();
    this.owed = true;
    this.clearTimer();
    if (this.owedTimer === null) {
      this.owedTimer = setInterval(() => {
        try {
          this.payOwed(w);
        } catch {
          this.flushed(); // the writer keeps its failure and raises it at the next call
        }
      }, 2);
      this.owedTimer.unref();
    }
  }

  /** Completes an owed flush if the compression it waits for is done, or once it is overdue. */
  payOwed(w: Writer): void {
    if (!this.owed) return;
    if (!w.flushIfIdle()) {
      if (performance.now() - this.owedSince < (this.settings.flushIntervalMs || OWED_MAX_MS)) return;
      w.flush();
    }
    const again = this.endedWhileOwed;
    this.flushed();
    if (again) this.episodeEnded(); // within one more interval, like any episode end
  }

  /** Every flush settles an owed one and restarts the clocks (steps and time). */
  flushed(): void {
    this.sinceFlush = 0;
    this.checkAt = this.firstCheck();
    this.last = performance.now();
    this.owed = false;
    this.endedWhileOwed = false;
    this.clearTimer();
    if (this.owedTimer !== null) {
      clearInterval(this.owedTimer);
      this.owedTimer = null;
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** No more flushes (close). */
  stop(): void {
    this.flushed();
  }
}

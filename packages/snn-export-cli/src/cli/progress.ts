/**
 * Per-episode progress for the CLI.
 *
 * On a TTY: one bar line redrawn in place (`\r` + clear line), replaced by a summary line when
 * the episode ends. Elsewhere (pipes, CI logs): no bar, just the summary line per episode.
 */
import { formatInt, type Style } from "./format.js";

export interface ProgressTarget {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** `[████████░░░░░░░░]` of `width` cells, with eighth-blocks for the partial cell. */
export function renderBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const eighths = Math.round(f * width * 8);
  const full = Math.floor(eighths / 8);
  const rest = eighths % 8;
  const partial = rest > 0 ? " ▏▎▍▌▋▊▉"[rest] : "";
  return "█".repeat(full) + partial + "░".repeat(width - full - (partial ? 1 : 0));
}

export class EpisodeProgress {
  private readonly out: ProgressTarget;
  private readonly style: Style;
  private readonly episodes: number;
  private readonly tty: boolean;
  private lastDrawn = "";
  private barVisible = false;

  /** `tty` decides between the redrawn bar and plain lines. */
  constructor(out: ProgressTarget, opts: { episodes: number; style: Style; tty: boolean }) {
    this.out = out;
    this.style = opts.style;
    this.episodes = opts.episodes;
    this.tty = opts.tty;
  }

  private label(episode: number): string {
    const w = String(this.episodes).length;
    return `episode ${String(episode + 1).padStart(w)}/${this.episodes}`;
  }

  /** Redraws the bar (TTY only); skipped when nothing visible changed. */
  update(episode: number, step: number, steps: number): void {
    if (!this.tty) return;
    const fraction = steps > 0 ? step / steps : 1;
    const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
    const counts = `${formatInt(step)}/${formatInt(steps)} steps`;
    const label = this.label(episode);
    const columns = this.out.columns && this.out.columns > 0 ? this.out.columns : 80;
    const width = Math.max(10, Math.min(40, columns - label.length - pct.length - counts.length - 6));
    const line = `${label} ${this.style.cyan(renderBar(fraction, width))} ${pct}  ${this.style.dim(counts)}`;
    if (line === this.lastDrawn) return;
    this.out.write(`\r\x1b[2K${line}`);
    this.lastDrawn = line;
    this.barVisible = true;
  }

  /** Replaces the bar with a permanent line (or just prints it when not a TTY). */
  line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  /** Prints the finished-episode line. */
  episodeDone(episode: number, text: string): void {
    this.line(`${this.label(episode)}  ${text}`);
  }

  /** Removes the bar, if one is on screen. */
  clear(): void {
    if (this.barVisible) {
      this.out.write("\r\x1b[2K");
      this.barVisible = false;
      this.lastDrawn = "";
    }
  }
}

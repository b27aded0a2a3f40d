/**
 * Learning curves of a sweep grouped by a config value: per group and episode, the mean over the
 * group's runs (seeds) and a 95 % confidence band of that mean (Student's t).
 */

/** Options of {@link learningCurves}. */
export interface CompareOptions {
  /** Moving average over each run's episodes before runs are combined (default 1: none). */
  window?: number;
  /** Most points per curve; more episodes are averaged in bins of equal width (default 1000). */
  maxPoints?: number;
}

/** One group's curve. */
export interface CurveGroup {
  /** The config value (JSON text) shared by the group's runs. */
  label: string;
  runs: number;
  /** Episode index of each point (the bin's first episode when binned). */
  episode: Float64Array;
  mean: Float64Array;
  /** 95 % band of the mean: mean ∓ t(0.975, n−1)·sd/√n; equal to the mean where n = 1. */
  lo: Float64Array;
  hi: Float64Array;
  /** Runs that have the episode. */
  n: Int32Array;
}

/** t(0.975, df) for df = 1..30; 1.96 beyond. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

function tQuantile975(df: number): number {
  if (df < 1) return Number.NaN;
  return df <= 30 ? T975[df - 1] : df <= 60 ? 2.0 + (2.042 - 2.0) * (60 - df) / 30 : 1.96;
}

function smooth(v: Float64Array, w: number): Float64Array {
  if (w <= 1) return v;
  const out = new Float64Array(v.length);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isNaN(v[i])) {
      sum += v[i];
      count++;
    }
    const j = i - w;
    if (j >= 0 && !Number.isNaN(v[j])) {
      sum -= v[j];
      count--;
    }
    out[i] = count > 0 ? sum / count : Number.NaN;
  }
  return out;
}

/**
 * The curves of `values` (one array per run, e.g. its total reward per episode) grouped by
 * `labels` (one per run), groups in first-seen order. NaN values (no episode) are left out.
 */
export function learningCurves(values: Float64Array[], labels: string[], options: CompareOptions = {}): CurveGroup[] {
  const byLabel = new Map<string, Float64Array[]>();
  values.forEach((v, i) => {
    let g = byLabel.get(labels[i]);
    if (!g) byLabel.set(labels[i], (g = []));
    g.push(smooth(v, options.window ?? 1));
  });
  const maxPoints = Math.max(1, options.maxPoints ?? 1000);
  const out: CurveGroup[] = [];
  for (const [label, runs] of byLabel) {
    const len = runs.reduce((m, r) => Math.max(m, r.length), 0);
    const sum = new Float64Array(len), sq = new Float64Array(len), n = new Int32Array(len);
    for (const r of runs) {
      for (let e = 0; e < r.length; e++) {
        const x = r[e];
        if (Number.isNaN(x)) continue;
        sum[e] += x;
        sq[e] += x * x;
        n[e]++;
      }
    }
    const bin = Math.ceil(len / maxPoints) || 1;
    const points = Math.ceil(len / bin);
    const g: CurveGroup = { label, runs: runs.length, episode: new Float64Array(points), mean: new Float64Array(points), lo: new Float64Array(points), hi: new Float64Array(points), n: new Int32Array(points) };
    for (let p = 0; p < points; p++) {
      let m = 0, l = 0, h = 0, k = 0, nmin = Infinity;
      for (let e = p * bin; e < Math.min(len, (p + 1) * bin); e++) {
        if (n[e] === 0) continue;
        const mean = sum[e] / n[e];
        const sd = n[e] > 1 ? Math.sqrt(Math.max(0, (sq[e] - n[e] * mean * mean) / (n[e] - 1))) : 0;
        const half = n[e] > 1 ? tQuantile975(n[e] - 1) * sd / Math.sqrt(n[e]) : 0;
        m += mean;
        l += mean - half;
        h += mean + half;
        k++;
        nmin = Math.min(nmin, n[e]);
      }
      g.episode[p] = p * bin;
      g.mean[p] = k ? m / k : Number.NaN;
      g.lo[p] = k ? l / k : Number.NaN;
      g.hi[p] = k ? h / k : Number.NaN;
      g.n[p] = k ? nmin : 0;
    }
    out.push(g);
  }
  return out;
}

/**
 * The spike raster: a canvas drawn from the server's windowed answer, either the spikes of the
 * window (one mark each) or counts per (pixel column x neuron row) bin shown as an intensity image.
 * Wheel zooms time around the cursor, shift+wheel pans; a drag selects a time range, shift+drag
 * a neuron range; a double click resets. Event and reward markers are drawn over it.
 */
import { niceStep, fmt } from "./util.js";

/** Plot margins, shared with the time-series charts so that time lines up (their y axis: LEFT - AXIS_LABEL for ticks, AXIS_LABEL for the title). */
export const LEFT = 74;
export const AXIS_LABEL = 14;
export const RIGHT = 20;
const TOP = 6;
const BOTTOM = 22;

export interface RasterMeta {
  kind: "spikes" | "bins";
  from: number;
  to: number;
  n0: number;
  n1: number;
  nNeurons: number;
  spikes: number;
  cols?: number;
  rows?: number;
  maxBin?: number;
  /** "overview": binned from the episode's spike overview, `binSteps` steps a bin. */
  source?: string;
  binSteps?: number;
}

export interface View {
  from: number;
  to: number;
  n0: number;
  n1: number;
}

export interface RasterData {
  meta: RasterMeta;
  t?: Uint32Array;
  n?: Uint32Array;
  bins?: Uint16Array;
}

export interface Marks {
  events: { timestep: number; type: string }[];
  rewards: { t: ArrayLike<number>; v: ArrayLike<number> };
}

export class Raster {
  readonly canvas: HTMLCanvasElement;
  private data: RasterData | null = null;
  private marks: Marks = { events: [], rewards: { t: [], v: [] } };
  private view: View = { from: 0, to: 1, n0: 0, n1: 1 };
  private drag: { x0: number; y0: number; x1: number; y1: number; shift: boolean } | null = null;
  private readonly onChange: (v: View) => void;
  private readonly onReset: () => void;
  private readonly readout: HTMLElement;

  constructor(container: HTMLElement, readout: HTMLElement, onChange: (v: View) => void, onReset: () => void) {
    this.canvas = document.createElement("canvas");
    this.canvas.id = "raster-canvas";
    container.append(this.canvas);
    this.readout = readout;
    this.onChange = onChange;
    this.onReset = onReset;
    this.canvas.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    this.canvas.addEventListener("mousedown", (e) => {
      const p = this.pos(e);
      this.drag = { x0: p.x, y0: p.y, x1: p.x, y1: p.y, shift: e.shiftKey };
    });
    window.addEventListener("mousemove", (e) => {
      if (this.drag) {
        const p = this.pos(e);
        this.drag.x1 = p.x;
        this.drag.y1 = p.y;
        this.draw();
      }
    });
    this.canvas.addEventListener("mousemove", (e) => this.hover(e));
    window.addEventListener("mouseup", () => this.endDrag());
    this.canvas.addEventListener("dblclick", () => this.onReset());
    new ResizeObserver(() => this.draw()).observe(container);
  }

  get plotWidth(): number {
    return Math.max(10, this.canvas.clientWidth - LEFT - RIGHT);
  }

  get plotHeight(): number {
    return Math.max(10, this.canvas.clientHeight - TOP - BOTTOM);
  }

  setView(v: View): void {
    this.view = { ...v };
    this.draw();
  }

  setData(d: RasterData): void {
    this.data = d;
    this.draw();
  }

  setMarks(m: Marks): void {
    this.marks = m;
    this.draw();
  }

  private pos(e: MouseEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private timeAt(x: number): number {
    const v = this.view;
    return v.from + ((x - LEFT) / this.plotWidth) * (v.to - v.from);
  }

  private neuronAt(y: number): number {
    const v = this.view;
    return v.n0 + ((y - TOP) / this.plotHeight) * (v.n1 - v.n0);
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault();
    const v = this.view;
    const span = v.to - v.from;
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      const d = Math.round(((e.shiftKey ? e.deltaY : e.deltaX) / 500) * span);
      this.onChange({ ...v, from: v.from + d, to: v.to + d });
      return;
    }
    const at = Math.min(v.to, Math.max(v.from, this.timeAt(this.pos(e).x)));
    const k = e.deltaY > 0 ? 1.25 : 0.8;
    const from = Math.round(at - (at - v.from) * k);
    const to = Math.max(from + 10, Math.round(at + (v.to - at) * k));
    this.onChange({ ...v, from, to });
  }

  private endDrag(): void {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    if (d.shift) {
      const a = Math.floor(this.neuronAt(Math.min(d.y0, d.y1)));
      const b = Math.ceil(this.neuronAt(Math.max(d.y0, d.y1)));
      if (b - a >= 1 && Math.abs(d.y1 - d.y0) > 3) this.onChange({ ...this.view, n0: Math.max(0, a), n1: b });
    } else if (Math.abs(d.x1 - d.x0) > 3) {
      const from = Math.round(this.timeAt(Math.min(d.x0, d.x1)));
      const to = Math.round(this.timeAt(Math.max(d.x0, d.x1)));
      if (to > from) this.onChange({ ...this.view, from, to });
    }
    this.draw();
  }

  private hover(e: MouseEvent): void {
    const p = this.pos(e);
    if (p.x < LEFT || p.x > LEFT + this.plotWidth || p.y < TOP || p.y > TOP + this.plotHeight) {
      this.readout.textContent = "";
      return;
    }
    this.readout.textContent = `t ${fmt(Math.floor(this.timeAt(p.x)))} · neuron ${fmt(Math.floor(this.neuronAt(p.y)))}`;
  }

  draw(): void {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const g = c.getContext("2d")!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const pw = this.plotWidth;
    const ph = this.plotHeight;
    const v = this.view;
    g.fillStyle = "#fff";
    g.fillRect(LEFT, TOP, pw, ph);
    const d = this.data;
    if (d) {
      const m = d.meta;
      // the answer may be for an older view while a new one is on its way: place it by its own window
      const x = (t: number) => LEFT + ((t - v.from) / (v.to - v.from)) * pw;
      const y = (n: number) => TOP + ((n - v.n0) / (v.n1 - v.n0)) * ph;
      g.save();
      g.beginPath();
      g.rect(LEFT, TOP, pw, ph);
      g.clip();
      if (m.kind === "spikes" && d.t && d.n) {
        const sw = Math.max(1, pw / (v.to - v.from));
        const sh = Math.max(1, Math.min(3, ph / (v.n1 - v.n0)));
        g.fillStyle = "#1d2b3a";
        for (let i = 0; i < d.t.length; i++) g.fillRect(x(m.from + d.t[i]), y(d.n[i] + 0.5) - sh / 2, sw, sh);
      } else if (m.kind === "bins" && d.bins && m.cols && m.rows) {
        const img = new ImageData(m.cols, m.rows);
        const max = Math.max(1, m.maxBin ?? 1);
        const scale = 1 / Math.log1p(max);
        for (let i = 0; i < d.bins.length; i++) {
          const k = d.bins[i];
          if (k === 0) continue;
          // log intensity: a single spike stays visible beside dense bins
          const a = 0.25 + 0.75 * Math.log1p(k) * scale;
          img.data[4 * i] = 29;
          img.data[4 * i + 1] = 43;
          img.data[4 * i + 2] = 58;
          img.data[4 * i + 3] = Math.round(255 * a);
        }
        const off = document.createElement("canvas");
        off.width = m.cols;
        off.height = m.rows;
        off.getContext("2d")!.putImageData(img, 0, 0);
        g.imageSmoothingEnabled = false;
        g.drawImage(off, x(m.from), y(m.n0), x(m.to) - x(m.from), y(m.n1) - y(m.n0));
      }
      // events: orange lines; rewards: green (positive) / red ticks at the top
      g.strokeStyle = "rgba(230,120,0,0.8)";
      g.lineWidth = 1;
      for (const e of this.marks.events) {
        const ex = Math.round(x(e.timestep)) + 0.5;
        g.beginPath();
        g.moveTo(ex, TOP);
        g.lineTo(ex, TOP + ph);
        g.stroke();
      }
      const r = this.marks.rewards;
      for (let i = 0; i < r.t.length; i++) {
        g.fillStyle = r.v[i] >= 0 ? "#1e9e4a" : "#d03030";
        g.fillRect(Math.round(x(r.t[i])) - 1, TOP, 3, 8);
      }
      g.restore();
    }
    this.axes(g, pw, ph);
    const dr = this.drag;
    if (dr) {
      g.fillStyle = "rgba(60,120,220,0.2)";
      if (dr.shift) g.fillRect(LEFT, Math.min(dr.y0, dr.y1), pw, Math.abs(dr.y1 - dr.y0));
      else g.fillRect(Math.min(dr.x0, dr.x1), TOP, Math.abs(dr.x1 - dr.x0), ph);
    }
  }

  private axes(g: CanvasRenderingContext2D, pw: number, ph: number): void {
    const v = this.view;
    g.strokeStyle = "#999";
    g.strokeRect(LEFT + 0.5, TOP + 0.5, pw, ph);
    g.fillStyle = "#333";
    g.font = "11px system-ui, sans-serif";
    g.textAlign = "center";
    g.textBaseline = "top";
    const ts = niceStep(v.to - v.from, Math.max(2, Math.floor(pw / 90)));
    for (let t = Math.ceil(v.from / ts) * ts; t <= v.to; t += ts) {
      const x = LEFT + ((t - v.from) / (v.to - v.from)) * pw;
      g.fillRect(x, TOP + ph, 1, 4);
      g.fillText(fmt(t), x, TOP + ph + 6);
    }
    g.textAlign = "right";
    g.textBaseline = "middle";
    const ns = Math.max(1, niceStep(v.n1 - v.n0, Math.max(2, Math.floor(ph / 40))));
    for (let n = Math.ceil(v.n0 / ns) * ns; n <= v.n1; n += ns) {
      const y = TOP + ((n - v.n0) / (v.n1 - v.n0)) * ph;
      g.fillRect(LEFT - 4, y, 4, 1);
      g.fillText(fmt(n), LEFT - 6, y);
    }
  }
}

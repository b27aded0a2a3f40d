/** The overview: run, config, provenance (runtime, git, code snapshot with a file viewer), network. */
import { getJson } from "./api.js";
import { byId, el, fmt, fmtBytes, table } from "./util.js";

export interface Overview {
  name: string;
  file: string;
  directory: string;
  status: string;
  live: boolean;
  startTime: string | null;
  endTime: string | null;
  formatVersion: string | null;
  layout: string | null;
  config: unknown;
  user: unknown;
  runtime: Record<string, unknown> | null;
  git: Record<string, unknown> | null;
  hasDiff: boolean;
  code: { index: number; path: string; size: number; stored: boolean; reason: string | null }[];
  network: {
    nNeurons: number | null;
    countsBy: Record<string, Record<string, number>>;
    synapses: number | null;
    weightHistogram: { min: number; max: number; mean: number; binWidth: number; counts: number[] } | null;
  } | null;
  checkpoints: string[];
  episodeCount: number;
}

export function renderOverview(o: Overview): void {
  const run = table([
    ["Status", statusBadge(o.status, "ov-status")],
    ["Started", o.startTime ?? "–"],
    ["Ended", el("span", { id: "ov-end", text: o.endTime ?? "–" })],
    ["Episodes", el("span", { id: "ov-episodes", text: fmt(o.episodeCount) })],
    ["Format", `${o.formatVersion ?? "?"} (${o.layout ?? "?"})`],
    ["Directory", o.directory],
    ["Checkpoints", o.checkpoints.length ? o.checkpoints.join(", ") : "none"],
  ]);
  const card = (title: string, ...body: Node[]) => el("div", { class: "card" }, el("h3", { text: title }), ...body);
  const grid = byId("overview-grid");
  grid.replaceChildren(
    card("Run", run),
    card("Config", jsonBlock(o.config), ...(isEmpty(o.user) ? [] : [el("h4", { text: "User metadata" }), jsonBlock(o.user)])),
    card("Provenance", provenance(o)),
    card("Network", network(o)),
  );
}

export function statusBadge(status: string, id: string): HTMLElement {
  return el("span", { class: `badge status-${status}`, id, text: status });
}

function isEmpty(x: unknown): boolean {
  return x === null || x === undefined || (typeof x === "object" && Object.keys(x as object).length === 0);
}

function jsonBlock(x: unknown): HTMLElement {
  return el("pre", { class: "json" }, JSON.stringify(x, null, 2));
}

function provenance(o: Overview): HTMLElement {
  const box = el("div");
  const r = o.runtime;
  if (r) {
    const versions = (r.versions ?? {}) as Record<string, unknown>;
    box.append(
      el("h4", { text: "Runtime" }),
      table([
        ["Node", String(r.node ?? "?")],
        ["Platform", `${r.platform ?? "?"} ${r.arch ?? ""} ${r.osRelease ?? ""}`],
        ["Host", `${r.hostname ?? "?"} (${r.cpuCount ?? "?"} × ${r.cpuModel ?? "?"})`],
        ["snn-export", String(versions.snnExport ?? "?")],
        ["Command", Array.isArray(r.argv) ? (r.argv as string[]).join(" ") : "?"],
      ]),
    );
  } else box.append(el("p", { class: "dim", text: "No runtime recorded." }));
  const g = o.git;
  box.append(el("h4", { text: "Git" }));
  if (g && g.available === true) {
    const changed = Array.isArray(g.changedFiles) ? (g.changedFiles as { status: string; path: string }[]) : [];
    const rows: [string, Node | string][] = [
      ["Commit", el("code", { id: "git-commit", text: String(g.commit ?? "none") })],
      ["Branch", String(g.branch ?? "detached")],
      ["State", el("span", { id: "git-dirty", class: g.dirty ? "warn" : "ok", text: g.dirty ? `dirty (${fmt(Number(g.changedFileCount))} changed)` : "clean" })],
    ];
    box.append(table(rows));
    if (changed.length) box.append(el("details", {}, el("summary", { text: `${changed.length} changed file${changed.length === 1 ? "" : "s"}` }), el("pre", {}, changed.map((c) => `${c.status} ${c.path}`).join("\n"))));
    if (o.hasDiff) {
      const b = el("button", { text: "Show diff" });
      b.onclick = async () => showFile("git diff", (await getJson<{ text: string }>("/api/git-diff")).text);
      box.append(b);
    }
  } else box.append(el("p", { class: "dim", text: g ? `not available: ${String(g.reason ?? "?")}` : "No git state recorded." }));
  box.append(el("h4", { text: `Code snapshot (${o.code.length} file${o.code.length === 1 ? "" : "s"})` }));
  const list = el("ul", { class: "files", id: "code-files" });
  for (const f of o.code) {
    const item = el("li");
    if (f.stored) {
      const a = el("a", { href: "#", text: f.path });
      a.onclick = async (ev) => {
        ev.preventDefault();
        const file = await getJson<{ path: string; text: string }>(`/api/code/${f.index}`);
        showFile(file.path, file.text);
      };
      item.append(a, el("span", { class: "dim", text: ` ${fmtBytes(f.size)}` }));
    } else item.append(el("span", { class: "dim", text: `${f.path}: not stored (${f.reason ?? "?"})` }));
    list.append(item);
  }
  box.append(o.code.length ? list : el("p", { class: "dim", text: "No code snapshot." }));
  return box;
}

/** The file viewer: a panel over the page with the file's text. */
export function showFile(title: string, text: string): void {
  const panel = byId("file-viewer");
  byId("file-title").textContent = title;
  byId("file-text").textContent = text;
  panel.hidden = false;
}

function network(o: Overview): HTMLElement {
  const box = el("div");
  const n = o.network;
  if (!n) {
    box.append(el("p", { class: "dim", text: "No network structure saved." }));
    return box;
  }
  box.append(table([
    ["Neurons", el("span", { id: "net-neurons", text: fmt(n.nNeurons) })],
    ["Synapses", el("span", { id: "net-synapses", text: fmt(n.synapses) })],
  ]));
  for (const [field, counts] of Object.entries(n.countsBy)) {
    box.append(el("h4", { text: `Neurons by ${field}` }), table(Object.entries(counts).map(([k, v]) => [k, fmt(v)]), `kv counts-${field}`));
  }
  const h = n.weightHistogram;
  if (h) {
    box.append(el("h4", { text: `Initial weights (mean ${fmt(h.mean)})` }));
    const canvas = el("canvas", { class: "hist", width: "320", height: "110" });
    box.append(canvas);
    drawHistogram(canvas, h);
  }
  return box;
}

function drawHistogram(c: HTMLCanvasElement, h: { min: number; max: number; counts: number[] }): void {
  const dpr = window.devicePixelRatio || 1;
  const w = 320;
  const ht = 110;
  c.width = w * dpr;
  c.height = ht * dpr;
  c.style.width = `${w}px`;
  c.style.height = `${ht}px`;
  const g = c.getContext("2d")!;
  g.scale(dpr, dpr);
  const max = Math.max(1, ...h.counts);
  const plotH = ht - 18;
  const bw = w / h.counts.length;
  g.fillStyle = "#4a7dbf";
  h.counts.forEach((k, i) => {
    const y = (k / max) * (plotH - 4);
    g.fillRect(i * bw + 0.5, plotH - y, Math.max(1, bw - 1), y);
  });
  g.fillStyle = "#555";
  g.font = "11px sans-serif";
  g.textBaseline = "top";
  g.fillText(fmt(h.min), 0, plotH + 3);
  g.textAlign = "right";
  g.fillText(fmt(h.max), w, plotH + 3);
}

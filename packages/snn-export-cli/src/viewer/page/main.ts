/**
 * The viewer page: the overview first (one small JSON answer), then the learning curve and the
 * last episode; a poll every second follows a file that is being written.
 */
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { getJson, transfer } from "./api.js";
import { LearningCurve } from "./curve.js";
import { EpisodePanel } from "./episode.js";
import { renderOverview, statusBadge, type Overview } from "./overview.js";
import { byId, fmt } from "./util.js";

interface Status {
  generation: number;
  live: boolean;
  status: string;
  endTime: string | null;
  episodeCount: number;
  secondsSinceChange: number;
  last: { id: number; status: string; totalTimesteps: number | null; lastTimestep: number | null } | null;
}

const POLL_MS = 1000;

const panel = new EpisodePanel();
const curve = new LearningCurve((id) => void openEpisode(id));
let lastStatus: Status | null = null;

/** State the browser tests read. */
const state = {
  overviewPaintedAt: NaN,
  curveDrawnAt: NaN,
  polls: 0,
  panel,
  curve,
  transfer,
};
(window as unknown as { viewer: typeof state }).viewer = state;

async function openEpisode(id: number): Promise<void> {
  byId<HTMLInputElement>("episode-id").value = String(id);
  await panel.open(id);
  byId("episode-section").scrollIntoView({ block: "start" });
}

function showError(err: unknown): void {
  byId("page-error").textContent = err instanceof Error ? err.message : String(err);
}

async function start(): Promise<void> {
  const o = await getJson<Overview>("/api/overview");
  document.title = `${o.name} · snn-export view`;
  byId("exp-name").textContent = o.name;
  byId("exp-status").replaceChildren(statusBadge(o.status, "status-badge"));
  renderOverview(o);
  requestAnimationFrame(() => {
    performance.mark("overview-painted");
    state.overviewPaintedAt = performance.now();
  });
  await curve.load(0);
  state.curveDrawnAt = performance.now();
  if (curve.count > 0) {
    const last = curve.rows.ids[curve.count - 1];
    byId<HTMLInputElement>("episode-id").value = String(last);
    await panel.open(last);
  }
  setTimeout(poll, POLL_MS);
}

/** Follows the file: the status every second; when it changed, the table's tail and the open episode. */
async function poll(): Promise<void> {
  try {
    const s = await getJson<Status>("/api/status");
    state.polls++;
    const prev = lastStatus;
    lastStatus = s;
    byId("exp-status").replaceChildren(statusBadge(s.status, "status-badge"));
    byId("ov-status").replaceWith(statusBadge(s.status, "ov-status"));
    byId("live").textContent = s.live ? (s.secondsSinceChange > 10 ? `live · no new data for ${s.secondsSinceChange} s` : "live") : "";
    byId("ov-end").textContent = s.endTime ?? "–";
    byId("ov-episodes").textContent = fmt(s.episodeCount);
    const changed = !prev || prev.generation !== s.generation;
    if (changed) {
      await curve.load(Math.max(0, curve.count - 1));
      if (panel.info === null && curve.count > 0) await panel.open(curve.rows.ids[curve.count - 1]);
      else if (panel.info && s.last && panel.info.id >= s.last.id - 1) await panel.refresh();
      // following the newest episode: switch to a new one when it starts
      if (panel.info && s.last && panel.follow && s.last.id > panel.info.id && prev?.last?.id !== s.last.id) await openEpisode(s.last.id);
    }
  } catch (err) {
    showError(err);
  }
  setTimeout(poll, POLL_MS);
}

byId("episode-open").onclick = () => void openEpisode(Number(byId<HTMLInputElement>("episode-id").value)).catch(showError);
byId("episode-prev").onclick = () => void openEpisode(Math.max(0, (panel.info?.id ?? 1) - 1)).catch(showError);
byId("episode-next").onclick = () => void openEpisode((panel.info?.id ?? -1) + 1).catch(showError);
byId("file-close").onclick = () => (byId("file-viewer").hidden = true);
start().catch(showError);

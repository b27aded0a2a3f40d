/**
 * Renders a Vega-Lite chart to SVG (Vega's own headless SVG renderer, no browser) and, for PNG, to
 * pixels with resvg (a Rust SVG rasteriser shipped as a prebuilt Node addon in its npm package).
 */
import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";

/** Sans-serif families tried for PNG text (by a file name they ship as), first found wins. */
const SANS: Array<[RegExp, string]> = [
  [/^DejaVuSans\.ttf$/i, "DejaVu Sans"],
  [/^LiberationSans-Regular\.ttf$/i, "Liberation Sans"],
  [/^NotoSans-Regular\.(ttf|otf)$/i, "Noto Sans"],
  [/^arial\.ttf$/i, "Arial"],
  [/^Helvetica\.ttc$/i, "Helvetica"],
  [/^FreeSans\.(ttf|otf)$/i, "FreeSans"],
];
const FONT_DIRS = ["/usr/share/fonts", "/usr/local/share/fonts", join(homedir(), ".fonts"), join(homedir(), ".local/share/fonts"), "/Library/Fonts", "/System/Library/Fonts", "C:\\Windows\\Fonts"];

/** The chart as an SVG document. */
export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

let fontScan: { any: boolean; sans: string | undefined } | undefined;

/** Scans the usual font folders (where resvg looks for system fonts): is there any font, and a known sans-serif one? */
export function systemFonts(): { any: boolean; sans: string | undefined } {
  if (fontScan) return fontScan;
  let any = false;
  let best = SANS.length;
  const search = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isFile() && /\.(ttf|otf|ttc)$/i.test(e.name)) {
        any = true;
        const i = SANS.findIndex(([re]) => re.test(e.name));
        if (i >= 0 && i < best) best = i;
      } else if (e.isDirectory() && depth > 0) search(join(dir, e.name), depth - 1);
    }
  };
  for (const d of FONT_DIRS) if (existsSync(d)) search(d, 4);
  fontScan = { any, sans: best < SANS.length ? SANS[best][1] : undefined };
  return fontScan;
}

/** Rasterises an SVG document to PNG bytes at `scale` × its size, on a white background. */
export async function svgToPng(svg: string, scale: number): Promise<Buffer> {
  const { Resvg } = await import("@resvg/resvg-js");
  const sans = systemFonts().sans;
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: {
      loadSystemFonts: true,
      ...(sans ? { defaultFontFamily: sans, sansSerifFamily: sans } : {}),
    },
    shapeRendering: 2,
    textRendering: 1,
  });
  return Buffer.from(resvg.render().asPng());
}

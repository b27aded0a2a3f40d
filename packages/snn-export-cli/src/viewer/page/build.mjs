// Builds the viewer's page: packages/snn-export-cli/src/viewer/page/main.ts (+ uPlot and the CSS) bundled by esbuild into
// packages/snn-export-cli/dist/src/viewer/page/{app.js,app.css}, and index.html copied beside them. Run by `npm run build`
// after the type check of the page (tsc -p packages/snn-export-cli/src/viewer/page/tsconfig.json).
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "..", "dist", "src", "viewer", "page");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(here, "main.ts") },
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: false,
  outdir: out,
  logLevel: "warning",
});
copyFileSync(join(here, "index.html"), join(out, "index.html"));

// Bundles the pages' scripts and styles with esbuild into the git-ignored
// src/daihuo/pages/static/dist/, which the app serves at /static/pages/dist/.
// Everything comes from node_modules (npm ci from package-lock.json): no CDN at run time.
import { build } from "esbuild";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "daihuo", "pages", "static", "dist");
await mkdir(out, { recursive: true });

await build({
  entryPoints: {
    console: join(here, "src", "console.js"),
    "console-style": join(here, "src", "console.css"),
    live: join(here, "src", "live.js"),
    "live-style": join(here, "src", "live.css"),
  },
  outdir: out,
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["chrome110", "firefox110", "safari16"],
  format: "iife",
  legalComments: "linked",
  logLevel: "warning",
});

await writeFile(join(out, "BUILT"), new Date().toISOString() + "\n");

/**
 * The Plotly bundle, inlined into notebooks so saved notebooks and their HTML exports work offline
 * (no CDN; trap T5). plotly.js-dist ships only the unminified bundle (11 MB); when esbuild is
 * present (it comes with tsx in the dev dependencies) we minify it once (~5 MB) and cache the result
 * in node_modules/.cache/prune-at-init. Without esbuild the unminified bundle is used.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic } from '../fsutil';

let cached: { code: string; version: string; minified: boolean; file: string } | null = null;

function plotlySource(): { file: string; version: string } {
  let file: string;
  try {
    file = require.resolve('plotly.js-dist/plotly.js');
  } catch {
    throw new Error('plotly.js-dist is not installed: run `npm ci` in the project root.');
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(file), 'package.json'), 'utf8')) as { version: string };
  return { file, version: pkg.version };
}

function cacheDirs(sourceFile: string): string[] {
  // .../node_modules/plotly.js-dist/plotly.js -> .../node_modules/.cache/prune-at-init
  return [path.join(path.dirname(path.dirname(sourceFile)), '.cache', 'prune-at-init'), path.join(os.tmpdir(), 'prune-at-init-cache')];
}

/** The Plotly bundle source (minified when possible), read once per process. */
export function plotlyBundle(): { code: string; version: string; minified: boolean; file: string } {
  if (cached) return cached;
  const src = plotlySource();
  const stat = fs.statSync(src.file);
  const name = `plotly-${src.version}-${stat.size}.min.js`;
  for (const dir of cacheDirs(src.file)) {
    const f = path.join(dir, name);
    if (fs.existsSync(f)) {
      cached = { code: fs.readFileSync(f, 'utf8'), version: src.version, minified: true, file: f };
      return cached;
    }
  }
  const code = fs.readFileSync(src.file, 'utf8');
  let esbuild: { transformSync(code: string, o: Record<string, unknown>): { code: string } } | null = null;
  try {
    esbuild = require('esbuild');
  } catch { /* not installed: use the unminified bundle */ }
  if (!esbuild) {
    cached = { code, version: src.version, minified: false, file: src.file };
    return cached;
  }
  const min = esbuild.transformSync(code, { minify: true, legalComments: 'none', charset: 'utf8' }).code;
  for (const dir of cacheDirs(src.file)) {
    try {
      const f = path.join(dir, name);
      writeFileAtomic(f, min);
      cached = { code: min, version: src.version, minified: true, file: f };
      return cached;
    } catch { /* read-only: try the next place */ }
  }
  cached = { code: min, version: src.version, minified: true, file: src.file };
  return cached;
}

/** Text safe inside an HTML <script> element: no `</script` or `<!--` can end or derail it. */
export function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

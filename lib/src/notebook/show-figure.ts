/**
 * showFigure: one display_data message with
 *   text/html   <div class="pai-figure"> holding the static PNG as an <img> (what untrusted
 *               JupyterLab, GitHub and other sanitising viewers show: their sanitizers keep
 *               data: images but drop scripts), then a <script> that replaces it by an
 *               interactive Plotly plot when scripts run (trusted notebook, nbconvert HTML).
 *               The Plotly bundle is inlined before the first figure of the process.
 *   image/png   the static image (base64), with width/height metadata;
 *   text/plain  where the files are.
 * and files <outDir>/figures/<notebook>/<name>.{json,svg,png}.
 */
import * as path from 'path';
import { writeFileAtomic } from '../fsutil';
import { displayBundle, escapeHtml, MimeBundle } from './display';
import { exportStaticImages, StaticImages } from './export-image';
import { checkSlug, displayPath, requireNotebook } from './params';
import { plotlyBundle, scriptSafe } from './plotly-bundle';
import { DEFAULT_HEIGHT, DEFAULT_WIDTH, FigureSpec } from './plots';

export const INTERACTIVE_ENV = 'PRUNE_AT_INIT_INTERACTIVE';

export interface ShowFigureOptions {
  /** File name (no extension) and id of the figure within the notebook. */
  name: string;
  /** Caption under the figure. */
  caption?: string;
  /** Defaults from notebookParams(). */
  notebook?: string;
  outDir?: string;
  /** PNG pixel ratio (default 2). */
  scale?: number;
  /** Include the interactive Plotly version (default true; env PRUNE_AT_INIT_INTERACTIVE=0 turns it off). */
  interactive?: boolean;
  /** Skip the Chromium export (tests of the HTML path). */
  staticImage?: boolean;
}

export interface FigureFiles {
  name: string;
  notebook: string;
  /** Absolute paths; svg/png absent when Chromium is unavailable. */
  json: string;
  svg?: string;
  png?: string;
  /** Paths relative to the output root, as recorded in claims. */
  relative: { json: string; svg?: string; png?: string };
}

let bundleSent = false;
/** Which figures this process has shown, per notebook (recordClaim checks its figure exists). */
const shown = new Map<string, FigureFiles>();

export function shownFigure(notebook: string, name: string): FigureFiles | undefined {
  return shown.get(`${notebook}/${name}`);
}

/** Inline the Plotly bundle again with the next figure (e.g. after clearing outputs). */
export function resetPlotlyInjection(): void {
  bundleSent = false;
}

function interactiveDefault(): boolean {
  const v = process.env[INTERACTIVE_ENV];
  if (v === undefined || v === '') return true;
  if (['0', 'false', 'no', 'off'].includes(v.toLowerCase())) return false;
  if (['1', 'true', 'yes', 'on'].includes(v.toLowerCase())) return true;
  throw new Error(`${INTERACTIVE_ENV}=${JSON.stringify(v)}: use 1 (interactive Plotly figures, default) or 0 (static images only).`);
}

/** JSON that cannot close the surrounding <script>. */
function jsonForScript(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function figureHtml(fig: FigureSpec, o: { id: string; width: number; height: number; pngBase64?: string; alt: string; caption?: string; interactive: boolean; withBundle: boolean }): string {
  const img = o.pngBase64
    ? `<img class="pai-static" src="data:image/png;base64,${o.pngBase64}" width="${o.width}" height="${o.height}" alt="${escapeHtml(o.alt)}" style="max-width:100%;height:auto">`
    : `<div class="pai-static" style="padding:1em;color:#666">[figure ${escapeHtml(o.alt)}: static image unavailable; run the notebook trusted to see the interactive plot]</div>`;
  let html = '';
  if (o.interactive && o.withBundle) {
    const b = plotlyBundle();
    html += `<script type="text/javascript">/* plotly.js ${b.version}, inlined once per notebook so it works offline */\n${scriptSafe(b.code)}\n</script>\n`;
  }
  html += `<div class="pai-figure" id="${o.id}" style="max-width:${o.width}px">${img}</div>`;
  if (o.interactive) {
    const spec = { data: fig.data, layout: { ...fig.layout, width: undefined, height: o.height, autosize: true }, config: { responsive: true, displaylogo: false, ...(fig.config ?? {}) } };
    html += `\n<script type="text/javascript">(function () {
  var el = document.getElementById(${JSON.stringify(o.id)});
  if (!el || !window.Plotly) return; /* no Plotly here: keep the static image */
  var spec = ${jsonForScript(spec)};
  var box = document.createElement('div');
  box.className = 'pai-plotly';
  el.innerHTML = '';
  el.appendChild(box);
  window.Plotly.newPlot(box, spec.data, spec.layout, spec.config);
})();</script>`;
  }
  if (o.caption) html += `\n<div class="pai-caption" style="font-size:90%;color:#444;max-width:${o.width}px">${escapeHtml(o.caption)}</div>`;
  return html;
}

/**
 * Display a figure (interactive + static) and write its files (see shownFigure for their paths).
 * Await it: the static export runs in headless Chromium. Resolves to nothing, so a notebook cell
 * ending in `await showFigure(...)` prints nothing extra.
 */
export async function showFigure(fig: FigureSpec, opts: ShowFigureOptions): Promise<void> {
  if (!fig || !Array.isArray(fig.data) || typeof fig.layout !== 'object') {
    throw new Error('showFigure: the first argument must be a figure spec { data: traces[], layout } (e.g. from lineFigure).');
  }
  if (!opts || typeof opts !== 'object') throw new Error("showFigure: pass options with a name, e.g. showFigure(fig, { name: 'accuracy-vs-sparsity' }).");
  const name = checkSlug(opts.name, 'showFigure: name');
  const { notebook, outDir } = requireNotebook('showFigure', opts);
  const scale = opts.scale ?? 2;
  if (!(typeof scale === 'number' && scale > 0 && scale <= 4)) throw new Error(`showFigure: scale must be in (0, 4], got ${opts.scale}.`);
  const width = typeof fig.layout.width === 'number' ? fig.layout.width : DEFAULT_WIDTH;
  const height = typeof fig.layout.height === 'number' ? fig.layout.height : DEFAULT_HEIGHT;
  const interactive = opts.interactive ?? interactiveDefault();

  const dir = path.join(outDir, 'figures', notebook);
  const files: FigureFiles = { name, notebook, json: path.join(dir, `${name}.json`), relative: { json: `figures/${notebook}/${name}.json` } };
  writeFileAtomic(files.json, JSON.stringify(fig, null, 1) + '\n');

  let images: StaticImages | null = null;
  if (opts.staticImage !== false) images = await exportStaticImages(fig, { width, height, scale });
  if (images) {
    files.svg = path.join(dir, `${name}.svg`);
    files.png = path.join(dir, `${name}.png`);
    files.relative.svg = `figures/${notebook}/${name}.svg`;
    files.relative.png = `figures/${notebook}/${name}.png`;
    writeFileAtomic(files.svg, images.svg);
    writeFileAtomic(files.png, images.png);
  }

  const pngBase64 = images ? images.png.toString('base64') : undefined;
  const id = `pai-fig-${notebook}-${name}-${Math.random().toString(36).slice(2, 10)}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const alt = `${notebook}/${name}${typeof (fig.layout.title as { text?: string } | undefined)?.text === 'string' ? `: ${(fig.layout.title as { text: string }).text}` : ''}`;
  const data: MimeBundle = {
    'text/html': figureHtml(fig, { id, width, height, pngBase64, alt, caption: opts.caption, interactive, withBundle: interactive && !bundleSent }),
  };
  const metadata: Record<string, unknown> = {};
  if (pngBase64) {
    data['image/png'] = pngBase64;
    metadata['image/png'] = { width, height };
  }
  data['text/plain'] = `[figure ${alt}] ${displayPath(images ? files.png! : files.json)}${images ? '' : ' (no static image)'}`;
  displayBundle({ data, metadata });
  if (interactive) bundleSent = true;
  shown.set(`${notebook}/${name}`, files);
}

/**
 * Static SVG/PNG of Plotly figures, rendered by Plotly itself in headless Chromium (playwright-core).
 * One browser per process, launched on first use with Plotly loaded once; it is closed after
 * `idleMs` without exports (so a kernel at rest holds no browser) and at process exit.
 * No Chromium (or no playwright-core): exports return null and a note is printed once.
 */
import * as fs from 'fs';
import { plotlyBundle } from './plotly-bundle';
import type { FigureSpec } from './plots';

export const CHROMIUM_PATH_ENV = 'PRUNE_AT_INIT_CHROMIUM';
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
/** Flags for a quiet, offline, sandbox-free headless browser (containers run as root). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];

export interface StaticImages {
  svg: string;
  /** PNG bytes. */
  png: Buffer;
  width: number;
  height: number;
  scale: number;
}

// Minimal structural types for the parts of playwright-core we use (it is a dev dependency).
interface PwPage {
  setContent(html: string): Promise<void>;
  addScriptTag(o: { path?: string; content?: string }): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  route(url: string, handler: (route: { abort(): Promise<void> }) => unknown): Promise<void>;
}
interface PwBrowser { newPage(): Promise<PwPage>; close(): Promise<void>; isConnected(): boolean; on(ev: 'disconnected', f: () => void): void }

export function chromiumPath(): string {
  return process.env[CHROMIUM_PATH_ENV] || DEFAULT_CHROMIUM;
}

let noteShown = false;
function noteOnce(why: string): void {
  if (noteShown) return;
  noteShown = true;
  process.stderr.write(`prune-at-init: static figure images are omitted (${why}); the interactive figures still work. ` +
    `Install Chromium (apt-get install chromium) or set ${CHROMIUM_PATH_ENV}.\n`);
}

/** Why static export is impossible here, or null if it should work. */
export function staticExportUnavailable(): string | null {
  const exe = chromiumPath();
  if (!fs.existsSync(exe)) return `no Chromium at ${exe}`;
  try {
    require.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm ci installs it)';
  }
  return null;
}

let browser: PwBrowser | null = null;
let page: PwPage | null = null;
let starting: Promise<PwPage | null> | null = null;
let idleTimer: NodeJS.Timeout | null = null;
let queue: Promise<unknown> = Promise.resolve();
let idleMs = 15000;

/** How long the browser stays open without exports before it is closed (ms). */
export function setExporterIdleMs(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`setExporterIdleMs: ms must be a number >= 0, got ${ms}.`);
  idleMs = ms;
}

async function start(): Promise<PwPage | null> {
  const why = staticExportUnavailable();
  if (why) { noteOnce(why); return null; }
  try {
    const { chromium } = require('playwright-core') as { chromium: { launch(o: Record<string, unknown>): Promise<PwBrowser> } };
    const b = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS, timeout: 60000 });
    b.on('disconnected', () => { if (browser === b) { browser = null; page = null; } });
    const p = await b.newPage();
    // Offline by construction: the page may load nothing from the network.
    await p.route('**/*', (route) => route.abort());
    await p.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>');
    const bundle = plotlyBundle();
    await p.addScriptTag({ content: bundle.code });
    browser = b;
    page = p;
    return p;
  } catch (e) {
    noteOnce(`Chromium failed to start: ${(e as Error).message.split('\n')[0]}`);
    return null;
  }
}

function armIdleTimer(): void {
  if (idleTimer) clearTimeout(idleTimer);
  // closeFigureExporter goes through the export queue, so a deadline that a long synchronous
  // computation delayed into the next export can never interrupt it.
  idleTimer = setTimeout(() => { idleTimer = null; void closeFigureExporter(); }, idleMs);
  // The open browser keeps the process alive anyway; the timer itself must not.
  idleTimer.unref();
}

/** Render a figure to SVG and PNG. Exports are serialised; null when Chromium is unavailable. */
export function exportStaticImages(fig: FigureSpec, opts: { width: number; height: number; scale?: number }): Promise<StaticImages | null> {
  const run = async (): Promise<StaticImages | null> => {
    if (idleTimer) { clearTimeout(idleTimer); idleTimer = null; }
    if (!page) {
      if (!starting) starting = start().finally(() => { starting = null; });
      await starting;
    }
    const p = page;
    if (!p) return null;
    const scale = opts.scale ?? 2;
    try {
      const res = await p.evaluate(async (a: { spec: FigureSpec; width: number; height: number; scale: number }) => {
        // Runs in the browser page: `document` and `Plotly` are the page's globals.
        const g = globalThis as unknown as { document: any; Plotly: any };
        const gd = g.document.createElement('div');
        g.document.body.appendChild(gd);
        try {
          const layout = { ...a.spec.layout, width: a.width, height: a.height };
          await g.Plotly.newPlot(gd, a.spec.data, layout, { staticPlot: true });
          const svg: string = await g.Plotly.toImage(gd, { format: 'svg', width: a.width, height: a.height });
          const png: string = await g.Plotly.toImage(gd, { format: 'png', width: a.width, height: a.height, scale: a.scale });
          return { svg, png };
        } finally {
          g.Plotly.purge(gd);
          gd.remove();
        }
      }, { spec: fig, width: opts.width, height: opts.height, scale });
      return {
        svg: decodeDataUrl(res.svg).toString('utf8'),
        png: decodeDataUrl(res.png),
        width: opts.width, height: opts.height, scale,
      };
    } finally {
      armIdleTimer();
    }
  };
  const next = queue.then(run, run);
  queue = next.catch(() => undefined);
  return next;
}

/** data:[mime][;base64],payload -> bytes. */
export function decodeDataUrl(url: string): Buffer {
  const m = /^data:([^,]*?)(;base64)?,/.exec(url);
  if (!m) throw new Error(`not a data: URL (starts ${JSON.stringify(url.slice(0, 30))})`);
  const payload = url.slice(m[0].length);
  return m[2] ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload), 'utf8');
}

/**
 * Close the browser once the exports already queued have finished (it is relaunched on the next
 * export). Queued like an export, so neither a caller nor the idle timer closes it under one.
 */
export function closeFigureExporter(): Promise<void> {
  const close = async (): Promise<void> => {
    if (idleTimer) { clearTimeout(idleTimer); idleTimer = null; }
    const b = browser;
    browser = null;
    page = null;
    if (b) await b.close().catch(() => undefined);
  };
  const next = queue.then(close, close);
  queue = next.catch(() => undefined);
  return next;
}

/** True while a browser is open (tests check that it is closed after use). */
export function exporterRunning(): boolean {
  return browser !== null;
}

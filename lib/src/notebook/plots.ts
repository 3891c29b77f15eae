/**
 * Plotly figure specs (plain JSON: data + layout) for the plots the notebooks need: lines with
 * error bars, scatter, bars, heatmaps, and grids of them. Built from plain arrays or from a tidy
 * table (rows or a danfojs DataFrame) via seriesFrom, which can aggregate replicate seeds.
 * Colours are stable per series name within a process, so a method keeps its colour across figures.
 */
import { DataFrameLike, Row, rowsFrom } from './tables';
import { meanSd, standardError } from '../stats';

export type PlotlyTrace = Record<string, unknown>;

export interface FigureSpec {
  data: PlotlyTrace[];
  layout: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export interface Series {
  name: string;
  x: (number | string)[];
  y: number[];
  /** Symmetric error bar per point (e.g. sd over seeds). */
  error?: number[];
  /** Hover text per point. */
  text?: string[];
}

export interface AxisOptions {
  title?: string;
  log?: boolean;
  range?: [number, number];
}

export interface FigureOptions {
  title?: string;
  x?: AxisOptions;
  y?: AxisOptions;
  /** Pixels; also the size of the static image. Defaults 720 x 440. */
  width?: number;
  height?: number;
  /** Legend on the right (default) or hidden. */
  showLegend?: boolean;
}

export const DEFAULT_WIDTH = 720;
export const DEFAULT_HEIGHT = 440;

/** Okabe-Ito (colour-blind safe) then Plotly's defaults. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000',
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const colours = new Map<string, string>();

/** The colour of a series name: assigned in first-use order, then fixed for the process. */
export function colorFor(name: string): string {
  let c = colours.get(name);
  if (!c) {
    c = PALETTE[colours.size % PALETTE.length];
    colours.set(name, c);
  }
  return c;
}

function checkSeries(series: readonly Series[], fn: string, numericX: boolean): void {
  if (!Array.isArray(series) || series.length === 0) throw new Error(`${fn}: give at least one series ({ name, x, y }).`);
  series.forEach((s, i) => {
    const where = `${fn}: series[${i}]${s && typeof s.name === 'string' ? ` '${s.name}'` : ''}`;
    if (!s || typeof s.name !== 'string') throw new Error(`${where} needs a string name.`);
    if (!Array.isArray(s.x) || !Array.isArray(s.y)) throw new Error(`${where} needs arrays x and y.`);
    if (s.x.length !== s.y.length) throw new Error(`${where}: x has ${s.x.length} points but y has ${s.y.length}.`);
    s.y.forEach((v: unknown, j: number) => { if (typeof v !== 'number') throw new Error(`${where}: y[${j}] = ${JSON.stringify(v)} is not a number.`); });
    if (numericX) s.x.forEach((v: unknown, j: number) => { if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: x[${j}] = ${JSON.stringify(v)} is not a finite number.`); });
    if (s.error) {
      if (s.error.length !== s.y.length) throw new Error(`${where}: error has ${s.error.length} values but y has ${s.y.length}.`);
      s.error.forEach((v: unknown, j: number) => { if (typeof v !== 'number' || v < 0) throw new Error(`${where}: error[${j}] = ${JSON.stringify(v)} must be a number >= 0 (or NaN for none).`); });
    }
    if (s.text && s.text.length !== s.y.length) throw new Error(`${where}: text has ${s.text.length} entries but y has ${s.y.length}.`);
  });
}

function checkSize(v: number | undefined, what: string): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 100 || v > 4000)) throw new Error(`${what} must be an integer number of pixels in 100..4000, got ${v}.`);
}

function axis(a: AxisOptions | undefined, fn: string, which: string): Record<string, unknown> {
  const out: Record<string, unknown> = { automargin: true, zeroline: false };
  if (!a) return out;
  if (a.title !== undefined) out.title = { text: a.title };
  if (a.log) out.type = 'log';
  if (a.range) {
    if (a.range.length !== 2 || !a.range.every(Number.isFinite) || a.range[0] >= a.range[1]) {
      throw new Error(`${fn}: ${which}.range must be [min, max] with min < max, got ${JSON.stringify(a.range)}.`);
    }
    // Plotly takes log-axis ranges in log10 units.
    out.range = a.log ? a.range.map((v) => {
      if (v <= 0) throw new Error(`${fn}: ${which}.range ${JSON.stringify(a.range)} must be > 0 on a log axis.`);
      return Math.log10(v);
    }) : [...a.range];
  }
  return out;
}

function baseLayout(opts: FigureOptions, fn: string): Record<string, unknown> {
  checkSize(opts.width, `${fn}: width`);
  checkSize(opts.height, `${fn}: height`);
  return {
    title: opts.title ? { text: opts.title, x: 0.5, xanchor: 'center' } : undefined,
    width: opts.width ?? DEFAULT_WIDTH,
    height: opts.height ?? DEFAULT_HEIGHT,
    xaxis: axis(opts.x, fn, 'x'),
    yaxis: axis(opts.y, fn, 'y'),
    showlegend: opts.showLegend ?? true,
    margin: { l: 70, r: 30, t: opts.title ? 60 : 30, b: 60 },
    font: { family: 'DejaVu Sans, Arial, Helvetica, sans-serif', size: 13 },
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
    legend: { bgcolor: 'rgba(255,255,255,0.8)' },
  };
}

/** Replace non-finite numbers by null: JSON has no NaN, and Plotly draws null as a gap. */
function gaps(v: readonly number[]): (number | null)[] {
  return v.map((x) => (Number.isFinite(x) ? x : null));
}

function errorBars(s: Series): Record<string, unknown> | undefined {
  if (!s.error) return undefined;
  return { type: 'data', array: gaps(s.error), visible: true, thickness: 1.2, width: 4 };
}

function xyTraces(series: readonly Series[], mode: string): PlotlyTrace[] {
  return series.map((s) => ({
    type: 'scatter',
    mode,
    name: s.name,
    x: [...s.x],
    y: gaps(s.y),
    error_y: errorBars(s),
    text: s.text ? [...s.text] : undefined,
    marker: { color: colorFor(s.name), size: mode.includes('lines') ? 6 : 8 },
    line: mode.includes('lines') ? { color: colorFor(s.name), width: 2 } : undefined,
  }));
}

/**
 * String labels that look like numbers ("0.1") would make Plotly guess a numeric axis; labels
 * given as strings are categories, so say so.
 */
function categoryAxis(layout: Record<string, unknown>, key: 'xaxis' | 'yaxis', labels: readonly unknown[] | undefined): void {
  if (labels && labels.length > 0 && labels.every((v) => typeof v === 'string')) {
    const ax = layout[key] as Record<string, unknown>;
    if (ax.type === 'log') throw new Error(`a log ${key[0]} axis needs numeric ${key[0]} values, got strings.`);
    ax.type = 'category';
  }
}

/** Lines with markers and optional error bars. */
export function lineFigure(series: Series[], opts: FigureOptions = {}): FigureSpec {
  checkSeries(series, 'lineFigure', false);
  const layout = baseLayout(opts, 'lineFigure');
  categoryAxis(layout, 'xaxis', series.flatMap((s) => s.x));
  return { data: xyTraces(series, 'lines+markers'), layout };
}

/** Markers only. */
export function scatterFigure(series: Series[], opts: FigureOptions = {}): FigureSpec {
  checkSeries(series, 'scatterFigure', false);
  const layout = baseLayout(opts, 'scatterFigure');
  categoryAxis(layout, 'xaxis', series.flatMap((s) => s.x));
  return { data: xyTraces(series, 'markers'), layout };
}

/** Grouped (default) or stacked bars; x are the categories. */
export function barFigure(series: Series[], opts: FigureOptions & { barmode?: 'group' | 'stack' | 'overlay' } = {}): FigureSpec {
  checkSeries(series, 'barFigure', false);
  const barmode = opts.barmode ?? 'group';
  if (!['group', 'stack', 'overlay'].includes(barmode)) throw new Error(`barFigure: barmode must be group, stack or overlay, got ${JSON.stringify(barmode)}.`);
  const data = series.map((s) => ({
    type: 'bar', name: s.name, x: [...s.x], y: gaps(s.y), error_y: errorBars(s),
    text: s.text ? [...s.text] : undefined, marker: { color: colorFor(s.name) },
  }));
  const layout = { ...baseLayout(opts, 'barFigure'), barmode };
  categoryAxis(layout, 'xaxis', series.flatMap((s) => s.x));
  return { data, layout };
}

export interface HeatmapData {
  /** Rows of equal length: z[i][j] is drawn at (x[j], y[i]). */
  z: number[][];
  x?: (number | string)[];
  y?: (number | string)[];
  /** Colour-bar title. */
  zTitle?: string;
  /** Plotly colorscale name (default 'Viridis'). */
  colorscale?: string;
  zmin?: number;
  zmax?: number;
  /** Write each value in its cell (small grids). */
  showValues?: boolean;
  digits?: number;
}

export function heatmapFigure(h: HeatmapData, opts: FigureOptions = {}): FigureSpec {
  if (!h || !Array.isArray(h.z) || h.z.length === 0 || !Array.isArray(h.z[0]) || h.z[0].length === 0) {
    throw new Error('heatmapFigure: z must be a non-empty array of non-empty rows (number[][]).');
  }
  const cols = h.z[0].length;
  h.z.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== cols) throw new Error(`heatmapFigure: z[${i}] has ${Array.isArray(r) ? r.length : 'no'} values, row 0 has ${cols}; rows must have equal length.`);
    r.forEach((v, j) => { if (typeof v !== 'number') throw new Error(`heatmapFigure: z[${i}][${j}] = ${JSON.stringify(v)} is not a number.`); });
  });
  if (h.x && h.x.length !== cols) throw new Error(`heatmapFigure: x has ${h.x.length} labels but z rows have ${cols} values.`);
  if (h.y && h.y.length !== h.z.length) throw new Error(`heatmapFigure: y has ${h.y.length} labels but z has ${h.z.length} rows.`);
  const trace: PlotlyTrace = {
    type: 'heatmap',
    z: h.z.map(gaps),
    x: h.x ? [...h.x] : undefined,
    y: h.y ? [...h.y] : undefined,
    colorscale: h.colorscale ?? 'Viridis',
    zmin: h.zmin,
    zmax: h.zmax,
    colorbar: h.zTitle ? { title: { text: h.zTitle } } : undefined,
    hoverongaps: false,
  };
  if (h.showValues) {
    const d = h.digits ?? 2;
    trace.text = h.z.map((r) => r.map((v) => (Number.isFinite(v) ? v.toFixed(d) : '')));
    trace.texttemplate = '%{text}';
  }
  const layout = baseLayout({ showLegend: false, ...opts }, 'heatmapFigure');
  categoryAxis(layout, 'xaxis', h.x);
  categoryAxis(layout, 'yaxis', h.y);
  return { data: [trace], layout };
}

/**
 * Several figures in one grid (row-major), each keeping its own axes. A series name that appears
 * in several panels gets one legend entry (legendgroup) and the same colour.
 */
export function subplots(figs: FigureSpec[], opts: { columns?: number; title?: string; titles?: string[]; width?: number; height?: number } = {}): FigureSpec {
  if (!Array.isArray(figs) || figs.length === 0) throw new Error('subplots: give at least one figure.');
  const columns = opts.columns ?? Math.min(figs.length, 2);
  if (!Number.isInteger(columns) || columns < 1) throw new Error(`subplots: columns must be a positive integer, got ${columns}.`);
  if (opts.titles && opts.titles.length !== figs.length) throw new Error(`subplots: titles has ${opts.titles.length} entries for ${figs.length} figures.`);
  const rows = Math.ceil(figs.length / columns);
  const width = opts.width ?? Math.max(DEFAULT_WIDTH, 420 * columns);
  const height = opts.height ?? 340 * rows + (opts.title ? 60 : 30);
  const layout: Record<string, unknown> = {
    ...baseLayout({ title: opts.title, width, height }, 'subplots'),
    grid: { rows, columns, pattern: 'independent', xgap: 0.12, ygap: 0.22 },
  };
  const annotations: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  const data: PlotlyTrace[] = [];
  figs.forEach((f, i) => {
    if (!f || !Array.isArray(f.data) || !f.layout) throw new Error(`subplots: figs[${i}] is not a FigureSpec ({ data, layout }).`);
    const s = i === 0 ? '' : String(i + 1);
    layout[`xaxis${s}`] = { ...(f.layout.xaxis as object), anchor: `y${s}` };
    layout[`yaxis${s}`] = { ...(f.layout.yaxis as object), anchor: `x${s}` };
    for (const t of f.data) {
      const name = typeof t.name === 'string' ? t.name : undefined;
      const first = name === undefined || !seen.has(name);
      if (name !== undefined) seen.add(name);
      const trace: PlotlyTrace = { ...t, xaxis: `x${s}`, yaxis: `y${s}` };
      if (name !== undefined) { trace.legendgroup = name; trace.showlegend = first; }
      if (t.type === 'heatmap') {
        // One colour bar per heatmap panel, next to its panel.
        const col = i % columns, row = Math.floor(i / columns);
        trace.colorbar = { ...(t.colorbar as object), len: 0.9 / rows, y: 1 - (row + 0.5) / rows, x: (col + 1) / columns - 0.02, thickness: 12 };
      }
      data.push(trace);
    }
    const title = opts.titles?.[i] ?? (f.layout.title as { text?: string } | undefined)?.text;
    if (title) {
      annotations.push({ text: title, xref: `x${s} domain`, yref: `y${s} domain`, x: 0.5, y: 1.12, showarrow: false, xanchor: 'center', font: { size: 14 } });
    }
  });
  layout.annotations = annotations;
  layout.margin = { l: 70, r: 30, t: opts.title ? 90 : 50, b: 60 };
  return { data, layout };
}

export interface SeriesFromOptions {
  x: string;
  y: string;
  /** Column whose values name the series (one series per value); omitted: one series named y. */
  group?: string;
  /**
   * Error bars: a column name holding them, or 'sd' / 'sem' to aggregate rows that share
   * (group, x) (e.g. seeds) into mean ± sd or ± standard error.
   */
  error?: string;
}

/**
 * Series from a tidy table. Without aggregation each row is one point; with error 'sd' or 'sem'
 * rows sharing (group, x) become one point at their mean. Points are sorted by x when x is numeric.
 */
export function seriesFrom(data: readonly Row[] | DataFrameLike, o: SeriesFromOptions): Series[] {
  const rows = rowsFrom(data, 'seriesFrom: data');
  if (rows.length === 0) throw new Error('seriesFrom: the table has no rows.');
  for (const c of [o.x, o.y, o.group, o.error === 'sd' || o.error === 'sem' ? undefined : o.error]) {
    if (c !== undefined && !(c in rows[0])) throw new Error(`seriesFrom: column '${c}' is not in the table (columns: ${Object.keys(rows[0]).join(', ')}).`);
  }
  const aggregate = o.error === 'sd' || o.error === 'sem';
  const groups = new Map<string, Map<string, { x: number | string; ys: number[]; err?: number }>>();
  rows.forEach((r, i) => {
    const g = o.group === undefined ? o.y : String(r[o.group]);
    const x = r[o.x];
    const y = r[o.y];
    if (typeof x !== 'number' && typeof x !== 'string') throw new Error(`seriesFrom: row ${i} has ${o.x} = ${JSON.stringify(x)}, not a number or string.`);
    if (typeof y !== 'number') throw new Error(`seriesFrom: row ${i} has ${o.y} = ${JSON.stringify(y)}, not a number.`);
    let pts = groups.get(g);
    if (!pts) { pts = new Map(); groups.set(g, pts); }
    const key = typeof x === 'number' ? `n:${x}` : `s:${x}`;
    const p = pts.get(key);
    if (p && !aggregate) throw new Error(`seriesFrom: two rows for ${o.group ? `${o.group} = ${g}, ` : ''}${o.x} = ${x}; aggregate replicates with error: 'sd' (or 'sem'), or add a group column.`);
    if (p) p.ys.push(y);
    else {
      const err = o.error && !aggregate ? r[o.error] : undefined;
      if (err !== undefined && typeof err !== 'number') throw new Error(`seriesFrom: row ${i} has ${o.error} = ${JSON.stringify(err)}, not a number.`);
      pts.set(key, { x, ys: [y], err: err as number | undefined });
    }
  });
  const out: Series[] = [];
  for (const [name, pts] of groups) {
    const list = [...pts.values()];
    if (list.every((p) => typeof p.x === 'number')) list.sort((a, b) => (a.x as number) - (b.x as number));
    const s: Series = { name, x: list.map((p) => p.x), y: [] };
    if (aggregate) {
      const stats = list.map((p) => meanSd(p.ys));
      s.y = stats.map((m) => m.mean);
      s.error = stats.map((m) => (m.n < 2 ? NaN : o.error === 'sem' ? standardError(m) : m.sd));
      s.text = stats.map((m) => `n=${m.n}`);
    } else {
      s.y = list.map((p) => p.ys[0]);
      if (o.error) s.error = list.map((p) => p.err as number);
    }
    out.push(s);
  }
  return out;
}

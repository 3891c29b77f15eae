/**
 * Tables for notebooks: rows (array of objects) or a danfojs DataFrame -> an HTML table (with a
 * text/plain twin), plus number and mean ± sd formatting shared by tables, claims and reports.
 */
import { displayBundle, escapeHtml } from './display';
import type { MeanSd } from '../stats';

export type Row = Record<string, unknown>;

/** What we need from a danfojs DataFrame (duck-typed: the library does not load danfojs). */
export interface DataFrameLike {
  columns: string[];
  values: unknown[][] | unknown[];
}

export function isDataFrameLike(x: unknown): x is DataFrameLike {
  return !!x && typeof x === 'object' && Array.isArray((x as DataFrameLike).columns) && Array.isArray((x as DataFrameLike).values);
}

/** Rows from an array of objects or a DataFrame; throws on anything else. */
export function rowsFrom(data: readonly Row[] | DataFrameLike, what = 'data'): Row[] {
  if (isDataFrameLike(data)) {
    const cols = data.columns;
    const vals = data.values as unknown[];
    // A one-column frame may give a flat array of values.
    return vals.map((r) => {
      const arr = Array.isArray(r) ? r : [r];
      const row: Row = {};
      cols.forEach((c, j) => { row[c] = arr[j]; });
      return row;
    });
  }
  if (Array.isArray(data)) {
    data.forEach((r, i) => {
      if (!r || typeof r !== 'object' || Array.isArray(r)) throw new Error(`${what}[${i}] must be an object (one row), got ${JSON.stringify(r)}.`);
    });
    return data as Row[];
  }
  throw new Error(`${what} must be an array of row objects or a danfojs DataFrame, got ${data === null ? 'null' : typeof data}.`);
}

/** Union of the rows' keys, in first-seen order. */
export function columnsOf(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

export function isMeanSd(x: unknown): x is MeanSd {
  return !!x && typeof x === 'object' && typeof (x as MeanSd).mean === 'number' && typeof (x as MeanSd).sd === 'number';
}

function checkDigits(digits: number, fn: string): void {
  if (!Number.isInteger(digits) || digits < 0 || digits > 15) throw new Error(`${fn}: digits must be an integer 0..15, got ${digits}.`);
}

/**
 * Integers as they are; other numbers with `digits` decimals, switching to exponent notation for
 * magnitudes where fixed decimals would hide the value (|x| < 10^-digits) or be unwieldy (>= 1e7).
 */
export function formatNumber(x: number, digits = 3): string {
  checkDigits(digits, 'formatNumber');
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < Math.pow(10, -digits) || a >= 1e7)) return x.toExponential(Math.max(digits - 1, 1));
  return x.toFixed(digits);
}

/** "0.912 ± 0.013" (sd omitted when not finite, e.g. a single seed: "0.912 (n=1)"). */
export function formatMeanSd(mean: number | MeanSd, sd?: number, digits = 3): string {
  const m = typeof mean === 'number' ? { mean, sd: sd ?? NaN, n: undefined as number | undefined } : mean;
  if (typeof m.mean !== 'number') throw new Error(`formatMeanSd: mean must be a number, got ${JSON.stringify(mean)}.`);
  if (!Number.isFinite(m.sd)) return `${formatNumber(m.mean, digits)}${m.n !== undefined ? ` (n=${m.n})` : ''}`;
  return `${formatNumber(m.mean, digits)} ± ${formatNumber(m.sd, digits)}`;
}

/** One cell as text: numbers with `digits`, {mean, sd} as mean ± sd, arrays joined, null empty. */
export function formatCell(v: unknown, digits = 3): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return formatNumber(v, digits);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (isMeanSd(v)) return formatMeanSd(v, undefined, digits);
  if (Array.isArray(v)) return v.map((e) => formatCell(e, digits)).join(', ');
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

export interface TableOptions {
  caption?: string;
  /** Decimals for non-integer numbers (default 3). */
  digits?: number;
  /** Columns to show, in order (default: all, first-seen order). */
  columns?: string[];
}

function prepare(data: readonly Row[] | DataFrameLike, opts: TableOptions, fn: string): { cols: string[]; cells: string[][]; numeric: boolean[] } {
  const rows = rowsFrom(data, `${fn}: data`);
  const digits = opts.digits ?? 3;
  checkDigits(digits, fn);
  const all = columnsOf(rows);
  const cols = opts.columns ?? all;
  for (const c of cols) if (!all.includes(c) && rows.length > 0) throw new Error(`${fn}: column '${c}' is not in the data (columns: ${all.join(', ')}).`);
  const cells = rows.map((r) => cols.map((c) => formatCell(r[c], digits)));
  const numeric = cols.map((c) => rows.length > 0 && rows.every((r) => r[c] === undefined || r[c] === null || typeof r[c] === 'number' || isMeanSd(r[c])));
  return { cols, cells, numeric };
}

/** HTML table (class "pai-table"); numeric columns right-aligned. */
export function tableHtml(data: readonly Row[] | DataFrameLike, opts: TableOptions = {}): string {
  const { cols, cells, numeric } = prepare(data, opts, 'tableHtml');
  const align = (j: number) => (numeric[j] ? 'right' : 'left');
  const head = cols.map((c, j) => `<th style="text-align:${align(j)}">${escapeHtml(c)}</th>`).join('');
  const body = cells.map((r) => `<tr>${r.map((v, j) => `<td style="text-align:${align(j)}">${escapeHtml(v)}</td>`).join('')}</tr>`).join('\n');
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : '';
  return `<table class="pai-table">${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

/** Fixed-width text table with the same cells as tableHtml. */
export function tableText(data: readonly Row[] | DataFrameLike, opts: TableOptions = {}): string {
  const { cols, cells, numeric } = prepare(data, opts, 'tableText');
  const width = cols.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j].length)));
  const pad = (s: string, j: number) => (numeric[j] ? s.padStart(width[j]) : s.padEnd(width[j]));
  const lines = [cols.map(pad).join('  '), width.map((w) => '-'.repeat(w)).join('  '), ...cells.map((r) => r.map(pad).join('  '))];
  return (opts.caption ? opts.caption + '\n' : '') + lines.map((l) => l.trimEnd()).join('\n');
}

/** Display a table: one message with text/html and text/plain. */
export function showTable(data: readonly Row[] | DataFrameLike, opts: TableOptions = {}): void {
  displayBundle({ data: { 'text/html': tableHtml(data, opts), 'text/plain': tableText(data, opts) } });
}

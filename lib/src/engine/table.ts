/**
 * One tidy results table (anchors-and-traps §3.12): a danfojs DataFrame with one row per record.
 * Columns: `_key`, the config flattened to dotted paths ('model.width'), the result's metrics
 * flattened the same way, and `_error` (only when some record failed). Arrays stay whole in one
 * cell. A result field named like a config field becomes `result.<name>`. Missing values are null.
 *
 * aggregate() is computed here in float64, not with danfojs groupby, because danfojs 1.2
 * groupby().std() throws on null cells, gives sd 0 (not NaN) for a single value, and count()
 * counts NaN and null as values.
 */
import type { DataFrame } from 'danfojs-node';
import { isPlainObject, PlainObject } from './canonical';
import { mean, sampleSd } from '../stats';

// Loaded on first use: danfojs-node takes ~0.7 s to import, and most users of the library never build a table.
let dfd: typeof import('danfojs-node') | undefined;
const danfo = () => (dfd ??= require('danfojs-node') as typeof import('danfojs-node'));

type Cell = unknown;
export interface TableRecord { key: string; config: PlainObject; result?: unknown; error?: { message: string } }

function flatten(value: unknown, prefix: string, into: Map<string, Cell>): void {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    for (const k of Object.keys(value)) flatten(value[k], prefix ? `${prefix}.${k}` : k, into);
  } else if (prefix) {
    into.set(prefix, value === undefined ? null : value);
  }
}

/** Build a DataFrame from row objects with the given column order (missing cells become null). */
export function rowsToFrame(rows: Record<string, Cell>[], columns: string[]): DataFrame {
  if (rows.length === 0) return new (danfo().DataFrame)([], { columns });
  const data: Record<string, Cell[]> = {};
  for (const c of columns) data[c] = rows.map((r) => (r[c] === undefined ? null : r[c]));
  return new (danfo().DataFrame)(data, { columns });
}

/**
 * Results table of sweep records or stored records. `columns` picks and orders columns (names as
 * in the full table); unknown names throw, listing the available ones.
 */
export function resultsTable(records: readonly TableRecord[], columns?: string[]): DataFrame {
  if (!Array.isArray(records)) throw new Error('resultsTable: pass an array of records (from runSweep or store.all()).');
  const configCols: string[] = [], resultCols: string[] = [];
  const seen = new Set<string>();
  let anyError = false;
  const rows = records.map((rec, i) => {
    if (!rec || !isPlainObject(rec.config) || typeof rec.key !== 'string') {
      throw new Error(`resultsTable: records[${i}] is not a record (needs key, config and result or error).`);
    }
    const cfg = new Map<string, Cell>(), res = new Map<string, Cell>();
    flatten(rec.config, '', cfg);
    if (rec.error) anyError = true;
    else if (isPlainObject(rec.result)) flatten(rec.result, '', res);
    else if (rec.result !== undefined) res.set('result', rec.result);
    const row: Record<string, Cell> = { _key: rec.key };
    for (const [k, v] of cfg) { row[k] = v; if (!seen.has(k)) { seen.add(k); configCols.push(k); } }
    return { row, res, error: rec.error?.message ?? null };
  });
  const configSet = new Set(configCols);
  const resName = (k: string) => (configSet.has(k) || k === '_key' || k === '_error' ? `result.${k}` : k);
  const resSeen = new Set<string>();
  for (const r of rows) {
    for (const [k, v] of r.res) {
      const name = resName(k);
      r.row[name] = v;
      if (!resSeen.has(name)) { resSeen.add(name); resultCols.push(name); }
    }
    if (anyError) r.row._error = r.error;
  }
  const all = ['_key', ...configCols, ...resultCols, ...(anyError ? ['_error'] : [])];
  let cols = all;
  if (columns) {
    const missing = columns.filter((c) => !all.includes(c));
    if (missing.length) throw new Error(`resultsTable: unknown column(s) ${missing.join(', ')}; available: ${all.join(', ')}.`);
    cols = columns;
  }
  return rowsToFrame(rows.map((r) => r.row), cols);
}

/** Rows of a DataFrame as plain objects (column name -> value). */
export function toRows(df: DataFrame): Record<string, Cell>[] {
  const cols = df.columns as string[];
  if (df.shape[0] === 0) return [];
  return (df.values as Cell[][]).map((vals) => Object.fromEntries(cols.map((c, j) => [c, vals[j]])));
}

function column(df: DataFrame, name: string): Cell[] {
  const cols = df.columns as string[];
  if (!cols.includes(name)) throw new Error(`aggregate: no column '${name}'; columns are ${cols.join(', ')}.`);
  const j = cols.indexOf(name);
  return df.shape[0] === 0 ? [] : (df.values as Cell[][]).map((r) => r[j]);
}

function compareCells(a: Cell, b: Cell): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a !== typeof b) return typeof a < typeof b ? -1 : 1;
  const sa = typeof a === 'string' ? a : JSON.stringify(a), sb = typeof b === 'string' ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * Group by the `by` columns and give, per metric, `<m>_mean`, `<m>_sd` (sample sd, n-1; NaN when
 * n < 2) and `<m>_n` (number of values used: null/missing cells are skipped; a NaN left in a
 * metric counts and makes mean and sd NaN). When the table has an `outcome` column (train results),
 * rows whose outcome is 'diverged' (divergence.ts) are left out of every mean and counted in a
 * `diverged` column instead, so a diverged run's chance-level accuracy never enters a mean
 * unseen. Groups are sorted by the `by` values.
 */
export function aggregate(df: DataFrame, by: string[], metrics: string[]): DataFrame {
  if (!Array.isArray(by) || !Array.isArray(metrics) || metrics.length === 0) {
    throw new Error('aggregate(df, by, metrics): by is an array of column names (may be empty), metrics a non-empty one.');
  }
  const byCols = by.map((b) => column(df, b));
  const metCols = metrics.map((m) => column(df, m));
  const outcome = (df.columns as string[]).includes('outcome') ? column(df, 'outcome') : null;
  const nRows = df.shape[0];
  const groups = new Map<string, { keys: Cell[]; rows: number[] }>();
  for (let i = 0; i < nRows; i++) {
    const keys = byCols.map((c) => (c[i] === undefined ? null : c[i]));
    const id = JSON.stringify(keys);
    const g = groups.get(id);
    if (g) g.rows.push(i); else groups.set(id, { keys, rows: [i] });
  }
  const sorted = [...groups.values()].sort((x, y) => {
    for (let j = 0; j < by.length; j++) { const c = compareCells(x.keys[j], y.keys[j]); if (c) return c; }
    return 0;
  });
  const columns = [...by, ...metrics.flatMap((m) => [`${m}_mean`, `${m}_sd`, `${m}_n`]), ...(outcome ? ['diverged'] : [])];
  const rows = sorted.map((g) => {
    const row: Record<string, Cell> = {};
    by.forEach((b, j) => { row[b] = g.keys[j]; });
    const used = outcome ? g.rows.filter((i) => outcome[i] !== 'diverged') : g.rows;
    if (outcome) row.diverged = g.rows.length - used.length;
    metrics.forEach((m, j) => {
      const xs: number[] = [];
      for (const i of used) {
        const v = metCols[j][i];
        if (v === null || v === undefined) continue;
        if (typeof v === 'boolean') { xs.push(v ? 1 : 0); continue; }
        if (typeof v !== 'number') throw new Error(`aggregate: metric '${m}' has a non-numeric value ${JSON.stringify(v)} in row ${i}.`);
        xs.push(v);
      }
      row[`${m}_mean`] = mean(xs); row[`${m}_sd`] = sampleSd(xs); row[`${m}_n`] = xs.length;
    });
    return row;
  });
  return rowsToFrame(rows, columns);
}

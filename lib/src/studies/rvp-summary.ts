/**
 * Summaries of the reduced-vs-pruned results table: mean ± sd over seeds per (family, criterion,
 * budget), from rows or a DataFrame (the claims in rvp-claims.ts and the figures read these).
 */
import { rowsFrom, Row } from '../notebook/tables';
import { mean, sampleSd } from '../stats';
import type { Criterion } from './rvp-plan';
import type { RvpFamily } from './rvp-jobs';
import { seriesName } from './rvp-run';
import type { RvpRow, RvpRun } from './rvp-run';

export interface RvpGroup {
  series: string;
  family: RvpFamily;
  criterion: Criterion | null;
  budget: number;
  label: string;
  n: number;
  params: number;
  macs: number;
  errorMean: number;
  /** Sample sd over seeds (NaN for one seed). */
  errorSd: number;
  steps: number;
  /** Mean kept interior channels per block. */
  interior: number[];
}


function num(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new Error(`reduced-vs-pruned table: ${what} must be a number, got ${JSON.stringify(v)}.`);
  return v;
}

/** Table rows (array or DataFrame) as RvpRow-shaped objects; interior may be an array or a space-joined string. */
export function normaliseRows(table: readonly Row[] | { columns: string[]; values: unknown[] }): RvpRow[] {
  return rowsFrom(table as readonly Row[], 'reduced-vs-pruned table').map((r, i) => {
    const list = (v: unknown) => (Array.isArray(v) ? (v as number[]) : typeof v === 'string' && v.trim() ? v.trim().split(/\s+/).map(Number) : []);
    const interior = list(r.interior);
    return {
      ...r,
      series: String(r.series ?? seriesName(r.family as RvpFamily, (r.criterion ?? null) as Criterion | null)),
      family: r.family as RvpFamily, criterion: (r.criterion ?? null) as Criterion | null,
      budget: r.budget === null || r.budget === undefined ? null : num(r.budget, `row ${i} budget`),
      label: String(r.label ?? ''), seed: num(r.seed, `row ${i} seed`), params: num(r.params, `row ${i} params`),
      macs: typeof r.macs === 'number' ? r.macs : NaN, testError: num(r.testError, `row ${i} testError`),
      steps: typeof r.steps === 'number' ? r.steps : NaN, interior, key: String(r.key ?? ''),
      outcome: r.outcome === 'diverged' ? 'diverged' : 'ok', history: list(r.history),
    };
  });
}

/** Labels that differ only in their numbers, merged into one with min–max ranges ('P&T, 110–118 ch. removed'). */
export function labelRange(labels: string[]): string | null {
  const re = /\d+(?:\.\d+)?/g;
  const skel = labels.map((l) => l.replace(re, '#'));
  if (skel.some((x) => x !== skel[0])) return null;
  const nums = labels.map((l) => (l.match(re) ?? []).map(Number));
  let i = 0;
  return skel[0].replace(/#/g, () => {
    const col = nums.map((n) => n[i]);
    const texts = labels.map((l) => (l.match(re) ?? [])[i]);
    i++;
    const lo = Math.min(...col), hi = Math.max(...col);
    return lo === hi ? texts[0] : `${texts[col.indexOf(lo)]}–${texts[col.indexOf(hi)]}`;
  });
}

/** Mean ± sd over seeds per (family, criterion, budget); rows without a budget and diverged rows are left out (rvpGates counts those). */
export function summarize(table: readonly Row[] | { columns: string[]; values: unknown[] }): RvpGroup[] {
  const rows = normaliseRows(table);
  const groups = new Map<string, RvpRow[]>();
  for (const r of rows) {
    if (r.budget === null || r.outcome === 'diverged') continue;
    const k = JSON.stringify([r.family, r.criterion, r.budget]);
    const g = groups.get(k);
    if (g) g.push(r); else groups.set(k, [r]);
  }
  const out: RvpGroup[] = [];
  for (const g of groups.values()) {
    const f = g[0];
    const labels = [...new Set(g.map((r) => r.label))];
    const label = labels.length === 1 ? labels[0] : labelRange(labels) ?? `${labels.length} variants`;
    const len = Math.max(0, ...g.map((r) => r.interior.length));
    out.push({
      series: f.series, family: f.family, criterion: f.criterion, budget: f.budget!, label,
      n: g.length, params: mean(g.map((r) => r.params)), macs: mean(g.map((r) => r.macs)),
      errorMean: mean(g.map((r) => r.testError)), errorSd: sampleSd(g.map((r) => r.testError)), steps: mean(g.map((r) => r.steps)),
      interior: g.every((r) => r.interior.length === len) && len > 0 ? Array.from({ length: len }, (_, i) => mean(g.map((r) => r.interior[i]))) : [],
    });
  }
  return out.sort((a, b) => a.series.localeCompare(b.series) || b.budget - a.budget);
}

/** Mean ± sd over seeds of every pruned-and-tuned checkpoint target (matched and curve), for the P&T curves. */
export function pruneCurve(_p: unknown, run: Pick<RvpRun, 'prune'>): RvpGroup[] {
  const rows: RvpRow[] = [];
  for (const { config, result, key } of run.prune) {
    for (const c of result.checkpoints) for (const t of c.targets) {
      rows.push({ series: seriesName('pruned-tuned', config.prune.criterion), family: 'pruned-tuned', criterion: config.prune.criterion, budget: t, label: '', seed: config.seed, params: c.params, macs: c.macs, testError: c.testError, steps: result.base.steps + c.steps, interior: c.interior, outcome: 'ok', history: [], key });
    }
  }
  return summarize(rows);
}

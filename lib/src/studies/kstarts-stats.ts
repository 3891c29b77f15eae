/**
 * Statistics on the tidy table of the K-starts / dissipating-gradients study (kstarts-rows.ts): cells,
 * per-cell values and mean ± sd, paired comparisons by seed.
 */
import { formatNumber } from '../notebook/tables';
import { mean, meanSd } from '../stats';
import type { MeanSd } from '../stats';
import type { Row } from './kstarts-rows';

export type Metric = 'acc' | 'accAtTarget' | 'extraAcc' | 'epochsToTarget' | 'passes' | 'seconds';

export interface Cell { model: string; dataset: string; sparsity: number }
export const cellId = (c: Cell) => `${c.model}|${c.dataset}|${c.sparsity}`;
const seedId = (r: Row) => `${cellId(r)}|${r.seed}`;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Cells (model, dataset, sparsity) where `arm` has rows, in plan order (sorted by model, dataset, then p). */
export function cellsOf(rs: readonly Row[], arm: string, filter: (c: Cell) => boolean = () => true): Cell[] {
  const seen = new Map<string, Cell>();
  for (const r of rs) if (r.arm === arm && !seen.has(cellId(r))) seen.set(cellId(r), { model: r.model, dataset: r.dataset, sparsity: r.sparsity });
  return [...seen.values()].filter(filter);
}

export function cellLabel(c: Cell, withModel = true): string {
  return `${withModel ? `${c.model}, ` : ''}${c.dataset}, p=${c.sparsity}`;
}

/** Values of `metric` for `arm` in cell `c`, one per seed present. */
export function values(rs: readonly Row[], arm: string, c: Cell, metric: Metric = 'acc'): number[] {
  // diverged runs (divergence.ts) stay in the table with their outcome, but never enter a mean
  return rs.filter((r) => r.arm === arm && cellId(r) === cellId(c) && r.outcome !== 'diverged').map((r) => num(r[metric])).filter((v): v is number => v !== null);
}

/** Mean ± sd of `metric` for `arm` in cell `c` (null if no values). */
export function stat(rs: readonly Row[], arm: string, c: Cell, metric: Metric = 'acc'): MeanSd | null {
  const v = values(rs, arm, c, metric);
  return v.length ? meanSd(v) : null;
}

export interface Paired { n: number; wins: number; ties: number; losses: number; meanDiff: number; diffs: number[] }

/** Paired comparison a - b over the seeds both arms have (matched on model, dataset, sparsity, seed). */
export function paired(rs: readonly Row[], a: string, b: string, o: { metricA?: Metric; metricB?: Metric; filter?: (c: Cell) => boolean } = {}): Paired {
  const ma = o.metricA ?? 'acc', mb = o.metricB ?? ma;
  const filt = o.filter ?? (() => true);
  const bs = new Map<string, number>();
  for (const r of rs) if (r.arm === b && num(r[mb]) !== null) bs.set(seedId(r), r[mb] as number);
  const diffs: number[] = [];
  for (const r of rs) {
    if (r.arm !== a || !filt(r)) continue;
    const va = num(r[ma]), vb = bs.get(seedId(r));
    if (va === null || vb === undefined) continue;
    // accuracies are multiples of 1/testSize: drop float noise (e.g. 1e-17 from a mean over candidates)
    diffs.push(Math.round((va - vb) * 1e12) / 1e12);
  }
  const eps = 1e-12;
  return {
    n: diffs.length, wins: diffs.filter((d) => d > eps).length, ties: diffs.filter((d) => Math.abs(d) <= eps).length,
    losses: diffs.filter((d) => d < -eps).length, meanDiff: mean(diffs), diffs,
  };
}

/** "+0.0123" / "-0.0040" / "n/a". */
export function signed(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return 'n/a';
  return `${x >= 0 ? '+' : ''}${formatNumber(x, digits)}`;
}

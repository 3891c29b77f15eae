/**
 * Aggregation of notebook 02's runs (eoc-rescaling.ts): seed means with the failed, diverged and
 * emptied runs counted, and the last-stage kept fraction of a mask (disconnection: prune/effective.ts noPathAtLayerLevel).
 */
import { meanSd } from '../stats';
import type { RunRow } from './eoc-rescaling-jobs';

export interface AccSummary { mean: number; sd: number; n: number; emptySeeds: number; failed: number; diverged: number }

/** Mean ± sd of acc over rows sharing `keys`; counts runs with an empty layer, failed and diverged runs (both left out of the mean). */
export function summarize<T, K extends keyof T & string>(rows: ReadonlyArray<RunRow<T>>, keys: readonly K[]): Array<Pick<T, K> & AccSummary> {
  const groups = new Map<string, Array<RunRow<T>>>();
  for (const r of rows) {
    const k = JSON.stringify(keys.map((key) => r[key]));
    const g = groups.get(k);
    if (g) g.push(r); else groups.set(k, [r]);
  }
  return [...groups.values()].map((g) => {
    const ok = g.filter((r) => r.outcome !== 'error' && r.outcome !== 'diverged' && Number.isFinite(r.acc));
    const ms = ok.length ? meanSd(ok.map((r) => r.acc)) : { mean: NaN, sd: NaN, n: 0 };
    const head = Object.fromEntries(keys.map((key) => [key, g[0][key]])) as Pick<T, K>;
    return { ...head, mean: ms.mean, sd: ms.sd, n: ms.n, emptySeeds: g.filter((r) => r.emptyLayers.length > 0).length, failed: g.filter((r) => r.outcome === 'error').length, diverged: g.filter((r) => r.outcome === 'diverged').length };
  });
}

/** Fraction of weights kept in the layers of the last stage (ResNet names s3b*), or of `prefix`. */
export function keptFraction(perLayer: ReadonlyArray<{ name: string; size: number; kept: number }>, prefix = 's3'): number {
  const sel = perLayer.filter((l) => l.name.startsWith(prefix));
  if (sel.length === 0) throw new Error(`keptFraction: no layer named ${prefix}*; layers: ${perLayer.map((l) => l.name).join(', ')}.`);
  return sel.reduce((a, l) => a + l.kept, 0) / sel.reduce((a, l) => a + l.size, 0);
}

/**
 * Aggregation of notebook 02's runs (eoc-rescaling.ts): seed means with the failed, diverged and
 * emptied runs counted, and the layer-level reading of a mask (disconnection, last-stage kept fraction).
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

/**
 * No input→output path at the layer level. FFNN (a chain): some layer is empty. ResNet: the stem
 * conv or the classifier is empty, or a block's residual branch is cut (conv1 or conv2 empty) while
 * its shortcut is a projection conv that is empty too (an identity shortcut always passes). A
 * necessary condition only: unit-level disconnection is not detected.
 */
export function disconnectedAtLayerLevel(perLayer: ReadonlyArray<{ name: string; kept: number }>): boolean {
  const empty = new Set(perLayer.filter((l) => l.kept === 0).map((l) => l.name));
  if (empty.size === 0) return false;
  const names = perLayer.map((l) => l.name);
  const isResNet = names.some((n) => /^s\d+b\d+\//.test(n));
  if (!isResNet) return true;
  if ([...empty].some((n) => !/^s\d+b\d+\//.test(n))) return true; // stem or classifier
  const blocks = new Set(names.map((n) => /^(s\d+b\d+)\//.exec(n)?.[1]).filter((b): b is string => !!b));
  for (const b of blocks) {
    const branchCut = empty.has(`${b}/conv1/kernel`) || empty.has(`${b}/conv2/kernel`);
    const hasProjection = names.includes(`${b}/shortcut/kernel`);
    if (branchCut && hasProjection && empty.has(`${b}/shortcut/kernel`)) return true;
  }
  return false;
}

/** Fraction of weights kept in the layers of the last stage (ResNet names s3b*), or of `prefix`. */
export function keptFraction(perLayer: ReadonlyArray<{ name: string; size: number; kept: number }>, prefix = 's3'): number {
  const sel = perLayer.filter((l) => l.name.startsWith(prefix));
  if (sel.length === 0) throw new Error(`keptFraction: no layer named ${prefix}*; layers: ${perLayer.map((l) => l.name).join(', ')}.`);
  return sel.reduce((a, l) => a + l.kept, 0) / sel.reduce((a, l) => a + l.size, 0);
}

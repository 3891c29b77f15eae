/**
 * Shared helpers of the Haroon methods: exact-count selection through the project's one routine
 * (scoresToMask), target counts, seeds derived per candidate, and small statistics.
 */
import type { Net } from '../nn/net';
import { Mask } from '../mask';
import { Rng } from '../rng';
import { Scope, Scores, scoresToMask, checkSparsity } from '../prune/scores-to-mask';
import { shapesOf } from '../prune/score';

/** How many weights to keep: one global count, or one count per prunable kernel. */
export type KeepCounts = { scope: 'global'; total: number } | { scope: 'layerwise'; perLayer: Map<string, number> };

/** Kept counts of sparsity `p` with the convention of scoresToMask: round((1 - p) * n) per scope. */
export function targetCounts(net: Net, sparsity: number, scope: Scope): KeepCounts {
  checkSparsity(sparsity);
  if (scope === 'global') {
    const n = net.prunable.reduce((a, p) => a + p.size, 0);
    return { scope, total: Math.round((1 - sparsity) * n) };
  }
  if (scope !== 'layerwise') throw new Error(`Unknown scope '${scope as string}': use 'global' or 'layerwise'.`);
  return { scope, perLayer: new Map(net.prunable.map((p) => [p.name, Math.round((1 - sparsity) * p.size)])) };
}

/** Mask keeping exactly `counts` weights with the highest scores (ties by index, as scoresToMask). */
export function keepTop(net: Net, scores: Scores, counts: KeepCounts): Mask {
  const shapes = shapesOf(net);
  const sizeOf = (name: string) => shapes.get(name)!.reduce((a, b) => a * b, 1);
  if (counts.scope === 'global') {
    const n = [...scores.keys()].reduce((a, name) => a + sizeOf(name), 0);
    if (!Number.isInteger(counts.total) || counts.total < 1 || counts.total > n) {
      throw new Error(`keepTop: cannot keep ${counts.total} of ${n} weights; choose a sparsity that keeps at least one weight.`);
    }
    const mask = scoresToMask(scores, 1 - counts.total / n, { scope: 'global', shapes }).mask;
    if (mask.kept !== counts.total) throw new Error(`keepTop: internal error, kept ${mask.kept} instead of ${counts.total}.`);
    return mask;
  }
  const entries: Array<[string, { shape: number[]; data: Uint8Array }]> = [];
  for (const [name, s] of scores) {
    const k = counts.perLayer.get(name);
    const n = sizeOf(name);
    if (k === undefined || !Number.isInteger(k) || k < 0 || k > n) throw new Error(`keepTop: invalid keep count ${k} for ${name} (size ${n}).`);
    // scoresToMask cannot express "keep none" (sparsity 1); an emptied layer needs no ranking
    const data = k === 0 ? new Uint8Array(n)
      : scoresToMask(new Map([[name, s]]), 1 - k / n, { scope: 'layerwise', shapes }).mask.get(name);
    let kept = 0;
    for (let i = 0; i < n; i++) kept += data[i];
    if (kept !== k) throw new Error(`keepTop: internal error, kept ${kept} instead of ${k} in ${name}.`);
    entries.push([name, { shape: shapes.get(name)!, data }]);
  }
  return new Mask(entries);
}

/** Seed of candidate i's random mask; candidate 0's is also the random baseline's (k = 1 == random). */
export function candidateMaskSeed(maskSeed: number, i: number): number {
  return new Rng(maskSeed, 'haroon/candidate-mask').fork(String(i)).nextUint32();
}

/** Init seed of candidate i under 'fresh' init; candidate 0 keeps the run's init seed. */
export function candidateInitSeed(initSeed: number, i: number): number {
  return i === 0 ? initSeed : new Rng(initSeed, 'haroon/candidate-init').fork(String(i)).nextUint32();
}

/** Root mean square of an array (float64 accumulation). */
export function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return a.length ? Math.sqrt(s / a.length) : 0;
}

/** Per-layer kept counts of a mask as a plain record. */
export function perLayerCounts(mask: Mask): Array<{ name: string; size: number; kept: number; density: number }> {
  return mask.perLayer().map((l) => ({ name: l.name, size: l.size, kept: l.kept, density: l.density }));
}

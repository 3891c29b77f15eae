/**
 * The one routine that turns per-weight scores into a mask: keep exactly round((1 - s) * n) weights
 * with the highest scores, globally or per layer, breaking ties deterministically by flat index
 * (earlier layers, then earlier positions, win). NaN scores rank below everything.
 */
import { Mask } from '../mask';

export type Scores = Map<string, Float32Array>;
export type Scope = 'global' | 'layerwise';

export interface ScoresToMaskOptions {
  scope?: Scope;
  /** Shapes of the scored tensors (required to build the mask). */
  shapes: Map<string, number[]>;
}

export interface MaskSelection {
  mask: Mask;
  /** Score of the last kept weight (global scope), or per layer. */
  threshold: number | Map<string, number>;
  /** Weights whose score equals the threshold and were decided by the index tie-break. */
  tiesBroken: number;
  zeroScores: number;
  nanScores: number;
}

export function checkSparsity(s: number): void {
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s >= 1) {
    throw new Error(`Sparsity must be in [0, 1) (fraction of weights removed), got ${s}. Use e.g. 0.9 for 90% sparsity.`);
  }
}

/** Indices of the k largest values of `v` (NaN as -Infinity), ties by lower index. Returns a 0/1 array. */
function topK(v: Float32Array, k: number): { keep: Uint8Array; threshold: number; ties: number } {
  const n = v.length;
  const keep = new Uint8Array(n);
  if (k <= 0) return { keep, threshold: Infinity, ties: 0 };
  if (k >= n) { keep.fill(1); return { keep, threshold: -Infinity, ties: 0 }; }
  const clean = new Float32Array(n);
  for (let i = 0; i < n; i++) clean[i] = Number.isNaN(v[i]) ? -Infinity : v[i];
  const sorted = Float32Array.from(clean).sort(); // ascending, native numeric sort
  const t = sorted[n - k];
  let above = 0;
  for (let i = 0; i < n; i++) if (clean[i] > t) { keep[i] = 1; above++; }
  let need = k - above, ties = 0;
  for (let i = 0; i < n && need > 0; i++) if (clean[i] === t) { keep[i] = 1; need--; ties++; }
  let totalTies = 0;
  for (let i = 0; i < n; i++) if (clean[i] === t) totalTies++;
  return { keep, threshold: t, ties: totalTies > ties ? ties : 0 };
}

export function scoresToMask(scores: Scores, sparsity: number, opts: ScoresToMaskOptions): MaskSelection {
  checkSparsity(sparsity);
  const scope = opts.scope ?? 'global';
  if (scope !== 'global' && scope !== 'layerwise') throw new Error(`Unknown pruning scope '${scope}': use 'global' or 'layerwise'.`);
  const names = [...scores.keys()];
  if (names.length === 0) throw new Error('scoresToMask: no scores given.');
  let zero = 0, nan = 0;
  for (const n of names) {
    const shape = opts.shapes.get(n);
    const s = scores.get(n)!;
    if (!shape) throw new Error(`scoresToMask: no shape for '${n}'.`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== s.length) throw new Error(`scoresToMask: scores for ${n} have ${s.length} entries, shape [${shape}] has ${size}.`);
    for (let i = 0; i < s.length; i++) { if (s[i] === 0) zero++; else if (Number.isNaN(s[i])) nan++; }
  }
  const entries: Array<[string, { shape: number[]; data: Uint8Array }]> = [];
  if (scope === 'global') {
    const total = names.reduce((a, n) => a + scores.get(n)!.length, 0);
    const flat = new Float32Array(total);
    let off = 0;
    for (const n of names) { flat.set(scores.get(n)!, off); off += scores.get(n)!.length; }
    const k = Math.round((1 - sparsity) * total);
    const { keep, threshold, ties } = topK(flat, k);
    off = 0;
    for (const n of names) {
      const len = scores.get(n)!.length;
      entries.push([n, { shape: opts.shapes.get(n)!, data: keep.slice(off, off + len) }]);
      off += len;
    }
    return { mask: new Mask(entries), threshold, tiesBroken: ties, zeroScores: zero, nanScores: nan };
  }
  const thresholds = new Map<string, number>();
  let tiesBroken = 0;
  for (const n of names) {
    const s = scores.get(n)!;
    const { keep, threshold, ties } = topK(s, Math.round((1 - sparsity) * s.length));
    entries.push([n, { shape: opts.shapes.get(n)!, data: keep }]);
    thresholds.set(n, threshold);
    tiesBroken += ties;
  }
  return { mask: new Mask(entries), threshold: thresholds, tiesBroken, zeroScores: zero, nanScores: nan };
}

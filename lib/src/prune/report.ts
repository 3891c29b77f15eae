/**
 * Per-layer pruning report (kept weights, density, multiply-accumulates kept, score statistics,
 * units left without inputs, effective sparsity), layer-collapse detection and the critical sparsity
 * of a score set.
 */
import type { Net } from '../nn/net';
import type { Mask } from '../mask';
import { Scope, Scores, scoresToMask } from './scores-to-mask';
import { shapesOf } from './score';
import { EFFECTIVE_ARCHS, EffectiveSparsity, effectiveSparsity } from './effective';

export interface LayerReportRow {
  name: string;
  shape: number[];
  size: number;
  kept: number;
  density: number;
  /** Multiply-accumulates per example of the dense layer (size × outH·outW for conv). */
  macs: number;
  /** MACs of the kept weights (FLOPs kept ≈ 2 × this). */
  macsKept: number;
  /** Output units (dense) / output channels (conv) with no kept incoming weight. */
  emptyUnits: number;
  /** Score statistics over the whole layer (null without scores). NaN scores are excluded and counted. */
  scoreMean: number | null;
  scoreStd: number | null;
  scoreMax: number | null;
  /** Scores exactly 0 (e.g. float32 underflow in deep ordered nets). */
  zeroScores: number | null;
  nanScores: number | null;
}

export interface ReportSummary {
  size: number;
  kept: number;
  density: number;
  sparsity: number;
  macs: number;
  macsKept: number;
  emptyLayers: string[];
  /** Some prunable layer has no weight left: no input→output path, the net cannot learn. */
  collapsed: boolean;
  zeroScores: number | null;
}

export interface LayerReport {
  layers: LayerReportRow[];
  summary: ReportSummary;
  /**
   * Kept weights on some input→output path, per layer and in total, and units cut off from the input
   * or the output (effective.ts); null for nets whose graph effective.ts does not know (see effectiveNote).
   */
  effective: EffectiveSparsity | null;
  effectiveNote?: string;
}

export function layerReport(net: Net, mask: Mask, scores?: Scores): LayerReport {
  mask.validateFor(net);
  const layers: LayerReportRow[] = net.prunable.map((p) => {
    const m = mask.get(p.name);
    let kept = 0;
    for (let i = 0; i < m.length; i++) kept += m[i];
    const out = p.shape[p.shape.length - 1];
    const unitKept = new Uint32Array(out);
    for (let i = 0; i < m.length; i++) if (m[i]) unitKept[i % out]++;
    let emptyUnits = 0;
    for (let u = 0; u < out; u++) if (unitKept[u] === 0) emptyUnits++;
    const row: LayerReportRow = {
      name: p.name, shape: p.shape.slice(), size: p.size, kept, density: kept / p.size,
      macs: p.size * p.macsPerWeight, macsKept: kept * p.macsPerWeight, emptyUnits,
      scoreMean: null, scoreStd: null, scoreMax: null, zeroScores: null, nanScores: null,
    };
    const s = scores?.get(p.name);
    if (scores && !s) throw new Error(`layerReport: scores have no entry for ${p.name}.`);
    if (s) {
      if (s.length !== p.size) throw new Error(`layerReport: scores for ${p.name} have ${s.length} entries, expected ${p.size}.`);
      let n = 0, sum = 0, sum2 = 0, max = -Infinity, zero = 0, nan = 0;
      for (let i = 0; i < s.length; i++) {
        const v = s[i];
        if (Number.isNaN(v)) { nan++; continue; }
        if (v === 0) zero++;
        n++; sum += v; sum2 += v * v; if (v > max) max = v;
      }
      const mean = n ? sum / n : NaN;
      Object.assign(row, {
        scoreMean: n ? mean : null, scoreStd: n ? Math.sqrt(Math.max(0, sum2 / n - mean * mean)) : null,
        scoreMax: n ? max : null, zeroScores: zero, nanScores: nan,
      });
    }
    return row;
  });
  const size = layers.reduce((a, l) => a + l.size, 0), kept = layers.reduce((a, l) => a + l.kept, 0);
  const empty = emptyLayers(layers);
  const arch = net.config?.arch;
  const known = arch !== undefined && EFFECTIVE_ARCHS.includes(arch);
  return {
    layers,
    effective: known ? effectiveSparsity(net, mask) : null,
    ...(known ? {} : { effectiveNote: `effective sparsity is not computed for ${arch === undefined ? 'nets without a build config' : `architecture '${arch}'`} (known: ${EFFECTIVE_ARCHS.join(', ')}).` }),
    summary: {
      size, kept, density: kept / size, sparsity: 1 - kept / size,
      macs: layers.reduce((a, l) => a + l.macs, 0), macsKept: layers.reduce((a, l) => a + l.macsKept, 0),
      emptyLayers: empty, collapsed: empty.length > 0,
      zeroScores: scores ? layers.reduce((a, l) => a + (l.zeroScores ?? 0), 0) : null,
    },
  };
}

/** Names of fully pruned layers, from a mask or from report rows. */
export function emptyLayers(x: Mask | Array<{ name: string; kept: number }>): string[] {
  const rows = Array.isArray(x) ? x : x.perLayer();
  return rows.filter((l) => l.kept === 0).map((l) => l.name);
}

/** Layer collapse: at least one prunable layer has no weight left. */
export function isCollapsed(mask: Mask): boolean {
  return emptyLayers(mask).length > 0;
}

export interface CollapsePoint {
  /** Smallest sparsity with an empty layer, 1 - K/n; null if no layer empties below sparsity 1. */
  sparsity: number | null;
  /** K: the largest kept count at which some layer is empty. */
  kept: number;
  n: number;
  /** 0-based index (in the scores' order) of the layer that empties first. */
  firstEmpty: number;
  firstEmptyName: string;
  /** Per layer: the sparsity from which that layer is empty, 1 - rank_l/n. */
  layerCollapseSparsity: number[];
}

/**
 * The critical sparsity of a score set under scoresToMask's global rule (keep the k largest, ties
 * by lower flat index, NaN lowest), computed exactly without bisection: layer l is empty under
 * top-k iff k <= rank_l, the number of weights ranked above the layer's best weight. So
 * K = max_l rank_l and s_cr = 1 - K/n. The one routine for the global rule: criticalSparsity's
 * global scope reads it.
 */
export function collapsePoint(scores: Scores): CollapsePoint {
  const names = [...scores.keys()];
  if (names.length === 0) throw new Error('collapsePoint: no scores given.');
  const clean = (v: number) => (Number.isNaN(v) ? -Infinity : v);
  let n = 0;
  const best = names.map((name) => {
    const s = scores.get(name)!;
    if (s.length === 0) throw new Error(`collapsePoint: scores for '${name}' are empty.`);
    n += s.length;
    let m = clean(s[0]);
    for (let i = 1; i < s.length; i++) { const v = clean(s[i]); if (v > m) m = v; }
    return m;
  });
  const sorted = new Float32Array(n);
  let off = 0;
  for (const name of names) { const s = scores.get(name)!; for (let i = 0; i < s.length; i++) sorted[off + i] = clean(s[i]); off += s.length; }
  sorted.sort();
  const above = (m: number): number => { // number of values > m in the ascending array
    let lo = 0, hi = n;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (sorted[mid] > m) hi = mid; else lo = mid + 1; }
    return n - lo;
  };
  // Ties with a layer's best: earlier flat indices win, i.e. equal values in earlier layers (within
  // the layer its best is the first occurrence of its maximum).
  const wanted = new Set(best);
  const seen = new Map<number, number>();
  const ranks = names.map((name, l) => {
    const r = above(best[l]) + (seen.get(best[l]) ?? 0);
    const s = scores.get(name)!;
    for (let i = 0; i < s.length; i++) { const v = clean(s[i]); if (wanted.has(v)) seen.set(v, (seen.get(v) ?? 0) + 1); }
    return r;
  });
  let first = 0;
  for (let l = 1; l < ranks.length; l++) if (ranks[l] > ranks[first]) first = l;
  const K = ranks[first];
  return {
    sparsity: K > 0 ? 1 - K / n : null, kept: K, n, firstEmpty: first, firstEmptyName: names[first],
    layerCollapseSparsity: ranks.map((r) => 1 - r / n),
  };
}

export interface CriticalSparsityOptions {
  scope?: Scope;
  /** Layerwise scope only: bisection tolerance on the sparsity (default 1e-9). */
  tol?: number;
}

export interface CriticalSparsity {
  /** Smallest sparsity at which some layer is fully pruned (null: none below 1). */
  sparsity: number | null;
  /** Weights kept at that sparsity (global scope). */
  kept: number | null;
  /** Layers empty at that sparsity (the first to collapse). */
  layers: string[];
  /** Width of the sparsity interval the answer is known to: 1/n for global (exact, one weight), tol for layerwise. */
  resolution: number;
  /** Calls of scoresToMask made (global scope: at most 2, the rank rule needs none). */
  evaluations: number;
}

/**
 * The smallest sparsity at which scoresToMask (the exact routine) empties some layer.
 *
 * Global scope: exact to one weight by collapsePoint's rank rule (s_cr = 1 − K / n, which
 * scoresToMask maps back to K kept weights); the layers empty there come from scoresToMask itself.
 * Layerwise scope: a layer empties when round((1−s)·M_l) = 0; bisection over s to `tol`.
 */
export function criticalSparsity(net: Net, scores: Scores, o: CriticalSparsityOptions = {}): CriticalSparsity {
  const scope = o.scope ?? 'global';
  if (scope !== 'global' && scope !== 'layerwise') throw new Error(`Unknown pruning scope '${scope as string}': use 'global' or 'layerwise'.`);
  const shapes = shapesOf(net);
  let evaluations = 0;
  const emptyAt = (s: number): string[] => { evaluations++; return scoresToMask(scores, s, { scope, shapes }).mask.emptyLayers(); };
  const n = [...scores.values()].reduce((a, v) => a + v.length, 0);
  if (scope === 'global') {
    // sparsity 0 empties only a layer with no weights (and validates the scores against the net)
    const atZero = emptyAt(0);
    if (atZero.length > 0) return { sparsity: 0, kept: n, layers: atZero, resolution: 1 / n, evaluations };
    const K = collapsePoint(scores).kept;
    if (K === 0) return { sparsity: null, kept: null, layers: [], resolution: 1 / n, evaluations };
    const sparsity = 1 - K / n;
    return { sparsity, kept: K, layers: emptyAt(sparsity), resolution: 1 / n, evaluations };
  }
  const tol = o.tol ?? 1e-9;
  if (!(tol > 0)) throw new Error(`criticalSparsity: tol must be positive, got ${tol}.`);
  if (emptyAt(0).length > 0) return { sparsity: 0, kept: null, layers: emptyAt(0), resolution: tol, evaluations };
  const top = 1 - Number.EPSILON;
  if (emptyAt(top).length === 0) return { sparsity: null, kept: null, layers: [], resolution: tol, evaluations };
  let lo = 0, hi = top; // collapse(lo) false, collapse(hi) true
  while (hi - lo > tol) {
    const mid = (lo + hi) / 2;
    if (emptyAt(mid).length > 0) hi = mid; else lo = mid;
  }
  const layers = emptyAt(hi);
  return { sparsity: hi, kept: null, layers, resolution: tol, evaluations };
}

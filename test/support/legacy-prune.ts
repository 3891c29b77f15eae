/**
 * FROZEN copies of the score → mask code as it was before issue #15 ("One pruning contract"), kept
 * only so differential tests can check that the new entry points return bit-identical masks,
 * selection statistics and (SBP-SR) rescaled weights. Do not edit to follow the library: the point
 * is that these do NOT change. Only scoring primitives that the refactor left untouched (snipScores,
 * graspScores, synflowScores, balancedBatch, gather, Rng, Mask) are imported from the library.
 */
import type * as tf from '@tensorflow/tfjs';
import {
  Mask, Net, Rng, Dataset, balancedBatch, gather, snipScores, graspScores, synflowScores, densityAt, FD_TOL,
} from 'prune-at-init';

export type Scores = Map<string, Float32Array>;
export type Scope = 'global' | 'layerwise';

export interface LegacySelection {
  mask: Mask;
  threshold: number | Map<string, number>;
  tiesBroken: number;
  zeroScores: number;
  nanScores: number;
}

function checkSparsity(s: number): void {
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s >= 1) {
    throw new Error(`Sparsity must be in [0, 1) (fraction of weights removed), got ${s}. Use e.g. 0.9 for 90% sparsity.`);
  }
}

// ---- old scores-to-mask.ts -------------------------------------------------------------------

function topK(v: Float32Array, k: number): { keep: Uint8Array; threshold: number; ties: number } {
  const n = v.length;
  const keep = new Uint8Array(n);
  if (k <= 0) return { keep, threshold: Infinity, ties: 0 };
  if (k >= n) { keep.fill(1); return { keep, threshold: -Infinity, ties: 0 }; }
  const clean = new Float32Array(n);
  for (let i = 0; i < n; i++) clean[i] = Number.isNaN(v[i]) ? -Infinity : v[i];
  const sorted = Float32Array.from(clean).sort();
  const t = sorted[n - k];
  let above = 0;
  for (let i = 0; i < n; i++) if (clean[i] > t) { keep[i] = 1; above++; }
  let need = k - above, ties = 0;
  for (let i = 0; i < n && need > 0; i++) if (clean[i] === t) { keep[i] = 1; need--; ties++; }
  let totalTies = 0;
  for (let i = 0; i < n; i++) if (clean[i] === t) totalTies++;
  return { keep, threshold: t, ties: totalTies > ties ? ties : 0 };
}

export function legacyScoresToMask(scores: Scores, sparsity: number, opts: { scope?: Scope; shapes: Map<string, number[]> }): LegacySelection {
  checkSparsity(sparsity);
  const scope = opts.scope ?? 'global';
  const names = [...scores.keys()];
  let zero = 0, nan = 0;
  for (const n of names) {
    const s = scores.get(n)!;
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

const shapesOf = (net: Net) => new Map(net.prunable.map((p) => [p.name, p.shape]));

// ---- old synflow.ts synflowPrune -------------------------------------------------------------

export function legacySynflowPrune(net: Net, sparsity: number, o: { rounds?: number; scope?: Scope; invert?: boolean } = {}): { selection: LegacySelection; scores: Scores; keptPerRound: number[] } {
  const rounds = o.rounds ?? 100;
  const shapes = shapesOf(net);
  let keep: Map<string, Uint8Array> = net.maskArrays();
  let articulation: Set<string> | undefined;
  let last: { selection: LegacySelection; scores: Scores } | undefined;
  const keptPerRound: number[] = [];
  for (let k = 1; k <= rounds; k++) {
    const sk = 1 - densityAt(k, rounds, 1 - sparsity, 'exponential');
    const res = synflowScores(net, keep, { articulation });
    articulation = res.articulation;
    const ranked: Scores = new Map();
    for (const [n, s] of res.scores) {
      const m = keep.get(n)!, r = Float32Array.from(s);
      for (let i = 0; i < r.length; i++) r[i] = !m[i] ? -Infinity : o.invert ? -r[i] : r[i];
      ranked.set(n, r);
    }
    const selection = legacyScoresToMask(ranked, Math.max(0, sk), { scope: o.scope ?? 'global', shapes });
    keep = new Map(selection.mask.names.map((n) => [n, selection.mask.get(n)]));
    keptPerRound.push(selection.mask.kept);
    last = { selection, scores: res.scores };
  }
  return { ...last!, keptPerRound };
}

// ---- old snip.ts batch (seed recovered by a regex on the RNG key) + old computeMask ----------

function legacyBatch(ds: Dataset, rng: Rng): Int32Array {
  const m = rng.key.match(/^(.*)\/prune\/[^/]+$/);
  const batchRng = m ? new Rng(m[1], 'prune/scoring-batch') : rng.fork('scoring-batch');
  return balancedBatch(ds.train, 10, ds.numClasses, batchRng);
}

function withBatch<T>(ds: Dataset, rng: Rng, f: (x: tf.Tensor, y: tf.Tensor) => T): T {
  const { x, y } = gather(ds, ds.train, legacyBatch(ds, rng));
  try { return f(x, y); } finally { x.dispose(); y.dispose(); }
}

export interface LegacyPruneOptions { method: string; sparsity: number; scope?: Scope; data?: Dataset; seed?: number; rounds?: number }

/** The old computeMask with default options (synflow: `rounds`). */
export function legacyComputeMask(net: Net, o: LegacyPruneOptions): { selection: LegacySelection; scores: Scores } {
  checkSparsity(o.sparsity);
  const scope = o.scope ?? 'global';
  const rng = new Rng(o.seed ?? 0, `prune/${o.method}`);
  let scores: Scores;
  switch (o.method) {
    case 'random': scores = new Map(net.prunable.map((p) => [p.name, rng.fork(p.name).uniformArray(p.size)])); break;
    case 'magnitude': { const w = net.getWeights(); scores = new Map(net.prunable.map((p) => [p.name, w.get(p.name)!.map(Math.abs)])); break; }
    case 'snip': case 'sbp-sr': scores = withBatch(o.data!, rng, (x, y) => snipScores(net, x, y, { bnMode: 'eval' })); break;
    case 'grasp': scores = withBatch(o.data!, rng, (x, y) => graspScores(net, x, y, { temperature: 200, hvp: undefined, tol: FD_TOL, bnMode: 'eval' }).scores); break;
    case 'synflow': { const r = legacySynflowPrune(net, o.sparsity, { rounds: o.rounds, scope }); return { selection: r.selection, scores: r.scores }; }
    default: throw new Error(`legacyComputeMask: no legacy copy of '${o.method}'.`);
  }
  return { selection: legacyScoresToMask(scores, o.sparsity, { scope, shapes: shapesOf(net) }), scores };
}

// ---- the old SBP-SR rescaling, written per unit from the formula ------------------------------

/**
 * W̃ = δ W σ_w / √(Σ kept W²) per output unit (fanIn) or per (position, unit) with target σ_w²/(kh·kw)
 * (perPosition): visits each group's members in increasing flat index, so the float64 sums match
 * the old code's single pass bit for bit.
 */
export function legacyRescaledWeights(net: Net, mask: Mask, sigma: number, variant: 'fanIn' | 'perPosition' = 'fanIn'): Map<string, Float32Array> {
  const raw = net.getWeights();
  const out = new Map<string, Float32Array>();
  for (const p of net.prunable) {
    const w = raw.get(p.name)!, m = mask.get(p.name), v = new Float32Array(w.length);
    const units = p.shape[p.shape.length - 1];
    const members: number[][] = [];
    if (variant === 'perPosition' && p.shape.length === 4) {
      const inCh = p.shape[2], positions = p.shape[0] * p.shape[1];
      for (let pos = 0; pos < positions; pos++) {
        for (let u = 0; u < units; u++) members.push(Array.from({ length: inCh }, (_, c) => pos * inCh * units + c * units + u));
      }
      scaleGroups(w, m, v, members, (sigma * sigma) / positions);
    } else {
      for (let u = 0; u < units; u++) members.push(Array.from({ length: w.length / units }, (_, r) => r * units + u));
      scaleGroups(w, m, v, members, sigma * sigma);
    }
    out.set(p.name, v);
  }
  return out;
}

function scaleGroups(w: Float32Array, m: Uint8Array, v: Float32Array, groups: number[][], target: number): void {
  for (const idx of groups) {
    let sq = 0;
    for (const i of idx) if (m[i]) sq += w[i] * w[i];
    const f = sq > 0 ? Math.sqrt(target / sq) : 0;
    for (const i of idx) v[i] = m[i] ? w[i] * f : 0;
  }
}

// ---- old early-pruning/select.ts keepTop ------------------------------------------------------------

export type KeepCounts = { scope: 'global'; total: number } | { scope: 'layerwise'; perLayer: Map<string, number> };

export function legacyKeepTop(shapes: Map<string, number[]>, scores: Scores, counts: KeepCounts): Mask {
  const sizeOf = (name: string) => shapes.get(name)!.reduce((a, b) => a * b, 1);
  if (counts.scope === 'global') {
    const n = [...scores.keys()].reduce((a, name) => a + sizeOf(name), 0);
    if (!Number.isInteger(counts.total) || counts.total < 1 || counts.total > n) throw new Error('legacyKeepTop: bad total');
    const mask = legacyScoresToMask(scores, 1 - counts.total / n, { scope: 'global', shapes }).mask;
    if (mask.kept !== counts.total) throw new Error(`legacyKeepTop: internal error, kept ${mask.kept} instead of ${counts.total}.`);
    return mask;
  }
  const entries: Array<[string, { shape: number[]; data: Uint8Array }]> = [];
  for (const [name, s] of scores) {
    const k = counts.perLayer.get(name)!;
    const n = sizeOf(name);
    const data = k === 0 ? new Uint8Array(n)
      : legacyScoresToMask(new Map([[name, s]]), 1 - k / n, { scope: 'layerwise', shapes }).mask.get(name);
    let kept = 0;
    for (let i = 0; i < n; i++) kept += data[i];
    if (kept !== k) throw new Error(`legacyKeepTop: internal error, kept ${kept} instead of ${k} in ${name}.`);
    entries.push([name, { shape: shapes.get(name)!, data }]);
  }
  return new Mask(entries);
}

/** The old dissipating.ts per-epoch ranking array (dead: -Infinity, non-finite live: -3.4e38). */
export function legacyDissipationScores(w: Float32Array, z: Float32Array, live: Uint8Array, e: number, score: 'relative-change' | 'absolute-change' | 'magnitude'): { r: Float64Array; s: Float32Array } {
  const r = new Float64Array(w.length), s = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const dw = Math.abs(w[i] - z[i]);
    r[i] = dw / (Math.abs(z[i]) + e);
    if (!live[i]) { s[i] = -Infinity; continue; }
    const v = score === 'magnitude' ? Math.abs(w[i]) : score === 'absolute-change' ? dw : r[i];
    s[i] = Number.isFinite(v) ? v : -3.4e38;
  }
  return { r, s };
}

/** The old kstarts.ts per-layer dissipation fitness sum. */
export function legacyDissipationSum(wt: Float32Array, z: Float32Array, m: Uint8Array, eps: number): number {
  let sd = 0;
  for (let i = 0; i < wt.length; i++) {
    if (!m[i]) continue;
    sd += Math.abs(wt[i] - z[i]) / (Math.abs(z[i]) + eps);
  }
  return sd;
}

// ---- old structured/prune-and-tune.ts channel argmin -----------------------------------------

export function legacyChannelsToRemove(groups: Array<{ name: string; size: number }>, keep: Map<string, Uint8Array>, scores: Map<string, Float32Array>,
  want: number, allowEmptyBlocks: boolean): Array<{ block: string; channel: number; score: number }> {
  const live = new Map(groups.map((g) => [g.name, keep.get(g.name)!.reduce((a, b) => a + b, 0)]));
  const cands: Array<{ block: string; channel: number; score: number; order: number }> = [];
  groups.forEach((g, gi) => {
    const m = keep.get(g.name)!, sc = scores.get(g.name)!;
    for (let c = 0; c < g.size; c++) if (m[c] === 1) cands.push({ block: g.name, channel: c, score: sc[c], order: gi * 1e7 + c });
  });
  cands.sort((a, b) => a.score - b.score || a.order - b.order);
  const removed: Array<{ block: string; channel: number; score: number }> = [];
  for (const c of cands) {
    if (removed.length >= want) break;
    if (!allowEmptyBlocks && live.get(c.block)! <= 1) continue;
    live.set(c.block, live.get(c.block)! - 1);
    removed.push({ block: c.block, channel: c.channel, score: c.score });
  }
  return removed;
}

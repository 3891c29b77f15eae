/**
 * The one routine that turns per-weight scores into a mask: keep exactly k weights with the highest
 * scores, globally or per layer, breaking ties deterministically by flat index (earlier layers, then
 * earlier positions, win). NaN scores rank below every number. k comes from a sparsity
 * (round((1 - s) * n) per scope) or is given as a keep count. With a previous mask, its pruned
 * weights are out of the race: never kept, whatever their score (asking for more than is live is
 * an error). Statistics (zero / NaN scores, ties) count live weights only.
 * `lowestLiveUnits` is the channel-level variant (structured pruning removes the lowest units).
 */
import { Mask } from '../mask';

export type Scores = Map<string, Float32Array>;
export type Scope = 'global' | 'layerwise';

/** How many weights to keep: one global count, or one count per scored tensor. */
export type KeepCounts = { scope: 'global'; total: number } | { scope: 'layerwise'; perLayer: Map<string, number> };

export interface ScoresToMaskOptions {
  /** Scope of a sparsity target (a KeepCounts target carries its own). */
  scope?: Scope;
  /** Shapes of the scored tensors (required to build the mask). */
  shapes: Map<string, number[]>;
  /** The mask being pruned further: weights with 0 here are never kept. */
  previous?: Map<string, ArrayLike<number>>;
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

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Kept counts of sparsity `s`: round((1 - s) * n) over all tensors (global) or per tensor. */
export function keepCounts(shapes: Map<string, number[]>, sparsity: number, scope: Scope): KeepCounts {
  checkSparsity(sparsity);
  if (scope === 'global') return { scope, total: Math.round((1 - sparsity) * [...shapes.values()].reduce((a, s) => a + sizeOf(s), 0)) };
  if (scope !== 'layerwise') throw new Error(`Unknown pruning scope '${scope as string}': use 'global' or 'layerwise'.`);
  return { scope, perLayer: new Map([...shapes].map(([n, s]) => [n, Math.round((1 - sparsity) * sizeOf(s))])) };
}

/** `counts` capped at the live counts of `previous` (a keep count never asks to revive). */
export function capAtLive(counts: KeepCounts, previous: Map<string, ArrayLike<number>>): KeepCounts {
  const live = (n: string) => countLive(previous.get(n)!);
  if (counts.scope === 'global') return { scope: 'global', total: Math.min(counts.total, [...previous.keys()].reduce((a, n) => a + live(n), 0)) };
  return { scope: 'layerwise', perLayer: new Map([...counts.perLayer].map(([n, k]) => [n, Math.min(k, live(n))])) };
}

/**
 * The value at index `j` of `a` sorted ascending (as TypedArray sort orders it, -0 before +0), found
 * by quickselect (Hoare partition, median-of-three pivots: equal runs, e.g. the zero scores of pruned
 * weights, split evenly); `a` is reordered. SynFlow selects 100 times per mask: a full sort of every
 * round dominated its time.
 */
export function kthSmallest(a: Float32Array, j: number): number {
  if (!(Number.isInteger(j) && j >= 0 && j < a.length)) throw new Error(`kthSmallest: index ${j} outside [0, ${a.length}).`);
  let lo = 0, hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as the pivot value
    const x = a[lo], y = a[mid], z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    let i = lo, k = hi;
    while (i <= k) {
      while (a[i] < pivot) i++;
      while (a[k] > pivot) k--;
      if (i <= k) { const t = a[i]; a[i] = a[k]; a[k] = t; i++; k--; }
    }
    if (j <= k) hi = k;
    else if (j >= i) lo = i;
    else break; // k < j < i: a[j] equals the pivot
  }
  const t = a[j];
  if (t !== 0) return t;
  // a zero: the sort puts -0 before +0, which comparisons cannot tell apart
  let below = 0, negZero = 0;
  for (let i = 0; i < a.length; i++) { if (a[i] < 0) below++; else if (Object.is(a[i], -0)) negZero++; }
  return j < below + negZero ? -0 : 0;
}

/**
 * Top k of `v` among the eligible entries (NaN as -Infinity), ties by lower index; 0/1 array.
 * Ineligible entries sit at -Infinity too (so the threshold is that of the whole array) but are
 * never kept or counted as ties.
 */
function topK(v: Float32Array, k: number, eligible: Uint8Array | null): { keep: Uint8Array; threshold: number; ties: number } {
  const n = v.length;
  const keep = new Uint8Array(n);
  if (k <= 0) return { keep, threshold: Infinity, ties: 0 };
  if (k >= n) { keep.fill(1); return { keep, threshold: -Infinity, ties: 0 }; }
  const clean = new Float32Array(n);
  for (let i = 0; i < n; i++) clean[i] = (eligible && !eligible[i]) || Number.isNaN(v[i]) ? -Infinity : v[i];
  const t = kthSmallest(Float32Array.from(clean), n - k); // the ascending sort's entry n - k, in O(n)
  const live = (i: number) => !eligible || eligible[i] === 1;
  let above = 0;
  for (let i = 0; i < n; i++) if (clean[i] > t) { keep[i] = 1; above++; }
  let need = k - above, ties = 0;
  for (let i = 0; i < n && need > 0; i++) if (clean[i] === t && live(i)) { keep[i] = 1; need--; ties++; }
  let totalTies = 0;
  for (let i = 0; i < n; i++) if (clean[i] === t && live(i)) totalTies++;
  return { keep, threshold: t, ties: totalTies > ties ? ties : 0 };
}

/** 1 where `m` is non-zero (a plain loop: Uint8Array.from with a map callback costs ~50x more per entry in V8). */
function binary(m: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(m.length);
  for (let i = 0; i < m.length; i++) out[i] = m[i] ? 1 : 0;
  return out;
}

/** Entries of a mask that are kept (non-zero). */
function countLive(m: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < m.length; i++) c += m[i] ? 1 : 0;
  return c;
}

/** Live entries of an eligibility array; all `n` when there is no previous mask. */
function liveCount(e: Uint8Array | null, n: number): number {
  return e ? countLive(e) : n;
}

/** Select the mask keeping `target` (a sparsity in [0, 1), or exact keep counts) of the highest scores. */
export function scoresToMask(scores: Scores, target: number | KeepCounts, opts: ScoresToMaskOptions): MaskSelection {
  const names = [...scores.keys()];
  if (names.length === 0) throw new Error('scoresToMask: no scores given.');
  const shapes = new Map<string, number[]>();
  const eligible = new Map<string, Uint8Array | null>();
  let zero = 0, nan = 0;
  for (const n of names) {
    const shape = opts.shapes.get(n);
    const s = scores.get(n)!;
    if (!shape) throw new Error(`scoresToMask: no shape for '${n}'.`);
    const size = sizeOf(shape);
    if (size !== s.length) throw new Error(`scoresToMask: scores for ${n} have ${s.length} entries, shape [${shape}] has ${size}.`);
    shapes.set(n, shape);
    const p = opts.previous?.get(n);
    if (opts.previous && (!p || p.length !== size)) throw new Error(`scoresToMask: previous mask for ${n} missing or of wrong size.`);
    const e = p ? binary(p) : null;
    eligible.set(n, e);
    for (let i = 0; i < s.length; i++) { if (e && !e[i]) continue; if (s[i] === 0) zero++; else if (Number.isNaN(s[i])) nan++; }
  }
  const counts = typeof target === 'number' ? keepCounts(shapes, target, opts.scope ?? 'global') : target;
  const checkK = (k: number | undefined, live: number, n: number, what: string): number => {
    if (k === undefined || !Number.isInteger(k) || k < 0 || k > n) throw new Error(`scoresToMask: invalid keep count ${k} for ${what} (size ${n}).`);
    if (k > live) throw new Error(`scoresToMask: cannot keep ${k} weights of ${what}: only ${live} are live in the previous mask (pruned weights are never revived).`);
    return k;
  };
  const entries: Array<[string, { shape: number[]; data: Uint8Array }]> = [];
  if (counts.scope === 'global') {
    const total = names.reduce((a, n) => a + scores.get(n)!.length, 0);
    const flat = new Float32Array(total);
    const flatE = opts.previous ? new Uint8Array(total) : null;
    let off = 0;
    for (const n of names) { flat.set(scores.get(n)!, off); if (flatE) flatE.set(eligible.get(n)!, off); off += scores.get(n)!.length; }
    const k = checkK(counts.total, liveCount(flatE, total), total, 'all layers');
    const { keep, threshold, ties } = topK(flat, k, flatE);
    off = 0;
    for (const n of names) {
      const len = scores.get(n)!.length;
      entries.push([n, { shape: shapes.get(n)!, data: keep.slice(off, off + len) }]);
      off += len;
    }
    return { mask: new Mask(entries), threshold, tiesBroken: ties, zeroScores: zero, nanScores: nan };
  }
  const thresholds = new Map<string, number>();
  let tiesBroken = 0;
  for (const n of names) {
    const s = scores.get(n)!, e = eligible.get(n)!;
    const { keep, threshold, ties } = topK(s, checkK(counts.perLayer.get(n), liveCount(e, s.length), s.length, n), e);
    entries.push([n, { shape: shapes.get(n)!, data: keep }]);
    thresholds.set(n, threshold);
    tiesBroken += ties;
  }
  return { mask: new Mask(entries), threshold: thresholds, tiesBroken, zeroScores: zero, nanScores: nan };
}

/** Scores whose top-k are the original's bottom-k (ties still broken by lower index; NaN still lowest). */
export function invertScores(scores: Scores): Scores {
  return new Map([...scores].map(([n, s]) => [n, s.map((v) => -v)]));
}

export interface RemovedUnit { block: string; channel: number; score: number }

/**
 * The channel-level variant: the `count` live units (live[group][c] = 1) with the LOWEST scores, in
 * removal order. Tie rule: equal scores go to the earlier group (in `groups` order), then the lower
 * channel index. With allowEmpty false a group's last live unit is skipped (the next candidate is
 * taken instead). Fewer than `count` are returned when no more can be removed.
 */
export function lowestLiveUnits(groups: readonly string[], scores: Map<string, ArrayLike<number>>, live: Map<string, ArrayLike<number>>,
  count: number, o: { allowEmpty: boolean }): RemovedUnit[] {
  const cands: Array<{ block: string; channel: number; score: number; g: number }> = [];
  const left = new Map<string, number>();
  groups.forEach((name, g) => {
    const m = live.get(name), sc = scores.get(name);
    if (!m || !sc || sc.length !== m.length) throw new Error(`lowestLiveUnits: scores or live mask of ${name} missing or of wrong size.`);
    let k = 0;
    for (let c = 0; c < m.length; c++) if (m[c] === 1) { cands.push({ block: name, channel: c, score: sc[c], g }); k++; }
    left.set(name, k);
  });
  cands.sort((a, b) => a.score - b.score || a.g - b.g || a.channel - b.channel);
  const out: RemovedUnit[] = [];
  for (const c of cands) {
    if (out.length >= count) break;
    if (!o.allowEmpty && left.get(c.block)! <= 1) continue;
    left.set(c.block, left.get(c.block)! - 1);
    out.push({ block: c.block, channel: c.channel, score: c.score });
  }
  return out;
}

/**
 * Mask ablations: sanity checks of pruning-at-init methods as ordinary pruning methods (a mask out,
 * usable anywhere a mask is). Frankle, Dziugaite, Roy, Carbin, "Pruning Neural Networks at
 * Initialization: Why Are We Missing the Mark?" (ICLR 2021): layerwise shuffle, reinitialisation,
 * score inversion. Su et al., "Sanity-Checking Pruning Methods: Random Tickets can Win the Jackpot"
 * (NeurIPS 2020): random labels / shuffled pixels in the scoring batch (data/scoring-ablations.ts),
 * layerwise rearrangement and "smart ratio" random tickets.
 *
 * - 'layerwise-shuffle': the method's mask with its positions permuted inside each layer (same
 *   per-layer counts). This is also the density-only random ticket "copied from another method's
 *   mask": one way to do it.
 * - 'global-shuffle': positions permuted over all prunable weights (same total count).
 * - 'reinit': the method's mask on freshly drawn weights from the same init (seed stream 'init/reinit').
 * - 'invert': keep the lowest-scoring weights, same count and scope (iterative SynFlow inverts every round).
 * - 'even': random positions, the same kept fraction in every layer (method must be 'random').
 * - 'smart-ratio': random positions, per-layer keep ratios from Su et al.'s rule (method must be 'random').
 * - 'random-labels', 'shuffled-pixels': the method scores a corrupted copy of its scoring batch.
 * Every ablation is deterministic per seed (stream 'ablation/<name>').
 */
import type { Net } from '../nn/net';
import { Mask } from '../mask';
import { Rng } from '../rng';
import { scoresToMask, checkSparsity, MaskSelection } from './scores-to-mask';
import {
  checkPrune, finishMask, getScoreMethod, installPruneResult, PruneOptions, PruneResult, scoreContext, selectMask, SelectedMask, shapesOf,
} from './score';
import { SCORING_ABLATIONS, ScoringAblation, ablateScoringBatch } from '../data/scoring-ablations';
import { contextBatchIndices } from './snip';

export const ABLATIONS = ['none', 'layerwise-shuffle', 'global-shuffle', 'reinit', 'invert', 'even', 'smart-ratio', ...SCORING_ABLATIONS] as const;
export type Ablation = (typeof ABLATIONS)[number];

/** Ablations that replace the method's positions and densities by a rule: only with method 'random'. */
const DENSITY_RULES: readonly Ablation[] = ['even', 'smart-ratio'];

/** Validate an ablation name for a method; throws naming the value and the fix. */
export function checkAblation(ablation: unknown, method: string): Ablation {
  if (typeof ablation !== 'string' || !(ABLATIONS as readonly string[]).includes(ablation)) {
    throw new Error(`Unknown mask ablation ${JSON.stringify(ablation)}: use one of ${ABLATIONS.join(', ')}.`);
  }
  const a = ablation as Ablation;
  if (a === 'none') return a;
  if (method === 'none') throw new Error(`Ablation '${a}' needs a pruning method; the dense net (method 'none') has no mask to ablate.`);
  const m = getScoreMethod(method);
  if (DENSITY_RULES.includes(a) && method !== 'random') {
    throw new Error(`Ablation '${a}' is a random ticket whose densities come from a rule, not from '${method}': use method 'random' ` +
      `(for random positions with ${method}'s own per-layer densities, use ablation 'layerwise-shuffle').`);
  }
  if ((SCORING_ABLATIONS as readonly string[]).includes(a) && !m.needsData) {
    throw new Error(`Ablation '${a}' corrupts the scoring batch, but '${method}' uses no data: use it with snip, grasp or sbp-sr.`);
  }
  return a;
}

function copyArrays(mask: Mask): Map<string, Uint8Array> {
  return new Map(mask.names.map((n) => [n, Uint8Array.from(mask.get(n))]));
}

function toMask(mask: Mask, data: Map<string, Uint8Array>): Mask {
  return new Mask(mask.names.map((n) => [n, { shape: mask.shape(n), data: data.get(n)! }]));
}

/** Positions permuted inside each layer (a uniformly random mask with the same per-layer counts). */
export function layerwiseShuffle(mask: Mask, rng: Rng): Mask {
  const out = copyArrays(mask);
  for (const [n, d] of out) rng.fork(n).shuffle(d as unknown as Int32Array);
  return toMask(mask, out);
}

/** Positions permuted over all prunable weights (same total count; per-layer counts change). */
export function globalShuffle(mask: Mask, rng: Rng): Mask {
  const flat = new Uint8Array(mask.size);
  let off = 0;
  for (const n of mask.names) { flat.set(mask.get(n), off); off += mask.get(n).length; }
  rng.shuffle(flat as unknown as Int32Array);
  off = 0;
  const out = new Map<string, Uint8Array>();
  for (const n of mask.names) { const len = mask.get(n).length; out.set(n, flat.slice(off, off + len)); off += len; }
  return toMask(mask, out);
}

/** A mask with exactly counts[name] kept weights per layer at uniformly random positions. */
export function randomMaskWithCounts(shapes: Map<string, number[]>, counts: Map<string, number>, rng: Rng): Mask {
  return new Mask([...shapes].map(([n, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1), k = counts.get(n);
    if (k === undefined || !Number.isInteger(k) || k < 0 || k > size) throw new Error(`randomMaskWithCounts: count for ${n} must be an integer in 0..${size}, got ${k}.`);
    const d = new Uint8Array(size);
    d.fill(1, 0, k);
    rng.fork(n).shuffle(d as unknown as Int32Array);
    return [n, { shape, data: d }];
  }));
}

/** Per-layer kept counts with the same fraction round((1 - s) n_l) in every layer. */
export function evenCounts(sizes: Map<string, number>, sparsity: number): Map<string, number> {
  checkSparsity(sparsity);
  return new Map([...sizes].map(([n, size]) => [n, Math.round((1 - sparsity) * size)]));
}

/** Integer counts with sum exactly `total`, each <= cap, closest to the real targets (largest remainder). */
function roundToTotal(targets: number[], caps: number[], total: number): number[] {
  const out = targets.map((t, i) => Math.min(caps[i], Math.floor(t)));
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = targets.map((t, i) => i).sort((a, b) => (targets[b] - Math.floor(targets[b])) - (targets[a] - Math.floor(targets[a])) || a - b);
  for (let pass = 0; left > 0 && pass < 2; pass++) {
    for (const i of order) { if (left === 0) break; if (out[i] < caps[i]) { out[i]++; left--; } }
  }
  if (left !== 0) throw new Error(`roundToTotal: cannot place ${total} kept weights in layers of sizes [${caps}].`);
  return out;
}

export interface SmartRatioOptions {
  /** Keep ratio of the last layer (the classifier); Su et al. use 0.3. */
  lastLayerKeep?: number;
}

/**
 * Su et al. (2020, Sec. 5 "smart ratio"; their code's ResNet branch): the keep ratio of layer
 * l = 1..L-1 is proportional to (L - l + 1)^2 + (L - l + 1) (decreasing with depth), the last layer
 * keeps `lastLayerKeep`, and the common factor is set so the total kept count is exactly
 * round((1 - s) N); ratios above 1 are capped and the excess spread over the others.
 */
export function smartRatioCounts(layers: ReadonlyArray<{ name: string; size: number }>, sparsity: number, o: SmartRatioOptions = {}): Map<string, number> {
  checkSparsity(sparsity);
  const lastKeep = o.lastLayerKeep ?? 0.3;
  if (!(lastKeep > 0 && lastKeep <= 1)) throw new Error(`smart-ratio: lastLayerKeep must be in (0, 1], got ${lastKeep}.`);
  const L = layers.length;
  if (L < 2) throw new Error(`smart-ratio needs at least 2 prunable layers, got ${L}.`);
  const sizes = layers.map((l) => l.size), N = sizes.reduce((a, b) => a + b, 0);
  const total = Math.round((1 - sparsity) * N);
  const last = Math.min(Math.round(lastKeep * sizes[L - 1]), total);
  const goal = total - last;
  const rest = sizes.slice(0, L - 1);
  const restN = rest.reduce((a, b) => a + b, 0);
  if (goal > restN) throw new Error(`smart-ratio: sparsity ${sparsity} needs ${goal} kept weights in the first ${L - 1} layers, which hold ${restN}; lower lastLayerKeep's share or the density.`);
  const raw = rest.map((_, i) => { const k = L - (i + 1) + 1; return k * k + k; });
  // kept(c) = sum min(1, c raw_l) n_l is increasing in c: bisection finds the factor (float64)
  const kept = (c: number) => rest.reduce((a, n, i) => a + Math.min(1, c * raw[i]) * n, 0);
  let lo = 0, hi = 1 / Math.min(...raw);
  for (let i = 0; i < 200; i++) { const mid = 0.5 * (lo + hi); if (kept(mid) < goal) lo = mid; else hi = mid; }
  const targets = rest.map((n, i) => Math.min(1, hi * raw[i]) * n);
  const counts = roundToTotal(targets, rest, goal);
  return new Map([...layers.map((l, i) => [l.name, i < L - 1 ? counts[i] : last] as [string, number])]);
}

export interface AblatedPruneOptions extends PruneOptions {
  ablation?: Ablation | string;
  /** 'reinit': a fresh net of the same architecture and init drawn from another seed stream (its weights are copied in). */
  rebuild?: () => Net;
  /** 'smart-ratio' options. */
  smartRatio?: SmartRatioOptions;
}

export interface AblatedPruneResult extends PruneResult {
  ablation: Ablation;
  /** The method's own mask before the ablation (null for the random tickets with a density rule). */
  sourceMask: Mask | null;
}

function selectionOf(mask: Mask): MaskSelection {
  return { mask, threshold: NaN, tiesBroken: 0, zeroScores: 0, nanScores: 0 };
}

/**
 * pruneAtInit with an ablation: compute the method's mask (on the corrupted scoring batch for the
 * data ablations), transform it, install it (SBP-SR rescales the kept weights of the ABLATED mask,
 * so its rescaling and its choice of weights can be told apart).
 */
export function pruneWithAblation(net: Net, o: AblatedPruneOptions): AblatedPruneResult {
  const ablation = checkAblation(o.ablation ?? 'none', o.method);
  const m = checkPrune(net, o);
  const seed = o.seed ?? 0;
  const rng = new Rng(seed, `ablation/${ablation}`);
  const scope = o.scope ?? 'global';
  const shapes = shapesOf(net);
  if (ablation === 'reinit' && !o.rebuild) throw new Error('Ablation \'reinit\' needs rebuild: () => Net (a fresh net of the same architecture and init from another seed stream).');
  let res: SelectedMask;
  let sourceMask: Mask | null = null;
  let note = '';
  if (ablation === 'even' || ablation === 'smart-ratio') {
    const counts = ablation === 'even' ? evenCounts(new Map(net.prunable.map((p) => [p.name, p.size])), o.sparsity)
      : smartRatioCounts(net.prunable.map((p) => ({ name: p.name, size: p.size })), o.sparsity, o.smartRatio);
    res = { selection: selectionOf(randomMaskWithCounts(shapes, counts, rng)), scores: new Map(), method: o.method };
    note = `random ticket, ${ablation} per-layer densities`;
  } else if (ablation === 'random-labels' || ablation === 'shuffled-pixels') {
    if (!o.data) throw new Error(`Ablation '${ablation}' needs the dataset the method scores.`);
    // the very batch the method would score for this seed (same context as computeMask builds)
    const idx = contextBatchIndices(scoreContext(net, o));
    const corrupted = ablateScoringBatch(o.data, idx, ablation as ScoringAblation, rng);
    res = selectMask(net, { ...o, data: corrupted.dataset, options: { ...(o.options ?? {}), batchIndices: corrupted.batchIndices } });
    note = `scored on the seed's batch with ${ablation}`;
  } else if (ablation === 'invert') {
    // every round inverted (iterative SynFlow); a one-round method also reports its own mask, from the same scores
    res = selectMask(net, o, { invert: true });
    if (!m.rounds) {
      const previous = net.hasMask() ? net.maskArrays() : undefined;
      sourceMask = scoresToMask(res.scores, o.sparsity, { scope, shapes, previous }).mask;
    }
    note = 'inverted: lowest scores kept';
  } else {
    res = selectMask(net, o);
    sourceMask = res.selection.mask;
    if (ablation === 'layerwise-shuffle') res = { ...res, selection: selectionOf(layerwiseShuffle(res.selection.mask, rng)) };
    if (ablation === 'global-shuffle') res = { ...res, selection: selectionOf(globalShuffle(res.selection.mask, rng)) };
    if (ablation === 'reinit') {
      const fresh = o.rebuild!();
      try { net.setWeights(fresh.getWeights()); net.setBuffers(fresh.getBuffers()); } finally { fresh.dispose(); }
    }
    if (ablation !== 'none') note = ablation;
  }
  // the method finishes the ABLATED mask (SBP-SR rescales the kept weights of the mask actually installed)
  const finished = finishMask(net, res, o);
  installPruneResult(net, finished);
  return { ...finished, note: note ? `${finished.note}; ${note}` : finished.note, ablation, sourceMask };
}

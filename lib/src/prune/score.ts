/**
 * The pruning contract. A method is a score function: (net, context) -> one score per prunable
 * weight; it never returns a mask. computeMask turns scores into the mask with the ONE selection
 * routine (scoresToMask), once, or once per round for iterative methods (SynFlow: `rounds` gives
 * the sparsity of each round, and each round's scores are taken on the previous round's mask).
 * The net's installed mask, if any, is the previous mask: pruned weights are never revived (a
 * round before the last keeps at most what is live; the last must reach the target). A
 * method may finish the selected mask with new values for the kept weights (SBP-SR's rescaling):
 * computeMask returns them and pruneAtInit / installPruneResult install mask and weights together,
 * so every entry point gives the same pruned net.
 */
import type { Net } from '../nn/net';
import type { Dataset } from '../data';
import type { Mask } from '../mask';
import { Rng } from '../rng';
import { Scores, Scope, scoresToMask, MaskSelection, checkSparsity, invertScores, keepCounts, capAtLive } from './scores-to-mask';
import type { RescaleResult, RescaleVariant } from './rescale';

export interface ScoreContext {
  net: Net;
  /** Data for data-dependent scores (SNIP, GraSP); data-free methods ignore it. */
  data?: Dataset;
  /** The prune seed (the data-dependent methods draw their scoring batch from it). */
  seed: number;
  /** Rng(seed, 'prune/<method>'). */
  rng: Rng;
  /** Target sparsity of the whole prune (iterative methods schedule towards it). */
  sparsity: number;
  scope: Scope;
  /** Method-specific options (documented per method). */
  options: Record<string, unknown>;
  /** The mask being pruned (the net's installed mask, or the previous round's), null if dense. */
  previous: Map<string, Uint8Array> | null;
  /** State an iterative method carries from round to round (empty at the first round). */
  memo: Map<string, unknown>;
}

/** What a method does to the net after selection (SBP-SR: new values for the kept weights). */
export interface FinishedMask {
  /** Raw values of the prunable kernels to install with the mask, or null (weights unchanged). */
  weights: Map<string, Float32Array> | null;
  rescale: RescaleResult | null;
  note: string;
}

export interface ScoreMethod {
  name: string;
  description: string;
  /** Whether the method needs a dataset. */
  needsData: boolean;
  /** Scores for the net's prunable kernels, by parameter name (of the weights live in ctx.previous). */
  score(ctx: ScoreContext): Scores;
  /** Iterative methods: the sparsity of each round (default: one round at ctx.sparsity). */
  rounds?(ctx: ScoreContext): number[];
  /** Refuse a request that cannot be carried out, before the (possibly slow) scoring. */
  check?(net: Net, o: PruneOptions): void;
  /** Finish the selected mask (default: mask only, weights unchanged). Must not modify the net. */
  finish?(net: Net, mask: Mask, o: PruneOptions): FinishedMask;
}

const registry = new Map<string, ScoreMethod>();

export function registerScoreMethod(m: ScoreMethod): void { registry.set(m.name, m); }

export function scoreMethods(): string[] { return [...registry.keys()].sort(); }

export function getScoreMethod(name: string): ScoreMethod {
  const m = registry.get(name);
  if (!m) throw new Error(`Unknown pruning method '${name}'. Available: ${scoreMethods().join(', ')}.`);
  return m;
}

export function shapesOf(net: Net): Map<string, number[]> {
  return new Map(net.prunable.map((p) => [p.name, p.shape]));
}

export interface PruneOptions {
  method: string;
  sparsity: number;
  scope?: Scope;
  data?: Dataset;
  seed?: number;
  options?: Record<string, unknown>;
  /** sbp-sr: σ_w of the init (number or per kernel name); required for FFNN/CNN. */
  sigmaW?: number | Record<string, number>;
  /** sbp-sr: conv rescaling variant (default 'fanIn'). */
  rescaleVariant?: RescaleVariant;
}

/** A selection by a method's scores, before the method finishes it. */
export interface SelectedMask { selection: MaskSelection; scores: Scores; method: string }

export interface PruneResult extends SelectedMask, FinishedMask {}

/** The score context computeMask builds for `o` (exported so ablations can reproduce a method's scoring batch). */
export function scoreContext(net: Net, o: PruneOptions): ScoreContext {
  const seed = o.seed ?? 0;
  return {
    net, data: o.data, seed, rng: new Rng(seed, `prune/${o.method}`), sparsity: o.sparsity, scope: o.scope ?? 'global',
    options: o.options ?? {}, previous: net.hasMask() ? net.maskArrays() : null, memo: new Map(),
  };
}

/** Validate a prune request (sparsity, method, data, method-specific checks) before any scoring. */
export function checkPrune(net: Net, o: PruneOptions): ScoreMethod {
  checkSparsity(o.sparsity);
  const m = getScoreMethod(o.method);
  if (m.needsData && !o.data) throw new Error(`Pruning method '${o.method}' needs data: pass a dataset (e.g. loadDataset('fashion-mnist')).`);
  m.check?.(net, o);
  return m;
}

export interface SelectOptions {
  /** Every round keeps the LOWEST scores (the inversion sanity check; prune/ablations.ts). */
  invert?: boolean;
  /** Called after each round's selection (SynFlow's per-round record). */
  onRound?: (selection: MaskSelection, ctx: ScoreContext) => void;
}

/** Score and select, round by round (no finishing). `scores` are the last round's, as scored. */
export function selectMask(net: Net, o: PruneOptions, so: SelectOptions = {}): SelectedMask {
  const m = checkPrune(net, o);
  const ctx = scoreContext(net, o);
  const shapes = shapesOf(net);
  let last: { selection: MaskSelection; scores: Scores } | undefined;
  const rounds = m.rounds ? m.rounds(ctx) : [o.sparsity];
  for (let j = 0; j < rounds.length; j++) {
    const scores = m.score(ctx);
    const ranked = so.invert ? invertScores(scores) : scores;
    // on a pre-masked net, a round before the last keeps at most what is live (the last must reach the target)
    const target = j < rounds.length - 1 && ctx.previous ? capAtLive(keepCounts(shapes, rounds[j], ctx.scope), ctx.previous) : rounds[j];
    const selection = scoresToMask(ranked, target, { scope: ctx.scope, shapes, previous: ctx.previous ?? undefined });
    ctx.previous = new Map(selection.mask.names.map((n) => [n, selection.mask.get(n)]));
    so.onRound?.(selection, ctx);
    last = { selection, scores };
  }
  if (!last) throw new Error(`Pruning method '${o.method}' scheduled no rounds.`);
  return { ...last, method: o.method };
}

/** The method's finishing step on a selected (possibly ablated) mask; does not modify the net. */
export function finishMask(net: Net, sel: SelectedMask, o: PruneOptions): PruneResult {
  const m = getScoreMethod(o.method);
  const f = m.finish ? m.finish(net, sel.selection.mask, o) : { weights: null, rescale: null, note: `${o.method} mask installed` };
  return { ...sel, ...f };
}

/** Score, select and finish: the method's mask (and for SBP-SR the rescaled kept weights). Installs nothing. */
export function computeMask(net: Net, o: PruneOptions): PruneResult {
  return finishMask(net, selectMask(net, o), o);
}

/** Install a prune result on the net: its mask and, where the method finished it so, its weights. */
export function installPruneResult(net: Net, r: PruneResult): void {
  net.setMask(r.selection.mask);
  if (r.weights) net.setWeights(r.weights);
}

// ---- the two data-free baselines -------------------------------------------------------------

registerScoreMethod({
  name: 'random',
  description: 'Uniform random scores: a random mask with exactly the target number of weights kept.',
  needsData: false,
  score: ({ net, rng }) => new Map(net.prunable.map((p) => [p.name, rng.fork(p.name).uniformArray(p.size)])),
});

registerScoreMethod({
  name: 'magnitude',
  description: 'Magnitude |w| at initialisation (MBP).',
  needsData: false,
  score: ({ net }) => {
    const w = net.getWeights();
    return new Map(net.prunable.map((p) => [p.name, w.get(p.name)!.map(Math.abs)]));
  },
});

/**
 * Pruning methods are score functions: (net, context) -> one non-negative score per prunable weight.
 * `pruneAtInit` runs a method and turns its scores into a mask with the shared scoresToMask routine.
 */
import type { Net } from '../nn/net';
import type { Dataset } from '../data';
import { Rng } from '../rng';
import { Scores, Scope, scoresToMask, MaskSelection, checkSparsity } from './scores-to-mask';

export interface ScoreContext {
  net: Net;
  /** Data for data-dependent scores (SNIP, GraSP); data-free methods ignore it. */
  data?: Dataset;
  rng: Rng;
  /** Target sparsity (iterative methods such as SynFlow schedule towards it). */
  sparsity: number;
  scope: Scope;
  /** Method-specific options (documented per method). */
  options: Record<string, unknown>;
}

export interface ScoreMethod {
  name: string;
  description: string;
  /** Whether the method needs a dataset. */
  needsData: boolean;
  /** Scores for the net's prunable kernels, by parameter name. May return a final mask directly (iterative methods). */
  score(ctx: ScoreContext): Scores | { scores: Scores; selection: MaskSelection };
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
}

export interface PruneResult { selection: MaskSelection; scores: Scores; method: string }

/** Score the net's prunable kernels with `method` and select the mask (not installed: call net.setMask). */
export function computeMask(net: Net, o: PruneOptions): PruneResult {
  checkSparsity(o.sparsity);
  const m = getScoreMethod(o.method);
  if (m.needsData && !o.data) throw new Error(`Pruning method '${o.method}' needs data: pass a dataset (e.g. loadDataset('fashion-mnist')).`);
  const scope = o.scope ?? 'global';
  const ctx: ScoreContext = { net, data: o.data, rng: new Rng(o.seed ?? 0, `prune/${o.method}`), sparsity: o.sparsity, scope, options: o.options ?? {} };
  const out = m.score(ctx);
  if (out instanceof Map) {
    return { selection: scoresToMask(out, o.sparsity, { scope, shapes: shapesOf(net) }), scores: out, method: o.method };
  }
  return { selection: out.selection, scores: out.scores, method: o.method };
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

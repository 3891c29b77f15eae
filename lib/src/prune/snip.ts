/**
 * SNIP (Lee et al. 2019): score = |w ⊙ ∂L/∂w|, the sensitivity |∂L/∂c| of the loss to a
 * multiplicative mask c at c = 1, on ONE class-balanced batch from the train split.
 *
 * Choices (SNIP: Lee et al., ICLR 2019, arXiv 1810.02340; as used by Hayou et al. 2021, arXiv 2002.08797): loss = mean softmax cross-entropy; BatchNorm in eval mode by
 * default (the SynFlow anchor's `prune_loop` default; option bnMode 'train' uses batch statistics
 * and discards the running-stat updates); gradients with respect to the effective weights W ⊙ M, so
 * weights already pruned score 0. The batch is drawn from a stream that depends only on the seed
 * (not on the method name), so 'snip', 'grasp' and 'sbp-sr' with the same seed score the same batch;
 * `scoringBatchIndices` reproduces it.
 */
import * as tf from '@tensorflow/tfjs';
import type { Net } from '../nn/net';
import type { Dataset } from '../data';
import { balancedBatch, gather } from '../data';
import { Rng } from '../rng';
import type { ScoreContext } from './score';
import { registerScoreMethod } from './score';
import type { Scores } from './scores-to-mask';
import { gradient, kernelObjective } from './hvp';

export const SNIP_DEFAULTS = { perClass: 10, bnMode: 'eval' as const };

const BATCH_STREAM = 'prune/scoring-batch';

/** The seeded class-balanced scoring batch used by the data-dependent methods for `seed` (the prune seed, passed explicitly in the score context). */
export function scoringBatchIndices(ds: Dataset, perClass: number, seed: number | string): Int32Array {
  return balancedBatch(ds.train, perClass, ds.numClasses, new Rng(seed, BATCH_STREAM));
}

function positiveInt(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`Option ${name} must be a positive integer, got ${String(v)}.`);
  return v;
}

/** Indices of the scoring batch for a score context (validated options). */
export function contextBatchIndices(ctx: ScoreContext): Int32Array {
  const ds = ctx.data;
  if (!ds) throw new Error('This pruning method needs data: pass a dataset (e.g. loadDataset(\'fashion-mnist\')).');
  const given = ctx.options.batchIndices as ArrayLike<number> | undefined;
  if (given !== undefined) {
    if (given.length === 0) throw new Error('Option batchIndices is empty; give at least one train-split index.');
    return Int32Array.from(given as ArrayLike<number>);
  }
  return scoringBatchIndices(ds, positiveInt(ctx.options.perClass, 'perClass', SNIP_DEFAULTS.perClass), ctx.seed);
}

export function bnModeOption(v: unknown): 'eval' | 'train' {
  if (v === undefined) return SNIP_DEFAULTS.bnMode;
  if (v !== 'eval' && v !== 'train') throw new Error(`Option bnMode must be 'eval' or 'train', got '${String(v)}'.`);
  return v;
}

/** SNIP scores |w ⊙ ∂L/∂w| on the batch (x, y), w = effective weights. */
export function snipScores(net: Net, x: tf.Tensor, y: tf.Tensor, o: { bnMode?: 'eval' | 'train' } = {}): Scores {
  const obj = kernelObjective(net, x, y, { bnMode: o.bnMode });
  try {
    const out: Scores = new Map();
    tf.tidy(() => {
      const g = gradient(obj.loss, obj.weights);
      obj.names.forEach((n, i) => out.set(n, tf.abs(tf.mul(obj.weights[i], g[i])).dataSync() as Float32Array));
    });
    return out;
  } finally {
    obj.dispose();
  }
}

/** Score function shared by 'snip' and 'sbp-sr'. */
export function snipScoreFromContext(ctx: ScoreContext): Scores {
  const bnMode = bnModeOption(ctx.options.bnMode);
  const idx = contextBatchIndices(ctx);
  const { x, y } = gather(ctx.data!, ctx.data!.train, idx);
  try {
    return snipScores(ctx.net, x, y, { bnMode });
  } finally {
    x.dispose(); y.dispose();
  }
}

registerScoreMethod({
  name: 'snip',
  description: 'SNIP (Lee et al. 2019): |w * dL/dw| on one class-balanced train batch (mean cross-entropy). ' +
    'Options: perClass (10), bnMode (\'eval\' | \'train\', default eval), batchIndices (explicit train indices).',
  needsData: true,
  score: snipScoreFromContext,
});

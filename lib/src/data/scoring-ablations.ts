/**
 * Data ablations of Su et al. (NeurIPS 2020, "Sanity-Checking Pruning Methods: Random Tickets can
 * Win the Jackpot", Sec. 4): score a data-dependent pruning method on a corrupted scoring batch.
 * - 'random-labels': every label of the batch replaced by one drawn uniformly from the classes;
 * - 'shuffled-pixels': every image's pixels permuted by its own random permutation (all channels of
 *   a pixel move together), Zhang et al. (ICLR 2017)'s "random pixels" corruption.
 * The result is a small dataset holding only the corrupted batch (train split) plus the indices to
 * score (0..k-1), so the full training split is never copied; the test split is shared, unchanged.
 */
import { Rng } from '../rng';
import type { Dataset } from './types';

export const SCORING_ABLATIONS = ['random-labels', 'shuffled-pixels'] as const;
export type ScoringAblation = (typeof SCORING_ABLATIONS)[number];

export interface AblatedScoringBatch {
  dataset: Dataset;
  /** Indices of the corrupted batch in dataset.train (0..k-1, in the original batch order). */
  batchIndices: Int32Array;
}

export function ablateScoringBatch(ds: Dataset, batch: ArrayLike<number>, ablation: ScoringAblation, rng: Rng): AblatedScoringBatch {
  if (!(SCORING_ABLATIONS as readonly string[]).includes(ablation)) {
    throw new Error(`Unknown scoring-batch ablation ${JSON.stringify(ablation)}: use ${SCORING_ABLATIONS.join(' or ')}.`);
  }
  const [h, w, c] = ds.inputShape;
  const row = h * w * c, k = batch.length;
  if (k === 0) throw new Error('ablateScoringBatch: the scoring batch is empty.');
  const x = new Float32Array(k * row), y = new Int32Array(k);
  for (let r = 0; r < k; r++) {
    const i = batch[r];
    if (!Number.isInteger(i) || i < 0 || i >= ds.train.n) throw new Error(`ablateScoringBatch: batch index ${i} is outside 0..${ds.train.n - 1}.`);
    x.set(ds.train.x.subarray(i * row, (i + 1) * row), r * row);
    y[r] = ds.train.y[i];
  }
  if (ablation === 'random-labels') {
    const lr = rng.fork('labels');
    for (let r = 0; r < k; r++) y[r] = lr.int(ds.numClasses);
  } else {
    const pr = rng.fork('pixels');
    const src = new Float32Array(row);
    for (let r = 0; r < k; r++) {
      const perm = pr.permutation(h * w);
      src.set(x.subarray(r * row, (r + 1) * row));
      for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) x[r * row + p * c + ch] = src[perm[p] * c + ch];
    }
  }
  const dataset: Dataset = { ...ds, train: { x, y, n: k }, source: `${ds.source}; scoring batch of ${k} with ${ablation}` };
  return { dataset, batchIndices: Int32Array.from({ length: k }, (_, i) => i) };
}

/** Index sampling (class-balanced batches, shuffled epochs) and batch tensors. */
import { tf } from '../backend';
import { Rng } from '../rng';
import { Augment, augmentBatch } from './augment';
import type { Dataset, Split } from './types';

/**
 * Exactly `perClass` indices of each class 0..numClasses-1, drawn without replacement by a seeded
 * shuffle of each class's members, returned in a seeded random order (so the batch is not sorted
 * by class). This is the class-balanced batch the SNIP/GraSP authors score on (e.g. 10 per class).
 */
export function balancedBatch(split: Split, perClass: number, numClasses: number, rng: Rng): Int32Array {
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`balancedBatch: perClass must be a positive integer, got ${perClass}.`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`balancedBatch: numClasses must be a positive integer, got ${numClasses}.`);
  const by: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < split.n; i++) {
    const c = split.y[i];
    if (!(c >= 0 && c < numClasses)) throw new Error(`balancedBatch: label ${c} at index ${i} is outside 0..${numClasses - 1}; check numClasses.`);
    by[c].push(i);
  }
  const out = new Int32Array(perClass * numClasses);
  by.forEach((members, c) => {
    if (members.length < perClass) {
      throw new Error(`balancedBatch: class ${c} has ${members.length} examples, fewer than perClass=${perClass}; ` +
        'lower perClass or load more data (trainLimit).');
    }
    // Partial Fisher–Yates: only the first perClass positions are drawn.
    const a = Int32Array.from(members);
    for (let k = 0; k < perClass; k++) {
      const j = k + rng.int(a.length - k);
      const t = a[k]; a[k] = a[j]; a[j] = t;
      out[c * perClass + k] = a[k];
    }
  });
  rng.shuffle(out);
  return out;
}

/**
 * One seeded epoch: a random permutation of 0..n-1 cut into consecutive batches of batchSize.
 * The last batch is smaller when batchSize does not divide n, unless dropLast.
 */
export function minibatches(n: number, batchSize: number, rng: Rng, opts: { dropLast?: boolean } = {}): Int32Array[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`minibatches: n must be a non-negative integer, got ${n}.`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`minibatches: batchSize must be a positive integer, got ${batchSize}.`);
  const perm = rng.permutation(n);
  const out: Int32Array[] = [];
  for (let s = 0; s < n; s += batchSize) {
    if (opts.dropLast && s + batchSize > n) break;
    out.push(perm.slice(s, Math.min(n, s + batchSize)));
  }
  return out;
}

/**
 * Rows `idx` of a split as float images [k, H, W, C] (copied) and int32 labels [k], augmented when
 * `augment` is given (training batches; see augment.ts).
 */
export function gather(ds: Dataset, split: Split, idx: Int32Array | number[], augment?: { spec: Augment; rng: Rng }): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const [h, w, c] = ds.inputShape;
  const row = h * w * c;
  if (split.x.length !== split.n * row || split.y.length !== split.n) {
    throw new Error(`gather: split has n=${split.n} but x has ${split.x.length} floats and y ${split.y.length} labels; ` +
      `expected n*${h}*${w}*${c} and n for ${ds.name}.`);
  }
  const k = idx.length;
  const x = new Float32Array(k * row), y = new Int32Array(k);
  for (let r = 0; r < k; r++) {
    const i = idx[r];
    if (!Number.isInteger(i) || i < 0 || i >= split.n) throw new Error(`gather: index ${i} (position ${r}) is outside 0..${split.n - 1}.`);
    x.set(split.x.subarray(i * row, (i + 1) * row), r * row);
    y[r] = split.y[i];
  }
  const xs = augment ? augmentBatch(x, k, ds.inputShape, augment.spec, ds.normalization, augment.rng) : x;
  return { x: tf.tensor4d(xs, [k, h, w, c], 'float32'), y: tf.tensor1d(y, 'int32') };
}

/** One-hot float32 labels [k, numClasses] (for losses that want them). */
export function oneHot(labels: Int32Array | tf.Tensor1D, numClasses: number): tf.Tensor2D {
  return tf.tidy(() => tf.oneHot(labels instanceof tf.Tensor ? labels : tf.tensor1d(labels, 'int32'), numClasses).toFloat() as tf.Tensor2D);
}

/**
 * Training-time augmentation of NHWC batches: random crop after padding, and random horizontal
 * flip — the CIFAR recipe of both anchors (torchvision RandomCrop(32, padding=4) + RandomHorizontalFlip;
 * Crowley et al.'s base training pads by reflection, their prune script and Hayou et al.'s code
 * with zeros). Pixels are stored normalised, so a 'zero' pad is a black pixel, (0 - mean) / std per
 * channel, as when torchvision pads before normalising. Draws come from the caller's Rng, so a
 * (seed, epoch, step) always gives the same batch.
 */
import type { Rng } from '../rng';
import type { Normalization } from './types';

export interface Augment {
  /** Pad each side by `pad` pixels, then crop back to the input size at a uniform random offset. */
  crop?: { pad: number; fill: 'reflect' | 'zero' };
  /** Mirror left-right with probability 1/2. */
  flip?: boolean;
}

/** The anchors' CIFAR augmentation. */
export const CIFAR_AUGMENT: Readonly<Augment> = { crop: { pad: 4, fill: 'reflect' }, flip: true };

export function validateAugment(a: Augment, inputShape: readonly number[]): void {
  const bad = (what: string) => { throw new Error(`Invalid augment ${JSON.stringify(a)}: ${what}.`); };
  if (typeof a !== 'object' || a === null) bad('give an object { crop?: { pad, fill }, flip? }');
  for (const k of Object.keys(a)) if (k !== 'crop' && k !== 'flip') bad(`unknown field '${k}' (known: crop, flip)`);
  if (a.flip !== undefined && typeof a.flip !== 'boolean') bad(`flip must be true or false, got ${JSON.stringify(a.flip)}`);
  if (a.crop !== undefined) {
    const { pad, fill } = a.crop;
    if (!Number.isInteger(pad) || pad < 0) bad(`crop.pad must be a non-negative integer, got ${pad}`);
    if (fill !== 'reflect' && fill !== 'zero') bad(`crop.fill must be 'reflect' or 'zero', got '${fill as string}'`);
    // reflection without repeating the edge needs pad < side (PyTorch's rule)
    if (fill === 'reflect' && (pad >= inputShape[0] || pad >= inputShape[1])) {
      bad(`reflect padding of ${pad} needs images larger than ${pad} pixels, got ${inputShape[0]}x${inputShape[1]}`);
    }
  }
}

/** Source index of padded coordinate i (may be outside 0..n-1) under reflection without edge repeat; -1 = fill. */
function sourceIndex(i: number, n: number, fill: 'reflect' | 'zero'): number {
  if (i >= 0 && i < n) return i;
  if (fill === 'zero') return -1;
  return i < 0 ? -i : 2 * (n - 1) - i;
}

/**
 * Augment `k` NHWC images of shape [h, w, c] in `x` (normalised pixels) into a new array. Per image
 * the draws are, in order: crop row offset, crop column offset (each uniform in 0..2·pad), flip coin.
 */
export function augmentBatch(x: Float32Array, k: number, shape: readonly [number, number, number], a: Augment, norm: Normalization, rng: Rng): Float32Array {
  const [h, w, c] = shape;
  const row = h * w * c;
  if (x.length !== k * row) throw new Error(`augmentBatch: ${x.length} floats is not ${k} images of [${shape}].`);
  validateAugment(a, shape);
  const pad = a.crop?.pad ?? 0, fill = a.crop?.fill ?? 'zero';
  const black = Float32Array.from({ length: c }, (_, ch) => (0 - norm.mean[ch]) / norm.std[ch]);
  const out = new Float32Array(x.length);
  for (let n = 0; n < k; n++) {
    const dy = a.crop ? rng.int(2 * pad + 1) - pad : 0, dx = a.crop ? rng.int(2 * pad + 1) - pad : 0;
    const flip = a.flip ? rng.uniform() < 0.5 : false;
    const src = n * row;
    for (let i = 0; i < h; i++) {
      const si = sourceIndex(i + dy, h, fill);
      for (let j = 0; j < w; j++) {
        // flip after cropping, as RandomCrop then RandomHorizontalFlip do
        const sj = sourceIndex((flip ? w - 1 - j : j) + dx, w, fill);
        const o = src + (i * w + j) * c;
        if (si < 0 || sj < 0) out.set(black, o);
        else out.set(x.subarray(src + (si * w + sj) * c, src + (si * w + sj + 1) * c), o);
      }
    }
  }
  return out;
}

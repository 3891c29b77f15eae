/**
 * Pixel normalisation: x = (byte/255 - mean[c]) / std[c], per channel c of NHWC data.
 *
 * Conventions (one per dataset, recorded in Dataset.normalization):
 * - mnist: mean 0.5, std 0.5 (maps [0,1] to [-1,1]) — the Hayou et al. authors' choice
 *   (utils/data_utils.py), since MNIST here serves the Hayou replication.
 * - fashion-mnist: mean 0.2860, std 0.3530 — the training set's pixel mean/std (the standard
 *   constants; recomputed from the 60k Debian training images: 0.28604, 0.35302).
 * - cifar10: per-channel training-set mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616),
 *   the constants used in Crowley et al.'s code.
 * Pass LoadOptions.normalization to use another convention (e.g. 0.5/0.5 for Fashion-MNIST too).
 */
import type { Normalization } from './types';

export const NORMALIZATION: Readonly<Record<string, Normalization>> = {
  'mnist': { mean: [0.5], std: [0.5] },
  'fashion-mnist': { mean: [0.2860], std: [0.3530] },
  'cifar10': { mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616] },
};

export function checkNormalization(norm: Normalization, channels: number, what: string): void {
  const ok = Array.isArray(norm.mean) && Array.isArray(norm.std) &&
    norm.mean.length === channels && norm.std.length === channels &&
    norm.mean.every(Number.isFinite) && norm.std.every((s) => Number.isFinite(s) && s > 0);
  if (!ok) {
    throw new Error(`${what}: normalization ${JSON.stringify(norm)} must have ${channels} finite mean(s) and ` +
      `${channels} positive std(s), one per channel.`);
  }
}

/**
 * Normalise the rows `idx` (or all rows) of NHWC bytes into a new Float32Array. A 256-entry
 * lookup table per channel makes this one table read per pixel.
 */
export function normalizeBytes(bytes: Uint8Array, rowSize: number, channels: number, norm: Normalization,
  idx?: Int32Array): Float32Array {
  const lut = new Float32Array(256 * channels);
  for (let c = 0; c < channels; c++) {
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - norm.mean[c]) / norm.std[c];
  }
  const rows = idx ? idx.length : bytes.length / rowSize;
  const out = new Float32Array(rows * rowSize);
  for (let r = 0; r < rows; r++) {
    const src = (idx ? idx[r] : r) * rowSize, dst = r * rowSize;
    if (channels === 1) {
      for (let i = 0; i < rowSize; i++) out[dst + i] = lut[bytes[src + i]];
    } else {
      for (let i = 0; i < rowSize; i++) out[dst + i] = lut[(i % channels) * 256 + bytes[src + i]];
    }
  }
  return out;
}

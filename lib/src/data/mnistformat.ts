/** Directories of MNIST-format IDX files (train-images, train-labels, t10k-images, t10k-labels). */
import * as fs from 'fs';
import * as path from 'path';
import { readIdx } from './idx';
import type { RawSplit } from './types';

const STEMS = {
  trainImages: ['train-images', 'idx3'], trainLabels: ['train-labels', 'idx1'],
  testImages: ['t10k-images', 'idx3'], testLabels: ['t10k-labels', 'idx1'],
} as const;
type Part = keyof typeof STEMS;

/** Accepted spellings: the canonical `-idx3-ubyte`, the `.idx3-ubyte` of some mirrors, gzipped or not. */
function candidates(part: Part): string[] {
  const [stem, kind] = STEMS[part];
  return [`${stem}-${kind}-ubyte.gz`, `${stem}-${kind}-ubyte`, `${stem}.${kind}-ubyte.gz`, `${stem}.${kind}-ubyte`];
}

export function findMnistFormatFiles(dir: string): { found: Record<Part, string | null>; missing: string[] } {
  const found = {} as Record<Part, string | null>;
  const missing: string[] = [];
  for (const part of Object.keys(STEMS) as Part[]) {
    const hit = candidates(part).map((f) => path.join(dir, f)).find((p) => fs.existsSync(p));
    found[part] = hit ?? null;
    if (!hit) missing.push(`${candidates(part)[1]}[.gz]`);
  }
  return { found, missing };
}

function loadPair(images: string, labels: string, numClasses: number, hint: string): RawSplit {
  const im = readIdx(images, { dtypeCode: 0x08, ndim: 3, role: 'images', hint });
  const lb = readIdx(labels, { dtypeCode: 0x08, ndim: 1, role: 'labels', hint });
  const [n, h, w] = im.dims;
  if (h !== 28 || w !== 28) throw new Error(`${images}: expected 28x28 images, got ${h}x${w}. ${hint}`);
  if (lb.dims[0] !== n) throw new Error(`${labels}: ${lb.dims[0]} labels but ${images} holds ${n} images. ${hint}`);
  const y = Int32Array.from(lb.data);
  const bad = y.findIndex((v) => v >= numClasses);
  if (bad >= 0) throw new Error(`${labels}: label ${y[bad]} at index ${bad} is outside 0..${numClasses - 1}. ${hint}`);
  return { x: im.data as Uint8Array, y, n };
}

/** Load the four IDX files from `dir`; `what` names the dataset and `hint` says how to get it. */
export function loadMnistFormatDir(dir: string, what: string, hint: string): { train: RawSplit; test: RawSplit } {
  if (!fs.existsSync(dir)) throw new Error(`${what} directory ${dir} does not exist. ${hint}`);
  const { found, missing } = findMnistFormatFiles(dir);
  if (missing.length) throw new Error(`${what} not found in ${dir}: missing ${missing.join(', ')}. ${hint}`);
  return {
    train: loadPair(found.trainImages!, found.trainLabels!, 10, hint),
    test: loadPair(found.testImages!, found.testLabels!, 10, hint),
  };
}

/**
 * CIFAR-10, binary version (https://www.cs.toronto.edu/~kriz/cifar.html, cifar-10-binary.tar.gz,
 * which extracts to cifar-10-batches-bin/): data_batch_1..5.bin and test_batch.bin, each a run of
 * 3073-byte records = 1 label byte + 3072 pixel bytes in CHW order (1024 red, 1024 green,
 * 1024 blue, rows top to bottom). Converted here to NHWC, the TF.js layout.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { RawDataset, RawSplit } from './types';
import { datasetEnvDir } from './env';

export const CIFAR_ENV = 'PRUNE_AT_INIT_CIFAR_DIR';
export const CIFAR_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR_TEST_FILE = 'test_batch.bin';
export const CIFAR_RECORD = 3073;
export const CIFAR_HOW_TO_GET = 'Download the CIFAR-10 binary version (cifar-10-binary.tar.gz) from ' +
  `https://www.cs.toronto.edu/~kriz/cifar.html, extract it and point ${CIFAR_ENV} (or { dir }) at cifar-10-batches-bin.`;
export const CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** The batches directory: dir/opts or env; accepts the parent of cifar-10-batches-bin too. */
export function cifarDir(dir?: string): string | undefined {
  const d = dir ?? datasetEnvDir(CIFAR_ENV, 'nothing (CIFAR-10 has no default location)');
  if (!d) return undefined;
  const inner = path.join(d, 'cifar-10-batches-bin');
  return !fs.existsSync(path.join(d, CIFAR_TEST_FILE)) && fs.existsSync(inner) ? inner : d;
}

export function cifarAvailable(): { available: boolean; where: string } {
  const d = cifarDir();
  if (!d) return { available: false, where: `${CIFAR_ENV} not set` };
  const missing = [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE].filter((f) => !fs.existsSync(path.join(d, f)));
  return { available: missing.length === 0, where: missing.length ? `${d} (missing ${missing.join(', ')})` : d };
}

/** Decode whole-record CIFAR-10 binary files into one NHWC byte split. */
export function readCifarBatches(files: string[]): RawSplit {
  const bufs = files.map((f) => {
    let b: Buffer;
    try {
      b = fs.readFileSync(f);
    } catch (e) {
      throw new Error(`Cannot read CIFAR-10 batch ${f}: ${(e as Error).message}. ${CIFAR_HOW_TO_GET}`);
    }
    if (b.length === 0 || b.length % CIFAR_RECORD !== 0) {
      throw new Error(`${f}: size ${b.length} bytes is not a positive multiple of the ${CIFAR_RECORD}-byte CIFAR-10 record ` +
        `(1 label + 3072 pixels); the file is corrupt or not the binary version. ${CIFAR_HOW_TO_GET}`);
    }
    return b;
  });
  const n = bufs.reduce((a, b) => a + b.length / CIFAR_RECORD, 0);
  const x = new Uint8Array(n * 3072), y = new Int32Array(n);
  let row = 0;
  bufs.forEach((b, fi) => {
    for (let r = 0; r < b.length / CIFAR_RECORD; r++, row++) {
      const o = r * CIFAR_RECORD;
      if (b[o] > 9) {
        throw new Error(`${files[fi]}: record ${r} has label ${b[o]}, CIFAR-10 labels are 0..9; the file is corrupt ` +
          `or not CIFAR-10 (CIFAR-100 binaries have 2 label bytes). ${CIFAR_HOW_TO_GET}`);
      }
      y[row] = b[o];
      const dst = row * 3072;
      for (let c = 0; c < 3; c++) {
        const src = o + 1 + c * 1024;
        for (let p = 0; p < 1024; p++) x[dst + p * 3 + c] = b[src + p];
      }
    }
  });
  return { x, y, n };
}

export function loadCifarRaw(dir?: string): RawDataset {
  const d = cifarDir(dir);
  if (!d) throw new Error(`CIFAR-10 location unknown: ${CIFAR_ENV} is not set and no { dir } was given. ${CIFAR_HOW_TO_GET}`);
  if (!fs.existsSync(d)) throw new Error(`CIFAR-10 directory ${d} does not exist. ${CIFAR_HOW_TO_GET}`);
  const missing = [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE].filter((f) => !fs.existsSync(path.join(d, f)));
  if (missing.length) throw new Error(`CIFAR-10 not found in ${d}: missing ${missing.join(', ')}. ${CIFAR_HOW_TO_GET}`);
  return {
    inputShape: [32, 32, 3], numClasses: 10, classNames: CIFAR_CLASSES, source: d,
    train: readCifarBatches(CIFAR_TRAIN_FILES.map((f) => path.join(d, f))),
    test: readCifarBatches([path.join(d, CIFAR_TEST_FILE)]),
  };
}

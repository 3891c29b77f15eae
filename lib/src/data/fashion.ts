/**
 * Fashion-MNIST (Xiao et al. 2017): 60,000 train / 10,000 test 28x28 grey images, 10 classes.
 * Default location is the Debian package dataset-fashion-mnist, which installs the four gzipped
 * IDX files (train-images-idx3-ubyte.gz, ...) in /usr/share/datasets/fashion-mnist/.
 */
import { loadMnistFormatDir, findMnistFormatFiles } from './mnistformat';
import type { RawDataset } from './types';
import { datasetEnvDir } from './env';

export const FASHION_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_ENV = 'PRUNE_AT_INIT_FASHION_DIR';
export const FASHION_HOW_TO_GET = `Install it with \`sudo apt-get install dataset-fashion-mnist\` (files in ${FASHION_DEFAULT_DIR}), ` +
  `or download the four IDX files from https://github.com/zalandoresearch/fashion-mnist and pass { dir } or set ${FASHION_ENV}.`;
export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export function fashionDir(dir?: string): string {
  return dir ?? datasetEnvDir(FASHION_ENV, `the Debian package's ${FASHION_DEFAULT_DIR}`) ?? FASHION_DEFAULT_DIR;
}

export function fashionAvailable(): { available: boolean; where: string } {
  const dir = fashionDir();
  return { available: findMnistFormatFiles(dir).missing.length === 0, where: dir };
}

export function loadFashionRaw(dir?: string): RawDataset {
  const d = fashionDir(dir);
  const { train, test } = loadMnistFormatDir(d, 'Fashion-MNIST', FASHION_HOW_TO_GET);
  return { inputShape: [28, 28, 1], numClasses: 10, train, test, source: d, classNames: FASHION_CLASSES };
}

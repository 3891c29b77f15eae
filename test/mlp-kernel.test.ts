/**
 * The whole-MLP kernels (kernels/mlp.ts, kernels/mlp_kernels.ts) against the per-layer ops they
 * replace: forward outputs, every gradient and the weights after SGD steps must be bit-identical
 * (cached results were computed layer by layer), on wasm and cpu with the native kernels, dense and
 * masked (sparse and dense masked paths), with and without biases; no tensor leaks; clear errors
 * where the one-kernel path has no answer.
 */
import { strict as assert } from 'assert';
import {
  buildModel, Mask, maskedDense, maskedMlp, mlpFusable, MlpLayer, ModelConfig, nativeStatus, Rng, setMlpFusion, setNativeThreads, setSparseMaxDensity, sparseCounts, tf, Trainer,
} from 'prune-at-init';
import { nativeBlas } from 'prune-at-init/dist/kernels/native';
import { onNativeBackends } from './support/native-backends';

const bytes = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).buffer).toString('hex');
const nativeExpected = process.env.PRUNE_AT_INIT_NATIVE !== '0';

/** The per-layer composition the MLP kernel replaces. */
function perLayer(x: tf.Tensor2D, layers: readonly MlpLayer[], act: 'relu' | 'tanh' | 'linear'): tf.Tensor2D {
  let h = x;
  layers.forEach((l, i) => { h = maskedDense({ x: h, w: l.w as tf.Tensor2D, mask: l.mask, bias: l.bias, activation: i < layers.length - 1 ? act : 'linear' }); });
  return h;
}

/** Layers dims[i] -> dims[i+1]; density per layer (an array) or for all. */
function stack(r: Rng, dims: number[], density: number | number[] | null, bias: boolean): MlpLayer[] {
  return dims.slice(1).map((m, i) => {
    const k = dims[i], d = Array.isArray(density) ? density[i] : density;
    return {
      w: tf.tensor2d(r.normalArray(k * m).map((v) => v / Math.sqrt(k)), [k, m]),
      mask: d === null ? undefined : tf.tensor2d(Float32Array.from({ length: k * m }, () => (r.uniform() < d ? 1 : 0)), [k, m]),
      bias: bias ? tf.tensor1d(r.normalArray(m).map((v) => 0.1 * v)) : undefined,
    };
  });
}

if (nativeExpected) describe('whole-MLP kernels: bit-identical to the per-layer ops', function () {
  this.timeout(120000);
  after(() => { setMlpFusion(true); });
  onNativeBackends((backend) => {
    // every layer sparse (density <= the break-even): on wasm the whole MLP runs in one native call each way
    const cases: Array<{ act: 'relu' | 'tanh' | 'linear'; density: number | number[] | null; bias: boolean; n: number }> = [
      { act: 'tanh', density: 0.05, bias: true, n: 70 },
      { act: 'relu', density: 0.5, bias: true, n: 33 }, // dense masked kernels
      { act: 'relu', density: null, bias: false, n: 8 },
      { act: 'linear', density: 0.1, bias: false, n: 130 },
      { act: 'relu', density: 0.15, bias: false, n: 5 }, // a batch smaller than the sparse kernels' tile
      { act: 'tanh', density: [0.05, 0.6, 0.1], bias: true, n: 64 }, // one layer dense: layer by layer
    ];
    for (const c of cases) {
      const allSparse = c.density !== null && [c.density].flat().every((d) => d <= 0.2);
      it(`${c.act}, ${c.density === null ? 'no masks' : `masks of density ${c.density}`}, ${c.bias ? 'biases' : 'no biases'}, batch ${c.n}: output and every gradient`, () => {
        const r = new Rng(7, `${backend}/${c.act}/${c.density}`);
        const layers = stack(r, [37, 23, 19, 5], c.density, c.bias);
        const x = tf.tensor2d(r.normalArray(c.n * 37), [c.n, 37]);
        const dy = tf.tensor2d(r.normalArray(c.n * 5), [c.n, 5]);
        assert.ok(mlpFusable(layers, c.act));
        const before = tf.memory().numTensors, sparse0 = sparseCounts();
        // gradients of sum(y ⊙ dy) w.r.t. x, every weight and bias, and the first mask
        const params = layers.flatMap((l) => [l.w, ...(l.bias ? [l.bias] : [])]);
        const wrt = [x, ...params, ...(layers[0].mask ? [layers[0].mask] : [])];
        const run = (f: typeof perLayer) => tf.tidy(() => {
          const g = tf.grads((...ts: tf.Tensor[]) => {
            const [xx, ...rest] = ts;
            let at = 0;
            const ls = layers.map((l, i) => ({ w: rest[at++], bias: l.bias ? rest[at++] : undefined, mask: i === 0 && l.mask ? rest[params.length] : l.mask }));
            return tf.sum(tf.mul(f(xx as tf.Tensor2D, ls, c.act), dy));
          })(wrt);
          return [f(x, layers, c.act), ...g].map(bytes);
        });
        const fused = run(maskedMlp), ref = run(perLayer);
        assert.equal(fused.length, ref.length);
        fused.forEach((f, i) => assert.equal(f, ref[i], `${i === 0 ? 'output' : `gradient ${i - 1}`} differs`));
        const sparse1 = sparseCounts();
        if (backend === 'wasm' && c.density !== null) assert.equal(sparse1.forward > sparse0.forward, [c.density].flat().some((d) => d <= 0.2), 'the sparse kernels ran');
        // the fused run: a forward and a backward under tf.grads, then a forward alone
        assert.equal(sparse1.wholeMlp - sparse0.wholeMlp, backend === 'wasm' && allSparse ? 3 : 0, 'whole-MLP native calls');
        assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
        for (const l of layers) for (const t of [l.w, l.mask, l.bias]) t?.dispose();
        x.dispose(); dy.dispose();
      });
    }
  });

  it('training a library FFNN: SGD steps give the same weights with and without the one-kernel path (sparse tanh and dense relu)', () => {
    const cases: Array<[ModelConfig, number]> = [[{ arch: 'ffnn', activation: 'tanh', hidden: [40, 40, 40] }, 0.95], [{ arch: 'ffnn', activation: 'relu', hidden: [50, 20] }, 0]];
    for (const [cfg, sparsity] of cases) {
      const weights = [true, false].map((fuse) => {
        const prev = setMlpFusion(fuse);
        const net = buildModel(cfg, { seed: 3, inputShape: [6, 6, 1], numClasses: 4 });
        if (sparsity) {
          const r = new Rng(9, 'mask');
          net.setMask(new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: Uint8Array.from({ length: p.size }, () => (r.uniform() < 1 - sparsity ? 1 : 0)) }])));
        }
        const trainer = new Trainer(net, { epochs: 1, batchSize: 16, lr: 0.05, momentum: 0.9 });
        const r = new Rng(4, 'data');
        const x = tf.tensor4d(r.normalArray(16 * 36), [16, 6, 6, 1]), y = tf.tensor1d(Int32Array.from({ length: 16 }, (_, i) => i % 4), 'int32');
        trainer.step(x, y, 0.05); // creates the momentum slots
        const before = tf.memory().numTensors;
        for (let s = 0; s < 3; s++) trainer.step(x, y, 0.05);
        assert.equal(tf.memory().numTensors, before, 'tensor count flat across steps');
        const w = [...net.getWeights()].map(([, v]) => Buffer.from(v.buffer).toString('hex')).join('/');
        trainer.dispose(); net.dispose(); x.dispose(); y.dispose();
        setMlpFusion(prev);
        return w;
      });
      assert.equal(weights[0], weights[1], `${JSON.stringify(cfg)} at sparsity ${sparsity}`);
    }
  });

  it('an all-sparse FFNN trains to the same bits on 1 and 2 threads through the whole-MLP calls (products big enough to split)', () => {
    const before = nativeStatus().threads;
    let weights: string[];
    try {
      weights = [1, 2].map((threads) => {
        setNativeThreads(threads);
        const net = buildModel({ arch: 'ffnn', activation: 'tanh', hidden: [300, 300, 300] }, { seed: 1, inputShape: [28, 28, 1], numClasses: 10 });
        const r = new Rng(3, 'mask');
        net.setMask(new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: Uint8Array.from({ length: p.size }, () => (r.uniform() < 0.05 ? 1 : 0)) }])));
        const trainer = new Trainer(net, { epochs: 1, batchSize: 256, lr: 0.05, momentum: 0.9 });
        const d = new Rng(2, 'data');
        const x = tf.tensor4d(d.normalArray(256 * 784), [256, 28, 28, 1]), y = tf.tensor1d(Int32Array.from({ length: 256 }, (_, i) => i % 10), 'int32');
        const calls = sparseCounts().wholeMlp;
        for (let s = 0; s < 3; s++) trainer.step(x, y, 0.05);
        if (tf.getBackend() === 'wasm') assert.equal(sparseCounts().wholeMlp - calls, 6, 'forward and backward as whole-MLP calls');
        const w = [...net.getWeights()].map(([, v]) => Buffer.from(v.buffer).toString('hex')).join('/');
        trainer.dispose(); net.dispose(); x.dispose(); y.dispose();
        return w;
      });
    } finally {
      setNativeThreads(before);
    }
    assert.equal(weights[1], weights[0]);
  });

  it('the whole-MLP native calls refuse operands they cannot use: a wrong padded batch, an activation without room to align, an out-of-range output', () => {
    const blas = nativeBlas()!;
    const heap = new ArrayBuffer(1 << 16);
    const mask = new Float32Array(4 * 3).fill(0);
    mask[0] = mask[5] = 1;
    const p = blas.sparsePattern(mask, 0, 4, 3)!.handle, q = blas.sparsePattern(Float32Array.from([1, 0, 0, 1, 1, 0]), 0, 3, 2)!.handle;
    // offs = [x, w0, bias0, out0 (hidden, packed), w1, bias1, out1]
    const offs = (hidden: number, last = 2000) => Float64Array.from([0, 100, -1, hidden, 300, -1, last]);
    assert.throws(() => blas.mlpSparseForward(heap, offs(1024), [p, q], 5, 128, 1), /paddedN must be N rounded up to a multiple of 64/);
    // a hidden activation (3 x 64 floats here) needs 16 floats to spare after it, for its alignment
    assert.throws(() => blas.mlpSparseForward(heap, offs(16384 - 3 * 64 - 15), [p, q], 5, 64, 1), /MLP operand 3 out of range/);
    assert.throws(() => blas.mlpSparseForward(heap, offs(1024, 16380), [p, q], 5, 64, 1), /MLP operand 6 out of range/);
    assert.throws(() => blas.mlpSparseForward(heap, offs(1024), [q, p], 5, 64, 1), /widths differ/);
    assert.throws(() => blas.mlpSparseBackward(heap, offs(1024), [p, q], 5, 64, 3), /bad batch size or activation/);
    // well-formed, from a 64-byte boundary or not: the same output
    const f = new Float32Array(heap);
    f.set(Float32Array.from({ length: 5 * 4 }, (_, i) => Math.sin(i)), 0);
    f.set(Float32Array.from({ length: 12 }, (_, i) => Math.cos(i)), 100);
    f.set(Float32Array.from({ length: 6 }, (_, i) => 1 + i), 300);
    const outputs = [1024, 1028, 1031].map((hidden) => { blas.mlpSparseForward(heap, offs(hidden), [p, q], 5, 64, 1); return Array.from(f.slice(2000, 2010)); });
    assert.deepEqual(outputs[1], outputs[0]);
    assert.deepEqual(outputs[2], outputs[0]);
    assert.ok(outputs[0].some((v) => v !== 0));
  });

  it('is not used where it has no answer: mixed masks, an activation without a native kernel; later layers\' mask gradients fail clearly', () => {
    const r = new Rng(1, 'edge');
    const layers = stack(r, [6, 5, 4], 0.5, true);
    assert.equal(mlpFusable([layers[0], { ...layers[1], mask: undefined }], 'relu'), false);
    assert.equal(mlpFusable(layers, 'elu'), false);
    const x = tf.tensor2d(r.normalArray(12), [2, 6]);
    assert.throws(() => tf.grads((m: tf.Tensor) => tf.sum(maskedMlp(x, [layers[0], { ...layers[1], mask: m }], 'relu')))([layers[1].mask!]),
      /gradients with respect to the masks of layers after the first are not available; run the net with fusedKernels: false/);
    const prev = setSparseMaxDensity(0);
    try { assert.throws(() => maskedMlp(x, [layers[0], { ...layers[1], mask: undefined }], 'relu'), /check mlpFusable first/); } finally { setSparseMaxDensity(prev); }
  });
});

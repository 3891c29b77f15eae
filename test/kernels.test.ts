import * as fs from 'fs';
/**
 * Extra kernels vs the TF.js cpu backend's own kernels (the independent reference), plus closed
 * forms where there are any: values and gradients through tf.grad for the pure-TS wasm kernels
 * and the native kernels on wasm and cpu, and 3 training steps of real library models.
 * Inputs are seeded random numbers; tolerance is float32 accumulation error (3e-5 of the largest
 * reference magnitude).
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import { nativeBlas } from 'prune-at-init/dist/kernels/native';
import * as os from 'os';
import * as path from 'path';
import { addonMismatch, NATIVE_ABI, batchNorm, buildModel, extraKernelInfo, initBackend, Mask, maskedDense, ModelConfig, nativeStatus, registerExtraKernels, Rng, setNativeThreads, sgdMomentumUpdate, tf, Trainer } from 'prune-at-init';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase { n: number; h: number; w: number; ci: number; co: number; kh: number; kw: number; s: number; pad: Pad }

const CONV_CASES: ConvCase[] = [
  { n: 2, h: 7, w: 7, ci: 3, co: 4, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 2, h: 8, w: 8, ci: 3, co: 4, kh: 3, kw: 3, s: 2, pad: 'same' },
  { n: 1, h: 7, w: 7, ci: 1, co: 5, kh: 3, kw: 3, s: 2, pad: 'valid' },
  { n: 3, h: 8, w: 6, ci: 2, co: 3, kh: 3, kw: 3, s: 1, pad: 'valid' },
  { n: 2, h: 8, w: 8, ci: 2, co: 3, kh: 3, kw: 3, s: 2, pad: 'valid' },
  { n: 2, h: 9, w: 9, ci: 4, co: 8, kh: 5, kw: 5, s: 2, pad: 'same' },
  { n: 2, h: 6, w: 6, ci: 5, co: 2, kh: 1, kw: 1, s: 2, pad: 'valid' },
  { n: 2, h: 6, w: 5, ci: 5, co: 2, kh: 1, kw: 1, s: 1, pad: 'valid' },
  { n: 2, h: 7, w: 7, ci: 3, co: 4, kh: 3, kw: 3, s: 2, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
  { n: 1, h: 8, w: 8, ci: 16, co: 8, kh: 3, kw: 3, s: 2, pad: 'same' },
  { n: 2, h: 5, w: 7, ci: 3, co: 2, kh: 2, kw: 3, s: 2, pad: 'same' },
  // the direct 3x3 kernels' shapes (native/conv_direct.c): 8 or 16 output channels from at most 16, rows not a
  // multiple of the 8- or 6-pixel tile, filter-gradient rows (9 x ci) not a multiple of the 8- or 6-row tile
  { n: 2, h: 9, w: 13, ci: 8, co: 8, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 2, h: 7, w: 11, ci: 16, co: 16, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 2, h: 5, w: 6, ci: 16, co: 8, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 1, h: 3, w: 2, ci: 8, co: 16, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 2, h: 6, w: 7, ci: 1, co: 16, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 2, h: 5, w: 5, ci: 3, co: 8, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 2, h: 5, w: 4, ci: 5, co: 16, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 2, h: 6, w: 9, ci: 8, co: 8, kh: 3, kw: 3, s: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  // Winograd F(2x2, 3x3) forward passes and input gradients (native/conv_winograd.c): 32+ channels in and out, odd sizes (partial
  // 2x2 tiles), channel counts that are not multiples of 8
  { n: 2, h: 7, w: 9, ci: 32, co: 32, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 3, h: 6, w: 5, ci: 40, co: 33, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 1, h: 4, w: 3, ci: 64, co: 128, kh: 3, kw: 3, s: 1, pad: 'same' },
];
const isSame3x3 = (c: ConvCase) => c.kh === 3 && c.kw === 3 && c.s === 1 && (c.pad === 'same' || JSON.stringify(c.pad) === '[[0,0],[1,1],[1,1],[0,0]]');
/** The cases above whose forward pass and input gradient take Winograd F(2x2, 3x3). */
const WINOGRAD_CASES = CONV_CASES.filter((c) => isSame3x3(c) && c.ci >= 32 && c.co >= 32);
/** The cases above that the direct kernels take (forward and filter gradient; input gradient too where ci is 8 or 16). */
const DIRECT_CASES = CONV_CASES.filter((c) => isSame3x3(c) && (c.co === 8 || c.co === 16) && c.ci <= 16);
const caseName = (c: ConvCase) =>
  `x[${c.n},${c.h},${c.w},${c.ci}] * w[${c.kh},${c.kw},${c.ci},${c.co}] stride ${c.s} pad ${JSON.stringify(c.pad)}`;

/** Deterministic inputs for a case: plain arrays, so each backend builds its own tensors. */
function data(seed: string, ...sizes: number[]): Float32Array[] {
  const r = new Rng(7, seed);
  return sizes.map((n) => r.normalArray(n));
}

/** Run `fn` on `backend`, returning every output's values. */
async function on(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(fn).map((t) => { const v = t.dataSync() as Float32Array; t.dispose(); return v; });
}

function assertClose(got: Float32Array[], want: Float32Array[], what: string): void {
  assert.equal(got.length, want.length, `${what}: number of outputs`);
  for (let i = 0; i < want.length; i++) {
    assert.equal(got[i].length, want[i].length, `${what}: output ${i} size`);
    let scale = 1;
    for (const v of want[i]) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < want[i].length; j++) {
      const d = Math.abs(got[i][j] - want[i][j]);
      if (!(d <= 3e-5 * scale)) {
        assert.fail(`${what}: output ${i}[${j}] = ${got[i][j]}, reference ${want[i][j]} (|diff| ${d}, scale ${scale})`);
      }
    }
  }
}

/** A case's output size and top/left padding, as TF.js computes them ('same': the smaller half on top/left). */
function convGeometry(c: ConvCase): { oh: number; ow: number; pt: number; pl: number } {
  const p = Array.isArray(c.pad) ? c.pad : null;
  const out = (size: number, k: number, q: number[] | null) => q ? Math.floor((size + q[0] + q[1] - k) / c.s) + 1 :
    c.pad === 'same' ? Math.ceil(size / c.s) : Math.ceil((size - k + 1) / c.s);
  const oh = out(c.h, c.kh, p ? p[1] : null), ow = out(c.w, c.kw, p ? p[2] : null);
  const before = (o: number, k: number, size: number, q: number[] | null) => c.pad === 'same' ? Math.max(0, ((o - 1) * c.s + k - size) >> 1) : q ? q[0] : 0;
  return { oh, ow, pt: before(oh, c.kh, c.h, p ? p[1] : null), pl: before(ow, c.kw, c.w, p ? p[2] : null) };
}

/** conv2d output and its gradients w.r.t. x, filter (and bias) for a weighted-sum loss. */
function convCase(c: ConvCase, fused: false | 'relu' | 'prelu'): () => tf.Tensor[] {
  const { oh, ow } = convGeometry(c);
  const [xv, wv, rv, bv, av] = data(caseName(c), c.n * c.h * c.w * c.ci, c.kh * c.kw * c.ci * c.co, c.n * oh * ow * c.co, c.co, c.co);
  return () => {
    const x = tf.tensor4d(xv, [c.n, c.h, c.w, c.ci]), w = tf.tensor4d(wv, [c.kh, c.kw, c.ci, c.co]);
    const r = tf.tensor4d(rv, [c.n, oh, ow, c.co]), b = tf.tensor1d(bv);
    if (fused) {
      const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: c.s, pad: c.pad, bias: b, activation: fused,
          preluActivationWeights: fused === 'prelu' ? tf.tensor1d(av) : undefined });
      return [f(x, w, b), ...tf.grads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(x, w, b), r)))([x, w, b])];
    }
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad);
    return [f(x, w), ...tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(f(x, w), r)))([x, w])];
  };
}

interface MatMulCase { outerA: number[]; outerB: number[]; m: number; k: number; n: number; tA: boolean; tB: boolean }
const mmName = (c: MatMulCase) => `a[${[...c.outerA, c.m, c.k]}]${c.tA ? 'T' : ''} @ b[${[...c.outerB, c.k, c.n]}]${c.tB ? 'T' : ''}`;

const MATMUL_CASES: MatMulCase[] = [];
for (const tA of [false, true]) {
  for (const tB of [false, true]) {
    MATMUL_CASES.push({ outerA: [], outerB: [], m: 1, k: 7, n: 5, tA, tB }); // batch size 1
    MATMUL_CASES.push({ outerA: [], outerB: [], m: 13, k: 31, n: 17, tA, tB });
    MATMUL_CASES.push({ outerA: [3], outerB: [3], m: 4, k: 6, n: 5, tA, tB });
    MATMUL_CASES.push({ outerA: [2, 3], outerB: [], m: 4, k: 6, n: 5, tA, tB }); // b broadcast
    MATMUL_CASES.push({ outerA: [], outerB: [3], m: 4, k: 6, n: 5, tA, tB }); // a broadcast
  }
}

/** matMul (or fused matMul) output and gradients; shapes laid out as the transposes require. */
function matMulCase(c: MatMulCase, fused?: { activation: tf.fused.Activation; biasShape: number[] }): () => tf.Tensor[] {
  const aShape = [...c.outerA, ...(c.tA ? [c.k, c.m] : [c.m, c.k])], bShape = [...c.outerB, ...(c.tB ? [c.n, c.k] : [c.k, c.n])];
  const outer = c.outerA.length >= c.outerB.length ? c.outerA : c.outerB;
  const size = (s: number[]) => s.reduce((p, v) => p * v, 1);
  const [av, bv, rv, biasv, alphav] = data(mmName(c) + JSON.stringify(fused ?? null), size(aShape), size(bShape), size(outer) * c.m * c.n,
    fused ? size(fused.biasShape) : 1, c.n);
  return () => {
    const a = tf.tensor(av, aShape), b = tf.tensor(bv, bShape), r = tf.tensor(rv, [...outer, c.m, c.n]);
    if (fused) {
      const bias = tf.tensor(biasv, fused.biasShape);
      const alpha = fused.activation === 'prelu' ? tf.tensor1d(alphav) : undefined;
      const f = (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) => tf.fused.matMul({ a, b, transposeA: c.tA, transposeB: c.tB, bias,
        activation: fused.activation, preluActivationWeights: alpha, leakyreluAlpha: 0.3 });
      return [f(a, b, bias), ...tf.grads((a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) => tf.sum(tf.mul(f(a, b, bias), r)))([a, b, bias])];
    }
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, c.tA, c.tB);
    // TF.js's BatchMatMul gradient does not reduce broadcast batch dims, so only same-batch cases have gradients.
    if (c.outerA.join() !== c.outerB.join()) return [f(a, b)];
    return [f(a, b), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), r)))([a, b])];
  };
}

/** Reference values from the cpu backend's own kernels (ours are switched off for cpu while computing them). */
async function reference(fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  const nativeOnCpu = extraKernelInfo().some((k) => k.startsWith('cpu:'));
  if (nativeOnCpu) registerExtraKernels('cpu', { native: false });
  try {
    return await on('cpu', fn);
  } finally {
    if (nativeOnCpu) registerExtraKernels('cpu', { native: true });
  }
}

const nativeExpected = process.env.PRUNE_AT_INIT_NATIVE !== '0';
const PURE_WASM = ['wasm:BatchMatMul (transpose, then XNNPACK)', 'wasm:Cast (same dtype shares the buffer)',
  'wasm:Conv2DBackpropFilter (via Conv2D)', 'wasm:Conv2DBackpropInput (via Conv2D)', 'wasm:Identity (shares the buffer)',
  'wasm:_FusedMatMul (transpose, then XNNPACK)'];
const NATIVE_NAMES = ['BatchMatMul', '_FusedMatMul', 'Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter',
  'Sum', 'Mean', 'MaxPoolGrad', 'Tanh', 'Add', 'Sub', 'Multiply', 'RealDiv', 'Tile', 'PruneAtInitActivationGrad', 'PruneAtInitSgdMomentum',
  'PruneAtInitDense', 'PruneAtInitMaskedDense', 'PruneAtInitMaskedMatMul', 'PruneAtInitBatchNormTrain', 'PruneAtInitBatchNormGrad'];
const BLAS_NAMES = NATIVE_NAMES.slice(0, 6);

/** Sum or mean over `axes` (values, and the gradient of a weighted sum of the result). */
function reduceCase(shape: number[], axes: number[] | null, keepDims: boolean, mean: boolean): () => tf.Tensor[] {
  const size = shape.reduce((p, v) => p * v, 1);
  const [xv] = data(`reduce ${shape} ${axes} ${keepDims} ${mean}`, size);
  return () => {
    const x = tf.tensor(xv, shape);
    const f = (x: tf.Tensor) => (mean ? tf.mean(x, axes ?? undefined, keepDims) : tf.sum(x, axes ?? undefined, keepDims));
    const y = f(x);
    const r = tf.tensor(data('w' + y.shape, y.size)[0], y.shape);
    return [y, tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x), r)))(x)];
  };
}

/** maxPool and its gradient (MaxPoolGrad) for a weighted-sum loss. */
function poolCase(shape: [number, number, number, number], k: number, s: number, pad: 'same' | 'valid'): () => tf.Tensor[] {
  const [xv] = data(`pool ${shape} ${k} ${s} ${pad}`, shape.reduce((p, v) => p * v, 1));
  return () => {
    const x = tf.tensor4d(xv, shape);
    const f = (x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, k, s, pad);
    const y = f(x);
    const r = tf.tensor(data('w' + y.shape, y.size)[0], y.shape);
    return [y, tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x), r)))(x)];
  };
}

type BinOp = 'add' | 'sub' | 'mul' | 'div';
/** a op b with broadcasting, and gradients w.r.t. both. */
function binaryCase(op: BinOp, aShape: number[], bShape: number[]): () => tf.Tensor[] {
  const size = (s: number[]) => s.reduce((p, v) => p * v, 1);
  const [av, bv] = data(`${op} ${aShape} ${bShape}`, size(aShape), size(bShape));
  // keep divisors away from zero so the reference and ours are both well conditioned
  if (op === 'div') for (let i = 0; i < bv.length; i++) bv[i] = Math.sign(bv[i] || 1) * (0.5 + Math.abs(bv[i]));
  return () => {
    const a = tf.tensor(av, aShape), b = tf.tensor(bv, bShape);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf[op](a, b);
    const y = f(a, b);
    const r = tf.tensor(data('w' + y.shape, y.size)[0], y.shape);
    return [y, ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), r)))([a, b])];
  };
}

interface DenseCase { n: number; k: number; m: number; masked: boolean; bias: boolean; activation: 'linear' | 'relu' | 'tanh' }
const denseName = (c: DenseCase) => `${c.activation}(x[${c.n},${c.k}] @ w[${c.k},${c.m}]${c.masked ? ' ⊙ mask' : ''}${c.bias ? ' + b' : ''})`;

/** maskedDense output and gradients w.r.t. x, w (, mask, bias) of a weighted sum; `fused` false = TF.js ops. */
function denseCase(c: DenseCase, fused: boolean): () => tf.Tensor[] {
  const [xv, wv, bv, rv, mv] = data(denseName(c), c.n * c.k, c.k * c.m, c.m, c.n * c.m, c.k * c.m);
  return () => {
    const x = tf.tensor2d(xv, [c.n, c.k]), w = tf.tensor2d(wv, [c.k, c.m]), b = tf.tensor1d(bv), r = tf.tensor2d(rv, [c.n, c.m]);
    const mask = tf.tensor2d(mv.map((v) => (v > 0 ? 1 : 0)), [c.k, c.m]);
    const f = (x: tf.Tensor, w: tf.Tensor, mask: tf.Tensor, b: tf.Tensor) => maskedDense({ x: x as tf.Tensor2D, w: w as tf.Tensor2D,
      mask: c.masked ? mask : undefined, bias: c.bias ? b : undefined, activation: c.activation, fused });
    const args = [x, w, ...(c.masked ? [mask] : []), ...(c.bias ? [b] : [])];
    const g = (...a: tf.Tensor[]) => {
      const [xa, wa] = a;
      const ma = c.masked ? a[2] : mask, ba = c.bias ? a[a.length - 1] : b;
      return tf.sum(tf.mul(f(xa, wa, ma, ba), r)) as tf.Scalar;
    };
    return [f(x, w, mask, b), ...tf.grads(g)(args)];
  };
}
const DENSE_CASES: DenseCase[] = [];
for (const activation of ['linear', 'relu', 'tanh'] as const) {
  for (const [masked, bias] of [[true, true], [false, true], [true, false], [false, false]]) {
    DENSE_CASES.push({ n: 9, k: 13, m: 7, masked, bias, activation });
  }
}
DENSE_CASES.push({ n: 1, k: 5, m: 1, masked: true, bias: true, activation: 'relu' });

/** Training-mode batchNorm: output, batch mean and variance, and gradients w.r.t. x, gamma, beta of a weighted sum. */
function bnCase(shape: number[], activation: 'linear' | 'relu', fused: boolean): () => tf.Tensor[] {
  const c = shape[shape.length - 1], size = shape.reduce((p, v) => p * v, 1);
  const [xv, gv, bv, rv] = data(`bn ${shape} ${activation}`, size, c, c, size);
  return () => {
    // an offset and scale per channel, so the statistics are not trivially 0 and 1
    const x = tf.add(tf.mul(tf.tensor(xv, shape), tf.range(1, c + 1)), tf.range(0, c)), g = tf.tensor1d(gv), b = tf.tensor1d(bv);
    const r = tf.tensor(rv, shape);
    const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => batchNorm({ x, gamma: g, beta: b, training: true, eps: 1e-5, activation, fused });
    const out = f(x, g, b);
    return [out.y, out.mean!, out.variance!, ...tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(x, g, b).y, r)))([x, g, b])];
  };
}

/** Eval-mode batchNorm (running statistics): output and gradients w.r.t. x, gamma, beta of a weighted sum. */
function bnEvalCase(shape: number[], activation: 'linear' | 'relu', fused: boolean): () => tf.Tensor[] {
  const c = shape[shape.length - 1], size = shape.reduce((p, v) => p * v, 1);
  const [xv, gv, bv, mv, vv, rv] = data(`bn eval ${shape} ${activation}`, size, c, c, c, c, size);
  return () => {
    const x = tf.tensor(xv, shape), g = tf.tensor1d(gv), b = tf.tensor1d(bv), r = tf.tensor(rv, shape);
    const runningMean = tf.tensor1d(mv), runningVar = tf.add(tf.square(tf.tensor1d(vv)), 0.1);
    const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      batchNorm({ x, gamma: g, beta: b, training: false, runningMean, runningVar, eps: 1e-5, activation, fused }).y;
    return [f(x, g, b), ...tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(x, g, b), r)))([x, g, b])];
  };
}

// the repository root, whether this file runs from test/ (tsx) or build/test/ (compiled)
const PROJECT_ROOT = (() => { let d = __dirname; while (!fs.existsSync(path.join(d, 'lib', 'package.json'))) d = path.dirname(d); return d; })();

describe('extra kernels', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend('wasm');
  });
  after(async () => {
    registerExtraKernels('cpu', { native: false });
    registerExtraKernels('wasm');
    await tf.setBackend('wasm');
  });

  describe('wasm Conv2DBackpropFilter and Conv2DBackpropInput via Conv2D (pure TS)', () => {
    before(() => {
      const active = registerExtraKernels('wasm', { native: false });
      assert.deepEqual(active.filter((k) => k.startsWith('wasm:')), PURE_WASM);
    });
    for (const c of CONV_CASES) {
      it(`matches cpu gradients: ${caseName(c)}`, async () => {
        const fn = convCase(c, false);
        assertClose(await on('wasm', fn), await reference(fn), caseName(c));
      });
    }
    for (const c of MATMUL_CASES) {
      it(`matMul${c.outerA.join() === c.outerB.join() ? ' and gradients' : ''}: ${mmName(c)}`, async () => {
        const fn = matMulCase(c);
        assertClose(await on('wasm', fn), await reference(fn), mmName(c));
      });
    }
    for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]]) {
      const c: MatMulCase = { outerA: [], outerB: [], m: 4, k: 6, n: 5, tA, tB };
      it(`fused matMul (bias + relu) and gradients: ${mmName(c)} (wasm's own is wrong with transposeB)`, async () => {
        const fn = matMulCase(c, { activation: 'relu', biasShape: [5] });
        assertClose(await on('wasm', fn), await reference(fn), `fused ${mmName(c)}`);
      });
    }
    it('fused conv2d (bias + relu) trains on wasm: gradients match cpu', async () => {
      const fn = convCase(CONV_CASES[1], 'relu');
      assertClose(await on('wasm', fn), await reference(fn), 'fused ' + caseName(CONV_CASES[1]));
    });
    it('Identity shares the buffer (refcounted): a clone outlives its source', async () => {
      await tf.setBackend('wasm');
      const storage = (tf.backend() as unknown as { dataIdMap: { has(id: object): boolean } }).dataIdMap;
      const a = tf.tensor1d([1.5, -2, 3]);
      const c = a.clone(), same = tf.cast(a, 'float32'), i = tf.cast(a, 'int32');
      assert.equal(c.dataId, a.dataId);
      assert.equal(same.dataId, a.dataId);
      a.dispose();
      assert.ok(storage.has(c.dataId), 'buffer kept while clones use it');
      assert.deepEqual(Array.from(c.dataSync()), [1.5, -2, 3]);
      assert.deepEqual(Array.from(same.dataSync()), [1.5, -2, 3]);
      assert.equal(i.dtype, 'int32');
      assert.deepEqual(Array.from(i.dataSync()), [1, -2, 3]);
      tf.dispose([c, same, i]);
      assert.ok(!storage.has(c.dataId), 'buffer freed with the last clone');
    });
    it('sgdMomentumUpdate falls back to TF.js ops (closed form)', async () => {
      const [nv, ns] = await on('wasm', () => {
        const r = sgdMomentumUpdate(tf.tensor1d([1, 2]), tf.tensor1d([0.5, -1]), tf.tensor1d([0.1, 0.2]), 0.1, 0.9);
        return [r.value, r.slot];
      });
      assertClose([nv, ns], [Float32Array.from([1 - 0.1 * 0.55, 2 - 0.1 * -0.7]), Float32Array.from([0.55, -0.7])], 'sgd fallback');
      assert.throws(() => sgdMomentumUpdate(tf.zeros([2]), tf.zeros([3]), tf.zeros([2]), 0.1, 0.9), /same size/);
    });
    it('rejects NCHW with a clear error', async () => {
      await tf.setBackend('wasm');
      assert.throws(() => tf.tidy(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.zeros([1, 2, 4, 4]), dy: tf.zeros([1, 2, 4, 4]) },
        { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2] })), /NCHW.*NHWC/);
    });
  });

  describe('native OpenBLAS addon', () => {
    it(nativeExpected ? 'is loaded (built at npm install from native/)' : 'is off when PRUNE_AT_INIT_NATIVE=0', () => {
      const st = nativeStatus();
      assert.equal(st.active, nativeExpected, `native status: ${st.detail}`);
      const cores = Math.min(os.availableParallelism(), 64); // OpenBLAS caps at its build's MAX_THREADS (64 for Debian's)
      if (nativeExpected) assert.equal(st.threads, Number(process.env.PRUNE_AT_INIT_THREADS || cores), 'native threads default to every core');
    });

    if (nativeExpected) it('PRUNE_AT_INIT_THREADS sets the BLAS threads; a bad value is a clear error (fresh processes)', function () {
      this.timeout(30000);
      const script = `
        const { initBackend, nativeStatus } = require('prune-at-init');
        initBackend('wasm').then(() => console.log(JSON.stringify(nativeStatus())), (e) => console.log(JSON.stringify({ error: e.message })));`;
      const run = (threads: string) => {
        const res = spawnSync(process.execPath, ['-e', script],
          { env: { ...process.env, PRUNE_AT_INIT_THREADS: threads }, encoding: 'utf8', cwd: PROJECT_ROOT });
        assert.equal(res.status, 0, res.stderr);
        return JSON.parse(res.stdout.trim().split('\n').pop()!);
      };
      assert.equal(run('2').threads, 2);
      assert.match(run('two').error, /PRUNE_AT_INIT_THREADS=two .*1\.\.256/);
    });

    if (nativeExpected) it('PRUNE_AT_INIT_FAST_CONV=0 sends every convolution to im2col + sgemm; a bad value is a clear error (fresh processes)', function () {
      this.timeout(30000);
      // a layer the direct kernels take (8 -> 8 channels) and one Winograd takes (32 -> 32), 3x3 stride 1 'same'
      const script = `
        const { initBackend, nativeStatus } = require('prune-at-init');
        const { nativeBlas } = require('prune-at-init/dist/kernels/native');
        initBackend('wasm').then(() => {
          const dims = (c) => Int32Array.from([2, 6, 6, c, 3, 3, c, 6, 6, 1, 1, 1, 1, 1, 1]);
          console.log(JSON.stringify({ fastConv: nativeStatus().fastConv, narrow: nativeBlas().convPaths(dims(8)), wide: nativeBlas().convPaths(dims(32)) }));
        }, (e) => console.log(JSON.stringify({ error: e.message })));`;
      const run = (fast: string) => {
        const res = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, PRUNE_AT_INIT_FAST_CONV: fast }, encoding: 'utf8', cwd: PROJECT_ROOT });
        assert.equal(res.status, 0, res.stderr);
        return JSON.parse(res.stdout.trim().split('\n').pop()!);
      };
      const off = run('0');
      assert.equal(off.fastConv, 'off');
      for (const p of [off.narrow, off.wide]) assert.deepEqual(p, { forward: 'im2col', input: 'im2col', filter: 'im2col' });
      const on = run('1');
      assert.match(on.fastConv, /Winograd/);
      assert.deepEqual(on.wide, { forward: 'winograd', input: 'winograd', filter: 'im2col' });
      if (nativeStatus().isa !== 'default') assert.deepEqual(on.narrow, { forward: 'direct', input: 'direct', filter: 'direct' });
      assert.match(run('yes').error, /PRUNE_AT_INIT_FAST_CONV=yes: use 0 .* or 1/);
    });

    it('falls back cleanly when the addon file is missing or disabled (fresh process)', function () {
      this.timeout(30000);
      const script = `
        const { initBackend, backendInfo, nativeStatus, tf } = require('prune-at-init');
        (async () => {
          await initBackend('wasm');
          const x = tf.ones([1, 5, 5, 2]), w = tf.ones([3, 3, 2, 1]);
          const g = tf.grad((w) => tf.conv2d(x, w, 1, 'valid').sum())(w);
          console.log(JSON.stringify({ st: nativeStatus(), kernels: backendInfo().extraKernels, g: Array.from(g.dataSync()) }));
        })();`;
      for (const env of [{ PRUNE_AT_INIT_NATIVE: '1', PRUNE_AT_INIT_NATIVE_ADDON: '/nonexistent/prune_at_init_blas.node' }, { PRUNE_AT_INIT_NATIVE: '0' }]) {
        const res = spawnSync(process.execPath, ['-e', script],
          { env: { ...process.env, ...env, PRUNE_AT_INIT_BACKEND: '' }, encoding: 'utf8', cwd: PROJECT_ROOT });
        assert.equal(res.status, 0, res.stderr);
        const out = JSON.parse(res.stdout.trim().split('\n').pop()!);
        assert.equal(out.st.active, false);
        assert.match(out.st.detail, env.PRUNE_AT_INIT_NATIVE === '0' ? /disabled/ : /not available/);
        assert.deepEqual(out.kernels, PURE_WASM);
        // d/dw of sum(conv(ones, w)) over a 5x5 valid 3x3 conv: every tap sees 9 ones.
        assert.deepEqual(out.g, new Array(18).fill(9));
      }
    });

    it('refuses a stale addon (older ABI) at load with a warning naming the fix, and trains on the backend kernels', function () {
      this.timeout(120000); // two fresh processes, each loading TF.js
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pai-stale-addon-'));
      try {
        // A module with the addon's functions as an older build had them: no ABI symbol, or another number.
        const fns = ['matmul', 'conv2d', 'info', 'setThreads', 'setFlushDenormals'].map((f) => `exports.${f} = () => { throw new Error('stale ${f} called'); };`).join('\n');
        const cases = [{ file: 'no-abi.js', extra: '', why: /ABI missing \(built before the check\)/ }, { file: 'old-abi.js', extra: `exports.abi = ${NATIVE_ABI - 1};`, why: new RegExp(`ABI ${NATIVE_ABI - 1}, this library needs ${NATIVE_ABI}`) }];
        for (const c of cases) {
          fs.writeFileSync(path.join(dir, c.file), `${fns}\n${c.extra}\n`);
          const script = `
            const { initBackend, backendInfo, nativeStatus, tf } = require('prune-at-init');
            (async () => {
              await initBackend('wasm');
              const w = tf.variable(tf.ones([3, 2])), x = tf.ones([4, 3]);
              const g = tf.grad((w) => tf.matMul(x, w).sum())(w);
              console.log(JSON.stringify({ st: nativeStatus(), kernels: backendInfo().extraKernels, g: Array.from(g.dataSync()) }));
            })();`;
          const res = spawnSync(process.execPath, ['-e', script],
            { env: { ...process.env, PRUNE_AT_INIT_NATIVE: '1', PRUNE_AT_INIT_NATIVE_ADDON: path.join(dir, c.file), PRUNE_AT_INIT_BACKEND: '' }, encoding: 'utf8', cwd: PROJECT_ROOT });
          assert.equal(res.status, 0, res.stderr);
          const out = JSON.parse(res.stdout.trim().split('\n').pop()!);
          assert.equal(out.st.active, false);
          assert.match(out.st.detail, c.why);
          assert.match(res.stderr, /native addon .* not used: stale build: .*rebuild it with `node scripts\/build-native.js`/);
          assert.deepEqual(out.kernels, PURE_WASM);
          assert.deepEqual(out.g, new Array(6).fill(4)); // d/dw sum(x @ w), x = ones[4, 3]: every entry 4
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    // with PRUNE_AT_INIT_NATIVE=0 no addon is loaded here (the test above covers the check)
    if (nativeExpected) it('the built addon carries the ABI this library expects', () => {
      assert.equal(addonMismatch(nativeBlas()), null);
      assert.equal(nativeBlas()!.abi, NATIVE_ABI);
    });
  });

  // With PRUNE_AT_INIT_NATIVE=0 these are not defined: the status test above checks the addon is off.
  for (const backend of nativeExpected ? ['wasm', 'cpu'] as const : []) {
    describe(`native kernels on ${backend}`, () => {
      before(() => {
        const active = registerExtraKernels(backend, { native: true });
        for (const k of NATIVE_NAMES) {
          // conv labels name the direct 3x3 kernels where they run (results' provenance)
          const fast = nativeStatus().fastConv;
          const blas = k.includes('Conv2D') && fast !== 'off' ? `OpenBLAS; ${fast}` : 'OpenBLAS';
          assert.ok(active.includes(`${backend}:${k} (${BLAS_NAMES.includes(k) ? blas : 'native'})`), `${k} registered for ${backend}: ${active}`);
        }
      });
      after(() => { registerExtraKernels(backend, { native: false }); });

      for (const c of MATMUL_CASES) {
        it(`matMul${c.outerA.join() === c.outerB.join() ? ' and gradients' : ''}: ${mmName(c)}`, async () => {
          const fn = matMulCase(c);
          assertClose(await on(backend, fn), await reference(fn), mmName(c));
        });
      }
      const acts: [tf.fused.Activation, number[]][] = [['relu', [5]], ['linear', [1]], ['relu6', [5]], ['leakyrelu', [1, 5]],
        ['sigmoid', [5]], ['elu', [5]], ['prelu', [5]]];
      // A full [M, N] bias is not channel-wise: handed to the original kernel (cpu has one; wasm's accepts only rank-1 bias).
      if (backend === 'cpu') acts.push(['relu', [4, 5]]);
      for (const [activation, biasShape] of acts) {
        const c: MatMulCase = { outerA: [], outerB: [], m: 4, k: 6, n: 5, tA: false, tB: true };
        it(`fused matMul ${activation}, bias [${biasShape}], and gradients`, async () => {
          const fn = matMulCase(c, { activation, biasShape });
          assertClose(await on(backend, fn), await reference(fn), `fused ${activation} ${mmName(c)}`);
        });
      }
      for (const c of DENSE_CASES) {
        it(`fused dense layer and its gradients (x, w${c.masked ? ', mask' : ''}${c.bias ? ', bias' : ''}): ${denseName(c)}`, async () => {
          const got = await on(backend, denseCase(c, true));
          assertClose(got, await reference(denseCase(c, false)), denseName(c));
        });
      }
      it('fused dense: pruned weights get exactly zero gradient, and the input gradient is only computed when asked for', async () => {
        await tf.setBackend(backend);
        const [xv, wv] = data('dense-zero', 8 * 6, 6 * 4);
        const mv = Float32Array.from({ length: 24 }, (_, i) => i % 3 === 0 ? 0 : 1);
        const x = tf.tensor2d(xv, [8, 6]), w = tf.variable(tf.tensor2d(wv, [6, 4])), mask = tf.tensor2d(mv, [6, 4]);
        const loss = () => tf.sum(tf.square(maskedDense({ x, w, mask, activation: 'tanh' }))) as tf.Scalar;
        const before = tf.memory().numTensors;
        const prof = await tf.profile(() => { const r = tf.variableGrads(loss, [w]); tf.dispose([r.value, ...Object.values(r.grads)]); });
        const gw = tf.tidy(() => tf.variableGrads(loss, [w]).grads[w.name].dataSync());
        for (let i = 0; i < 24; i++) if (mv[i] === 0) assert.ok(gw[i] === 0, `grad of pruned weight ${i}: ${gw[i]}`);
        const matmuls = prof.kernels.filter((k) => k.name === 'PruneAtInitMaskedMatMul').length;
        assert.equal(matmuls, 1, 'only dW: x is data, so no input gradient');
        assert.equal(tf.memory().numTensors, before);
        tf.dispose([x, w, mask]);
      });
      for (const shape of [[4, 5, 6, 3], [16, 7], [2, 3, 3, 33], [1, 2, 2, 1]]) {
        for (const activation of ['linear', 'relu'] as const) {
          it(`fused training-mode batchNorm (${activation}) of [${shape}]: output, batch moments, gradients`, async () => {
            const got = await on(backend, bnCase(shape, activation, true));
            assertClose(got, await reference(bnCase(shape, activation, false)), `batchNorm ${activation} [${shape}]`);
          });
        }
      }
      for (const shape of [[4, 5, 6, 3], [2, 3, 3, 33], [64, 7, 7, 16]]) {
        for (const activation of ['linear', 'relu'] as const) {
          it(`eval-mode batchNorm (${activation}) of [${shape}] in one pass: the reference's output and gradients, the same output bits as Multiply then Add`, async () => {
            const got = await on(backend, bnEvalCase(shape, activation, true));
            assertClose(got, await reference(bnEvalCase(shape, activation, false)), `eval batchNorm ${activation} [${shape}]`);
            const composed = await on(backend, bnEvalCase(shape, activation, false));
            const diff = got[0].findIndex((v, j) => !Object.is(v, composed[0][j]));
            assert.equal(diff, -1, `y[${diff}]: ${got[0][diff]} in one pass, ${composed[0][diff]} from Multiply and Add`);
          });
        }
      }
      for (const c of CONV_CASES) {
        it(`conv2d and gradients: ${caseName(c)}`, async () => {
          const fn = convCase(c, false);
          assertClose(await on(backend, fn), await reference(fn), caseName(c));
        });
      }
      for (const [c, act] of [[CONV_CASES[0], 'relu'], [CONV_CASES[6], 'relu'], [CONV_CASES[1], 'prelu'], [DIRECT_CASES[1], 'relu'],
        [WINOGRAD_CASES[1], 'relu'], [WINOGRAD_CASES[0], 'prelu']] as const) {
        it(`fused conv2d (bias + ${act}) and gradients: ${caseName(c)}`, async () => {
          const fn = convCase(c, act);
          assertClose(await on(backend, fn), await reference(fn), `fused ${act} ` + caseName(c));
        });
      }
      if (nativeExpected) it('the direct and Winograd 3x3 kernels take the shapes they are meant for (so the cases above test them), im2col the rest', function () {
        const blas = nativeBlas()!;
        if (nativeStatus().isa === 'default') this.skip(); // no AVX2 + FMA: no direct kernels
        assert.equal(DIRECT_CASES.length, 8);
        assert.equal(WINOGRAD_CASES.length, 3);
        for (const c of CONV_CASES) {
          const { oh, ow, pt, pl } = convGeometry(c);
          const got = blas.convPaths(Int32Array.from([c.n, c.h, c.w, c.ci, c.kh, c.kw, c.co, oh, ow, c.s, c.s, pt, pl, 1, 1]));
          const direct = DIRECT_CASES.includes(c);
          const other = c.kh === 1 && c.s === 1 ? 'pointwise' : 'im2col';
          assert.equal(got.forward, direct ? 'direct' : WINOGRAD_CASES.includes(c) ? 'winograd' : other, caseName(c));
          assert.equal(got.filter, direct ? 'direct' : other, caseName(c));
          assert.equal(got.input, direct && (c.ci === 8 || c.ci === 16) ? 'direct' : WINOGRAD_CASES.includes(c) ? 'winograd' : other, caseName(c));
        }
      });
      // Large enough to be split: batches spanning several image chunks of the native convolutions (about
      // 1 MiB of im2col columns each: 18 images of 14x14x(3x3x8), 20 of 14x14x64 pointwise, 28 of
      // 8x8x(3x3x16); the direct 3x3 kernels of the first two cases split images over threads, and their
      // filter gradient sums the same chunks), a BatchNorm over 6,912 rows (4 blocks of 2,048 rows for its channel sums; 83k
      // elements, above the 2^16 where BatchNorm and elementwise loops take threads; its input is built
      // with broadcast Multiply and Add). Each must match the reference, and give the same bits on 1 and 2
      // threads.
      const splitCases: { what: string; fn: () => tf.Tensor[]; ref: () => Promise<Float32Array[]> }[] = [
        ...([
          { n: 40, h: 14, w: 14, ci: 8, co: 8, kh: 3, kw: 3, s: 1, pad: 'same' },
          { n: 40, h: 12, w: 12, ci: 16, co: 16, kh: 3, kw: 3, s: 1, pad: 'same' },
          { n: 40, h: 7, w: 7, ci: 32, co: 32, kh: 3, kw: 3, s: 1, pad: 'same' },
          { n: 40, h: 14, w: 14, ci: 64, co: 16, kh: 1, kw: 1, s: 1, pad: 'valid' },
          { n: 64, h: 16, w: 16, ci: 16, co: 16, kh: 3, kw: 3, s: 2, pad: 'same' },
        ] as ConvCase[]).map((c) => ({ what: `conv2d (bias + relu) and gradients: ${caseName(c)}`, fn: convCase(c, 'relu'), ref: () => reference(convCase(c, 'relu')) })),
        ...(['relu', 'linear'] as const).map((act) => ({ what: `fused training-mode batchNorm (${act}) of [16,24,24,12]`,
          fn: bnCase([16, 24, 24, 12], act, true), ref: () => reference(bnCase([16, 24, 24, 12], act, false)) })),
      ];
      for (const { what, fn, ref } of splitCases) {
        it(`${what}, split over chunks and threads: the reference's values, the same bits on 1 and 2 threads`, async function () {
          this.timeout(20000);
          const threads = nativeStatus().threads;
          try {
            setNativeThreads(1);
            const one = await on(backend, fn);
            setNativeThreads(2);
            const two = await on(backend, fn);
            assertClose(one, await ref(), `1 thread: ${what}`);
            for (let i = 0; i < one.length; i++) {
              const diff = one[i].findIndex((v, j) => !Object.is(v, two[i][j]));
              assert.equal(diff, -1, `output ${i}[${diff}]: ${one[i][diff]} on 1 thread, ${two[i][diff]} on 2`);
            }
          } finally {
            setNativeThreads(threads);
          }
        });
      }
      // leading axes (bias grads, BatchNorm moments) and trailing axes run natively; others fall back
      const reductions: [number[], number[] | null, boolean][] = [[[4, 5, 6, 3], [0, 1, 2], false], [[4, 5, 6, 3], [0, 1, 2], true],
        [[4, 5, 6, 3], [0], false], [[4, 5, 6, 3], [3], true], [[4, 5, 6, 3], [-2, -1], false], [[4, 5, 6, 3], null, false],
        [[4, 5, 6, 3], [1], false], [[4, 5, 6, 3], [0, 2], true], [[7], [0], false], [[1, 9], [0], false]];
      for (const [shape, axes, keepDims] of reductions) {
        for (const mean of [false, true]) {
          const what = `${mean ? 'mean' : 'sum'} of [${shape}] over ${JSON.stringify(axes)}${keepDims ? ' keepDims' : ''}`;
          it(`${what} and gradient`, async () => {
            const fn = reduceCase(shape, axes, keepDims, mean);
            assertClose(await on(backend, fn), await reference(fn), what);
          });
        }
      }
      it('sum of 200000 values is accurate (double accumulation)', async () => {
        const n = 200000, v = new Float32Array(n).fill(0.1);
        const [got] = await on(backend, () => [tf.sum(tf.tensor1d(v))]);
        assert.ok(Math.abs(got[0] - n * Math.fround(0.1)) < 1e-3 * n * 1e-4, `sum ${got[0]} vs ${n * Math.fround(0.1)}`);
      });
      for (const [shape, k, s, pad] of [[[2, 8, 8, 3], 2, 2, 'valid'], [[2, 7, 7, 3], 2, 2, 'valid'], [[1, 7, 7, 4], 3, 2, 'same'],
        [[2, 6, 5, 2], 3, 1, 'same'], [[2, 9, 9, 5], 3, 2, 'valid']] as const) {
        const what = `maxPool ${k}x${k} stride ${s} ${pad} on [${shape}] and its gradient`;
        it(what, async () => {
          const fn = poolCase(shape as unknown as [number, number, number, number], k, s, pad);
          assertClose(await on(backend, fn), await reference(fn), what);
        });
      }
      it('tanh matches Math.tanh to 1e-6 on [-20, 20] (rational approximation), exactly for tiny |x|', async () => {
        const xs = new Float32Array(40001).map((_, i) => -20 + i * 0.001);
        const tiny = Float32Array.from([0, -0, 1e-30, -3e-5, 2e-4, 1e-38]);
        const [y, yt] = await on(backend, () => [tf.tanh(tf.tensor1d(xs)), tf.tanh(tf.tensor1d(tiny))]);
        let worst = 0;
        for (let i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(y[i] - Math.tanh(xs[i])));
        assert.ok(worst < 1e-6, `max |tanh error| ${worst}`);
        assert.deepEqual(Array.from(yt), Array.from(tiny));
      });
      it('tanh gives the bits of its rational function evaluated in float32, from subnormals to the clamp', async () => {
        const f = Math.fround;
        // the function as native/blas_kernels.c defines it, one float32 rounding per operation
        const formula = (v: number): number => {
          const lim = f(7.90531110763549805);
          let xc = v > lim ? lim : v;
          xc = xc < -lim ? -lim : xc;
          const x2 = f(xc * xc);
          let p = f(f(x2 * f(-2.76076847742355e-16)) + f(2.00018790482477e-13));
          for (const c of [-8.60467152213735e-11, 5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03]) p = f(f(x2 * p) + f(c));
          p = f(xc * p);
          let q = f(f(x2 * f(1.19825839466702e-06)) + f(1.18534705686654e-04));
          for (const c of [2.26843463243900e-03, 4.89352518554385e-03]) q = f(f(x2 * q) + f(c));
          return x2 < f(1.6e-7) ? v : f(p / q);
        };
        const r = new Rng(5, 'tanh-bits');
        const xs: number[] = [0, -0, Infinity, -Infinity, 7.90531110763549805, -7.9, 1e-45, -1e-45, 1e-39, 3e-20, -1e-19];
        for (let i = 0; i < 20000; i++) xs.push((r.uniform() < 0.5 ? -1 : 1) * 2 ** (-150 + 154 * r.uniform()));
        // every float within 64 steps of the threshold where tanh(x) = x begins (|x| ~ 4e-4)
        const u = new Uint32Array(1), fl = new Float32Array(u.buffer);
        fl[0] = 0.000400000019;
        const at = u[0];
        for (let d = -64; d <= 64; d++) { u[0] = at + d; xs.push(fl[0], -fl[0]); }
        const x = Float32Array.from(xs);
        const [y] = await on(backend, () => [tf.tanh(tf.tensor1d(x))]);
        const bad = Array.from(x).findIndex((v, i) => !Object.is(y[i], f(formula(v))));
        assert.equal(bad, -1, bad < 0 ? '' : `tanh(${x[bad]}) = ${y[bad]}, the formula gives ${formula(x[bad])}`);
      });
      it('sgdMomentumUpdate: slot = m*slot + g, value = value - lr*slot (closed form)', async () => {
        const [v, sl, g] = data('sgd', 1000, 1000, 1000);
        const [nv, ns] = await on(backend, () => {
          const r = sgdMomentumUpdate(tf.tensor1d(v), tf.tensor1d(sl), tf.tensor1d(g), 0.05, 0.9);
          return [r.value, r.slot];
        });
        for (let i = 0; i < 1000; i++) {
          const s2 = Math.fround(0.9 * sl[i] + g[i]);
          assert.ok(Math.abs(ns[i] - s2) <= 1e-6 * (1 + Math.abs(s2)), `slot ${i}`);
          assert.ok(Math.abs(nv[i] - (v[i] - 0.05 * s2)) <= 1e-6 * (1 + Math.abs(v[i])), `value ${i}`);
        }
      });
      it('sgdMomentumUpdate with weight decay: the same floats, bit for bit, as the separate TF.js Multiply and Add it replaces', async () => {
        const [v0, sl, g] = data('sgd-wd', 4096, 4096, 4096);
        // weights over six decades, so products and sums round differently from element to element
        const v = v0.map((x, i) => x * 10 ** ((i % 7) - 3));
        for (const wd of [1e-4, 5e-4, 0.1]) {
          const [fv, fs, uv, us] = await on(backend, () => {
            const value = tf.tensor1d(v), slot = tf.tensor1d(sl), grad = tf.tensor1d(g);
            const fused = sgdMomentumUpdate(value, slot, grad, 0.05, 0.9, wd);
            const apart = sgdMomentumUpdate(value, slot, tf.add(grad, tf.mul(value, wd)), 0.05, 0.9);
            return [fused.value, fused.slot, apart.value, apart.slot];
          });
          assert.deepEqual(Array.from(fs), Array.from(us), `slot, wd ${wd}`);
          assert.deepEqual(Array.from(fv), Array.from(uv), `value, wd ${wd}`);
          for (let i = 0; i < 4096; i += 97) { // and the formula, in float64
            const s2 = 0.9 * sl[i] + g[i] + wd * v[i];
            assert.ok(Math.abs(fs[i] - s2) <= 1e-5 * (1 + Math.abs(s2)), `slot ${i}`);
          }
        }
        assert.throws(() => sgdMomentumUpdate(tf.zeros([2]), tf.zeros([2]), tf.zeros([2]), 0.1, 0.9, -1), /weightDecay must be >= 0/);
      });
      it('tanh gradient matches cpu', async () => {
        const [xv, rv] = data('tanh', 300, 300);
        const fn = () => { const x = tf.tensor2d(xv, [30, 10]).mul(3), r = tf.tensor2d(rv, [30, 10]);
          return [tf.tanh(x), tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.tanh(x), r)))(x)]; };
        assertClose(await on(backend, fn), await reference(fn), 'tanh');
      });
      const pairs: [number[], number[]][] = [[[3, 4, 5], [3, 4, 5]], [[3, 4, 5], [5]], [[5], [3, 4, 5]], [[1, 1, 5], [3, 4, 5]],
        [[3, 4, 5], []], [[], [3, 4, 5]], [[3, 1, 5], [3, 4, 5]], [[3, 4, 1], [3, 4, 5]], [[2, 1], [1, 3]], [[1], [1]]];
      for (const op of ['add', 'sub', 'mul', 'div'] as const) {
        for (const [as, bs] of pairs) {
          it(`${op} [${as}] and [${bs}] with gradients`, async () => {
            const fn = binaryCase(op, as, bs);
            assertClose(await on(backend, fn), await reference(fn), `${op} [${as}] [${bs}]`);
          });
        }
      }
      for (const [shape, reps] of [[[1, 1, 1, 4], [2, 3, 5, 1]], [[2, 3], [3, 2]], [[3], [4]], [[2, 1, 3], [1, 4, 2]], [[1], [7]]]) {
        it(`tile [${shape}] by [${reps}] (broadcastTo)`, async () => {
          const [xv] = data(`tile ${shape}`, shape.reduce((p, v) => p * v, 1));
          const fn = () => [tf.tile(tf.tensor(xv, shape), reps)];
          assertClose(await on(backend, fn), await reference(fn), `tile [${shape}] [${reps}]`);
        });
      }
      it('sum and mean gradients are dy broadcast (/ reduced size): closed form', async () => {
        // d/dx sum(r * mean(x, axes)) = r[broadcast] / n, d/dx sum(r * sum(x, axes)) = r[broadcast]
        const shape = [3, 4, 5, 2], r = Float32Array.from([0.5, -2]);
        const [gm, gs, gk] = await on(backend, () => {
          const x = tf.ones(shape);
          return [tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.mean(x, [0, 1, 2]), r)))(x),
            tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.sum(x, [0, 1, 2]), r)))(x),
            tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.mean(x, [1, 2], true), tf.tensor(r, [1, 1, 1, 2]))))(x)];
        });
        for (let i = 0; i < gm.length; i++) {
          assert.ok(Math.abs(gm[i] - r[i % 2] / 60) < 1e-7, `mean grad ${i}: ${gm[i]}`);
          assert.equal(gs[i], r[i % 2], `sum grad ${i}`);
          assert.ok(Math.abs(gk[i] - r[i % 2] / 20) < 1e-7, `mean keepDims grad ${i}: ${gk[i]}`);
        }
      });
    });
  }

  if (nativeExpected) describe('native kernels on the wasm heap', () => {
    before(() => { registerExtraKernels('wasm', { native: true }); });
    it('write correct results when the output allocation grows wasm memory', async () => {
      await tf.setBackend('wasm');
      const heap = () => (tf.backend() as any).wasm.HEAPU8.buffer.byteLength as number;
      const before = heap();
      const m = 4096, n = Math.ceil(before / 4 / m) + 1024; // output alone is larger than the heap was
      const [av, bv] = data('grow', m, n);
      const a = tf.tensor2d(av, [m, 1]), b = tf.tensor2d(bv, [1, n]);
      const c = tf.matMul(a, b);
      assert.ok(heap() > before, 'heap grew');
      for (const [i, j] of [[0, 0], [m - 1, n - 1], [1234, 777], [m >> 1, n >> 1]]) {
        const v = (c.slice([i, j], [1, 1]).dataSync() as Float32Array)[0];
        assert.ok(Math.abs(v - av[i] * bv[j]) <= 1e-6 * (1 + Math.abs(av[i] * bv[j])), `c[${i},${j}] = ${v}, want ${av[i] * bv[j]}`);
      }
      tf.dispose([a, b, c]);
    });
  });

  describe('training through the library (masked nets, Trainer, SGD momentum): wasm matches cpu', () => {
    const models: [string, ModelConfig][] = [
      ['cnn with BatchNorm and max-pooling', { arch: 'cnn', activation: 'relu', channels: [4, 'M', 6, 'M'], batchNorm: true }],
      ['pre-activation WRN-10-0.5', { arch: 'wrn', depth: 10, widthFactor: 0.5 }],
      ['tanh FFNN', { arch: 'ffnn', activation: 'tanh', hidden: [16, 16, 16] }],
      ['relu FFNN without biases', { arch: 'ffnn', activation: 'relu', hidden: [16, 12], bias: false }],
    ];
    /** Losses of 3 steps and the final weights, on the current backend. */
    function train3(cfg: ModelConfig): Float32Array[] {
      const net = buildModel(cfg, { seed: 1, inputShape: [8, 8, 1], numClasses: 5 });
      const r = new Rng(5, 'e2e');
      net.setMask(new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: Uint8Array.from({ length: p.size }, () => (r.uniform() < 0.7 ? 1 : 0)) }])));
      const trainer = new Trainer(net, { epochs: 1, batchSize: 6, lr: 0.05, momentum: 0.9 });
      const x = tf.tensor4d(r.normalArray(6 * 64), [6, 8, 8, 1]), y = tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32');
      const losses = Float32Array.from([0, 1, 2].map(() => trainer.step(x, y, 0.05).loss));
      const weights = [...net.getWeights().values()];
      trainer.dispose(); net.dispose(); tf.dispose([x, y]);
      return [losses, ...weights];
    }
    for (const [name, cfg] of models) {
      it(`${name}: losses and weights after 3 steps`, async () => {
        registerExtraKernels('cpu', { native: false }); // reference: the cpu backend's own kernels
        await tf.setBackend('cpu');
        const want = train3(cfg);
        for (const native of nativeExpected ? [true, false] : [false]) {
          registerExtraKernels('wasm', { native });
          await tf.setBackend('wasm');
          assertClose(train3(cfg), want, `${name} on wasm${native ? ' (native)' : ''}`);
        }
      });
    }
  });
});

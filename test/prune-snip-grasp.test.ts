import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend, buildModel, computeMask, scoringBatchIndices, gather, Mask, Net, Dataset,
  kernelObjective, gradient, hvpFiniteDifference, hvpExact, graspScores, crossEntropy, crossEntropy2, Rng,
} from 'prune-at-init';

before(async () => { await initBackend(); });

// ---- independent float64 reference: a tiny FFNN (dense [in,out] kernels, tanh/relu between) + mean CE ----

type Act = 'tanh' | 'relu' | 'linear';
interface Ref { dims: number[]; act: Act; kernels: Float64Array[]; biases: Float64Array[] }

function refFromNet(net: Net, dims: number[], act: Act): Ref {
  const w = net.getWeights();
  return {
    dims, act,
    kernels: dims.slice(1).map((_, l) => Float64Array.from(w.get(`fc${l + 1}/kernel`)!)),
    biases: dims.slice(1).map((_, l) => Float64Array.from(w.get(`fc${l + 1}/bias`)!)),
  };
}

const phi = (a: Act, v: number) => (a === 'tanh' ? Math.tanh(v) : a === 'relu' ? Math.max(0, v) : v);

function refLoss(r: Ref, kernels: Float64Array[], X: Float32Array, y: Int32Array, T = 1): number {
  const n = y.length, d0 = r.dims[0];
  let total = 0;
  for (let e = 0; e < n; e++) {
    let h = Array.from(X.subarray(e * d0, (e + 1) * d0), Number);
    for (let l = 0; l < kernels.length; l++) {
      const din = r.dims[l], dout = r.dims[l + 1];
      const inp = l === 0 ? h : h.map((v) => phi(r.act, v));
      const out = new Array(dout).fill(0).map((_, j) => r.biases[l][j]);
      for (let i = 0; i < din; i++) for (let j = 0; j < dout; j++) out[j] += inp[i] * kernels[l][i * dout + j];
      h = out;
    }
    const z = h.map((v) => v / T);
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    total += lse - z[y[e]];
  }
  return total / n;
}

/** Flat views over all kernel entries, for finite differences. */
function flatIndex(r: Ref): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  r.kernels.forEach((k, l) => { for (let i = 0; i < k.length; i++) out.push([l, i]); });
  return out;
}

function perturbed(r: Ref, moves: Array<[number, number, number]>): Float64Array[] {
  const ks = r.kernels.map((k) => Float64Array.from(k));
  for (const [l, i, d] of moves) ks[l][i] += d;
  return ks;
}

/** Central finite-difference gradient in float64 (h = 1e-6). */
function refGrad(r: Ref, X: Float32Array, y: Int32Array, T = 1): number[] {
  const h = 1e-6;
  return flatIndex(r).map(([l, i]) => (refLoss(r, perturbed(r, [[l, i, h]]), X, y, T) - refLoss(r, perturbed(r, [[l, i, -h]]), X, y, T)) / (2 * h));
}

/** Brute-force finite-difference Hessian (float64, four-point formula) times v. */
function refHv(r: Ref, X: Float32Array, y: Int32Array, v: number[], T = 1, h = 1e-3): number[] {
  const idx = flatIndex(r), n = idx.length;
  const H: number[][] = Array.from({ length: n }, () => new Array(n).fill(0));
  for (let a = 0; a < n; a++) for (let b = a; b < n; b++) {
    const [la, ia] = idx[a], [lb, ib] = idx[b];
    const f = (sa: number, sb: number) => refLoss(r, perturbed(r, [[la, ia, sa * h], [lb, ib, sb * h]]), X, y, T);
    H[a][b] = H[b][a] = (f(1, 1) - f(1, -1) - f(-1, 1) + f(-1, -1)) / (4 * h * h);
  }
  return H.map((row) => row.reduce((acc, hij, j) => acc + hij * v[j], 0));
}

function flatScores(net: Net, s: Map<string, Float32Array>): number[] {
  return net.prunable.flatMap((p) => Array.from(s.get(p.name)!));
}

function assertClose(got: number[], want: number[], relTol: number, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  const scale = Math.max(...want.map(Math.abs));
  assert.ok(scale > 0, `${what}: reference is all zero`);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= relTol * scale, `${what}[${i}]: ${g} vs ${want[i]} (scale ${scale})`));
}

/** Synthetic dataset: Gaussian inputs of shape [1, d, 1], labels i % classes. */
function synthetic(d: number, classes: number, n: number, seed: number): Dataset {
  const rng = new Rng(seed, 'synthetic');
  const split = () => ({ x: rng.normalArray(n * d), y: Int32Array.from({ length: n }, (_, i) => i % classes), n });
  return { name: 'synthetic', inputShape: [1, d, 1], numClasses: classes, train: split(), test: split(), source: 'test', normalization: { mean: [0], std: [1] } };
}

const DIMS = [4, 5, 3];
function tinyNet(act: Act, seed = 3): Net {
  return buildModel({ arch: 'ffnn', hidden: [5], activation: act, inputShape: [1, 4, 1], numClasses: 3, init: { scheme: 'explicit', sigmaW: 1.5, sigmaB: 0.3 } }, { seed });
}

function batchOf(ds: Dataset, idx: Int32Array) {
  const b = gather(ds, ds.train, idx);
  const X = b.x.dataSync() as Float32Array, y = b.y.dataSync() as Int32Array;
  return { ...b, X: Float32Array.from(X), Y: Int32Array.from(y) };
}

describe('SNIP', () => {
  const ds = synthetic(4, 3, 30, 1);

  it('scores equal |w * dL/dw| with dL/dw from float64 central differences, on the seeded balanced batch', () => {
    const net = tinyNet('tanh');
    const before = tf.memory().numTensors;
    const res = computeMask(net, { method: 'snip', sparsity: 0.5, data: ds, seed: 7, options: { perClass: 2 } });
    assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
    const idx = scoringBatchIndices(ds, 2, 7);
    assert.equal(idx.length, 6);
    const b = batchOf(ds, idx);
    const ref = refFromNet(net, DIMS, 'tanh');
    const g = refGrad(ref, b.X, b.Y);
    const w = ref.kernels.flatMap((k) => Array.from(k));
    const want = w.map((wi, i) => Math.abs(wi * g[i]));
    assertClose(flatScores(net, res.scores), want, 2e-5, 'snip');
    // the mask keeps the top half by the reference scores
    const kept = net.prunable.flatMap((p) => Array.from(res.selection.mask.get(p.name)));
    const sorted = [...want].sort((a, c) => c - a), thr = sorted[Math.round(want.length / 2) - 1];
    kept.forEach((k, i) => { if (Math.abs(want[i] - thr) > 1e-6 * sorted[0]) assert.equal(k, want[i] > thr ? 1 : 0, `kept[${i}]`); });
    b.x.dispose(); b.y.dispose(); net.dispose();
  });

  it('scores the same batch for snip and sbp-sr, and for explicit batchIndices', () => {
    const net = tinyNet('tanh');
    const a = computeMask(net, { method: 'snip', sparsity: 0.5, data: ds, seed: 11, options: { perClass: 3 } });
    assert.throws(() => computeMask(net, { method: 'sbp-sr', sparsity: 0.5, data: ds, seed: 11, options: { perClass: 3 } }), /sbp-sr needs sigmaW/);
    const b = computeMask(net, { method: 'sbp-sr', sparsity: 0.5, data: ds, seed: 11, options: { perClass: 3 }, sigmaW: 1 });
    const c = computeMask(net, { method: 'snip', sparsity: 0.5, data: ds, seed: 0, options: { batchIndices: scoringBatchIndices(ds, 3, 11) } });
    const d = computeMask(net, { method: 'snip', sparsity: 0.5, data: ds, seed: 12, options: { perClass: 3 } });
    assert.deepEqual(flatScores(net, a.scores), flatScores(net, b.scores));
    assert.deepEqual(flatScores(net, a.scores), flatScores(net, c.scores));
    assert.notDeepEqual(flatScores(net, a.scores), flatScores(net, d.scores), 'another seed draws another batch');
    net.dispose();
  });

  it('uses the effective weights: with a mask installed, pruned weights score 0 and kept ones follow the masked net', () => {
    const net = tinyNet('tanh');
    const rng = new Rng(5);
    const mask = new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: Array.from({ length: p.size }, () => (rng.uniform() < 0.6 ? 1 : 0)) }]));
    net.setMask(mask);
    const res = computeMask(net, { method: 'snip', sparsity: 0.5, data: ds, seed: 7, options: { perClass: 2 } });
    for (const n of mask.names) res.selection.mask.get(n).forEach((v, i) => assert.ok(!v || mask.get(n)[i], `${n}[${i}]: a pruned weight is never kept again`));
    assert.throws(() => computeMask(net, { method: 'snip', sparsity: 0.2, data: ds, seed: 7, options: { perClass: 2 } }), /only \d+ are live in the previous mask/);
    const b = batchOf(ds, scoringBatchIndices(ds, 2, 7));
    const ref = refFromNet(net, DIMS, 'tanh'); // raw weights are zero at pruned positions after setMask
    const g = refGrad(ref, b.X, b.Y);
    const w = ref.kernels.flatMap((k) => Array.from(k));
    const m = net.prunable.flatMap((p) => Array.from(mask.get(p.name)));
    const got = flatScores(net, res.scores);
    m.forEach((mi, i) => { if (!mi) assert.equal(got[i], 0, `pruned weight ${i} scores 0`); });
    assertClose(got, w.map((wi, i) => Math.abs(wi * g[i])), 2e-5, 'masked snip');
    b.x.dispose(); b.y.dispose(); net.dispose();
  });

  it("bnMode 'train' uses batch statistics and leaves BN running statistics untouched", () => {
    const net = buildModel({ arch: 'cnn', channels: [3], activation: 'relu', batchNorm: true, inputShape: [1, 4, 1], numClasses: 3, kernelSize: 3 }, { seed: 2 });
    const buffers = net.getBuffers();
    const ev = computeMask(net, { method: 'snip', sparsity: 0.5, data: ds, seed: 1, options: { perClass: 2 } });
    const tr = computeMask(net, { method: 'snip', sparsity: 0.5, data: ds, seed: 1, options: { perClass: 2, bnMode: 'train' } });
    for (const [n, v] of net.getBuffers()) assert.deepEqual(Array.from(v), Array.from(buffers.get(n)!), `buffer ${n} unchanged`);
    assert.notDeepEqual(flatScores(net, ev.scores), flatScores(net, tr.scores));
    assert.throws(() => computeMask(net, { method: 'snip', sparsity: 0.5, data: ds, options: { bnMode: 'batch' } }), /bnMode must be 'eval' or 'train'/);
    assert.throws(() => computeMask(net, { method: 'snip', sparsity: 0.5, data: ds, options: { perClass: 0 } }), /perClass must be a positive integer/);
    assert.throws(() => computeMask(net, { method: 'snip', sparsity: 0.5 }), /needs data/);
    net.dispose();
  });
});

describe('Hessian-vector products', () => {
  const ds = synthetic(4, 3, 30, 2);

  it('finite-difference HVP matches a brute-force float64 finite-difference Hessian (tanh net)', () => {
    const net = tinyNet('tanh', 4);
    const b = batchOf(ds, scoringBatchIndices(ds, 2, 3));
    const obj = kernelObjective(net, b.x, b.y);
    const rng = new Rng(8);
    const v = obj.weights.map((w) => tf.tensor(rng.normalArray(w.size), w.shape));
    const { hv, eps } = hvpFiniteDifference(obj.loss, obj.weights, v);
    assert.ok(eps > 0);
    const ref = refFromNet(net, DIMS, 'tanh');
    const want = refHv(ref, b.X, b.Y, v.flatMap((t) => Array.from(t.dataSync())));
    assertClose(hv.flatMap((t) => Array.from(t.dataSync())), want, 5e-4, 'Hv');
    [...hv, ...v].forEach((t) => t.dispose()); obj.dispose(); b.x.dispose(); b.y.dispose(); net.dispose();
  });

  for (const act of ['relu', 'linear'] as const) {
    it(`finite-difference HVP matches the exact nested-gradient HVP on a ${act} net`, () => {
      const net = buildModel({ arch: 'ffnn', hidden: [6, 5], activation: act, inputShape: [1, 4, 1], numClasses: 3 }, { seed: 9 });
      const b = batchOf(ds, scoringBatchIndices(ds, 3, 1));
      const obj = kernelObjective(net, b.x, b.y, { twiceDifferentiable: true });
      const g = gradient(obj.loss, obj.weights);
      const ex = hvpExact(obj.loss, obj.weights, g);
      const { hv } = hvpFiniteDifference(obj.loss, obj.weights, g);
      assertClose(hv.flatMap((t) => Array.from(t.dataSync())), ex.flatMap((t) => Array.from(t.dataSync())), 2e-3, `${act} Hg`);
      [...g, ...ex, ...hv].forEach((t) => t.dispose()); obj.dispose(); b.x.dispose(); b.y.dispose(); net.dispose();
    });
  }

  it('crossEntropy2 has the value of the standard cross-entropy', () => {
    const logits = tf.tensor2d([[1, 2, 3], [-1, 0.5, 20]]), labels = tf.tensor1d([2, 0], 'int32');
    const a = crossEntropy(logits, labels).dataSync()[0], c = crossEntropy2(logits, labels).dataSync()[0];
    assert.ok(Math.abs(a - c) < 1e-5 * Math.abs(a), `${a} vs ${c}`);
    tf.dispose([logits, labels]);
  });
});

describe('GraSP', () => {
  const ds = synthetic(4, 3, 30, 3);

  for (const T of [1, 200]) {
    it(`scores = theta * Hg (float64 brute-force Hessian, T = ${T}); the mask keeps the highest, i.e. removes the highest -theta*Hg`, () => {
      const net = tinyNet('tanh', 5);
      const before = tf.memory().numTensors;
      const res = computeMask(net, { method: 'grasp', sparsity: 0.6, data: ds, seed: 4, options: { perClass: 2, temperature: T } });
      assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
      const b = batchOf(ds, scoringBatchIndices(ds, 2, 4));
      const ref = refFromNet(net, DIMS, 'tanh');
      const g = refGrad(ref, b.X, b.Y, T);
      const hg = refHv(ref, b.X, b.Y, g, T);
      const w = ref.kernels.flatMap((k) => Array.from(k));
      const want = w.map((wi, i) => wi * hg[i]);
      assertClose(flatScores(net, res.scores), want, 1e-3, 'grasp');
      const kept = net.prunable.flatMap((p) => Array.from(res.selection.mask.get(p.name)));
      const k = Math.round(0.4 * want.length);
      const sorted = [...want].sort((a, c) => c - a), thr = sorted[k - 1], scale = Math.max(...want.map(Math.abs));
      kept.forEach((kk, i) => { if (Math.abs(want[i] - thr) > 2e-3 * scale) assert.equal(kk, want[i] > thr ? 1 : 0, `kept[${i}]`); });
      b.x.dispose(); b.y.dispose(); net.dispose();
    });
  }

  it("'exact' HVP agrees with the converged 'fd' on a relu net and is verified on a tanh net", () => {
    const b = batchOf(ds, scoringBatchIndices(ds, 2, 1));
    const relu = buildModel({ arch: 'ffnn', hidden: [6], activation: 'relu', inputShape: [1, 4, 1], numClasses: 3 }, { seed: 2 });
    const ex = graspScores(relu, b.x, b.y, { hvp: 'exact', temperature: 1 });
    const fd = graspScores(relu, b.x, b.y, { hvp: 'fd', temperature: 1 });
    assert.equal(ex.hvp, 'exact');
    assert.ok(ex.exactCheck!.trusted && ex.exactCheck!.relDiff! < 5e-2, ex.exactCheck!.detail);
    assert.equal(fd.hvp, 'fd');
    assertClose(flatScores(relu, fd.scores), flatScores(relu, ex.scores), 5e-3, 'relu grasp');
    const tanh = tinyNet('tanh', 6);
    const tx = graspScores(tanh, b.x, b.y, { hvp: 'exact', temperature: 1 });
    assert.ok(tx.exactCheck!.trusted, tx.exactCheck!.detail);
    assert.throws(() => graspScores(tanh, b.x, b.y, { hvp: 'second' as never }), /hvp must be one of auto, exact, fd/);
    b.x.dispose(); b.y.dispose(); relu.dispose(); tanh.dispose();
  });
});

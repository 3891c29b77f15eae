import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend, buildModel, computeMask, gather, scoringBatchIndices, scoresToMask, shapesOf, Dataset, Net, Rng,
  kernelObjective, gradient, hvpExact, hvpConverged, checkExactHvp, compareExactWithFd, graspScores, HvpUntrustedError, LossFn,
} from 'prune-at-init';
import { Act64, Ffnn64, flat64, hessian64, hvp64, lossGrad64 } from './support/ffnn64';

before(async () => { await initBackend(); });

// Truth: the full Hessian of the mean cross-entropy w.r.t. all kernel entries, in float64, from the
// analytic float64 gradient of test/support/ffnn64.ts (independent of TF.js), with the activation
// pattern checked constant across every difference (no ReLU kink crossed).

function synthetic(d: number, classes: number, n: number, seed: number): Dataset {
  const rng = new Rng(seed, 'synthetic');
  const split = () => ({ x: rng.normalArray(n * d), y: Int32Array.from({ length: n }, (_, i) => i % classes), n });
  return { name: 'synthetic', inputShape: [1, d, 1], numClasses: classes, train: split(), test: split(), source: 'test', normalization: { mean: [0], std: [1] } };
}

function tiny(act: Act64, hidden: number[], d: number, classes: number, seed: number, sigmaW = 1.5): { net: Net; ref: Ffnn64 } {
  const net = buildModel({ arch: 'ffnn', hidden, activation: act, inputShape: [1, d, 1], numClasses: classes, init: { scheme: 'explicit', sigmaW, sigmaB: 0.3 } }, { seed });
  const w = net.getWeights(), dims = [d, ...hidden, classes];
  const ref: Ffnn64 = {
    dims, act,
    kernels: dims.slice(1).map((_, l) => Float64Array.from(w.get(`fc${l + 1}/kernel`)!)),
    biases: dims.slice(1).map((_, l) => Float64Array.from(w.get(`fc${l + 1}/bias`)!)),
  };
  return { net, ref };
}

function batch(ds: Dataset, perClass: number, seed: number) {
  const b = gather(ds, ds.train, scoringBatchIndices(ds, perClass, seed));
  return { x: b.x, y: b.y, X: Float64Array.from(b.x.dataSync()), Y: Int32Array.from(b.y.dataSync()) };
}

const flatT = (ts: tf.Tensor[]) => ts.flatMap((t) => Array.from(t.dataSync()));
function rel2(got: number[], want: number[]): number {
  let num = 0, den = 0;
  want.forEach((w, i) => { num += (got[i] - w) ** 2; den += w * w; });
  return Math.sqrt(num / den);
}
function relMax(got: number[], want: number[]): number {
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return got.reduce((m, g, i) => Math.max(m, Math.abs(g - want[i])), 0) / scale;
}

describe('HVP against a float64 brute-force Hessian', () => {
  const ds = synthetic(5, 3, 30, 11);
  for (const act of ['relu', 'tanh'] as const) {
    for (const T of [1, 200]) {
      it(`${act} net, T = ${T}: converged finite differences match H v; exact nested grads match it where checkExactHvp trusts them`, () => {
        const { net, ref } = tiny(act, [6, 4], 5, 3, 21);
        const b = batch(ds, 2, 5);
        const { H, patternStable } = hessian64(ref, b.X, b.Y, T);
        assert.ok(patternStable, 'the float64 reference crosses no kink');
        // sanity of the reference itself: a Hessian is symmetric
        const hMax = H.reduce((m, row) => row.reduce((a, h) => Math.max(a, Math.abs(h)), m), 0);
        H.forEach((row, i) => row.forEach((h, j) => assert.ok(Math.abs(h - H[j][i]) <= 1e-6 * hMax, `H[${i}][${j}] = ${h} vs ${H[j][i]}`)));
        const obj = kernelObjective(net, b.x, b.y, { temperature: T });
        const rng = new Rng(act + T);
        const v = obj.weights.map((w) => tf.tensor(rng.normalArray(w.size), w.shape));
        const vf = flatT(v);
        const want = H.map((row) => row.reduce((a, h, j) => a + h * vf[j], 0));
        const before = tf.memory().numTensors;
        const fd = hvpConverged(obj.loss, obj.weights, v);
        assert.equal(tf.memory().numTensors, before + fd.hv.length, 'only the result is left');
        assert.ok(fd.diff <= 3e-3 && fd.ladder.length >= 2);
        assert.ok(rel2(flatT(fd.hv), want) < 2e-3, `fd vs H v: ${rel2(flatT(fd.hv), want)}`);
        assert.ok(relMax(flatT(fd.hv), want) < 5e-3, `fd vs H v (max): ${relMax(flatT(fd.hv), want)}`);
        // the raw nested-gradient HVP, judged by the float64 truth ...
        const obj2 = kernelObjective(net, b.x, b.y, { temperature: T, twiceDifferentiable: true });
        let rawRight: boolean;
        try {
          const ex = hvpExact(obj2.loss, obj2.weights, v);
          rawRight = rel2(flatT(ex), want) < 1e-4;
          tf.dispose(ex);
        } catch { rawRight = false; }
        // ... and the detector, which does not know the truth, must agree with it
        const check = checkExactHvp(net, b.x, b.y);
        assert.equal(check.trusted, rawRight, `checkExactHvp says ${check.trusted} (${check.detail}); the float64 truth says ${rawRight}`);
        // with the twice-differentiable Tanh gradient of second-order.ts, both are right
        assert.ok(rawRight, `${act}: nested tf.grads vs the float64 Hessian`);
        if (act === 'tanh') {
          // ... and without it, TF.js's own Tanh gradient is not (tfjs#3252: wrong values, or a throw from the native gradient kernel)
          let plainRight = false;
          try {
            const ex = tf.tidy(() => tf.grads((...a: tf.Tensor[]) => {
              const g = tf.grads((...c: tf.Tensor[]) => obj2.loss(c))(a);
              return tf.addN(g.map((gi, i) => tf.sum(tf.mul(gi, v[i])))) as tf.Scalar;
            })(obj2.weights));
            plainRight = rel2(flatT(ex), want) < 1e-2;
            tf.dispose(ex);
          } catch { plainRight = false; }
          assert.equal(plainRight, false, 'TF.js nested gradient through its own Tanh gradient');
        }
        tf.dispose([...fd.hv, ...v]); obj.dispose(); obj2.dispose(); b.x.dispose(); b.y.dispose(); net.dispose();
      });
    }
  }

  it('the detector flags a silently wrong nested gradient (sigmoid, tfjs#3252), which a float64 Hessian exposes', () => {
    // f(w) = mean(sigmoid(w)^3): Hessian diagonal; d²/dw² of s³ with s' = s(1-s)
    const w = tf.tensor1d([-1.2, 0.3, 0.8, 2.0]);
    const loss: LossFn = (ws) => tf.mean(tf.pow(tf.sigmoid(ws[0]), 3)) as tf.Scalar;
    const v = [tf.tensor1d([1, -0.5, 2, 0.7])];
    const wv = w.arraySync() as number[], vv = v[0].arraySync() as number[];
    const want = wv.map((x, i) => {
      const s = 1 / (1 + Math.exp(-x)), d1 = s * (1 - s), d2 = d1 * (1 - 2 * s);
      return ((6 * s * d1 * d1 + 3 * s * s * d2) / 4) * vv[i];
    });
    const ex = flatT(hvpExact(loss, [w], v));
    assert.ok(rel2(ex, want) > 0.05, `TF.js nested grads through sigmoid are wrong here (${rel2(ex, want)})`);
    const fd = hvpConverged(loss, [w], v);
    assert.ok(rel2(flatT(fd.hv), want) < 3e-3, `converged fd ${rel2(flatT(fd.hv), want)}`);
    const check = compareExactWithFd(loss, [w], v);
    assert.equal(check.trusted, false, check.detail);
    assert.match(check.detail, /tfjs#3252/);
    tf.dispose([w, ...v, ...fd.hv]);
  });

  it('hvpConverged refuses (HvpUntrustedError) when no two steps agree, and validates its options', () => {
    // |w| has a kink at 0 and a zero Hessian elsewhere; at w = 0 every central difference is 1/ε
    const loss: LossFn = (ws) => tf.sum(tf.abs(ws[0])) as tf.Scalar;
    const w = [tf.tensor1d([0, 0])], v = [tf.tensor1d([1, 1])];
    assert.throws(() => hvpConverged(loss, w, v), (e: Error) => e instanceof HvpUntrustedError && /did not converge/.test(e.message));
    assert.throws(() => hvpConverged(loss, w, v, { tol: 0 }), /tol must be in \(0, 1\)/);
    assert.throws(() => hvpConverged(loss, w, v, { relSteps: [1e-3, 1e-2] }), /strictly decreasing/);
    tf.dispose([...w, ...v]);
  });
});

describe('GraSP against a float64 reference', () => {
  const ds = synthetic(8, 4, 60, 12);

  for (const [act, hvp] of [['relu', 'auto'], ['relu', 'fd'], ['tanh', 'auto'], ['tanh', 'fd']] as const) {
    const mode = hvp === 'auto' ? 'exact' : 'fd';
    it(`${act} net (T = 200), hvp '${hvp}' (uses '${mode}'): the mask equals the float64-reference mask up to near-ties`, () => {
      const { net, ref } = tiny(act, [16, 12], 8, 4, 31, act === 'relu' ? Math.SQRT2 : 1.2);
      const b = batch(ds, 5, 9);
      const g64 = lossGrad64(ref, ref.kernels, b.X, b.Y, 200).grad;
      const h = hvp64(ref, b.X, b.Y, g64, 200);
      assert.ok(h.patternStable);
      const want = flat64(ref.kernels.map((k, l) => k.map((w, i) => w * h.hv[l][i])));
      const before = tf.memory().numTensors;
      const res = graspScores(net, b.x, b.y, { hvp });
      assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
      assert.equal(res.hvp, mode, res.exactCheck?.detail);
      const got = net.prunable.flatMap((p) => Array.from(res.scores.get(p.name)!));
      assert.ok(relMax(got, want) < 1e-2, `scores vs float64: ${relMax(got, want)}`);
      const sparsity = 0.8;
      const mask = scoresToMask(res.scores, sparsity, { shapes: shapesOf(net) }).mask;
      const kept = net.prunable.flatMap((p) => Array.from(mask.get(p.name)));
      const k = kept.reduce((a, v) => a + v, 0);
      const sorted = [...want].sort((a, c) => c - a), thr = (sorted[k - 1] + sorted[k]) / 2;
      const scale = Math.abs(sorted[0]);
      let ties = 0;
      want.forEach((wv, i) => {
        if (Math.abs(wv - thr) <= 1e-2 * scale) { ties++; return; } // a near-tie: float32 may order it either way
        assert.equal(kept[i], wv > thr ? 1 : 0, `weight ${i}: reference score ${wv}, threshold ${thr}`);
      });
      assert.ok(ties < 0.05 * want.length, `${ties} near-ties`);
      b.x.dispose(); b.y.dispose(); net.dispose();
    });
  }

  it('throws instead of returning a mask when neither HVP can be trusted, and rejects bad options', () => {
    // max-pooling: TF.js has no gradient of MaxPoolGrad (no exact path), and a 1e-7 tolerance is out of float32's reach
    const pool = { ...synthetic(16, 4, 60, 13), inputShape: [4, 4, 1] as [number, number, number] };
    const net = buildModel({ arch: 'cnn', channels: [3, 'M'], activation: 'relu', inputShape: [4, 4, 1], numClasses: 4 }, { seed: 3 });
    const b = batch(pool, 5, 9);
    assert.throws(() => graspScores(net, b.x, b.y, { hvp: 'fd', tol: 1e-7 }), /GraSP cannot compute Hg reliably.*no mask is returned/s);
    assert.throws(() => graspScores(net, b.x, b.y, { tol: 1e-7 }), /cannot compute Hg reliably.*exact HVP \(nested tf.grads\) is not usable either.*MaxPoolGrad/s);
    assert.throws(() => graspScores(net, b.x, b.y, { hvp: 'exact' }), /hvp 'exact' cannot be trusted.*MaxPoolGrad/s);
    assert.throws(() => graspScores(net, b.x, b.y, { hvp: 'second' as never }), /hvp must be one of auto, exact, fd/);
    assert.throws(() => computeMask(net, { method: 'grasp', sparsity: 0.5, data: pool, options: { relStep: 1e-3 } }), /Unknown GraSP option\(s\) relStep.*set tol instead/);
    assert.throws(() => computeMask(net, { method: 'grasp', sparsity: 0.5, data: pool, options: { tol: 2 } }), /tol must be a number in \(0, 1\)/);
    b.x.dispose(); b.y.dispose(); net.dispose();
  });
});

describe('second-order gradients of conv nets', () => {
  it('nested tf.grads through convolutions (stride 1 and 2, 1x1 shortcuts, BN) match a converged finite difference along all kernels', () => {
    // a linear ResNet has no kinks, so the finite difference converges along every kernel and checks
    // both branches of the Conv2DBackpropFilter gradient registered by second-order.ts
    const img = { ...synthetic(64, 2, 20, 14), inputShape: [8, 8, 1] as [number, number, number] };
    const net = buildModel({ arch: 'resnet', depth: 8, widths: [2, 3, 3], activation: 'linear', inputShape: [8, 8, 1], numClasses: 2 }, { seed: 5 });
    const b = batch(img, 3, 2);
    const before = tf.memory().numTensors;
    const check = checkExactHvp(net, b.x, b.y, { tol: 1e-3 });
    assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
    assert.ok(check.trusted && check.direction === 'all', check.detail);
    assert.ok(check.relDiff! < 2e-3, check.detail);
    b.x.dispose(); b.y.dispose(); net.dispose();
  });
});

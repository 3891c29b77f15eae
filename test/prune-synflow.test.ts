import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend, buildModel, computeMask, densityAt, synflowScores, synflowPrune, scoresToMask, shapesOf, Mask, Net, Rng } from 'prune-at-init';

before(async () => { await initBackend(); });

/** Exact scores: scaled scores times exp(-logScale). */
function exact(net: Net, r: { scores: Map<string, Float32Array>; logScale: number }): number[] {
  const f = Math.exp(-r.logScale);
  return net.prunable.flatMap((p) => Array.from(r.scores.get(p.name)!, (v) => v * f));
}

function assertRel(got: number[], want: number[], tol: number, what: string) {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= tol * Math.abs(want[i]) + 1e-300, `${what}[${i}]: ${g} vs ${want[i]}`));
}

/** SynFlow by definition, for a net with no overflow: R = sum of the outputs of the net with |W|, biases/beta 0, |gamma|, input ones. */
function directSynflow(net: Net, keep?: Map<string, Uint8Array>): number[] {
  const w = net.getWeights();
  return tf.tidy(() => {
    const overrides = new Map<string, tf.Tensor>();
    for (const p of net.info) {
      const v = w.get(p.name)!;
      if (p.prunable) overrides.set(p.name, tf.tensor(v.map((x, i) => (keep && !keep.get(p.name)![i] ? 0 : Math.abs(x))), p.shape));
      else overrides.set(p.name, tf.tensor(p.kind === 'gamma' ? v.map(Math.abs) : new Float32Array(p.size), p.shape));
    }
    const ks = net.prunable.map((p) => overrides.get(p.name)!);
    const x = tf.ones([1, ...net.inputShape]);
    const g = tf.grads((...k: tf.Tensor[]) => {
      const o = new Map(overrides);
      net.prunable.forEach((p, i) => o.set(p.name, k[i]));
      return tf.sum(net.forward(x, { overrides: o, applyMask: false })) as tf.Scalar;
    })(ks);
    return ks.flatMap((k, i) => Array.from(tf.abs(tf.mul(k, g[i])).dataSync()));
  });
}

describe('SynFlow', () => {
  it('densityAt: exponential (1-s)^(k/n) and linear schedules, exact at the last round', () => {
    assert.equal(densityAt(0, 100, 0.01), 1);
    assert.ok(Math.abs(densityAt(50, 100, 0.01) - 0.1) < 1e-15);
    assert.equal(densityAt(100, 100, 0.01), 0.01);
    assert.equal(densityAt(3, 3, 0.37), 0.37);
    assert.ok(Math.abs(densityAt(1, 4, 0.2, 'linear') - 0.8) < 1e-15);
    assert.throws(() => densityAt(1, 0, 0.5), /rounds must be a positive integer/);
    assert.throws(() => densityAt(1, 4, 0.5, 'cosine' as never), /Unknown density schedule/);
  });

  it('scores equal brute-force path sums over every input->output path (tiny FFNN, with and without a mask), same for tanh and relu', () => {
    const dims = [3, 4, 3, 2];
    const results: number[][] = [];
    for (const act of ['tanh', 'relu'] as const) {
      const net = buildModel({ arch: 'ffnn', hidden: [4, 3], activation: act, inputShape: [1, 3, 1], numClasses: 2, init: { scheme: 'explicit', sigmaW: 1.3, sigmaB: 0.5 } }, { seed: 21 });
      const w = net.getWeights();
      const rng = new Rng(4);
      const masks = [undefined, new Map(net.prunable.map((p) => [p.name, Uint8Array.from({ length: p.size }, () => (rng.uniform() < 0.7 ? 1 : 0))]))];
      for (const keep of masks) {
        const K = [1, 2, 3].map((l) => {
          const k = w.get(`fc${l}/kernel`)!, m = keep?.get(`fc${l}/kernel`);
          return Array.from(k, (v, i) => (m && !m[i] ? 0 : Math.abs(v)));
        });
        // enumerate all paths i0 -> i1 -> i2 -> i3; add the path product to each weight on it
        const want = K.map((k) => new Array(k.length).fill(0));
        let R = 0;
        for (let a = 0; a < dims[0]; a++) for (let b = 0; b < dims[1]; b++) for (let c = 0; c < dims[2]; c++) for (let d = 0; d < dims[3]; d++) {
          const e1 = a * dims[1] + b, e2 = b * dims[2] + c, e3 = c * dims[3] + d;
          const prod = K[0][e1] * K[1][e2] * K[2][e3];
          want[0][e1] += prod; want[1][e2] += prod; want[2][e3] += prod; R += prod;
        }
        const res = synflowScores(net, keep);
        assertRel(exact(net, res), want.flat(), 1e-5, `${act} path sums${keep ? ' (masked)' : ''}`);
        assert.ok(Math.abs(res.r * Math.exp(-res.logScale) - R) <= 1e-5 * R, `R ${res.r * Math.exp(-res.logScale)} vs ${R}`);
        assert.deepEqual([...res.articulation].sort(), ['fc1/kernel', 'fc2/kernel', 'fc3/kernel']);
        if (!keep) results.push(exact(net, res));
      }
      net.dispose();
    }
    assertRel(results[0], results[1], 1e-5, 'tanh vs relu (linearised)');
  });

  it('CNN with max-pooling and a ResNet with skips: rescaled scores equal the unscaled definition', () => {
    const cnn = buildModel({ arch: 'cnn', channels: [3, 'M', 4], activation: 'relu', inputShape: [6, 6, 1], numClasses: 3 }, { seed: 5 });
    const rc = synflowScores(cnn);
    assert.equal(rc.articulation.size, 3, 'a chain: every layer is on every path');
    assertRel(exact(cnn, rc), directSynflow(cnn), 1e-4, 'cnn');
    // tanh CNN: linearised by the small signal, same scores as relu
    const cnnTanh = buildModel({ arch: 'cnn', channels: [3, 'M', 4], activation: 'tanh', inputShape: [6, 6, 1], numClasses: 3 }, { seed: 5 });
    assertRel(exact(cnnTanh, synflowScores(cnnTanh)), exact(cnn, rc), 1e-4, 'tanh cnn');
    const res = buildModel({ arch: 'resnet', depth: 8, widths: [2, 3, 4], inputShape: [4, 4, 1], numClasses: 3 }, { seed: 6 });
    const rr = synflowScores(res);
    assert.deepEqual([...rr.articulation].sort(), ['fc/kernel', 'stem/conv/kernel'], 'branches and shortcuts are skipped by some path');
    assertRel(exact(res, rr), directSynflow(res), 1e-4, 'resnet');
    [cnn, cnnTanh, res].forEach((n) => n.dispose());
  });

  it('depth-100 tanh FFNN (width 100): finite scores, no NaN, no all-zero layer, while the unscaled R overflows float32', () => {
    const net = buildModel('ffnn_tanh_d100_w100', { seed: 1 });
    const before = tf.memory().numTensors;
    const res = synflowScores(net);
    assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
    assert.equal(res.articulation.size, 100);
    assert.ok(Number.isFinite(res.logScale) && res.r > 0 && Number.isFinite(res.r));
    let zeros = 0;
    for (const p of net.prunable) {
      const s = res.scores.get(p.name)!;
      let max = 0;
      for (const v of s) { assert.ok(Number.isFinite(v), `${p.name}: non-finite score`); if (v > max) max = v; if (v === 0) zeros++; }
      assert.ok(max > 0, `${p.name}: all scores zero`);
    }
    assert.equal(zeros, 0, 'no score underflowed to zero');
    // independent float64 truth (R ~ e^250 fits in float64): forward h_l = |W_l|^T h_{l-1}, backward d_l, S_ij = h_i |w_ij| d_j
    const w = net.getWeights();
    const K = net.prunable.map((p) => ({ a: Float64Array.from(w.get(p.name)!, Math.abs), nin: p.shape[0], nout: p.shape[1] }));
    const hs: Float64Array[] = [new Float64Array(K[0].nin).fill(1)];
    for (const k of K) {
      const h = hs[hs.length - 1], o = new Float64Array(k.nout);
      for (let i = 0; i < k.nin; i++) for (let j = 0; j < k.nout; j++) o[j] += h[i] * k.a[i * k.nout + j];
      hs.push(o);
    }
    let d = new Float64Array(K[K.length - 1].nout).fill(1);
    const f = Math.exp(-res.logScale);
    let worst = 0;
    for (let l = K.length - 1; l >= 0; l--) {
      const k = K[l], h = hs[l], got = res.scores.get(net.prunable[l].name)!, dPrev = new Float64Array(k.nin);
      for (let i = 0; i < k.nin; i++) for (let j = 0; j < k.nout; j++) {
        const a = k.a[i * k.nout + j], want = h[i] * a * d[j];
        dPrev[i] += a * d[j];
        worst = Math.max(worst, Math.abs(got[i * k.nout + j] * f - want) / want);
      }
      d = dPrev;
    }
    assert.ok(worst < 1e-3, `max relative error vs float64 SynFlow: ${worst}`);
    // exact log R (natural log) is ~ hundreds: far beyond float32's ~88.7
    const logR = Math.log(res.r) - res.logScale;
    assert.ok(logR > 89, `log R = ${logR}`);
    // the unscaled computation overflows: on the ReLU twin (same weights; relu is the identity here)
    const twin = buildModel('ffnn_relu_d100_w100', { seed: 1 });
    assert.deepEqual(twin.getWeights().get('fc50/kernel'), net.getWeights().get('fc50/kernel'));
    assert.ok(!Number.isFinite(directSynflow(twin).reduce((a, v) => a + v, 0)), 'the unscaled computation overflows');
    twin.dispose();
    // an iterative run (10 rounds; one-shot empties fc1) keeps every layer alive, with exact kept count
    const pr = synflowPrune(net, 0.9, { rounds: 10 });
    assert.equal(pr.selection.mask.kept, Math.round(0.1 * net.prunable.reduce((a, p) => a + p.size, 0)));
    assert.deepEqual(pr.selection.mask.emptyLayers(), []);
    net.dispose();
  });

  it('iterative rounds follow the schedule, masks are nested, and one round equals one-shot top-k', () => {
    const net = buildModel({ arch: 'ffnn', hidden: [20, 20], activation: 'relu', inputShape: [1, 10, 1], numClasses: 4 }, { seed: 3 });
    const n = net.prunable.reduce((a, p) => a + p.size, 0);
    const s = 0.95, rounds = 5;
    const r = synflowPrune(net, s, { rounds });
    assert.deepEqual(r.keptPerRound, [1, 2, 3, 4, 5].map((k) => Math.round(densityAt(k, rounds, 1 - s) * n)));
    // nested: re-running round by round, each mask is inside the previous one
    let prev: Mask | undefined;
    for (let k = 1; k <= 3; k++) {
      const m = synflowPrune(net, 1 - densityAt(k, 3, 1 - s), { rounds: k }).selection.mask;
      if (prev) for (const name of m.names) m.get(name).forEach((v, i) => assert.ok(!v || prev!.get(name)[i], `${name}[${i}] resurrected`));
      prev = m;
    }
    const one = synflowPrune(net, 0.8, { rounds: 1 }).selection.mask;
    const direct = scoresToMask(synflowScores(net).scores, 0.8, { shapes: shapesOf(net) }).mask;
    assert.ok(one.equals(direct));
    // through the registry
    const viaRegistry = computeMask(net, { method: 'synflow', sparsity: s, options: { rounds } });
    assert.ok(viaRegistry.selection.mask.equals(r.selection.mask));
    assert.throws(() => computeMask(net, { method: 'synflow', sparsity: s, options: { rounds: 0 } }), /rounds must be a positive integer/);
    net.dispose();
  });

  it('refuses a net whose BatchNorm running statistics are not at init', () => {
    const net = buildModel({ arch: 'cnn', channels: [2], activation: 'relu', batchNorm: true, inputShape: [4, 4, 1], numClasses: 2 }, { seed: 1 });
    assert.ok(synflowScores(net).r > 0);
    net.setBuffers(new Map([['bn1/mean', new Float32Array([0.1, 0])]]));
    assert.throws(() => synflowScores(net), /running mean 'bn1\/mean' is non-zero/);
    net.dispose();
  });
});

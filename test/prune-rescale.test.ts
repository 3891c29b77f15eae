import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend, buildModel, computeMask, rescaleKept, applySbpSr, pruneAtInit, eocSigmaW, loadDataset, gather, Mask, Net, Rng, Dataset,
} from 'prune-at-init';

before(async () => { await initBackend(); });

function randomMask(net: Net, p: number, seed: number): Mask {
  const rng = new Rng(seed);
  return new Mask(net.prunable.map((q) => [q.name, { shape: q.shape, data: Array.from({ length: q.size }, () => (rng.uniform() < p ? 1 : 0)) }]));
}

/** Sum of squares of w over the flat indices selected by `group(i) === g`, for every g. */
function groupSq(w: Float32Array, groups: number, group: (i: number) => number): number[] {
  const s = new Array(groups).fill(0);
  w.forEach((v, i) => { s[group(i)] += v * v; });
  return s;
}

function synthetic(shape: [number, number, number], classes: number, n: number): Dataset {
  const rng = new Rng(1, 'synthetic');
  const d = shape[0] * shape[1] * shape[2];
  const split = () => ({ x: rng.normalArray(n * d), y: Int32Array.from({ length: n }, (_, i) => i % classes), n });
  return { name: 'synthetic', inputShape: shape, numClasses: classes, train: split(), test: split(), source: 'test', normalization: { mean: [0], std: [1] } };
}

describe('SBP-SR rescaling', () => {
  it('dense: every non-empty unit (column of [in,out]) has squared norm sigma_w^2, empty units stay 0, mask and biases unchanged', () => {
    const net = buildModel({ arch: 'ffnn', hidden: [30, 20], activation: 'tanh', inputShape: [1, 12, 1], numClasses: 5, init: { scheme: 'explicit', sigmaW: 1.3, sigmaB: 0.2 } }, { seed: 4 });
    const mask = randomMask(net, 0.15, 2); // sparse enough that some units are empty
    const before = net.getWeights();
    net.setMask(mask);
    const res = rescaleKept(net, mask, { sigmaW: 1.3 });
    const after = net.getWeights();
    let empties = 0;
    for (const p of net.prunable) {
      const [nin, nout] = p.shape, m = mask.get(p.name), w = after.get(p.name)!;
      const sq = groupSq(w, nout, (i) => i % nout);
      for (let j = 0; j < nout; j++) {
        let kept = 0;
        for (let i = 0; i < nin; i++) kept += m[i * nout + j];
        if (kept === 0) { empties++; assert.equal(sq[j], 0); } else assert.ok(Math.abs(sq[j] - 1.69) < 1e-5 * 1.69, `${p.name} unit ${j}: ${sq[j]}`);
      }
      w.forEach((v, i) => { if (!m[i]) assert.ok(v === 0); else assert.ok(Math.sign(v) === Math.sign(before.get(p.name)![i])); });
      assert.equal(res.layers.find((l) => l.name === p.name)!.emptyGroups, sq.filter((_, j) => !Array.from({ length: nin }, (_, i) => m[i * nout + j]).some(Boolean)).length);
    }
    assert.ok(empties > 0, 'the test mask has empty units');
    for (const n of ['fc1/bias', 'fc2/bias', 'fc3/bias']) assert.deepEqual(after.get(n), before.get(n));
    assert.ok(Mask.fromNet(net).equals(mask));
    net.dispose();
  });

  it("conv: 'fanIn' normalises each output channel over (kh,kw,in) to sigma^2; 'perPosition' each (kh,kw,out) over in to sigma^2/(kh*kw)", () => {
    const cfg = { arch: 'cnn' as const, channels: [3, 4], activation: 'tanh' as const, inputShape: [5, 5, 2] as [number, number, number], numClasses: 3 };
    for (const variant of ['fanIn', 'perPosition'] as const) {
      const net = buildModel(cfg, { seed: 7 });
      const mask = randomMask(net, 0.3, 5);
      net.setMask(mask);
      rescaleKept(net, mask, { sigmaW: { 'conv1/kernel': 1.1, 'conv2/kernel': 0.9, 'fc/kernel': 1.5 }, variant });
      const w = net.getWeights();
      for (const [name, sigma] of [['conv1/kernel', 1.1], ['conv2/kernel', 0.9]] as const) {
        const [kh, kw, cin, cout] = net.paramInfo(name).shape, m = mask.get(name), v = w.get(name)!;
        // group index by hand from the [kh, kw, in, out] layout
        const groups = variant === 'fanIn' ? cout : kh * kw * cout;
        const group = (i: number) => {
          const o = i % cout, pos = Math.floor(i / (cin * cout));
          return variant === 'fanIn' ? o : pos * cout + o;
        };
        const sq = groupSq(v, groups, group), kept = groupSq(Float32Array.from(m), groups, group);
        const target = variant === 'fanIn' ? sigma * sigma : (sigma * sigma) / (kh * kw);
        sq.forEach((s, g) => assert.ok(kept[g] === 0 ? s === 0 : Math.abs(s - target) < 1e-5 * target, `${variant} ${name} group ${g}: ${s} vs ${target}`));
      }
      // dense layers are per unit in both variants
      const fc = w.get('fc/kernel')!, nout = 3;
      groupSq(fc, nout, (i) => i % nout).forEach((s) => assert.ok(s === 0 || Math.abs(s - 2.25) < 1e-5 * 2.25));
      net.dispose();
    }
  });

  it('validates its options', () => {
    const net = buildModel({ arch: 'ffnn', hidden: [3], activation: 'tanh', inputShape: [1, 4, 1], numClasses: 2 }, { seed: 1 });
    const m = Mask.ones(net);
    assert.throws(() => rescaleKept(net, m, { sigmaW: { 'fc1/kernel': 1 } }), /no sigmaW for fc2\/kernel/);
    assert.throws(() => rescaleKept(net, m, { sigmaW: -1 }), /must be a positive number/);
    assert.throws(() => rescaleKept(net, m, { sigmaW: 1, variant: 'rows' as never }), /Unknown rescale variant 'rows'/);
    net.dispose();
  });

  it('refuses BatchNorm nets; for a Stable ResNet pruneAtInit(sbp-sr) is SNIP without rescaling', () => {
    const ds = synthetic([4, 4, 1], 3, 30);
    const plain = buildModel({ arch: 'resnet', depth: 8, widths: [2, 2, 2], inputShape: [4, 4, 1], numClasses: 3 }, { seed: 1 });
    assert.throws(() => applySbpSr(plain, Mask.ones(plain), { sigmaW: 1 }), /has BatchNorm.*Stable ResNet/);
    assert.throws(() => pruneAtInit(plain, { method: 'sbp-sr', sparsity: 0.5, data: ds, sigmaW: 1 }), /has BatchNorm.*stable: true/);
    const stable = buildModel({ arch: 'resnet', depth: 8, widths: [2, 2, 2], stable: true, inputShape: [4, 4, 1], numClasses: 3 }, { seed: 1 });
    const w0 = stable.getWeights();
    const snip = computeMask(stable, { method: 'snip', sparsity: 0.5, data: ds, seed: 3, options: { perClass: 2 } });
    const r = pruneAtInit(stable, { method: 'sbp-sr', sparsity: 0.5, data: ds, seed: 3, options: { perClass: 2 } });
    assert.equal(r.rescale, null);
    assert.match(r.note, /Stable ResNet/);
    assert.ok(Mask.fromNet(stable).equals(snip.selection.mask), 'installed mask = SNIP mask');
    const w1 = stable.getWeights(), m = snip.selection.mask;
    for (const p of stable.prunable) w1.get(p.name)!.forEach((v, i) => assert.ok(v === (m.get(p.name)[i] ? w0.get(p.name)![i] : 0), `${p.name}[${i}]`));
    plain.dispose(); stable.dispose();
  });

  it('pruneAtInit(sbp-sr) on an FFNN installs the SNIP mask and rescales; needs sigmaW', () => {
    const ds = synthetic([1, 8, 1], 3, 30);
    const net = buildModel({ arch: 'ffnn', hidden: [10], activation: 'tanh', inputShape: [1, 8, 1], numClasses: 3 }, { seed: 2 });
    assert.throws(() => pruneAtInit(net, { method: 'sbp-sr', sparsity: 0.7, data: ds }), /sbp-sr needs sigmaW/);
    const snip = computeMask(net, { method: 'snip', sparsity: 0.7, data: ds, seed: 5, options: { perClass: 2 } });
    const r = pruneAtInit(net, { method: 'sbp-sr', sparsity: 0.7, data: ds, seed: 5, options: { perClass: 2 }, sigmaW: 1.7 });
    assert.ok(r.selection.mask.equals(snip.selection.mask));
    assert.ok(Mask.fromNet(net).equals(snip.selection.mask));
    assert.equal(r.rescale!.variant, 'fanIn');
    const w = net.getWeights().get('fc1/kernel')!;
    groupSq(w, 10, (i) => i % 10).forEach((s) => assert.ok(s === 0 || Math.abs(s - 1.7 * 1.7) < 1e-5 * 2.89));
    net.dispose();
  });

  it('signal propagation: EOC tanh FFNN depth 50, SNIP at 90%: rescaling keeps q^l near the dense q*, without it q^l collapses', () => {
    const sigmaW = eocSigmaW('tanh', 0.2).sigmaW;
    const cfg = { arch: 'ffnn' as const, hidden: Array(49).fill(100), activation: 'tanh' as const, init: { scheme: 'explicit' as const, sigmaW, sigmaB: 0.2 } };
    const ds = loadDataset('fashion-mnist', { trainLimit: 500, testLimit: 200 });
    const { x, y } = gather(ds, ds.test, Int32Array.from({ length: 200 }, (_, i) => i));
    // q^l: mean squared pre-activation over units and a batch, per hidden layer (forward `record`)
    const q = (net: Net) => {
      const rec = new Map<string, tf.Tensor>();
      tf.tidy(() => { net.forward(x, { record: rec }); });
      const out = Array.from({ length: 49 }, (_, l) => tf.tidy(() => tf.mean(tf.square(rec.get(`fc${l + 1}`)!)).dataSync()[0]));
      rec.forEach((t) => t.dispose());
      return out;
    };
    // averaged over the deep layers, where the dense net has settled at its fixed point
    const deep = (v: number[]) => v.slice(20).reduce((a, b) => a + b, 0) / v.slice(20).length;
    const dense = buildModel(cfg, { seed: 1 });
    const qStar = deep(q(dense)); // empirical dense q* (mean-field value 0.512)
    const ratios: Record<string, [number, number]> = {};
    for (const s of [0.5, 0.9]) {
      const plain = buildModel(cfg, { seed: 1 }), scaled = buildModel(cfg, { seed: 1 });
      const { selection } = computeMask(dense, { method: 'snip', sparsity: s, data: ds, seed: 1 });
      plain.setMask(selection.mask);
      applySbpSr(scaled, selection.mask, { sigmaW });
      const qp = q(plain);
      ratios[s] = [deep(q(scaled)) / qStar, deep(qp) / qStar];
      plain.dispose(); scaled.dispose();
    }
    // 50%: no empty units, mean field holds: q^l ≈ q*. 90%: 8-26% of units per layer are empty (bias only)
    // and the kept inputs include them, so the rescaled q sits below q*, yet far above the collapsed net
    assert.ok(Math.abs(ratios[0.5][0] - 1) < 0.2, `s=0.5 rescaled q/q* = ${ratios[0.5][0]}`);
    assert.ok(ratios[0.9][0] > 0.4 && ratios[0.9][0] < 1.5, `s=0.9 rescaled q/q* = ${ratios[0.9][0]}`);
    assert.ok(ratios[0.9][1] < 0.25, `s=0.9 unrescaled q/q* = ${ratios[0.9][1]}`);
    assert.ok(ratios[0.9][0] > 3 * ratios[0.9][1]);
    x.dispose(); y.dispose(); dense.dispose();
  });
});

import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend, buildModel, computeMask, scoringBatchIndices, Mask, Net, Dataset, Rng, Scores, scoresToMask,
  layerwiseShuffle, globalShuffle, randomMaskWithCounts, invertScores, evenCounts, smartRatioCounts, pruneWithAblation,
  checkAblation, ablateScoringBatch, synflowScores, PRUNE_TRAIN_TASK, describeConfig,
} from 'prune-at-init';

before(async () => { await initBackend(); });

function maskOf(layers: Array<[string, number[], number]>, rng: Rng): Mask {
  return new Mask(layers.map(([n, shape, k]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const d = new Uint8Array(size).fill(1, 0, k);
    rng.shuffle(d as unknown as Int32Array);
    return [n, { shape, data: d }];
  }));
}

/** Bottom-k by brute force: sort (score ascending, NaN first... as lowest under the top-k rule's inversion, index ascending). */
function bruteBottomK(values: number[], k: number): Set<number> {
  // inverted top-k: -NaN is NaN, which ranks lowest, so NaN entries are kept last
  const key = (v: number) => (Number.isNaN(v) ? Infinity : v);
  const order = values.map((v, i) => i).sort((a, b) => key(values[a]) - key(values[b]) || a - b);
  return new Set(order.slice(0, k));
}

/** z-score of an inclusion count against Binomial(trials, p). */
const zOf = (count: number, trials: number, p: number) => (count - trials * p) / Math.sqrt(trials * p * (1 - p));

const tinyFfnn = (seed = 3, act: 'tanh' | 'relu' = 'tanh'): Net =>
  buildModel({ arch: 'ffnn', hidden: [6, 5], activation: act, inputShape: [1, 4, 1], numClasses: 3, init: { scheme: 'explicit', sigmaW: 1.5, sigmaB: 0.3 } }, { seed });

function synthetic(d: number, classes: number, n: number, seed: number): Dataset {
  const rng = new Rng(seed, 'synthetic');
  const split = () => ({ x: rng.normalArray(n * d), y: Int32Array.from({ length: n }, (_, i) => i % classes), n });
  return { name: 'synthetic', inputShape: [1, d, 1], numClasses: classes, train: split(), test: split(), source: 'test', normalization: { mean: [0], std: [1] } };
}

describe('mask ablations: shuffles', () => {
  const layers: Array<[string, number[], number]> = [['a', [4, 5], 7], ['b', [3, 3], 0], ['c', [2, 6], 12], ['d', [10], 3]];

  it('layerwise shuffle keeps every layer\'s count exactly, is deterministic per seed and differs across seeds', () => {
    const m = maskOf(layers, new Rng(1));
    const s1 = layerwiseShuffle(m, new Rng(5, 'x')), s2 = layerwiseShuffle(m, new Rng(5, 'x')), s3 = layerwiseShuffle(m, new Rng(6, 'x'));
    assert.deepEqual(s1.perLayer(), m.perLayer());
    assert.ok(s1.equals(s2));
    assert.ok(!s1.equals(s3));
    assert.deepEqual(s1.names, m.names);
    for (const n of m.names) assert.deepEqual(s1.shape(n), m.shape(n));
  });

  it('layerwise shuffle puts every position in the mask with probability k/n (binomial bounds over 4000 draws)', () => {
    const m = maskOf([['a', [12], 4], ['b', [5], 2]], new Rng(2));
    const T = 4000, freq = new Map(m.names.map((n) => [n, new Array(m.get(n).length).fill(0)]));
    for (let t = 0; t < T; t++) {
      const s = layerwiseShuffle(m, new Rng(t, 'uniform'));
      for (const n of s.names) s.get(n).forEach((v, i) => { freq.get(n)![i] += v; });
    }
    for (const l of m.perLayer()) {
      const p = l.kept / l.size;
      for (const c of freq.get(l.name)!) assert.ok(Math.abs(zOf(c, T, p)) < 5, `${l.name}: ${c}/${T} vs p=${p}`);
    }
  });

  it('global shuffle keeps the total count and spreads positions uniformly over all layers', () => {
    const m = maskOf([['a', [8], 8], ['b', [8], 0]], new Rng(3)); // all kept weights in layer a
    assert.equal(globalShuffle(m, new Rng(1)).kept, 8);
    const T = 3000, freq = new Array(16).fill(0);
    for (let t = 0; t < T; t++) {
      const s = globalShuffle(m, new Rng(t, 'g'));
      [...s.get('a'), ...s.get('b')].forEach((v, i) => { freq[i] += v; });
    }
    for (const c of freq) assert.ok(Math.abs(zOf(c, T, 0.5)) < 5, `${c}/${T}`);
  });

  it('randomMaskWithCounts places exactly the requested counts and rejects impossible ones', () => {
    const shapes = new Map([['a', [3, 4]], ['b', [5]]]);
    const m = randomMaskWithCounts(shapes, new Map([['a', 5], ['b', 5]]), new Rng(0));
    assert.deepEqual(m.perLayer().map((l) => l.kept), [5, 5]);
    assert.throws(() => randomMaskWithCounts(shapes, new Map([['a', 13], ['b', 0]]), new Rng(0)), /count for a must be an integer in 0\.\.12/);
  });
});

describe('mask ablations: inversion', () => {
  it('keeps the k lowest scores (ties by lower index, NaN last), globally and per layer, by brute force', () => {
    const rng = new Rng(11);
    for (const kind of ['continuous', 'ties'] as const) for (const scope of ['global', 'layerwise'] as const) for (const s of [0.1, 0.5, 0.8]) {
      const scores: Scores = new Map([['a', new Float32Array(7)], ['b', new Float32Array(9)], ['c', new Float32Array(4)]]);
      for (const v of scores.values()) for (let i = 0; i < v.length; i++) v[i] = kind === 'ties' ? rng.int(3) : rng.uniform();
      scores.get('b')![2] = NaN;
      const shapes = new Map([...scores].map(([n, v]) => [n, [v.length]]));
      const inv = scoresToMask(invertScores(scores), s, { scope, shapes }).mask;
      if (scope === 'global') {
        const flat = [...scores.values()].flatMap((v) => [...v]);
        const want = bruteBottomK(flat, Math.round((1 - s) * flat.length));
        const got = [...scores.keys()].flatMap((n) => [...inv.get(n)]);
        got.forEach((v, i) => assert.equal(v, want.has(i) ? 1 : 0, `${kind} ${scope} s=${s} i=${i}`));
      } else {
        for (const [n, v] of scores) {
          const want = bruteBottomK([...v], Math.round((1 - s) * v.length));
          inv.get(n).forEach((x, i) => assert.equal(x, want.has(i) ? 1 : 0, `${kind} ${scope} s=${s} ${n}[${i}]`));
        }
      }
    }
  });

  it('with distinct scores, the inverted mask at sparsity s is the exact complement of the original at 1 - s', () => {
    const rng = new Rng(4);
    const scores: Scores = new Map([['a', rng.uniformArray(30)], ['b', rng.uniformArray(20)]]);
    const shapes = new Map([...scores].map(([n, v]) => [n, [v.length]]));
    for (const s of [0.2, 0.5, 0.7]) {
      const inv = scoresToMask(invertScores(scores), s, { shapes }).mask;
      const orig = scoresToMask(scores, 1 - s, { shapes }).mask;
      for (const n of scores.keys()) inv.get(n).forEach((v, i) => assert.equal(v, 1 - orig.get(n)[i]));
    }
  });

  it('pruneWithAblation invert on a tiny net keeps the smallest |w| (magnitude), same count', () => {
    const net = tinyFfnn();
    try {
      const w = net.getWeights();
      const r = pruneWithAblation(net, { method: 'magnitude', sparsity: 0.6, seed: 0, ablation: 'invert' });
      const names = net.prunable.map((p) => p.name);
      const flat = names.flatMap((n) => [...w.get(n)!].map(Math.abs));
      const want = bruteBottomK(flat, Math.round(0.4 * flat.length));
      const got = names.flatMap((n) => [...Mask.fromNet(net).get(n)]);
      got.forEach((v, i) => assert.equal(v, want.has(i) ? 1 : 0));
      assert.equal(r.selection.mask.kept, Math.round(0.4 * flat.length));
    } finally { net.dispose(); }
  });

  it('inverted SynFlow with one round keeps the k lowest one-shot SynFlow scores', () => {
    const net = tinyFfnn(5, 'relu');
    try {
      const ref = synflowScores(net, net.maskArrays()).scores; // scores of the dense net
      const names = net.prunable.map((p) => p.name);
      const flat = names.flatMap((n) => [...ref.get(n)!]);
      pruneWithAblation(net, { method: 'synflow', sparsity: 0.5, seed: 0, ablation: 'invert', options: { rounds: 1 } });
      const want = bruteBottomK(flat, Math.round(0.5 * flat.length));
      const got = names.flatMap((n) => [...Mask.fromNet(net).get(n)]);
      got.forEach((v, i) => assert.equal(v, want.has(i) ? 1 : 0, `i=${i}`));
    } finally { net.dispose(); }
  });
});

describe('mask ablations: density rules (random tickets)', () => {
  it('even: round((1 - s) n_l) in every layer', () => {
    const c = evenCounts(new Map([['a', 100], ['b', 7], ['c', 1000]]), 0.9);
    assert.deepEqual([...c.values()], [10, 1, 100]);
  });

  it('smart ratio: exact total, last layer at 30 %, the others proportional to (L-l+1)^2 + (L-l+1)', () => {
    const layers = [{ name: 'l1', size: 4000 }, { name: 'l2', size: 3000 }, { name: 'l3', size: 3000 }, { name: 'l4', size: 1000 }];
    for (const s of [0.8, 0.9, 0.98]) {
      const c = smartRatioCounts(layers, s);
      const N = 11000, total = Math.round((1 - s) * N);
      assert.equal([...c.values()].reduce((a, b) => a + b, 0), total, `s=${s}`);
      assert.equal(c.get('l4'), Math.min(300, total), `s=${s}: the classifier keeps 30 % unless that is more than the budget`);
      // closed form without capping: ratio_l = c * r_l with c = goal / sum_l r_l n_l, r = 20, 12, 6 (L = 4)
      const r = [20, 12, 6], goal = total - c.get('l4')!;
      const cf = goal / (r[0] * 4000 + r[1] * 3000 + r[2] * 3000);
      if (cf * r[0] <= 1) layers.slice(0, 3).forEach((l, i) => assert.ok(Math.abs(c.get(l.name)! - cf * r[i] * l.size) <= 1, `s=${s} ${l.name}: ${c.get(l.name)} vs ${cf * r[i] * l.size}`));
    }
  });

  it('smart ratio caps ratios at 1 and moves the excess to the deeper layers', () => {
    const layers = [{ name: 'l1', size: 100 }, { name: 'l2', size: 1000 }, { name: 'l3', size: 100 }];
    const c = smartRatioCounts(layers, 0.3); // 840 kept: the first layer would need a ratio above 1
    assert.equal(c.get('l1'), 100);
    assert.equal([...c.values()].reduce((a, b) => a + b, 0), 840);
    assert.equal(c.get('l3'), 30);
  });

  it('pruneWithAblation smart-ratio and even give random positions with the rule\'s counts, deterministically', () => {
    const net = tinyFfnn();
    try {
      const a = pruneWithAblation(net, { method: 'random', sparsity: 0.5, seed: 1, ablation: 'smart-ratio' }).selection.mask;
      const b = pruneWithAblation(net, { method: 'random', sparsity: 0.5, seed: 1, ablation: 'smart-ratio' }).selection.mask;
      assert.ok(a.equals(b));
      const want = smartRatioCounts(net.prunable.map((p) => ({ name: p.name, size: p.size })), 0.5);
      assert.deepEqual(a.perLayer().map((l) => l.kept), [...want.values()]);
      const e = pruneWithAblation(net, { method: 'random', sparsity: 0.5, seed: 1, ablation: 'even' }).selection.mask;
      assert.deepEqual(e.perLayer().map((l) => l.kept), net.prunable.map((p) => Math.round(0.5 * p.size)));
    } finally { net.dispose(); }
  });
});

describe('mask ablations: through pruneWithAblation', () => {
  const ds = synthetic(4, 3, 30, 1);

  it('layerwise shuffle of SNIP keeps SNIP\'s per-layer densities exactly but not its positions', () => {
    const net = tinyFfnn();
    try {
      const plain = computeMask(net, { method: 'snip', sparsity: 0.7, data: ds, seed: 2, options: { perClass: 3 } }).selection.mask;
      const r = pruneWithAblation(net, { method: 'snip', sparsity: 0.7, data: ds, seed: 2, options: { perClass: 3 }, ablation: 'layerwise-shuffle' });
      assert.ok(r.sourceMask!.equals(plain));
      assert.deepEqual(r.selection.mask.perLayer(), plain.perLayer());
      assert.ok(!r.selection.mask.equals(plain));
      assert.ok(Mask.fromNet(net).equals(r.selection.mask), 'the ablated mask is the one installed');
    } finally { net.dispose(); }
  });

  it('reinit keeps the method\'s mask (computed on the original weights) and installs the fresh weights', () => {
    const cfg = { arch: 'ffnn' as const, hidden: [6, 5], activation: 'tanh' as const, inputShape: [1, 4, 1] as [number, number, number], numClasses: 3, init: { scheme: 'explicit' as const, sigmaW: 1.5, sigmaB: 0.3 } };
    const net = buildModel(cfg, { seed: 3 }), ref = buildModel(cfg, { seed: 3 }), fresh = buildModel(cfg, { seed: 3, stream: 'init/reinit' });
    try {
      const plain = computeMask(ref, { method: 'magnitude', sparsity: 0.6, seed: 0 }).selection.mask;
      let before = tf.memory().numTensors;
      ref.setMask(plain);
      const maskTensors = tf.memory().numTensors - before;
      before = tf.memory().numTensors;
      pruneWithAblation(net, { method: 'magnitude', sparsity: 0.6, seed: 0, ablation: 'reinit', rebuild: () => buildModel(cfg, { seed: 3, stream: 'init/reinit' }) });
      assert.equal(tf.memory().numTensors, before + maskTensors, 'only the mask tensors are new: the rebuilt net is disposed');
      assert.ok(Mask.fromNet(net).equals(plain));
      const got = net.getWeights(), want = fresh.getWeights(), old = ref.getWeights();
      const mask = Mask.fromNet(net);
      for (const [n, v] of want) {
        const m = mask.names.includes(n) ? mask.get(n) : null; // pruned entries may be stored as 0
        got.get(n)!.forEach((x, i) => { if (!m || m[i]) assert.equal(x, v[i], `${n}[${i}]`); });
        assert.notDeepEqual([...v], [...old.get(n)!], `${n}: the fresh draw differs from the original`);
      }
    } finally { net.dispose(); ref.dispose(); fresh.dispose(); }
  });

  it('SBP-SR with a layerwise shuffle rescales the shuffled mask (kept weights per unit to squared norm sigma_w^2)', () => {
    const net = tinyFfnn();
    try {
      const r = pruneWithAblation(net, { method: 'sbp-sr', sparsity: 0.5, data: ds, seed: 2, options: { perClass: 3 }, sigmaW: 1.5, ablation: 'layerwise-shuffle' });
      assert.ok(r.rescale !== null);
      const w = net.getWeights(), m = Mask.fromNet(net);
      assert.ok(m.equals(r.selection.mask));
      for (const p of net.prunable) {
        const [fin, out] = p.shape, k = w.get(p.name)!, mk = m.get(p.name);
        for (let j = 0; j < out; j++) {
          let sq = 0, kept = 0;
          for (let i = 0; i < fin; i++) if (mk[i * out + j]) { sq += k[i * out + j] ** 2; kept++; }
          if (kept) assert.ok(Math.abs(sq - 1.5 ** 2) < 1e-4, `${p.name} unit ${j}: ${sq}`);
        }
      }
    } finally { net.dispose(); }
  });

  it('rejects ablations that make no sense for the method, naming the fix', () => {
    assert.throws(() => checkAblation('shufle', 'snip'), /Unknown mask ablation "shufle": use one of none, layerwise-shuffle/);
    assert.throws(() => checkAblation('smart-ratio', 'snip'), /use method 'random'.*layerwise-shuffle/);
    assert.throws(() => checkAblation('random-labels', 'magnitude'), /uses no data/);
    assert.throws(() => checkAblation('invert', 'none'), /dense net/);
    assert.equal(checkAblation('none', 'none'), 'none');
    const net = tinyFfnn();
    try { assert.throws(() => pruneWithAblation(net, { method: 'magnitude', sparsity: 0.5, ablation: 'reinit' }), /needs rebuild/); } finally { net.dispose(); }
  });

  it('prune-train configs: no ablation and ablation none share the old hash; a real ablation changes it', () => {
    const base = { model: 'lenet300', prune: { method: 'snip', sparsity: 0.9, scope: 'global', options: {} }, seed: 0 };
    const k0 = describeConfig(PRUNE_TRAIN_TASK, base).key;
    const kNone = describeConfig(PRUNE_TRAIN_TASK, { ...base, prune: { ...base.prune, ablation: 'none' } }).key;
    const kShuf = describeConfig(PRUNE_TRAIN_TASK, { ...base, prune: { ...base.prune, ablation: 'layerwise-shuffle' } }).key;
    assert.equal(kNone, k0);
    assert.notEqual(kShuf, k0);
    assert.equal(describeConfig(PRUNE_TRAIN_TASK, base).canonical.includes('ablation'), false);
  });
});

describe('scoring-batch ablations (Su et al.)', () => {
  const ds = synthetic(6, 4, 80, 2);
  const idx = scoringBatchIndices(ds, 5, 3);
  const row = 6;

  it('random labels change only the labels: pixels identical, labels uniform over the classes', () => {
    const a = ablateScoringBatch(ds, idx, 'random-labels', new Rng(1));
    assert.equal(a.dataset.train.n, idx.length);
    idx.forEach((i, r) => assert.deepEqual([...a.dataset.train.x.subarray(r * row, (r + 1) * row)], [...ds.train.x.subarray(i * row, (i + 1) * row)]));
    assert.ok([...a.dataset.train.y].every((y) => y >= 0 && y < 4));
    // over many draws each label value appears with frequency 1/4
    const T = 200, counts = [0, 0, 0, 0];
    for (let t = 0; t < T; t++) for (const y of ablateScoringBatch(ds, idx, 'random-labels', new Rng(t, 'l')).dataset.train.y) counts[y]++;
    for (const c of counts) assert.ok(Math.abs(zOf(c, T * idx.length, 0.25)) < 5, `${counts}`);
    assert.equal(a.dataset.test, ds.test, 'test split shared, unchanged');
  });

  it('shuffled pixels change only the pixels: labels identical, each image a permutation of itself', () => {
    const a = ablateScoringBatch(ds, idx, 'shuffled-pixels', new Rng(1));
    assert.deepEqual([...a.dataset.train.y], [...idx].map((i) => ds.train.y[i]));
    let moved = 0;
    idx.forEach((i, r) => {
      const got = [...a.dataset.train.x.subarray(r * row, (r + 1) * row)], orig = [...ds.train.x.subarray(i * row, (i + 1) * row)];
      assert.deepEqual([...got].sort(), [...orig].sort());
      if (got.some((v, j) => v !== orig[j])) moved++;
    });
    assert.ok(moved > idx.length / 2);
    assert.deepEqual([...a.batchIndices], [...idx].map((_, r) => r));
  });

  it('SNIP on random labels scores the seed\'s batch with new labels: equal to SNIP on a hand-built relabelled batch', () => {
    const ds = synthetic(4, 3, 60, 2), idx = scoringBatchIndices(ds, 5, 3);
    const net = tinyFfnn(), ref = tinyFfnn();
    try {
      const r = pruneWithAblation(net, { method: 'snip', sparsity: 0.6, data: ds, seed: 3, options: { perClass: 5 }, ablation: 'random-labels' });
      // hand-built: the same batch (seed 3), labels from the ablation's own stream
      const manual = ablateScoringBatch(ds, idx, 'random-labels', new Rng(3, 'ablation/random-labels'));
      const want = computeMask(ref, { method: 'snip', sparsity: 0.6, data: manual.dataset, seed: 3, options: { batchIndices: manual.batchIndices } }).selection.mask;
      assert.ok(r.selection.mask.equals(want));
      const plain = computeMask(ref, { method: 'snip', sparsity: 0.6, data: ds, seed: 3, options: { perClass: 5 } }).selection.mask;
      assert.ok(!plain.equals(want), 'the labels matter to SNIP');
    } finally { net.dispose(); ref.dispose(); }
  });
});

import { strict as assert } from 'assert';
import { initBackend, buildModel, computeMask, layerReport, criticalSparsity, emptyLayers, isCollapsed, scoresToMask, shapesOf, Mask, Net, Rng } from 'prune-at-init';

before(async () => { await initBackend(); });

function randomMask(net: Net, p: number, seed: number, empty: string[] = []): Mask {
  const rng = new Rng(seed);
  return new Mask(net.prunable.map((q) => [q.name, { shape: q.shape, data: Array.from({ length: q.size }, () => (!empty.includes(q.name) && rng.uniform() < p ? 1 : 0)) }]));
}

describe('layerReport', () => {
  it('counts, MACs, empty units and score statistics match hand computations (CNN + dense)', () => {
    // conv1: 3x3, 1->2 channels on 5x5 'same' -> 25 positions; pool -> 2x2x2; fc: 8 -> 3
    const net = buildModel({ arch: 'cnn', channels: [2, 'M'], activation: 'relu', inputShape: [5, 5, 1], numClasses: 3 }, { seed: 1 });
    const conv = new Uint8Array(18), fc = new Uint8Array(24);
    [0, 2, 4, 7].forEach((i) => { conv[i] = 1; });   // flat [kh,kw,in,out]: even index -> channel 0, odd -> channel 1
    [1, 4, 10, 13, 16].forEach((i) => { fc[i] = 1; }); // flat [in,out]: unit = i % 3 -> units 1,1,1,1,1 -> units 0 and 2 empty
    const mask = new Mask([['conv1/kernel', { shape: [3, 3, 1, 2], data: conv }], ['fc/kernel', { shape: [8, 3], data: fc }]]);
    const s1 = Float32Array.from({ length: 18 }, (_, i) => (i % 5 === 0 ? 0 : i));
    const s2 = Float32Array.from({ length: 24 }, (_, i) => (i === 3 ? NaN : -i));
    const rep = layerReport(net, mask, new Map([['conv1/kernel', s1], ['fc/kernel', s2]]));
    const [c, f] = rep.layers;
    assert.deepEqual([c.size, c.kept, c.macs, c.macsKept, c.emptyUnits], [18, 4, 18 * 25, 4 * 25, 0]);
    assert.deepEqual([f.size, f.kept, f.macs, f.macsKept, f.emptyUnits], [24, 5, 24, 5, 2]);
    assert.equal(c.density, 4 / 18);
    const vals = Array.from(s1), mean = vals.reduce((a, v) => a + v, 0) / 18;
    assert.ok(Math.abs(c.scoreMean! - mean) < 1e-12);
    assert.ok(Math.abs(c.scoreStd! - Math.sqrt(vals.reduce((a, v) => a + (v - mean) ** 2, 0) / 18)) < 1e-9);
    assert.equal(c.scoreMax, 17);
    assert.equal(c.zeroScores, 4); // 0, 5, 10, 15
    assert.equal(f.nanScores, 1);
    assert.equal(f.zeroScores, 1); // -0 === 0
    assert.ok(f.scoreMax === 0); // -0
    assert.deepEqual(rep.summary, { size: 42, kept: 9, density: 9 / 42, sparsity: 1 - 9 / 42, macs: 474, macsKept: 105, emptyLayers: [], collapsed: false, zeroScores: 5 });
    const noScores = layerReport(net, mask);
    assert.equal(noScores.layers[0].scoreMean, null);
    net.dispose();
  });

  it('detects layer collapse', () => {
    const net = buildModel({ arch: 'ffnn', hidden: [4, 3], activation: 'tanh', inputShape: [1, 5, 1], numClasses: 2 }, { seed: 2 });
    const m = randomMask(net, 0.5, 1, ['fc2/kernel']);
    assert.deepEqual(emptyLayers(m), ['fc2/kernel']);
    assert.ok(isCollapsed(m));
    const rep = layerReport(net, m);
    assert.ok(rep.summary.collapsed);
    assert.deepEqual(rep.summary.emptyLayers, ['fc2/kernel']);
    assert.equal(rep.layers[1].emptyUnits, 3);
    assert.ok(!isCollapsed(Mask.ones(net)));
    net.dispose();
  });
});

describe('criticalSparsity', () => {
  let net: Net;
  before(() => { net = buildModel({ arch: 'ffnn', hidden: [4, 3], activation: 'tanh', inputShape: [1, 6, 1], numClasses: 2 }, { seed: 3 }); });
  after(() => net.dispose());

  /** Independent brute force: rank by (score desc, NaN last, flat index asc), scan k = n..1. */
  function bruteForce(scores: Map<string, Float32Array>): { k: number | null; layers: string[] } {
    const names = net.prunable.map((p) => p.name);
    const flat: Array<{ v: number; i: number; layer: string }> = [];
    names.forEach((n) => scores.get(n)!.forEach((v) => flat.push({ v: Number.isNaN(v) ? -Infinity : v, i: flat.length, layer: n })));
    const order = [...flat].sort((a, b) => (b.v - a.v) || (a.i - b.i));
    for (let k = flat.length; k >= 1; k--) {
      const keptLayers = new Set(order.slice(0, k).map((e) => e.layer));
      const empty = names.filter((n) => !keptLayers.has(n));
      if (empty.length) return { k, layers: empty };
    }
    return { k: null, layers: [] };
  }

  it('global: equals a brute-force scan over every k (ties, zeros, NaN included), to one weight', () => {
    const rng = new Rng(17);
    for (let trial = 0; trial < 25; trial++) {
      const levels = trial % 3 === 0 ? 4 : 1000; // few levels -> many ties
      const scores = new Map(net.prunable.map((p) => [p.name, Float32Array.from({ length: p.size }, () => {
        const u = rng.uniform();
        return u < 0.03 ? NaN : Math.floor(u * levels) / levels * (p.name === 'fc1/kernel' ? 0.5 : 1);
      })]));
      const bf = bruteForce(scores);
      const cs = criticalSparsity(net, scores);
      const n = 24 + 12 + 6;
      assert.equal(cs.kept, bf.k, `trial ${trial}`);
      assert.ok(Math.abs(cs.sparsity! - (1 - bf.k! / n)) < 1e-12);
      assert.deepEqual(cs.layers, bf.layers);
      assert.equal(cs.resolution, 1 / n);
      // the exact routine at s_cr empties a layer, one weight more does not
      assert.ok(scoresToMask(scores, cs.sparsity!, { shapes: shapesOf(net) }).mask.emptyLayers().length > 0);
      assert.equal(scoresToMask(scores, 1 - (bf.k! + 1) / n, { shapes: shapesOf(net) }).mask.emptyLayers().length, 0);
      assert.ok(cs.evaluations <= 10, `bisection: ${cs.evaluations} evaluations`);
    }
  });

  it('layerwise: the smallest layer empties when round((1-s)*M) = 0, found to the tolerance', () => {
    const scores = new Map(net.prunable.map((p) => [p.name, new Rng(p.name).uniformArray(p.size)]));
    const cs = criticalSparsity(net, scores, { scope: 'layerwise', tol: 1e-9 });
    const want = 1 - 0.5 / 6; // (1-s)*6 < 0.5
    assert.ok(cs.sparsity! > want - 1e-12 && cs.sparsity! - want < 2e-9, `${cs.sparsity} vs ${want}`);
    assert.deepEqual(cs.layers, ['fc3/kernel']);
  });
});

describe('magnitude pruning', () => {
  it('gives identical masks for every sigma_w on the same seed (init shares Z), different ones on another seed', () => {
    const masks = [0.5, 1.0, 1.3, 3.0].map((sigmaW) => {
      const net = buildModel({ arch: 'ffnn', hidden: [50, 50], activation: 'tanh', init: { scheme: 'explicit', sigmaW, sigmaB: 0.2 } }, { seed: 8 });
      const m = computeMask(net, { method: 'magnitude', sparsity: 0.9 }).selection.mask;
      net.dispose();
      return m;
    });
    masks.slice(1).forEach((m) => assert.ok(m.equals(masks[0])));
    // the input layer (largest fan-in, smallest |w|) loses the most, as the MBP analysis predicts
    const d = masks[0].perLayer().map((l) => l.density);
    assert.ok(d[0] < d[1] && d[0] < d[2], `densities ${d}`);
    const other = buildModel({ arch: 'ffnn', hidden: [50, 50], activation: 'tanh', init: { scheme: 'explicit', sigmaW: 1.0, sigmaB: 0.2 } }, { seed: 9 });
    assert.ok(!computeMask(other, { method: 'magnitude', sparsity: 0.9 }).selection.mask.equals(masks[0]));
    other.dispose();
  });
});

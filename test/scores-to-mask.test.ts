import { strict as assert } from 'assert';
import { kthSmallest, scoresToMask, Rng } from 'prune-at-init';

const shapes = (m: Map<string, Float32Array>) => new Map([...m].map(([k, v]) => [k, [v.length]]));

describe('scoresToMask', () => {
  it('keeps exactly round((1-s) n) weights: the highest scores, by brute force', () => {
    const rng = new Rng(9);
    for (const s of [0, 0.1, 0.5, 0.9, 0.99, 0.999]) {
      const scores = new Map([['a', rng.uniformArray(137)], ['b', rng.uniformArray(1000)], ['c', rng.uniformArray(3)]]);
      const { mask } = scoresToMask(scores, s, { shapes: shapes(scores) });
      const n = 1140, k = Math.round((1 - s) * n);
      assert.equal(mask.kept, k, `s=${s}`);
      // brute force: every kept score >= every pruned score
      let minKept = Infinity, maxPruned = -Infinity;
      for (const [name, v] of scores) {
        const m = mask.get(name);
        v.forEach((x, i) => { if (m[i]) minKept = Math.min(minKept, x); else maxPruned = Math.max(maxPruned, x); });
      }
      assert.ok(minKept >= maxPruned);
    }
  });

  it('breaks ties deterministically by flat index (earlier wins), and reports them', () => {
    const scores = new Map([['a', new Float32Array([1, 1, 1, 1])], ['b', new Float32Array([1, 1, 2, 0])]]);
    const r = scoresToMask(scores, 0.5, { shapes: shapes(scores) });
    assert.deepEqual([...r.mask.get('a')], [1, 1, 1, 0]);
    assert.deepEqual([...r.mask.get('b')], [0, 0, 1, 0]);
    assert.equal(r.zeroScores, 1);
    const again = scoresToMask(scores, 0.5, { shapes: shapes(scores) });
    assert.ok(again.mask.equals(r.mask));
  });

  it('layerwise scope keeps the same fraction in every layer', () => {
    const rng = new Rng(2);
    const scores = new Map([['a', rng.uniformArray(100)], ['b', rng.uniformArray(10)]]);
    const { mask } = scoresToMask(scores, 0.7, { scope: 'layerwise', shapes: shapes(scores) });
    assert.deepEqual(mask.perLayer().map((l) => l.kept), [30, 3]);
  });

  it('NaN scores rank last; all-zero layers can be emptied (layer collapse is visible)', () => {
    const scores = new Map([['a', new Float32Array([NaN, 0.5, 0.2])], ['b', new Float32Array([0, 0, 0])]]);
    const r = scoresToMask(scores, 0.5, { shapes: shapes(scores) });
    assert.deepEqual([...r.mask.get('a')], [0, 1, 1]);
    assert.equal(r.nanScores, 1);
    assert.deepEqual(r.mask.emptyLayers(), []);
    const r2 = scoresToMask(scores, 0.67, { shapes: shapes(scores) });
    assert.deepEqual(r2.mask.emptyLayers(), ['b']);
  });

  it('rejects sparsity outside [0, 1) and unknown scopes with a clear error', () => {
    const scores = new Map([['a', new Float32Array(4)]]);
    for (const s of [-0.1, 1, 1.5, NaN]) assert.throws(() => scoresToMask(scores, s, { shapes: shapes(scores) }), /Sparsity must be in \[0, 1\)/);
    assert.throws(() => scoresToMask(scores, 0.5, { shapes: shapes(scores), scope: 'per-row' as never }), /Unknown pruning scope 'per-row'/);
  });
});

describe('kthSmallest (the selection behind scoresToMask)', () => {
  it('returns the entry of the ascending TypedArray sort at every index: ties, zeros of both signs, -Infinity, tiny and sorted inputs', () => {
    const rng = new Rng(21, 'kth');
    const arrays: Float32Array[] = [
      Float32Array.of(5), Float32Array.of(2, 1), Float32Array.of(1, 1, 1, 1),
      Float32Array.from({ length: 300 }, (_, i) => i), Float32Array.from({ length: 300 }, (_, i) => -i),
    ];
    for (let t = 0; t < 40; t++) {
      const n = 1 + Math.floor(rng.uniform() * 400);
      // few distinct values (many ties), both zeros, -Infinity for pruned/ineligible entries
      const pool = [0, -0, -Infinity, 1, -1, 0.5, 1e-30, -1e-30, rng.uniform(), rng.uniform()];
      arrays.push(Float32Array.from({ length: n }, () => (rng.uniform() < 0.5 ? pool[Math.floor(rng.uniform() * pool.length)] : rng.uniform() - 0.5)));
    }
    for (const a of arrays) {
      const sorted = Float32Array.from(a).sort();
      for (let j = 0; j < a.length; j += Math.max(1, Math.floor(a.length / 37))) {
        const got = kthSmallest(Float32Array.from(a), j);
        assert.ok(Object.is(got, sorted[j]), `n ${a.length}, index ${j}: ${got} vs ${sorted[j]}`);
      }
    }
    assert.throws(() => kthSmallest(Float32Array.of(1, 2), 2), /index 2 outside \[0, 2\)/);
  });
});

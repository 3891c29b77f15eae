import { strict as assert } from 'assert';
import { fractionalRanks, geometricMean, holmReject, mannWhitney, mean, meanSd, pearson, quantile, Rng, sampleSd, seOfDifference, spearman, standardError, upperMedian } from 'prune-at-init';

// Closed forms worked out by hand, then a differential test: the copies each module had before
// stats.ts (pasted verbatim below) against the shared functions, bit for bit, on random data.
describe('stats: closed forms', () => {
  it('mean and sample sd: 2,4,4,4,5,5,7,9 has mean 5 and Σ(x − 5)² = 32, so sd = √(32/7); one value has no sd', () => {
    const xs = [2, 4, 4, 4, 5, 5, 7, 9];
    assert.equal(mean(xs), 5);
    assert.equal(sampleSd(xs), Math.sqrt(32 / 7));
    assert.deepEqual(meanSd(xs), { mean: 5, sd: Math.sqrt(32 / 7), n: 8 });
    assert.ok(Math.abs(geometricMean([1, 4, 16]) - 4) < 1e-15 && Number.isNaN(geometricMean([])));
    assert.ok(Number.isNaN(mean([])) && Number.isNaN(sampleSd([])) && Number.isNaN(sampleSd([3])));
    const one = meanSd([7]);
    assert.equal(one.mean, 7); assert.equal(one.n, 1); assert.ok(Number.isNaN(one.sd));
    assert.throws(() => meanSd([]), /non-empty/);
    assert.throws(() => meanSd([1, '2' as never]), /values\[1\]/);
  });

  it('standard errors: sd/√n; the difference of two means adds variances, a one-seed side adds 0', () => {
    assert.equal(standardError({ sd: 2, n: 4 }), 1);
    assert.ok(Number.isNaN(standardError({ sd: NaN, n: 1 })));
    assert.equal(seOfDifference({ mean: 0, sd: 3, n: 9 }, { mean: 1, sd: 4, n: 16 }), Math.SQRT2);
    assert.equal(seOfDifference({ mean: 0, sd: 3, n: 9 }, { mean: 1, sd: NaN, n: 1 }), 1);
    assert.equal(seOfDifference({ mean: 0, sd: NaN, n: 1 }, { mean: 1, sd: NaN, n: 1 }), 0);
  });

  it('quantiles interpolate between order statistics; the upper median is always one of the values', () => {
    assert.equal(quantile([5, 1, 3], 0.5), 3);
    assert.equal(quantile([4, 1, 3, 2], 0.5), 2.5);
    assert.equal(quantile([10, 20, 30, 40, 50], 0.25), 20);
    assert.equal(quantile([1, 2], 0.25), 1.25);
    assert.throws(() => quantile([], 0.5), /non-empty/);
    assert.throws(() => quantile([1], 1.5), /q must be/);
    assert.equal(upperMedian([4, 1, 3, 2]), 3);
    assert.equal(upperMedian([5, 1, 3]), 3);
    assert.throws(() => upperMedian([]), /non-empty/);
  });

  it('correlations: ±1 for linear relations, √3/2 for ranks with a tie, none without spread', () => {
    assert.ok(Math.abs(pearson([1, 2, 3, 4], [3, 5, 7, 9]) - 1) < 1e-12);
    assert.ok(Math.abs(pearson([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12);
    assert.ok(Number.isNaN(pearson([1, 2, 3], [5, 5, 5])));
    assert.throws(() => pearson([1, 2], [1]), /same length/);
    assert.deepEqual(fractionalRanks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
    assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 8, 27, 64])! - 1) < 1e-15); // monotone, not linear
    // ranks [1,2,3] vs [1.5,1.5,3]: Σdxdy = 1.5, Σdx² = 2, Σdy² = 1.5 → 1.5/√3
    assert.ok(Math.abs(spearman([1, 2, 3], [1, 1, 2])! - Math.sqrt(3) / 2) < 1e-15);
    assert.equal(spearman([1, 2, 3], [4, 4, 4]), null);
    assert.equal(spearman([1], [1]), null);
  });
});

describe('stats: the earlier copies, verbatim, give bit-identical numbers', () => {
  // notebook/tables.ts meanSd
  const oldMeanSd = (values: number[]) => {
    const n = values.length;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    if (n === 1) return { mean, sd: NaN, n };
    const ss = values.reduce((a, b) => a + (b - mean) * (b - mean), 0);
    return { mean, sd: Math.sqrt(ss / (n - 1)), n };
  };
  // rvp-summary.ts sd
  const oldRvpSd = (xs: number[]) => {
    if (xs.length < 2) return NaN;
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
  };
  // engine/table.ts aggregate
  const oldTable = (xs: number[]) => {
    const n = xs.length;
    const mean = n ? xs.reduce((s, x) => s + x, 0) / n : NaN;
    const sd = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : NaN;
    return [mean, sd];
  };
  // early-pruning/select.ts spearman (Pearson on ranks, inline)
  const oldSpearman = (a: number[], b: number[]) => {
    if (a.length !== b.length || a.length < 2) return null;
    const ra = fractionalRanks(a), rb = fractionalRanks(b);
    const n = a.length, ma = ra.reduce((s, x) => s + x, 0) / n, mb = rb.reduce((s, x) => s + x, 0) / n;
    let sab = 0, saa = 0, sbb = 0;
    for (let i = 0; i < n; i++) { sab += (ra[i] - ma) * (rb[i] - mb); saa += (ra[i] - ma) ** 2; sbb += (rb[i] - mb) ** 2; }
    return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : null;
  };
  // kstarts-verdicts.ts median (used on integer epoch counts only)
  const oldMedian = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const same = (a: number | null, b: number | null, what: string) => assert.ok(Object.is(a, b), `${what}: ${a} vs ${b}`);

  it('mean, sd, meanSd, aggregate, plots/overfitting sem, Spearman, geometric mean on 2000 random samples of 1–9 values', () => {
    const rng = new Rng(5, 'stats-diff');
    for (let t = 0; t < 2000; t++) {
      const n = 1 + (t % 9);
      const scale = 10 ** (Math.floor(rng.uniform() * 12) - 6);
      const xs = Array.from({ length: n }, () => 0.9 + rng.normal() * scale); // small spread about a large mean: rounding shows
      const ys = Array.from({ length: n }, () => (t % 3 ? rng.normal() : Math.round(rng.uniform() * 3)));
      const o = oldMeanSd(xs), m = meanSd(xs);
      same(m.mean, o.mean, 'meanSd mean'); same(m.sd, o.sd, 'meanSd sd');
      same(sampleSd(xs), oldRvpSd(xs), 'rvp sd');
      const [tm, ts] = oldTable(xs);
      same(mean(xs), tm, 'table mean'); same(sampleSd(xs), ts, 'table sd');
      if (n >= 2) same(standardError(m), o.sd / Math.sqrt(o.n), 'sem');
      same(spearman(xs, ys), oldSpearman(xs, ys), 'spearman');
      const pos = xs.map(Math.abs); // layer-collapse-figures.ts geometric mean, inline
      same(geometricMean(pos), Math.exp(pos.reduce((a, b) => a + Math.log(b), 0) / pos.length), 'geometric mean');
    }
  });

  it('median of integer counts: the interpolated quantile equals the old midpoint average', () => {
    const rng = new Rng(6, 'stats-median');
    for (let t = 0; t < 2000; t++) {
      const xs = Array.from({ length: 1 + (t % 8) }, () => Math.floor(rng.uniform() * 40));
      same(quantile(xs, 0.5), oldMedian(xs), 'median');
    }
  });
});

describe('stats: exact Mann–Whitney and Holm', () => {
  /** Brute force: every way to choose which n of the pooled values carry x's label; pairwise counts, no ranks. */
  function brute(x: number[], y: number[]): { u: number; pLess: number; pGreater: number; minPLess: number } {
    const all = [...x, ...y], n = x.length, m = y.length;
    // u = pairs with a < b plus half the ties, counted pair by pair
    const uOf = (a: number[], b: number[]) => a.reduce((s, ai) => s + b.reduce((t, bj) => t + (ai < bj ? 1 : ai === bj ? 0.5 : 0), 0), 0);
    const obs = uOf(x, y);
    let total = 0, le = 0, ge = 0, best = -1, atBest = 0;
    for (let mask = 0; mask < 1 << all.length; mask++) {
      let bits = 0;
      for (let i = 0; i < all.length; i++) if (mask & (1 << i)) bits++;
      if (bits !== n) continue;
      const a = all.filter((_, i) => mask & (1 << i)), b = all.filter((_, i) => !(mask & (1 << i)));
      const u = uOf(a, b);
      total++;
      // x smaller <=> many pairs with a < b <=> small rank sum of x
      if (u >= obs - 1e-9) le++;
      if (u <= obs + 1e-9) ge++;
      if (u > best + 1e-9) { best = u; atBest = 0; }
      if (Math.abs(u - best) <= 1e-9) atBest++;
    }
    assert.equal(total, binom(n + m, n));
    return { u: obs, pLess: le / total, pGreater: ge / total, minPLess: atBest / total };
  }
  const binom = (a: number, b: number) => { let r = 1; for (let i = 1; i <= b; i++) r = (r * (a - b + i)) / i; return r; };

  it('matches brute-force enumeration of the label permutations, with and without ties', () => {
    const rng = new Rng(11, 'mw');
    for (let t = 0; t < 60; t++) {
      const n = 1 + (t % 6), m = 1 + ((t * 7) % 7);
      // small integer values force ties in about half the cases
      const draw = (k: number, shift: number) => Array.from({ length: k }, () => (t % 2 ? Math.floor(rng.uniform() * 5) : rng.uniform()) + shift);
      const x = draw(n, 0), y = draw(m, t % 3 === 0 ? 0.8 : 0);
      const got = mannWhitney(x, y), want = brute(x, y);
      assert.equal(got.u, want.u);
      assert.ok(Math.abs(got.pLess - want.pLess) < 1e-12, `pLess ${got.pLess} vs ${want.pLess} for ${x} | ${y}`);
      assert.ok(Math.abs(got.pGreater - want.pGreater) < 1e-12, `pGreater ${got.pGreater} vs ${want.pGreater}`);
      assert.equal(got.probLess, want.u / (n * m));
      assert.ok(Math.abs(got.minPLess - want.minPLess) < 1e-12, `minPLess ${got.minPLess} vs ${want.minPLess}`);
    }
  });

  it('closed forms: complete separation gives 1 / C(n+m, n); identical samples give p = 1 both ways', () => {
    const x = Array.from({ length: 25 }, (_, i) => i), y = Array.from({ length: 25 }, (_, i) => 100 + i);
    const r = mannWhitney(x, y);
    assert.equal(r.u, 625);
    assert.equal(r.probLess, 1);
    assert.ok(Math.abs(r.pLess * binom(50, 25) - 1) < 1e-9, `${r.pLess}`);
    assert.equal(r.minPLess, r.pLess);
    assert.ok(Math.abs(mannWhitney([5, 1, 3, 2, 4], [9, 7, 6, 8, 10]).minPLess * 252 - 1) < 1e-12);
    assert.equal(r.pGreater, 1);
    const same = mannWhitney([3, 3, 3], [3, 3, 3, 3]);
    assert.deepEqual([same.u, same.probLess, same.pLess, same.pGreater], [6, 0.5, 1, 1]);
    assert.throws(() => mannWhitney([], [1]), /at least one value/);
    assert.throws(() => mannWhitney([1, NaN], [1]), /value 1 is NaN/);
    assert.throws(() => mannWhitney(new Array(200).fill(1), new Array(200).fill(2)), /too large/);
  });

  it('Holm: step-down against alpha / (count - i), stopping at the first failure', () => {
    // 0.01 <= 0.05/4 and 0.013 <= 0.05/3 are rejected; 0.03 > 0.05/2 stops the procedure, so 0.04 (<= 0.05) is not
    assert.deepEqual(holmReject([0.04, 0.01, 0.03, 0.013], 0.05), [false, true, false, true]);
    assert.deepEqual(holmReject([0.04, 0.01, 0.02, 0.013], 0.05), [true, true, true, true]);
    assert.deepEqual(holmReject([0.001, 0.3, 0.02], 0.05), [true, false, true]);
    assert.deepEqual(holmReject([0.001, 0.3, 0.03], 0.05), [true, false, false]);
    assert.deepEqual(holmReject([0.05], 0.05), [true]);
    assert.deepEqual(holmReject([], 0.05), []);
    assert.deepEqual(holmReject([NaN, 0.001], 0.05), [false, true]);
    assert.throws(() => holmReject([0.1], 1), /alpha/);
  });
});

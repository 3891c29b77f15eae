/**
 * Descriptive statistics of the kit, one definition each, in float64. Sums run left to right from 0
 * (Array.reduce order), the order every earlier copy used, so numbers do not depend on which module
 * asks. Tested against closed forms in test/stats.test.ts.
 */

/** A mean over n values (e.g. seeds) with its sample standard deviation (NaN for n = 1). */
export interface MeanSd { mean: number; sd: number; n: number }

/** Arithmetic mean; NaN for an empty array. */
export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Geometric mean, exp of the mean log (one log per value, summed as in mean); NaN for an empty array. */
export function geometricMean(xs: readonly number[]): number {
  return Math.exp(mean(xs.map(Math.log)));
}

/** Sample standard deviation (n − 1 denominator, two passes about the mean: stable for a small spread); NaN for fewer than two values. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) * (x - m), 0) / (xs.length - 1));
}

/** Mean and sample standard deviation of a non-empty array of numbers (sd NaN for a single value). */
export function meanSd(values: readonly number[]): MeanSd {
  if (!Array.isArray(values) || values.length === 0) throw new Error('meanSd: give a non-empty array of numbers.');
  values.forEach((v, i) => { if (typeof v !== 'number') throw new Error(`meanSd: values[${i}] is ${JSON.stringify(v)}, not a number.`); });
  return { mean: mean(values), sd: sampleSd(values), n: values.length };
}

/** Standard error of a mean, sd/√n (NaN when sd is, e.g. one value). */
export function standardError(m: Pick<MeanSd, 'sd' | 'n'>): number {
  return m.sd / Math.sqrt(m.n);
}

/**
 * Standard error of the difference of two independent means, √(sd_a²/n_a + sd_b²/n_b); a side
 * without a finite sd (one seed) contributes 0. Not √ of the squared standardErrors: sd²/n is the
 * order the verdicts were computed in, kept so their margins stay bit-identical.
 */
export function seOfDifference(a: MeanSd, b: MeanSd): number {
  const v = (g: MeanSd) => (Number.isFinite(g.sd) && g.n > 0 ? g.sd ** 2 / g.n : 0);
  return Math.sqrt(v(a) + v(b));
}

/** Quantile q in [0, 1] by linear interpolation between order statistics (q = 0.5: the median). */
export function quantile(xs: readonly number[], q: number): number {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error('quantile: give a non-empty array of numbers.');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}.`);
  const s = [...xs].sort((a, b) => a - b);
  const pos = q * (s.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * The upper middle value (the median for an odd count, the larger of the two middle values for an
 * even one), no interpolation: always one of the values, e.g. one measured run time, never a blend.
 */
export function upperMedian(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('upperMedian: give a non-empty array of numbers.');
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}

/** Pearson correlation; NaN when either side has no spread (or fewer than two points). */
export function pearson(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`pearson: x and y must have the same length, got ${x.length} and ${y.length}.`);
  const mx = mean(x), my = mean(y);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < x.length; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; syy += (y[i] - my) ** 2; }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Fractional ranks (1 = smallest; ties share their mean rank). */
export function fractionalRanks(v: readonly number[]): number[] {
  const idx = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Array<number>(v.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    for (let t = i; t <= j; t++) r[idx[t]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman rank correlation (Pearson on fractional ranks); null with fewer than 2 points or no spread. */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length || a.length < 2) return null;
  const r = pearson(fractionalRanks(a), fractionalRanks(b));
  return Number.isNaN(r) ? null : r;
}

/** One-sided exact Mann–Whitney (Wilcoxon rank-sum) test of two independent samples. */
export interface RankSumTest {
  /** Pairs (x_i, y_j) with x_i < y_j, plus half the tied pairs: n·m·P(X < Y) in the sample. */
  u: number;
  /** u / (n·m): the probability that a draw of x lies below a draw of y (ties count half). */
  probLess: number;
  /** P(rank sum of x ≤ observed) when the labels are exchangeable: small when x tends to be smaller. */
  pLess: number;
  /** P(rank sum of x ≥ observed): small when x tends to be larger. */
  pGreater: number;
  /** The smallest pLess these pooled values allow (x holding the lowest ranks): 1 / C(n + m, n) without ties. */
  minPLess: number;
}

/** Most additions the exact rank-sum distribution may take, (n + m)·n·(n + m)(n + m + 1) (50 against 50: 5·10⁷, about 0.1 s). */
const RANK_SUM_MAX_WORK = 1e8;

/**
 * Exact one-sided Mann–Whitney tests of x against y: the permutation distribution of x's rank sum
 * (mid-ranks for ties, so ties are exact too), counted by dynamic programming over doubled ranks.
 * No normal approximation: timing samples are small (5–50 repeats) and often tied at the clock's
 * resolution.
 */
export function mannWhitney(x: readonly number[], y: readonly number[]): RankSumTest {
  const n = x.length, m = y.length, N = n + m;
  if (n === 0 || m === 0) throw new Error(`mannWhitney: both samples need at least one value, got ${n} and ${m}.`);
  [...x, ...y].forEach((v, i) => { if (!Number.isFinite(v)) throw new Error(`mannWhitney: value ${i} is ${v}, not a finite number.`); });
  if (N * n * N * (N + 1) > RANK_SUM_MAX_WORK) throw new Error(`mannWhitney: samples of ${n} and ${m} are too large for the exact test (at most ${RANK_SUM_MAX_WORK} steps; 50 against 50 fits); give fewer repeats.`);
  const twice = fractionalRanks([...x, ...y]).map((r) => Math.round(2 * r));
  const observed = twice.slice(0, n).reduce((a, b) => a + b, 0);
  const maxSum = twice.reduce((a, b) => a + b, 0);
  // ways[k * (maxSum + 1) + s]: subsets of k of the items seen so far whose doubled ranks sum to s
  const W = maxSum + 1, ways = new Float64Array((n + 1) * W);
  ways[0] = 1;
  for (const r of twice) for (let k = n; k >= 1; k--) for (let s = maxSum; s >= r; s--) ways[k * W + s] += ways[(k - 1) * W + s - r];
  let total = 0, le = 0, ge = 0, lowest = -1;
  for (let s = 0; s <= maxSum; s++) {
    const c = ways[n * W + s];
    total += c;
    if (s <= observed) le += c;
    if (s >= observed) ge += c;
    if (lowest < 0 && c > 0) lowest = c;
  }
  const u = n * m + (n * (n + 1)) / 2 - observed / 2;
  return { u, probLess: u / (n * m), pLess: le / total, pGreater: ge / total, minPLess: lowest / total };
}

/**
 * Holm's step-down rejections at family-wise level alpha: sort the p-values, reject the i-th smallest
 * (0-based) while it is at most alpha / (count − i), stop at the first that is not. Returned in input order.
 */
export function holmReject(pValues: readonly number[], alpha: number): boolean[] {
  if (!(alpha > 0 && alpha < 1)) throw new Error(`holmReject: alpha must be in (0, 1), got ${alpha}.`);
  // a missing p-value (NaN) is never rejected and sorts last
  const p = pValues.map((v) => (Number.isNaN(v) ? Infinity : v));
  const order = p.map((_, i) => i).sort((a, b) => p[a] - p[b]);
  const out = p.map(() => false);
  for (let i = 0; i < order.length; i++) {
    if (!(p[order[i]] <= alpha / (order.length - i))) break;
    out[order[i]] = true;
  }
  return out;
}

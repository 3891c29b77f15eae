/** Seeded class-stratified subsets and splits of labelled data. */
import { Rng } from '../rng';

/**
 * Split `total` into per-class quotas proportional to `counts` that sum exactly to `total`
 * (largest-remainder method; ties go to the lower class index).
 */
export function proportionalQuotas(counts: number[], total: number): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  const exact = counts.map((c) => (n === 0 ? 0 : (total * c) / n));
  const q = exact.map(Math.floor);
  let left = total - q.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length) {
    const i = order[k][1];
    if (q[i] < counts[i]) { q[i]++; left--; }
  }
  return q;
}

/** Indices of each class, in ascending order. */
export function indicesByClass(y: Int32Array, numClasses: number): number[][] {
  const by: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < y.length; i++) {
    const c = y[i];
    if (!(c >= 0 && c < numClasses)) throw new Error(`label ${c} at index ${i} is outside 0..${numClasses - 1}`);
    by[c].push(i);
  }
  return by;
}

/**
 * Seeded class-stratified subset of `limit` of the examples labelled `y`: per-class quotas
 * proportional to the class counts (largest remainder), each class's members drawn by a seeded
 * shuffle. Returned in ascending index order (the file's order), so a subset of a subset is stable.
 */
export function stratifiedSubset(y: Int32Array, numClasses: number, limit: number, rng: Rng): Int32Array {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`subset limit must be a positive integer, got ${limit}`);
  if (limit >= y.length) return Int32Array.from({ length: y.length }, (_, i) => i);
  const by = indicesByClass(y, numClasses);
  const q = proportionalQuotas(by.map((b) => b.length), limit);
  const out: number[] = [];
  by.forEach((members, c) => {
    const r = rng.fork(`class${c}`);
    const a = Int32Array.from(members);
    r.shuffle(a);
    for (let k = 0; k < q[c]; k++) out.push(a[k]);
  });
  return Int32Array.from(out.sort((a, b) => a - b));
}

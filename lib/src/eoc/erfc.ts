/**
 * Complementary error function and its inverse in float64 (JS has neither).
 * erfc: for |x| < 1.5, 1 − erf(x) with the all-positive series erf(x) = 2/√π·e^{−x²}·Σ 2^n x^{2n+1}/(2n+1)!!;
 * for x ≥ 1.5, the Laplace continued fraction (modified Lentz). e^{−x²} is evaluated with the
 * x = xh + xl split so its relative error does not grow like x²·eps. Relative error ≲ 1e-15.
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const SQRT_PI = Math.sqrt(Math.PI);

/** e^{−x²} to ~1 ulp: xh has 4 fractional bits, so xh² is exact; the remainder goes in a second exp. */
function expMinusSquare(x: number): number {
  const xh = Math.round(x * 16) / 16;
  const del = (x - xh) * (x + xh);
  return Math.exp(-xh * xh) * Math.exp(-del);
}

/** erf(x) for |x| < ~3 by the positive-term series (no cancellation). */
function erfSeries(x: number): number {
  const x2 = 2 * x * x;
  let term = x, sum = x;
  for (let n = 1; n < 500; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return TWO_OVER_SQRT_PI * expMinusSquare(x) * sum;
}

/** erfc(x) for x ≥ 1.5: e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))). */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x, C = x, D = 0;
  for (let k = 1; k < 5000; k++) {
    const a = k / 2;
    D = x + a * D; if (D === 0) D = tiny; D = 1 / D;
    C = x + a / C; if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return expMinusSquare(x) / (SQRT_PI * f);
}

/** Complementary error function erfc(x) = 1 − erf(x), float64, relative error ≲ 1e-15 (underflows to 0 past x ≈ 26.5). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 1.5) return 1 - erfSeries(x);
  if (x > 27.3) return 0;
  return erfcContinuedFraction(x);
}

/** Error function erf(x) = 1 − erfc(x) (series near 0, so small |x| keep full relative precision). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) < 1.5) return erfSeries(x);
  return x > 0 ? 1 - erfc(x) : erfc(-x) - 1;
}

/**
 * Inverse of erfc on (0, 2): the x with erfc(x) = y. Newton on ln erfc (nearly quadratic, so Newton
 * is well-behaved even for tiny y), safeguarded by a bisection bracket. erfcinv(0) = +∞, erfcinv(2) = −∞.
 */
export function erfcinv(y: number): number {
  if (!(y >= 0 && y <= 2)) throw new Error(`erfcinv: argument must lie in [0, 2], got ${y}.`);
  if (y === 0) return Infinity;
  if (y === 2) return -Infinity;
  if (y === 1) return 0;
  if (y > 1) return -erfcinv(2 - y);
  // y in (0, 1): root in (0, 27.3)
  let lo = 0, hi = 27.3;
  const logY = Math.log(y);
  // starting point from the leading asymptotic erfc(x) ≈ e^{−x²}/(x√π), clamped into the bracket
  let x = Math.min(hi, Math.max(1e-3, Math.sqrt(Math.max(0, -Math.log(y * SQRT_PI)))));
  for (let it = 0; it < 200; it++) {
    const e = erfc(x);
    if (e > y) lo = x; else if (e < y) hi = x; else return x;
    // d/dx ln erfc(x) = −(2/√π) e^{−x²} / erfc(x)
    const g = Math.log(e) - logY;
    const dg = -(TWO_OVER_SQRT_PI * expMinusSquare(x)) / e;
    let next = x - g / dg;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - x) <= 2e-16 * Math.max(1, Math.abs(x))) return next;
    x = next;
  }
  return x;
}

/**
 * Expectations under a standard normal, in float64 (TF.js tensors are float32 only).
 *
 * Two rules:
 * - Gauss–Hermite (`gaussHermite`, `expectNormal`, `expectNormal2`): exact for polynomials of
 *   degree < 2n, spectrally accurate for smooth integrands of moderate width. Nodes by Sturm-sequence
 *   bisection on the Jacobi matrix (robust at any order), weights as Christoffel numbers.
 * - Composite Gauss–Legendre panels on [-zMax, zMax] (`expectNormalPanels`): panel edges can be put
 *   on kinks (ReLU, ELU at 0) and panels narrowed for sharp integrands (tanh at large q), where
 *   Gauss–Hermite converges only algebraically (ELU: error ~1e-3 at 160 nodes).
 */

/** Rule for E[f(Z)] ≈ Σ_k weights[k]·f(nodes[k]), Z ~ N(0,1); the weights sum to 1 (up to the truncated tails). */
export interface NormalRule {
  readonly n: number;
  readonly nodes: Float64Array;
  readonly weights: Float64Array;
}

export const DEFAULT_HERMITE_NODES = 160;
export const MAX_HERMITE_NODES = 1000;

const hermiteCache = new Map<number, NormalRule>();

/** Number of eigenvalues below x of the probabilists' Hermite Jacobi matrix (diag 0, off-diag √k). */
function sturmCount(x: number, n: number): number {
  let count = 0, d = 1;
  for (let i = 0; i < n; i++) {
    d = -x - (i === 0 ? 0 : i / d);
    if (d === 0) d = -1e-300; // perturb past an exact zero pivot; the count is unaffected
    if (d < 0) count++;
  }
  return count;
}

/** The n-node Gauss–Hermite rule for N(0,1) (probabilists' form: nodes z_k, weights summing to 1). */
export function gaussHermite(n = DEFAULT_HERMITE_NODES): NormalRule {
  if (!Number.isInteger(n) || n < 1 || n > MAX_HERMITE_NODES) {
    throw new Error(`Gauss–Hermite order must be an integer in [1, ${MAX_HERMITE_NODES}], got ${n}; the default is ${DEFAULT_HERMITE_NODES}.`);
  }
  const hit = hermiteCache.get(n);
  if (hit) return hit;
  const nodes = new Float64Array(n), weights = new Float64Array(n);
  const bound = 2 * Math.sqrt(n) + 1; // Gershgorin: all eigenvalues lie in (-bound, bound)
  const half = n >> 1;
  // Positive roots by bisection (the k-th largest root r has exactly n-1-k eigenvalues above it),
  // mirrored so the rule is exactly symmetric.
  for (let k = 0; k < half; k++) {
    const idx = n - 1 - k; // ascending index of this root
    let lo = 0, hi = bound;
    for (;;) {
      const mid = 0.5 * (lo + hi);
      if (mid <= lo || mid >= hi) break;
      if (sturmCount(mid, n) > idx) hi = mid; else lo = mid;
    }
    nodes[idx] = 0.5 * (lo + hi);
    nodes[k] = -nodes[idx];
  }
  if (n % 2 === 1) nodes[half] = 0;
  // Christoffel numbers w_k = 1 / Σ_j p_j(z_k)², p_j orthonormal; rescaled to avoid overflow far out.
  const SCALE = 1e100, LOG_SCALE = Math.log(SCALE);
  for (let k = 0; k < n; k++) {
    const z = nodes[k];
    let pPrev = 0, p = 1, sum = 1, exps = 0;
    for (let j = 1; j < n; j++) {
      const next = (z * p - Math.sqrt(j - 1) * pPrev) / Math.sqrt(j);
      pPrev = p; p = next; sum += p * p;
      if (Math.abs(p) > SCALE) { p /= SCALE; pPrev /= SCALE; sum /= SCALE * SCALE; exps++; }
    }
    weights[k] = Math.exp(-Math.log(sum) - 2 * exps * LOG_SCALE);
  }
  const rule: NormalRule = { n, nodes, weights };
  hermiteCache.set(n, rule);
  return rule;
}

/** E[f(Z)], Z ~ N(0,1), by n-node Gauss–Hermite. */
export function expectNormal(f: (z: number) => number, n = DEFAULT_HERMITE_NODES): number {
  return applyRule(gaussHermite(n), f);
}

/** E[f(Z1, Z2)] for independent Z1, Z2 ~ N(0,1), by the n×n tensor-product Gauss–Hermite rule. */
export function expectNormal2(f: (z1: number, z2: number) => number, n = DEFAULT_HERMITE_NODES): number {
  const { nodes, weights } = gaussHermite(n);
  let s = 0;
  for (let i = 0; i < nodes.length; i++) {
    const z1 = nodes[i];
    let inner = 0;
    for (let j = 0; j < nodes.length; j++) inner += weights[j] * f(z1, nodes[j]);
    s += weights[i] * inner;
  }
  return s;
}

export function applyRule(rule: NormalRule, f: (z: number) => number): number {
  const { nodes, weights } = rule;
  let s = 0;
  for (let i = 0; i < nodes.length; i++) s += weights[i] * f(nodes[i]);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Composite Gauss–Legendre panels

const legendreCache = new Map<number, { x: Float64Array; w: Float64Array }>();

/** m-point Gauss–Legendre nodes/weights on [-1, 1] (Newton on the three-term recurrence). */
export function gaussLegendre(m: number): { x: Float64Array; w: Float64Array } {
  if (!Number.isInteger(m) || m < 1 || m > 200) throw new Error(`Gauss–Legendre order must be an integer in [1, 200], got ${m}.`);
  const hit = legendreCache.get(m);
  if (hit) return hit;
  const x = new Float64Array(m), w = new Float64Array(m);
  for (let i = 0; i < Math.ceil(m / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (m + 0.5)), dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1, p1 = z;
      for (let j = 2; j <= m; j++) { const p2 = ((2 * j - 1) * z * p1 - (j - 1) * p0) / j; p0 = p1; p1 = p2; }
      if (m === 1) { p1 = z; p0 = 1; }
      dp = (m * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    // recompute the derivative at the converged root for the weight
    let p0 = 1, p1 = z;
    for (let j = 2; j <= m; j++) { const p2 = ((2 * j - 1) * z * p1 - (j - 1) * p0) / j; p0 = p1; p1 = p2; }
    dp = m === 1 ? 1 : (m * (z * p1 - p0)) / (z * z - 1);
    x[i] = -z; x[m - 1 - i] = z;
    w[i] = w[m - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  if (m % 2 === 1) x[(m - 1) / 2] = 0;
  const rule = { x, w };
  legendreCache.set(m, rule);
  return rule;
}

export interface PanelOptions {
  /** z values where the integrand is not smooth; they become panel edges. */
  breaks?: readonly number[];
  /** Maximal panel width in z (default 0.5); narrow it for integrands varying faster than N(0,1). */
  panelWidth?: number;
  /** Gauss–Legendre points per panel (default 20). */
  order?: number;
  /** Integration range [-zMax, zMax] (default 12; the N(0,1) mass outside is 3.6e-33). */
  zMax?: number;
}

const MAX_PANELS = 20000;
const panelCache = new Map<string, NormalRule>();

/** Composite Gauss–Legendre rule for N(0,1) on [-zMax, zMax], panel edges at `breaks` (cached). */
export function normalPanelRule(opts: PanelOptions = {}): NormalRule {
  const key = `${opts.panelWidth ?? 0.5}|${opts.order ?? 20}|${opts.zMax ?? 12}|${(opts.breaks ?? []).join(',')}`;
  const hit = panelCache.get(key);
  if (hit) return hit;
  const rule = buildPanelRule(opts);
  if (panelCache.size > 256) panelCache.clear(); // keys vary continuously with q; keep the cache bounded
  panelCache.set(key, rule);
  return rule;
}

/** As `normalPanelRule`, uncached (for rules used once, e.g. inner rules of a 2-D integral). */
export function buildPanelRule(opts: PanelOptions = {}): NormalRule {
  const width = opts.panelWidth ?? 0.5, order = opts.order ?? 20, zMax = opts.zMax ?? 12;
  if (!(width > 0) || !(zMax > 0)) throw new Error(`normalPanelRule: panelWidth and zMax must be > 0, got ${width} and ${zMax}.`);
  const breaks = (opts.breaks ?? []).filter((b) => Number.isFinite(b) && Math.abs(b) < zMax);
  const edges = [-zMax, ...breaks, zMax].sort((a, b) => a - b);
  const cuts: number[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const a = edges[i], b = edges[i + 1];
    if (b - a <= 0) continue;
    const k = Math.max(1, Math.ceil((b - a) / width - 1e-9));
    for (let j = 0; j < k; j++) cuts.push(a + ((b - a) * j) / k, a + ((b - a) * (j + 1)) / k);
  }
  const panels = cuts.length / 2;
  if (panels > MAX_PANELS) throw new Error(`normalPanelRule: ${panels} panels requested (panelWidth ${width}); use panelWidth ≥ ${(2 * zMax) / MAX_PANELS}.`);
  const { x, w } = gaussLegendre(order);
  const nodes = new Float64Array(panels * order), weights = new Float64Array(panels * order);
  const c = 1 / Math.sqrt(2 * Math.PI);
  for (let p = 0; p < panels; p++) {
    const a = cuts[2 * p], b = cuts[2 * p + 1], mid = 0.5 * (a + b), hw = 0.5 * (b - a);
    for (let i = 0; i < order; i++) {
      const z = mid + hw * x[i];
      nodes[p * order + i] = z;
      weights[p * order + i] = hw * w[i] * c * Math.exp(-0.5 * z * z);
    }
  }
  // The truncated tails weigh < 1e-32; normalising removes the rounding of Σw ≈ 1 (so E[1] = 1 and
  // a symmetric rule gives E[1{Z>0}] = 1/2 to the last bit, e.g. ReLU's σ_w = √2 exactly).
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i];
  for (let i = 0; i < weights.length; i++) weights[i] /= total;
  return { n: nodes.length, nodes, weights };
}

/** E[f(Z)], Z ~ N(0,1), by composite Gauss–Legendre panels (see `PanelOptions`). */
export function expectNormalPanels(f: (z: number) => number, opts: PanelOptions = {}): number {
  return applyRule(normalPanelRule(opts), f);
}

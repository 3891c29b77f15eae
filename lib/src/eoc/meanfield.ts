/**
 * Mean-field signal propagation in wide random nets (Poole et al. 2016, Schoenholz et al. 2017;
 * Hayou et al. 2021 §2.2–2.3): variance map and its fixed point q*, χ = σ_w² E[φ'(√q* Z)²],
 * the Edge of Chaos (χ = 1), the correlation map, and phase classification. All in float64.
 */
import { ScalarActivation, resolveActivation } from './activations';
import { NormalRule, applyRule, buildPanelRule, gaussHermite, normalPanelRule, DEFAULT_HERMITE_NODES } from './quadrature';

export type ActivationLike = string | ScalarActivation;
export type Phase = 'ordered' | 'eoc' | 'chaotic';

export interface QuadratureOptions {
  /**
   * 'panels' (default): composite Gauss–Legendre with panel edges on the activation's kinks and
   * panels narrowed as 1/√q — accurate to ~1e-15 for tanh, ReLU, ELU at any q.
   * 'hermite': plain Gauss–Hermite with `nodes` nodes — fine for smooth φ at q ≲ 2, but only
   * algebraically convergent on kinks (ELU: ~3e-3 relative error at 160 nodes).
   */
  rule?: 'panels' | 'hermite';
  /** Gauss–Hermite order for rule 'hermite' (default 160; 2-D uses `nodes2d`, default 80). */
  nodes?: number;
  nodes2d?: number;
  /** Gauss–Legendre points per panel for rule 'panels' (default 20 in 1-D, 12 per axis in 2-D). */
  order?: number;
  order2d?: number;
}

export interface MeanFieldOptions extends QuadratureOptions {
  /** Fixed-point tolerance on |Δq| relative to max(1, q) (default 1e-12, as in §2.3). */
  tol?: number;
  /** Iteration cap (default 10000). */
  maxIter?: number;
  /** Starting variance for the iterations, and q* where every q is a fixed point (ReLU EOC). Default 1. */
  q0?: number;
}

export interface EocPoint {
  activation: string;
  sigmaB: number;
  sigmaW: number;
  qStar: number;
  chi: number;
  note?: string;
}

export interface PhaseReport {
  activation: string;
  sigmaB: number;
  sigmaW: number;
  /** null when q^l grows without bound (no finite fixed point). */
  qStar: number | null;
  chi: number;
  phase: Phase;
  note?: string;
}

/** Thrown when the variance map has no finite attracting fixed point (q^l grows without bound). */
export class VarianceDivergenceError extends Error {
  constructor(message: string, readonly lastQ: number) {
    super(message);
    this.name = 'VarianceDivergenceError';
  }
}

// ---------------------------------------------------------------------------------------------
// Validation and quadrature plumbing

function checkSigmaB(sigmaB: number): void {
  if (!(Number.isFinite(sigmaB) && sigmaB >= 0)) throw new Error(`sigma_b must be a finite number ≥ 0, got ${sigmaB}.`);
}
function checkSigmaW(sigmaW: number): void {
  if (!(Number.isFinite(sigmaW) && sigmaW > 0)) throw new Error(`sigma_w must be a finite number > 0, got ${sigmaW}.`);
}
function checkQ(q: number, what = 'q'): void {
  if (!(Number.isFinite(q) && q >= 0)) throw new Error(`${what} must be a finite variance ≥ 0, got ${q}.`);
}
function checkDepth(depth: number): void {
  if (!(Number.isInteger(depth) && depth >= 0)) throw new Error(`depth must be an integer ≥ 0, got ${depth}.`);
}

/** Panel width in z: the integrand φ(√q z) varies on the scale 1/√q (floor keeps huge q affordable). */
function panelWidthFor(scale: number): number {
  return Math.max(0.5 / Math.max(1, scale), 0.005);
}

function ruleFor(act: ScalarActivation, q: number, opts: QuadratureOptions): NormalRule {
  if (opts.rule === 'hermite') return gaussHermite(opts.nodes ?? DEFAULT_HERMITE_NODES);
  if (opts.rule !== undefined && opts.rule !== 'panels') throw new Error(`Unknown quadrature rule '${opts.rule}'; use 'panels' or 'hermite'.`);
  const s = Math.sqrt(q);
  return normalPanelRule({ breaks: (act.kinks ?? []).map((k) => k / s), panelWidth: panelWidthFor(s), order: opts.order ?? 20 });
}

/** E[g(√q Z)], Z ~ N(0,1), with a rule suited to the activation's kinks and to q. */
export function gaussianExpectation(act: ActivationLike, q: number, g: (x: number) => number, opts: QuadratureOptions = {}): number {
  checkQ(q);
  if (q === 0) return g(0);
  const a = resolveActivation(act), s = Math.sqrt(q);
  return applyRule(ruleFor(a, q, opts), (z) => g(s * z));
}

/**
 * E[g(u1, u2)] for (u1, u2) jointly normal with variances q and correlation c:
 * u1 = √q Z1, u2 = √q (c Z1 + √(1−c²) Z2). With panels, the inner rule gets an edge where u2
 * crosses each kink, so ReLU/ELU stay accurate.
 */
export function gaussianExpectation2(
  act: ActivationLike, q: number, c: number, g: (u1: number, u2: number) => number, opts: QuadratureOptions = {},
): number {
  checkQ(q);
  if (!(c >= -1 - 1e-12 && c <= 1 + 1e-12)) throw new Error(`correlation c must lie in [-1, 1], got ${c}.`);
  const a = resolveActivation(act);
  c = Math.min(1, Math.max(-1, c));
  if (q === 0) return g(0, 0);
  const sq = Math.sqrt(q), s = Math.sqrt(Math.max(0, 1 - c * c)), inner = sq * s;
  if (opts.rule === 'hermite') {
    const { nodes, weights } = gaussHermite(opts.nodes2d ?? 80);
    let tot = 0;
    for (let i = 0; i < nodes.length; i++) {
      const u1 = sq * nodes[i], m = sq * c * nodes[i];
      let acc = 0;
      for (let j = 0; j < nodes.length; j++) acc += weights[j] * g(u1, m + inner * nodes[j]);
      tot += weights[i] * acc;
    }
    return tot;
  }
  const order = opts.order2d ?? 12;
  const outer = normalPanelRule({ breaks: (a.kinks ?? []).map((k) => k / sq), panelWidth: panelWidthFor(sq), order });
  const kinks = a.kinks ?? [];
  const sharedInner = kinks.length === 0 && inner > 0 ? normalPanelRule({ panelWidth: panelWidthFor(inner), order }) : null;
  let tot = 0;
  for (let i = 0; i < outer.n; i++) {
    const w1 = outer.weights[i];
    if (w1 === 0) continue;
    const u1 = sq * outer.nodes[i], m = sq * c * outer.nodes[i];
    let acc: number;
    if (inner === 0) acc = g(u1, m); // c = ±1: u2 is a function of u1
    else {
      const rule = sharedInner ?? buildPanelRule({ breaks: kinks.map((k) => (k - m) / inner), panelWidth: panelWidthFor(inner), order });
      acc = 0;
      for (let j = 0; j < rule.n; j++) acc += rule.weights[j] * g(u1, m + inner * rule.nodes[j]);
    }
    tot += w1 * acc;
  }
  return tot;
}

// ---------------------------------------------------------------------------------------------
// Variance map and its fixed point

/** q -> σ_b² + σ_w² E[φ(√q Z)²]. */
export function varianceMap(activation: ActivationLike, sigmaB: number, sigmaW: number, q: number, opts: QuadratureOptions = {}): number {
  checkSigmaB(sigmaB); checkSigmaW(sigmaW); checkQ(q);
  const a = resolveActivation(activation);
  return sigmaB * sigmaB + sigmaW * sigmaW * gaussianExpectation(a, q, (x) => { const p = a.phi(x); return p * p; }, opts);
}

/** q^0, q^1, …, q^depth under the variance map. */
export function varianceThroughDepth(
  activation: ActivationLike, sigmaB: number, sigmaW: number, q0: number, depth: number, opts: QuadratureOptions = {},
): number[] {
  checkDepth(depth); checkQ(q0, 'q0');
  const out = [q0];
  for (let l = 0; l < depth; l++) out.push(varianceMap(activation, sigmaB, sigmaW, out[l], opts));
  return out;
}

/**
 * Fixed-point iteration x <- map(x), with Aitken extrapolation whenever the observed contraction
 * ratio is in (0, 1) (so it only accelerates towards attracting fixed points; needed when the
 * slope is close to 1, e.g. small σ_b). Throws VarianceDivergenceError past `limit`.
 */
function solveFixedPoint(map: (x: number) => number, x0: number, tol: number, maxIter: number, limit: number, what: string): number {
  let x = x0;
  const step = (v: number): number => {
    const y = map(v);
    if (!Number.isFinite(y) || y > limit) throw new VarianceDivergenceError(`${what}: q^l grows without bound (q = ${y} after starting from ${x0}); there is no finite fixed point (exploding, chaotic side).`, v);
    return y;
  };
  for (let it = 0; it < maxIter; it++) {
    const x1 = step(x), d1 = x1 - x;
    if (Math.abs(d1) <= tol * Math.max(1, Math.abs(x))) return x1;
    const x2 = step(x1), d2 = x2 - x1;
    if (Math.abs(d2) <= tol * Math.max(1, Math.abs(x1))) return x2;
    const r = d2 / d1;
    if (r > 0 && r < 1) {
      const xa = x + d1 / (1 - r);
      x = Number.isFinite(xa) && xa >= 0 ? xa : x2;
    } else x = x2;
  }
  const y = map(x);
  if (y > x) throw new VarianceDivergenceError(`${what}: no fixed point after ${maxIter} iterations; q^l keeps growing (q = ${x}), so there is no finite fixed point.`, x);
  throw new Error(`${what}: did not converge in ${maxIter} iterations (q = ${x}, last change ${y - x}); raise maxIter or loosen tol.`);
}

/** x -> f(x)². */
function squared(f: (x: number) => number): (x: number) => number {
  return (x) => { const v = f(x); return v * v; };
}

/** The fixed point q* of the variance map. Throws VarianceDivergenceError if q^l diverges. */
export function varianceFixedPoint(activation: ActivationLike, sigmaB: number, sigmaW: number, opts: MeanFieldOptions = {}): number {
  checkSigmaB(sigmaB); checkSigmaW(sigmaW);
  const a = resolveActivation(activation);
  const q0 = opts.q0 ?? 1;
  checkQ(q0, 'q0');
  const label = `variance map (${a.name}, sigma_b = ${sigmaB}, sigma_w = ${sigmaW})`;
  if (a.homogeneous) {
    // φ(√q z) = √q φ(z): the map is affine, q -> σ_b² + k q with k = σ_w² E[φ(Z)²].
    const k = sigmaW * sigmaW * gaussianExpectation(a, 1, squared(a.phi), opts);
    const b = sigmaB * sigmaB;
    if (Math.abs(k - 1) <= 1e-12) {
      if (b === 0) return q0; // every q is a fixed point
      throw new VarianceDivergenceError(`${label}: slope σ_w²E[φ(Z)²] = 1, so q^l grows by sigma_b² = ${b} every layer; no fixed point for sigma_b > 0.`, q0);
    }
    if (k < 1) return b / (1 - k);
    if (b === 0 && q0 === 0) return 0;
    throw new VarianceDivergenceError(`${label}: slope σ_w²E[φ(Z)²] = ${k} > 1, so q^l grows geometrically; no finite fixed point. Lower sigma_w below ${sigmaW / Math.sqrt(k)}.`, q0);
  }
  const limit = 1e6 * (1 + sigmaB * sigmaB + sigmaW * sigmaW + q0);
  return solveFixedPoint((q) => varianceMap(a, sigmaB, sigmaW, q, opts), q0, opts.tol ?? 1e-12, opts.maxIter ?? 10000, limit, label);
}

/** σ_w² E[φ'(√q Z)²] at a given q (q-independent for homogeneous activations). */
export function chiAt(activation: ActivationLike, sigmaW: number, q: number, opts: QuadratureOptions = {}): number {
  checkSigmaW(sigmaW); checkQ(q);
  const a = resolveActivation(activation);
  return sigmaW * sigmaW * gaussianExpectation(a, a.homogeneous ? 1 : q, squared(a.dphi), opts);
}

/** χ(σ_b, σ_w) = σ_w² E[φ'(√q* Z)²] at the variance fixed point. */
export function meanFieldChi(activation: ActivationLike, sigmaB: number, sigmaW: number, opts: MeanFieldOptions = {}): number {
  return chiAt(activation, sigmaW, varianceFixedPoint(activation, sigmaB, sigmaW, opts), opts);
}

// ---------------------------------------------------------------------------------------------
// Edge of Chaos

/**
 * σ_w on the Edge of Chaos for a given σ_b (§2.3): iterate q <- σ_b² + E[φ(√q Z)²]/E[φ'(√q Z)²]
 * to q*, then σ_w = 1/√E[φ'(√q* Z)²]; this makes both q* = σ_b² + σ_w²E[φ²] and χ = 1 hold.
 * - ReLU/linear (homogeneous): χ = σ_w²E[φ'(Z)²] for every q, so σ_w = √2 (ReLU) / 1 (linear);
 *   the EOC exists only at σ_b = 0, where every q is a fixed point and `qStar` = opts.q0 (default 1).
 *   σ_b > 0 throws (q^l would grow by σ_b² per layer).
 * - σ_b = 0 with φ(0) = 0 (tanh, ELU): the iteration decays to q* = 0, and σ_w = 1/|φ'(0)|.
 */
export function eocSigmaW(activation: ActivationLike, sigmaB: number, opts: MeanFieldOptions = {}): EocPoint {
  checkSigmaB(sigmaB);
  const a = resolveActivation(activation);
  const q0 = opts.q0 ?? 1;
  checkQ(q0, 'q0');
  const dphi2 = squared(a.dphi), phi2 = squared(a.phi);
  if (a.homogeneous) {
    if (sigmaB > 0) {
      throw new Error(`${a.name} has no Edge of Chaos for sigma_b = ${sigmaB} > 0: chi = 1 forces sigma_w = ${(1 / Math.sqrt(gaussianExpectation(a, 1, dphi2, opts))).toPrecision(6)}, where q^l grows by sigma_b² every layer. Use sigma_b = 0 (the authors' code uses sigma_b² = 1e-16).`);
    }
    const d = gaussianExpectation(a, 1, dphi2, opts), m = gaussianExpectation(a, 1, phi2, opts);
    const sigmaW = 1 / Math.sqrt(d);
    if (Math.abs(m / d - 1) > 1e-9) {
      throw new Error(`${a.name}: at chi = 1 the variance map has slope E[φ²]/E[φ'²] = ${m / d} ≠ 1, so q* is 0 or ∞; no finite Edge-of-Chaos variance.`);
    }
    return { activation: a.name, sigmaB, sigmaW, qStar: q0, chi: sigmaW * sigmaW * d, note: `every q is a fixed point of the variance map here; qStar is the input variance q0 = ${q0}` };
  }
  const F = (q: number): number => {
    const d = gaussianExpectation(a, q, dphi2, opts);
    if (!(d > 0)) throw new Error(`${a.name}: E[φ'(√q Z)²] = ${d} at q = ${q}; the Edge of Chaos needs a non-vanishing derivative.`);
    return sigmaB * sigmaB + gaussianExpectation(a, q, phi2, opts) / d;
  };
  let qStar: number;
  let note: string | undefined;
  const d0 = a.dphi(0);
  if (sigmaB === 0 && a.phi(0) === 0 && d0 !== 0 && F(1e-4) < 1e-4) {
    qStar = 0; // decays to the zero-variance fixed point, where χ = σ_w² φ'(0)²
    note = 'sigma_b = 0 and phi(0) = 0: the EOC variance fixed point is q* = 0 (approached only polynomially in depth)';
  } else {
    qStar = solveFixedPoint(F, q0, opts.tol ?? 1e-12, opts.maxIter ?? 10000, 1e12, `EOC iteration (${a.name}, sigma_b = ${sigmaB})`);
  }
  const sigmaW = 1 / Math.sqrt(qStar === 0 ? d0 * d0 : gaussianExpectation(a, qStar, dphi2, opts));
  const chi = chiAt(a, sigmaW, qStar, opts);
  return note ? { activation: a.name, sigmaB, sigmaW, qStar, chi, note } : { activation: a.name, sigmaB, sigmaW, qStar, chi };
}

/** The EOC curve: one EocPoint per σ_b. */
export function eocCurve(activation: ActivationLike, sigmaBs: readonly number[], opts: MeanFieldOptions = {}): EocPoint[] {
  return sigmaBs.map((b) => eocSigmaW(activation, b, opts));
}

/** Ordered (χ < 1 − tol), EOC (|χ − 1| ≤ tol), chaotic (χ > 1 + tol); tol default 1e-6. */
export function classifyPhase(
  activation: ActivationLike, sigmaB: number, sigmaW: number, opts: MeanFieldOptions & { chiTol?: number } = {},
): PhaseReport {
  const a = resolveActivation(activation);
  const tol = opts.chiTol ?? 1e-6;
  if (!(tol >= 0)) throw new Error(`chiTol must be ≥ 0, got ${tol}.`);
  let qStar: number | null, chi: number, note: string | undefined;
  try {
    qStar = varianceFixedPoint(a, sigmaB, sigmaW, opts);
    chi = chiAt(a, sigmaW, qStar, opts);
  } catch (e) {
    if (!(e instanceof VarianceDivergenceError)) throw e;
    qStar = null;
    chi = chiAt(a, sigmaW, e.lastQ, opts);
    note = `q^l grows without bound (no finite fixed point); chi evaluated at q = ${e.lastQ}`;
  }
  const phase: Phase = chi < 1 - tol ? 'ordered' : chi > 1 + tol ? 'chaotic' : 'eoc';
  const out: PhaseReport = { activation: a.name, sigmaB, sigmaW, qStar, chi, phase };
  if (note) out.note = note;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Correlation map

/**
 * c -> (σ_b² + σ_w² E[φ(u1)φ(u2)]) / (σ_b² + σ_w² E[φ(u1)²]), (u1, u2) with variances q and
 * correlation c; q defaults to q* (pass opts.qStar to skip recomputing it), where the denominator
 * is q* and this is the §2.2 map. Using the same rule in both makes c = 1 map to 1 to rounding.
 * Homogeneous φ with σ_b = 0 (ReLU): the map does not depend on q, so no fixed point is needed.
 */
export function correlationMap(
  activation: ActivationLike, sigmaB: number, sigmaW: number, c: number, opts: MeanFieldOptions & { qStar?: number } = {},
): number {
  checkSigmaB(sigmaB); checkSigmaW(sigmaW);
  const a = resolveActivation(activation);
  const q = opts.qStar ?? (a.homogeneous && sigmaB === 0 ? 1 : varianceFixedPoint(a, sigmaB, sigmaW, opts));
  checkQ(q, 'qStar');
  if (q === 0 && !a.homogeneous) throw new Error(`correlation map is 0/0 at q* = 0 (${a.name}, sigma_b = ${sigmaB}, sigma_w = ${sigmaW}); use sigma_b > 0.`);
  const qq = q === 0 ? 1 : q; // homogeneous with q* = 0: the map is scale-free
  const b2 = sigmaB * sigmaB, w2 = sigmaW * sigmaW;
  const cross = gaussianExpectation2(a, qq, c, (u1, u2) => a.phi(u1) * a.phi(u2), opts);
  const diag = gaussianExpectation2(a, qq, 1, (u1) => { const p = a.phi(u1); return p * p; }, opts);
  return (b2 + w2 * cross) / (b2 + w2 * diag);
}

/** c^0 = c0, c^1, …, c^depth under the correlation map at q* (variances assumed converged). */
export function correlationThroughDepth(
  activation: ActivationLike, sigmaB: number, sigmaW: number, c0: number, depth: number, opts: MeanFieldOptions & { qStar?: number } = {},
): number[] {
  checkDepth(depth);
  const a = resolveActivation(activation);
  const qStar = opts.qStar ?? (a.homogeneous && sigmaB === 0 ? 1 : varianceFixedPoint(a, sigmaB, sigmaW, opts));
  const out = [c0];
  for (let l = 0; l < depth; l++) out.push(Math.min(1, Math.max(-1, correlationMap(a, sigmaB, sigmaW, out[l], { ...opts, qStar }))));
  return out;
}

/**
 * Heuristic (derived, §2.6): backpropagated squared gradients scale by χ per layer, so the
 * expected squared gradient of layer l relative to the last layer is χ^(L−l). Returns
 * [χ^(L−1), χ^(L−2), …, χ^0] for l = 1..L.
 */
export function gradientScaleByLayer(chi: number, depth: number): number[] {
  if (!(Number.isFinite(chi) && chi >= 0)) throw new Error(`chi must be a finite number ≥ 0, got ${chi}.`);
  if (!(Number.isInteger(depth) && depth >= 1)) throw new Error(`depth must be an integer ≥ 1, got ${depth}.`);
  return Array.from({ length: depth }, (_, i) => Math.pow(chi, depth - 1 - i));
}

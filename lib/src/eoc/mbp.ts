/**
 * Magnitude-based pruning (MBP) at init (Hayou et al. §2.5, derived): with W^l_ij ~ N(0, σ_w²/v_l),
 * |W^l_ij| is half-normal and a global threshold t keeps the fraction k_l(t) = erfc(t √v_l / (σ_w √2))
 * of layer l. σ_w only rescales t, so every prediction in sparsity terms is independent of σ_w (of
 * the phase); only the fan-ins v_l and sizes M_l matter.
 *
 * Two laws of the critical sparsity (where the first layer empties): in expectation (mbpPrediction:
 * the threshold at which some layer keeps one weight in expectation), and exactly (mbpThresholdCdf:
 * the first layer to empty is the one whose largest |W| is smallest; the maximum of M iid
 * half-normals has CDF erf(.)^M), which gives a prediction interval (mbpCriticalInterval).
 */
import { erfc, erfcinv } from './erfc';

/** One prunable layer: fan-in v_l (std of its init is σ_w/√v_l) and number of weights M_l. */
export interface MbpLayer {
  fanIn: number;
  size: number;
}

export interface MbpPrediction {
  /** t_l: the threshold at which layer l keeps one weight in expectation (M_l k_l(t_l) = 1). */
  collapseThresholds: number[];
  /** t* = min_l t_l. */
  threshold: number;
  /** Index of the layer attaining t* (the one that empties first). */
  firstEmptyLayer: number;
  /** Predicted critical sparsity s(t*). */
  criticalSparsity: number;
  /** k_l(t*) for every layer. */
  keptFractions: number[];
}

function checkLayers(layers: readonly MbpLayer[]): void {
  if (!Array.isArray(layers) || layers.length === 0) throw new Error('MBP: give at least one layer {fanIn, size}.');
  layers.forEach((l, i) => {
    if (!(Number.isInteger(l.fanIn) && l.fanIn > 0)) throw new Error(`MBP: layer ${i} fanIn must be a positive integer, got ${l.fanIn}.`);
    if (!(Number.isInteger(l.size) && l.size > 0)) throw new Error(`MBP: layer ${i} size (number of weights) must be a positive integer, got ${l.size}.`);
  });
}
function checkSigmaW(sigmaW: number): void {
  if (!(Number.isFinite(sigmaW) && sigmaW > 0)) throw new Error(`MBP: sigma_w must be a finite number > 0, got ${sigmaW}.`);
}

/** Dense layers of an MLP with the given widths, e.g. [784, 100, 100, 10] -> 3 layers (biases not pruned). */
export function mlpLayers(widths: readonly number[]): MbpLayer[] {
  if (widths.length < 2) throw new Error(`mlpLayers: need at least two widths (input and output), got [${widths.join(', ')}].`);
  const out: MbpLayer[] = [];
  for (let i = 1; i < widths.length; i++) out.push({ fanIn: widths[i - 1], size: widths[i - 1] * widths[i] });
  checkLayers(out);
  return out;
}

/** k_l(t) = P(|W^l| ≥ t) for every layer. */
export function mbpKeptFractions(layers: readonly MbpLayer[], threshold: number, sigmaW: number): number[] {
  checkLayers(layers); checkSigmaW(sigmaW);
  if (!(threshold >= 0)) throw new Error(`MBP: threshold must be ≥ 0, got ${threshold}.`);
  return layers.map((l) => erfc((threshold * Math.sqrt(l.fanIn)) / (sigmaW * Math.SQRT2)));
}

/** Expected global sparsity s(t) = 1 − Σ M_l k_l(t) / Σ M_l. */
export function mbpSparsity(layers: readonly MbpLayer[], threshold: number, sigmaW: number): number {
  const k = mbpKeptFractions(layers, threshold, sigmaW);
  let kept = 0, total = 0;
  layers.forEach((l, i) => { kept += l.size * k[i]; total += l.size; });
  return 1 - kept / total;
}

/**
 * The global threshold t with s(t) = sparsity (bisection on t/σ_w, so the answer is exactly
 * proportional to σ_w), and the kept fraction of every layer there.
 */
export function mbpAtSparsity(layers: readonly MbpLayer[], sparsity: number, sigmaW: number): { threshold: number; keptFractions: number[] } {
  checkLayers(layers); checkSigmaW(sigmaW);
  if (!(sparsity >= 0 && sparsity < 1)) throw new Error(`MBP: sparsity must lie in [0, 1), got ${sparsity}.`);
  const s = (u: number): number => mbpSparsity(layers, u, 1);
  let lo = 0, hi = 1;
  while (s(hi) < sparsity) { hi *= 2; if (hi > 1e6) throw new Error(`MBP: sparsity ${sparsity} is not reachable in float64.`); }
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (s(mid) < sparsity) lo = mid; else hi = mid;
  }
  const u = 0.5 * (lo + hi);
  return { threshold: u * sigmaW, keptFractions: mbpKeptFractions(layers, u, 1) };
}

/** t_l = σ_w √(2/v_l) erfcinv(1/M_l): layer l keeps < 1 weight in expectation above it. */
export function mbpCollapseThresholds(layers: readonly MbpLayer[], sigmaW: number): number[] {
  checkLayers(layers); checkSigmaW(sigmaW);
  return layers.map((l) => sigmaW * Math.sqrt(2 / l.fanIn) * erfcinv(1 / l.size));
}

/** Predicted MBP critical sparsity s(t*), t* = min_l t_l, and the layer that empties first. */
export function mbpPrediction(layers: readonly MbpLayer[], sigmaW: number): MbpPrediction {
  const t = mbpCollapseThresholds(layers, sigmaW);
  let first = 0;
  for (let i = 1; i < t.length; i++) if (t[i] < t[first]) first = i;
  return {
    collapseThresholds: t,
    threshold: t[first],
    firstEmptyLayer: first,
    criticalSparsity: mbpSparsity(layers, t[first], sigmaW),
    keptFractions: mbpKeptFractions(layers, t[first], sigmaW),
  };
}

/**
 * P(T* ≤ t), T* = min_l max_j |W^l_j|: the global magnitude threshold at which the first layer
 * empties. Layer maxima are independent; the max of M iid |N(0, s²)| has CDF erf(t/(s √2))^M.
 */
export function mbpThresholdCdf(layers: readonly MbpLayer[], sigmaW: number, t: number): number {
  if (!(sigmaW > 0)) throw new Error(`mbpThresholdCdf: sigma_w must be > 0, got ${sigmaW}.`);
  if (!(t >= 0)) return 0;
  let logSurvive = 0; // log P(every layer max > t)
  for (const l of layers) {
    const logF = l.size * Math.log1p(-erfc((t * Math.sqrt(l.fanIn)) / (sigmaW * Math.SQRT2)));
    const surv = -Math.expm1(logF);
    if (surv <= 0) return 1;
    logSurvive += Math.log(surv);
  }
  return -Math.expm1(logSurvive);
}

/** The q-quantile of T* (bisection in float64). */
export function mbpThresholdQuantile(layers: readonly MbpLayer[], sigmaW: number, q: number): number {
  if (!(q > 0 && q < 1)) throw new Error(`mbpThresholdQuantile: q must be in (0, 1), got ${q}.`);
  const minFan = Math.min(...layers.map((l) => l.fanIn));
  let lo = 0, hi = (sigmaW * 40) / Math.sqrt(minFan);
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (mbpThresholdCdf(layers, sigmaW, mid) < q) lo = mid; else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** Central `level` prediction interval of the critical sparsity s(T*) (s is increasing in t). */
export function mbpCriticalInterval(layers: readonly MbpLayer[], sigmaW: number, level: number): { lo: number; hi: number } {
  if (!(level > 0 && level < 1)) throw new Error(`mbpCriticalInterval: level must be in (0, 1), got ${level}.`);
  const tLo = mbpThresholdQuantile(layers, sigmaW, (1 - level) / 2);
  const tHi = mbpThresholdQuantile(layers, sigmaW, (1 + level) / 2);
  return { lo: mbpSparsity(layers, tLo, sigmaW), hi: mbpSparsity(layers, tHi, sigmaW) };
}

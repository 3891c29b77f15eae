/**
 * Notebook 01's MBP theory (entry module layer-collapse.ts): expected kept fractions (eoc/mbp.ts)
 * plus the exact law of the collapse threshold, derived here: the first layer to empty is the one
 * whose largest |W| is smallest, and the maximum of M iid half-normals has CDF erf(.)^M, which
 * gives a prediction interval for the critical sparsity.
 */
import { erfc, MbpLayer, mbpAtSparsity, mbpPrediction, mbpSparsity, mlpLayers } from '../eoc';
import { ffnnWidths, TOLERANCES } from './layer-collapse-plan';

/**
 * P(T* <= t), T* = min_l max_j |W^l_j|: the global magnitude threshold at which the first layer
 * empties. Layer maxima are independent; max of M iid |N(0, s^2)| has CDF erf(t/(s sqrt 2))^M.
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

export interface MbpTheory {
  depth: number;
  /** Predicted s_cr from the expectation rule M_l k_l(t) = 1 (eoc/mbp.ts). */
  predicted: number;
  /** Layer predicted to empty first (0-based). */
  firstEmpty: number;
  /** Central `level` prediction interval of s_cr from the exact law of T*. */
  lo: number;
  hi: number;
  level: number;
  /** Expected kept fraction per layer at the plan's fixed sparsity. */
  keptAtFixed: number[];
}

/** MBP predictions for the study's FFNN (independent of sigma_w; computed at sigma_w = 1). */
export function mbpTheory(depth: number, width: number, fixedSparsity: number, level = TOLERANCES.mbpLevel): MbpTheory {
  const layers = mlpLayers(ffnnWidths(depth, width));
  const pred = mbpPrediction(layers, 1);
  const tLo = mbpThresholdQuantile(layers, 1, (1 - level) / 2);
  const tHi = mbpThresholdQuantile(layers, 1, (1 + level) / 2);
  return {
    depth, predicted: pred.criticalSparsity, firstEmpty: pred.firstEmptyLayer,
    lo: mbpSparsity(layers, tLo, 1), hi: mbpSparsity(layers, tHi, 1), level,
    keptAtFixed: mbpAtSparsity(layers, fixedSparsity, 1).keptFractions,
  };
}

/**
 * Notebook 01's MBP predictions (entry module layer-collapse.ts) for the study's FFNN: the laws
 * themselves (expected kept fractions, the exact law of the collapse threshold and its prediction
 * interval) are in eoc/mbp.ts; this file only applies them to the plan's widths and level.
 */
import { mbpAtSparsity, mbpCriticalInterval, mbpPrediction, mlpLayers } from '../eoc';
import { ffnnWidths, TOLERANCES } from './layer-collapse-plan';

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
  const { lo, hi } = mbpCriticalInterval(layers, 1, level);
  return {
    depth, predicted: pred.criticalSparsity, firstEmpty: pred.firstEmptyLayer, lo, hi, level,
    keptAtFixed: mbpAtSparsity(layers, fixedSparsity, 1).keptFractions,
  };
}

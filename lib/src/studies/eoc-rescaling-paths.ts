/**
 * Path statistics of notebook 02's §4 FFNN masks (eoc-rescaling.ts): nominal vs effective sparsity
 * and the units cut off from the input or the output, through the engine task 'eoc-rescaling-paths'
 * (extreme-paths.ts, cached).
 */
import { mean as avg } from '../stats';
import { pathStatsFor } from './extreme-paths';
import type { PathTaskConfig } from './extreme-paths';
import { armSpec, ffnnConfig } from './eoc-rescaling-plan';
import type { EocRescalingPlan } from './eoc-rescaling-plan';
import { text } from './eoc-rescaling-report';

/** The 'eoc-rescaling-paths' configs of extremePathStats: (method, sparsity) cells in order, seeds within. */
export function pathConfigs(p: EocRescalingPlan): PathTaskConfig[] {
  const e = p.extreme;
  return e.methods.flatMap((method) => e.sparsities.flatMap((sparsity) => p.seeds.map((seed) => ({
    model: ffnnConfig(e.depth, e.width, armSpec('eoc').init), data: { ...e.data }, method, sparsity, seed,
  }))));
}

/**
 * Nominal vs effective sparsity of the §4 FFNN masks (extreme-paths.ts), mean over seeds per
 * (method, sparsity), with the output units of each layer cut off from the input / from the output
 * (sum over layers; per layer for the first seed).
 */
export async function extremePathStats(p: EocRescalingPlan): Promise<Array<Record<string, string | number>>> {
  const e = p.extreme;
  const cells = e.methods.flatMap((method) => e.sparsities.map((sparsity) => ({ method, sparsity })));
  const stats = await pathStatsFor(pathConfigs(p), p.workers);
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  return cells.map(({ method, sparsity }, c) => {
    const mine = stats.slice(c * p.seeds.length, (c + 1) * p.seeds.length);
    return {
      method, sparsity: text.pct(sparsity),
      'nominal sparsity': avg(mine.map((m) => m.nominalSparsity)),
      'effective sparsity': avg(mine.map((m) => m.effectiveSparsity)),
      'units without inputs (all layers)': avg(mine.map((m) => sum(m.unitsWithoutInputs))),
      'units without outputs (all layers)': avg(mine.map((m) => sum(m.unitsWithoutOutputs))),
      [`without inputs per layer (seed ${p.seeds[0]})`]: mine[0].unitsWithoutInputs.join(' '),
    };
  });
}

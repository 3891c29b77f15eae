/**
 * Notebook 03's third arm of the speed comparison: the base WRN with unstructured random masks at the
 * matched budgets' sparsities, timed on the sparse kernels against the dense masked product (the
 * same net, mask and batch; timing.ts timeUnstructuredSparse). Crowley et al. (arXiv 1810.04622)
 * compare reduced with structured-pruned nets; this shows what unstructured sparsity of the same
 * size buys on this hardware. Only dense layers have sparse kernels: in a WRN every conv stays dense.
 */
import { availableBackendVariants, timeUnstructuredSparse, withBackendVariant } from './timing';
import type { SparseTimingRow } from './timing';
import type { RvpPlan } from './rvp-plan';

/**
 * The fraction of the base's parameters an unstructured mask removes to match each budget,
 * 1 − budget / base parameters (3 decimals), for the budgets below the base.
 */
export function matchedSparsities(p: Pick<RvpPlan, 'budgets' | 'baseParams'>): number[] {
  return [...new Set(p.budgets.filter((b) => b > 0 && b < p.baseParams).map((b) => Math.round((1 - b / p.baseParams) * 1000) / 1000))].sort((a, b) => a - b);
}

/**
 * Time the base WRN at the matched sparsities on the OpenBLAS-backed wasm (or cpu) variant. Without the
 * OpenBLAS addon there are no sparse kernels: no rows, and the reason.
 */
export async function runUnstructuredTiming(p: Pick<RvpPlan, 'budgets' | 'baseParams' | 'base' | 'inputShape' | 'numClasses' | 'timing'>): Promise<{ rows: SparseTimingRow[]; note: string | null }> {
  const variants = availableBackendVariants().filter((v) => v.native);
  const variant = variants.find((v) => v.backend === 'wasm') ?? variants[0];
  if (!variant) return { rows: [], note: 'no OpenBLAS addon here, so no sparse kernels: unstructured sparsity is not timed' };
  const job = { label: `WRN-${p.base.depth}-${p.base.widthFactor} (random unstructured mask)`, config: { arch: 'wrn' as const, depth: p.base.depth, widthFactor: p.base.widthFactor }, inputShape: p.inputShape, numClasses: p.numClasses };
  const rows = await withBackendVariant(variant, () => timeUnstructuredSparse([job], {
    sparsities: matchedSparsities(p), batchSizes: p.timing.batchSizes, warmup: p.timing.warmup, repeats: p.timing.repeats,
  }));
  return { rows, note: null };
}

/** Table rows: the kept parameters the sparsity matches, latency on the dense masked and the sparse kernels, and the layers that ran sparse. */
export function unstructuredTimingRows(p: Pick<RvpPlan, 'baseParams'>, rows: readonly SparseTimingRow[]): Array<Record<string, string | number>> {
  return rows.map((r) => ({
    variant: r.variant, batch: r.batchSize, net: r.label, sparsity: r.sparsity, 'params matched (≈ base × (1 − sparsity))': Math.round(p.baseParams * (1 - r.sparsity)),
    'dense masked (ms)': r.denseMaskedMs, 'sparse kernels (ms)': r.medianMs, speedup: r.speedup, 'layers on sparse kernels': `${r.sparseLayers} of ${r.prunableLayers}`,
  }));
}

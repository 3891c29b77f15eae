import { strict as assert } from 'assert';
import { reducedVsPruned as rvp } from 'prune-at-init';
import type { SparseTimingRow } from 'prune-at-init';

describe('notebook 03: unstructured-sparse timing rows', () => {
  it('matched sparsities: 1 − budget / base parameters, budgets at or above the base dropped, sorted, deduplicated', () => {
    assert.deepEqual(rvp.matchedSparsities({ baseParams: 1000, budgets: [500, 100, 1000, 250, 100] }), [0.5, 0.75, 0.9]);
    assert.deepEqual(rvp.matchedSparsities({ baseParams: 3000, budgets: [1000] }), [0.667]);
    // the plan's own budgets are below its base
    const plan = rvp.plan('smoke', { dataset: 'fashion-mnist' });
    const s = rvp.matchedSparsities(plan);
    assert.equal(s.length, new Set(plan.budgets).size);
    for (const b of plan.budgets) assert.ok(s.includes(Math.round((1 - b / plan.baseParams) * 1000) / 1000));
  });

  it('table rows: matched parameter count, both latencies, speedup and the layers that ran sparse', () => {
    const row: SparseTimingRow = {
      label: 'WRN-16-1 (random unstructured mask)', variant: 'wasm+OpenBLAS+sparse', backend: 'wasm', batchSize: 64, medianMs: 8, p25Ms: 7, p75Ms: 9,
      msPerExample: 8 / 64, warmup: 1, repeats: 3, samples: [7, 8, 9], sparsity: 0.75, denseMaskedMs: 10, speedup: 1.25, sparseLayers: 1, prunableLayers: 14,
    };
    assert.deepEqual(rvp.unstructuredTimingRows({ baseParams: 1000 }, [row]), [{
      variant: 'wasm+OpenBLAS+sparse', batch: 64, net: 'WRN-16-1 (random unstructured mask)', sparsity: 0.75, 'params matched (≈ base × (1 − sparsity))': 250,
      'dense masked (ms)': 10, 'sparse kernels (ms)': 8, speedup: 1.25, 'layers on sparse kernels': '1 of 14',
    }]);
  });
});

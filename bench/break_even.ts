/**
 * The break-even density of the sparse masked-dense kernels (lib/src/kernels/sparse.ts): for the
 * dense layer shapes of the benchmark's MLPs, one forward + input and weight gradients through
 * maskedDense on wasm+native, sparse kernels against the dense masked product, at falling
 * densities; the break-even is the highest density at which the sparse path is no slower. Both
 * paths are interleaved and timed by their minimum (the least disturbed by other jobs). The
 * library's default (DEFAULT_SPARSE_MAX_DENSITY) is set from this table (bench/README.md).
 */
import { maskedDense, Rng, setSparseMaxDensity, tf } from 'prune-at-init';

const SHAPES: [number, number][] = [[784, 300], [300, 100], [100, 10], [784, 100], [100, 100]];
const DENSITIES = [0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05, 0.01];
const BATCH = 128;

export interface BreakEvenRow { k: number; m: number; batch: number; density: number; dense_us: number; sparse_us: number }

/** Times one shape at one density; the current backend must be wasm with the native kernels. */
function timeShape(k: number, m: number, density: number, reps: number): { dense: number; sparse: number } {
  const r = new Rng(5, `break-even ${k}x${m} ${density}`);
  const x = tf.tensor2d(r.normalArray(BATCH * k), [BATCH, k]), w = tf.tensor2d(r.normalArray(k * m), [k, m]);
  const mask = tf.tensor2d(Float32Array.from({ length: k * m }, () => (r.uniform() < density ? 1 : 0)), [k, m]);
  const dy = tf.tensor2d(r.normalArray(BATCH * m), [BATCH, m]);
  // x gets a gradient too, as every layer but the first does
  const step = () => tf.tidy(() => {
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(maskedDense({ x: a as tf.Tensor2D, w: b as tf.Tensor2D, mask, activation: 'relu' }), dy)))([x, w]);
    g[1].dataSync();
  });
  const best = { dense: Infinity, sparse: Infinity };
  try {
    for (let i = 0; i < reps + 2; i++) {
      for (const path of ['dense', 'sparse'] as const) {
        setSparseMaxDensity(path === 'sparse' ? 1 : 0);
        const t = performance.now();
        step();
        if (i >= 2) best[path] = Math.min(best[path], (performance.now() - t) * 1000);
      }
    }
  } finally {
    tf.dispose([x, w, mask, dy]);
  }
  return best;
}

/** The table, and per shape the highest density at which sparse <= dense (0: never). Restores the density setting. */
export function breakEven(reps = 15): { rows: BreakEvenRow[]; breakEven: Record<string, number> } {
  const previous = setSparseMaxDensity(0);
  const rows: BreakEvenRow[] = [];
  const out: Record<string, number> = {};
  try {
    for (const [k, m] of SHAPES) {
      let be = 0;
      for (const density of DENSITIES) {
        const t = timeShape(k, m, density, reps);
        rows.push({ k, m, batch: BATCH, density, dense_us: Math.round(t.dense), sparse_us: Math.round(t.sparse) });
        if (t.sparse <= t.dense && be === 0) be = density;
      }
      out[`${k}x${m}`] = be;
      console.log(`  break-even ${k}x${m} (batch ${BATCH}): ${be || 'never'}  ` +
        rows.filter((r) => r.k === k && r.m === m).map((r) => `${r.density}: ${r.sparse_us}/${r.dense_us} us`).join(', '));
    }
  } finally {
    setSparseMaxDensity(previous);
  }
  return { rows, breakEven: out };
}

/**
 * Real speed from unstructured sparsity: when a masked dense layer's 0/1 mask keeps few enough
 * weights, its forward and both weight-side gradients run as sparse-times-dense products
 * (native/sparse_kernels.c) over the kept weights only, O(nnz * batch) instead of O(K * M * batch).
 * Nothing changes for the caller: the fused masked-dense kernels (dense.ts, native_kernels.ts)
 * pick the sparse path per call from the mask's density.
 *
 * The mask's sparsity pattern is indexed once and cached by the mask tensor's storage (dataId):
 * TF.js tensors are immutable and Net.setMask installs a new tensor, so a new mask means a new
 * pattern, and a disposed one lets its pattern be garbage-collected. The weights themselves are read
 * from the dense W on every call (training updates them in place).
 *
 * When a layer takes the sparse path: density (kept / total) <= the break-even density, 0.2 by
 * default. That default is the table in bench/README.md ("Sparse kernels": forward + both
 * gradients on LeNet-300-100 and 100x100 layers at batch 128 broke even at densities 0.25-0.35 on
 * AVX-512 and are clearly faster at <= 0.2). It is fixed, not timed per process, so a run's kernel
 * choice, and with it its floating-point rounding, depends only on the mask: results stay
 * deterministic per seed. PRUNE_AT_INIT_SPARSE_DENSITY=d sets it (0 turns the sparse path off,
 * 1 uses it for every 0/1 mask); setSparseMaxDensity does the same in-process (the benchmark).
 */
import type { NativeBlas } from './native';

export const SPARSE_ENV = 'PRUNE_AT_INIT_SPARSE_DENSITY';
export const DEFAULT_SPARSE_MAX_DENSITY = 0.2;

function densityFromEnv(): number {
  const raw = process.env[SPARSE_ENV];
  if (raw === undefined || raw === '') return DEFAULT_SPARSE_MAX_DENSITY;
  const d = Number(raw);
  if (!(d >= 0 && d <= 1)) throw new Error(`${SPARSE_ENV}=${raw} is not a density: use a number in [0, 1] (0 = never sparse), or unset it for ${DEFAULT_SPARSE_MAX_DENSITY}.`);
  return d;
}

let maxDensity: number | null = null;

/** The density at or below which masked dense layers run sparse (0: never). */
export function sparseMaxDensity(): number {
  if (maxDensity === null) maxDensity = densityFromEnv();
  return maxDensity;
}

/** Set the break-even density for this process (0 = dense kernels only); returns the previous value. */
export function setSparseMaxDensity(d: number): number {
  if (!(typeof d === 'number' && d >= 0 && d <= 1)) throw new Error(`setSparseMaxDensity: give a density in [0, 1] (0 = never sparse), got ${d}.`);
  const prev = sparseMaxDensity();
  maxDensity = d;
  return prev;
}

/**
 * How often each sparse kernel ran in this process (tests and the benchmark check the path is taken): per layer, and
 * wholeMlp per forward or backward of a whole MLP run sparse in one native call (kernels/mlp_kernels.ts).
 */
export interface SparseCounts { forward: number; inputGrad: number; weightGrad: number; patterns: number; wholeMlp: number }
const counts: SparseCounts = { forward: 0, inputGrad: 0, weightGrad: 0, patterns: 0, wholeMlp: 0 };
export function sparseCounts(): SparseCounts { return { ...counts }; }
export function countSparse(kind: keyof SparseCounts): void { counts[kind]++; }

/** A mask's index: null handle when it is not a 0/1 mask or was too dense to index when first seen. */
interface Entry { handle: unknown | null; nnz: number; binary: boolean; k: number; m: number }
const patterns = new WeakMap<object, Entry>();

/**
 * The pattern handle for a [k, m] mask stored at (buf, off) under `dataId`, or null when the dense
 * kernel should run (sparse path off, not a 0/1 mask, or denser than the break-even density).
 */
export function sparsePatternFor(blas: NativeBlas, dataId: object, k: number, m: number, read: () => [ArrayBuffer | Float32Array, number]): unknown | null {
  const limit = sparseMaxDensity();
  if (limit <= 0 || k * m === 0) return null;
  let e = patterns.get(dataId);
  if (e && (e.k !== k || e.m !== m)) e = undefined; // the same storage viewed with another shape
  if (!e || (e.binary && e.handle === null && e.nnz <= limit * k * m)) {
    const [buf, off] = read();
    const nnz = blas.countNonzero01(buf, off, k * m);
    e = { handle: null, nnz: Math.max(nnz, 0), binary: nnz >= 0, k, m };
    if (e.binary && e.nnz <= limit * k * m) {
      e.handle = blas.sparsePattern(buf, off, k, m)?.handle ?? null;
      counts.patterns++;
    }
    patterns.set(dataId, e);
  }
  return e.handle !== null && e.nnz <= limit * k * m ? e.handle : null;
}

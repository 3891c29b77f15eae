/**
 * Kernels this library adds to TF.js backends:
 * - wasm, pure TS: Identity/Cast that share buffers instead of copying (always), and, when the
 *   native kernels are off, Conv2DBackpropFilter (wasm lacks it) and a Conv2DBackpropInput much
 *   faster than wasm's, both through wasm's own Conv2D, and (Fused)BatchMatMul that transpose
 *   explicitly so every product takes wasm's fast untransposed path;
 * - wasm and cpu, when the native addon is built and not disabled (PRUNE_AT_INIT_NATIVE=0):
 *   OpenBLAS BatchMatMul, _FusedMatMul, Conv2D, FusedConv2D, Conv2DBackpropInput,
 *   Conv2DBackpropFilter, and C Sum, Mean, MaxPoolGrad, Tanh, Add, Sub, Multiply, RealDiv, Tile,
 *   one-pass activation gradients and a fused SGD-momentum update (sgdMomentumUpdate); plus Sum/Mean
 *   gradients that use Tile (gradients.ts), and fused masked-dense and training-mode BatchNorm
 *   layers with their gradients (dense.ts, batchnorm.ts), whose masked dense layers run sparse
 *   kernels when their mask is sparse enough (sparse.ts), and the softmax cross-entropy as one op
 *   (softmax_ce.ts).
 */
import { conv2DBackpropFilterViaConv2D } from './conv2d_backprop_filter_wasm';
import { conv2DBackpropInputViaConv2D } from './conv2d_backprop_input_wasm';
import { batchMatMulUntransposed, fusedMatMulUntransposed } from './matmul_wasm';
import { nativeBlas, nativeStatus } from './native';
import { NATIVE_KERNEL_NAMES, nativeKernels } from './native_kernels';
import { replaceKernel, replacedKernels, restoreKernel } from './registry';
import { castAlias, identityAlias } from './wasm_alias';
import { SOFTMAX_CE, SOFTMAX_CE_GRAD } from './softmax_ce';
import { installFastGradients } from './gradients';

export { addonMismatch, FAST_CONV_ENV, FLUSH_DENORMALS_ENV, NATIVE_ABI, nativeStatus, setNativeThreads, NATIVE_ENV, THREADS_ENV, useIdleCores } from './native';
export { idleCoreThreads, IDLE_WINDOW_MS, measureIdleCores, parseProcStat } from './thread-policy';
export type { CpuSample, IdleCoresChoice } from './thread-policy';
export { sgemmGflops } from './sgemm-probe';
export { DEFAULT_SPARSE_MAX_DENSITY, setSparseMaxDensity, sparseCounts, sparseMaxDensity, SPARSE_ENV } from './sparse';
export type { SparseCounts } from './sparse';
export { sgdMomentumUpdate } from './optim';
export { fusedSoftmaxCrossEntropy } from './softmax_ce';
export { maskedDense } from './dense';
export { maskedMlp, mlpFusable, setMlpFusion } from './mlp';
export type { MlpLayer } from './mlp';
export type { DenseActivation, DenseInputs } from './dense';
export { batchNorm } from './batchnorm';
export type { BatchNormInputs, BatchNormResult } from './batchnorm';
export type { NativeStatus } from './native';

export interface ExtraKernelOptions {
  /** Use the OpenBLAS kernels when the addon is available (default: true unless PRUNE_AT_INIT_NATIVE=0). */
  native?: boolean;
}

const BLAS_KERNELS = new Set(['BatchMatMul', '_FusedMatMul', 'Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']);
/** Kernels of the native set written in TypeScript (they need no addon, but are switched with it). */
const TS_KERNELS = new Set<string>([SOFTMAX_CE, SOFTMAX_CE_GRAD]);
const CONV_KERNELS = new Set(['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']);
/** Backends whose kernels are currently the native ones. */
const nativeOn = new Set<string>();

/**
 * Register this library's kernels for `backend` ('wasm' or 'cpu'; others are left alone) and return
 * the labels of all kernels currently replaced. Calling again with another `native` setting
 * switches between the native and the pure kernels (used by the benchmark and tests).
 */
export function registerExtraKernels(backend: string, options: ExtraKernelOptions = {}): string[] {
  if (backend !== 'wasm' && backend !== 'cpu') return extraKernelInfo();
  const blas = options.native === false ? null : nativeBlas();
  if (options.native === true && !blas) {
    throw new Error(`Native kernels requested but unavailable: ${nativeStatus().detail}.`);
  }
  for (const name of NATIVE_KERNEL_NAMES) restoreKernel(name, backend);
  nativeOn.delete(backend);
  if (backend === 'wasm') {
    replaceKernel('Identity', 'wasm', identityAlias as any, 'wasm:Identity (shares the buffer)');
    replaceKernel('Cast', 'wasm', castAlias as any, 'wasm:Cast (same dtype shares the buffer)');
  }
  if (blas) {
    const kernels = nativeKernels(blas, backend);
    // conv labels say which 3x3 kernels ran (results' provenance: they round differently from im2col + sgemm)
    const fast = nativeStatus().fastConv;
    const blasLabel = (name: string) => CONV_KERNELS.has(name) && fast && fast !== 'off' ? `OpenBLAS; ${fast}` : 'OpenBLAS';
    const label = (name: string) => BLAS_KERNELS.has(name) ? blasLabel(name) : TS_KERNELS.has(name) ? 'TypeScript around the backend\'s reductions' : 'native';
    for (const name of NATIVE_KERNEL_NAMES) replaceKernel(name, backend, kernels[name], `${backend}:${name} (${label(name)})`);
    nativeOn.add(backend);
    installFastGradients((b) => nativeOn.has(b));
  } else if (backend === 'wasm') {
    replaceKernel('Conv2DBackpropFilter', 'wasm', conv2DBackpropFilterViaConv2D as any, 'wasm:Conv2DBackpropFilter (via Conv2D)');
    replaceKernel('Conv2DBackpropInput', 'wasm', conv2DBackpropInputViaConv2D as any, 'wasm:Conv2DBackpropInput (via Conv2D)');
    replaceKernel('BatchMatMul', 'wasm', batchMatMulUntransposed as any, 'wasm:BatchMatMul (transpose, then XNNPACK)');
    replaceKernel('_FusedMatMul', 'wasm', fusedMatMulUntransposed as any, 'wasm:_FusedMatMul (transpose, then XNNPACK)');
  }
  return extraKernelInfo();
}

/** Labels of the kernels this library has registered, e.g. 'wasm:BatchMatMul (OpenBLAS)'. */
export function extraKernelInfo(): string[] {
  return replacedKernels();
}

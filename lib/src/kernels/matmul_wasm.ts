/**
 * BatchMatMul and _FusedMatMul for the wasm backend with transposes done as an explicit Transpose
 * first: wasm's XNNPACK path only covers the untransposed product, its transposed one is a naive
 * loop (784x300 layer: 28 ms vs 2.2 ms), and its _FusedMatMul gives wrong results with
 * transposeB (tfjs 4.22). Used when the native kernels are off.
 */
import * as tf from '@tensorflow/tfjs';
import { callKernel, originalKernel } from './registry';

type Args = { inputs: { a: tf.TensorInfo; b: tf.TensorInfo; [k: string]: tf.TensorInfo | undefined }; backend: unknown; attrs: { transposeA: boolean; transposeB: boolean; [k: string]: unknown } };

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

function untransposed(kernelName: 'BatchMatMul' | '_FusedMatMul') {
  return (args: Args): tf.TensorInfo => {
    const orig = originalKernel(kernelName, 'wasm');
    if (!orig) throw new Error(`prune-at-init: the wasm backend has no ${kernelName} kernel.`);
    const { inputs, backend, attrs } = args;
    if (!attrs.transposeA && !attrs.transposeB) return orig.kernelFunc(args as any) as tf.TensorInfo;
    const temps: tf.TensorInfo[] = [];
    const t = (x: tf.TensorInfo) => { const y = callKernel('Transpose', 'wasm', backend, { x }, { perm: swapLastTwo(x.shape.length) }); temps.push(y); return y; };
    try {
      const a = attrs.transposeA ? t(inputs.a) : inputs.a, b = attrs.transposeB ? t(inputs.b) : inputs.b;
      return orig.kernelFunc({ inputs: { ...inputs, a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } } as any) as tf.TensorInfo;
    } finally {
      for (const x of temps) (backend as { disposeData(id: object): void }).disposeData(x.dataId);
    }
  };
}

export const batchMatMulUntransposed = untransposed('BatchMatMul');
export const fusedMatMulUntransposed = untransposed('_FusedMatMul');

/**
 * Kernels of a whole masked MLP (kernels/mlp.ts): its forward and its backward each as one kernel
 * that calls the per-layer native kernels (masked dense, activation gradient, masked matmul, Sum)
 * directly, layer after layer, with the same operands in the same order as the per-layer ops. The
 * arithmetic is therefore the per-layer path's, bit for bit; what goes away is TF.js's bookkeeping
 * around each of those ~10 kernels per layer (tape nodes, saved clones, tracking, disposal), which
 * dominated a step of the 50-layer FFNN.
 *
 * The forward's inputs are an array [x, w0, m0, b0, w1, ...] (m* with attr masked, b* with attr bias:
 * TF.js saves a variable number of inputs only from an array); it returns every layer's output
 * h0..h{L-1}, the hidden ones as [1]-shaped handles on their whole buffers (see makeMlp). The
 * backward (inputs named dy = the last output's gradient, x, w*, m*, h*) returns dW0..dW{L-1}, then
 * db0..db{L-1} (with bias), then, with more than one layer, dz0 (the first layer's pre-activation
 * gradient, for the lazily computed gradients of x and of the first mask).
 *
 * When every layer's mask is sparse enough for the sparse kernels (and the backend is wasm), both run
 * as one native call each (SparseMlp, native/sparse_kernels.c): the hidden activations then stay packed
 * transposed between layers, as those kernels compute them, instead of being unpacked and packed again
 * by every layer; the arithmetic is the same, so are the bits.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnyKernelFunc } from './registry';

type Info = tf.TensorInfo;

export const MLP = 'PruneAtInitMlp';
export const MLP_GRAD = 'PruneAtInitMlpGrad';

export interface MlpAttrs { layers: number; activation: string; masked: boolean; bias: boolean }

/** The whole-MLP sparse path: every layer's sparse pattern (null: some layer runs dense), and its two native calls. */
export interface SparseMlp {
  patterns(backend: any, inputs: Info[], a: MlpAttrs): unknown[] | null;
  /** The forward's outputs; the hidden ones are [1]-shaped handles on [M, padded N] transposed buffers. */
  forward(backend: any, inputs: Info[], a: MlpAttrs, patterns: unknown[]): Info[];
  /** The backward's outputs, as makeMlpGrad's. */
  backward(backend: any, inputs: Record<string, Info>, a: MlpAttrs, patterns: unknown[]): Info[];
}

/** The per-layer kernels the MLP kernels call, and the whole-MLP sparse path where the backend has it. */
export interface LayerKernels { dense: AnyKernelFunc; actGrad: AnyKernelFunc; maskedMatMul: AnyKernelFunc; sum: AnyKernelFunc; sparse?: SparseMlp }

/** The hidden outputs in the transposed layout (keyed by h0's storage), with the patterns their forward used. */
const transposed = new WeakMap<object, unknown[]>();

/** Positions of layer i's operands in the forward's input array (-1: absent). */
export function operandAt(a: MlpAttrs, i: number): { w: number; mask: number; bias: number } {
  const w = 1 + (1 + (a.masked ? 1 : 0) + (a.bias ? 1 : 0)) * i;
  return { w, mask: a.masked ? w + 1 : -1, bias: a.bias ? w + 1 + (a.masked ? 1 : 0) : -1 };
}

/** Layer i's operands in the forward's input array. */
export function forwardOperand<T>(inputs: ArrayLike<T>, a: MlpAttrs, i: number): { w: T; mask?: T; bias?: T } {
  const at = operandAt(a, i);
  return { w: inputs[at.w], mask: at.mask < 0 ? undefined : inputs[at.mask], bias: at.bias < 0 ? undefined : inputs[at.bias] };
}

export function makeMlp(k: LayerKernels): AnyKernelFunc {
  return (args) => {
    const inputs = args.inputs as unknown as Info[], backend = args.backend;
    const a = args.attrs as unknown as MlpAttrs;
    const patterns = k.sparse && a.masked && a.layers > 1 ? k.sparse.patterns(backend, inputs, a) : null;
    if (patterns) {
      const outs = k.sparse!.forward(backend, inputs, a, patterns);
      transposed.set(outs[0].dataId, patterns);
      return outs;
    }
    const outs: Info[] = [];
    let h = inputs[0];
    for (let i = 0; i < a.layers; i++) {
      const { w, mask, bias } = forwardOperand(inputs, a, i);
      const lin: Record<string, Info> = { x: h, w };
      if (mask) lin.mask = mask;
      if (bias) lin.bias = bias;
      h = k.dense({ inputs: lin, backend, attrs: { activation: i < a.layers - 1 ? a.activation : 'linear' } } as never) as Info;
      // a hidden output is saved for the backward pass only: declared as shape [1] (its buffer stays whole), so the
      // engine's zero gradient for it (it feeds nothing) is one float, not a batch of activations per layer
      outs.push(i < a.layers - 1 ? { dataId: h.dataId, shape: [1], dtype: 'float32' } : h);
    }
    return outs;
  };
}

export function makeMlpGrad(k: LayerKernels): AnyKernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const a = args.attrs as unknown as MlpAttrs;
    const L = a.layers;
    const patterns = L > 1 ? transposed.get((inputs.h0 as Info).dataId) : undefined;
    if (patterns) return k.sparse!.backward(backend, inputs as Record<string, Info>, a, patterns);
    const dW: Info[] = new Array(L), db: Info[] = new Array(L);
    let dz0: Info | undefined;
    const n = (inputs.x as Info).shape[0];
    // the hidden outputs' buffers with their true shapes (the forward declared them [1])
    const h = (i: number): Info => ({ dataId: (inputs[`h${i}`] as Info).dataId, shape: [n, (inputs[`w${i}`] as Info).shape[1]], dtype: 'float32' });
    let d = inputs.dy as Info; // dL/d(output of layer i), not owned for i = L - 1
    for (let i = L - 1; i >= 0; i--) {
      const w = inputs[`w${i}`] as Info, mask = a.masked ? inputs[`m${i}`] as Info : undefined;
      const x = i === 0 ? inputs.x as Info : h(i - 1);
      const act = i < L - 1 ? a.activation : 'linear';
      // as the per-layer gradient (kernels/dense.ts): dz = act'(y) dy, dW = (x^T dz) ⊙ mask, db = sum(dz, 0), dx = dz (w ⊙ mask)^T
      const z = act === 'linear' ? d : k.actGrad({ inputs: { y: h(i), dy: d }, backend, attrs: { activation: act } } as never) as Info;
      if (z !== d && i < L - 1) backend.disposeData(d.dataId); // an input gradient made here, now used
      dW[i] = k.maskedMatMul({ inputs: mask ? { a: x, b: z, cMult: mask } : { a: x, b: z }, backend, attrs: { transposeA: true, transposeB: false } } as never) as Info;
      if (a.bias) db[i] = k.sum({ inputs: { x: z }, backend, attrs: { axis: 0, keepDims: false } } as never) as Info;
      if (i > 0) d = k.maskedMatMul({ inputs: mask ? { a: z, b: w, bMask: mask } : { a: z, b: w }, backend, attrs: { transposeA: false, transposeB: true } } as never) as Info;
      if (i === 0) dz0 = z;
      else if (i < L - 1) backend.disposeData(z.dataId); // made here (the last layer's is dy itself), now used
    }
    return [...dW, ...(a.bias ? db : []), ...(L > 1 ? [dz0!] : [])];
  };
}

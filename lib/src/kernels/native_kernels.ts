/**
 * Native kernels for the wasm backend (operands read and written in place on the wasm heap) and the
 * cpu backend (its Float32Arrays): OpenBLAS BatchMatMul, _FusedMatMul, Conv2D, FusedConv2D,
 * Conv2DBackpropInput, Conv2DBackpropFilter, and C Sum, Mean, MaxPoolGrad, Tanh, Add, Sub,
 * Multiply, RealDiv, Tile (the next bottlenecks of a training step once the matmuls/convs were fast),
 * and custom kernels: activation gradients, a fused SGD-momentum update, masked dense layers
 * and training-mode batch normalisation, with their gradients (kernels/dense.ts, kernels/batchnorm.ts),
 * and the softmax cross-entropy as one op (kernels/softmax_ce.ts: TypeScript around the backend's own
 * reductions, the same bits as its composition).
 * What the addon does not cover (non-float32, NCHW, odd batch broadcasts, bias/prelu shapes other
 * than [1] or [..., channels]) goes to the pure-TS wasm kernel or the backend's original one.
 */
import * as tf from '@tensorflow/tfjs';
import { SPARSE_TILE, type NativeBlas } from './native';
import { AnyKernelFunc, originalKernel } from './registry';
import { backpropFilterInfo, Conv2DBackpropFilterAttrs, conv2DBackpropFilterViaConv2D } from './conv2d_backprop_filter_wasm';
import { conv2DBackpropInputViaConv2D } from './conv2d_backprop_input_wasm';
import { batchMatMulUntransposed, fusedMatMulUntransposed } from './matmul_wasm';
import { countSparse, sparsePatternFor } from './sparse';
import { forwardOperand, makeMlp, makeMlpGrad, MLP, MLP_GRAD, SparseMlp } from './mlp_kernels';
import { makeSoftmaxCrossEntropy, makeSoftmaxCrossEntropyGrad, SOFTMAX_CE, SOFTMAX_CE_GRAD } from './softmax_ce';
import { Access, accessFor, wasmAccess } from './storage';

type Info = tf.TensorInfo;

/** Can the addon use this tensor's storage directly? */
function usable(backendName: string, backend: any, ...ts: (Info | undefined)[]): boolean {
  for (const t of ts) {
    if (!t) continue;
    if (t.dtype !== 'float32') return false;
    if (backendName === 'cpu' && !(backend.data.get(t.dataId)?.values instanceof Float32Array)) return false;
  }
  // A threaded wasm build shares its heap (SharedArrayBuffer), which N-API cannot hand out here.
  if (backendName === 'wasm' && !(backend.wasm.HEAPU8.buffer instanceof ArrayBuffer)) return false;
  return true;
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, sigmoid: 4, elu: 5, prelu: 6 };

/** On wasm our pure-TS kernels beat (or, for Conv2DBackpropFilter, replace) the backend's own. */
const WASM_FALLBACKS: Record<string, (args: any) => Info> = {
  Conv2DBackpropFilter: conv2DBackpropFilterViaConv2D, Conv2DBackpropInput: conv2DBackpropInputViaConv2D,
  BatchMatMul: batchMatMulUntransposed, _FusedMatMul: fusedMatMulUntransposed,
};

function fallback(kernelName: string, backendName: string, args: any): Info | Info[] {
  if (backendName === 'wasm' && WASM_FALLBACKS[kernelName]) return WASM_FALLBACKS[kernelName](args);
  const orig = originalKernel(kernelName, backendName);
  if (!orig) throw new Error(`prune-at-init: no ${kernelName} kernel on backend '${backendName}' for this input (dtype/layout/activation not supported natively).`);
  return orig.kernelFunc(args);
}

interface MatMulPlan { batchA: number; batchB: number; m: number; n: number; k: number; outShape: number[] }

/** Geometry of op(a) @ op(b) with batch broadcasting, or null when the batch dims broadcast in a way we do not handle. */
function planMatMul(a: Info, b: Info, transA: boolean, transB: boolean): MatMulPlan | null {
  const ra = a.shape.length, rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const m = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const ka = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (ka !== kb) {
    throw new Error(`Error in matMul: inner shapes (${ka}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transA} and transposeB=${transB} must match.`);
  }
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA), batchB = tf.util.sizeFromShape(outerB);
  const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = tf.util.sizeFromShape(outer);
  if (!((batchA === batch && batchB === batch) || (batchA === 1 && batchB === batch) || (batchB === 1 && batchA === batch))) return null;
  return { batchA, batchB, m, n, k: ka, outShape: [...outer, m, n] };
}

function makeBatchMatMul(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { inputs: { a, b }, backend, attrs: { transposeA, transposeB } } = args;
    if (!usable(backendName, backend, a, b)) return fallback('BatchMatMul', backendName, args);
    const p = planMatMul(a, b, !!transposeA, !!transposeB);
    if (!p) return fallback('BatchMatMul', backendName, args);
    const out = acc.output(backend, p.outShape);
    const [ab, ao] = acc.operand(backend, a), [bb, bo] = acc.operand(backend, b), [cb, co] = acc.operand(backend, out);
    blas.matmul(ab, ao, bb, bo, cb, co, p.batchA, p.batchB, p.m, p.n, p.k, !!transposeA, !!transposeB, null, 0, 0, 0, 0, null, 0, 0);
    return out;
  };
}

/** Length of a bias/prelu tensor that broadcasts along the last axis only (1 or N), else null. */
function channelLength(bias: Info, n: number): number | null {
  const size = tf.util.sizeFromShape(bias.shape);
  const last = bias.shape.length ? bias.shape[bias.shape.length - 1] : 1;
  if (size === 1) return 1;
  return size === n && last === n ? n : null;
}

function makeFusedMatMul(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { inputs: { a, b, bias, preluActivationWeights }, backend, attrs } = args;
    const { transposeA, transposeB, activation, leakyreluAlpha } = attrs;
    const act = ACTIVATIONS[activation ?? 'linear'];
    const prelu = act === ACTIVATIONS.prelu ? preluActivationWeights : undefined;
    if (act === undefined || (act === ACTIVATIONS.prelu && !prelu) || !usable(backendName, backend, a, b, bias, prelu)) {
      return fallback('_FusedMatMul', backendName, args);
    }
    const p = planMatMul(a, b, !!transposeA, !!transposeB);
    const blen = bias ? channelLength(bias, p ? p.n : -1) : 0;
    const plen = prelu ? channelLength(prelu, p ? p.n : -1) : 0;
    if (!p || blen === null || plen === null) return fallback('_FusedMatMul', backendName, args);
    const out = acc.output(backend, p.outShape);
    const [ab, ao] = acc.operand(backend, a), [bb, bo] = acc.operand(backend, b), [cb, co] = acc.operand(backend, out);
    const [biasB, biasO] = bias ? acc.operand(backend, bias) : [null, 0];
    const [pb, po] = prelu ? acc.operand(backend, prelu) : [null, 0];
    blas.matmul(ab, ao, bb, bo, cb, co, p.batchA, p.batchB, p.m, p.n, p.k, !!transposeA, !!transposeB, biasB, biasO, blen, act,
      leakyreluAlpha ?? 0.2, pb, po, plen);
    return out;
  };
}

/** [N,H,W,C, KH,KW,CO, OH,OW, sh,sw, padTop,padLeft, dh,dw] as the addon expects. */
function convDims(ci: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels, ci.filterHeight, ci.filterWidth, ci.outChannels,
    ci.outHeight, ci.outWidth, ci.strideHeight, ci.strideWidth, ci.padInfo.top, ci.padInfo.left, ci.dilationHeight, ci.dilationWidth]);
}

function makeConv2D(blas: NativeBlas, backendName: string, acc: Access, kernelName: 'Conv2D' | 'FusedConv2D'): AnyKernelFunc {
  return (args) => {
    const { inputs: { x, filter, bias, preluActivationWeights }, backend, attrs } = args;
    const { strides, pad, dataFormat, dilations, dimRoundingMode, activation, leakyreluAlpha } = attrs;
    const act = ACTIVATIONS[activation ?? 'linear'];
    const prelu = act === ACTIVATIONS.prelu ? preluActivationWeights : undefined;
    if (dataFormat === 'NCHW' || act === undefined || (act === ACTIVATIONS.prelu && !prelu) || !usable(backendName, backend, x, filter, bias, prelu)) {
      return fallback(kernelName, backendName, args);
    }
    const ci = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, strides, dilations ?? 1, pad, dimRoundingMode, false, 'channelsLast');
    const plen = prelu ? channelLength(prelu, ci.outChannels) : 0;
    if ((bias && channelLength(bias, ci.outChannels) !== ci.outChannels) || plen === null) return fallback(kernelName, backendName, args);
    const out = acc.output(backend, ci.outShape);
    const [xb, xo] = acc.operand(backend, x), [wb, wo] = acc.operand(backend, filter), [yb, yo] = acc.operand(backend, out);
    const [bb, bo] = bias ? acc.operand(backend, bias) : [null, 0];
    const [pb, po] = prelu ? acc.operand(backend, prelu) : [null, 0];
    blas.conv2d(xb, xo, wb, wo, yb, yo, bb, bo, convDims(ci), act, leakyreluAlpha ?? 0.2, pb, po, plen);
    return out;
  };
}

function makeConv2DBackpropInput(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { inputs: { dy, filter }, backend, attrs } = args;
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
    if (dataFormat === 'NCHW' || !usable(backendName, backend, dy, filter)) return fallback('Conv2DBackpropInput', backendName, args);
    const ci = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const out = acc.output(backend, ci.inShape);
    const [db, dOff] = acc.operand(backend, dy), [wb, wo] = acc.operand(backend, filter), [xb, xo] = acc.operand(backend, out);
    blas.conv2dBackpropInput(db, dOff, wb, wo, xb, xo, convDims(ci));
    return out;
  };
}

function makeConv2DBackpropFilter(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { inputs: { x, dy }, backend } = args;
    const attrs = args.attrs as Conv2DBackpropFilterAttrs;
    if (attrs.dataFormat === 'NCHW' || !usable(backendName, backend, x, dy)) return fallback('Conv2DBackpropFilter', backendName, args);
    const ci = backpropFilterInfo(x.shape, attrs);
    const out = acc.output(backend, attrs.filterShape);
    const [xb, xo] = acc.operand(backend, x), [db, dOff] = acc.operand(backend, dy), [wb, wo] = acc.operand(backend, out);
    blas.conv2dBackpropFilter(xb, xo, db, dOff, wb, wo, convDims(ci));
    return out;
  };
}

/** Sum/Mean over leading axes (bias gradients, BatchNorm moments) or trailing axes; others fall back. */
function makeReduce(blas: NativeBlas, backendName: string, acc: Access, kernelName: 'Sum' | 'Mean'): AnyKernelFunc {
  return (args) => {
    const { backend, attrs: { axis, keepDims } } = args;
    const x = args.inputs.x as Info;
    const rank = x.shape.length, size = tf.util.sizeFromShape(x.shape);
    if (!usable(backendName, backend, x) || size === 0) return fallback(kernelName, backendName, args);
    const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
    const k = axes.length;
    const leading = axes.every((a, i) => a === i), trailing = axes.every((a, i) => a === rank - k + i);
    if (k === 0 || !(leading || trailing)) return fallback(kernelName, backendName, args);
    const reduced = axes.reduce((p, a) => p * x.shape[a], 1);
    const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const out = acc.output(backend, outShape);
    const [xb, xo] = acc.operand(backend, x), [yb, yo] = acc.operand(backend, out);
    const overOuter = !trailing; // all-axes reductions take the row-sum path (outer = 1)
    blas.reduce(xb, xo, yb, yo, overOuter ? reduced : size / reduced, overOuter ? size / reduced : reduced, overOuter,
      kernelName === 'Mean' ? 1 / reduced : 1);
    return out;
  };
}

function makeMaxPoolGrad(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { inputs: { dy, input }, backend, attrs: { filterSize, strides, pad, dimRoundingMode } } = args;
    if (!usable(backendName, backend, dy, input) || input.shape.length !== 4) return fallback('MaxPoolGrad', backendName, args);
    const ci = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const out = acc.output(backend, input.shape);
    const [db, dOff] = acc.operand(backend, dy), [xb, xo] = acc.operand(backend, input), [ob, oo] = acc.operand(backend, out);
    blas.maxPoolGrad(db, dOff, xb, xo, ob, oo, Int32Array.from([ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels, ci.filterHeight,
      ci.filterWidth, ci.outHeight, ci.outWidth, ci.strideHeight, ci.strideWidth, ci.padInfo.top, ci.padInfo.left]));
    return out;
  };
}

function makeTanh(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { inputs: { x }, backend } = args;
    if (!usable(backendName, backend, x)) return fallback('Tanh', backendName, args);
    const out = acc.output(backend, x.shape);
    const [xb, xo] = acc.operand(backend, x), [yb, yo] = acc.operand(backend, out);
    blas.tanh(xb, xo, yb, yo, tf.util.sizeFromShape(x.shape));
    return out;
  };
}

/** Tile (what tf.broadcastTo runs): wasm's took 100 ms to broadcast [1,1,1,32] to [64,28,28,32]. */
function makeTile(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { backend, attrs: { reps } } = args;
    const x = args.inputs.x as Info;
    if (!usable(backendName, backend, x) || x.shape.length === 0 || reps.length !== x.shape.length) return fallback('Tile', backendName, args);
    const out = acc.output(backend, x.shape.map((d, i) => d * reps[i]));
    const [xb, xo] = acc.operand(backend, x), [yb, yo] = acc.operand(backend, out);
    blas.tile(xb, xo, yb, yo, Int32Array.from(x.shape), Int32Array.from(reps));
    return out;
  };
}

const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;

/**
 * Add/Sub/Multiply/RealDiv where each operand is the full output shape, a scalar, or a row
 * broadcast along the last axis (bias, BatchNorm statistics). On wasm only the row broadcasts are
 * taken (wasm's generic broadcasting loop is ~5x slower there); on cpu all of these.
 */
function makeBinary(blas: NativeBlas, backendName: string, acc: Access, kernelName: keyof typeof BINARY_OPS): AnyKernelFunc {
  const op = BINARY_OPS[kernelName];
  return (args) => {
    const { inputs: { a, b }, backend } = args;
    if (!usable(backendName, backend, a, b)) return fallback(kernelName, backendName, args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = tf.util.sizeFromShape(outShape), inner = outShape.length ? outShape[outShape.length - 1] : 1;
    const mode = (t: Info): number | null => {
      const size = tf.util.sizeFromShape(t.shape);
      if (size === n) return 0;
      if (size === 1) return 2;
      return size === inner && t.shape[t.shape.length - 1] === inner ? 1 : null;
    };
    const am = mode(a), bm = mode(b);
    if (am === null || bm === null || n === 0) return fallback(kernelName, backendName, args);
    // wasm's own kernel is as fast for same-shape and scalar operands (measured); ours wins on row broadcasts
    if (backendName === 'wasm' && am !== 1 && bm !== 1) return fallback(kernelName, backendName, args);
    const out = acc.output(backend, outShape);
    const [ab, ao] = acc.operand(backend, a), [bb, bo] = acc.operand(backend, b), [cb, co] = acc.operand(backend, out);
    blas.binary(op, ab, ao, am, bb, bo, bm, cb, co, n / inner, inner);
    return out;
  };
}

/** Custom kernel: an activation's gradient from its output y in one pass (attr activation 'tanh': dy * (1 - y^2); 'relu': y > 0 ? dy : 0). */
export const ACT_GRAD = 'PruneAtInitActivationGrad';
/** Custom kernel: SGD with momentum, PyTorch semantics; inputs value, slot, grad; outputs [value', slot']. */
export const SGD_MOMENTUM = 'PruneAtInitSgdMomentum';
/**
 * Custom kernels: a dense layer act(x @ (w ⊙ mask) + bias) in one call; inputs x [N,K], w [K,M],
 * mask [K,M] (MASKED_DENSE only), bias [M] (optional); attr activation 'linear' | 'relu' | 'tanh'.
 * Two names because TF.js saves a gradient's inputs by name and cannot save an absent one.
 */
export const DENSE = 'PruneAtInitDense';
export const MASKED_DENSE = 'PruneAtInitMaskedDense';
/** Custom kernel for the dense gradients: op(a) @ op(b ⊙ bMask) ⊙ cMult; bMask and cMult optional. */
export const MASKED_MATMUL = 'PruneAtInitMaskedMatMul';

/**
 * Custom kernels: training-mode batch normalisation over the last axis, y = act(gamma * xhat + beta)
 * with act 'linear' or 'relu'; inputs x, gamma, beta; attrs eps, activation; outputs [y, batch mean,
 * biased batch variance]. Its gradient kernel: inputs x, dy, gamma, mean, variance (, y for relu);
 * outputs [dx, dgamma, dbeta] (kernels/batchnorm.ts).
 */
export const BN_TRAIN = 'PruneAtInitBatchNormTrain';
export const BN_GRAD = 'PruneAtInitBatchNormGrad';
/** Eval-mode batch normalisation as one pass: y = act(x * scale + shift); inputs x, scale, shift; attr activation. */
export const BN_APPLY = 'PruneAtInitBatchNormApply';

const GRAD_OPS: Record<string, number> = { tanh: 4, relu: 5 };
export const DENSE_ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, tanh: 7 };

function makeActivationGrad(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { inputs: { y, dy }, backend, attrs: { activation } } = args;
    const op = GRAD_OPS[activation];
    if (op === undefined) throw new Error(`${ACT_GRAD}: activation must be 'tanh' or 'relu', got '${activation}'.`);
    if (!usable(backendName, backend, y, dy) || tf.util.sizeFromShape(y.shape) !== tf.util.sizeFromShape(dy.shape)) {
      throw new Error(`${ACT_GRAD}: needs float32 y and dy of one shape, got [${y.shape}] ${y.dtype} and [${dy.shape}] ${dy.dtype}.`);
    }
    const n = tf.util.sizeFromShape(y.shape);
    const out = acc.output(backend, dy.shape);
    const [yb, yo] = acc.operand(backend, y), [db, dOff] = acc.operand(backend, dy), [ob, oo] = acc.operand(backend, out);
    blas.binary(op, yb, yo, 0, db, dOff, 0, ob, oo, 1, n);
    return out;
  };
}

function requireMatrix(kernel: string, what: string, t: Info | undefined, shape?: number[]): void {
  if (!t) return;
  if (t.shape.length !== (shape ? shape.length : 2) || (shape && !shape.every((d, i) => d === t.shape[i]))) {
    throw new Error(`${kernel}: ${what} has shape [${t.shape}], expected ${shape ? `[${shape}]` : 'a matrix'}.`);
  }
}

function makeDense(blas: NativeBlas, backendName: string, acc: Access, kernel: string): AnyKernelFunc {
  return (args) => {
    const { inputs: { x, w, mask, bias }, backend, attrs: { activation } } = args;
    const act = DENSE_ACTIVATIONS[activation];
    if (act === undefined) throw new Error(`${kernel}: activation must be one of ${Object.keys(DENSE_ACTIVATIONS).join(', ')}, got '${activation}'.`);
    if (!usable(backendName, backend, x, w, mask, bias)) throw new Error(`${kernel}: needs float32 operands.`);
    requireMatrix(kernel, 'x', x);
    requireMatrix(kernel, 'w', w, [x.shape[1], w.shape[1]]);
    requireMatrix(kernel, 'mask', mask, w.shape);
    if (bias && !(bias.shape.length === 1 && bias.shape[0] === w.shape[1])) throw new Error(`${kernel}: bias has shape [${bias.shape}], expected [${w.shape[1]}].`);
    const [n, k] = x.shape, m = w.shape[1];
    const pattern = mask ? sparsePatternFor(blas, mask.dataId, k, m, () => acc.operand(backend, mask)) : null;
    const out = acc.output(backend, [n, m]);
    const [xb, xo] = acc.operand(backend, x), [wb, wo] = acc.operand(backend, w), [yb, yo] = acc.operand(backend, out);
    const [bb, bo] = bias ? acc.operand(backend, bias) : [null, 0];
    if (pattern) {
      countSparse('forward');
      blas.sparseDense(pattern, xb, xo, wb, wo, yb, yo, bb, bo, n, act);
      return out;
    }
    const [mb, mo] = mask ? acc.operand(backend, mask) : [null, 0];
    blas.maskedMatmul(xb, xo, wb, wo, mb, mo, yb, yo, null, 0, bb, bo, n, m, k, false, false, act);
    return out;
  };
}

/** Rows and channels of a channels-last tensor with per-channel vectors of length C. */
function bnGeometry(kernel: string, x: Info, ...perChannel: Info[]): [number, number] {
  const c = x.shape[x.shape.length - 1];
  const size = tf.util.sizeFromShape(x.shape);
  if (x.shape.length < 2 || c < 1 || size === 0) throw new Error(`${kernel}: x has shape [${x.shape}], expected [..., C] with C > 0 and rows.`);
  for (const t of perChannel) {
    if (tf.util.sizeFromShape(t.shape) !== c) throw new Error(`${kernel}: a per-channel input has shape [${t.shape}], expected [${c}].`);
  }
  return [size / c, c];
}

function makeBatchNormTrain(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { inputs: { x, gamma, beta }, backend, attrs: { eps, activation } } = args;
    if (activation !== 'linear' && activation !== 'relu') throw new Error(`${BN_TRAIN}: activation must be 'linear' or 'relu', got '${activation}'.`);
    if (!usable(backendName, backend, x, gamma, beta)) throw new Error(`${BN_TRAIN}: needs float32 operands.`);
    const [rows, c] = bnGeometry(BN_TRAIN, x, gamma, beta);
    const y = acc.output(backend, x.shape), mean = acc.output(backend, [c]), variance = acc.output(backend, [c]);
    const [xb, xo] = acc.operand(backend, x), [gb, go] = acc.operand(backend, gamma), [bb, bo] = acc.operand(backend, beta);
    const [yb, yo] = acc.operand(backend, y), [mb, mo] = acc.operand(backend, mean), [vb, vo] = acc.operand(backend, variance);
    blas.batchNormTrain(xb, xo, gb, go, bb, bo, yb, yo, mb, mo, vb, vo, rows, c, eps, activation === 'relu');
    return [y, mean, variance];
  };
}

function makeBatchNormApply(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { inputs: { x, scale, shift }, backend, attrs: { activation } } = args;
    if (activation !== 'linear' && activation !== 'relu') throw new Error(`${BN_APPLY}: activation must be 'linear' or 'relu', got '${activation}'.`);
    if (!usable(backendName, backend, x, scale, shift)) throw new Error(`${BN_APPLY}: needs float32 operands.`);
    const [rows, c] = bnGeometry(BN_APPLY, x, scale, shift);
    const y = acc.output(backend, x.shape);
    const [xb, xo] = acc.operand(backend, x), [sb, so] = acc.operand(backend, scale), [hb, ho] = acc.operand(backend, shift);
    const [yb, yo] = acc.operand(backend, y);
    blas.batchNormApply(xb, xo, sb, so, hb, ho, yb, yo, rows, c, activation === 'relu');
    return y;
  };
}

function makeBatchNormGrad(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { inputs: { x, dy, gamma, mean, variance, y }, backend, attrs: { eps } } = args;
    if (!usable(backendName, backend, x, dy, gamma, mean, variance, y)) throw new Error(`${BN_GRAD}: needs float32 operands.`);
    const [rows, c] = bnGeometry(BN_GRAD, x, gamma, mean, variance);
    for (const t of [dy, y]) if (t && !tf.util.arraysEqual(t.shape, x.shape)) throw new Error(`${BN_GRAD}: [${t.shape}] must have x's shape [${x.shape}].`);
    const dx = acc.output(backend, x.shape), dgamma = acc.output(backend, [c]), dbeta = acc.output(backend, [c]);
    const [xb, xo] = acc.operand(backend, x), [db, dOff] = acc.operand(backend, dy), [gb, go] = acc.operand(backend, gamma);
    const [mb, mo] = acc.operand(backend, mean), [vb, vo] = acc.operand(backend, variance);
    const [yb, yo] = y ? acc.operand(backend, y) : [null, 0];
    const [dxb, dxo] = acc.operand(backend, dx), [dgb, dgo] = acc.operand(backend, dgamma), [dbb, dbo] = acc.operand(backend, dbeta);
    blas.batchNormGrad(xb, xo, db, dOff, yb, yo, gb, go, mb, mo, vb, vo, dxb, dxo, dgb, dgo, dbb, dbo, rows, c, eps);
    return [dx, dgamma, dbeta];
  };
}

/**
 * The two gradients of a sparse masked dense layer, when the mask's pattern says so: dx = dz @ (w ⊙ mask)^T
 * (b = w, bMask = mask, transposeB) and dW = (x^T @ dz) ⊙ mask (cMult = mask, transposeA). Null: run dense.
 */
function sparseGradient(blas: NativeBlas, backend: any, acc: Access, inputs: Record<string, Info | undefined>, tA: boolean, tB: boolean): Info | null {
  const { a, b, bMask, cMult } = inputs as Record<string, Info>;
  const dx = !!bMask && !cMult && !tA && tB, dw = !!cMult && !bMask && tA && !tB;
  if (!dx && !dw) return null;
  // dx: a = dz [N,M], b = w [K,M]; dW: a = x [N,K], b = dz [N,M]
  const n = a.shape[0], [k, m] = dx ? b.shape : [a.shape[1], b.shape[1]];
  const mask = dx ? bMask! : cMult!;
  const pattern = sparsePatternFor(blas, mask.dataId, k, m, () => acc.operand(backend, mask));
  if (!pattern) return null;
  countSparse(dx ? 'inputGrad' : 'weightGrad');
  const out = acc.output(backend, dx ? [n, k] : [k, m]);
  const [ab, ao] = acc.operand(backend, a), [bb, bo] = acc.operand(backend, b), [ob, oo] = acc.operand(backend, out);
  (dx ? blas.sparseDenseDx : blas.sparseDenseDw)(pattern, ab, ao, bb, bo, ob, oo, n);
  return out;
}

function makeMaskedMatMul(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { inputs: { a, b, bMask, cMult }, backend, attrs: { transposeA, transposeB } } = args;
    if (!usable(backendName, backend, a, b, bMask, cMult)) throw new Error(`${MASKED_MATMUL}: needs float32 operands.`);
    requireMatrix(MASKED_MATMUL, 'a', a);
    requireMatrix(MASKED_MATMUL, 'b', b);
    requireMatrix(MASKED_MATMUL, 'bMask', bMask, b.shape);
    const [m, ka] = transposeA ? [a.shape[1], a.shape[0]] : a.shape;
    const [kb, n] = transposeB ? [b.shape[1], b.shape[0]] : b.shape;
    if (ka !== kb) throw new Error(`${MASKED_MATMUL}: inner dimensions ${ka} and ${kb} differ (a [${a.shape}], b [${b.shape}]).`);
    requireMatrix(MASKED_MATMUL, 'cMult', cMult, [m, n]);
    const sparse = sparseGradient(blas, backend, acc, args.inputs, !!transposeA, !!transposeB);
    if (sparse) return sparse;
    const out = acc.output(backend, [m, n]);
    const [ab, ao] = acc.operand(backend, a), [bb, bo] = acc.operand(backend, b), [cb, co] = acc.operand(backend, out);
    const [mb, mo] = bMask ? acc.operand(backend, bMask) : [null, 0];
    const [xb, xo] = cMult ? acc.operand(backend, cMult) : [null, 0];
    blas.maskedMatmul(ab, ao, bb, bo, mb, mo, cb, co, xb, xo, null, 0, m, n, ka, !!transposeA, !!transposeB, 0);
    return out;
  };
}

function makeSgdMomentum(blas: NativeBlas, backendName: string, acc: Access): AnyKernelFunc {
  return (args) => {
    const { inputs: { value, slot, grad }, backend, attrs: { lr, momentum, weightDecay } } = args;
    const n = tf.util.sizeFromShape(value.shape);
    if (!usable(backendName, backend, value, slot, grad) || tf.util.sizeFromShape(slot.shape) !== n || tf.util.sizeFromShape(grad.shape) !== n) {
      throw new Error(`${SGD_MOMENTUM}: needs float32 value, slot and grad of one size, got [${value.shape}], [${slot.shape}], [${grad.shape}].`);
    }
    const v2 = acc.output(backend, value.shape), s2 = acc.output(backend, value.shape);
    const [vb, vo] = acc.operand(backend, value), [sb, so] = acc.operand(backend, slot), [gb, go] = acc.operand(backend, grad);
    const [v2b, v2o] = acc.operand(backend, v2), [s2b, s2o] = acc.operand(backend, s2);
    blas.sgdMomentum(vb, vo, sb, so, gb, go, v2b, v2o, s2b, s2o, n, lr, momentum, weightDecay ?? 0);
    return [v2, s2];
  };
}

/** The whole-MLP sparse path (mlp_kernels.ts) on wasm, where every operand is on the one heap the native calls take. */
function makeSparseMlp(blas: NativeBlas): SparseMlp {
  const acc = wasmAccess;
  const padded = (n: number) => Math.ceil(n / SPARSE_TILE) * SPARSE_TILE;
  const off = (backend: any, t: Info | undefined) => (t ? acc.operand(backend, t)[1] : -1);
  // a hidden activation is read and written with aligned 64-byte vector operations: its buffer has 16 floats to spare
  // (PACK_SPARE in native/sparse_kernels.c), and the native code starts it at the first 64-byte boundary in it
  const SPARE = 16;
  return {
    patterns(backend, inputs, a) {
      if (!usable('wasm', backend, ...inputs) || inputs[0].shape.length !== 2 || inputs[0].shape[0] < 1) return null;
      const patterns: unknown[] = [];
      for (let i = 0; i < a.layers; i++) {
        const { w, mask } = forwardOperand(inputs, a, i);
        const [k, m] = w.shape;
        const p = mask ? sparsePatternFor(blas, mask.dataId, k, m, () => acc.operand(backend, mask)) : null;
        if (!p) return null;
        patterns.push(p);
      }
      return patterns;
    },
    forward(backend, inputs, a, patterns) {
      const x = inputs[0], n = x.shape[0], np = padded(n), L = a.layers;
      const outs = Array.from({ length: L }, (_, i) => {
        const m = forwardOperand(inputs, a, i).w.shape[1];
        return i < L - 1 ? acc.output(backend, [m * np + SPARE]) : acc.output(backend, [n, m]);
      });
      // offsets once every output exists (allocating may grow the heap)
      const offs = new Float64Array(1 + 3 * L);
      offs[0] = off(backend, x);
      for (let i = 0; i < L; i++) {
        const { w, bias } = forwardOperand(inputs, a, i);
        offs.set([off(backend, w), off(backend, bias), off(backend, outs[i])], 1 + 3 * i);
        countSparse('forward');
      }
      blas.mlpSparseForward(acc.operand(backend, x)[0] as ArrayBuffer, offs, patterns, n, np, DENSE_ACTIVATIONS[a.activation]);
      countSparse('wholeMlp');
      return outs.map((o, i) => (i < L - 1 ? { dataId: o.dataId, shape: [1], dtype: 'float32' as const } : o));
    },
    backward(backend, inputs, a, patterns) {
      const x = inputs.x, n = x.shape[0], np = padded(n), L = a.layers;
      const w = (i: number) => inputs[`w${i}`];
      const dW = Array.from({ length: L }, (_, i) => acc.output(backend, w(i).shape));
      const db = a.bias ? Array.from({ length: L }, (_, i) => acc.output(backend, [w(i).shape[1]])) : [];
      const dz0 = acc.output(backend, [n, w(0).shape[1]]);
      const offs = new Float64Array(3 + 4 * L);
      offs.set([off(backend, inputs.dy), off(backend, x), off(backend, dz0)]);
      for (let i = 0; i < L; i++) {
        offs.set([off(backend, w(i)), i < L - 1 ? off(backend, inputs[`h${i}`]) : -1, off(backend, dW[i]), off(backend, db[i])], 3 + 4 * i);
        countSparse('weightGrad');
        if (i > 0) countSparse('inputGrad');
      }
      blas.mlpSparseBackward(acc.operand(backend, x)[0] as ArrayBuffer, offs, patterns, n, np, DENSE_ACTIVATIONS[a.activation]);
      countSparse('wholeMlp');
      return [...dW, ...db, dz0];
    },
  };
}

export const NATIVE_KERNEL_NAMES = ['BatchMatMul', '_FusedMatMul', 'Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter',
  'Sum', 'Mean', 'MaxPoolGrad', 'Tanh', 'Add', 'Sub', 'Multiply', 'RealDiv', 'Tile', ACT_GRAD, SGD_MOMENTUM, DENSE, MASKED_DENSE,
  MASKED_MATMUL, BN_TRAIN, BN_GRAD, BN_APPLY, MLP, MLP_GRAD, SOFTMAX_CE, SOFTMAX_CE_GRAD] as const;
export type NativeKernelName = typeof NATIVE_KERNEL_NAMES[number];

/** The native kernel functions for one backend ('wasm' or 'cpu'). */
export function nativeKernels(blas: NativeBlas, backendName: 'wasm' | 'cpu'): Record<NativeKernelName, AnyKernelFunc> {
  const acc = accessFor(backendName);
  const k = {
    BatchMatMul: makeBatchMatMul(blas, backendName, acc),
    _FusedMatMul: makeFusedMatMul(blas, backendName, acc),
    Conv2D: makeConv2D(blas, backendName, acc, 'Conv2D'),
    FusedConv2D: makeConv2D(blas, backendName, acc, 'FusedConv2D'),
    Conv2DBackpropInput: makeConv2DBackpropInput(blas, backendName, acc),
    Conv2DBackpropFilter: makeConv2DBackpropFilter(blas, backendName, acc),
    Sum: makeReduce(blas, backendName, acc, 'Sum'),
    Mean: makeReduce(blas, backendName, acc, 'Mean'),
    MaxPoolGrad: makeMaxPoolGrad(blas, backendName, acc),
    Tanh: makeTanh(blas, backendName, acc),
    Add: makeBinary(blas, backendName, acc, 'Add'),
    Sub: makeBinary(blas, backendName, acc, 'Sub'),
    Multiply: makeBinary(blas, backendName, acc, 'Multiply'),
    RealDiv: makeBinary(blas, backendName, acc, 'RealDiv'),
    Tile: makeTile(blas, backendName, acc),
    [ACT_GRAD]: makeActivationGrad(blas, backendName, acc),
    [SGD_MOMENTUM]: makeSgdMomentum(blas, backendName, acc),
    [DENSE]: makeDense(blas, backendName, acc, DENSE),
    [MASKED_DENSE]: makeDense(blas, backendName, acc, MASKED_DENSE),
    [MASKED_MATMUL]: makeMaskedMatMul(blas, backendName, acc),
    [BN_TRAIN]: makeBatchNormTrain(blas, backendName, acc),
    [BN_GRAD]: makeBatchNormGrad(blas, backendName, acc),
    [BN_APPLY]: makeBatchNormApply(blas, backendName, acc),
  };
  const layer = { dense: k[MASKED_DENSE], actGrad: k[ACT_GRAD], maskedMatMul: k[MASKED_MATMUL], sum: k.Sum, sparse: backendName === 'wasm' ? makeSparseMlp(blas) : undefined };
  return {
    ...k, [MLP]: makeMlp(layer), [MLP_GRAD]: makeMlpGrad(layer),
    [SOFTMAX_CE]: makeSoftmaxCrossEntropy(backendName), [SOFTMAX_CE_GRAD]: makeSoftmaxCrossEntropyGrad(backendName),
  };
}

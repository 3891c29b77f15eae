/**
 * A masked dense layer, act(x @ (w ⊙ mask) + bias), as one op. With the native kernels it is one
 * kernel forward and at most four backward (activation gradient, dW, db, and dx only when x needs a
 * gradient), instead of ~10 TF.js kernels plus reshapes and clones per layer: per-kernel overhead,
 * not arithmetic, dominated MLP training steps (1,500 kernels per step for the 50-layer FFNN). It
 * also skips the first layer's input gradient, which tf.fused.matMul's customGrad always computed
 * (a third of LeNet-300-100's backward FLOPs).
 *
 * Without the native kernels (or for activations they lack, or when a second-order gradient is
 * needed: the fused gradients are first-order only) the same function composes TF.js ops.
 */
import * as tf from '@tensorflow/tfjs';
import { ACT_GRAD, DENSE, DENSE_ACTIVATIONS, MASKED_DENSE, MASKED_MATMUL } from './native_kernels';

export type DenseActivation = 'linear' | 'relu' | 'tanh' | 'elu';

export interface DenseInputs {
  x: tf.Tensor2D;
  w: tf.Tensor2D;
  /** 0/1 mask of w's shape; absent = dense. */
  mask?: tf.Tensor;
  bias?: tf.Tensor;
  activation?: DenseActivation;
  /** Allow the fused kernels (default true); false composes TF.js ops, which nested tf.grads can differentiate. */
  fused?: boolean;
}

/** Does the current backend run the fused dense kernels for these inputs? */
function fusable(inp: DenseInputs, act: DenseActivation): boolean {
  if (inp.fused === false || !(act in DENSE_ACTIVATIONS)) return false;
  if (!tf.getKernel(inp.mask ? MASKED_DENSE : DENSE, tf.getBackend())) return false;
  return [inp.x, inp.w, inp.mask, inp.bias].every((t) => !t || t.dtype === 'float32');
}

export function maskedDense(inp: DenseInputs): tf.Tensor2D {
  const act = inp.activation ?? 'linear';
  const { x, w, mask, bias } = inp;
  if (x.rank !== 2 || w.rank !== 2 || x.shape[1] !== w.shape[0]) {
    throw new Error(`maskedDense: x [${x.shape}] and w [${w.shape}] do not multiply (need [N, K] and [K, M]).`);
  }
  if (mask && !tf.util.arraysEqual(mask.shape, w.shape)) throw new Error(`maskedDense: mask [${mask.shape}] must have w's shape [${w.shape}].`);
  if (bias && !(bias.rank === 1 && bias.shape[0] === w.shape[1])) throw new Error(`maskedDense: bias [${bias.shape}] must have shape [${w.shape[1]}].`);
  if (fusable(inp, act)) {
    const inputs: tf.NamedTensorMap = mask ? { x, w, mask } : { x, w };
    if (bias) inputs.bias = bias;
    return tf.engine().runKernel(mask ? MASKED_DENSE : DENSE, inputs, { activation: act }) as tf.Tensor2D;
  }
  return tf.tidy(() => {
    const wm = mask ? tf.mul(w, mask) as tf.Tensor2D : w;
    // tf.fused.matMul fuses bias and relu; tanh and elu are applied after
    const fusedAct = act === 'relu' ? 'relu' : 'linear';
    const z = bias ? tf.fused.matMul({ a: x, b: wm, bias, activation: fusedAct }) : fusedAct === 'relu' ? tf.relu(tf.matMul(x, wm)) : tf.matMul(x, wm);
    return (act === 'tanh' ? tf.tanh(z) : act === 'elu' ? tf.elu(z) : z) as tf.Tensor2D;
  });
}

/** op(a) @ op(b ⊙ bMask) ⊙ cMult in one native kernel (the dense layers' gradients). */
export function maskedMatMul(a: tf.Tensor, b: tf.Tensor, opts: { bMask?: tf.Tensor; cMult?: tf.Tensor; transposeA?: boolean; transposeB?: boolean }): tf.Tensor {
  const inputs: tf.NamedTensorMap = { a, b };
  if (opts.bMask) inputs.bMask = opts.bMask;
  if (opts.cMult) inputs.cMult = opts.cMult;
  return tf.engine().runKernel(MASKED_MATMUL, inputs, { transposeA: !!opts.transposeA, transposeB: !!opts.transposeB }) as tf.Tensor;
}

let registered = false;

/** Register the gradients of the fused dense kernels (once; they only run where the kernels did). */
export function registerDenseGradients(): void {
  if (registered) return;
  for (const kernelName of [DENSE, MASKED_DENSE]) {
    const masked = kernelName === MASKED_DENSE;
    tf.registerGradient({
      kernelName,
      inputsToSave: masked ? ['x', 'w', 'mask'] : ['x', 'w'],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const d = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor;
        const [x, w] = saved;
        const mask = masked ? saved[2] : undefined;
        const y = saved[saved.length - 1];
        const act = (attrs as { activation: string }).activation;
        // computed once here (inside the backward pass's tidy) and shared by the input gradients below
        const dz = act === 'linear' ? d : tf.engine().runKernel(ACT_GRAD, { y, dy: d }, { activation: act }) as tf.Tensor;
        // TF.js asks only for the inputs that need a gradient: the first layer's x never does
        const grads: Record<string, () => tf.Tensor> = {
          x: () => maskedMatMul(dz, w, { bMask: mask, transposeB: true }),
          w: () => maskedMatMul(x, dz, { cMult: mask, transposeA: true }),
          bias: () => tf.sum(dz, 0),
        };
        if (mask) grads.mask = () => maskedMatMul(x, dz, { cMult: w, transposeA: true });
        return grads;
      },
    });
  }
  registered = true;
}

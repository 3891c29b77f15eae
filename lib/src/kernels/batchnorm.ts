/**
 * Batch normalisation over the last axis (+ optional ReLU) as one op. In training mode with the
 * native kernels it is one kernel forward (batch moments, normalisation, affine, ReLU) and one
 * backward (dx, dgamma, dbeta in closed form), instead of ~12 TF.js kernels forward and ~25 backward
 * over the full activation tensor: BatchNorm's elementwise passes were ~20% of a WRN-16-2 step.
 *
 * Elsewhere (no native kernels, fused: false for nested tf.grads, or eval mode, which is just a
 * per-channel affine map) it composes TF.js ops. The batch mean and variance it returns are for the
 * running-statistics update: gradients do not flow back through them.
 */
import * as tf from '@tensorflow/tfjs';
import { BN_APPLY, BN_GRAD, BN_TRAIN } from './native_kernels';

export interface BatchNormInputs {
  /** Channels-last input [..., C]. */
  x: tf.Tensor;
  gamma: tf.Tensor;
  beta: tf.Tensor;
  /** Training mode normalises with the batch statistics (returned); eval mode with the running ones. */
  training: boolean;
  runningMean?: tf.Tensor;
  runningVar?: tf.Tensor;
  eps: number;
  activation?: 'linear' | 'relu';
  /** Allow the fused kernels (default true); false composes TF.js ops, which nested tf.grads can differentiate. */
  fused?: boolean;
}

export interface BatchNormResult {
  y: tf.Tensor;
  /** Training mode: the batch mean and biased batch variance per channel. */
  mean?: tf.Tensor;
  variance?: tf.Tensor;
}

export function batchNorm(inp: BatchNormInputs): BatchNormResult {
  const { x, gamma, beta, eps } = inp;
  const act = inp.activation ?? 'linear';
  if (act !== 'linear' && act !== 'relu') throw new Error(`batchNorm: activation must be 'linear' or 'relu', got '${act as string}'.`);
  const c = x.shape[x.rank - 1];
  for (const [what, t] of [['gamma', gamma], ['beta', beta], ['runningMean', inp.runningMean], ['runningVar', inp.runningVar]] as const) {
    if (t && t.size !== c) throw new Error(`batchNorm: ${what} has shape [${t.shape}], expected [${c}] (the channels of x [${x.shape}]).`);
  }
  const relu = (t: tf.Tensor) => (act === 'relu' ? tf.relu(t) : t);
  if (inp.training) {
    const fused = inp.fused !== false && x.rank >= 2 && [x, gamma, beta].every((t) => t.dtype === 'float32') &&
      !!tf.getKernel(BN_TRAIN, tf.getBackend());
    if (fused) {
      const [y, mean, variance] = tf.engine().runKernel(BN_TRAIN, { x, gamma, beta }, { eps, activation: act }) as tf.Tensor[];
      return { y, mean, variance };
    }
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const m = tf.moments(x, axes);
    const y = tf.tidy(() => relu(tf.add(tf.mul(tf.div(tf.sub(x, m.mean), tf.sqrt(tf.add(m.variance, eps))), gamma), beta)));
    return { y, mean: m.mean, variance: m.variance };
  }
  if (!inp.runningMean || !inp.runningVar) throw new Error('batchNorm: eval mode needs runningMean and runningVar.');
  const { runningMean, runningVar } = inp;
  // a per-channel affine map: one pass over x with the native kernel (the same bits as the Multiply and Add
  // it replaces), else two (plus the ReLU's) instead of four
  const fusedApply = inp.fused !== false && x.rank >= 2 && x.dtype === 'float32' && !!tf.getKernel(BN_APPLY, tf.getBackend());
  return {
    y: tf.tidy(() => {
      const scale = tf.div(gamma, tf.sqrt(tf.add(runningVar, eps)));
      const shift = tf.sub(beta, tf.mul(runningMean, scale));
      if (fusedApply) return tf.engine().runKernel(BN_APPLY, { x, scale, shift }, { activation: act }) as tf.Tensor;
      return relu(tf.add(tf.mul(x, scale), shift));
    }),
  };
}

let registered = false;

/** Gradient of the eval-mode kernel, composed from TF.js ops (eval-mode BatchNorm is rarely differentiated: saliency at init, tests). */
function registerBatchNormApplyGradient(): void {
  tf.registerGradient({
    kernelName: BN_APPLY,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [x, scale, y] = saved;
      const dz = (attrs as { activation: string }).activation === 'relu' ? tf.mul(dy, tf.step(y)) : dy;
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      return { x: () => tf.mul(dz, scale), scale: () => tf.sum(tf.mul(dz, x), axes), shift: () => tf.sum(dz, axes) };
    },
  });
}

/** Register the gradients of the fused training- and eval-mode kernels (once; they only run where the kernels did). */
export function registerBatchNormGradient(): void {
  if (registered) return;
  registerBatchNormApplyGradient();
  tf.registerGradient({
    kernelName: BN_TRAIN,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [true, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [x, gamma, y, mean, variance] = saved;
      const { eps, activation } = attrs as { eps: number; activation: string };
      const inputs: tf.NamedTensorMap = { x, dy, gamma, mean, variance };
      if (activation === 'relu') inputs.y = y;
      // one pass computes all three; TF.js then takes the ones it needs
      const [dx, dgamma, dbeta] = tf.engine().runKernel(BN_GRAD, inputs, { eps }) as tf.Tensor[];
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });
  registered = true;
}
